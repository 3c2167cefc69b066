//! The JWKS fetch schedule, shared by every root context through one shared-data record.
//!
//! Any root context that ticks may start a fetch: it reads the record, asks [`FetchState::claim`]
//! whether a fetch is due, and writes the claimed record back with compare-and-set, so exactly one
//! context wins. The winner records the outcome ([`FetchState::succeeded`] / [`FetchState::failed`]);
//! the record's `version` tells every worker when to reload the document. An unknown `kid` asks
//! for an early fetch ([`FetchState::request_early`]), at most once per cooldown. Times are
//! milliseconds since the Unix epoch; the record is a short line of ASCII numbers.

/// First retry delay after a failed fetch; it doubles per consecutive failure.
pub const FIRST_RETRY_MS: u64 = 1000;
/// Longest retry delay (also bounded by the provider's `cache_duration_seconds`).
pub const MAX_RETRY_MS: u64 = 30_000;
/// Extra time a claimed fetch may take beyond its timeout before another context may take over.
pub const LEASE_MARGIN_MS: u64 = 1000;

/// The shared fetch record of one JWKS source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FetchState {
    /// When the next fetch is due (0: at once).
    pub next_due_ms: u64,
    /// A fetch is in flight until this time (0: none).
    pub lease_until_ms: u64,
    /// Consecutive failed fetches.
    pub failures: u32,
    /// When the last fetch started.
    pub last_started_ms: u64,
    /// Version of the stored document (0: no good document yet).
    pub version: u64,
}

impl FetchState {
    /// Reads a record; anything unreadable counts as "never fetched".
    pub fn decode(bytes: Option<&[u8]>) -> FetchState {
        let Some(text) = bytes.and_then(|b| std::str::from_utf8(b).ok()) else { return FetchState::default() };
        let numbers: Vec<u64> = text.split(' ').filter_map(|n| n.parse().ok()).collect();
        match numbers[..] {
            [next_due_ms, lease_until_ms, failures, last_started_ms, version] => FetchState {
                next_due_ms,
                lease_until_ms,
                failures: u32::try_from(failures).unwrap_or(u32::MAX),
                last_started_ms,
                version,
            },
            _ => FetchState::default(),
        }
    }

    /// The record as stored.
    pub fn encode(&self) -> Vec<u8> {
        format!(
            "{} {} {} {} {}",
            self.next_due_ms, self.lease_until_ms, self.failures, self.last_started_ms, self.version
        )
        .into_bytes()
    }

    /// Whether a fetch is in flight at `now`.
    pub fn in_flight(&self, now_ms: u64) -> bool {
        self.lease_until_ms > now_ms
    }

    /// If a fetch is due at `now` and none is in flight, the record that claims it.
    pub fn claim(&self, now_ms: u64, timeout_ms: u64) -> Option<FetchState> {
        if self.in_flight(now_ms) || now_ms < self.next_due_ms {
            return None;
        }
        Some(FetchState {
            lease_until_ms: now_ms.saturating_add(timeout_ms).saturating_add(LEASE_MARGIN_MS),
            last_started_ms: now_ms,
            ..*self
        })
    }

    /// The record after a good document was stored at `now`: next fetch after `cache_duration_ms`.
    pub fn succeeded(&self, now_ms: u64, cache_duration_ms: u64) -> FetchState {
        FetchState {
            next_due_ms: now_ms.saturating_add(cache_duration_ms),
            lease_until_ms: 0,
            failures: 0,
            last_started_ms: self.last_started_ms,
            version: self.version.saturating_add(1),
        }
    }

    /// The record after a failed fetch at `now`: retry with exponential backoff, keep the version
    /// (and so the last good keys).
    pub fn failed(&self, now_ms: u64, cache_duration_ms: u64) -> FetchState {
        let failures = self.failures.saturating_add(1);
        FetchState {
            next_due_ms: now_ms.saturating_add(retry_delay_ms(failures, cache_duration_ms)),
            lease_until_ms: 0,
            failures,
            ..*self
        }
    }

    /// If an unknown `kid` may trigger a fetch now, the record that makes it due: only once the
    /// cooldown since the last fetch has passed, with none in flight, and not while failures are
    /// already being retried (the backoff decides those).
    pub fn request_early(&self, now_ms: u64, cooldown_ms: u64) -> Option<FetchState> {
        let cooled = now_ms >= self.last_started_ms.saturating_add(cooldown_ms);
        let pending = self.next_due_ms <= now_ms;
        (cooled && !pending && !self.in_flight(now_ms) && self.failures == 0)
            .then_some(FetchState { next_due_ms: now_ms, ..*self })
    }
}

