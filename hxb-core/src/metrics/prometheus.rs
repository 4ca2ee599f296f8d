//! The Prometheus HTTP API as a [`MetricsSource`]: instant (`/api/v1/query`) and range
//! (`/api/v1/query_range`) queries, for real clusters.
//!
//! Responses are decoded from Prometheus' JSON format (`vector`, `matrix` and `scalar`
//! results; `"NaN"`/`"+Inf"` values). Failures are typed: a bad query (`bad_data`) is
//! [`InvalidInput`](crate::ErrorKind::InvalidInput); a slow server is
//! [`Timeout`](crate::ErrorKind::Timeout); an unreachable or overloaded one, and — in the default
//! strict mode — a partial answer (Prometheus `warnings`), are
//! [`Unavailable`](crate::ErrorKind::Unavailable) (retryable); a malformed body is
//! [`Backend`](crate::ErrorKind::Backend). Scaling on partial data could under-provision,
//! hence strict by default.

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

use super::{Labels, MetricsSource, Sample, Series};
use crate::error::{Error, Result};
use crate::model::Timestamp;

/// A Prometheus server.
#[derive(Debug, Clone)]
pub struct PrometheusSource {
    client: reqwest::Client,
    base: String,
    strict: bool,
    bearer: Option<String>,
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    data: Option<Data>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct VectorItem {
    metric: Labels,
    value: (f64, String),
}

#[derive(Deserialize)]
struct MatrixItem {
    metric: Labels,
    values: Vec<(f64, String)>,
}

fn parse_value(s: &str) -> Result<f64> {
    match s {
        "NaN" => Ok(f64::NAN),
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ => s
            .parse()
            .map_err(|_| malformed(format!("sample value {s:?} is not a number"))),
    }
}

fn malformed(m: impl Into<String>) -> Error {
    Error::Backend {
        message: format!("malformed Prometheus response: {}", m.into()),
        source: None,
    }
}

fn secs(t: Timestamp) -> String {
    format!("{:.3}", t.as_millisecond() as f64 / 1000.0)
}

impl PrometheusSource {
    /// A source for the server at `base_url` (e.g. `http://prometheus:9090`), with a 30 s
    /// request timeout.
    pub fn new(base_url: &str) -> Result<Self> {
        Self::with_timeout(base_url, Duration::from_secs(30))
    }

    /// A source with a custom request timeout.
    pub fn with_timeout(base_url: &str, timeout: Duration) -> Result<Self> {
        crate::install_crypto_provider();
        let base = base_url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) || base.len() < 8 {
            return Err(Error::invalid(
                "prometheus url",
                format!("{base_url:?} must be an http(s) URL"),
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| Error::backend("cannot build the HTTP client", e))?;
        Ok(PrometheusSource {
            client,
            base,
            strict: true,
            bearer: None,
        })
    }

    /// Accept partial answers (Prometheus `warnings`) instead of failing with
    /// [`Unavailable`](crate::ErrorKind::Unavailable).
    pub fn lenient(mut self) -> Self {
        self.strict = false;
        self
    }

    /// Send `Authorization: Bearer <token>`.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer = Some(token.into());
        self
    }

    async fn call(&self, path: &str, params: &[(&str, String)]) -> Result<Data> {
        let url = format!("{}{path}", self.base);
        let mut req = self.client.get(&url).query(params);
        if let Some(t) = &self.bearer {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.map_err(|e| {
            if e.is_timeout() {
                Error::Timeout {
                    operation: format!("GET {url}"),
                }
            } else {
                Error::unavailable(
                    format!("Prometheus at {} is unreachable", self.base),
                    Some(e.into()),
                )
            }
        })?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| {
            if e.is_timeout() {
                Error::Timeout {
                    operation: format!("GET {url}"),
                }
            } else {
                Error::unavailable("Prometheus response was cut off", Some(e.into()))
            }
        })?;
        let env: Envelope = match serde_json::from_slice(&body) {
            Ok(e) => e,
            Err(e) if status.is_server_error() || status.as_u16() == 429 => {
                return Err(Error::unavailable(
                    format!("Prometheus answered {status}"),
                    Some(e.into()),
                ));
            }
            Err(e) => return Err(malformed(e.to_string())),
        };
        if env.status != "success" {
            let kind = env.error_type.unwrap_or_default();
            let msg = env.error.unwrap_or_else(|| "no error message".into());
            return Err(match kind.as_str() {
                "bad_data" => Error::invalid("query", msg),
                "timeout" => Error::Timeout {
                    operation: format!("query: {msg}"),
                },
                "canceled" | "unavailable" => Error::unavailable(msg, None),
                _ if status.is_server_error() => Error::unavailable(format!("{kind}: {msg}"), None),
                _ => Error::Backend {
                    message: format!("Prometheus {kind}: {msg}"),
                    source: None,
                },
            });
        }
        if self.strict && !env.warnings.is_empty() {
            return Err(Error::unavailable(
                format!(
                    "Prometheus returned partial data: {}",
                    env.warnings.join("; ")
                ),
                None,
            ));
        }
        for w in &env.warnings {
            tracing::warn!(warning = %w, "partial Prometheus answer");
        }
        env.data.ok_or_else(|| malformed("success without data"))
    }
}

fn decode_vector(d: Data) -> Result<Vec<(Labels, f64)>> {
    match d.result_type.as_str() {
        "vector" => {
            let items: Vec<VectorItem> =
                serde_json::from_value(d.result).map_err(|e| malformed(e.to_string()))?;
            items
                .into_iter()
                .map(|i| Ok((i.metric, parse_value(&i.value.1)?)))
                .collect()
        }
        "scalar" => {
            let (_, v): (f64, String) =
                serde_json::from_value(d.result).map_err(|e| malformed(e.to_string()))?;
            Ok(vec![(Labels::new(), parse_value(&v)?)])
        }
        other => Err(malformed(format!(
            "unexpected resultType {other:?} for an instant query"
        ))),
    }
}

fn decode_matrix(d: Data) -> Result<Vec<Series>> {
    if d.result_type != "matrix" {
        return Err(malformed(format!(
            "unexpected resultType {:?} for a range query",
            d.result_type
        )));
    }
    let items: Vec<MatrixItem> =
        serde_json::from_value(d.result).map_err(|e| malformed(e.to_string()))?;
    items
        .into_iter()
        .map(|i| {
            let samples = i
                .values
                .into_iter()
                .map(|(t, v)| {
                    Ok(Sample {
                        t_ms: (t * 1000.0).round() as i64,
                        v: parse_value(&v)?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Series {
                labels: i.metric,
                samples,
            })
        })
        .collect()
}

#[async_trait]
impl MetricsSource for PrometheusSource {
    async fn instant(&self, query: &str, at: Timestamp) -> Result<Vec<(Labels, f64)>> {
        let d = self
            .call(
                "/api/v1/query",
                &[("query", query.to_owned()), ("time", secs(at))],
            )
            .await?;
        decode_vector(d)
    }

    async fn range(
        &self,
        query: &str,
        start: Timestamp,
        end: Timestamp,
        step: Duration,
    ) -> Result<Vec<Series>> {
        if step.is_zero() {
            return Err(Error::invalid("step", "must be positive"));
        }
        if end < start {
            return Err(Error::invalid("range", "end is before start"));
        }
        let params = [
            ("query", query.to_owned()),
            ("start", secs(start)),
            ("end", secs(end)),
            ("step", format!("{:.3}", step.as_secs_f64())),
        ];
        decode_matrix(self.call("/api/v1/query_range", &params).await?)
    }
}
