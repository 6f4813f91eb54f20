//! Throttle: how hard a snapshot may push the API server. A stage's writes
//! run a bounded number at a time, every request first takes a token from a
//! client-side token bucket (kube-rs has no rate limit of its own), and a
//! request the server may accept later (429, 5xx, a transport error or a
//! timeout) is retried with exponential backoff and full jitter.

use std::future::Future;
use std::time::Duration;

use rand::Rng;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// How a snapshot paces its writes to the cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineSettings {
    /// Writes in flight at once within one stage.
    pub max_in_flight: usize,
    /// Sustained requests per second (the bucket's refill rate).
    pub writes_per_second: f64,
    /// Requests that may go at once after a quiet spell (the bucket's size).
    pub burst: u32,
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
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            max_in_flight: 8,
            writes_per_second: 50.0,
            burst: 20,
            max_attempts: 5,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            drift_checks_per_second: 10.0,
            webhook_wait: Duration::from_secs(30),
            webhook_retry: Duration::from_secs(20),
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

    /// The bucket of `settings`.
    pub(crate) fn of(settings: &EngineSettings) -> Self {
        Self::new(settings.writes_per_second, settings.burst)
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

/// Runs `operation` (each attempt after a token from `bucket`) until it
/// succeeds, fails for good, or `settings.max_attempts` are spent; returns
/// the last result and how many attempts were made.
pub(crate) async fn with_retries<T, F, Fut>(
    settings: &EngineSettings,
    bucket: &TokenBucket,
    mut operation: F,
) -> (Result<T, kube::Error>, u32)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut attempt = 1;
    loop {
        bucket.acquire().await;
        match operation().await {
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
        let bucket = TokenBucket::of(&settings);
        let mut calls = 0;
        let (result, attempts) = with_retries(&settings, &bucket, || {
            calls += 1;
            async { Err::<(), _>(api_error(503)) }
        })
        .await;
        assert!(result.is_err());
        assert_eq!((attempts, calls), (3, 3));
    }
}
