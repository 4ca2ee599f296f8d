//! Plain-data forms of guarded remediation and the operations agent: actions, results,
//! pending approvals and audit records as JSON, the policy and the agent's options as flat
//! optional fields every binding fills from its own argument style.
//!
//! Every function forwards to one facade call ([`Engine::remediate`],
//! [`Engine::approve_remediation`], [`Engine::reject_remediation`],
//! [`Engine::pending_remediations`],
//! [`Engine::remediation_audit`], [`Engine::set_remediation_policy`], [`Engine::ask`]).

use std::time::Duration;

use hxb::remediation::{
    Action, ActionKind, AgentOptions, Policy, Provider, ProviderOptions, WriteMode,
};
use hxb::{Engine, Error, Result};
use serde_json::{Value, json};

use crate::platform::json;

/// An action from its JSON form: `{"action": "restart" | "scale" | "rollback_function" |
/// "raise_quota" | "cordon_node", …}` — `namespace` and `name` (and `kind`, default
/// `"Deployment"`) for a restart; also `replicas` for a scale; `namespace`, `function` and
/// optionally `to_version` for a rollback; `namespace` and `add` (`{resource: quantity}`) for
/// a quota raise; `node` for a cordon. Unknown actions or fields are `InvalidInput`.
pub fn action(v: Value) -> Result<Action> {
    let mut v = v;
    let Some(obj) = v.as_object_mut() else {
        return Err(Error::invalid("action", "must be an object"));
    };
    let is_workload = matches!(
        obj.get("action").and_then(Value::as_str),
        Some("restart" | "scale")
    );
    if is_workload && !obj.contains_key("kind") {
        obj.insert("kind".into(), json!("Deployment"));
    }
    let action: Action =
        serde_json::from_value(v).map_err(|e| Error::invalid("action", e.to_string()))?;
    action.validate()?;
    Ok(action)
}

/// [`Engine::remediate`]: a dry run unless `apply`; the result (`decision`, `description`,
/// `disrupted_pods`, `action`, `pending`) as JSON.
pub async fn remediate(engine: &Engine, subject: &str, act: Value, apply: bool) -> Result<Value> {
    let act = action(act)?;
    let req = engine.remediate(subject, act);
    json(if apply { req.apply() } else { req }.execute().await?)
}

/// [`Engine::approve_remediation`], the result as JSON.
pub async fn approve_remediation(engine: &Engine, id: &str, approver: &str) -> Result<Value> {
    json(engine.approve_remediation(id, approver).await?)
}

/// [`Engine::reject_remediation`], the removed record as JSON.
pub async fn reject_remediation(engine: &Engine, id: &str, who: &str) -> Result<Value> {
    json(engine.reject_remediation(id, who).await?)
}

/// [`Engine::pending_remediations`], each as JSON.
pub async fn pending_remediations(engine: &Engine) -> Result<Vec<Value>> {
    engine
        .pending_remediations()
        .await?
        .into_iter()
        .map(json)
        .collect()
}

/// [`Engine::remediation_audit`] (default: the last 100 entries), each as JSON.
pub async fn remediation_audit(engine: &Engine, limit: Option<u64>) -> Result<Vec<Value>> {
    let limit = usize::try_from(limit.unwrap_or(100)).unwrap_or(usize::MAX);
    engine
        .remediation_audit(limit)
        .await?
        .into_iter()
        .map(json)
        .collect()
}

/// A remediation policy as flat optional fields; unset fields take [`Policy::default`]'s
/// values (the policy is replaced as a whole).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyOptions {
    /// Action kinds run without approval (`"restart"`, `"scale"`, `"rollback_function"`,
    /// `"raise_quota"`, `"cordon_node"`); default none.
    pub automatic: Option<Vec<String>>,
    /// Pods disrupted per hour, everything together (default 20).
    pub max_pods_per_hour: Option<u32>,
    /// Fraction of one workload's pods disrupted per hour (default 1.0).
    pub max_workload_fraction_per_hour: Option<f64>,
    /// Largest scale-up factor (default 2.0).
    pub max_scale_up_factor: Option<f64>,
    /// Whether an approver must be someone other than the requester (default true).
    pub four_eyes: Option<bool>,
}

