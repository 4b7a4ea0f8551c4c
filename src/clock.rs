//! Where "now" comes from. The app uses the system clock; tests move a manual clock, so expiry
//! and the sweep are tested without waiting for time to pass.

use std::sync::Mutex;

use chrono::{DateTime, Duration, DurationRound, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time, to the millisecond (what the live store keeps).
    fn now(&self) -> DateTime<Utc>;
}

fn to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::milliseconds(1)).unwrap_or(t)
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        to_millis(Utc::now())
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Mutex::new(to_millis(start)),
        }
    }

    /// A clock stopped at the current system time.
    pub fn starting_now() -> Self {
        Self::new(Utc::now())
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }

    /// Sets the clock to `to`.
    pub fn set(&self, to: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = to_millis(to);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The operating system's clock moved forward by a shift that only grows: the browser tests'
/// server runs on it to reach a late cut-off without waiting for it.
#[derive(Debug, Default)]
pub struct ShiftedClock {
    shift_ms: std::sync::atomic::AtomicI64,
}

impl ShiftedClock {
    /// Moves the clock forward by `by` (a negative shift is ignored); the shift so far.
    pub fn advance(&self, by: Duration) -> Duration {
        let ms = by.num_milliseconds().max(0);
        let total = self
            .shift_ms
            .fetch_add(ms, std::sync::atomic::Ordering::SeqCst)
            .saturating_add(ms);
        Duration::milliseconds(total)
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        let shift = self.shift_ms.load(std::sync::atomic::Ordering::SeqCst);
        to_millis(Utc::now()) + Duration::milliseconds(shift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap());
        let start = clock.now();
        assert_eq!(start.timestamp_subsec_millis(), 123);
        assert_eq!(
            start.timestamp_subsec_nanos(),
            123_000_000,
            "kept to the millisecond"
        );
        assert_eq!(clock.now(), start);
        clock.advance(Duration::minutes(10));
        assert_eq!(clock.now() - start, Duration::minutes(10));
    }

    #[test]
    fn a_shifted_clock_only_moves_forward() {
        let clock = ShiftedClock::default();
        let before = clock.now();
        assert_eq!(clock.advance(Duration::minutes(6)), Duration::minutes(6));
        assert_eq!(clock.advance(Duration::minutes(-60)), Duration::minutes(6));
        let now = clock.now();
        assert!(now - before >= Duration::minutes(6), "{now} {before}");
        assert!(now - before < Duration::minutes(7), "{now} {before}");
    }
}
