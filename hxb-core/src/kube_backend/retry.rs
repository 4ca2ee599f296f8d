//! Retries with jittered exponential backoff for calls to the API server.

use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use super::errors::{Failure, Target, classify};

/// How [`KubeBackend`](super::KubeBackend) retries transient failures.
///
/// A call is retried on HTTP 429, 5xx, transport failures and per-attempt timeouts (and, for a
/// forced server-side apply, on 409 `Conflict`), at most [`max_attempts`](Self::max_attempts)
/// times in all. The wait before retry `n` is drawn uniformly from `[c/2, c]` with
/// `c = min(max_backoff, base_backoff * 2^(n-1))`, and is at least the `retryAfterSeconds` the
/// server sent.
///
/// ```
/// use std::time::Duration;
/// use hxb_core::kube_backend::RetryPolicy;
/// let policy = RetryPolicy::default()
///     .max_attempts(8)
///     .base_backoff(Duration::from_millis(50))
///     .max_backoff(Duration::from_secs(5));
/// assert_eq!(policy.get_max_attempts(), 8);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_backoff: Duration,
    max_backoff: Duration,
    attempt_timeout: Option<Duration>,
}

impl Default for RetryPolicy {
    /// 5 attempts, backoff from 200 ms up to 10 s, 60 s per attempt.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            attempt_timeout: Some(Duration::from_secs(60)),
        }
    }
}

impl RetryPolicy {
    /// Never retry: every call is tried once.
    pub fn never() -> Self {
        RetryPolicy::default().max_attempts(1)
    }

    /// Total attempts per call, including the first (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The wait ceiling before the first retry; it doubles at each further retry.
    pub fn base_backoff(mut self, backoff: Duration) -> Self {
        self.base_backoff = backoff;
        self
    }

    /// The largest wait ceiling between two attempts (a server's `retryAfterSeconds` may ask
    /// for more, and is honoured).
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// Give up on one attempt after this long (`None`: rely on the client's own timeouts). For
    /// a watch this bounds opening the stream, not the stream's life.
    pub fn attempt_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Total attempts per call.
    pub fn get_max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The per-attempt timeout, if any.
    pub fn get_attempt_timeout(&self) -> Option<Duration> {
        self.attempt_timeout
    }

    /// The wait ceiling before retry number `retry` (1-based): `min(max, base * 2^(retry-1))`.
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        self.base_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }

    /// The jittered wait before retry number `retry`, at least `retry_after`.
    pub(crate) fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let ceiling = self.backoff_ceiling(retry);
        let half = ceiling / 2;
        // Uniform in [c/2, c]; the randomness comes from std's per-instance SipHash keys.
        let r = RandomState::new().hash_one(retry);
        let jitter = half.mul_f64((r >> 11) as f64 / (1u64 << 53) as f64);
        (half + jitter).max(retry_after.unwrap_or_default())
    }
}

/// Which call is being made: decides what is worth retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    Create,
    /// Server-side apply; `retry_conflicts` when forced without a resourceVersion, so a 409
    /// can only be a race with another writer, which a new attempt resolves.
    Apply {
        retry_conflicts: bool,
    },
    Replace,
    ReplaceStatus,
    Get,
    List,
    Delete,
    Watch,
}

impl Call {
    fn name(self) -> &'static str {
        match self {
            Call::Create => "create",
            Call::Apply { .. } => "apply",
            Call::Replace => "replace",
            Call::ReplaceStatus => "replace_status",
            Call::Get => "get",
            Call::List => "list",
            Call::Delete => "delete",
            Call::Watch => "watch",
        }
    }

    /// Whether `failure` is worth another attempt of this call. `AlreadyExists` on create and
    /// `Conflict` on replace are never retried: the caller must re-read and decide.
    fn retries(self, failure: Failure) -> bool {
        match failure {
            Failure::Throttled { .. } | Failure::Transport | Failure::TimedOut => true,
            Failure::Conflict => matches!(
                self,
                Call::Apply {
                    retry_conflicts: true
                }
            ),
            Failure::AlreadyExists | Failure::NotFound | Failure::Permanent => false,
        }
    }
}

