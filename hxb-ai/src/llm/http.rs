//! OpenAI-compatible and Ollama chat clients over reqwest.

use std::time::Duration;

use hxb_core::{Error, Result};
use serde_json::{Value, json};

use super::stream::{LineBuffer, OllamaStream, OpenAiStream};
use super::{
    ChatRequest, ChatResponse, LlmProvider, Message, Role, StreamDelta, ToolCall, check_tools,
};

/// Connection settings shared by the HTTP providers.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    /// Base URL, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434`.
    pub base_url: String,
    /// Model name.
    pub model: String,
    /// Bearer token (OpenAI-compatible endpoints).
    pub api_key: Option<String>,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Retries after a 429 whose `Retry-After` is at most `max_retry_wait`.
    pub max_retries: u32,
    /// Longest `Retry-After` the client waits for itself.
    pub max_retry_wait: Duration,
    /// Whether a reply calling a tool that was not offered is an error (default `true`).
    /// An agent that reports unknown tools back to the model turns this off.
    pub strict_tools: bool,
}

impl HttpConfig {
    /// Settings for `base_url` and `model`: no key, 60 s timeout, 2 retries of at most 10 s.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        HttpConfig {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            model: model.into(),
            api_key: None,
            timeout: Duration::from_secs(60),
            max_retries: 2,
            max_retry_wait: Duration::from_secs(10),
            strict_tools: true,
        }
    }
    /// Sets the bearer token.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }
    /// Sets the request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// Return calls to tools that were not offered instead of failing (the caller checks).
    pub fn lenient_tools(mut self) -> Self {
        self.strict_tools = false;
        self
    }
    /// Sets the 429 retry policy.
    pub fn retries(mut self, max_retries: u32, max_wait: Duration) -> Self {
        self.max_retries = max_retries;
        self.max_retry_wait = max_wait;
        self
    }
}

/// The source of an `Unavailable` error caused by HTTP 429.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rate limited (HTTP 429), retry after {retry_after:?}")]
pub struct RateLimited {
    /// The server's `Retry-After`, when given in seconds.
    pub retry_after: Option<Duration>,
}

struct Client {
    config: HttpConfig,
    http: reqwest::Client,
}

impl Client {
    fn new(config: HttpConfig) -> Result<Self> {
        hxb_core::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| Error::backend("building the HTTP client", e))?;
        Ok(Client { config, http })
    }

    /// Sends `body` to `path`, retrying short 429s; returns the successful response or the
    /// typed error of a failed one (the body of a failure is read here).
    async fn send(&self, path: &str, body: &Value) -> Result<reqwest::Response> {
        let url = format!("{}{path}", self.config.base_url);
        let mut attempt = 0;
        loop {
            let mut req = self.http.post(&url).json(body);
            if let Some(key) = &self.config.api_key {
                req = req.bearer_auth(key);
            }
            let resp = req.send().await.map_err(|e| map_reqwest(&url, e))?;
            let status = resp.status();
            if status.as_u16() == 429 {
                let retry_after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                if attempt < self.config.max_retries
                    && let Some(wait) = retry_after.filter(|w| *w <= self.config.max_retry_wait)
                {
                    attempt += 1;
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(Error::unavailable(
                    format!("{url}: rate limited"),
                    Some(Box::new(RateLimited { retry_after })),
                ));
            }
            if status.is_success() {
                return Ok(resp);
            }
            let text = resp.text().await.map_err(|e| map_reqwest(&url, e))?;
            if status.is_server_error() {
                return Err(Error::unavailable(format!("{url}: HTTP {status}"), None));
            }
            return Err(Error::backend(
                format!("{url}: HTTP {status}"),
                truncate(&text),
            ));
        }
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Value> {
        let url = format!("{}{path}", self.config.base_url);
        let text = self
            .send(path, body)
            .await?
            .text()
            .await
            .map_err(|e| map_reqwest(&url, e))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::backend(format!("{url}: reply is not JSON"), e))
    }

    /// Posts `body` and feeds each complete line of the streamed reply to `line`.
    async fn post_lines(
        &self,
        path: &str,
        body: &Value,
        line: &mut (dyn FnMut(&str) -> Result<()> + Send),
    ) -> Result<()> {
        let url = format!("{}{path}", self.config.base_url);
        let mut resp = self.send(path, body).await?;
        let mut lines = LineBuffer::default();
        while let Some(chunk) = resp.chunk().await.map_err(|e| map_reqwest(&url, e))? {
            lines.push(&chunk, &mut *line)?;
        }
        lines.finish(line)
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(300).collect()
}

fn map_reqwest(url: &str, e: reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::Timeout {
            operation: format!("POST {url}"),
        }
    } else if e.is_connect() {
        Error::unavailable(format!("{url}: cannot connect"), Some(Box::new(e)))
    } else {
        Error::backend(format!("POST {url}"), e)
    }
}

