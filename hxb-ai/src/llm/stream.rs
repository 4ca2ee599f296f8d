//! Incremental parsing of streamed chat replies: OpenAI-style server-sent events and Ollama's
//! newline-delimited JSON. Both accumulate into the non-streamed reply shape, so one parser
//! ([`super::http`]'s) validates the final message either way.

use hxb_core::{Error, Result};
use serde_json::{Value, json};

/// A piece of a reply as it arrives.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamDelta {
    /// More assistant text.
    Text(String),
    /// The model started a call of this tool (arguments follow and are parsed at the end).
    ToolCall {
        /// Tool name.
        name: String,
    },
}

fn bad_stream(what: impl Into<String>) -> Error {
    Error::backend("llm stream", what.into())
}

/// Splits a byte stream into lines however the chunks fall (`\n` or `\r\n` endings).
#[derive(Debug, Default)]
pub(crate) struct LineBuffer {
    pending: Vec<u8>,
}

impl LineBuffer {
    /// Feeds a chunk; calls `line` for each line it completes.
    pub(crate) fn push(
        &mut self,
        chunk: &[u8],
        line: &mut (dyn FnMut(&str) -> Result<()> + Send),
    ) -> Result<()> {
        self.pending.extend_from_slice(chunk);
        let mut start = 0;
        while let Some(pos) = self.pending[start..].iter().position(|&b| b == b'\n') {
            let end = start + pos;
            emit(&self.pending[start..end], line)?;
            start = end + 1;
        }
        self.pending.drain(..start);
        Ok(())
    }

    /// Ends the stream: a last line without a newline still counts.
    pub(crate) fn finish(self, line: &mut (dyn FnMut(&str) -> Result<()> + Send)) -> Result<()> {
        if self.pending.is_empty() {
            Ok(())
        } else {
            emit(&self.pending, line)
        }
    }
}

fn emit(raw: &[u8], line: &mut (dyn FnMut(&str) -> Result<()> + Send)) -> Result<()> {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    let text = std::str::from_utf8(raw).map_err(|e| bad_stream(format!("not UTF-8: {e}")))?;
    line(text)
}

#[derive(Debug, Default)]
struct PartialCall {
    id: Option<String>,
    name: String,
    arguments: String,
}

/// Accumulates an OpenAI chat-completions event stream (`data: {chunk}` … `data: [DONE]`).
#[derive(Debug, Default)]
pub(crate) struct OpenAiStream {
    content: String,
    calls: Vec<PartialCall>,
    finish_reason: Option<String>,
    done: bool,
}

impl OpenAiStream {
    /// Takes one line of the event stream.
    pub(crate) fn line(
        &mut self,
        line: &str,
        on: &mut (dyn FnMut(StreamDelta) + Send),
    ) -> Result<()> {
        // Blank lines end events; `:` lines are comments; `event:`/`id:`/`retry:` carry nothing
        // chat completions use.
        let Some(data) = line.strip_prefix("data:") else {
            return Ok(());
        };
        let data = data.trim();
        if self.done {
            return Err(bad_stream("data after [DONE]"));
        }
        if data == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        let chunk: Value = serde_json::from_str(data)
            .map_err(|e| Error::backend("llm stream: an event is not JSON", e))?;
        if let Some(err) = chunk.get("error") {
            let msg = err
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("error event");
            return Err(bad_stream(format!("server sent an error: {msg}")));
        }
        let Some(choice) = chunk.get("choices").and_then(|c| c.get(0)) else {
            return Ok(()); // e.g. a final usage-only chunk
        };
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish_reason = Some(reason.to_string());
        }
        let Some(delta) = choice.get("delta") else {
            return Ok(());
        };
        if let Some(text) = delta.get("content").and_then(Value::as_str)
            && !text.is_empty()
        {
            self.content.push_str(text);
            on(StreamDelta::Text(text.to_string()));
        }
        for (pos, call) in delta
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let index = call
                .get("index")
                .and_then(Value::as_u64)
                .map_or(pos, |i| i as usize);
            if index > self.calls.len() || index >= 128 {
                return Err(bad_stream(format!("tool call index {index} out of order")));
            }
            if index == self.calls.len() {
                self.calls.push(PartialCall::default());
            }
            let partial = &mut self.calls[index];
            if let Some(id) = call.get("id").and_then(Value::as_str) {
                partial.id = Some(id.to_string());
            }
            let function = call.get("function");
            if let Some(name) = function.and_then(|f| f.get("name")).and_then(Value::as_str)
                && partial.name.is_empty()
                && !name.is_empty()
            {
                partial.name = name.to_string();
                on(StreamDelta::ToolCall {
                    name: name.to_string(),
                });
            }
            if let Some(args) = function
                .and_then(|f| f.get("arguments"))
                .and_then(Value::as_str)
            {
                partial.arguments.push_str(args);
            }
        }
        Ok(())
    }

    /// The whole reply in the non-streamed shape; an unfinished stream is an error.
    pub(crate) fn finish(self) -> Result<Value> {
        if !self.done && self.finish_reason.is_none() {
            return Err(bad_stream("the stream ended before the reply was complete"));
        }
        let calls: Vec<Value> = self
            .calls
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                json!({"id": c.id.unwrap_or_else(|| format!("call_{i}")), "type": "function",
                       "function": {"name": c.name, "arguments": c.arguments}})
            })
            .collect();
        let mut message = json!({"role": "assistant", "content": self.content});
        if !calls.is_empty() {
            message["tool_calls"] = Value::Array(calls);
        }
        Ok(json!({"choices": [{"message": message, "finish_reason": self.finish_reason}]}))
    }
}

