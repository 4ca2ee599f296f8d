//! `Engine`'s guarded remediation and operations agent: plan (dry run) or request an action,
//! approve pending ones, read the audit trail, set the policy, ask the agent. Actions and
//! results cross as JSON text; the policy and the agent's options as records.

use hxb_bindings_common::ai;
use serde_json::Value;

use crate::engine::{Engine, run, texts};
use crate::error::{Res, guard};

/// The remediation policy (`setRemediationPolicy`: unset fields take the defaults).
#[derive(Debug, Clone, Default, PartialEq, uniffi::Record)]
pub struct RemediationPolicy {
    /// Action kinds run without approval (`"restart"`, `"scale"`, `"rollback_function"`,
    /// `"raise_quota"`, `"cordon_node"`); default none.
    #[uniffi(default = None)]
    pub automatic: Option<Vec<String>>,
    /// Pods disrupted per hour, everything together (default 20).
    #[uniffi(default = None)]
    pub max_pods_per_hour: Option<u32>,
    /// Fraction of one workload's pods disrupted per hour (default 1).
    #[uniffi(default = None)]
    pub max_workload_fraction_per_hour: Option<f64>,
    /// Largest scale-up factor (default 2).
    #[uniffi(default = None)]
    pub max_scale_up_factor: Option<f64>,
    /// Whether an approver must be someone other than the requester (default true).
    #[uniffi(default = None)]
    pub four_eyes: Option<bool>,
}

/// How `ask` runs the agent.
#[derive(Debug, Clone, Default, PartialEq, uniffi::Record)]
pub struct AskOptions {
    /// `"offline"` (default: no model), `"openai"` (an OpenAI-compatible endpoint) or
    /// `"ollama"`.
    #[uniffi(default = None)]
    pub provider: Option<String>,
    /// The endpoint (`openai`: required; `ollama`: default `http://127.0.0.1:11434`).
    #[uniffi(default = None)]
    pub base_url: Option<String>,
    /// The model (`openai`, `ollama`).
    #[uniffi(default = None)]
    pub model: Option<String>,
    /// Bearer token (`openai`).
    #[uniffi(default = None)]
    pub api_key: Option<String>,
    /// Namespaces the agent may look at (default: every project namespace whose pods the
    /// caller may list).
    #[uniffi(default = None)]
    pub namespaces: Option<Vec<String>>,
    /// Write tools: `"off"` (default), `"dry_run"` or `"request"`.
    #[uniffi(default = None)]
    pub write: Option<String>,
    /// HTTP provider timeout in seconds (default 60).
    #[uniffi(default = None)]
    pub timeout_seconds: Option<f64>,
    /// Tool calls per question (default 8).
    #[uniffi(default = None)]
    pub max_tool_calls: Option<u32>,
}

#[uniffi::export(async_runtime = "tokio")]
impl Engine {
    /// Plan a remediation as `subject` (a dry run unless `apply`); `actionJson` is e.g.
    /// `{"action": "restart", "namespace": …, "name": …}`. Returns the guard's result as JSON
    /// (`decision`, `description`, `disrupted_pods`, `action`, `pending`).
    #[uniffi::method(default(apply = false))]
    pub async fn remediate(
        &self,
        subject: String,
        action_json: String,
        apply: bool,
    ) -> Res<String> {
        let e = self.engine.clone();
        let action: Value = serde_json::from_str(&action_json)
            .map_err(|err| hxb::Error::invalid("action", format!("not JSON: {err}")))?;
        run(async move { ai::remediate(&e, &subject, action, apply).await })
            .await
            .map(|v| v.to_string())
    }

    /// Approve a pending remediation as `approver`, running it through the guard again;
    /// the result as JSON.
    pub async fn approve_remediation(&self, id: String, approver: String) -> Res<String> {
        let e = self.engine.clone();
        run(async move { ai::approve_remediation(&e, &id, &approver).await })
            .await
            .map(|v| v.to_string())
    }

    /// Decline a pending remediation as `who` (the requester, or someone with the action's
    /// rights); the removed record as JSON.
    pub async fn reject_remediation(&self, id: String, who: String) -> Res<String> {
        let e = self.engine.clone();
        run(async move { ai::reject_remediation(&e, &id, &who).await })
            .await
            .map(|v| v.to_string())
    }

    /// Remediations waiting for approval, oldest first (JSON each).
    pub async fn pending_remediations(&self) -> Res<Vec<String>> {
        let e = self.engine.clone();
        run(async move { ai::pending_remediations(&e).await })
            .await
            .map(texts)
    }

    /// The remediation entries of the audit log (the last `limit`, default 100), oldest
    /// first (JSON each).
    #[uniffi::method(default(limit = None))]
    pub async fn remediation_audit(&self, limit: Option<u32>) -> Res<Vec<String>> {
        let e = self.engine.clone();
        run(async move { ai::remediation_audit(&e, limit.map(u64::from)).await })
            .await
            .map(texts)
    }

    /// Replace the remediation policy (unset fields take the defaults).
    pub fn set_remediation_policy(&self, policy: RemediationPolicy) -> Res<()> {
        let o = ai::PolicyOptions {
            automatic: policy.automatic,
            max_pods_per_hour: policy.max_pods_per_hour,
            max_workload_fraction_per_hour: policy.max_workload_fraction_per_hour,
            max_scale_up_factor: policy.max_scale_up_factor,
            four_eyes: policy.four_eyes,
        };
        guard(|| ai::set_remediation_policy(&self.engine, o))
    }

    /// The remediation policy in force (every field set).
    pub fn remediation_policy(&self) -> Res<RemediationPolicy> {
        let p = guard(|| ai::remediation_policy(&self.engine))?;
        Ok(RemediationPolicy {
            automatic: p.automatic,
            max_pods_per_hour: p.max_pods_per_hour,
            max_workload_fraction_per_hour: p.max_workload_fraction_per_hour,
            max_scale_up_factor: p.max_scale_up_factor,
            four_eyes: p.four_eyes,
        })
    }

    /// Ask the operations agent a question as `subject`; the answer as JSON (`text`,
    /// `tool_calls`, `stop`, `truncated`, `pending`).
    #[uniffi::method(default(options = None))]
    pub async fn ask(
        &self,
        subject: String,
        question: String,
        options: Option<AskOptions>,
    ) -> Res<String> {
        let e = self.engine.clone();
        let o = options.unwrap_or_default();
        let opts = ai::AskOptions {
            provider: o.provider,
            base_url: o.base_url,
            model: o.model,
            api_key: o.api_key,
            namespaces: o.namespaces,
            write: o.write,
            timeout_secs: o.timeout_seconds,
            max_tool_calls: o.max_tool_calls,
        };
        run(async move { ai::ask(&e, &subject, &question, &opts).await })
            .await
            .map(|v| v.to_string())
    }
}
