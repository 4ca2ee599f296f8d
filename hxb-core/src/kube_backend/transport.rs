//! [`RetryAfterLayer`]: carries an HTTP `Retry-After` header into the `Status` kube-rs parses.
//!
//! kube-rs turns an error response into a `Status` read from the body and drops the headers.
//! The API server's priority-and-fairness and max-in-flight filters answer 429 with a plain-text
//! body and the wait in a `Retry-After` header, so without this layer that wait would be lost.
//! The layer rewrites such error responses (429 and 5xx with `Retry-After: <seconds>`) into a
//! JSON `Status` whose `details.retryAfterSeconds` holds the header's value, which
//! [`RetryPolicy`](super::RetryPolicy) honours. Every other response passes through untouched
//! and unbuffered.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use kube::core::Status;
use kube::core::response::StatusDetails;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A tower layer for a `kube::Client` stack that keeps the server's `Retry-After`.
///
/// [`KubeBackend::infer`](super::KubeBackend::infer) and
/// [`from_kubeconfig`](super::KubeBackend::from_kubeconfig) install it; add it yourself when
/// building the client passed to [`KubeBackend::new`](super::KubeBackend::new):
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use hxb_core::kube_backend::{KubeBackend, RetryAfterLayer};
/// let config = kube::Config::infer().await?;
/// let client = kube::client::ClientBuilder::try_from(config)?.with_layer(&RetryAfterLayer).build();
/// let backend = KubeBackend::new(client);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RetryAfterLayer;

impl<S> tower_layer::Layer<S> for RetryAfterLayer {
    type Service = RetryAfter<S>;

    fn layer(&self, inner: S) -> RetryAfter<S> {
        RetryAfter { inner }
    }
}

/// The service [`RetryAfterLayer`] builds.
#[derive(Debug, Clone)]
pub struct RetryAfter<S> {
    inner: S,
}

impl<S, ReqBody, B> tower_service::Service<Request<ReqBody>> for RetryAfter<S>
where
    S: tower_service::Service<Request<ReqBody>, Response = Response<B>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Unpin + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<MaybeRewritten<B>>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let fut = self.inner.call(req);
        Box::pin(async move {
            let res = fut.await.map_err(Into::into)?;
            let status = res.status();
            let wait = retry_after_seconds(res.headers());
            match wait {
                Some(secs)
                    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() =>
                {
                    let (mut parts, body) = res.into_parts();
                    let text = collect(body).await?;
                    let rewritten = with_retry_after(status, &text, secs);
                    parts.headers.insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static("application/json"),
                    );
                    parts.headers.remove(http::header::CONTENT_LENGTH);
                    Ok(Response::from_parts(
                        parts,
                        MaybeRewritten::Rewritten(Some(rewritten)),
                    ))
                }
                _ => Ok(res.map(MaybeRewritten::Original)),
            }
        })
    }
}

/// `Retry-After` in its delta-seconds form (the form the API server sends).
fn retry_after_seconds(headers: &HeaderMap) -> Option<u32> {
    headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|&s| s > 0)
}

async fn collect<B>(mut body: B) -> Result<Bytes, BoxError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    let mut out = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        if let Ok(data) = frame.map_err(Into::into)?.into_data() {
            out.extend_from_slice(&data);
        }
    }
    Ok(out.into())
}

/// The error body as a JSON `Status` with `details.retryAfterSeconds = secs`.
fn with_retry_after(code: StatusCode, body: &[u8], secs: u32) -> Bytes {
    let mut status = serde_json::from_slice::<Status>(body).unwrap_or_else(|_| {
        let text = String::from_utf8_lossy(body);
        let reason = if code == StatusCode::TOO_MANY_REQUESTS {
            "TooManyRequests"
        } else {
            ""
        };
        Status::failure(text.trim(), reason).with_code(code.as_u16())
    });
    if status.code == 0 {
        status.code = code.as_u16();
    }
    let details = status.details.get_or_insert_with(|| StatusDetails {
        name: String::new(),
        group: String::new(),
        kind: String::new(),
        uid: String::new(),
        causes: Vec::new(),
        retry_after_seconds: 0,
    });
    if details.retry_after_seconds == 0 {
        details.retry_after_seconds = secs;
    }
    serde_json::to_vec(&status)
        .map(Bytes::from)
        .unwrap_or_else(|_| Bytes::from_static(b"{}"))
}

/// A response body: the original, or the rewritten error.
#[derive(Debug)]
pub enum MaybeRewritten<B> {
    /// Passed through.
    Original(B),
    /// Replaced (taken once).
    Rewritten(Option<Bytes>),
}

impl<B> Body for MaybeRewritten<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            MaybeRewritten::Original(b) => Pin::new(b).poll_frame(cx).map_err(Into::into),
            MaybeRewritten::Rewritten(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            MaybeRewritten::Original(b) => b.is_end_stream(),
            MaybeRewritten::Rewritten(data) => data.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            MaybeRewritten::Original(b) => b.size_hint(),
            MaybeRewritten::Rewritten(data) => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_throttling_becomes_a_status_with_the_wait() {
        let out = with_retry_after(
            StatusCode::TOO_MANY_REQUESTS,
            b"Too many requests, please try again later.\n",
            4,
        );
        let s: Status = serde_json::from_slice(&out).unwrap();
        assert_eq!(s.code, 429);
        assert_eq!(s.reason, "TooManyRequests");
        assert_eq!(s.message, "Too many requests, please try again later.");
        assert_eq!(s.details.unwrap().retry_after_seconds, 4);
    }

    #[test]
    fn a_json_status_keeps_its_own_wait() {
        let body = br#"{"kind":"Status","status":"Failure","code":503,"message":"x","details":{"retryAfterSeconds":9}}"#;
        let s: Status =
            serde_json::from_slice(&with_retry_after(StatusCode::SERVICE_UNAVAILABLE, body, 2))
                .unwrap();
        assert_eq!((s.code, s.details.unwrap().retry_after_seconds), (503, 9));
    }

    #[test]
    fn only_delta_seconds_are_read() {
        let mut h = HeaderMap::new();
        h.insert(http::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after_seconds(&h), Some(7));
        h.insert(
            http::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after_seconds(&h), None);
        assert_eq!(retry_after_seconds(&HeaderMap::new()), None);
    }
}