/// Accumulates an Ollama `/api/chat` stream (one JSON object per line, the last with
/// `"done": true`).
#[derive(Debug, Default)]
pub(crate) struct OllamaStream {
    content: String,
    calls: Vec<Value>,
    done_reason: Option<Value>,
    done: bool,
}

impl OllamaStream {
    /// Takes one line of the stream.
    pub(crate) fn line(
        &mut self,
        line: &str,
        on: &mut (dyn FnMut(StreamDelta) + Send),
    ) -> Result<()> {
        if line.trim().is_empty() {
            return Ok(());
        }
        if self.done {
            return Err(bad_stream("data after the final message"));
        }
        let chunk: Value = serde_json::from_str(line)
            .map_err(|e| Error::backend("llm stream: a line is not JSON", e))?;
        if let Some(err) = chunk.get("error") {
            let msg = err.as_str().unwrap_or("error line");
            return Err(bad_stream(format!("server sent an error: {msg}")));
        }
        if let Some(msg) = chunk.get("message") {
            if let Some(text) = msg.get("content").and_then(Value::as_str)
                && !text.is_empty()
            {
                self.content.push_str(text);
                on(StreamDelta::Text(text.to_string()));
            }
            for call in msg
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(name) = call.pointer("/function/name").and_then(Value::as_str) {
                    on(StreamDelta::ToolCall {
                        name: name.to_string(),
                    });
                }
                self.calls.push(call.clone());
            }
        }
        if chunk.get("done").and_then(Value::as_bool) == Some(true) {
            self.done = true;
            self.done_reason = chunk.get("done_reason").cloned();
        }
        Ok(())
    }

    /// The whole reply in the non-streamed shape; an unfinished stream is an error.
    pub(crate) fn finish(self) -> Result<Value> {
        if !self.done {
            return Err(bad_stream("the stream ended before the final message"));
        }
        let mut message = json!({"role": "assistant", "content": self.content});
        if !self.calls.is_empty() {
            message["tool_calls"] = Value::Array(self.calls);
        }
        Ok(json!({"message": message, "done_reason": self.done_reason.unwrap_or(Value::Null)}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SSE: &str = concat!(
        ": keep-alive\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Scal\"}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ing.\"}}]}\r\n\r\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_9\",\"type\":\"function\",\"function\":{\"name\":\"scale\",\"arguments\":\"\"}}]}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"replicas\\\"\"}}]}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\": 3}\"}}]}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
        "data: [DONE]\n\n",
    );

    fn run_openai(chunks: &[&[u8]]) -> Result<(Value, Vec<StreamDelta>)> {
        let mut acc = OpenAiStream::default();
        let mut deltas = Vec::new();
        let mut lines = LineBuffer::default();
        {
            let mut on = |d| deltas.push(d);
            let mut f = |l: &str| acc.line(l, &mut on);
            for c in chunks {
                lines.push(c, &mut f)?;
            }
            lines.finish(&mut f)?;
        }
        Ok((acc.finish()?, deltas))
    }

    #[test]
    fn openai_events_accumulate_text_and_fragmented_tool_arguments() {
        let (reply, deltas) = run_openai(&[SSE.as_bytes()]).unwrap();
        let msg = &reply["choices"][0]["message"];
        assert_eq!(msg["content"], "Scaling.");
        assert_eq!(msg["tool_calls"][0]["id"], "call_9");
        assert_eq!(
            msg["tool_calls"][0]["function"]["arguments"],
            "{\"replicas\": 3}"
        );
        assert_eq!(reply["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(
            deltas,
            vec![
                StreamDelta::Text("Scal".into()),
                StreamDelta::Text("ing.".into()),
                StreamDelta::ToolCall {
                    name: "scale".into()
                }
            ]
        );
    }

    proptest! {
        /// However the network splits the bytes, the accumulated reply is the same.
        #[test]
        fn chunking_does_not_change_the_result(cuts in proptest::collection::vec(0usize..SSE.len(), 0..12)) {
            let bytes = SSE.as_bytes();
            let mut cuts = cuts;
            cuts.sort_unstable();
            cuts.dedup();
            let mut chunks = Vec::new();
            let mut last = 0;
            for c in cuts {
                chunks.push(&bytes[last..c]);
                last = c;
            }
            chunks.push(&bytes[last..]);
            let whole = run_openai(&[bytes]).unwrap();
            prop_assert_eq!(run_openai(&chunks).unwrap(), whole);
        }
    }

    #[test]
    fn broken_openai_streams_are_backend_errors() {
        for (what, body) in [
            (
                "truncated",
                "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n",
            ),
            ("not json", "data: {oops\n"),
            (
                "error event",
                "data: {\"error\":{\"message\":\"overloaded\"}}\n",
            ),
            ("after done", "data: [DONE]\ndata: {}\n"),
            (
                "index gap",
                "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":3}]}}]}\n",
            ),
        ] {
            let err = run_openai(&[body.as_bytes()]).unwrap_err();
            assert_eq!(err.kind(), hxb_core::ErrorKind::Backend, "{what}: {err}");
        }
        let err = run_openai(&[b"data: {\"choices\":[]}\n\xff\xfe\n"]).unwrap_err();
        assert_eq!(err.kind(), hxb_core::ErrorKind::Backend);
    }

    #[test]
    fn ollama_lines_accumulate_until_done() {
        let mut acc = OllamaStream::default();
        let mut deltas = Vec::new();
        let mut on = |d| deltas.push(d);
        for l in [
            r#"{"message":{"role":"assistant","content":"Look"},"done":false}"#,
            "",
            r#"{"message":{"role":"assistant","content":"ing","tool_calls":[{"function":{"name":"list_pods","arguments":{"namespace":"a"}}}]},"done":false}"#,
            r#"{"message":{"role":"assistant","content":""},"done":true,"done_reason":"stop"}"#,
        ] {
            acc.line(l, &mut on).unwrap();
        }
        let reply = acc.finish().unwrap();
        assert_eq!(reply["message"]["content"], "Looking");
        assert_eq!(
            reply["message"]["tool_calls"][0]["function"]["arguments"]["namespace"],
            "a"
        );
        assert_eq!(reply["done_reason"], "stop");
        assert_eq!(deltas.len(), 3);

        let mut unfinished = OllamaStream::default();
        unfinished
            .line(r#"{"message":{"content":"x"},"done":false}"#, &mut |_| {})
            .unwrap();
        assert_eq!(
            unfinished.finish().unwrap_err().kind(),
            hxb_core::ErrorKind::Backend
        );
        let mut failed = OllamaStream::default();
        let err = failed
            .line(r#"{"error":"model not found"}"#, &mut |_| {})
            .unwrap_err();
        assert!(
            err.to_string().contains("model not found")
                || format!("{err:?}").contains("model not found")
        );
    }
}
