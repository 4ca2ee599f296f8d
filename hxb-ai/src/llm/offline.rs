//! A deterministic provider that needs no model.

use hxb_core::Result;
use serde_json::Value;

use super::{ChatRequest, ChatResponse, LlmProvider, Message, Role, ToolCall};

/// Answers deterministically, so the whole agent runs without a model:
///
/// * after a user message, it calls the first offered tool whose name appears in the message,
///   or else `analyze` when that tool is offered (with `{}` arguments);
/// * after a tool result holding analyzer findings (`{"findings": [...]}`, possibly inside
///   `<tool-data>` delimiters), it answers with one line per finding;
/// * otherwise it replies with a summary that echoes the last message.
///
/// Same input, same output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OfflineProvider;

fn call(request: &ChatRequest, name: &str) -> ChatResponse {
    let mut reply = Message::assistant("");
    reply.tool_calls.push(ToolCall {
        id: format!("call_{}", request.messages.len()),
        name: name.to_owned(),
        arguments: serde_json::json!({}),
    });
    ChatResponse {
        message: reply,
        finish_reason: Some("tool_calls".into()),
    }
}

/// The JSON payload of a tool result, with or without data delimiters.
fn payload(content: &str) -> Option<Value> {
    let body = match (content.find(">\n"), content.rfind("\n</tool-data>")) {
        (Some(a), Some(b)) if a + 2 <= b => &content[a + 2..b],
        _ => content,
    };
    serde_json::from_str(body).ok()
}

fn summarise_findings(findings: &[Value]) -> String {
    if findings.is_empty() {
        return "offline summary: the analyzers found no problems.".into();
    }
    let mut s = format!("offline summary: {} finding(s):", findings.len());
    for f in findings {
        let o = &f["object"];
        s.push_str(&format!(
            "\n- [{}] {} {}/{}: {} — {}",
            f["severity"].as_str().unwrap_or("?"),
            o["kind"].as_str().unwrap_or("?"),
            o["namespace"].as_str().unwrap_or("?"),
            o["name"].as_str().unwrap_or("?"),
            f["reason"].as_str().unwrap_or("?"),
            f["explanation"].as_str().unwrap_or(""),
        ));
    }
    s
}

#[async_trait::async_trait]
impl LlmProvider for OfflineProvider {
    fn name(&self) -> String {
        "offline".into()
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse> {
        let last = request.messages.last();
        if let Some(m) = last.filter(|m| m.role == Role::User) {
            let text = m.content.to_lowercase();
            if let Some(tool) = request
                .tools
                .iter()
                .find(|t| text.contains(&t.name.to_lowercase()))
            {
                return Ok(call(request, &tool.name));
            }
            if request.tools.iter().any(|t| t.name == "analyze") {
                return Ok(call(request, "analyze"));
            }
        }
        let text = match last {
            Some(m) if m.role == Role::Tool => match payload(&m.content) {
                Some(v) if v["findings"].is_array() => {
                    summarise_findings(v["findings"].as_array().map_or(&[], Vec::as_slice))
                }
                _ => format!("offline summary: {}", m.content),
            },
            Some(m) => format!("offline summary: {}", m.content),
            None => "offline summary: ".into(),
        };
        Ok(ChatResponse {
            message: Message::assistant(text),
            finish_reason: Some("stop".into()),
        })
    }
}
