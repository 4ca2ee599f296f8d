//! LLM providers against a local HTTP server on 127.0.0.1 speaking the real wire formats.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use hxb_ai::llm::{
    ChatRequest, HttpConfig, LlmProvider, Message, OfflineProvider, OllamaProvider, OpenAiProvider,
    RateLimited, StreamDelta, ToolSpec,
};
use hxb_core::ErrorKind;
use serde_json::{Value, json};

/// One scripted reply: status, extra headers, body, delay before answering.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: &'static str,
    pub(crate) body: String,
    pub(crate) delay: Duration,
}

pub(crate) fn reply(status: u16, body: impl Into<String>) -> Reply {
    Reply {
        status,
        headers: "",
        body: body.into(),
        delay: Duration::ZERO,
    }
}

/// Serves `replies` in order, one connection each; returns the base URL and the request
/// bodies received (path, JSON).
pub(crate) fn serve(replies: Vec<Reply>) -> (String, mpsc::Receiver<(String, Value)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for r in replies {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let path = line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_string();
            let mut len = 0;
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                if h == "\r\n" || h.is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let _ = tx.send((path, serde_json::from_slice(&body).unwrap_or(Value::Null)));
            std::thread::sleep(r.delay);
            let reason = match r.status {
                200 => "OK",
                429 => "Too Many Requests",
                _ => "Error",
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n{}",
                r.status,
                r.body.len(),
                r.headers,
                r.body
            );
        }
    });
    (url, rx)
}

fn request() -> ChatRequest {
    ChatRequest {
        messages: vec![
            Message::system("You operate hxb."),
            Message::user("Scale the web deployment"),
        ],
        tools: vec![ToolSpec {
            name: "scale".into(),
            description: "Scale a deployment".into(),
            parameters: json!({"type": "object", "properties": {"name": {"type": "string"}, "replicas": {"type": "integer"}}}),
        }],
        temperature: Some(0.0),
    }
}

pub(crate) fn openai_tool_reply(name: &str, arguments: &str) -> String {
    json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "test",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": null,
            "tool_calls": [{"id": "call_abc", "type": "function", "function": {"name": name, "arguments": arguments}}]
        }}]
    })
    .to_string()
}

fn openai(url: &str) -> OpenAiProvider {
    OpenAiProvider::new(
        HttpConfig::new(format!("{url}/v1"), "test")
            .api_key("k")
            .timeout(Duration::from_secs(5)),
    )
    .unwrap()
}

#[tokio::test]
async fn openai_tool_call_round_trip() {
    let (url, rx) = serve(vec![reply(
        200,
        openai_tool_reply("scale", r#"{"name":"web","replicas":3}"#),
    )]);
    let resp = openai(&url).chat(&request()).await.unwrap();
    assert_eq!(resp.finish_reason.as_deref(), Some("tool_calls"));
    let call = &resp.message.tool_calls[0];
    assert_eq!(
        (call.id.as_str(), call.name.as_str()),
        ("call_abc", "scale")
    );
    assert_eq!(call.arguments, json!({"name": "web", "replicas": 3}));
    let (path, body) = rx.recv().unwrap();
    assert_eq!(path, "/v1/chat/completions");
    assert_eq!(body["model"], "test");
    assert_eq!(body["messages"][1]["role"], "user");
    assert_eq!(body["tools"][0]["type"], "function");
    assert_eq!(body["tools"][0]["function"]["name"], "scale");
    assert_eq!(body["temperature"], 0.0);
}

#[tokio::test]
async fn openai_sends_tool_results_in_wire_format() {
    let (url, rx) = serve(vec![reply(
        200,
        json!({"choices": [{"finish_reason": "stop", "message": {"role": "assistant", "content": "Done."}}]}).to_string(),
    )]);
    let mut req = request();
    let mut assistant = Message::assistant("");
    assistant.tool_calls.push(hxb_ai::llm::ToolCall {
        id: "call_1".into(),
        name: "scale".into(),
        arguments: json!({"replicas": 2}),
    });
    req.messages.push(assistant);
    req.messages.push(Message::tool("call_1", "scaled to 2"));
    let resp = openai(&url).chat(&req).await.unwrap();
    assert_eq!(resp.message.content, "Done.");
    assert!(resp.message.tool_calls.is_empty());
    let (_, body) = rx.recv().unwrap();
    assert_eq!(
        body["messages"][2]["tool_calls"][0]["function"]["arguments"],
        r#"{"replicas":2}"#
    );
    assert_eq!(body["messages"][3]["role"], "tool");
    assert_eq!(body["messages"][3]["tool_call_id"], "call_1");
}

#[tokio::test]
async fn malformed_replies_are_backend_errors() {
    let (url, _rx) = serve(vec![
        reply(200, openai_tool_reply("scale", "{not json")),
        reply(200, openai_tool_reply("delete_cluster", "{}")),
        reply(200, "<html>oops</html>"),
        reply(200, json!({"choices": []}).to_string()),
        reply(
            400,
            json!({"error": {"message": "bad request"}}).to_string(),
        ),
    ]);
    let p = openai(&url);
    for what in [
        "bad arguments",
        "unknown tool",
        "not json",
        "no choices",
        "http 400",
    ] {
        let e = p.chat(&request()).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Backend, "{what}: {e}");
    }
}

