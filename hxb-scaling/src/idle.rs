//! Scale to zero with a cooldown, as KEDA does for a `ScaledObject`, as a pure state machine.
//!
//! A workload is *active* while any trigger's value is strictly above its activation
//! threshold. Between `1` and `max_replicas` the HPA maths ([`crate::hpa`]) decides; this
//! module only covers the `0 ↔ 1` edge and the idle count:
//!
//! * at zero (or at the idle count) and active → scale to `max(min_replicas, 1)`;
//! * inactive for at least `cooldown` since the last activity, with `min_replicas == 0` or an
//!   idle count set → scale to the idle count (0 by default);
//! * below `min_replicas` → scale to `min_replicas`;
//! * otherwise → leave it to the HPA.
//!
//! ```
//! use std::time::Duration;
//! use hxb_core::Timestamp;
//! use hxb_scaling::idle::{IdleDecision, IdleSpec, IdleState, Trigger, evaluate};
//! # fn main() -> hxb_core::Result<()> {
//! let spec = IdleSpec::builder(10).cooldown(Duration::from_secs(300))
//!     .trigger(Trigger::new("queue", 0.0)).build()?;
//! let t0 = Timestamp::from_second(1_000).unwrap();
//! // Messages arrive: scale from zero.
//! let (d, s) = evaluate(&spec, &IdleState::default(), 0, &[Some(12.0)], t0)?;
//! assert_eq!(d, IdleDecision::ScaleFromZero { to: 1 });
//! // The queue drains; five minutes later the workload goes back to zero.
//! let t1 = Timestamp::from_second(1_000 + 300).unwrap();
//! let (d, _) = evaluate(&spec, &s, 3, &[Some(0.0)], t1)?;
//! assert_eq!(d, IdleDecision::ScaleToIdle { to: 0 });
//! # Ok(()) }
//! ```

use std::time::Duration;

use hxb_core::metrics::Sample;
use hxb_core::{Error, Result, Timestamp};
use serde::{Deserialize, Serialize};

/// KEDA's default `cooldownPeriod` (300 s).
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(300);

/// One trigger (a KEDA scaler) and its activation threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    /// Name, for explanations.
    pub name: String,
    /// Active while the value is strictly above this (`activationThreshold`, default 0).
    pub activation_threshold: f64,
}

impl Trigger {
    /// A trigger with its activation threshold.
    pub fn new(name: impl Into<String>, activation_threshold: f64) -> Self {
        Trigger {
            name: name.into(),
            activation_threshold,
        }
    }

    /// Whether `value` activates the workload.
    pub fn is_active(&self, value: f64) -> bool {
        value > self.activation_threshold
    }
}

/// A validated scale-to-zero specification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdleSpec {
    min_replicas: i32,
    max_replicas: i32,
    idle_replicas: Option<i32>,
    cooldown: Duration,
    triggers: Vec<Trigger>,
}

impl IdleSpec {
    /// Start a builder (`minReplicaCount` 0, cooldown 300 s).
    pub fn builder(max_replicas: i32) -> IdleSpecBuilder {
        IdleSpecBuilder {
            spec: IdleSpec {
                min_replicas: 0,
                max_replicas,
                idle_replicas: None,
                cooldown: DEFAULT_COOLDOWN,
                triggers: Vec::new(),
            },
        }
    }

    /// `minReplicaCount`.
    pub fn min_replicas(&self) -> i32 {
        self.min_replicas
    }

    /// `maxReplicaCount`.
    pub fn max_replicas(&self) -> i32 {
        self.max_replicas
    }

    /// `idleReplicaCount`, if set.
    pub fn idle_replicas(&self) -> Option<i32> {
        self.idle_replicas
    }

    /// `cooldownPeriod`.
    pub fn cooldown(&self) -> Duration {
        self.cooldown
    }

    /// The triggers.
    pub fn triggers(&self) -> &[Trigger] {
        &self.triggers
    }

    fn can_go_idle(&self) -> bool {
        self.min_replicas == 0 || self.idle_replicas.is_some()
    }

    fn idle_count(&self) -> i32 {
        self.idle_replicas.unwrap_or(0)
    }

    fn active_count(&self) -> i32 {
        self.min_replicas.max(1)
    }
}

/// Builder for [`IdleSpec`].
#[derive(Debug, Clone)]
#[must_use]
pub struct IdleSpecBuilder {
    spec: IdleSpec,
}

impl IdleSpecBuilder {
    /// `minReplicaCount` (default 0).
    pub fn min_replicas(mut self, n: i32) -> Self {
        self.spec.min_replicas = n;
        self
    }

