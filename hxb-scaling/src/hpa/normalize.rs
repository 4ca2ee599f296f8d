//! Normalization of the metric proposal: stabilization windows, scaling policies and
//! min/max clamping — a port of upstream `horizontal.go` (`stabilizeRecommendation`,
//! `normalizeDesiredReplicas`, `stabilizeRecommendationWithBehaviors`,
//! `convertDesiredReplicasWithBehaviorRate`, `convertDesiredReplicasWithRules`,
//! `calculateScaleUpLimitWithScalingRules`, `calculateScaleDownLimitWithBehaviors`,
//! `getReplicasChangePerPeriod`).
//!
//! The controller keeps the recommendation and scale-event histories in memory; here they
//! are plain data ([`HpaState`]) passed in and returned, so every call is a pure function of
//! its arguments and `now`.

use hxb_core::Timestamp;
use serde::{Deserialize, Serialize};

use super::conditions::{Condition, ConditionType, Reason};
use super::spec::{Behavior, PolicyKind, ScalingRules, SelectPolicy};

/// `scaleUpLimitFactor`: without a behavior, scale up at most to twice the current count…
pub const SCALE_UP_LIMIT_FACTOR: f64 = 2.0;
/// …or to `scaleUpLimitMinimum`, whichever is larger.
pub const SCALE_UP_LIMIT_MINIMUM: f64 = 4.0;

/// One unstabilized recommendation (`timestampedRecommendation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimestampedRecommendation {
    /// The recommended replica count before stabilization.
    pub replicas: i32,
    /// When it was made.
    pub at: Timestamp,
}

/// One applied scale change (`timestampedScaleEvent`), as an absolute number of replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScaleEvent {
    /// Replicas added or removed (non-negative).
    pub change: i32,
    /// When the change was applied.
    pub at: Timestamp,
}

/// What the autoscaler remembers between runs, per target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HpaState {
    /// Recent unstabilized recommendations.
    pub recommendations: Vec<TimestampedRecommendation>,
    /// Recent scale-ups (only kept when a behavior is set, as upstream).
    pub scale_up_events: Vec<ScaleEvent>,
    /// Recent scale-downs (only kept when a behavior is set, as upstream).
    pub scale_down_events: Vec<ScaleEvent>,
}

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn cutoff(now: Timestamp, seconds: i64) -> i64 {
    ms(now).saturating_sub(seconds.saturating_mul(1000))
}

impl HpaState {
    /// `recordInitialRecommendation`: seed the history with the current count.
    pub(crate) fn record_initial(&mut self, current: i32, now: Timestamp) {
        if self.recommendations.is_empty() {
            self.recommendations.push(TimestampedRecommendation {
                replicas: current,
                at: now,
            });
        }
    }

    /// `storeScaleEvent`: remember an applied change and forget events no policy can see.
    pub fn record_scale(
        &mut self,
        behavior: Option<&Behavior>,
        prev: i32,
        new: i32,
        now: Timestamp,
    ) {
        let Some(b) = behavior else { return };
        let (events, rules, change) = if new > prev {
            (&mut self.scale_up_events, &b.scale_up, new - prev)
        } else {
            (&mut self.scale_down_events, &b.scale_down, prev - new)
        };
        let c = cutoff(now, i64::from(rules.longest_period_seconds()));
        events.retain(|e| ms(e.at) >= c);
        events.push(ScaleEvent { change, at: now });
    }
}

/// `getReplicasChangePerPeriod`: replicas changed within the last `period_seconds`.
pub fn replicas_change_per_period(
    period_seconds: i32,
    events: &[ScaleEvent],
    now: Timestamp,
) -> i32 {
    let c = cutoff(now, i64::from(period_seconds));
    events
        .iter()
        .filter(|e| ms(e.at) > c)
        .fold(0i32, |acc, e| acc.saturating_add(e.change))
}

