//! The event bus seen from outside: tenancy operations publish their status transitions.

use hxb::events::{Delivery, EngineEvent, EntityKind};

fn drain(
    rx: &mut hxb::events::EventReceiver,
) -> Vec<(EntityKind, String, Option<String>, Option<String>)> {
    std::iter::from_fn(|| rx.try_recv())
        .filter_map(|d| match d {
            Delivery::Event(EngineEvent::StatusChanged(c)) => Some((
                c.kind,
                [Some(c.path.organization), c.path.workspace, c.path.project]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("/"),
                c.from,
                c.to,
            )),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn tenancy_lifecycle_is_published() {
    let engine = hxb::Engine::embedded().unwrap();
    let t = engine.tenancy().unwrap();
    let mut rx = engine.subscribe();
    t.create_organization("acme").execute().await.unwrap();
    t.create_workspace("acme", "dev").execute().await.unwrap();
    t.create_project("acme", "dev", "web")
        .execute()
        .await
        .unwrap();
    let seen = drain(&mut rx);
    let s = |x: &str| Some(x.to_owned());
    for (kind, path) in [
        (EntityKind::Organization, "acme"),
        (EntityKind::Workspace, "acme/dev"),
        (EntityKind::Project, "acme/dev/web"),
    ] {
        let mine: Vec<_> = seen
            .iter()
            .filter(|c| c.0 == kind && c.1 == path)
            .map(|c| (c.2.clone(), c.3.clone()))
            .collect();
        assert_eq!(
            mine.first(),
            Some(&(None, s("Pending"))),
            "{path}: {seen:?}"
        );
        assert_eq!(
            mine.last().map(|c| c.1.clone()),
            Some(s("Active")),
            "{path}: {seen:?}"
        );
    }
    // A refused operation publishes nothing.
    assert!(t.create_workspace("acme", "dev").execute().await.is_err());
    assert!(drain(&mut rx).is_empty());
    // Deleting goes through Deleting to removal.
    t.delete_project("acme", "dev", "web")
        .execute()
        .await
        .unwrap();
    t.reconcile().await.unwrap();
    let seen = drain(&mut rx);
    let web: Vec<_> = seen
        .iter()
        .filter(|c| c.1 == "acme/dev/web")
        .map(|c| c.3.clone())
        .collect();
    assert_eq!(web.first(), Some(&s("Deleting")), "{seen:?}");
    assert_eq!(web.last(), Some(&None), "{seen:?}");
}

#[tokio::test]
async fn closing_the_engine_ends_its_subscriptions() {
    let engine = hxb::Engine::embedded().unwrap();
    let mut waiting = engine.subscribe();
    let mut rx = engine.subscribe();
    engine
        .tenancy()
        .unwrap()
        .create_organization("acme")
        .execute()
        .await
        .unwrap();
    while waiting.try_recv().is_some() {}
    let wait = tokio::spawn(async move { waiting.recv().await });
    tokio::task::yield_now().await;
    engine.close();
    assert_eq!(
        wait.await.unwrap(),
        None,
        "a waiting receiver wakes and ends"
    );
    assert!(
        matches!(rx.recv().await, Some(Delivery::Event(_))),
        "held events first"
    );
    while let Some(d) = rx.recv().await {
        assert!(matches!(d, Delivery::Event(_)));
    }
    assert!(engine.subscribe().recv().await.is_none());
}