fn bad_reply(what: &str) -> Error {
    Error::backend("llm reply", what.to_string())
}

fn tools_json(request: &ChatRequest) -> Value {
    Value::Array(
        request
            .tools
            .iter()
            .map(|t| json!({"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}))
            .collect(),
    )
}

/// An OpenAI-compatible `/chat/completions` endpoint (OpenAI, vLLM, llama.cpp server, LiteLLM…).
pub struct OpenAiProvider {
    client: Client,
}

impl OpenAiProvider {
    /// A client for `config.base_url` + `/chat/completions`.
    pub fn new(config: HttpConfig) -> Result<Self> {
        Ok(OpenAiProvider {
            client: Client::new(config)?,
        })
    }

    fn body(&self, request: &ChatRequest) -> Value {
        let messages: Vec<Value> = request
            .messages
            .iter()
            .map(|m| {
                let mut v = json!({"role": m.role.as_str(), "content": m.content});
                if !m.tool_calls.is_empty() {
                    v["tool_calls"] = m
                        .tool_calls
                        .iter()
                        .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments.to_string()}}))
                        .collect();
                }
                if let Some(id) = &m.tool_call_id {
                    v["tool_call_id"] = json!(id);
                }
                v
            })
            .collect();
        let mut body = json!({"model": self.client.config.model, "messages": messages});
        if !request.tools.is_empty() {
            body["tools"] = tools_json(request);
        }
        if let Some(t) = request.temperature {
            body["temperature"] = json!(t);
        }
        body
    }

    /// Parses a whole reply (streamed or not) and, in strict mode, checks its tool calls.
    fn finish(&self, request: &ChatRequest, reply: &Value) -> Result<ChatResponse> {
        let response = parse_openai(reply)?;
        if self.client.config.strict_tools {
            check_tools(request, &response)?;
        }
        Ok(response)
    }
}

/// Parses an OpenAI chat-completions reply.
fn parse_openai(v: &Value) -> Result<ChatResponse> {
    let choice = v
        .get("choices")
        .and_then(|c| c.get(0))
        .ok_or_else(|| bad_reply("no choices"))?;
    let msg = choice
        .get("message")
        .ok_or_else(|| bad_reply("choice without message"))?;
    let mut message = Message::assistant(
        msg.get("content")
            .and_then(Value::as_str)
            .unwrap_or_default(),
    );
    if let Some(calls) = msg.get("tool_calls").and_then(Value::as_array) {
        for (i, c) in calls.iter().enumerate() {
            let f = c
                .get("function")
                .ok_or_else(|| bad_reply("tool call without function"))?;
            let name = f
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| bad_reply("tool call without name"))?;
            let arguments = match f.get("arguments") {
                Some(Value::String(s)) if s.trim().is_empty() => json!({}),
                Some(Value::String(s)) => serde_json::from_str(s).map_err(|e| {
                    Error::backend(format!("arguments of tool call `{name}` are not JSON"), e)
                })?,
                Some(obj @ Value::Object(_)) => obj.clone(),
                None | Some(Value::Null) => json!({}),
                Some(_) => {
                    return Err(bad_reply(
                        "tool arguments are neither a string nor an object",
                    ));
                }
            };
            let id = c
                .get("id")
                .and_then(Value::as_str)
                .map_or_else(|| format!("call_{i}"), str::to_string);
            message.tool_calls.push(ToolCall {
                id,
                name: name.to_string(),
                arguments,
            });
        }
    }
    let finish_reason = choice
        .get("finish_reason")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(ChatResponse {
        message,
        finish_reason,
    })
}