fn action_kind(s: &str) -> Result<ActionKind> {
    serde_json::from_value(json!(s)).map_err(|_| {
        Error::invalid(
            "automatic",
            format!(
                "{s:?} is not an action kind (restart, scale, rollback_function, raise_quota, cordon_node)"
            ),
        )
    })
}

/// [`Engine::set_remediation_policy`] from flat fields. An unknown action kind or a limit that
/// is not a finite, non-negative number is `InvalidInput` and the policy stays.
pub fn set_remediation_policy(engine: &Engine, o: PolicyOptions) -> Result<()> {
    let d = Policy::default();
    let kinds = o
        .automatic
        .unwrap_or_default()
        .iter()
        .map(|s| action_kind(s))
        .collect::<Result<Vec<_>>>()?;
    let mut p = Policy::default().automatic(kinds);
    p.max_pods_per_hour = o.max_pods_per_hour.unwrap_or(d.max_pods_per_hour);
    p.max_workload_fraction_per_hour = o
        .max_workload_fraction_per_hour
        .unwrap_or(d.max_workload_fraction_per_hour);
    p.max_scale_up_factor = o.max_scale_up_factor.unwrap_or(d.max_scale_up_factor);
    p.four_eyes = o.four_eyes.unwrap_or(d.four_eyes);
    engine.set_remediation_policy(p)
}

/// The policy in force, as the flat fields (every one set).
pub fn remediation_policy(engine: &Engine) -> Result<PolicyOptions> {
    let p = engine.remediation_policy()?;
    let automatic = p
        .automatic
        .iter()
        .map(|k| json(k).map(|v| v.as_str().unwrap_or_default().to_owned()))
        .collect::<Result<Vec<_>>>()?;
    Ok(PolicyOptions {
        automatic: Some(automatic),
        max_pods_per_hour: Some(p.max_pods_per_hour),
        max_workload_fraction_per_hour: Some(p.max_workload_fraction_per_hour),
        max_scale_up_factor: Some(p.max_scale_up_factor),
        four_eyes: Some(p.four_eyes),
    })
}

/// The agent's options as flat optional fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AskOptions {
    /// `"offline"` (default), `"openai"` (an OpenAI-compatible endpoint) or `"ollama"`
    /// (these four fields are the facade's [`ProviderOptions`]).
    pub provider: Option<String>,
    /// The endpoint (`openai`: required; `ollama`: default `http://127.0.0.1:11434`).
    pub base_url: Option<String>,
    /// The model (required for `openai` and `ollama`).
    pub model: Option<String>,
    /// Bearer token (`openai`).
    pub api_key: Option<String>,
    /// Namespaces the agent may look at (default: every project namespace whose pods the
    /// caller may list).
    pub namespaces: Option<Vec<String>>,
    /// Write tools: `"off"` (default, read-only), `"dry_run"` or `"request"` (through the
    /// remediation guard; non-automatic actions become pending approvals).
    pub write: Option<String>,
    /// HTTP provider timeout in seconds (default 60).
    pub timeout_secs: Option<f64>,
    /// Tool calls per question (default 8).
    pub max_tool_calls: Option<u32>,
}