/// `calculateScaleUpLimitWithScalingRules`.
pub fn scale_up_limit(
    current: i32,
    up: &[ScaleEvent],
    down: &[ScaleEvent],
    rules: &ScalingRules,
    now: Timestamp,
) -> i32 {
    let (mut result, pick): (i32, fn(i32, i32) -> i32) = match rules.select_policy {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => (i32::MAX, std::cmp::min),
        SelectPolicy::Max => (i32::MIN, std::cmp::max),
    };
    for p in &rules.policies {
        let start = period_start(current, up, down, p.period_seconds, now);
        let proposed = match p.kind {
            PolicyKind::Pods => start.saturating_add(p.value),
            // Rounded up so that a small percentage still allows one more pod.
            PolicyKind::Percent => {
                super::replicas::ceil_i32(f64::from(start) * (1.0 + f64::from(p.value) / 100.0))
            }
        };
        result = pick(result, proposed);
    }
    result
}

/// `calculateScaleDownLimitWithBehaviors`.
pub fn scale_down_limit(
    current: i32,
    up: &[ScaleEvent],
    down: &[ScaleEvent],
    rules: &ScalingRules,
    now: Timestamp,
) -> i32 {
    let (mut result, pick): (i32, fn(i32, i32) -> i32) = match rules.select_policy {
        SelectPolicy::Disabled => return current,
        SelectPolicy::Min => (i32::MIN, std::cmp::max),
        SelectPolicy::Max => (i32::MAX, std::cmp::min),
    };
    for p in &rules.policies {
        let start = period_start(current, up, down, p.period_seconds, now);
        let proposed = match p.kind {
            PolicyKind::Pods => start.saturating_sub(p.value),
            // Truncated toward zero, as Go's int32(float64) conversion does.
            PolicyKind::Percent => (f64::from(start) * (1.0 - f64::from(p.value) / 100.0)) as i32,
        };
        result = pick(result, proposed);
    }
    result
}

fn period_start(
    current: i32,
    up: &[ScaleEvent],
    down: &[ScaleEvent],
    period: i32,
    now: Timestamp,
) -> i32 {
    current
        .saturating_sub(replicas_change_per_period(period, up, now))
        .saturating_add(replicas_change_per_period(period, down, now))
}

/// The result of normalization.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Normalized {
    pub desired: i32,
    pub able_to_scale: Condition,
    pub scaling_limited: Condition,
}

/// `normalizeDesiredReplicas`: the path taken when the spec has no behavior.
pub(crate) fn normalize_without_behavior(
    state: &mut HpaState,
    current: i32,
    prenormalized: i32,
    min: i32,
    max: i32,
    downscale_window_seconds: i64,
    now: Timestamp,
) -> Normalized {
    // stabilizeRecommendation: the highest recommendation within the downscale window.
    let c = cutoff(now, downscale_window_seconds);
    let stabilized = state
        .recommendations
        .iter()
        .filter(|r| ms(r.at) >= c)
        .map(|r| r.replicas)
        .fold(prenormalized, i32::max);
    state.recommendations.retain(|r| ms(r.at) >= c);
    state.recommendations.push(TimestampedRecommendation {
        replicas: prenormalized,
        at: now,
    });

    let able_to_scale = if stabilized != prenormalized {
        Condition::new(
            ConditionType::AbleToScale,
            true,
            Reason::ScaleDownStabilized,
            "recent recommendations were higher than current one, applying the highest recent recommendation",
        )
    } else {
        Condition::new(
            ConditionType::AbleToScale,
            true,
            Reason::ReadyForNewScale,
            "recommended size matches current size",
        )
    };
    let (desired, reason, message) = convert_with_rules(current, stabilized, min, max);
    Normalized {
        desired,
        able_to_scale,
        scaling_limited: Condition::new(
            ConditionType::ScalingLimited,
            desired != stabilized,
            reason,
            message,
        ),
    }
}

/// `convertDesiredReplicasWithRules`: clamp to `[min, min(max, max(2 × current, 4))]`.
pub fn convert_with_rules(
    current: i32,
    desired: i32,
    min: i32,
    max: i32,
) -> (i32, Reason, &'static str) {
    let scale_up_limit = scale_up_limit_without_behavior(current);
    let (maximum, mut reason, mut message) = if max > scale_up_limit {
        (
            scale_up_limit,
            Reason::ScaleUpLimit,
            "the desired replica count is increasing faster than the maximum scale rate",
        )
    } else {
        (
            max,
            Reason::TooManyReplicas,
            "the desired replica count is more than the maximum replica count",
        )
    };
    if desired < min {
        reason = Reason::TooFewReplicas;
        message = "the desired replica count is less than the minimum replica count";
        return (min, reason, message);
    }
    if desired > maximum {
        return (maximum, reason, message);
    }
    (
        desired,
        Reason::DesiredWithinRange,
        "the desired count is within the acceptable range",
    )
}

