//! The operations agent over the engine: hxb-ai's [`Agent`] with the engine's cluster as its
//! tools, the tenancy's RBAC for every read and the engine's remediation guard for every
//! write, and a provider chosen by plain configuration.

use std::sync::Arc;
use std::time::Duration;

use hxb_ai::agent::{Agent, AgentAnswer, WriteMode};
use hxb_ai::llm::{HttpConfig, LlmProvider, OfflineProvider, OllamaProvider, OpenAiProvider};
use hxb_ai::remediate::{Authorizer, Outcome};
use hxb_core::{Error, Result, Subject};
use serde::{Deserialize, Serialize};

use super::{Decision, TenancyAuthorizer, pending};
use crate::Engine;

/// The model behind the agent.
///
/// Plain configuration: it deserialises from its [`ProviderOptions`] (`{"provider": "openai",
/// "base_url": …, "model": …}`), the one place provider options are parsed.
#[non_exhaustive]
#[derive(Clone, Default, PartialEq, Deserialize)]
#[serde(try_from = "ProviderOptions")]
pub enum Provider {
    /// hxb-ai's deterministic [`OfflineProvider`]: no model, no network (the default). It
    /// calls the tool named in the question, else `analyze`, and summarises the findings.
    #[default]
    Offline,
    /// An OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, llama.cpp server, …).
    OpenAi {
        /// Base URL, e.g. `https://api.openai.com/v1`.
        base_url: String,
        /// Model name.
        model: String,
        /// Bearer token.
        api_key: Option<String>,
    },
    /// An Ollama server.
    Ollama {
        /// Base URL (default [`OLLAMA_URL`]).
        base_url: String,
        /// Model name, e.g. `llama3.1`.
        model: String,
    },
}

/// Where [`Provider::Ollama`] looks without a `base_url`.
pub const OLLAMA_URL: &str = "http://127.0.0.1:11434";

/// A [`Provider`] as flat optional fields, the way configuration files and the language
/// bindings carry it; [`Provider::try_from`] turns it into one (and [`Provider`] deserialises
/// through it, unknown fields refused).
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderOptions {
    /// `"offline"` (the default), `"openai"` (an OpenAI-compatible endpoint) or `"ollama"`.
    pub provider: Option<String>,
    /// The endpoint (`openai`: required; `ollama`: default [`OLLAMA_URL`]).
    pub base_url: Option<String>,
    /// The model (required for `openai` and `ollama`).
    pub model: Option<String>,
    /// Bearer token (`openai` only).
    pub api_key: Option<String>,
}

impl std::fmt::Debug for ProviderOptions {
    // Never prints the API key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderOptions")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl TryFrom<ProviderOptions> for Provider {
    type Error = Error;

    /// `InvalidInput` for an unknown provider, a missing model or URL, or an option the
    /// provider does not take. (Empty strings are refused when the agent is built.)
    fn try_from(o: ProviderOptions) -> Result<Provider> {
        let required = |v: Option<String>, field: &str| {
            v.ok_or_else(|| Error::invalid(field, "required for this provider"))
        };
        Ok(match o.provider.as_deref().unwrap_or("offline") {
            "offline" => {
                if o.base_url.is_some() || o.model.is_some() || o.api_key.is_some() {
                    return Err(Error::invalid(
                        "provider",
                        "the offline provider takes no base_url, model or api_key",
                    ));
                }
                Provider::Offline
            }
            "openai" => Provider::OpenAi {
                base_url: required(o.base_url, "base_url")?,
                model: required(o.model, "model")?,
                api_key: o.api_key,
            },
            "ollama" => {
                if o.api_key.is_some() {
                    return Err(Error::invalid("api_key", "Ollama takes no API key"));
                }
                Provider::Ollama {
                    base_url: o.base_url.unwrap_or_else(|| OLLAMA_URL.into()),
                    model: required(o.model, "model")?,
                }
            }
            other => {
                return Err(Error::invalid(
                    "provider",
                    format!("{other:?} is not offline, openai or ollama"),
                ));
            }
        })
    }
}

impl std::fmt::Debug for Provider {
    // Never prints the API key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Provider::Offline => f.write_str("Offline"),
            Provider::OpenAi {
                base_url,
                model,
                api_key,
            } => f
                .debug_struct("OpenAi")
                .field("base_url", base_url)
                .field("model", model)
                .field("api_key", &api_key.as_ref().map(|_| "<redacted>"))
                .finish(),
            Provider::Ollama { base_url, model } => f
                .debug_struct("Ollama")
                .field("base_url", base_url)
                .field("model", model)
                .finish(),
        }
    }
}