/// Delay before retry number `failures` (1-based): 1 s, 2 s, 4 s … up to 30 s, and never longer
/// than the cache duration.
pub fn retry_delay_ms(failures: u32, cache_duration_ms: u64) -> u64 {
    let doublings = failures.saturating_sub(1).min(16);
    let delay = FIRST_RETRY_MS.saturating_mul(1u64 << doublings);
    delay.min(MAX_RETRY_MS).min(cache_duration_ms.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: u64 = 3_600_000;
    const T0: u64 = 1_700_000_000_000;

    #[test]
    fn records_round_trip_and_garbage_means_never_fetched() {
        let state = FetchState { next_due_ms: 5, lease_until_ms: 6, failures: 7, last_started_ms: 8, version: 9 };
        assert_eq!(FetchState::decode(Some(&state.encode())), state);
        assert_eq!(FetchState::decode(None), FetchState::default());
        assert_eq!(FetchState::decode(Some(b"1 2 3")), FetchState::default());
        assert_eq!(FetchState::decode(Some(&[0xff, 0xfe])), FetchState::default());
    }

    #[test]
    fn the_first_tick_fetches_and_a_claim_blocks_others_until_done_or_expired() {
        let start = FetchState::default();
        let claimed = start.claim(T0, 2000).expect("due at start");
        assert_eq!(claimed.last_started_ms, T0);
        assert!(claimed.claim(T0 + 100, 2000).is_none(), "in flight");
        // A claimer that never answers loses its lease after timeout + margin.
        assert!(claimed.claim(T0 + 2000 + LEASE_MARGIN_MS + 1, 2000).is_some());
    }

    #[test]
    fn success_schedules_the_next_fetch_after_the_cache_duration() {
        let done = FetchState::default().claim(T0, 2000).unwrap().succeeded(T0 + 50, HOUR);
        assert_eq!((done.version, done.failures, done.lease_until_ms), (1, 0, 0));
        assert!(done.claim(T0 + HOUR, 2000).is_none());
        assert!(done.claim(T0 + 50 + HOUR, 2000).is_some());
    }

    #[test]
    fn failures_back_off_exponentially_and_keep_the_version() {
        let good = FetchState::default().claim(T0, 2000).unwrap().succeeded(T0, HOUR);
        let mut state = good.claim(T0 + HOUR, 2000).unwrap();
        let mut now = T0 + HOUR;
        let mut delays = Vec::new();
        for _ in 0..7 {
            state = state.failed(now, HOUR);
            assert_eq!(state.version, 1, "last good keys stay");
            delays.push(state.next_due_ms - now);
            now = state.next_due_ms;
            state = state.claim(now, 2000).expect("retry is due");
        }
        assert_eq!(delays, vec![1000, 2000, 4000, 8000, 16000, 30000, 30000]);
        let recovered = state.succeeded(now, HOUR);
        assert_eq!((recovered.failures, recovered.version), (0, 2));
    }

    #[test]
    fn retry_delay_never_exceeds_the_cache_duration() {
        assert_eq!(retry_delay_ms(1, 500), 500);
        assert_eq!(retry_delay_ms(4, 3000), 3000);
        assert_eq!(retry_delay_ms(u32::MAX, HOUR), MAX_RETRY_MS);
    }

    #[test]
    fn an_unknown_kid_triggers_one_early_fetch_per_cooldown() {
        let good = FetchState::default().claim(T0, 2000).unwrap().succeeded(T0 + 10, HOUR);
        assert!(good.request_early(T0 + 5_000, 30_000).is_none(), "within the cooldown");
        let early = good.request_early(T0 + 30_000, 30_000).expect("cooldown over");
        assert_eq!(early.next_due_ms, T0 + 30_000);
        assert!(early.request_early(T0 + 30_001, 30_000).is_none(), "already due");
        let claimed = early.claim(T0 + 30_100, 2000).unwrap();
        assert!(claimed.request_early(T0 + 30_200, 0).is_none(), "in flight");
        let refreshed = claimed.succeeded(T0 + 30_300, HOUR);
        assert!(refreshed.request_early(T0 + 31_000, 30_000).is_none(), "cooldown counts from the last fetch");
        assert!(refreshed.request_early(T0 + 60_100, 30_000).is_some());
    }

    #[test]
    fn an_unknown_kid_does_not_defeat_the_backoff() {
        let failing = FetchState::default().claim(T0, 2000).unwrap().failed(T0 + 10, HOUR);
        assert!(failing.request_early(T0 + HOUR, 0).is_none());
    }
}
