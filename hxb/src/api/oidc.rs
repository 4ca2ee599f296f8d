//! OIDC bearer tokens → [`Identity`]: signature against the issuer's JWKS document, issuer,
//! audience, expiry; the subject and groups claims become the identity, and through it the
//! memberships (a member `group:<g>` applies to everyone in group `g`).
//!
//! ```no_run
//! use std::sync::Arc;
//! use hxb::api::oidc::{OidcConfig, OidcVerifier};
//! # fn f(engine: &hxb::Engine) -> hxb::Result<()> {
//! let verifier = Arc::new(OidcVerifier::new(OidcConfig::new(
//!     "https://issuer.example.com",
//!     "hxb",
//!     "https://issuer.example.com/.well-known/jwks.json",
//! )));
//! let app = hxb::api::router(engine)?.layer(axum::middleware::from_fn_with_state(
//!     verifier,
//!     hxb::api::oidc::authenticate,
//! ));
//! # let _ = app; Ok(()) }
//! ```
//!
//! Keys are cached; a token signed by a key id not in the cache triggers one re-fetch (at
//! most once per [`OidcConfig::min_refresh`]), so rotated keys are picked up and forged key
//! ids cannot make the verifier hammer the issuer. A JWKS that cannot be fetched while no
//! cached key fits is `jwks_unavailable` (503); everything wrong with the token itself is
//! 401 with a code naming what.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use parking_lot::RwLock;
use serde_json::Value;

use crate::api::error::ApiError;
use crate::api::identity::{GroupBindings, Identity};

/// What to accept.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// Expected `iss`.
    pub issuer: String,
    /// Accepted `aud` values (one must match).
    pub audiences: Vec<String>,
    /// Where the JWKS document is served.
    pub jwks_url: String,
    /// Claim holding the subject (default `sub`; `email` is common).
    pub subject_claim: String,
    /// Claim holding the groups, a string array (default `groups`).
    pub groups_claim: String,
    /// Clock skew tolerated on `exp`/`nbf` (default 30 s).
    pub leeway: Duration,
    /// Minimum time between two JWKS fetches triggered by unknown key ids (default 10 s).
    pub min_refresh: Duration,
    /// Timeout of a JWKS fetch (default 5 s).
    pub fetch_timeout: Duration,
    /// Roles granted to the token's groups (default: none; stored `group:<g>` memberships
    /// apply either way).
    pub group_bindings: GroupBindings,
}

impl OidcConfig {
    /// Issuer, one audience, JWKS URL; defaults for the rest.
    pub fn new(issuer: &str, audience: &str, jwks_url: &str) -> Self {
        OidcConfig {
            issuer: issuer.into(),
            audiences: vec![audience.into()],
            jwks_url: jwks_url.into(),
            subject_claim: "sub".into(),
            groups_claim: "groups".into(),
            leeway: Duration::from_secs(30),
            min_refresh: Duration::from_secs(10),
            fetch_timeout: Duration::from_secs(5),
            group_bindings: GroupBindings::default(),
        }
    }

    /// Grant roles to token groups (see [`GroupBindings`]).
    #[must_use]
    pub fn group_bindings(mut self, bindings: GroupBindings) -> Self {
        self.group_bindings = bindings;
        self
    }
}

/// Why a token was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer …` header.
    #[error("no bearer token")]
    Missing,
    /// Not a well-formed JWT, or a claim has the wrong type.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// An algorithm this verifier does not accept (`none`, HMAC, …) or one that does not
    /// match the key.
    #[error("algorithm not accepted: {0}")]
    Algorithm(String),
    /// No key of the JWKS has the token's key id.
    #[error("unknown signing key {0:?}")]
    UnknownKey(String),
    /// The signature does not verify.
    #[error("bad signature")]
    Signature,
    /// `exp` has passed (or `nbf` is in the future).
    #[error("token expired or not yet valid")]
    Expired,
    /// `iss` is not the configured issuer.
    #[error("wrong issuer")]
    Issuer,
    /// No `aud` value is accepted.
    #[error("wrong audience")]
    Audience,
    /// The JWKS document could not be fetched or parsed.
    #[error("JWKS unavailable: {0}")]
    JwksUnavailable(String),
}

impl AuthError {
    /// Stable code (`token_expired`, `wrong_audience`, …).
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing => "unauthenticated",
            AuthError::Malformed(_) => "malformed_token",
            AuthError::Algorithm(_) => "algorithm_not_accepted",
            AuthError::UnknownKey(_) => "unknown_key",
            AuthError::Signature => "bad_signature",
            AuthError::Expired => "token_expired",
            AuthError::Issuer => "wrong_issuer",
            AuthError::Audience => "wrong_audience",
            AuthError::JwksUnavailable(_) => "jwks_unavailable",
        }
    }

    /// 503 when the JWKS is unavailable, 401 otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::JwksUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        ApiError::new(e.status(), e.code(), e.to_string())
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}

const ACCEPTED: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

struct Cache {
    keys: JwkSet,
    fetched: Option<Instant>,
}

/// Validates tokens against one issuer. Share it (`Arc`) between requests.
pub struct OidcVerifier {
    cfg: OidcConfig,
    client: reqwest::Client,
    cache: RwLock<Cache>,
    fetch: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for OidcVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcVerifier")
            .field("issuer", &self.cfg.issuer)
            .finish_non_exhaustive()
    }
}