impl Provider {
    fn build(&self, timeout: Option<Duration>) -> Result<Arc<dyn LlmProvider>> {
        let http = |base_url: &str, model: &str| {
            if base_url.trim().is_empty() {
                return Err(Error::invalid("base_url", "must not be empty"));
            }
            if model.trim().is_empty() {
                return Err(Error::invalid("model", "must not be empty"));
            }
            // The agent reports unknown tools back to the model instead of failing.
            let c = HttpConfig::new(base_url, model).lenient_tools();
            Ok(match timeout {
                Some(t) => c.timeout(t),
                None => c,
            })
        };
        Ok(match self {
            Provider::Offline => Arc::new(OfflineProvider),
            Provider::OpenAi {
                base_url,
                model,
                api_key,
            } => {
                let c = http(base_url, model)?;
                let c = match api_key {
                    Some(k) => c.api_key(k.clone()),
                    None => c,
                };
                Arc::new(OpenAiProvider::new(c)?)
            }
            Provider::Ollama { base_url, model } => {
                Arc::new(OllamaProvider::new(http(base_url, model)?)?)
            }
        })
    }
}

/// How [`Engine::ask`] runs the agent.
#[non_exhaustive]
#[derive(Debug, Clone, Default)]
pub struct AgentOptions {
    /// The model (default [`Provider::Offline`]).
    pub provider: Provider,
    /// Namespaces the agent may look at (default: every project namespace whose pods the
    /// caller may list). RBAC still applies inside them.
    pub namespaces: Option<Vec<String>>,
    /// Write tools (default [`WriteMode::Off`]: read-only). Writes only ever go through the
    /// engine's remediation guard as the caller; with [`WriteMode::Request`] actions the
    /// policy does not run automatically are recorded as pending approvals.
    pub write: WriteMode,
    /// Whole-request timeout of an HTTP provider (default 60 s).
    pub timeout: Option<Duration>,
    /// Tool calls per question (default 8).
    pub max_tool_calls: Option<usize>,
}

impl AgentOptions {
    /// The defaults: offline provider, read-only, every namespace the caller may read.
    pub fn new() -> Self {
        Self::default()
    }
    /// Use `provider`.
    pub fn provider(mut self, provider: Provider) -> Self {
        self.provider = provider;
        self
    }
    /// Look only at these namespaces.
    pub fn namespaces<S: Into<String>>(mut self, ns: impl IntoIterator<Item = S>) -> Self {
        self.namespaces = Some(ns.into_iter().map(Into::into).collect());
        self
    }
    /// Offer write tools in `mode`.
    pub fn write_mode(mut self, mode: WriteMode) -> Self {
        self.write = mode;
        self
    }
    /// HTTP provider timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
    /// Tool calls per question.
    pub fn max_tool_calls(mut self, n: usize) -> Self {
        self.max_tool_calls = Some(n);
        self
    }
}

/// What [`Engine::ask`] returns: the answer with its tool-call transcript, and the ids of
/// remediations the agent's requests left waiting for approval.
#[derive(Debug, Clone, Serialize)]
pub struct AgentReply {
    /// Text, tool calls, truncation and why the agent stopped.
    #[serde(flatten)]
    pub answer: AgentAnswer,
    /// Pending remediation ids (only with [`WriteMode::Request`]).
    pub pending: Vec<String>,
}

impl Engine {
    /// An agent answering for `subject` (a user as the tenancy knows them) with the engine's
    /// operations as tools: reads checked against the caller's RBAC, writes (if
    /// `options.write` offers any) only through [`remediation_guard`](Self::remediation_guard).
    pub async fn agent(&self, subject: &str, options: &AgentOptions) -> Result<Agent> {
        let subject = Subject::new(subject)?;
        let provider = options.provider.build(options.timeout)?;
        let tenancy = self.tenancy()?;
        let authorizer = TenancyAuthorizer(tenancy.clone());
        let namespaces = match &options.namespaces {
            Some(ns) => ns.clone(),
            None => readable_namespaces(&tenancy, &authorizer, &subject).await?,
        };
        let mut b = Agent::builder(provider, self.cluster()?, subject)
            .authorizer(Arc::new(authorizer))
            .namespaces(namespaces)
            .write_mode(options.write);
        if options.write != WriteMode::Off {
            b = b.guard(self.remediation_guard()?);
        }
        if let Some(n) = options.max_tool_calls {
            b = b.max_tool_calls(n);
        }
        b.build()
    }