/// The last failure of a call that did not succeed.
#[derive(Debug)]
pub(crate) struct Failed {
    /// The last error.
    pub error: kube::Error,
    /// Whether an earlier attempt failed in a way that may have taken effect on the server
    /// (5xx, transport, timeout), so that e.g. a later 404 on delete means "already done".
    pub earlier_ambiguous: bool,
}

/// Run `attempt` under `policy`, retrying what [`Call`] allows.
pub(crate) async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    call: Call,
    target: Target<'_>,
    mut attempt: F,
) -> Result<T, Failed>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut earlier_ambiguous = false;
    let mut n = 1;
    loop {
        let result = match policy.attempt_timeout {
            Some(limit) => match tokio::time::timeout(limit, attempt()).await {
                Ok(r) => r,
                Err(_) => Err(kube::Error::Service(Box::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no answer from the API server within {limit:?}"),
                )))),
            },
            None => attempt().await,
        };
        let error = match result {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let failure = classify(&error);
        if n >= policy.max_attempts || !call.retries(failure) {
            return Err(Failed {
                error,
                earlier_ambiguous,
            });
        }
        let retry_after = match failure {
            Failure::Throttled { retry_after } => retry_after,
            _ => None,
        };
        // A 429 was not processed; anything else may have been.
        let throttled_429 = matches!(&error, kube::Error::Api(s) if s.code == 429);
        earlier_ambiguous |= matches!(failure, Failure::Transport | Failure::TimedOut)
            || (matches!(failure, Failure::Throttled { .. }) && !throttled_429);
        let delay = policy.delay(n, retry_after);
        tracing::warn!(
            call = call.name(),
            kind = target.kind,
            namespace = target.namespace,
            name = target.name,
            attempt = n,
            max_attempts = policy.max_attempts,
            delay_ms = delay.as_millis() as u64,
            error = %error,
            "retrying a Kubernetes API call",
        );
        tokio::time::sleep(delay).await;
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy::default()
            .base_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_secs(1));
        let c: Vec<u128> = (1..=6).map(|n| p.backoff_ceiling(n).as_millis()).collect();
        assert_eq!(c, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(p.backoff_ceiling(u32::MAX), Duration::from_secs(1));
    }

    #[test]
    fn delays_are_jittered_within_half_to_full_ceiling() {
        let p = RetryPolicy::default()
            .base_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_secs(10));
        let mut distinct = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let d = p.delay(3, None);
            assert!(
                d >= Duration::from_millis(200) && d <= Duration::from_millis(400),
                "{d:?}"
            );
            distinct.insert(d);
        }
        assert!(
            distinct.len() > 50,
            "jitter should spread delays, got {}",
            distinct.len()
        );
    }

    #[test]
    fn retry_after_is_honoured() {
        let p = RetryPolicy::default();
        assert!(p.delay(1, Some(Duration::from_secs(30))) >= Duration::from_secs(30));
    }

    #[test]
    fn what_each_call_retries() {
        let throttled = Failure::Throttled { retry_after: None };
        for call in [
            Call::Create,
            Call::Replace,
            Call::Get,
            Call::List,
            Call::Delete,
            Call::Watch,
        ] {
            assert!(call.retries(throttled) && call.retries(Failure::Transport));
            assert!(!call.retries(Failure::Conflict), "{call:?}");
        }
        assert!(!Call::Create.retries(Failure::AlreadyExists));
        assert!(
            Call::Apply {
                retry_conflicts: true
            }
            .retries(Failure::Conflict)
        );
        assert!(
            !Call::Apply {
                retry_conflicts: false
            }
            .retries(Failure::Conflict)
        );
        assert!(!Call::Get.retries(Failure::NotFound));
        assert_eq!(RetryPolicy::never().get_max_attempts(), 1);
        assert_eq!(RetryPolicy::default().max_attempts(0).get_max_attempts(), 1);
    }
}
