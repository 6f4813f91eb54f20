//! Throttle: how hard a snapshot may push the API server.
//!
//! A snapshot's writes share one adaptive concurrency limit ([`Limiter`]),
//! as TCP shares a link: it starts at `initial_in_flight`, grows by one per
//! write that comes back fine until the first sign of trouble (slow start),
//! then by one per round; a write the server may accept later (429, 5xx, a
//! transport error, a timeout) or a write slower than `slow_write` halves it
//! (once per round: writes already in flight when it shrank do not shrink it
//! again). A `Retry-After` the API server sends (API Priority and Fairness
//! rejects with 429 and one; so does a server shedding load with 503) holds
//! every new request of the engine until then, whichever request got it.
//! An optional token bucket caps the sustained rate for clusters shared with
//! others. Refused-for-now writes are retried with exponential backoff and
//! full jitter.

use crate::keycloak::KeycloakAccess;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::{Mutex, Notify};
use tokio::time::Instant;

use super::retention::Retention;

/// How a snapshot paces its writes to the cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineSettings {
    /// Writes in flight at once when a snapshot starts.
    pub initial_in_flight: usize,
    /// The most writes in flight at once, however well the server keeps up.
    pub max_in_flight: usize,
    /// A ceiling on sustained writes per second, for a cluster shared with
    /// others; None: only the adaptive concurrency limits them.
    pub writes_per_second: Option<f64>,
    /// Requests that may go at once after a quiet spell, under a ceiling.
    pub burst: u32,
    /// A write slower than this counts as the API server falling behind.
    pub slow_write: Duration,
    /// Attempts per object, the first included.
    pub max_attempts: u32,
    /// The backoff ceiling before the first retry; it doubles per retry.
    pub base_backoff: Duration,
    /// The highest backoff ceiling.
    pub max_backoff: Duration,
    /// Objects the drift sweep checks per second (each costs one dry run).
    pub drift_checks_per_second: f64,
    /// How long a snapshot waits for an admission webhook's Service to have
    /// a ready endpoint before the writes it intercepts are left waiting.
    pub webhook_wait: Duration,
    /// How soon the reconciler retries a snapshot that left objects
    /// waiting for a webhook.
    pub webhook_retry: Duration,
    /// How much history is kept.
    pub retention: Retention,
    /// How often, at most, the engine prunes its history after a snapshot.
    pub prune_every: Duration,
    /// Where Keycloak is reached from.
    pub keycloak: KeycloakAccess,
    /// How long a snapshot waits for Keycloak to answer (it starts well
    /// after its Deployment is applied) before leaving its items waiting.
    pub keycloak_wait: Duration,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            initial_in_flight: 8,
            max_in_flight: 64,
            writes_per_second: None,
            burst: 20,
            slow_write: Duration::from_secs(2),
            max_attempts: 5,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            drift_checks_per_second: 10.0,
            webhook_wait: Duration::from_secs(30),
            webhook_retry: Duration::from_secs(20),
            retention: Retention::default(),
            prune_every: Duration::from_secs(3600),
            keycloak: KeycloakAccess::default(),
            keycloak_wait: Duration::from_secs(30),
        }
    }
}

/// The longest `Retry-After` honoured: a longer one is taken as this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// When the API server last asked the engine to hold its requests
/// (`Retry-After`); shared by every request of one engine.
#[derive(Debug, Default)]
pub(crate) struct Pause {
    until: std::sync::Mutex<Option<Instant>>,
}

impl Pause {
    /// Holds new requests until `delay` from now (a later hold stands).
    pub(crate) fn hold_for(&self, delay: Duration) {
        let until = Instant::now() + delay.min(MAX_RETRY_AFTER);
        let mut held = self.lock();
        if held.is_none_or(|current| current < until) {
            *held = Some(until);
        }
    }

