//! The event bus: the engine publishes what it does, browsers and the CLI
//! follow it live.
//!
//! Publishing never waits: events go to a bounded broadcast channel (a
//! subscriber that falls too far behind is told it lagged and catches up from
//! the history instead) and into a replay buffer of recent events, so that a
//! subscriber that connects mid-snapshot, or reconnects after a dropped
//! connection, first gets what it missed and then the live stream, with no
//! gap and no duplicate: both happen under one lock. The replay buffer is
//! bounded in events (30,000) and in bytes (16 MiB of JSON), whichever
//! comes first.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use bi_model::events::{Event, EventEnvelope};
use chrono::Utc;
use tokio::sync::broadcast;

/// Events kept for replay: the whole of a ~10,000-object snapshot.
const REPLAY_CAPACITY: usize = 30_000;
/// Bytes of JSON kept for replay, whatever the count: what a reconnecting
/// client may be sent, and what the buffer holds in memory at most.
const REPLAY_BYTES: usize = 16 << 20;
/// Events a subscriber may fall behind before it is told it lagged.
const CHANNEL_CAPACITY: usize = 4_096;

/// The in-process event bus. Cheap to clone; clones share one stream.
#[derive(Debug, Clone)]
pub struct EventBus {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    sender: broadcast::Sender<Arc<EventEnvelope>>,
    replay: Mutex<Replay>,
}

#[derive(Debug)]
struct Replay {
    next_seq: u64,
    recent: VecDeque<Arc<EventEnvelope>>,
    /// The JSON size of each of `recent`, and their sum.
    sizes: VecDeque<usize>,
    bytes: usize,
}

/// Where a new subscriber starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// With the latest snapshot: from its queued or started event on (the
    /// live viewer's starting point); nothing when no snapshot ran yet.
    LatestSnapshot,
    /// After the event numbered `seq` (a reconnecting client's last).
    Seq(u64),
    /// Only what is published from now on.
    Now,
}

