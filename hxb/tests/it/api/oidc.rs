//! OIDC: tokens signed here, a JWKS served on loopback.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hxb::api::oidc::{AuthError, OidcConfig, OidcVerifier};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use parking_lot::RwLock;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};

const ISS: &str = "https://issuer.test";
const AUD: &str = "hxb";

/// An ES256 key made here: its signing key and its public JWK.
struct Key {
    kid: String,
    pkcs8: Vec<u8>,
    jwk: Value,
}

impl Key {
    fn new(kid: &str) -> Key {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let point = pair.public_key().as_ref(); // 0x04 || x || y
        let jwk = json!({"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
            "x": B64.encode(&point[1..33]), "y": B64.encode(&point[33..65])});
        Key {
            kid: kid.into(),
            pkcs8: pkcs8.as_ref().to_vec(),
            jwk,
        }
    }

    fn sign(&self, claims: &Value) -> String {
        let mut h = Header::new(Algorithm::ES256);
        h.kid = Some(self.kid.clone());
        encode(&h, claims, &EncodingKey::from_ec_der(&self.pkcs8)).unwrap()
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(sub: &str) -> Value {
    json!({"iss": ISS, "aud": AUD, "sub": sub, "exp": now() + 600, "iat": now(), "groups": ["ops", "dev"]})
}

/// A JWKS endpoint on loopback whose document can be swapped, counting fetches.
struct Jwks {
    url: String,
    doc: Arc<RwLock<Value>>,
    hits: Arc<AtomicUsize>,
}

async fn serve_jwks(keys: &[&Key]) -> Jwks {
    let doc = Arc::new(RwLock::new(
        json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()}),
    ));
    let hits = Arc::new(AtomicUsize::new(0));
    let (d, h) = (doc.clone(), hits.clone());
    let app = axum::Router::new().route(
        "/jwks.json",
        get(move || {
            let (d, h) = (d.clone(), h.clone());
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                axum::Json(d.read().clone())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Jwks {
        url: format!("http://{addr}/jwks.json"),
        doc,
        hits,
    }
}

fn verifier(url: &str) -> OidcVerifier {
    crate::api::support::install_crypto();
    let mut cfg = OidcConfig::new(ISS, AUD, url);
    cfg.leeway = Duration::ZERO;
    cfg.min_refresh = Duration::ZERO;
    OidcVerifier::new(cfg)
}

#[tokio::test]
async fn valid_token_maps_subject_and_groups() {
    let a = Key::new("a");
    let jwks = serve_jwks(&[&a]).await;
    let v = verifier(&jwks.url);
    let id = v.verify(&a.sign(&claims("alice"))).await.unwrap();
    assert_eq!(id.subject, "alice");
    assert_eq!(id.groups, ["ops", "dev"]);
    assert!(id.holds("group:ops"));
    // Cached: a second token does not fetch again.
    v.verify(&a.sign(&claims("bob"))).await.unwrap();
    assert_eq!(jwks.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn bad_tokens_are_refused_by_kind() {
    let a = Key::new("a");
    let jwks = serve_jwks(&[&a]).await;
    let v = verifier(&jwks.url);
    let mut c = claims("alice");
    c["exp"] = json!(now() - 10);
    assert_eq!(v.verify(&a.sign(&c)).await, Err(AuthError::Expired));
    let mut c = claims("alice");
    c["aud"] = json!("someone-else");
    assert_eq!(v.verify(&a.sign(&c)).await, Err(AuthError::Audience));
    let mut c = claims("alice");
    c["iss"] = json!("https://evil.test");
    assert_eq!(v.verify(&a.sign(&c)).await, Err(AuthError::Issuer));
    // Forged: signed by another key claiming kid "a".
    let forger = Key::new("a");
    assert_eq!(
        v.verify(&forger.sign(&claims("alice"))).await,
        Err(AuthError::Signature)
    );
    // Tampered payload.
    let tok = a.sign(&claims("alice"));
    let parts: Vec<&str> = tok.split('.').collect();
    let evil = B64.encode(serde_json::to_vec(&claims("root")).unwrap());
    let tampered = format!("{}.{}.{}", parts[0], evil, parts[2]);
    assert_eq!(v.verify(&tampered).await, Err(AuthError::Signature));
    // HMAC and "none" are not accepted.
    let hs = encode(
        &Header::new(Algorithm::HS256),
        &claims("alice"),
        &EncodingKey::from_secret(b"k"),
    )
    .unwrap();
    assert!(matches!(v.verify(&hs).await, Err(AuthError::Algorithm(_))));
    let none = format!("{}.{}.", B64.encode(br#"{"alg":"none"}"#), parts[1]);
    assert!(matches!(
        v.verify(&none).await,
        Err(AuthError::Malformed(_) | AuthError::Algorithm(_))
    ));
    assert!(matches!(
        v.verify("not-a-token").await,
        Err(AuthError::Malformed(_))
    ));
    // Unknown key id.
    let b = Key::new("b");
    assert_eq!(
        v.verify(&b.sign(&claims("alice"))).await,
        Err(AuthError::UnknownKey("b".into()))
    );
}

#[tokio::test]
async fn rotated_keys_are_fetched_and_refetches_are_rate_limited() {
    let (a, b) = (Key::new("a"), Key::new("b"));
    let jwks = serve_jwks(&[&a]).await;
    let v = verifier(&jwks.url);
    v.verify(&a.sign(&claims("alice"))).await.unwrap();
    *jwks.doc.write() = json!({"keys": [b.jwk.clone()]});
    assert_eq!(
        v.verify(&b.sign(&claims("alice"))).await.unwrap().subject,
        "alice"
    );
    // After rotation the old key is gone.
    assert_eq!(
        v.verify(&a.sign(&claims("alice"))).await,
        Err(AuthError::UnknownKey("a".into()))
    );

    let mut cfg = OidcConfig::new(ISS, AUD, &jwks.url);
    cfg.min_refresh = Duration::from_secs(3600);
    let limited = OidcVerifier::new(cfg);
    limited.verify(&b.sign(&claims("alice"))).await.unwrap();
    let before = jwks.hits.load(Ordering::SeqCst);
    for i in 0..5 {
        let k = Key::new(&format!("forged-{i}"));
        assert!(matches!(
            limited.verify(&k.sign(&claims("x"))).await,
            Err(AuthError::UnknownKey(_))
        ));
    }
    assert_eq!(
        jwks.hits.load(Ordering::SeqCst),
        before,
        "unknown key ids must not refetch within min_refresh"
    );
}

#[tokio::test]
async fn unreachable_jwks_is_unavailable() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", closed.local_addr().unwrap());
    drop(closed);
    let v = verifier(&url);
    let a = Key::new("a");
    let e = v.verify(&a.sign(&claims("alice"))).await.unwrap_err();
    assert!(matches!(e, AuthError::JwksUnavailable(_)), "{e:?}");
    assert_eq!(e.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn router_behind_oidc() {
    let a = Key::new("a");
    let jwks = serve_jwks(&[&a]).await;
    let v = Arc::new(verifier(&jwks.url));
    let engine = hxb::Engine::embedded().unwrap();
    let app = hxb::api::router(&engine)
        .unwrap()
        .layer(axum::middleware::from_fn_with_state(
            v,
            hxb::api::oidc::authenticate,
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = reqwest::Client::new();
    let post = |tok: Option<String>| {
        let mut rb = client
            .post(format!("{base}/api/v1/organizations"))
            .json(&json!({"name": "acme"}));
        if let Some(t) = tok {
            rb = rb.bearer_auth(t);
        }
        async move {
            let r = rb.send().await.unwrap();
            let st = r.status().as_u16();
            (st, r.json::<Value>().await.unwrap())
        }
    };
    let mut expired = claims("alice");
    expired["exp"] = json!(now() - 60);
    let (st, e) = post(Some(a.sign(&expired))).await;
    assert_eq!((st, e["code"].as_str()), (401, Some("token_expired")));
    let mut wrong = claims("alice");
    wrong["aud"] = json!("other");
    assert_eq!(post(Some(a.sign(&wrong))).await.1["code"], "wrong_audience");
    assert_eq!(
        post(Some(Key::new("a").sign(&claims("alice")))).await.1["code"],
        "bad_signature"
    );
    assert_eq!(post(None).await.0, 401);
    let t = engine.tenancy().unwrap();
    assert!(
        t.organizations().await.unwrap().is_empty(),
        "refused requests change nothing"
    );
    let (st, org) = post(Some(a.sign(&claims("alice")))).await;
    assert_eq!(st, 201, "{org}");
    let m = t.members("acme").await.unwrap();
    assert_eq!(m[0].subject.as_str(), "alice");
}

/// Token subjects and groups reach roles two ways: stored memberships of the subject or of
/// `group:<g>`, and the verifier's configured group bindings.
#[tokio::test]
async fn token_groups_map_to_members_and_roles() {
    let a = Key::new("a");
    let jwks = serve_jwks(&[&a]).await;
    crate::api::support::install_crypto();
    let mut cfg = OidcConfig::new(ISS, AUD, &jwks.url).group_bindings(
        hxb::api::GroupBindings::default()
            .bind("platform", "acme", None, None, "admin")
            .unwrap()
            .bind("web-team", "acme", Some("dev"), None, "viewer")
            .unwrap(),
    );
    cfg.leeway = Duration::ZERO;
    let v = Arc::new(OidcVerifier::new(cfg));
    let engine = hxb::Engine::embedded().unwrap();
    let t = engine.tenancy().unwrap();
    t.create_organization("acme")
        .plan("professional")
        .execute()
        .await
        .unwrap();
    let q: hxb::ResourceList = serde_json::from_value(json!({"pods": "10"})).unwrap();
    t.create_workspace("acme", "dev")
        .quota(q.clone())
        .execute()
        .await
        .unwrap();
    t.create_workspace("acme", "prod")
        .quota(q)
        .execute()
        .await
        .unwrap();
    t.add_member("acme", "group:ops")
        .workspace("prod")
        .role("developer")
        .execute()
        .await
        .unwrap();
    let app = hxb::api::router(&engine)
        .unwrap()
        .layer(axum::middleware::from_fn_with_state(
            v,
            hxb::api::oidc::authenticate,
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = reqwest::Client::new();
    let token = |sub: &str, groups: &[&str]| {
        let mut c = claims(sub);
        c["groups"] = json!(groups);
        a.sign(&c)
    };
    let call = |method: reqwest::Method, path: &str, tok: String, body: Option<Value>| {
        let mut rb = client
            .request(method, format!("{base}{path}"))
            .bearer_auth(tok);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        async move { rb.send().await.unwrap().status().as_u16() }
    };
    use reqwest::Method as M;
    let ws = "/api/v1/organizations/acme/workspaces";
    let new_ws = || Some(json!({"name": "qa", "quota": {"pods": "1"}}));
    // Bound to organization admin by group: manages workspaces without a stored membership.
    assert_eq!(
        call(M::POST, ws, token("carol", &["platform"]), new_ws()).await,
        201
    );
    // Bound to workspace viewer: reads dev, nothing else, changes nothing.
    let dave = token("dave", &["web-team"]);
    assert_eq!(
        call(M::GET, &format!("{ws}/dev"), dave.clone(), None).await,
        200
    );
    assert_eq!(
        call(M::GET, &format!("{ws}/prod"), dave.clone(), None).await,
        403
    );
    let prj = Some(json!({"name": "x"}));
    assert_eq!(
        call(M::POST, &format!("{ws}/dev/projects"), dave, prj.clone()).await,
        403
    );
    // A stored `group:ops` membership applies to anyone whose token says `ops`.
    let erin = token("erin", &["ops"]);
    assert_eq!(
        call(M::GET, &format!("{ws}/prod"), erin.clone(), None).await,
        200
    );
    assert_eq!(call(M::GET, &format!("{ws}/dev"), erin, None).await, 403);
    // No group, no role.
    assert_eq!(
        call(
            M::GET,
            "/api/v1/organizations/acme",
            token("frank", &[]),
            None
        )
        .await,
        403
    );
    let names: Vec<String> = t
        .workspaces("acme")
        .await
        .unwrap()
        .iter()
        .map(|w| w.name.to_string())
        .collect();
    assert_eq!(
        names,
        ["dev", "prod", "qa"],
        "only the authorised create happened"
    );
    // Bindings are not stored memberships.
    assert!(
        t.members("acme")
            .await
            .unwrap()
            .iter()
            .all(|m| m.subject.as_str() == "group:ops")
    );
}
