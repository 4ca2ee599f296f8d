//! Invitations: expiring, single-use tokens.

use std::time::Duration;

use hxb_core::ErrorKind;
use hxb_core::cluster::ResourceType;
use k8s_openapi::api::rbac::v1::RoleBinding;

use crate::engine::{env, seed, store_dump};

#[tokio::test]
async fn an_invitation_is_accepted_once_and_only_in_time() {
    let e = env();
    let t = &e.tenancy;
    seed(t).await;
    let inv = t
        .invite("acme", "bob@example.com")
        .workspace("dev")
        .project("api")
        .role("admin")
        .valid_for(Duration::from_secs(3600))
        .actor("alice")
        .execute()
        .await
        .unwrap();
    assert_eq!(inv.token.len(), 32);
    let other = t
        .invite("acme", "carol")
        .role("member")
        .execute()
        .await
        .unwrap();
    assert_ne!(inv.token, other.token);
    // nothing in the cluster until accepted
    let rb = ResourceType::of::<RoleBinding>();
    assert_eq!(
        e.cluster
            .get(&rb, Some("acme-dev-api"), "hxb-admin")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    let m = t.accept_invitation(&inv.token).await.unwrap();
    assert_eq!(m.subject.as_str(), "bob@example.com");
    let b = e
        .cluster
        .get(&rb, Some("acme-dev-api"), "hxb-admin")
        .await
        .unwrap();
    assert_eq!(b.data["subjects"][0]["name"], "bob@example.com");
    // reused: typed error, nothing changes
    let before = store_dump(e.store.as_ref()).await;
    let err = t.accept_invitation(&inv.token).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition);
    assert!(err.to_string().contains("already used"), "{err}");
    assert_eq!(store_dump(e.store.as_ref()).await, before);
    // expired
    let late = t
        .invite("acme", "dave")
        .workspace("dev")
        .role("viewer")
        .valid_for(Duration::from_secs(60))
        .execute()
        .await
        .unwrap();
    e.clock.advance(Duration::from_secs(61));
    let before_late = store_dump(e.store.as_ref()).await;
    let err = t.accept_invitation(&late.token).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition);
    assert!(err.to_string().contains("expired"), "{err}");
    assert_eq!(store_dump(e.store.as_ref()).await, before_late);
    // unknown token, bad role, unknown scope: typed errors
    assert_eq!(
        t.accept_invitation("deadbeef").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        t.invite("acme", "erin")
            .workspace("dev")
            .role("owner")
            .execute()
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        t.invite("acme", "erin")
            .workspace("ghost")
            .role("viewer")
            .execute()
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(before.len() + 1, store_dump(e.store.as_ref()).await.len()); // only dave's invitation was added
    // the audit log says who did what
    let log = t.audit_log(0, 1000).await.unwrap();
    assert!(
        log.iter()
            .any(|a| a.actor == "alice" && a.action == "invite" && a.result == "ok")
    );
    assert!(
        log.iter()
            .any(|a| a.actor == "bob@example.com" && a.action == "accept_invitation")
    );
}