    /// Until when requests are held, when that is still ahead.
    pub(crate) fn until(&self) -> Option<Instant> {
        let held = *self.lock();
        held.filter(|until| *until > Instant::now())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        // NB: an Option<Instant> is consistent after every statement.
        self.until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `client`, seen through: a 429 or 503 answer's `Retry-After` (seconds)
/// holds every later request paced by `pause`.
// NB: kube's errors keep the status but drop the headers, and API Priority
// and Fairness answers 429 in plain text: the header is only seen here.
pub(crate) fn observing(client: kube::Client, pause: Arc<Pause>) -> kube::Client {
    let namespace = client.default_namespace().to_owned();
    let service = tower::service_fn(move |request: http::Request<kube::client::Body>| {
        let (client, pause) = (client.clone(), Arc::clone(&pause));
        async move {
            let response = client.send(request).await?;
            if matches!(response.status().as_u16(), 429 | 503)
                && let Some(delay) = retry_after(response.headers())
            {
                tracing::info!(?delay, status = %response.status(), "the API server asks to retry after");
                pause.hold_for(delay);
            }
            Ok::<_, kube::Error>(response)
        }
    });
    kube::Client::new(service, namespace)
}

/// A `Retry-After: <seconds>` header's delay.
fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

/// What one write told about the API server's load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// It answered in good time.
    Fine,
    /// It was slow, throttled or unavailable.
    Congested,
    /// Nothing about load (a refusal on the object's merits).
    Neutral,
}

/// How a snapshot's write concurrency went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Concurrency {
    /// The most writes in flight at once.
    pub peak_in_flight: usize,
    /// How often the limit was halved.
    pub slowdowns: u32,
}

/// The adaptive concurrency limit of one snapshot's writes.
#[derive(Debug)]
pub(crate) struct Limiter {
    max: f64,
    slow: Duration,
    state: std::sync::Mutex<Limit>,
    freed: Notify,
    pause: Arc<Pause>,
}

/// The limit's state at one instant.
#[derive(Debug)]
struct Limit {
    /// Writes allowed in flight (fractional while it grows by 1/limit).
    limit: f64,
    /// Below it the limit grows by one per fine write; above, per round.
    threshold: f64,
    in_flight: usize,
    /// Halvings so far: a permit taken before the last one cannot halve again.
    round: u32,
    peak: usize,
}

/// One write's place in flight; give it back with [`Permit::done`].
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    limiter: &'a Limiter,
    round: u32,
    started: Instant,
    done: bool,
}

impl Limiter {
    /// A limiter for `settings`, held by `pause`.
    pub(crate) fn new(settings: &EngineSettings, pause: Arc<Pause>) -> Self {
        let max = settings.max_in_flight.max(1) as f64;
        let initial = (settings.initial_in_flight.max(1) as f64).min(max);
        Self {
            max,
            slow: settings.slow_write,
            state: std::sync::Mutex::new(Limit {
                limit: initial,
                threshold: max,
                in_flight: 0,
                round: 0,
                peak: 0,
            }),
            freed: Notify::new(),
            pause,
        }
    }

