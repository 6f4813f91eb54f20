//! Shared reads: callers asking for the same read at the same time share
//! one computation, and none is given a result computed before it asked.
//!
//! A page that a hundred browsers (or a monitoring script) keep asking for
//! would otherwise run the same database queries a hundred times at once.
//! Here, while a read of a key runs, every newcomer waits for the *next*
//! read of that key, which starts as soon as the running one finishes and
//! is shared by all who arrived meanwhile. A caller therefore always sees
//! what was stored before it asked (nothing is cached between reads: no
//! staleness, no invalidation to forget, and it holds across several bi
//! servers sharing one database), and under load each key is read about
//! once per read's duration instead of once per request.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

use crate::error::{Error, Result};

type Value = Arc<dyn Any + Send + Sync>;
type Outcome = std::result::Result<Value, Arc<Error>>;
type Flight = Shared<BoxFuture<'static, Outcome>>;

/// Shared reads by key. Cheap to clone; clones share their reads.
#[derive(Clone, Default)]
pub struct Coalescer {
    keys: Arc<Mutex<HashMap<String, Flights>>>,
}

impl std::fmt::Debug for Coalescer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coalescer").finish_non_exhaustive()
    }
}

/// A key's read running now (started before anyone waiting for `next`
/// asked) and the one queued behind it.
#[derive(Default)]
struct Flights {
    ids: u64,
    running: Option<(u64, Flight)>,
    next: Option<(u64, Flight)>,
}