    /// Ask the agent a question as `subject`. Provider failures are errors (`Unavailable`,
    /// `Timeout`, `Backend`); tool failures (a refused read, a guard refusal) are in the
    /// transcript and the model sees them.
    pub async fn ask(
        &self,
        subject: &str,
        question: &str,
        options: &AgentOptions,
    ) -> Result<AgentReply> {
        self.telemetry()
            .observe("ask", async {
                if question.trim().is_empty() {
                    return Err(Error::invalid("question", "must not be empty"));
                }
                let agent = self.agent(subject, options).await?;
                let answer = agent.ask(question).await?;
                let requester = Subject::new(subject)?;
                let mut ids = Vec::new();
                for t in &answer.tool_calls {
                    let Some(v) = &t.remediation else { continue };
                    let Ok(outcome) = serde_json::from_value::<OutcomeRecord>(v.clone()) else {
                        continue;
                    };
                    if outcome.decision == "needs_approval" {
                        let o = Outcome {
                            action: outcome.action,
                            decision: Decision::NeedsApproval,
                            disrupted_pods: outcome.disrupted_pods,
                            description: outcome.description,
                        };
                        ids.push(pending::record(self, &requester, &o).await?.id);
                    }
                }
                Ok(AgentReply {
                    answer,
                    pending: ids,
                })
            })
            .await
    }
}

/// The guard's outcome as a write tool returns it.
#[derive(Deserialize)]
struct OutcomeRecord {
    action: hxb_ai::remediate::Action,
    decision: String,
    disrupted_pods: u32,
    description: String,
}

/// Every project namespace whose pods `subject` may list.
async fn readable_namespaces(
    t: &hxb_tenancy::Tenancy,
    authorizer: &TenancyAuthorizer,
    subject: &Subject,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for org in t.organizations().await? {
        let org = org.name.to_string();
        for ws in t.workspaces(&org).await? {
            let ws = ws.name.to_string();
            for p in t.projects(&org, &ws).await? {
                if authorizer
                    .allows(subject, "list", "", "pods", Some(&p.namespace))
                    .await?
                {
                    out.push(p.namespace);
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use hxb_core::ErrorKind;
    use serde_json::json;

    use super::*;

    fn parse(v: serde_json::Value) -> std::result::Result<Provider, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn providers_parse_from_their_options() {
        assert_eq!(parse(json!({})), Ok(Provider::Offline));
        assert_eq!(parse(json!({"provider": "offline"})), Ok(Provider::Offline));
        assert_eq!(
            parse(
                json!({"provider": "openai", "base_url": "http://h/v1", "model": "m",
                "api_key": "k"})
            ),
            Ok(Provider::OpenAi {
                base_url: "http://h/v1".into(),
                model: "m".into(),
                api_key: Some("k".into()),
            })
        );
        assert_eq!(
            parse(json!({"provider": "ollama", "model": "llama3.1"})),
            Ok(Provider::Ollama {
                base_url: OLLAMA_URL.into(),
                model: "llama3.1".into(),
            })
        );
        // the same options through the struct the bindings fill
        let o = ProviderOptions {
            provider: Some("ollama".into()),
            model: Some("llama3.1".into()),
            ..ProviderOptions::default()
        };
        assert_eq!(
            Provider::try_from(o).unwrap(),
            parse(json!({"provider": "ollama", "model": "llama3.1"})).unwrap()
        );
    }

    #[test]
    fn bad_provider_options_are_invalid_input_with_a_reason() {
        for (bad, reason) in [
            (
                json!({"provider": "gpt"}),
                "\"gpt\" is not offline, openai or ollama",
            ),
            (
                json!({"model": "m"}),
                "the offline provider takes no base_url, model or api_key",
            ),
            (
                json!({"provider": "offline", "api_key": "k"}),
                "takes no base_url, model or api_key",
            ),
            (
                json!({"provider": "openai", "model": "m"}),
                "base_url: required for this provider",
            ),
            (
                json!({"provider": "ollama"}),
                "model: required for this provider",
            ),
            (
                json!({"provider": "ollama", "model": "m", "api_key": "k"}),
                "Ollama takes no API key",
            ),
            (
                json!({"provider": "openai", "base_url": "u", "model": "m", "temperature": 1}),
                "unknown field `temperature`",
            ),
        ] {
            let err = parse(bad.clone()).unwrap_err();
            assert!(err.contains(reason), "{bad}: {err}");
        }
        let o = ProviderOptions {
            provider: Some("gpt".into()),
            ..ProviderOptions::default()
        };
        assert_eq!(
            Provider::try_from(o).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }

    #[test]
    fn options_never_print_the_api_key() {
        let o = ProviderOptions {
            provider: Some("openai".into()),
            api_key: Some("sk-secret".into()),
            ..ProviderOptions::default()
        };
        assert!(!format!("{o:?}").contains("sk-secret"));
    }
}
