//! Status conditions with upstream's reasons and messages.

use serde::{Deserialize, Serialize};

/// The condition types of `HorizontalPodAutoscalerStatus`.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConditionType {
    /// Whether the autoscaler can fetch and update the target's scale, and whether
    /// stabilization or backoff holds it back.
    AbleToScale,
    /// Whether metrics could be turned into a replica count.
    ScalingActive,
    /// Whether the desired count was clamped by min/max or a rate limit.
    ScalingLimited,
}

impl ConditionType {
    /// The Kubernetes name, e.g. `AbleToScale`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ConditionType::AbleToScale => "AbleToScale",
            ConditionType::ScalingActive => "ScalingActive",
            ConditionType::ScalingLimited => "ScalingLimited",
        }
    }
}

/// The reasons the controller sets (`horizontal.go`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Reason {
    /// AbleToScale: the scale subresource was read.
    SucceededGetScale,
    /// AbleToScale: a new replica count is to be written.
    SucceededRescale,
    /// AbleToScale: the recommendation needed no stabilization.
    ReadyForNewScale,
    /// AbleToScale: a scale-up was held back by lower recent recommendations.
    ScaleUpStabilized,
    /// AbleToScale: a scale-down was held back by higher recent recommendations.
    ScaleDownStabilized,
    /// ScalingActive: at least one metric produced a proposal.
    ValidMetricFound,
    /// ScalingActive: the target has zero replicas and minReplicas is not zero.
    ScalingDisabled,
    /// ScalingActive: a resource metric failed.
    FailedGetResourceMetric,
    /// ScalingActive: a container resource metric failed.
    FailedGetContainerResourceMetric,
    /// ScalingActive: a pods metric failed.
    FailedGetPodsMetric,
    /// ScalingActive: an object metric failed.
    FailedGetObjectMetric,
    /// ScalingActive: an external metric failed.
    FailedGetExternalMetric,
    /// ScalingLimited: raised to minReplicas.
    TooFewReplicas,
    /// ScalingLimited: lowered to maxReplicas.
    TooManyReplicas,
    /// ScalingLimited (false): nothing clamped.
    DesiredWithinRange,
    /// ScalingLimited: a scale-up rate limit applied.
    ScaleUpLimit,
    /// ScalingLimited: a scale-down rate limit applied.
    ScaleDownLimit,
}

impl Reason {
    /// The Kubernetes reason string, e.g. `ScaleUpLimit`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::SucceededGetScale => "SucceededGetScale",
            Reason::SucceededRescale => "SucceededRescale",
            Reason::ReadyForNewScale => "ReadyForNewScale",
            Reason::ScaleUpStabilized => "ScaleUpStabilized",
            Reason::ScaleDownStabilized => "ScaleDownStabilized",
            Reason::ValidMetricFound => "ValidMetricFound",
            Reason::ScalingDisabled => "ScalingDisabled",
            Reason::FailedGetResourceMetric => "FailedGetResourceMetric",
            Reason::FailedGetContainerResourceMetric => "FailedGetContainerResourceMetric",
            Reason::FailedGetPodsMetric => "FailedGetPodsMetric",
            Reason::FailedGetObjectMetric => "FailedGetObjectMetric",
            Reason::FailedGetExternalMetric => "FailedGetExternalMetric",
            Reason::TooFewReplicas => "TooFewReplicas",
            Reason::TooManyReplicas => "TooManyReplicas",
            Reason::DesiredWithinRange => "DesiredWithinRange",
            Reason::ScaleUpLimit => "ScaleUpLimit",
            Reason::ScaleDownLimit => "ScaleDownLimit",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One status condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    /// Which condition.
    pub type_: ConditionType,
    /// `True` or `False`.
    pub status: bool,
    /// Machine-readable reason.
    pub reason: Reason,
    /// Human-readable message (upstream's wording).
    pub message: String,
}

impl Condition {
    /// A condition.
    pub fn new(
        type_: ConditionType,
        status: bool,
        reason: Reason,
        message: impl Into<String>,
    ) -> Self {
        Condition {
            type_,
            status,
            reason,
            message: message.into(),
        }
    }
}

/// Set `c` in `list`, replacing the condition of the same type (upstream `setConditionInList`).
pub(crate) fn set(list: &mut Vec<Condition>, c: Condition) {
    match list.iter_mut().find(|x| x.type_ == c.type_) {
        Some(x) => *x = c,
        None => list.push(c),
    }
}