    /// `idleReplicaCount`: the count used while idle; must be below `min_replicas`.
    pub fn idle_replicas(mut self, n: i32) -> Self {
        self.spec.idle_replicas = Some(n);
        self
    }

    /// `cooldownPeriod` (default 300 s).
    pub fn cooldown(mut self, d: Duration) -> Self {
        self.spec.cooldown = d;
        self
    }

    /// Add a trigger.
    pub fn trigger(mut self, t: Trigger) -> Self {
        self.spec.triggers.push(t);
        self
    }

    /// Validate and build.
    pub fn build(self) -> Result<IdleSpec> {
        let s = self.spec;
        if s.max_replicas < 1 {
            return Err(Error::invalid("maxReplicaCount", "must be at least 1"));
        }
        if s.min_replicas < 0 || s.min_replicas > s.max_replicas {
            return Err(Error::invalid(
                "minReplicaCount",
                format!(
                    "must be within 0..=maxReplicaCount, got {} > {}",
                    s.min_replicas, s.max_replicas
                ),
            ));
        }
        if let Some(i) = s.idle_replicas
            && (i < 0 || i >= s.min_replicas)
        {
            return Err(Error::invalid(
                "idleReplicaCount",
                "must be non-negative and below minReplicaCount",
            ));
        }
        if s.triggers.is_empty() {
            return Err(Error::invalid(
                "triggers",
                "at least one trigger is required",
            ));
        }
        for (i, t) in s.triggers.iter().enumerate() {
            if !t.activation_threshold.is_finite() {
                return Err(Error::invalid(
                    format!("triggers[{i}].activationThreshold"),
                    "must be finite",
                ));
            }
        }
        Ok(s)
    }
}

/// What the state machine remembers: when a trigger was last active.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdleState {
    /// Last time any trigger was active (`status.lastActiveTime`).
    pub last_active: Option<Timestamp>,
}

/// The decision for one evaluation.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum IdleDecision {
    /// Active at zero or at the idle count: scale up to this count.
    ScaleFromZero {
        /// Target count, `max(min_replicas, 1)`.
        to: i32,
    },
    /// Inactive past the cooldown: scale down to the idle count.
    ScaleToIdle {
        /// Target count (0 unless an idle count is set).
        to: i32,
    },
    /// Below the minimum: scale up to it.
    ScaleToMin {
        /// `min_replicas`.
        to: i32,
    },
    /// Inactive, but the cooldown has not passed yet.
    CoolingDown {
        /// Time left before scaling to idle.
        remaining: Duration,
    },
    /// Nothing for this state machine to do: stay at the idle count, or let the HPA decide.
    Hold,
}

/// Evaluate one polling interval. `values[i]` is trigger `i`'s current value, or `None` when
/// the scaler failed; a failed trigger counts as inactive, and when every trigger failed
/// nothing is scaled down (KEDA keeps the workload as is on scaler errors).
///
/// Errors with `InvalidInput` for a value count that does not match the triggers, NaN or
/// infinite values, or a negative replica count; the state is unchanged then.
pub fn evaluate(
    spec: &IdleSpec,
    state: &IdleState,
    current_replicas: i32,
    values: &[Option<f64>],
    now: Timestamp,
) -> Result<(IdleDecision, IdleState)> {
    if current_replicas < 0 {
        return Err(Error::invalid("current_replicas", "must not be negative"));
    }
    if values.len() != spec.triggers.len() {
        return Err(Error::invalid(
            "values",
            format!(
                "expected {} trigger values, got {}",
                spec.triggers.len(),
                values.len()
            ),
        ));
    }
    for (i, v) in values.iter().enumerate() {
        if let Some(v) = v
            && !v.is_finite()
        {
            return Err(Error::invalid(
                format!("values[{i}]"),
                format!("must be finite, got {v}"),
            ));
        }
    }
    let active = spec
        .triggers
        .iter()
        .zip(values)
        .any(|(t, v)| v.is_some_and(|v| t.is_active(v)));
    let all_failed = values.iter().all(Option::is_none);
    let mut next = *state;
    if active {
        next.last_active = Some(now);
        let at_idle = current_replicas == 0
            || (spec.idle_replicas.is_some() && current_replicas == spec.idle_count());
        if at_idle {
            return Ok((
                IdleDecision::ScaleFromZero {
                    to: spec.active_count(),
                },
                next,
            ));
        }
        if current_replicas < spec.min_replicas {
            return Ok((
                IdleDecision::ScaleToMin {
                    to: spec.min_replicas,
                },
                next,
            ));
        }
        return Ok((IdleDecision::Hold, next));
    }
    if all_failed {
        return Ok((IdleDecision::Hold, next));
    }
    if spec.can_go_idle() && current_replicas > spec.idle_count() {
        // Never active since we started watching: the cooldown runs from now.
        let last = *next.last_active.get_or_insert(now);
        let elapsed = now
            .as_millisecond()
            .saturating_sub(last.as_millisecond())
            .max(0) as u128;
        let cooldown = spec.cooldown.as_millis();
        if elapsed >= cooldown {
            return Ok((
                IdleDecision::ScaleToIdle {
                    to: spec.idle_count(),
                },
                next,
            ));
        }
        let remaining =
            Duration::from_millis(u64::try_from(cooldown - elapsed).unwrap_or(u64::MAX));
        return Ok((IdleDecision::CoolingDown { remaining }, next));
    }
    if !spec.can_go_idle() && current_replicas < spec.min_replicas {
        return Ok((
            IdleDecision::ScaleToMin {
                to: spec.min_replicas,
            },
            next,
        ));
    }
    Ok((IdleDecision::Hold, next))
}

