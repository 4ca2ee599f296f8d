//! Reconcile: make the cluster say what the rendering says, writing only differences.
//!
//! [`reconcile_objects`] takes the desired objects of a scope (one project, one workspace, one
//! organization or everything) and a label selector that finds what hxb owns in that scope:
//!
//! 1. list each managed type once with the selector (reads only);
//! 2. for each desired object: absent → apply (create), present but not containing the
//!    desired fields ([`diff::contains`]) → apply (repairs out-of-band edits), else nothing;
//! 3. every live object the selector finds that is not desired is an orphan → delete (a
//!    Namespace's contents go with it, so they are not deleted one by one).
//!
//! Writes are server-side applies with field manager `hxb` (idempotent), so an unchanged
//! tenant costs zero writes and a retried write after a lost response does no harm. Calls that
//! fail with a retryable error (conflict, unavailable, timeout) are retried per
//! [`RetryPolicy`]; what still fails is reported, and the next reconcile picks it up.

pub mod diff;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;

use hxb_core::cluster::{ApplyOptions, DynamicObject, ListOptions, ResourceType};
use hxb_core::{ClusterBackend, Error, ErrorKind, Result, Selector};
use k8s_openapi::api::core::v1::{LimitRange, Namespace, ResourceQuota, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};

use crate::render::DesiredObject;

/// The types tenancy rendering produces, in apply order (Namespace first).
pub fn managed_types() -> Vec<ResourceType> {
    vec![
        ResourceType::of::<Namespace>(),
        ResourceType::of::<ResourceQuota>(),
        ResourceType::of::<LimitRange>(),
        ResourceType::of::<NetworkPolicy>(),
        ResourceType::of::<Role>(),
        ResourceType::of::<RoleBinding>(),
        ResourceType::of::<ServiceAccount>(),
    ]
}

/// How often and how patiently to retry retryable failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per call (1 = no retry).
    pub attempts: u32,
    /// Delay before the first retry; doubles each time.
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            backoff: Duration::from_millis(5),
        }
    }
}

/// Run `f` until it succeeds, fails with a non-retryable error, or attempts run out.
pub async fn retry<T, F, Fut>(policy: RetryPolicy, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut delay = policy.backoff;
    let mut attempt = 1;
    loop {
        match f().await {
            Err(e) if e.is_retryable() && attempt < policy.attempts.max(1) => {
                attempt += 1;
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                delay = delay.saturating_mul(2);
            }
            other => return other,
        }
    }
}

/// What a reconcile did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Objects created.
    pub created: usize,
    /// Objects updated (drift repaired or desired state changed).
    pub updated: usize,
    /// Orphans deleted.
    pub deleted: usize,
    /// Objects already as desired.
    pub unchanged: usize,
    /// Failures left after retries: `(object, error)`.
    pub errors: Vec<(String, String)>,
}

impl ReconcileReport {
    /// Cluster writes issued (created + updated + deleted).
    pub fn writes(&self) -> usize {
        self.created + self.updated + self.deleted
    }

    /// Whether everything converged.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    /// Add another report's counts.
    pub fn merge(&mut self, other: ReconcileReport) {
        self.created += other.created;
        self.updated += other.updated;
        self.deleted += other.deleted;
        self.unchanged += other.unchanged;
        self.errors.extend(other.errors);
    }

    /// The first error as an [`Error`], if any.
    pub fn to_error(&self) -> Option<Error> {
        self.errors.first().map(|(obj, e)| {
            Error::unavailable(
                format!(
                    "reconcile left {} error(s); first: {obj}: {e}",
                    self.errors.len()
                ),
                None,
            )
        })
    }
}

type Key = (ResourceType, Option<String>, String);

fn key_of(ty: &ResourceType, o: &DynamicObject) -> Key {
    (
        ty.clone(),
        o.metadata.namespace.clone(),
        o.metadata.name.clone().unwrap_or_default(),
    )
}

fn describe(k: &Key) -> String {
    match &k.1 {
        Some(ns) => format!("{} {ns}/{}", k.0.kind, k.2),
        None => format!("{} {}", k.0.kind, k.2),
    }
}

