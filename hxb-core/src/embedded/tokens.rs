//! Bound ServiceAccount tokens (the TokenRequest API) and their review (TokenReview).
//!
//! A token is opaque: `hxb-embedded.` followed by 128 bits from SipHash keyed with the
//! process's random `RandomState` keys over a counter and the clock (unpredictable without
//! the keys, not a vetted CSPRNG — the embedded cluster has no network, so a token only
//! authenticates in-process). The cluster records, per token, the ServiceAccount (namespace,
//! name, uid), the audiences and the expiry; [`authenticate`](super::EmbeddedCluster::authenticate)
//! answers as a TokenReview does. A token stops authenticating when it expires, or when its
//! ServiceAccount is deleted (or deleted and re-created: the uid differs).

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::ServiceAccount;
use parking_lot::Mutex;

use super::state::State;
use crate::cluster::{IssuedToken, ResourceType, validate_token_request};
use crate::error::{Error, Result};

/// The user a token authenticates as, as a TokenReview's `status.user` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUser {
    /// `system:serviceaccount:<namespace>:<name>`.
    pub username: String,
    /// The ServiceAccount's uid.
    pub uid: String,
    /// `system:serviceaccounts`, `system:serviceaccounts:<namespace>`, `system:authenticated`.
    pub groups: Vec<String>,
    /// The audiences the token was issued for.
    pub audiences: Vec<String>,
    /// When the token expires.
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone)]
struct Record {
    namespace: String,
    service_account: String,
    uid: String,
    audiences: Vec<String>,
    expires_at: Timestamp,
}

/// Tokens issued by one cluster.
#[derive(Default)]
pub(crate) struct Tokens {
    issued: Mutex<HashMap<String, Record>>,
}

fn random_token(now: Timestamp) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let state = RandomState::new();
    let a = state.hash_one((n, now.as_nanosecond(), 0u8));
    let b = state.hash_one((n, now.as_nanosecond(), 1u8));
    format!("hxb-embedded.{a:016x}{b:016x}")
}

fn service_account_uid(st: &State, ns: &str, name: &str) -> Result<String> {
    st.check_namespace_active(ns)?;
    let sa = st.get(&ResourceType::of::<ServiceAccount>(), Some(ns), name)?;
    Ok(sa.metadata.uid.unwrap_or_default())
}

impl Tokens {
    /// TokenRequest: a token for `ns/sa` valid `expiration_seconds` from now.
    pub(crate) fn request(
        &self,
        st: &State,
        ns: &str,
        sa: &str,
        audiences: &[String],
        expiration_seconds: i64,
    ) -> Result<IssuedToken> {
        validate_token_request(ns, sa, audiences, expiration_seconds)?;
        let uid = service_account_uid(st, ns, sa)?;
        let now = st.clock.now();
        let expires_at = now
            .checked_add(jiff::SignedDuration::from_secs(expiration_seconds))
            .map_err(|e| Error::invalid("spec.expirationSeconds", e.to_string()))?;
        let token = random_token(now);
        let mut issued = self.issued.lock();
        issued.retain(|_, r| r.expires_at > now);
        issued.insert(
            token.clone(),
            Record {
                namespace: ns.to_owned(),
                service_account: sa.to_owned(),
                uid,
                audiences: audiences.to_vec(),
                expires_at,
            },
        );
        Ok(IssuedToken { token, expires_at })
    }

    /// TokenReview: the user `token` authenticates as, or `Forbidden` (`unauthorized: …`).
    pub(crate) fn review(&self, st: &State, token: &str) -> Result<TokenUser> {
        let unauthorized = |why: &str| Error::forbidden(format!("unauthorized: {why}"));
        let rec = self
            .issued
            .lock()
            .get(token)
            .cloned()
            .ok_or_else(|| unauthorized("invalid bearer token"))?;
        if st.clock.now() >= rec.expires_at {
            return Err(unauthorized("the token has expired"));
        }
        match service_account_uid(st, &rec.namespace, &rec.service_account) {
            Ok(uid) if uid == rec.uid => {}
            _ => {
                return Err(unauthorized(&format!(
                    "service account {}/{} the token was bound to no longer exists",
                    rec.namespace, rec.service_account
                )));
            }
        }
        Ok(TokenUser {
            username: format!(
                "system:serviceaccount:{}:{}",
                rec.namespace, rec.service_account
            ),
            uid: rec.uid,
            groups: vec![
                "system:serviceaccounts".to_owned(),
                format!("system:serviceaccounts:{}", rec.namespace),
                "system:authenticated".to_owned(),
            ],
            audiences: rec.audiences,
            expires_at: rec.expires_at,
        })
    }
}
