//! Subresource calls of the kube backend: the API server's service proxy and the
//! TokenRequest API.

use std::collections::BTreeMap;

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::{Api as KubeApi, PostParams};
use kube::client::Body;
use kube::core::Status;

use super::KubeBackend;
use super::errors::{Target, map_error, map_status};
use super::retry::{Call, run};
use crate::cluster::{
    IssuedToken, ProxyRequest, ProxyResponse, validate_proxy_target, validate_token_request,
};
use crate::error::{Error, Result};

/// `/api/v1/namespaces/{ns}/services/{name}:{port}/proxy{path}`.
pub(crate) fn proxy_path(ns: &str, service: &str, port: &str, path: &str) -> String {
    format!("/api/v1/namespaces/{ns}/services/{service}:{port}/proxy{path}")
}

/// An API-server-made refusal (a `Status` object), as opposed to the application's answer.
fn api_status(status: u16, body: &[u8]) -> Option<Status> {
    if status < 400 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    if v["kind"] != "Status" || v["apiVersion"] != "v1" {
        return None;
    }
    serde_json::from_value(v).ok()
}

impl KubeBackend {
    pub(crate) async fn proxy(
        &self,
        ns: &str,
        service: &str,
        port: &str,
        request: ProxyRequest,
    ) -> Result<ProxyResponse> {
        request.validate()?;
        validate_proxy_target(ns, service, port)?;
        let t = Target {
            kind: "Service",
            plural: "services",
            group: "",
            namespace: Some(ns),
            name: service,
        };
        let mut builder = http::Request::builder()
            .method(request.method.as_str())
            .uri(proxy_path(ns, service, port, &request.path));
        for (k, v) in &request.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let req = builder
            .body(Body::from(request.body))
            .map_err(|e| Error::invalid("request", e.to_string()))?;
        // Not retried: a proxied request need not be idempotent.
        let sent = self.client().send(req);
        let resp = match self.retry_policy().get_attempt_timeout() {
            Some(limit) => tokio::time::timeout(limit, sent)
                .await
                .map_err(|_| Error::Timeout {
                    operation: format!("request to service {ns}/{service}:{port}"),
                })?,
            None => sent.await,
        }
        .map_err(|e| map_error(e, t))?;
        let status = resp.status().as_u16();
        let headers: BTreeMap<String, String> = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let body = resp
            .into_body()
            .collect_bytes()
            .await
            .map_err(|e| map_error(e, t))?
            .to_vec();
        if let Some(s) = api_status(status, &body)
            && let Some(e) = map_status(&s, t)
        {
            return Err(e);
        }
        Ok(ProxyResponse {
            status,
            headers,
            body,
        })
    }

    pub(crate) async fn token(
        &self,
        ns: &str,
        sa: &str,
        audiences: &[String],
        expiration_seconds: i64,
    ) -> Result<IssuedToken> {
        validate_token_request(ns, sa, audiences, expiration_seconds)?;
        let t = Target {
            kind: "ServiceAccount",
            plural: "serviceaccounts",
            group: "",
            namespace: Some(ns),
            name: sa,
        };
        let api: KubeApi<ServiceAccount> = KubeApi::namespaced(self.client().clone(), ns);
        let tr = TokenRequest {
            spec: TokenRequestSpec {
                audiences: audiences.to_vec(),
                expiration_seconds: Some(expiration_seconds),
                ..Default::default()
            },
            ..Default::default()
        };
        let pp = PostParams::default();
        let out = run(self.retry_policy(), Call::Create, t, || {
            api.create_token_request(sa, &pp, &tr)
        })
        .await
        .map_err(|f| map_error(f.error, t))?;
        let status = out.status.ok_or_else(|| {
            Error::backend(
                "the TokenRequest answer has no status",
                std::io::Error::other("missing status"),
            )
        })?;
        let expires_at = status.expiration_timestamp.0;
        Ok(IssuedToken {
            token: status.token,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_paths_name_service_and_port() {
        assert_eq!(
            proxy_path("team", "fn", "http", "/a?b=1"),
            "/api/v1/namespaces/team/services/fn:http/proxy/a?b=1"
        );
    }

    #[test]
    fn ports_are_numbers_or_names() {
        let validate_port = |p: &str| validate_proxy_target("ns", "svc", p);
        for ok in ["80", "8080", "65535", "http", "web-8080", "h2c"] {
            assert!(validate_port(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "0",
            "65536",
            "-http",
            "http-",
            "HTTP",
            "a/b",
            "8080/x",
            "too-long-port-name",
        ] {
            assert_eq!(
                validate_port(bad).unwrap_err().kind(),
                crate::ErrorKind::InvalidInput,
                "{bad}"
            );
        }
    }

    #[test]
    fn only_api_server_statuses_are_errors() {
        let status = br#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"no endpoints available for service \"fn\"","reason":"ServiceUnavailable","code":503}"#;
        assert!(api_status(503, status).is_some());
        assert!(api_status(200, status).is_none());
        assert!(api_status(500, b"{\"error\":\"boom\"}").is_none());
        assert!(api_status(500, b"plain text").is_none());
    }

    proptest::proptest! {
        /// Whatever a caller passes, a request that validates stays under the Service's
        /// proxy prefix once the API server (Go's path cleaning, which decodes `%2e`) sees it.
        #[test]
        fn validated_requests_never_leave_the_proxy_prefix(
            ns in "[a-z][a-z0-9-]{0,6}[a-z0-9]",
            svc in "[a-z][a-z0-9]{0,6}",
            port in "[a-z]{1,5}|[1-9][0-9]{0,3}",
            path in "/(/|\\.|%2[eE]|[a-z]|\\?){0,16}",
        ) {
            let req = ProxyRequest::new("GET", &path);
            if req.validate().is_ok() && validate_proxy_target(&ns, &svc, &port).is_ok() {
                let full = proxy_path(&ns, &svc, &port, &path);
                let uri: http::Uri = full.parse().expect("a validated path is a valid URI");
                let prefix = format!("/api/v1/namespaces/{ns}/services/{svc}:{port}/proxy/");
                let decoded = uri.path().to_ascii_lowercase().replace("%2e", ".");
                let mut stack: Vec<&str> = Vec::new();
                for seg in decoded.split('/') {
                    match seg {
                        ".." => { stack.pop(); }
                        "." => {}
                        s => stack.push(s),
                    }
                }
                let cleaned = stack.join("/");
                proptest::prop_assert!(
                    format!("{cleaned}/").starts_with(&prefix) || cleaned == prefix.trim_end_matches('/'),
                    "{full} cleans to {cleaned}"
                );
            }
        }
    }
}
