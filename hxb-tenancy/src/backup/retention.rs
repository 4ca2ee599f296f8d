//! Retention: which snapshots of a policy to keep. Pure.
//!
//! A snapshot is kept when it satisfies every rule given: it is among the `keep_last` newest,
//! and it is no older than `max_age`. The newest snapshot is always kept, so a policy whose
//! rules are all tight never prunes itself to nothing. No rule: keep everything.

use std::time::Duration;

use hxb_core::{Error, Result, Timestamp};
use serde::{Deserialize, Serialize};

/// Retention rules of a backup policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Retention {
    /// Keep at most this many (the newest).
    pub keep_last: Option<u32>,
    /// Keep nothing older than this (seconds), except the newest snapshot.
    pub max_age_secs: Option<u64>,
}

impl Retention {
    /// Keep the newest `n`.
    pub fn keep_last(n: u32) -> Self {
        Retention {
            keep_last: Some(n),
            max_age_secs: None,
        }
    }

    /// Keep what is younger than `age`.
    pub fn max_age(age: Duration) -> Self {
        Retention {
            keep_last: None,
            max_age_secs: Some(age.as_secs()),
        }
    }

    /// Check the rules: `keep_last` at least 1, `max_age` positive.
    pub fn validate(&self) -> Result<()> {
        if self.keep_last == Some(0) {
            return Err(Error::invalid("keep_last", "must be at least 1"));
        }
        if self.max_age_secs == Some(0) {
            return Err(Error::invalid("max_age", "must be positive"));
        }
        Ok(())
    }

    /// Of `snapshots` (`(id, taken_at)`, any order), the ids to delete at `now`, oldest first.
    pub fn prune<'a>(&self, snapshots: &'a [(String, Timestamp)], now: Timestamp) -> Vec<&'a str> {
        let mut sorted: Vec<&(String, Timestamp)> = snapshots.iter().collect();
        // newest first; ties broken by id so the answer does not depend on input order
        sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
        let mut out: Vec<&str> = sorted
            .iter()
            .enumerate()
            .filter(|(i, (_, at))| {
                if *i == 0 {
                    return false;
                }
                let too_many = self.keep_last.is_some_and(|n| *i >= n as usize);
                let too_old = self
                    .max_age_secs
                    .is_some_and(|max| now.as_second().saturating_sub(at.as_second()) > max as i64);
                too_many || too_old
            })
            .map(|(_, (id, _))| id.as_str())
            .collect();
        out.reverse();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DAY: i64 = 86_400;

    fn snaps(ages_days: &[i64], now: i64) -> Vec<(String, Timestamp)> {
        ages_days
            .iter()
            .enumerate()
            .map(|(i, a)| {
                (
                    format!("s{i}"),
                    Timestamp::from_second(now - a * DAY).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn keep_last_and_max_age() {
        let now = 1_767_225_600 + 100 * DAY;
        let t = Timestamp::from_second(now).unwrap();
        let s = snaps(&[0, 1, 2, 3, 10, 40], now);
        assert_eq!(Retention::keep_last(3).prune(&s, t), vec!["s5", "s4", "s3"]);
        assert_eq!(
            Retention::max_age(Duration::from_secs(7 * DAY as u64)).prune(&s, t),
            vec!["s5", "s4"]
        );
        let both = Retention {
            keep_last: Some(5),
            max_age_secs: Some(30 * DAY as u64),
        };
        assert_eq!(both.prune(&s, t), vec!["s5"]);
        assert!(Retention::default().prune(&s, t).is_empty());
        // the newest survives even when everything is too old
        let old = snaps(&[50, 60], now);
        assert_eq!(
            Retention::max_age(Duration::from_secs(DAY as u64)).prune(&old, t),
            vec!["s1"]
        );
    }

    #[test]
    fn zero_rules_are_invalid() {
        assert!(Retention::keep_last(0).validate().is_err());
        assert!(Retention::max_age(Duration::ZERO).validate().is_err());
        assert!(Retention::keep_last(1).validate().is_ok());
    }

    proptest! {
        #[test]
        fn pruning_obeys_every_rule(
            ages in prop::collection::vec(0i64..400, 0..40),
            keep in prop::option::of(1u32..10),
            max_days in prop::option::of(1u64..100),
        ) {
            let now = 1_767_225_600 + 500 * DAY;
            let t = Timestamp::from_second(now).unwrap();
            let s = snaps(&ages, now);
            let r = Retention { keep_last: keep, max_age_secs: max_days.map(|d| d * DAY as u64) };
            let gone = r.prune(&s, t);
            let kept: Vec<_> = s.iter().filter(|(id, _)| !gone.contains(&id.as_str())).collect();
            if !s.is_empty() {
                prop_assert!(!kept.is_empty(), "never prunes to nothing");
                let newest = s.iter().map(|x| x.1).max().unwrap();
                prop_assert!(kept.iter().any(|x| x.1 == newest));
            }
            if let Some(n) = keep {
                prop_assert!(kept.len() <= n as usize);
            }
            if let Some(d) = max_days {
                let young = kept.iter().filter(|x| now - x.1.as_second() <= (d as i64) * DAY).count();
                prop_assert!(kept.len() - young <= 1, "only the newest may be over age");
            }
            // maximal: every deleted snapshot breaks a rule
            let mut order: Vec<_> = s.iter().collect();
            order.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
            for (i, (id, at)) in order.iter().enumerate() {
                if gone.contains(&id.as_str()) {
                    let many = keep.is_some_and(|n| i >= n as usize);
                    let old = max_days.is_some_and(|d| now - at.as_second() > (d as i64) * DAY);
                    prop_assert!(many || old);
                }
            }
        }
    }
}
