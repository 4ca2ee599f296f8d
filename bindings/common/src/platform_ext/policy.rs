//! Plan policy over plain data: the engine's admission of a manifest against the plan of the
//! workspace owning its namespace ([`hxb::Tenancy::review_manifest`]), as a review or as an
//! admission that refuses, and the Pod Security Standards level of a workspace.
//!
//! A refusal is the engine's own `forbidden` error (the same message `Engine::apply` gives)
//! with the violations added to its details, so each binding raises its usual typed error
//! and callers read the field paths from `details.violations`.

use hxb::core::cluster::DynamicObject;
use hxb::policy::ManifestReview;
use hxb::{Engine, Error, Result};
use serde_json::{Value, json};

use crate::ErrorInfo;
use crate::platform::json;

/// A manifest as the engine's object type (malformed: `invalid_input`).
fn object(manifest: Value) -> Result<DynamicObject> {
    serde_json::from_value(manifest).map_err(|e| Error::invalid("manifest", e.to_string()))
}

/// The review as JSON: `{governed, admitted, organization, workspace, plan, level, version,
/// policy, violations: [{object, path, message}]}`; outside tenant project namespaces
/// `{governed: false, admitted: true, violations: []}`.
fn review_json(review: Option<&ManifestReview>) -> Result<Value> {
    Ok(match review {
        None => json!({"governed": false, "admitted": true, "violations": []}),
        Some(r) => json!({
            "governed": true,
            "admitted": r.admitted(),
            "organization": r.organization,
            "workspace": r.workspace,
            "plan": r.plan,
            "level": r.policy.level,
            "version": r.policy.version,
            "policy": json(&r.policy)?,
            "violations": json(&r.violations)?,
        }),
    })
}

/// What the engine's admission says about `manifest`, without writing anything: the review
/// (see the module docs), violations included. Only a malformed manifest or image reference
/// (`invalid_input`) or a store failure is an error.
pub async fn check_manifest(engine: &Engine, manifest: Value) -> Result<Value> {
    let obj = object(manifest)?;
    let review = engine.tenancy()?.review_manifest(&obj).await?;
    review_json(review.as_ref())
}

/// Admit `manifest` as `Engine::create`/`apply` would, without writing anything: the review
/// when admitted; when refused, the engine's `forbidden` error with `details` holding
/// `reason`, `organization`, `workspace`, `plan`, `level`, `version` and `violations`
/// (`[{object, path, message}]`).
pub async fn admit_manifest(
    engine: &Engine,
    manifest: Value,
) -> std::result::Result<Value, ErrorInfo> {
    let info = |e: Error| ErrorInfo::from_error(&e);
    let obj = object(manifest).map_err(info)?;
    let tenancy = engine.tenancy().map_err(info)?;
    let review = tenancy.review_manifest(&obj).await.map_err(info)?;
    let value = review_json(review.as_ref()).map_err(info)?;
    // the engine's own refusal (its message), with the review as details
    let Some(err) = review.as_ref().and_then(ManifestReview::refusal) else {
        return Ok(value);
    };
    let mut out = ErrorInfo::from_error(&err);
    if let (Some(details), Value::Object(review)) = (out.details.as_object_mut(), value) {
        for key in [
            "organization",
            "workspace",
            "plan",
            "level",
            "version",
            "violations",
        ] {
            if let Some(v) = review.get(key) {
                details.insert(key.to_owned(), v.clone());
            }
        }
    }
    Err(out)
}

/// The policy of workspace `org/ws`'s plan: `{organization, workspace, plan, level, version,
/// labels, allowed_registries, require_requests, allow_privileged}` (`level`: `privileged`,
/// `baseline` or `restricted`; `labels`: the `pod-security.kubernetes.io/*` labels its
/// project namespaces carry).
pub async fn workspace_policy(engine: &Engine, org: &str, ws: &str) -> Result<Value> {
    let t = engine.tenancy()?;
    let workspace = t.workspace(org, ws).await?;
    let policy = t.plan_policy(workspace.plan.as_str())?;
    let mut out = json(&policy)?;
    if let Value::Object(m) = &mut out {
        m.insert("organization".into(), json(&workspace.organization)?);
        m.insert("workspace".into(), json(&workspace.name)?);
        m.insert("plan".into(), json(&workspace.plan)?);
        m.insert("labels".into(), json(policy.namespace_labels())?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::{create_organization, create_project, create_workspace};

    fn pod(privileged: bool) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "acme-dev-web"},
            "spec": {"containers": [{"name": "app", "image": "nginx",
                "securityContext": {"privileged": privileged}}]}})
    }

    #[tokio::test]
    async fn reviews_admissions_and_levels() {
        let e = Engine::embedded().unwrap();
        create_organization(&e, "acme", Some("starter"), None)
            .await
            .unwrap();
        create_workspace(&e, "acme", "dev", None).await.unwrap();
        create_project(&e, "acme", "dev", "web").await.unwrap();
        let level = workspace_policy(&e, "acme", "dev").await.unwrap();
        assert_eq!(level["level"], "baseline");
        assert_eq!(level["plan"], "starter");
        assert_eq!(
            level["labels"]["pod-security.kubernetes.io/enforce"],
            "baseline"
        );
        let ok = admit_manifest(&e, pod(false)).await.unwrap();
        assert_eq!(
            (ok["governed"].clone(), ok["admitted"].clone()),
            (json!(true), json!(true))
        );
        let review = check_manifest(&e, pod(true)).await.unwrap();
        assert_eq!(review["admitted"], false);
        let path = "spec.containers[0].securityContext.privileged";
        assert_eq!(review["violations"][0]["path"], path);
        let err = admit_manifest(&e, pod(true)).await.unwrap_err();
        assert_eq!(err.kind, "forbidden");
        assert_eq!(err.details["violations"][0]["path"], path);
        assert_eq!(err.details["level"], "baseline");
        // the same refusal as the engine's own
        let engine_err = e.create(pod(true)).await.unwrap_err();
        assert_eq!(err.message, engine_err.to_string());
        assert!(e.get("Pod", "p", Some("acme-dev-web")).await.is_err());
        // outside tenant namespaces the engine does not judge
        let mut other = pod(true);
        other["metadata"]["namespace"] = json!("default");
        let r = check_manifest(&e, other).await.unwrap();
        assert_eq!(r["governed"], false);
        let mut bad = pod(false);
        bad["spec"]["containers"][0]["image"] = json!("Bad Image");
        let err = admit_manifest(&e, bad.clone()).await.unwrap_err();
        assert_eq!(err.kind, "invalid_input");
        let err = check_manifest(&e, bad).await.unwrap_err();
        assert_eq!(err.kind(), hxb::ErrorKind::InvalidInput);
        let err = check_manifest(&e, json!({"metadata": {"name": 5}}))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), hxb::ErrorKind::InvalidInput);
    }
}
