//! LLM providers for the hxb agent: one [`LlmProvider`] trait, an OpenAI-compatible
//! chat-completions client and an Ollama client (both with tool calling and streaming
//! ([`LlmProvider::chat_stream`]: server-sent events / newline-delimited JSON), over reqwest), and a
//! deterministic [`OfflineProvider`] so everything runs without a model.
//!
//! Failures map onto [`hxb_core::Error`] kinds: HTTP 429 and 5xx are `Unavailable` (a 429
//! carries a [`RateLimited`] source with the server's `Retry-After`; the clients retry up to
//! [`HttpConfig::max_retries`] times when that wait is short), timeouts are `Timeout`, a reply
//! that is not the expected JSON, has malformed tool arguments or calls a tool that was not
//! offered is `Backend`.

mod http;
mod offline;
mod stream;
mod types;

pub use http::{HttpConfig, OllamaProvider, OpenAiProvider, RateLimited};
pub use offline::OfflineProvider;
pub use stream::StreamDelta;
pub use types::{ChatRequest, ChatResponse, Message, Role, ToolCall, ToolSpec};

use hxb_core::Result;

/// A chat model that may answer with text or with tool calls.
#[async_trait::async_trait]
pub trait LlmProvider: Send + Sync {
    /// A short name for logs, e.g. `"openai:gpt-4o-mini"`.
    fn name(&self) -> String;
    /// Sends the conversation and returns the assistant's reply.
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse>;

    /// Like [`chat`](Self::chat), but hands each piece of the reply to `on_delta` as it
    /// arrives (text as it is generated, tool calls as they start) and returns the same
    /// validated [`ChatResponse`] at the end. Providers without streaming deliver the whole
    /// reply as one delta.
    async fn chat_stream(
        &self,
        request: &ChatRequest,
        on_delta: &mut (dyn FnMut(StreamDelta) + Send),
    ) -> Result<ChatResponse> {
        let response = self.chat(request).await?;
        if !response.message.content.is_empty() {
            on_delta(StreamDelta::Text(response.message.content.clone()));
        }
        for call in &response.message.tool_calls {
            on_delta(StreamDelta::ToolCall {
                name: call.name.clone(),
            });
        }
        Ok(response)
    }
}

/// Checks that every tool call names an offered tool (`Backend` error otherwise).
pub(crate) fn check_tools(request: &ChatRequest, response: &ChatResponse) -> Result<()> {
    for call in &response.message.tool_calls {
        if !request.tools.iter().any(|t| t.name == call.name) {
            return Err(hxb_core::Error::backend(
                "llm reply",
                format!("model called unknown tool `{}`", call.name),
            ));
        }
    }
    Ok(())
}
