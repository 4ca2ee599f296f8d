//! The restore plan: what restoring a snapshot into a target project would do. Pure.
//!
//! Each application record and object of the (rewritten) snapshot is compared with the live
//! target:
//!
//! | target has | application's object | object hxb does not manage |
//! |---|---|---|
//! | nothing | create | create |
//! | the same object of the same application, same project | unchanged / update | — |
//! | an equal object (live contains every field of the snapshot's) | — | unchanged |
//! | anything else (not managed by hxb, another application's, the renderer's, a different unmanaged object) | **conflict** | **conflict** |
//!
//! Application records: absent → create; equal → unchanged; else update (the record of the
//! same application name is the restore's to replace). An updated application's objects that
//! its restored version no longer renders (its kind or port changed) are listed as delete:
//! reconcile removes them. Nothing else is ever deleted: a restore leaves alone whatever the
//! snapshot does not name.

use std::fmt;

use hxb_core::Name;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::apps::LABEL_APP;
use crate::naming::{LABEL_ORG, LABEL_PROJECT, LABEL_WORKSPACE, MANAGED_BY, MANAGER};
use crate::reconcile::diff::contains;

/// What a restore does to one record or object.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// It is absent and will be created.
    Create,
    /// It is hxb's and differs; it will be updated.
    Update,
    /// It already says what the snapshot says.
    Unchanged,
    /// It belongs to an application the restore replaces and the restored version no longer
    /// renders it (e.g. the kind changed); reconcile will delete it.
    Delete,
    /// It exists and is not the restore's to change: the restore is refused.
    Conflict {
        /// Why.
        reason: String,
    },
}

/// One object in a [`RestorePlan`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectChange {
    /// Kind (`Deployment`).
    pub kind: String,
    /// Namespace in the target.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The application it belongs to, if any.
    pub app: Option<Name>,
    /// What happens to it.
    #[serde(flatten)]
    pub action: Action,
}

impl fmt::Display for ObjectChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.namespace, self.name)?;
        if let Action::Conflict { reason } = &self.action {
            write!(f, " ({reason})")?;
        }
        Ok(())
    }
}

/// One application record in a [`RestorePlan`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppChange {
    /// Application name.
    pub name: Name,
    /// What happens to its record.
    #[serde(flatten)]
    pub action: Action,
}

/// What a restore would do (the answer of a dry run, and the first step of a real one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestorePlan {
    /// The snapshot.
    pub snapshot: String,
    /// Target organization.
    pub organization: Name,
    /// Target workspace.
    pub workspace: Name,
    /// Target project.
    pub project: Name,
    /// Target namespace.
    pub namespace: String,
    /// Application records.
    pub apps: Vec<AppChange>,
    /// Objects (the applications' as they will be rendered, then the others).
    pub objects: Vec<ObjectChange>,
    /// Why the applications would not fit the project's quota, if they would not.
    pub quota_problem: Option<String>,
}

impl RestorePlan {
    /// The conflicting objects (a real restore refuses when there is any).
    pub fn conflicts(&self) -> impl Iterator<Item = &ObjectChange> {
        self.objects
            .iter()
            .filter(|o| matches!(o.action, Action::Conflict { .. }))
    }

    /// Whether the restore would change nothing.
    pub fn is_noop(&self) -> bool {
        self.apps.iter().all(|a| a.action == Action::Unchanged)
            && self.objects.iter().all(|o| o.action == Action::Unchanged)
    }

    /// How many objects would be created, updated, left unchanged, deleted, and conflict.
    pub fn counts(&self) -> PlanCounts {
        let mut c = PlanCounts::default();
        for o in &self.objects {
            match o.action {
                Action::Create => c.create += 1,
                Action::Update => c.update += 1,
                Action::Unchanged => c.unchanged += 1,
                Action::Delete => c.delete += 1,
                Action::Conflict { .. } => c.conflict += 1,
            }
        }
        c
    }
}

/// Object counts of a [`RestorePlan`] by action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanCounts {
    /// To create.
    pub create: usize,
    /// To update.
    pub update: usize,
    /// Already as the snapshot says.
    pub unchanged: usize,
    /// To delete (objects of replaced applications their restored version no longer has).
    pub delete: usize,
    /// Conflicts.
    pub conflict: usize,
}