impl AskOptions {
    /// The facade's [`AgentOptions`]; `InvalidInput` for an unknown provider or write mode,
    /// a missing model or URL, options the provider does not take, or a bad timeout.
    pub fn to_agent_options(&self) -> Result<AgentOptions> {
        // the facade's one parser of provider options
        let provider = Provider::try_from(ProviderOptions {
            provider: self.provider.clone(),
            base_url: self.base_url.clone(),
            model: self.model.clone(),
            api_key: self.api_key.clone(),
        })?;
        let write = match self.write.as_deref().unwrap_or("off") {
            "off" => WriteMode::Off,
            "dry_run" => WriteMode::DryRun,
            "request" => WriteMode::Request,
            other => {
                return Err(Error::invalid(
                    "write",
                    format!("{other:?} is not off, dry_run or request"),
                ));
            }
        };
        let mut o = AgentOptions::new().provider(provider).write_mode(write);
        if let Some(ns) = &self.namespaces {
            o = o.namespaces(ns.iter().cloned());
        }
        if let Some(t) = self.timeout_secs {
            let t = Duration::try_from_secs_f64(t).ok().filter(|d| !d.is_zero());
            o = o.timeout(t.ok_or_else(|| {
                Error::invalid("timeout", "must be a positive, finite number of seconds")
            })?);
        }
        if let Some(n) = self.max_tool_calls {
            o = o.max_tool_calls(n as usize);
        }
        Ok(o)
    }
}

/// [`Engine::ask`]: the answer (`text`, `tool_calls`, `truncated`, `stop`, `pending`) as JSON.
pub async fn ask(engine: &Engine, subject: &str, question: &str, o: &AskOptions) -> Result<Value> {
    let opts = o.to_agent_options()?;
    json(engine.ask(subject, question, &opts).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_from_json() {
        let a = action(json!({"action": "restart", "namespace": "ns", "name": "api"})).unwrap();
        assert_eq!(a.to_string(), "restart Deployment ns/api");
        let a = action(json!({"action": "raise_quota", "namespace": "ns",
            "add": {"requests.cpu": "1"}}))
        .unwrap();
        assert_eq!(a.kind(), ActionKind::RaiseQuota);
        for bad in [
            json!("restart"),
            json!({"action": "reboot", "node": "n"}),
            json!({"action": "scale", "namespace": "ns", "name": "api", "replicas": -1}),
            json!({"action": "restart", "namespace": "NS!", "name": "api"}),
            json!({"action": "raise_quota", "namespace": "ns", "add": {"cpu": "lots"}}),
        ] {
            assert_eq!(
                action(bad.clone()).unwrap_err().kind(),
                hxb::ErrorKind::InvalidInput,
                "{bad}"
            );
        }
    }

    #[test]
    fn policy_round_trip_and_bad_values() {
        let e = Engine::embedded().unwrap();
        let o = PolicyOptions {
            automatic: Some(vec!["scale".into()]),
            max_pods_per_hour: Some(3),
            ..PolicyOptions::default()
        };
        set_remediation_policy(&e, o).unwrap();
        let p = remediation_policy(&e).unwrap();
        assert_eq!(p.automatic, Some(vec!["scale".to_owned()]));
        assert_eq!(p.max_pods_per_hour, Some(3));
        assert_eq!(p.max_scale_up_factor, Some(2.0));
        for bad in [
            PolicyOptions {
                automatic: Some(vec!["reboot".into()]),
                ..PolicyOptions::default()
            },
            PolicyOptions {
                max_scale_up_factor: Some(f64::INFINITY),
                ..PolicyOptions::default()
            },
        ] {
            let err = set_remediation_policy(&e, bad).unwrap_err();
            assert_eq!(err.kind(), hxb::ErrorKind::InvalidInput);
        }
        assert_eq!(remediation_policy(&e).unwrap(), p);
    }

    #[test]
    fn ask_options() {
        assert!(AskOptions::default().to_agent_options().is_ok());
        for bad in [
            AskOptions {
                provider: Some("gpt".into()),
                ..AskOptions::default()
            },
            AskOptions {
                provider: Some("openai".into()),
                model: Some("m".into()),
                ..AskOptions::default()
            },
            AskOptions {
                model: Some("m".into()),
                ..AskOptions::default()
            },
            AskOptions {
                write: Some("yes".into()),
                ..AskOptions::default()
            },
            AskOptions {
                timeout_secs: Some(f64::NAN),
                ..AskOptions::default()
            },
        ] {
            let err = bad.to_agent_options().unwrap_err();
            assert_eq!(err.kind(), hxb::ErrorKind::InvalidInput, "{bad:?}");
        }
    }
}