/// `calculateScaleUpLimit`: `max(2 × current, 4)`.
pub fn scale_up_limit_without_behavior(current: i32) -> i32 {
    // int32(math.Max(scaleUpLimitFactor*float64(currentReplicas), scaleUpLimitMinimum))
    super::replicas::ceil_i32(
        (SCALE_UP_LIMIT_FACTOR * f64::from(current))
            .max(SCALE_UP_LIMIT_MINIMUM)
            .trunc(),
    )
}

/// `normalizeDesiredReplicasWithBehaviors`.
pub(crate) fn normalize_with_behavior(
    state: &mut HpaState,
    behavior: &Behavior,
    current: i32,
    prenormalized: i32,
    min: i32,
    max: i32,
    now: Timestamp,
) -> Normalized {
    // stabilizeRecommendationWithBehaviors.
    let up_cut = cutoff(
        now,
        i64::from(behavior.scale_up.stabilization_window_seconds),
    );
    let down_cut = cutoff(
        now,
        i64::from(behavior.scale_down.stabilization_window_seconds),
    );
    let (mut up_rec, mut down_rec) = (prenormalized, prenormalized);
    for r in &state.recommendations {
        if ms(r.at) > up_cut {
            up_rec = up_rec.min(r.replicas);
        }
        if ms(r.at) > down_cut {
            down_rec = down_rec.max(r.replicas);
        }
    }
    let stabilized = current.max(up_rec).min(down_rec);
    state
        .recommendations
        .retain(|r| !(ms(r.at) < up_cut && ms(r.at) < down_cut));
    state.recommendations.push(TimestampedRecommendation {
        replicas: prenormalized,
        at: now,
    });

    let able_to_scale = if stabilized != prenormalized {
        if prenormalized >= current {
            Condition::new(
                ConditionType::AbleToScale,
                true,
                Reason::ScaleUpStabilized,
                "recent recommendations were lower than current one, applying the lowest recent recommendation",
            )
        } else {
            Condition::new(
                ConditionType::AbleToScale,
                true,
                Reason::ScaleDownStabilized,
                "recent recommendations were higher than current one, applying the highest recent recommendation",
            )
        }
    } else {
        Condition::new(
            ConditionType::AbleToScale,
            true,
            Reason::ReadyForNewScale,
            "recommended size matches current size",
        )
    };

    let (desired, reason, message) =
        convert_with_behavior_rate(state, behavior, current, stabilized, min, max, now);
    Normalized {
        desired,
        able_to_scale,
        scaling_limited: Condition::new(
            ConditionType::ScalingLimited,
            desired != stabilized,
            reason,
            message,
        ),
    }
}

/// `convertDesiredReplicasWithBehaviorRate`.
fn convert_with_behavior_rate(
    state: &HpaState,
    b: &Behavior,
    current: i32,
    desired: i32,
    min: i32,
    max: i32,
    now: Timestamp,
) -> (i32, Reason, &'static str) {
    let (up, down) = (&state.scale_up_events, &state.scale_down_events);
    if desired > current {
        // Never below current: no further scale-up until old events leave the period.
        let limit = scale_up_limit(current, up, down, &b.scale_up, now).max(current);
        let (maximum, reason, message) = if max > limit {
            (
                limit,
                Reason::ScaleUpLimit,
                "the desired replica count is increasing faster than the maximum scale rate",
            )
        } else {
            (
                max,
                Reason::TooManyReplicas,
                "the desired replica count is more than the maximum replica count",
            )
        };
        if desired > maximum {
            return (maximum, reason, message);
        }
    } else if desired < current {
        let limit = scale_down_limit(current, up, down, &b.scale_down, now).min(current);
        let (minimum, reason, message) = if min < limit {
            (
                limit,
                Reason::ScaleDownLimit,
                "the desired replica count is decreasing faster than the maximum scale rate",
            )
        } else {
            (
                min,
                Reason::TooFewReplicas,
                "the desired replica count is less than the minimum replica count",
            )
        };
        if desired < minimum {
            return (minimum, reason, message);
        }
    }
    (
        desired,
        Reason::DesiredWithinRange,
        "the desired count is within the acceptable range",
    )
}