impl PlanCounts {
    /// Counts of a plan that only creates `n` objects.
    pub fn creates(n: usize) -> Self {
        PlanCounts {
            create: n,
            ..Self::default()
        }
    }
}

/// The project an object would be restored into.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// Organization.
    pub organization: &'a Name,
    /// Workspace.
    pub workspace: &'a Name,
    /// Project.
    pub project: &'a Name,
}

fn label<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v["metadata"]["labels"][k].as_str()
}

/// The action for one object: `desired` is what the restore wants (rewritten to the target),
/// `app` its application (`None` for an object hxb does not manage), `live` the target's
/// object of the same identity, if any.
pub fn object_action(
    desired: &Value,
    app: Option<&Name>,
    live: Option<&Value>,
    target: Target<'_>,
) -> Action {
    let Some(live) = live else {
        return Action::Create;
    };
    let managed = label(live, MANAGED_BY) == Some(MANAGER);
    let same_project = label(live, LABEL_ORG) == Some(target.organization.as_str())
        && label(live, LABEL_WORKSPACE) == Some(target.workspace.as_str())
        && label(live, LABEL_PROJECT) == Some(target.project.as_str());
    let live_app = label(live, LABEL_APP);
    let conflict = |reason: String| Action::Conflict { reason };
    let owned_elsewhere = || {
        conflict(match live_app {
            Some(other) => format!("owned by application {other}"),
            None => "owned by the project itself".into(),
        })
    };
    match app {
        Some(app) => {
            if !managed {
                conflict("exists and is not managed by hxb".into())
            } else if live_app != Some(app.as_str()) || !same_project {
                owned_elsewhere()
            } else if contains(live, desired) {
                Action::Unchanged
            } else {
                Action::Update
            }
        }
        None => {
            if contains(live, desired) {
                Action::Unchanged
            } else if managed {
                owned_elsewhere()
            } else {
                conflict("exists and differs from the snapshot".into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn n(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    fn obj(labels: Value, replicas: i64) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "shop", "namespace": "acme-dev-web", "labels": labels},
            "spec": {"replicas": replicas}})
    }

    fn owned(app: &str) -> Value {
        json!({"app.kubernetes.io/managed-by": "hxb", "hxb.io/organization": "acme",
            "hxb.io/workspace": "dev", "hxb.io/project": "web", "hxb.io/app": app})
    }

    #[test]
    fn ownership_decides_between_update_and_conflict() {
        let (o, w, p) = (n("acme"), n("dev"), n("web"));
        let t = Target {
            organization: &o,
            workspace: &w,
            project: &p,
        };
        let shop = n("shop");
        let want = obj(owned("shop"), 2);
        assert_eq!(object_action(&want, Some(&shop), None, t), Action::Create);
        let mut live = obj(owned("shop"), 2);
        live["metadata"]["uid"] = json!("x");
        live["status"] = json!({"replicas": 2});
        assert_eq!(
            object_action(&want, Some(&shop), Some(&live), t),
            Action::Unchanged
        );
        assert_eq!(
            object_action(&want, Some(&shop), Some(&obj(owned("shop"), 1)), t),
            Action::Update
        );
        for (live, why) in [
            (obj(owned("cart"), 2), "owned by application cart"),
            (obj(json!({"team": "x"}), 2), "not managed by hxb"),
        ] {
            match object_action(&want, Some(&shop), Some(&live), t) {
                Action::Conflict { reason } => assert!(reason.contains(why), "{reason}"),
                other => panic!("{other:?}"),
            }
        }
        // another project's object of the same app name is not ours either
        let mut elsewhere = obj(owned("shop"), 2);
        elsewhere["metadata"]["labels"]["hxb.io/project"] = json!("api");
        assert!(matches!(
            object_action(&want, Some(&shop), Some(&elsewhere), t),
            Action::Conflict { .. }
        ));
        // unmanaged objects: equal is fine, different is a conflict
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "acme-dev-web"}, "data": {"k": "v"}});
        assert_eq!(object_action(&cm, None, Some(&cm), t), Action::Unchanged);
        let mut other = cm.clone();
        other["data"]["k"] = json!("w");
        assert!(matches!(
            object_action(&cm, None, Some(&other), t),
            Action::Conflict { .. }
        ));
    }
}