    /// Waits for a place in flight (and for any `Retry-After` hold).
    pub(crate) async fn acquire(&self) -> Permit<'_> {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if let Some(until) = self.pause.until() {
                tokio::time::sleep_until(until).await;
                continue;
            }
            {
                let mut state = self.lock();
                // NB: the limit is never below one, so a write always goes
                // once the others are done.
                if (state.in_flight as f64) < state.limit.floor().max(1.0) {
                    state.in_flight += 1;
                    state.peak = state.peak.max(state.in_flight);
                    return Permit {
                        limiter: self,
                        round: state.round,
                        started: Instant::now(),
                        done: false,
                    };
                }
            }
            freed.await;
        }
    }

    /// How the snapshot's concurrency went so far.
    pub(crate) fn report(&self) -> Concurrency {
        let state = self.lock();
        Concurrency {
            peak_in_flight: state.peak,
            slowdowns: state.round,
        }
    }

    /// The current limit (whole writes).
    #[cfg(test)]
    fn limit(&self) -> usize {
        self.lock().limit.floor() as usize
    }

    fn release(&self, round: u32, signal: Signal) {
        {
            let mut state = self.lock();
            state.in_flight = state.in_flight.saturating_sub(1);
            match signal {
                Signal::Fine => {
                    let step = if state.limit < state.threshold {
                        1.0
                    } else {
                        1.0 / state.limit
                    };
                    state.limit = (state.limit + step).min(self.max);
                }
                Signal::Congested if round == state.round => {
                    state.limit = (state.limit / 2.0).max(1.0);
                    state.threshold = state.limit;
                    state.round += 1;
                }
                Signal::Congested | Signal::Neutral => {}
            }
        }
        self.freed.notify_waiters();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Limit> {
        // NB: every field is consistent after every statement.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Permit<'_> {
    /// Gives the place back, saying what the write told about the server;
    /// a fine answer slower than `slow_write` counts as congestion.
    pub(crate) fn done(mut self, signal: Signal) {
        self.done = true;
        let signal = if signal == Signal::Fine && self.started.elapsed() > self.limiter.slow {
            Signal::Congested
        } else {
            signal
        };
        self.limiter.release(self.round, signal);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.limiter.release(self.round, Signal::Neutral);
        }
    }
}

/// How every write of one snapshot is paced: the adaptive limit and, when
/// set, the rate ceiling.
#[derive(Debug)]
pub(crate) struct Pacer {
    pub(crate) limiter: Limiter,
    bucket: Option<TokenBucket>,
}

impl Pacer {
    /// The pacer of `settings`, held by `pause`.
    pub(crate) fn new(settings: &EngineSettings, pause: Arc<Pause>) -> Self {
        Self {
            limiter: Limiter::new(settings, pause),
            bucket: settings
                .writes_per_second
                .map(|rate| TokenBucket::new(rate, settings.burst)),
        }
    }

    /// One request at a time at most `per_second`, held by `pause`: the
    /// drift sweep's pace.
    pub(crate) fn one_at_a_time(per_second: f64, pause: Arc<Pause>) -> Self {
        let settings = EngineSettings {
            initial_in_flight: 1,
            max_in_flight: 1,
            ..EngineSettings::default()
        };
        Self {
            limiter: Limiter::new(&settings, pause),
            bucket: Some(TokenBucket::new(per_second, 1)),
        }
    }
}

/// The slowest rate a bucket runs at: one request every 1000 s.
const MIN_RATE: f64 = 0.001;

/// A token bucket shared by every write of a snapshot.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    per_second: f64,
    capacity: f64,
    state: Mutex<Tokens>,
}

/// The bucket's level at one instant.
#[derive(Debug)]
struct Tokens {
    available: f64,
    at: Instant,
}

impl TokenBucket {
    /// A full bucket of `burst` tokens refilled at `per_second`.
    pub(crate) fn new(per_second: f64, burst: u32) -> Self {
        // NB: a rate of zero (or NaN) would never refill and an infinite one
        // makes the arithmetic NaN; both are clamped to finite rates.
        let per_second = if per_second.is_nan() {
            MIN_RATE
        } else {
            per_second.clamp(MIN_RATE, f64::MAX)
        };
        let capacity = f64::from(burst.max(1));
        Self {
            per_second,
            capacity,
            state: Mutex::new(Tokens {
                available: capacity,
                at: Instant::now(),
            }),
        }
    }

    /// Waits until a token is available and takes it.
    pub(crate) async fn acquire(&self) {
        let wait = self.reserve(Instant::now()).await;
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Takes a token at `now`, possibly going into debt, and says how long
    /// the caller must wait before its token is really there.
    // NB: reserving (rather than looping on "is a token there?") keeps
    // waiters in order and never holds the lock across a sleep.
    async fn reserve(&self, now: Instant) -> Duration {
        let mut tokens = self.state.lock().await;
        let elapsed = now.saturating_duration_since(tokens.at).as_secs_f64();
        tokens.available = (tokens.available + elapsed * self.per_second).min(self.capacity);
        tokens.at = now.max(tokens.at);
        tokens.available -= 1.0;
        if tokens.available >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-tokens.available / self.per_second)
        }
    }
}