#[async_trait::async_trait]
impl LlmProvider for OpenAiProvider {
    fn name(&self) -> String {
        format!("openai:{}", self.client.config.model)
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse> {
        let reply = self
            .client
            .post("/chat/completions", &self.body(request))
            .await?;
        self.finish(request, &reply)
    }

    async fn chat_stream(
        &self,
        request: &ChatRequest,
        on_delta: &mut (dyn FnMut(StreamDelta) + Send),
    ) -> Result<ChatResponse> {
        let mut body = self.body(request);
        body["stream"] = json!(true);
        let mut acc = OpenAiStream::default();
        self.client
            .post_lines("/chat/completions", &body, &mut |line| {
                acc.line(line, &mut *on_delta)
            })
            .await?;
        self.finish(request, &acc.finish()?)
    }
}

/// An Ollama server (`/api/chat`; streaming replies are newline-delimited JSON).
pub struct OllamaProvider {
    client: Client,
}

impl OllamaProvider {
    /// A client for `config.base_url` + `/api/chat` (e.g. `http://127.0.0.1:11434`).
    pub fn new(config: HttpConfig) -> Result<Self> {
        Ok(OllamaProvider {
            client: Client::new(config)?,
        })
    }
}

#[async_trait::async_trait]
impl LlmProvider for OllamaProvider {
    fn name(&self) -> String {
        format!("ollama:{}", self.client.config.model)
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse> {
        let body = self.body(request, false);
        let reply = self.client.post("/api/chat", &body).await?;
        self.finish(request, &reply)
    }

    async fn chat_stream(
        &self,
        request: &ChatRequest,
        on_delta: &mut (dyn FnMut(StreamDelta) + Send),
    ) -> Result<ChatResponse> {
        let body = self.body(request, true);
        let mut acc = OllamaStream::default();
        self.client
            .post_lines("/api/chat", &body, &mut |line| {
                acc.line(line, &mut *on_delta)
            })
            .await?;
        self.finish(request, &acc.finish()?)
    }
}

impl OllamaProvider {
    fn body(&self, request: &ChatRequest, stream: bool) -> Value {
        let messages: Vec<Value> = request
            .messages
            .iter()
            .map(|m| {
                let mut v = json!({"role": m.role.as_str(), "content": m.content});
                if !m.tool_calls.is_empty() {
                    v["tool_calls"] = m
                        .tool_calls
                        .iter()
                        .map(|c| json!({"function": {"name": c.name, "arguments": c.arguments}}))
                        .collect();
                }
                v
            })
            .collect();
        let mut body =
            json!({"model": self.client.config.model, "messages": messages, "stream": stream});
        if !request.tools.is_empty() {
            body["tools"] = tools_json(request);
        }
        if let Some(t) = request.temperature {
            body["options"] = json!({"temperature": t});
        }
        body
    }

    fn finish(&self, request: &ChatRequest, reply: &Value) -> Result<ChatResponse> {
        // Ollama's reply has the shape of one OpenAI choice, with object arguments and no ids.
        let wrapped = json!({"choices": [{
            "message": reply.get("message").cloned().unwrap_or(Value::Null),
            "finish_reason": reply.get("done_reason").cloned().unwrap_or(Value::Null),
        }]});
        if wrapped["choices"][0]["message"].is_null() {
            return Err(bad_reply("no message"));
        }
        let response = parse_openai(&wrapped)?;
        if self.client.config.strict_tools {
            check_tools(request, &response)?;
        }
        debug_assert!(response.message.role == Role::Assistant);
        Ok(response)
    }
}
