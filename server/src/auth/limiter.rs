//! Sign-in attempts per client address: at most [`ATTEMPTS`] a minute, on
//! top of the per-account lock-out, so one address cannot try many
//! accounts quickly either.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Attempts allowed per address per [`WINDOW`].
pub const ATTEMPTS: u32 = 10;

/// The window attempts are counted in.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Counts attempts per address in fixed windows.
#[derive(Debug, Default)]
pub struct Limiter {
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl Limiter {
    /// Counts an attempt from `addr` at `now`; false when it is over the
    /// limit (and then it does not count).
    pub fn allow(&self, addr: IpAddr, now: Instant) -> bool {
        let Ok(mut windows) = self.windows.lock() else {
            return false;
        };
        // NB: forget old windows so the map stays as small as the traffic.
        windows.retain(|_, (started, _)| now.duration_since(*started) < WINDOW);
        let (started, count) = windows.entry(addr).or_insert((now, 0));
        if now.duration_since(*started) >= WINDOW {
            *started = now;
            *count = 0;
        }
        if *count >= ATTEMPTS {
            return false;
        }
        *count += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_attempts_per_window_and_others_theirs() {
        let limiter = Limiter::default();
        let one: IpAddr = [192, 0, 2, 1].into();
        let two: IpAddr = [192, 0, 2, 2].into();
        let start = Instant::now();
        for _ in 0..ATTEMPTS {
            assert!(limiter.allow(one, start));
        }
        assert!(!limiter.allow(one, start + Duration::from_secs(59)));
        assert!(limiter.allow(two, start));
        assert!(limiter.allow(one, start + WINDOW));
    }
}
