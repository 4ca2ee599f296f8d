//! `Engine`'s guarded remediation and operations agent: plan (dry run) or request an action,
//! approve pending ones, read the audit trail, set the policy, ask the agent. Actions and
//! results cross as plain objects.

use hxb_bindings_common::ai;
use napi::Env;
use napi::bindgen_prelude::PromiseRaw;
use napi_derive::napi;
use serde_json::Value;

use crate::engine::{Engine, promise};
use crate::errors::guard;
use crate::values::int_in;

/// Options of `remediate`.
#[napi(object)]
#[derive(Default)]
pub struct RemediateOptions {
    /// Really do it (default false: a dry run). Actions the policy does not run automatically
    /// become pending approvals.
    pub apply: Option<bool>,
}

/// Options of `remediationAudit`.
#[napi(object)]
#[derive(Default)]
pub struct AuditOptions {
    /// The last this many entries (default 100).
    pub limit: Option<f64>,
}

/// The remediation policy (`setRemediationPolicy`: unset fields take the defaults).
#[napi(object)]
#[derive(Default)]
pub struct RemediationPolicy {
    /// Action kinds run without approval (`"restart"`, `"scale"`, `"rollback_function"`,
    /// `"raise_quota"`, `"cordon_node"`); default none.
    pub automatic: Option<Vec<String>>,
    /// Pods disrupted per hour, everything together (default 20).
    pub max_pods_per_hour: Option<f64>,
    /// Fraction of one workload's pods disrupted per hour (default 1).
    pub max_workload_fraction_per_hour: Option<f64>,
    /// Largest scale-up factor (default 2).
    pub max_scale_up_factor: Option<f64>,
    /// Whether an approver must be someone other than the requester (default true).
    pub four_eyes: Option<bool>,
}

/// Options of `ask`.
#[napi(object)]
#[derive(Default)]
pub struct AskOptions {
    /// `"offline"` (default: no model), `"openai"` (an OpenAI-compatible endpoint) or
    /// `"ollama"`.
    pub provider: Option<String>,
    /// The endpoint (`openai`: required; `ollama`: default `http://127.0.0.1:11434`).
    pub base_url: Option<String>,
    /// The model (`openai`, `ollama`).
    pub model: Option<String>,
    /// Bearer token (`openai`).
    pub api_key: Option<String>,
    /// Namespaces the agent may look at (default: every project namespace whose pods the
    /// caller may list).
    pub namespaces: Option<Vec<String>>,
    /// Write tools: `"off"` (default), `"dryRun"`/`"dry_run"` or `"request"`.
    pub write: Option<String>,
    /// HTTP provider timeout in seconds (default 60).
    pub timeout_seconds: Option<f64>,
    /// Tool calls per question (default 8).
    pub max_tool_calls: Option<f64>,
}

#[napi]
impl Engine {
    /// Plan a remediation as `subject` (a dry run unless `{apply: true}`); resolves to the
    /// guard's result (`decision`, `description`, `disrupted_pods`, `action`, `pending`).
    #[napi(ts_return_type = "Promise<any>")]
    pub fn remediate<'env>(
        &self,
        env: &'env Env,
        subject: String,
        action: Value,
        options: Option<RemediateOptions>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        let apply = options.and_then(|o| o.apply).unwrap_or(false);
        promise(env, async move {
            ai::remediate(&e, &subject, action, apply).await
        })
    }

    /// Approve a pending remediation as `approver`, running it through the guard again.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn approve_remediation<'env>(
        &self,
        env: &'env Env,
        id: String,
        approver: String,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        promise(env, async move {
            ai::approve_remediation(&e, &id, &approver).await
        })
    }

    /// Decline a pending remediation as `who` (the requester, or someone with the action's
    /// rights); the removed record.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn reject_remediation<'env>(
        &self,
        env: &'env Env,
        id: String,
        who: String,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        promise(
            env,
            async move { ai::reject_remediation(&e, &id, &who).await },
        )
    }

    /// Remediations waiting for approval, oldest first.
    #[napi(ts_return_type = "Promise<Array<any>>")]
    pub fn pending_remediations<'env>(
        &self,
        env: &'env Env,
    ) -> napi::Result<PromiseRaw<'env, Vec<Value>>> {
        let e = self.engine.clone();
        promise(env, async move { ai::pending_remediations(&e).await })
    }

    /// The remediation entries of the audit log (the last `limit`, default 100), oldest first.
    #[napi(ts_return_type = "Promise<Array<any>>")]
    pub fn remediation_audit<'env>(
        &self,
        env: &'env Env,
        options: Option<AuditOptions>,
    ) -> napi::Result<PromiseRaw<'env, Vec<Value>>> {
        let e = self.engine.clone();
        let limit = int_in(options.and_then(|o| o.limit), "limit")?;
        promise(env, async move { ai::remediation_audit(&e, limit).await })
    }

    /// Replace the remediation policy (synchronous; unset fields take the defaults).
    #[napi]
    pub fn set_remediation_policy(&self, policy: RemediationPolicy) -> napi::Result<()> {
        let o = ai::PolicyOptions {
            automatic: policy.automatic,
            max_pods_per_hour: int_in(policy.max_pods_per_hour, "maxPodsPerHour")?,
            max_workload_fraction_per_hour: policy.max_workload_fraction_per_hour,
            max_scale_up_factor: policy.max_scale_up_factor,
            four_eyes: policy.four_eyes,
        };
        guard(|| ai::set_remediation_policy(&self.engine, o))
    }

    /// The remediation policy in force (synchronous).
    #[napi]
    pub fn remediation_policy(&self) -> napi::Result<RemediationPolicy> {
        let p = guard(|| ai::remediation_policy(&self.engine))?;
        Ok(RemediationPolicy {
            automatic: p.automatic,
            max_pods_per_hour: p.max_pods_per_hour.map(f64::from),
            max_workload_fraction_per_hour: p.max_workload_fraction_per_hour,
            max_scale_up_factor: p.max_scale_up_factor,
            four_eyes: p.four_eyes,
        })
    }

    /// Ask the operations agent a question as `subject`; resolves to the answer (`text`,
    /// `tool_calls`, `stop`, `truncated`, `pending`).
    #[napi(ts_return_type = "Promise<any>")]
    pub fn ask<'env>(
        &self,
        env: &'env Env,
        subject: String,
        question: String,
        options: Option<AskOptions>,
    ) -> napi::Result<PromiseRaw<'env, Value>> {
        let e = self.engine.clone();
        let o = options.unwrap_or_default();
        let opts = ai::AskOptions {
            provider: o.provider,
            base_url: o.base_url,
            model: o.model,
            api_key: o.api_key,
            namespaces: o.namespaces,
            write: o
                .write
                .map(|w| if w == "dryRun" { "dry_run".into() } else { w }),
            timeout_secs: o.timeout_seconds,
            max_tool_calls: int_in(o.max_tool_calls, "maxToolCalls")?,
        };
        promise(
            env,
            async move { ai::ask(&e, &subject, &question, &opts).await },
        )
    }
}