impl OidcVerifier {
    /// A verifier; the JWKS is fetched on first use.
    pub fn new(cfg: OidcConfig) -> Self {
        crate::core::install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(cfg.fetch_timeout)
            .build()
            .unwrap_or_default();
        OidcVerifier {
            cfg,
            client,
            cache: RwLock::new(Cache {
                keys: JwkSet { keys: Vec::new() },
                fetched: None,
            }),
            fetch: tokio::sync::Mutex::new(()),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &OidcConfig {
        &self.cfg
    }

    /// Validate `token` and return who it names.
    pub async fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        let header = decode_header(token).map_err(|e| AuthError::Malformed(e.to_string()))?;
        if !ACCEPTED.contains(&header.alg) {
            return Err(AuthError::Algorithm(format!("{:?}", header.alg)));
        }
        let kid = header.kid.clone().unwrap_or_default();
        let jwk = self.key(&kid).await?;
        if let Some(a) = jwk.common.key_algorithm
            && format!("{a:?}") != format!("{:?}", header.alg)
        {
            return Err(AuthError::Algorithm(format!(
                "{:?} with a {a:?} key",
                header.alg
            )));
        }
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|e| AuthError::JwksUnavailable(format!("bad key {kid:?}: {e}")))?;
        let mut v = Validation::new(header.alg);
        v.set_issuer(&[&self.cfg.issuer]);
        v.set_audience(&self.cfg.audiences);
        v.leeway = self.cfg.leeway.as_secs();
        v.validate_nbf = true;
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data = decode::<Value>(token, &key, &v).map_err(refusal)?;
        self.identity(&data.claims)
    }

    fn identity(&self, claims: &Value) -> Result<Identity, AuthError> {
        let subject = claims[&self.cfg.subject_claim]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                AuthError::Malformed(format!("no {:?} claim", self.cfg.subject_claim))
            })?;
        let groups = match &claims[&self.cfg.groups_claim] {
            Value::Null => Vec::new(),
            Value::Array(a) => a
                .iter()
                .map(|g| g.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| AuthError::Malformed("groups must be strings".into()))?,
            _ => return Err(AuthError::Malformed("groups must be an array".into())),
        };
        let id = Identity::new(subject).with_groups(groups);
        Ok(self.cfg.group_bindings.apply(id))
    }

    /// The key `kid`, fetching the JWKS if it is not cached (rate-limited).
    async fn key(&self, kid: &str) -> Result<Jwk, AuthError> {
        if let Some(k) = self.cached(kid) {
            return Ok(k);
        }
        let _one_fetch = self.fetch.lock().await;
        if let Some(k) = self.cached(kid) {
            return Ok(k);
        }
        let recent = self
            .cache
            .read()
            .fetched
            .is_some_and(|t| t.elapsed() < self.cfg.min_refresh);
        if !recent {
            self.refresh().await?;
        }
        self.cached(kid)
            .ok_or_else(|| AuthError::UnknownKey(kid.to_owned()))
    }

    fn cached(&self, kid: &str) -> Option<Jwk> {
        let c = self.cache.read();
        if kid.is_empty() && c.keys.keys.len() == 1 {
            return c.keys.keys.first().cloned();
        }
        c.keys.find(kid).cloned()
    }

    /// Fetch the JWKS now, replacing the cached keys (kept as they were on failure).
    pub async fn refresh(&self) -> Result<(), AuthError> {
        let unavailable = |e: reqwest::Error| AuthError::JwksUnavailable(e.to_string());
        let resp = self
            .client
            .get(&self.cfg.jwks_url)
            .send()
            .await
            .map_err(unavailable)?
            .error_for_status()
            .map_err(unavailable)?;
        let text = resp.text().await.map_err(unavailable)?;
        let keys: JwkSet = serde_json::from_str(&text)
            .map_err(|e| AuthError::JwksUnavailable(format!("not a JWKS document: {e}")))?;
        *self.cache.write() = Cache {
            keys,
            fetched: Some(Instant::now()),
        };
        Ok(())
    }
}

fn refusal(e: jsonwebtoken::errors::Error) -> AuthError {
    use jsonwebtoken::errors::ErrorKind as K;
    match e.kind() {
        K::InvalidSignature => AuthError::Signature,
        K::ExpiredSignature | K::ImmatureSignature => AuthError::Expired,
        K::InvalidIssuer => AuthError::Issuer,
        K::InvalidAudience => AuthError::Audience,
        K::InvalidAlgorithm | K::MissingAlgorithm | K::InvalidAlgorithmName => {
            AuthError::Algorithm(e.to_string())
        }
        _ => AuthError::Malformed(e.to_string()),
    }
}

/// Axum middleware: verify `Authorization: Bearer <token>` and put the [`Identity`] into the
/// request; refuse with the [`AuthError`] otherwise (nothing behind it runs).
pub async fn authenticate(
    State(v): State<Arc<OidcVerifier>>,
    mut req: Request,
    next: Next,
) -> Response {
    let token = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::to_owned);
    let Some(token) = token else {
        return AuthError::Missing.into_response();
    };
    match v.verify(token.trim()).await {
        Ok(id) => {
            req.extensions_mut().insert(id);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}