impl Coalescer {
    /// The value `read` computes for `key`, shared with every caller that
    /// asks for `key` while it waits. `read` runs only if this caller
    /// starts or queues a new read; the same key must always read the same
    /// type (a mismatch is a bug, answered as an internal error).
    pub async fn read<T, F, Fut>(&self, key: &str, read: F) -> Result<Arc<T>>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        let flight = self.join(key, read);
        match flight.await {
            Ok(value) => value
                .downcast::<T>()
                .map_err(|_| Error::Internal(format!("the shared read {key:?} changed its type"))),
            Err(err) => Err(again(&err)),
        }
    }

    /// The flight this caller waits for: the queued one, or a new one.
    fn join<T, F, Fut>(&self, key: &str, read: F) -> Flight
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        let mut keys = self.lock();
        let flights = keys.entry(key.to_owned()).or_default();
        if let Some((_, next)) = &flights.next {
            return next.clone();
        }
        flights.ids += 1;
        let id = flights.ids;
        let before = flights.running.as_ref().map(|(_, running)| running.clone());
        let (shared, key) = (self.clone(), key.to_owned());
        let flight = async move {
            if let Some(before) = before {
                // NB: its result was read before some of us asked.
                let _ = before.await;
                shared.started(&key, id);
            }
            let outcome = AssertUnwindSafe(read())
                .catch_unwind()
                .await
                .unwrap_or_else(|_| {
                    Err(Error::Internal(format!("the shared read {key:?} panicked")))
                })
                .map(|value| Arc::new(value) as Value)
                .map_err(Arc::new);
            shared.finished(&key, id);
            outcome
        }
        .boxed()
        .shared();
        if flights.running.is_none() {
            flights.running = Some((id, flight.clone()));
        } else {
            flights.next = Some((id, flight.clone()));
        }
        flight
    }

    /// The queued read `id` of `key` starts: newcomers queue behind it.
    fn started(&self, key: &str, id: u64) {
        let mut keys = self.lock();
        if let Some(flights) = keys.get_mut(key)
            && flights.next.as_ref().is_some_and(|(next, _)| *next == id)
        {
            flights.running = flights.next.take();
        }
    }

    /// Read `id` of `key` finished: the next caller starts afresh.
    fn finished(&self, key: &str, id: u64) {
        let mut keys = self.lock();
        if let Some(flights) = keys.get_mut(key)
            && flights
                .running
                .as_ref()
                .is_some_and(|(running, _)| *running == id)
        {
            flights.running = None;
            if flights.next.is_none() {
                keys.remove(key);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Flights>> {
        self.keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A shared read's error for one of its callers: what a client may be told
/// is kept (not found, unavailable…); anything else becomes an internal
/// error carrying the original's words for the log.
fn again(err: &Error) -> Error {
    match err {
        Error::NotFound(what) => Error::NotFound(what.clone()),
        Error::Unavailable(why) => Error::Unavailable(why.clone()),
        Error::Forbidden(why) => Error::Forbidden(why.clone()),
        Error::Conflict(why) => Error::Conflict(why.clone()),
        other => Error::Internal(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    /// A read that counts its runs, takes `pause`, and answers its run's number.
    fn counted(
        runs: &Arc<AtomicUsize>,
        pause: Duration,
    ) -> impl FnOnce() -> BoxFuture<'static, Result<usize>> + Send + 'static {
        let runs = Arc::clone(runs);
        move || {
            async move {
                let run = runs.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::time::sleep(pause).await;
                Ok(run)
            }
            .boxed()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn callers_at_the_same_time_share_one_read() {
        let coalescer = Coalescer::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let callers: Vec<_> = (0..50)
            .map(|_| {
                let (coalescer, read) =
                    (coalescer.clone(), counted(&runs, Duration::from_millis(10)));
                tokio::spawn(async move { *coalescer.read("k", read).await.unwrap() })
            })
            .collect();
        let mut seen = Vec::new();
        for caller in callers {
            seen.push(caller.await.unwrap());
        }
        // NB: the first caller's read runs; all who came while it ran share the next.
        assert!(
            runs.load(Ordering::SeqCst) <= 2,
            "{} reads",
            runs.load(Ordering::SeqCst)
        );
        assert!(seen.iter().all(|run| *run <= 2), "{seen:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn nobody_gets_a_read_that_started_before_they_asked() {
        let coalescer = Coalescer::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let first = {
            let (coalescer, read) = (
                coalescer.clone(),
                counted(&runs, Duration::from_millis(100)),
            );
            tokio::spawn(async move { *coalescer.read("k", read).await.unwrap() })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        // NB: asked while run 1 runs: must get run 2, which starts after it.
        let second = *coalescer
            .read("k", counted(&runs, Duration::from_millis(100)))
            .await
            .unwrap();
        assert_eq!(first.await.unwrap(), 1);
        assert_eq!(second, 2);
        // NB: nothing runs now: a new caller starts run 3 at once.
        let third = *coalescer
            .read("k", counted(&runs, Duration::from_millis(1)))
            .await
            .unwrap();
        assert_eq!(third, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn keys_are_read_apart_and_errors_reach_every_caller() {
        let coalescer = Coalescer::default();
        let a = coalescer.read("a", || async { Ok(1_u8) });
        let b = coalescer.read("b", || async { Ok("two") });
        let (a, b) = tokio::join!(a, b);
        assert_eq!((*a.unwrap(), *b.unwrap()), (1, "two"));
        let failed: Result<Arc<u8>> = coalescer
            .read("c", || async {
                Err(Error::NotFound("no such thing".into()))
            })
            .await;
        assert!(matches!(failed, Err(Error::NotFound(what)) if what == "no such thing"));
        let panicked: Result<Arc<u8>> = coalescer.read("d", || async { panic!("boom") }).await;
        assert!(matches!(panicked, Err(Error::Internal(_))));
        // NB: a read that failed or panicked does not stay: the next one runs.
        assert_eq!(
            *coalescer.read("d", || async { Ok(4_u8) }).await.unwrap(),
            4
        );
        assert!(coalescer.lock().is_empty(), "finished keys are dropped");
    }

    #[tokio::test(start_paused = true)]
    async fn a_caller_that_gives_up_does_not_stall_the_others() {
        let coalescer = Coalescer::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let gone = {
            let (coalescer, read) = (
                coalescer.clone(),
                counted(&runs, Duration::from_millis(100)),
            );
            tokio::spawn(async move { coalescer.read("k", read).await.map(|v| *v) })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        gone.abort();
        let after = coalescer
            .read("k", counted(&runs, Duration::from_millis(10)))
            .await
            .unwrap();
        assert_eq!(*after, 2, "waits for the abandoned read, then reads afresh");
    }
}
