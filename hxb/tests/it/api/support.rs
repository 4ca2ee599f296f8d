//! A test server on 127.0.0.1:0 whose authentication trusts an `x-user` header
//! (`x-groups`: comma-separated groups).

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use hxb::api::Identity;
use serde_json::Value;

pub struct Server {
    pub base: String,
    pub client: reqwest::Client,
    pub engine: hxb::Engine,
}

async fn header_auth(mut req: Request, next: Next) -> Response {
    let id = {
        let h = |n: &str| {
            req.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        h("x-user").map(|user| {
            let groups = h("x-groups").unwrap_or_default();
            Identity::new(user).with_groups(
                groups
                    .split(',')
                    .filter(|g| !g.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>(),
            )
        })
    };
    if let Some(id) = id {
        req.extensions_mut().insert(id);
    }
    next.run(req).await
}

pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Server {
    pub async fn start() -> Server {
        Server::start_with_limit(hxb::api::DEFAULT_BODY_LIMIT).await
    }

    pub async fn start_with_limit(limit: usize) -> Server {
        install_crypto();
        let engine = hxb::Engine::embedded().unwrap();
        let app = hxb::api::router_with_limit(&engine, limit)
            .unwrap()
            .layer(middleware::from_fn(header_auth));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Server {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            engine,
        }
    }

    /// Send `method path` as `user` (None: anonymous) with an optional JSON body.
    pub async fn call(
        &self,
        user: Option<&str>,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut rb = self.client.request(method, format!("{}{path}", self.base));
        if let Some(u) = user {
            rb = rb.header("x-user", u);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let v = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, v)
    }

    pub async fn raw(
        &self,
        user: &str,
        method: reqwest::Method,
        path: &str,
        ctype: &str,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let resp = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("x-user", user)
            .header("content-type", ctype)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }
}