#[tokio::test]
async fn rate_limits_are_retried_or_reported_with_retry_after() {
    let ok = openai_tool_reply("scale", "{}");
    let (url, rx) = serve(vec![
        Reply {
            status: 429,
            headers: "Retry-After: 0\r\n",
            body: "{}".into(),
            delay: Duration::ZERO,
        },
        reply(200, ok),
        Reply {
            status: 429,
            headers: "Retry-After: 120\r\n",
            body: "{}".into(),
            delay: Duration::ZERO,
        },
    ]);
    let p = openai(&url);
    assert!(p.chat(&request()).await.is_ok());
    let e = p.chat(&request()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(e.kind().is_retryable());
    let source = std::error::Error::source(&e)
        .and_then(|s| s.downcast_ref::<RateLimited>())
        .expect("RateLimited source");
    assert_eq!(source.retry_after, Some(Duration::from_secs(120)));
    assert_eq!(rx.try_iter().count(), 3);
}

#[tokio::test]
async fn server_errors_and_timeouts_are_typed() {
    let (url, _rx) = serve(vec![
        reply(503, "{}"),
        Reply {
            status: 200,
            headers: "",
            body: openai_tool_reply("scale", "{}"),
            delay: Duration::from_secs(3),
        },
    ]);
    let p = OpenAiProvider::new(
        HttpConfig::new(format!("{url}/v1"), "test").timeout(Duration::from_millis(500)),
    )
    .unwrap();
    assert_eq!(
        p.chat(&request()).await.unwrap_err().kind(),
        ErrorKind::Unavailable
    );
    assert_eq!(
        p.chat(&request()).await.unwrap_err().kind(),
        ErrorKind::Timeout
    );
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    assert_eq!(
        openai(&dead).chat(&request()).await.unwrap_err().kind(),
        ErrorKind::Unavailable
    );
}

#[tokio::test]
async fn ollama_tool_calls_use_object_arguments() {
    let body = json!({
        "model": "llama3.1", "created_at": "2024-07-22T20:33:28Z", "done": true, "done_reason": "stop",
        "message": {"role": "assistant", "content": "",
            "tool_calls": [{"function": {"name": "scale", "arguments": {"name": "web", "replicas": 4}}}]}
    });
    let (url, rx) = serve(vec![
        reply(200, body.to_string()),
        reply(200, json!({"done": true}).to_string()),
    ]);
    let p = OllamaProvider::new(HttpConfig::new(url, "llama3.1")).unwrap();
    let resp = p.chat(&request()).await.unwrap();
    assert_eq!(resp.message.tool_calls[0].name, "scale");
    assert_eq!(
        resp.message.tool_calls[0].arguments,
        json!({"name": "web", "replicas": 4})
    );
    let (path, sent) = rx.recv().unwrap();
    assert_eq!(path, "/api/chat");
    assert_eq!(sent["stream"], false);
    assert_eq!(sent["options"]["temperature"], 0.0);
    assert_eq!(
        p.chat(&request()).await.unwrap_err().kind(),
        ErrorKind::Backend
    );
}

#[tokio::test]
async fn offline_provider_is_deterministic() {
    let p = OfflineProvider;
    let a = p.chat(&request()).await.unwrap();
    assert_eq!(a, p.chat(&request()).await.unwrap());
    assert_eq!(a.message.tool_calls[0].name, "scale");
    let mut req = request();
    req.messages.push(Message::tool("call_2", "scaled"));
    let b = p.chat(&req).await.unwrap();
    assert!(b.message.tool_calls.is_empty());
    assert_eq!(b.message.content, "offline summary: scaled");
}

fn sse(events: &[Value]) -> String {
    let mut out = String::new();
    for e in events {
        out.push_str(&format!("data: {e}\n\n"));
    }
    out.push_str("data: [DONE]\n\n");
    out
}

#[tokio::test]
async fn openai_streams_text_and_tool_calls_as_server_sent_events() {
    let body = sse(&[
        json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": "Scaling "}}]}),
        json!({"choices": [{"index": 0, "delta": {"content": "web."}}]}),
        json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_7", "type": "function", "function": {"name": "scale", "arguments": "{\"name\":"}}]}}]}),
        json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "\"web\",\"replicas\":5}"}}]}}]}),
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
    ]);
    let (url, rx) = serve(vec![reply(200, body)]);
    let mut deltas = Vec::new();
    let resp = openai(&url)
        .chat_stream(&request(), &mut |d| deltas.push(d))
        .await
        .unwrap();
    assert_eq!(resp.message.content, "Scaling web.");
    assert_eq!(resp.message.tool_calls[0].id, "call_7");
    assert_eq!(
        resp.message.tool_calls[0].arguments,
        json!({"name": "web", "replicas": 5})
    );
    assert_eq!(resp.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(
        deltas,
        vec![
            StreamDelta::Text("Scaling ".into()),
            StreamDelta::Text("web.".into()),
            StreamDelta::ToolCall {
                name: "scale".into()
            },
        ]
    );
    let (path, sent) = rx.recv().unwrap();
    assert_eq!(path, "/v1/chat/completions");
    assert_eq!(sent["stream"], true);
}