/// The ceiling of the backoff before retry number `retry` (1 is the first
/// retry): `base · 2^(retry-1)`, at most `max_backoff`.
pub(crate) fn backoff_ceiling(settings: &EngineSettings, retry: u32) -> Duration {
    let doublings = retry.saturating_sub(1).min(31);
    settings
        .base_backoff
        .saturating_mul(1 << doublings)
        .min(settings.max_backoff)
}

/// The backoff before retry number `retry`: uniform in `[0, ceiling]`
/// ("full jitter", so retries of many objects do not arrive in lockstep).
pub(crate) fn backoff(settings: &EngineSettings, retry: u32, rng: &mut impl Rng) -> Duration {
    let ceiling = backoff_ceiling(settings, retry);
    ceiling.mul_f64(rng.random_range(0.0..=1.0))
}

/// Whether the server may accept the same request later: 429, a 5xx, a
/// transport error or a timeout.
pub(crate) fn is_transient(err: &kube::Error) -> bool {
    match err {
        kube::Error::Api(status) => status.code == 429 || (500..=599).contains(&status.code),
        // NB: the client's timeouts and connection failures surface as
        // service or hyper errors.
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// The delay a refusal asks for itself (`details.retryAfterSeconds`).
fn asked_delay(err: &kube::Error) -> Option<Duration> {
    match err {
        kube::Error::Api(status) => status
            .details
            .as_ref()
            .map(|details| details.retry_after_seconds)
            .filter(|seconds| *seconds > 0)
            .map(|seconds| Duration::from_secs(u64::from(seconds))),
        _ => None,
    }
}

/// Runs `operation` (each attempt in flight under `pacer`) until it
/// succeeds, fails for good, or `settings.max_attempts` are spent; returns
/// the last result and how many attempts were made.
pub(crate) async fn with_retries<T, F, Fut>(
    settings: &EngineSettings,
    pacer: &Pacer,
    mut operation: F,
) -> (Result<T, kube::Error>, u32)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut attempt = 1;
    loop {
        // NB: the token first: a write waiting for the rate ceiling must not
        // look slow to the limiter.
        if let Some(bucket) = &pacer.bucket {
            bucket.acquire().await;
        }
        let permit = pacer.limiter.acquire().await;
        let result = operation().await;
        let signal = match &result {
            Ok(_) => Signal::Fine,
            Err(err) if is_transient(err) => {
                if let Some(delay) = asked_delay(err) {
                    pacer.limiter.pause.hold_for(delay);
                }
                Signal::Congested
            }
            Err(_) => Signal::Neutral,
        };
        permit.done(signal);
        match result {
            Err(err) if attempt < settings.max_attempts && is_transient(&err) => {
                let delay = backoff(settings, attempt, &mut rand::rng());
                tracing::debug!(attempt, ?delay, %err, "retrying a transient failure");
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            result => return (result, attempt),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(
            kube::core::Status::failure("nope", "Test").with_code(code),
        ))
    }

    #[tokio::test]
    async fn bucket_lets_a_burst_through_then_paces_to_the_rate() {
        // NB: tokio's `test-util` (paused time) is not enabled for this
        // crate, so the bucket is driven with explicit instants.
        let bucket = TokenBucket::new(10.0, 5);
        let start = Instant::now();
        let mut last = Duration::ZERO;
        for n in 0..20 {
            let wait = bucket.reserve(start).await;
            if n < 5 {
                assert_eq!(wait, Duration::ZERO, "token {n} is in the burst");
            }
            last = wait;
        }
        // 15 tokens beyond the burst at 10/s: the last one is due after 1.5 s.
        assert!(
            (last.as_secs_f64() - 1.5).abs() < 1e-6,
            "last token due after {last:?}"
        );
    }

    #[tokio::test]
    async fn bucket_refills_while_idle_but_not_beyond_its_burst() {
        let bucket = TokenBucket::new(10.0, 2);
        let start = Instant::now();
        assert_eq!(bucket.reserve(start).await, Duration::ZERO);
        assert_eq!(bucket.reserve(start).await, Duration::ZERO);
        let later = start + Duration::from_secs(60);
        assert_eq!(bucket.reserve(later).await, Duration::ZERO);
        assert_eq!(bucket.reserve(later).await, Duration::ZERO);
        let third = bucket.reserve(later).await;
        assert!((third.as_secs_f64() - 0.1).abs() < 1e-6, "{third:?}");
    }

    #[tokio::test]
    async fn acquire_really_waits_for_the_rate() {
        let bucket = TokenBucket::new(50.0, 2);
        let started = std::time::Instant::now();
        for _ in 0..7 {
            bucket.acquire().await;
        }
        // 5 tokens beyond the burst at 50/s: at least 100 ms.
        assert!(
            started.elapsed() >= Duration::from_millis(95),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn backoff_ceilings_double_and_are_capped() {
        let settings = EngineSettings::default();
        let ceilings: Vec<u64> = (1..=9)
            .map(|retry| backoff_ceiling(&settings, retry).as_millis() as u64)
            .collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
        assert_eq!(backoff_ceiling(&settings, u32::MAX), settings.max_backoff);
    }

    #[test]
    fn jittered_backoff_stays_within_its_ceiling() {
        let settings = EngineSettings::default();
        let mut rng = rand::rng();
        for retry in 1..=10 {
            let ceiling = backoff_ceiling(&settings, retry);
            for _ in 0..100 {
                let delay = backoff(&settings, retry, &mut rng);
                assert!(delay <= ceiling, "retry {retry}: {delay:?} > {ceiling:?}");
            }
        }
    }

    #[test]
    fn only_429_5xx_and_transport_errors_are_transient() {
        for code in [429, 500, 502, 503, 504, 599] {
            assert!(is_transient(&api_error(code)), "{code}");
        }
        for code in [400, 403, 404, 409, 422] {
            assert!(!is_transient(&api_error(code)), "{code}");
        }
        assert!(is_transient(&kube::Error::Service("timed out".into())));
        if let Err(err) = serde_json::from_str::<u8>("not json") {
            assert!(!is_transient(&kube::Error::SerdeError(err)));
        }
    }

    #[tokio::test]
    async fn retries_stop_after_max_attempts() {
        let settings = EngineSettings {
            base_backoff: Duration::from_millis(1),
            max_attempts: 3,
            ..EngineSettings::default()
        };
        let pacer = Pacer::new(&settings, Arc::default());
        let mut calls = 0;
        let (result, attempts) = with_retries(&settings, &pacer, || {
            calls += 1;
            async { Err::<(), _>(api_error(503)) }
        })
        .await;
        assert!(result.is_err());
        assert_eq!((attempts, calls), (3, 3));
    }

    fn limiter(initial: usize, max: usize) -> Limiter {
        let settings = EngineSettings {
            initial_in_flight: initial,
            max_in_flight: max,
            ..EngineSettings::default()
        };
        Limiter::new(&settings, Arc::default())
    }

    #[tokio::test]
    async fn the_limit_grows_by_one_per_fine_write_until_its_maximum() {
        let limiter = limiter(2, 6);
        assert_eq!(limiter.limit(), 2);
        for expected in [3, 4, 5, 6, 6] {
            limiter.acquire().await.done(Signal::Fine);
            assert_eq!(limiter.limit(), expected);
        }
    }

    #[tokio::test]
    async fn no_more_writes_are_in_flight_than_the_limit() {
        let limiter = limiter(3, 3);
        let held: Vec<Permit<'_>> = vec![
            limiter.acquire().await,
            limiter.acquire().await,
            limiter.acquire().await,
        ];
        let fourth = tokio::time::timeout(Duration::from_millis(50), limiter.acquire()).await;
        assert!(fourth.is_err(), "a fourth write went beyond a limit of 3");
        drop(held);
        let fourth = tokio::time::timeout(Duration::from_millis(50), limiter.acquire()).await;
        assert!(fourth.is_ok(), "a freed place is taken");
        assert_eq!(limiter.report().peak_in_flight, 3);
    }

    #[tokio::test]
    async fn congestion_halves_the_limit_once_per_round_then_it_grows_by_rounds() {
        let limiter = limiter(16, 64);
        let mut permits = Vec::new();
        for _ in 0..16 {
            permits.push(limiter.acquire().await);
        }
        // Every write in flight comes back throttled: one halving, not 16.
        for permit in permits {
            permit.done(Signal::Congested);
        }
        assert_eq!(limiter.limit(), 8);
        assert_eq!(limiter.report().slowdowns, 1);
        // Past the threshold it grows by one per round of 8 fine writes.
        for _ in 0..8 {
            limiter.acquire().await.done(Signal::Fine);
        }
        assert_eq!(limiter.limit(), 8, "8.97: not yet 9");
        limiter.acquire().await.done(Signal::Fine);
        assert_eq!(limiter.limit(), 9);
        // A later congestion halves again, never below one.
        for _ in 0..10 {
            limiter.acquire().await.done(Signal::Congested);
        }
        assert_eq!(limiter.limit(), 1);
    }

    #[tokio::test]
    async fn refusals_on_the_merits_leave_the_limit_alone() {
        let limiter = limiter(4, 64);
        limiter.acquire().await.done(Signal::Neutral);
        drop(limiter.acquire().await);
        assert_eq!(limiter.limit(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_slower_than_slow_write_counts_as_congestion() {
        let limiter = limiter(8, 64);
        let permit = limiter.acquire().await;
        tokio::time::advance(EngineSettings::default().slow_write + Duration::from_millis(1)).await;
        permit.done(Signal::Fine);
        assert_eq!(limiter.limit(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_holds_every_new_write_until_it_passes() {
        let pause = Arc::new(Pause::default());
        let settings = EngineSettings::default();
        let limiter = Limiter::new(&settings, Arc::clone(&pause));
        pause.hold_for(Duration::from_secs(3));
        let started = Instant::now();
        drop(limiter.acquire().await);
        assert_eq!(started.elapsed(), Duration::from_secs(3));
        // A hold longer than a minute is taken as a minute.
        pause.hold_for(Duration::from_secs(3600));
        let started = Instant::now();
        drop(limiter.acquire().await);
        assert_eq!(started.elapsed(), MAX_RETRY_AFTER);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_that_asks_for_a_delay_holds_the_retry_that_long() {
        let settings = EngineSettings {
            base_backoff: Duration::from_millis(1),
            ..EngineSettings::default()
        };
        let pacer = Pacer::new(&settings, Arc::default());
        let mut status =
            kube::core::Status::failure("too many requests", "TooManyRequests").with_code(429);
        status.details = Some(
            serde_json::from_value(serde_json::json!({ "retryAfterSeconds": 7 }))
                .expect("StatusDetails"),
        );
        let answers = std::cell::RefCell::new(
            vec![Err(kube::Error::Api(Box::new(status))), Ok(())].into_iter(),
        );
        let started = Instant::now();
        let (result, attempts) = with_retries(&settings, &pacer, || {
            let answer = answers.borrow_mut().next().unwrap_or(Ok(()));
            async move { answer }
        })
        .await;
        assert!(result.is_ok());
        assert_eq!(attempts, 2);
        assert!(
            started.elapsed() >= Duration::from_secs(7),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(pacer.limiter.report().slowdowns, 1);
    }

    #[test]
    fn retry_after_headers_are_read_in_seconds() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static(" 5 "),
        );
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(5)));
        headers.insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("Fri, 31 Dec 1999 23:59:59 GMT"),
        );
        assert_eq!(retry_after(&headers), None);
    }
}
