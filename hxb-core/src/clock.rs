//! Time, behind a trait so simulations and tests control it.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::model::Timestamp;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that only moves when told to: deterministic tests and simulations.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<Timestamp>>);

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock(Arc::new(Mutex::new(start)))
    }

    /// A clock stopped at 2026-01-01T00:00:00Z.
    pub fn at_epoch() -> Self {
        Self::new(Timestamp::from_second(1_767_225_600).expect("valid timestamp"))
    }

    /// Move forward by `d`.
    pub fn advance(&self, d: Duration) {
        let mut t = self.0.lock();
        *t = t
            .checked_add(jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::MAX))
            .unwrap_or(Timestamp::MAX);
    }

    /// Jump to `t` (may go backwards; the caller decides).
    pub fn set(&self, t: Timestamp) {
        *self.0.lock() = t;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::at_epoch();
        let t0 = c.now();
        assert_eq!(c.now(), t0);
        c.advance(Duration::from_secs(90));
        assert_eq!(c.now().as_second() - t0.as_second(), 90);
    }
}