#[tokio::test]
async fn broken_streams_are_typed_errors() {
    let truncated = "data: {\"choices\":[{\"delta\":{\"content\":\"hal\"}}]}\n\n".to_string();
    let bad_args = sse(&[
        json!({"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "c", "function": {"name": "scale", "arguments": "{\"repl"}}]}, "finish_reason": "tool_calls"}]}),
    ]);
    let unknown_tool = sse(&[
        json!({"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "c", "function": {"name": "drop_database", "arguments": "{}"}}]}, "finish_reason": "tool_calls"}]}),
    ]);
    let (url, _rx) = serve(vec![
        reply(200, truncated),
        reply(200, bad_args),
        reply(200, unknown_tool),
        reply(503, "{}"),
    ]);
    let p = openai(&url);
    for (what, kind) in [
        ("truncated", ErrorKind::Backend),
        ("bad arguments", ErrorKind::Backend),
        ("unknown tool", ErrorKind::Backend),
        ("server error", ErrorKind::Unavailable),
    ] {
        let e = p.chat_stream(&request(), &mut |_| {}).await.unwrap_err();
        assert_eq!(e.kind(), kind, "{what}: {e}");
    }
}

#[tokio::test]
async fn ollama_streams_newline_delimited_json() {
    let lines = [
        json!({"model": "llama3.1", "message": {"role": "assistant", "content": "Checking"}, "done": false}),
        json!({"model": "llama3.1", "message": {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "scale", "arguments": {"replicas": 2}}}]}, "done": false}),
        json!({"model": "llama3.1", "message": {"role": "assistant", "content": ""}, "done": true, "done_reason": "stop"}),
    ];
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let (url, rx) = serve(vec![reply(200, body)]);
    let p = OllamaProvider::new(HttpConfig::new(url, "llama3.1")).unwrap();
    let mut texts = String::new();
    let resp = p
        .chat_stream(&request(), &mut |d| {
            if let StreamDelta::Text(t) = d {
                texts.push_str(&t);
            }
        })
        .await
        .unwrap();
    assert_eq!(texts, "Checking");
    assert_eq!(resp.message.content, "Checking");
    assert_eq!(resp.message.tool_calls[0].arguments, json!({"replicas": 2}));
    assert_eq!(resp.finish_reason.as_deref(), Some("stop"));
    assert_eq!(rx.recv().unwrap().1["stream"], true);
}

#[tokio::test]
async fn providers_without_streaming_deliver_one_delta() {
    let mut deltas = Vec::new();
    let resp = OfflineProvider
        .chat_stream(&request(), &mut |d| deltas.push(d))
        .await
        .unwrap();
    assert_eq!(
        deltas,
        vec![StreamDelta::ToolCall {
            name: resp.message.tool_calls[0].name.clone()
        }]
    );
}
