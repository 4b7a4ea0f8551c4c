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
}