/// The last time `history` (oldest first) was above `threshold`, if ever: idle detection
/// from a metric history. Samples with non-finite values are refused.
pub fn last_active(history: &[Sample], threshold: f64) -> Result<Option<Timestamp>> {
    let mut last = None;
    for (i, s) in history.iter().enumerate() {
        if !s.v.is_finite() {
            return Err(Error::invalid(
                format!("history[{i}]"),
                format!("must be finite, got {}", s.v),
            ));
        }
        if s.v > threshold {
            last = Some(s.t_ms.max(last.unwrap_or(i64::MIN)));
        }
    }
    last.map(|ms| {
        Timestamp::from_millisecond(ms).map_err(|e| Error::invalid("history", e.to_string()))
    })
    .transpose()
}

/// Whether a workload whose single trigger produced `history` is idle at `now`: no sample
/// above the activation threshold within the cooldown. An empty history is idle.
pub fn is_idle(
    history: &[Sample],
    trigger: &Trigger,
    cooldown: Duration,
    now: Timestamp,
) -> Result<bool> {
    let Some(last) = last_active(history, trigger.activation_threshold)? else {
        return Ok(true);
    };
    let elapsed = now.as_millisecond().saturating_sub(last.as_millisecond());
    Ok(elapsed >= 0 && elapsed as u128 >= cooldown.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hxb_core::ErrorKind;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    fn spec() -> IdleSpec {
        IdleSpec::builder(10)
            .trigger(Trigger::new("queue", 5.0))
            .build()
            .unwrap()
    }

    #[test]
    fn state_machine_walkthrough() {
        let s = spec();
        let mut st = IdleState::default();
        // (replicas, value, time, expected decision)
        let steps: Vec<(i32, f64, i64, IdleDecision)> = vec![
            // At zero, value at the threshold is not active (strictly above is).
            (0, 5.0, 0, IdleDecision::Hold),
            (0, 6.0, 10, IdleDecision::ScaleFromZero { to: 1 }),
            (1, 50.0, 40, IdleDecision::Hold),
            // Inactive: cooldown from the last activity at t=40.
            (
                4,
                0.0,
                70,
                IdleDecision::CoolingDown {
                    remaining: Duration::from_secs(270),
                },
            ),
            (
                4,
                0.0,
                339,
                IdleDecision::CoolingDown {
                    remaining: Duration::from_secs(1),
                },
            ),
            (4, 0.0, 340, IdleDecision::ScaleToIdle { to: 0 }),
            (0, 0.0, 400, IdleDecision::Hold),
        ];
        for (i, (replicas, v, at, want)) in steps.into_iter().enumerate() {
            let (d, next) = evaluate(&s, &st, replicas, &[Some(v)], t(at)).unwrap();
            assert_eq!(d, want, "step {i}");
            st = next;
        }
    }

    #[test]
    fn activity_resets_the_cooldown() {
        let s = spec();
        let (_, st) = evaluate(&s, &IdleState::default(), 3, &[Some(9.0)], t(0)).unwrap();
        let (_, st) = evaluate(&s, &st, 3, &[Some(0.0)], t(200)).unwrap();
        let (_, st) = evaluate(&s, &st, 3, &[Some(9.0)], t(250)).unwrap();
        let (d, _) = evaluate(&s, &st, 3, &[Some(0.0)], t(500)).unwrap();
        assert_eq!(
            d,
            IdleDecision::CoolingDown {
                remaining: Duration::from_secs(50)
            }
        );
    }

    #[test]
    fn idle_replicas_and_min_replicas() {
        // idleReplicaCount 0 with minReplicaCount 2: idle at 0, active back at 2.
        let s = IdleSpec::builder(10)
            .min_replicas(2)
            .idle_replicas(0)
            .trigger(Trigger::new("q", 0.0))
            .build()
            .unwrap();
        let (d, st) = evaluate(&s, &IdleState::default(), 0, &[Some(1.0)], t(0)).unwrap();
        assert_eq!(d, IdleDecision::ScaleFromZero { to: 2 });
        let (d, _) = evaluate(&s, &st, 2, &[Some(0.0)], t(300)).unwrap();
        assert_eq!(d, IdleDecision::ScaleToIdle { to: 0 });
        // Without an idle count, minReplicaCount > 0 never goes idle and is restored.
        let s = IdleSpec::builder(10)
            .min_replicas(2)
            .trigger(Trigger::new("q", 0.0))
            .build()
            .unwrap();
        let (d, _) = evaluate(&s, &IdleState::default(), 5, &[Some(0.0)], t(10_000)).unwrap();
        assert_eq!(d, IdleDecision::Hold);
        let (d, _) = evaluate(&s, &IdleState::default(), 1, &[Some(0.0)], t(0)).unwrap();
        assert_eq!(d, IdleDecision::ScaleToMin { to: 2 });
    }

    #[test]
    fn any_trigger_activates_and_failures_hold() {
        let s = IdleSpec::builder(5)
            .trigger(Trigger::new("a", 0.0))
            .trigger(Trigger::new("b", 10.0))
            .build()
            .unwrap();
        let (d, _) =
            evaluate(&s, &IdleState::default(), 0, &[Some(0.0), Some(11.0)], t(0)).unwrap();
        assert_eq!(d, IdleDecision::ScaleFromZero { to: 1 });
        let st = IdleState {
            last_active: Some(t(0)),
        };
        let (d, _) = evaluate(&s, &st, 2, &[None, None], t(10_000)).unwrap();
        assert_eq!(d, IdleDecision::Hold);
        let (d, _) = evaluate(&s, &st, 2, &[None, Some(1.0)], t(10_000)).unwrap();
        assert_eq!(d, IdleDecision::ScaleToIdle { to: 0 });
    }

    #[test]
    fn bad_input_is_refused() {
        let s = spec();
        let st = IdleState {
            last_active: Some(t(5)),
        };
        for v in [f64::NAN, f64::INFINITY] {
            assert_eq!(
                evaluate(&s, &st, 1, &[Some(v)], t(0)).unwrap_err().kind(),
                ErrorKind::InvalidInput
            );
        }
        assert!(evaluate(&s, &st, -1, &[Some(1.0)], t(0)).is_err());
        assert!(evaluate(&s, &st, 1, &[], t(0)).is_err());
        let bad = [
            IdleSpec::builder(0).trigger(Trigger::new("q", 0.0)).build(),
            IdleSpec::builder(3)
                .min_replicas(4)
                .trigger(Trigger::new("q", 0.0))
                .build(),
            IdleSpec::builder(3)
                .min_replicas(1)
                .idle_replicas(1)
                .trigger(Trigger::new("q", 0.0))
                .build(),
            IdleSpec::builder(3).build(),
            IdleSpec::builder(3)
                .trigger(Trigger::new("q", f64::NAN))
                .build(),
        ];
        for b in bad {
            assert_eq!(b.unwrap_err().kind(), ErrorKind::InvalidInput);
        }
    }

    #[test]
    fn idle_detection_from_history() {
        let trig = Trigger::new("rps", 1.0);
        let h = |pts: &[(i64, f64)]| {
            pts.iter()
                .map(|(s, v)| Sample {
                    t_ms: s * 1000,
                    v: *v,
                })
                .collect::<Vec<_>>()
        };
        let hist = h(&[(0, 5.0), (60, 0.5), (120, 2.0), (180, 0.0)]);
        assert_eq!(last_active(&hist, 1.0).unwrap(), Some(t(120)));
        assert!(!is_idle(&hist, &trig, Duration::from_secs(300), t(400)).unwrap());
        assert!(is_idle(&hist, &trig, Duration::from_secs(300), t(420)).unwrap());
        assert!(is_idle(&[], &trig, Duration::from_secs(300), t(0)).unwrap());
        assert!(last_active(&h(&[(0, f64::NAN)]), 1.0).is_err());
    }
}
