//! A deterministic provider that needs no model.

use hxb_core::Result;

use super::{ChatRequest, ChatResponse, LlmProvider, Message, ToolCall};

/// Answers deterministically: if the last message is from the user and a tool's name appears
/// in it, it calls that tool with `{}` arguments; after a tool result, or otherwise, it replies
/// with a summary that echoes the last message. Same input, same output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OfflineProvider;

#[async_trait::async_trait]
impl LlmProvider for OfflineProvider {
    fn name(&self) -> String {
        "offline".into()
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse> {
        let last = request.messages.last();
        if let Some(m) = last.filter(|m| m.role == super::Role::User) {
            let text = m.content.to_lowercase();
            if let Some(tool) = request
                .tools
                .iter()
                .find(|t| text.contains(&t.name.to_lowercase()))
            {
                let mut reply = Message::assistant("");
                reply.tool_calls.push(ToolCall {
                    id: format!("call_{}", request.messages.len()),
                    name: tool.name.clone(),
                    arguments: serde_json::json!({}),
                });
                return Ok(ChatResponse {
                    message: reply,
                    finish_reason: Some("tool_calls".into()),
                });
            }
        }
        let echo = last.map_or(String::new(), |m| m.content.clone());
        Ok(ChatResponse {
            message: Message::assistant(format!("offline summary: {echo}")),
            finish_reason: Some("stop".into()),
        })
    }
}