/// Reconcile `desired` into `backend`; live objects of `types` matched by `owned` but not
/// desired are deleted. See the module documentation.
pub async fn reconcile_objects(
    backend: &dyn ClusterBackend,
    desired: &[DesiredObject],
    owned: &Selector,
    types: &[ResourceType],
    policy: RetryPolicy,
) -> ReconcileReport {
    let mut report = ReconcileReport::default();
    let mut live: BTreeMap<Key, DynamicObject> = BTreeMap::new();
    let opts = ListOptions::labels(owned.clone());
    let mut listed: BTreeSet<ResourceType> = BTreeSet::new();
    for ty in types {
        match retry(policy, || backend.list(ty, None, &opts)).await {
            Ok(list) => {
                listed.insert(ty.clone());
                for o in list.items {
                    live.insert(key_of(ty, &o), o);
                }
            }
            Err(e) => report
                .errors
                .push((format!("list {}", ty.plural), e.to_string())),
        }
    }
    let apply_opts = ApplyOptions::default();
    let mut wanted: BTreeSet<Key> = BTreeSet::new();
    for d in desired {
        let key = d.key();
        wanted.insert(key.clone());
        let current = live.get(&key);
        if let Some(cur) = current {
            let (Ok(l), Ok(w)) = (serde_json::to_value(cur), serde_json::to_value(&d.object))
            else {
                report
                    .errors
                    .push((describe(&key), "cannot serialise".into()));
                continue;
            };
            let stale = diff::stale_annotations(&l, &w);
            if !stale.is_empty() {
                let res = retry(policy, || remove_annotations(backend, &d.ty, &key, &stale))
                    .await
                    .and(Ok(()));
                match res {
                    Ok(()) => report.updated += 1,
                    Err(e) => {
                        report.errors.push((describe(&key), e.to_string()));
                        continue;
                    }
                }
                // the apply below (if still needed) sees the cleaned object next time; apply
                // now only if other fields differ too
                if diff::contains(&l, &w) {
                    continue;
                }
            } else if diff::contains(&l, &w) {
                report.unchanged += 1;
                continue;
            }
        } else if !listed.contains(&d.ty) {
            // we could not list this type, so we do not know; do not blindly write
            continue;
        }
        let res = retry(policy, || {
            backend.apply(&d.ty, d.object.clone(), &apply_opts)
        })
        .await;
        match res {
            Ok(_) if current.is_some() => report.updated += 1,
            Ok(_) => report.created += 1,
            Err(e) => report.errors.push((describe(&key), e.to_string())),
        }
    }
    let orphan_namespaces: BTreeSet<String> = live
        .keys()
        .filter(|k| k.0.kind == "Namespace" && k.0.group.is_empty() && !wanted.contains(*k))
        .map(|k| k.2.clone())
        .collect();
    for key in live.keys().filter(|k| !wanted.contains(*k)) {
        if key
            .1
            .as_ref()
            .is_some_and(|ns| orphan_namespaces.contains(ns))
        {
            continue; // goes with its namespace
        }
        let res = retry(policy, || backend.delete(&key.0, key.1.as_deref(), &key.2)).await;
        match res {
            Ok(()) => report.deleted += 1,
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => report
                .errors
                .push((format!("delete {}", describe(key)), e.to_string())),
        }
    }
    report
}

/// Re-read the live object and replace it without `keys` in its annotations (optimistic
/// concurrency on its resourceVersion; a conflict is retried with a fresh read).
async fn remove_annotations(
    backend: &dyn ClusterBackend,
    ty: &ResourceType,
    key: &Key,
    keys: &[&str],
) -> Result<DynamicObject> {
    let mut live = backend.get(ty, key.1.as_deref(), &key.2).await?;
    if let Some(a) = live.metadata.annotations.as_mut() {
        for k in keys {
            a.remove(*k);
        }
    }
    backend.replace(ty, live).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn retry_stops_at_success_or_a_permanent_error() {
        let n = AtomicU32::new(0);
        let p = RetryPolicy {
            attempts: 5,
            backoff: Duration::ZERO,
        };
        let r = retry(p, || async {
            if n.fetch_add(1, Ordering::SeqCst) < 2 {
                Err(Error::conflict("x", "y", "stale"))
            } else {
                Ok(7)
            }
        })
        .await;
        assert_eq!(r.unwrap(), 7);
        assert_eq!(n.load(Ordering::SeqCst), 3);
        n.store(0, Ordering::SeqCst);
        let r: Result<()> = retry(p, || async {
            n.fetch_add(1, Ordering::SeqCst);
            Err(Error::invalid("x", "bad"))
        })
        .await;
        assert_eq!(r.unwrap_err().kind(), ErrorKind::InvalidInput);
        assert_eq!(n.load(Ordering::SeqCst), 1);
        n.store(0, Ordering::SeqCst);
        let r: Result<()> = retry(p, || async {
            n.fetch_add(1, Ordering::SeqCst);
            Err(Error::Timeout {
                operation: "x".into(),
            })
        })
        .await;
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Timeout);
        assert_eq!(n.load(Ordering::SeqCst), 5);
    }
}