/// A subscription: what was missed, then the live stream.
#[derive(Debug)]
pub struct Subscription {
    /// Events published before subscribing, oldest first.
    pub missed: Vec<Arc<EventEnvelope>>,
    /// True when events after `Since::Seq` were already dropped from the
    /// replay buffer: the client must reload the state it shows.
    pub gap: bool,
    /// Everything published from now on.
    pub live: broadcast::Receiver<Arc<EventEnvelope>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    /// An empty bus.
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(CHANNEL_CAPACITY);
        Self {
            inner: Arc::new(Inner {
                sender,
                replay: Mutex::new(Replay {
                    next_seq: 1,
                    recent: VecDeque::new(),
                    sizes: VecDeque::new(),
                    bytes: 0,
                }),
            }),
        }
    }

    /// Publishes `event`; returns its envelope.
    pub fn publish(&self, event: Event) -> Arc<EventEnvelope> {
        let mut replay = self.replay();
        let envelope = Arc::new(EventEnvelope {
            seq: replay.next_seq,
            at_ms: Utc::now().timestamp_millis(),
            event,
        });
        replay.next_seq += 1;
        // NB: what a client is sent: the size it takes on the wire.
        let size = serde_json::to_vec(envelope.as_ref()).map_or(0, |json| json.len());
        replay.recent.push_back(Arc::clone(&envelope));
        replay.sizes.push_back(size);
        replay.bytes += size;
        while replay.recent.len() > REPLAY_CAPACITY
            || (replay.bytes > REPLAY_BYTES && replay.recent.len() > 1)
        {
            replay.recent.pop_front();
            let dropped = replay.sizes.pop_front().unwrap_or_default();
            replay.bytes -= dropped;
        }
        // NB: an error only means nobody listens right now.
        let _ = self.inner.sender.send(Arc::clone(&envelope));
        envelope
    }

    /// Subscribes from `since`.
    pub fn subscribe(&self, since: Since) -> Subscription {
        let replay = self.replay();
        let live = self.inner.sender.subscribe();
        let (missed, gap) = match since {
            Since::Now => (Vec::new(), false),
            Since::Seq(seq) => {
                let oldest = replay.recent.front().map_or(replay.next_seq, |e| e.seq);
                let gap = seq.saturating_add(1) < oldest;
                let missed = replay
                    .recent
                    .iter()
                    .filter(|envelope| envelope.seq > seq)
                    .cloned()
                    .collect();
                (missed, gap)
            }
            Since::LatestSnapshot => {
                let start = latest_snapshot_start(&replay.recent);
                (replay.recent.iter().skip(start).cloned().collect(), false)
            }
        };
        Subscription { missed, gap, live }
    }

    /// A `resync` message for one subscriber, stamped like a published
    /// event but never published: it carries the number of the newest
    /// event, so the client reconnects after it.
    pub fn resync(&self, reason: &str) -> EventEnvelope {
        EventEnvelope {
            seq: self.replay().next_seq.saturating_sub(1),
            at_ms: Utc::now().timestamp_millis(),
            event: Event::Resync {
                reason: reason.to_owned(),
            },
        }
    }

    fn replay(&self) -> MutexGuard<'_, Replay> {
        // NB: the lock guards plain data that is consistent after every
        // statement, so a panic elsewhere cannot leave it half-updated.
        self.inner
            .replay
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Index of the first event of the latest snapshot: its `SnapshotStarted`,
/// preceded by the `SnapshotQueued` events of the requests it serves.
fn latest_snapshot_start(recent: &VecDeque<Arc<EventEnvelope>>) -> usize {
    let Some(started) = recent
        .iter()
        .rposition(|e| matches!(e.event, Event::SnapshotStarted { .. }))
    else {
        // NB: nothing started yet: requests still queued are the whole story.
        return recent
            .iter()
            .position(|e| matches!(e.event, Event::SnapshotQueued { .. }))
            .unwrap_or(recent.len());
    };
    let Event::SnapshotStarted { requests, .. } = &recent[started].event else {
        return started;
    };
    recent
        .iter()
        .take(started)
        .position(|e| matches!(&e.event, Event::SnapshotQueued { request, .. } if requests.contains(request)))
        .unwrap_or(started)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued(request: u64) -> Event {
        Event::SnapshotQueued {
            request,
            trigger: "manual".to_owned(),
        }
    }

    fn started(snapshot: i64, requests: Vec<u64>) -> Event {
        Event::SnapshotStarted {
            snapshot,
            desired_version: 1,
            trigger: "manual".to_owned(),
            requests,
        }
    }

    fn seqs(events: &[Arc<EventEnvelope>]) -> Vec<u64> {
        events.iter().map(|e| e.seq).collect()
    }

    #[tokio::test]
    async fn a_subscriber_gets_what_it_missed_then_the_live_stream_without_gaps() {
        let bus = EventBus::new();
        bus.publish(queued(1));
        bus.publish(started(10, vec![1]));
        let mut subscription = bus.subscribe(Since::Seq(1));
        assert_eq!(seqs(&subscription.missed), vec![2]);
        assert!(!subscription.gap);
        bus.publish(Event::DesiredStateChanged { version: 4 });
        let live = subscription.live.recv().await.map(|e| e.seq).ok();
        assert_eq!(live, Some(3));
    }

    #[test]
    fn the_latest_snapshot_starts_at_the_requests_it_serves() {
        let bus = EventBus::new();
        bus.publish(queued(1));
        bus.publish(started(10, vec![1]));
        bus.publish(queued(2)); // seq 3
        bus.publish(queued(3)); // seq 4
        bus.publish(started(11, vec![2, 3])); // seq 5
        bus.publish(Event::DesiredStateChanged { version: 2 }); // seq 6
        let subscription = bus.subscribe(Since::LatestSnapshot);
        assert_eq!(seqs(&subscription.missed), vec![3, 4, 5, 6]);
        assert!(bus.subscribe(Since::Now).missed.is_empty());
    }

    #[test]
    fn a_resync_names_the_newest_event_and_is_not_published() {
        let bus = EventBus::new();
        bus.publish(queued(1));
        bus.publish(started(10, vec![1]));
        let resync = bus.resync("fell behind");
        assert_eq!(resync.seq, 2);
        assert!(matches!(resync.event, Event::Resync { ref reason } if reason == "fell behind"));
        assert_eq!(bus.subscribe(Since::Seq(0)).missed.len(), 2);
    }

    #[test]
    fn the_replay_buffer_is_bounded_in_bytes_too() {
        let bus = EventBus::new();
        let big = "x".repeat(1 << 20);
        for _ in 0..40 {
            bus.publish(Event::SnapshotError {
                requests: Vec::new(),
                message: big.clone(),
            });
        }
        let replay = bus.replay();
        assert!(replay.bytes <= REPLAY_BYTES, "{}", replay.bytes);
        assert!(
            replay.recent.len() < 40 && replay.recent.len() >= 15,
            "{}",
            replay.recent.len()
        );
        assert_eq!(replay.sizes.iter().sum::<usize>(), replay.bytes);
        drop(replay);
        assert!(bus.subscribe(Since::Seq(1)).gap);
    }

    #[test]
    fn asking_for_events_already_dropped_reports_a_gap() {
        let bus = EventBus::new();
        for n in 0..(REPLAY_CAPACITY as u64 + 5) {
            bus.publish(Event::DesiredStateChanged {
                version: i32::try_from(n % 1000).unwrap_or_default(),
            });
        }
        let subscription = bus.subscribe(Since::Seq(2));
        assert!(subscription.gap);
        assert_eq!(subscription.missed.len(), REPLAY_CAPACITY);
        assert!(!bus.subscribe(Since::Seq(10)).gap);
    }
}
