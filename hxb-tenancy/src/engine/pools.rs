//! Dedicated node pools: the node side of a dedicated plan.
//!
//! Capacity for dedicated plans is a set of nodes the operator labels
//! `hxb.io/node-size=<s|m|l>`. A dedicated workspace's reconcile claims as many free nodes of
//! its plan's size as the plan says — a free node has the size label and no `hxb.io/pool` —
//! by labelling them `hxb.io/pool=<org>.<ws>` and tainting them
//! `dedicated=<org>.<ws>:NoSchedule`; only the workspace's pods (which carry the toleration
//! and node selector) land there. When the workspace goes back to a shared plan or is
//! deleted, its nodes are released (label and taint removed). Nodes already right cost no
//! write. Claims are optimistic (`replace` on the node's resourceVersion): two organizations
//! racing for one node cannot both get it; the loser picks another.
//!
//! Too few free nodes leave the workspace in `Error` with the reason; the next reconcile
//! retries.

use std::collections::BTreeMap;

use hxb_core::cluster::{DynamicObject, ListOptions, ResourceType};
use hxb_core::selector::Requirement;
use hxb_core::{ErrorKind, NodeSize, PlanKind, Result, Selector};
use k8s_openapi::api::core::v1::Node;

use super::Tenancy;
use super::state::OrgSnapshot;
use super::sync::Part;
use crate::naming::{LABEL_POOL, TAINT_DEDICATED, pool_id};
use crate::reconcile::{ReconcileReport, retry};

/// Label marking a node as dedicated capacity of a size (`s`, `m`, `l`).
pub const LABEL_NODE_SIZE: &str = "hxb.io/node-size";

/// The label value of a node size.
pub fn size_label(s: NodeSize) -> &'static str {
    match s {
        NodeSize::S => "s",
        NodeSize::M => "m",
        _ => "l",
    }
}

fn name_of(n: &DynamicObject) -> String {
    n.metadata.name.clone().unwrap_or_default()
}

/// Set (`Some(pool)`) or clear (`None`) a node's pool label and taint; `None` if unchanged.
pub(crate) fn with_pool(mut n: DynamicObject, pool: Option<&str>) -> Option<DynamicObject> {
    let before = n.clone();
    let labels = n.metadata.labels.get_or_insert_with(BTreeMap::new);
    match pool {
        Some(p) => labels.insert(LABEL_POOL.to_owned(), p.to_owned()),
        None => labels.remove(LABEL_POOL),
    };
    let taints = n.data["spec"]["taints"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut kept: Vec<serde_json::Value> = taints
        .into_iter()
        .filter(|t| t["key"] != TAINT_DEDICATED)
        .collect();
    if let Some(p) = pool {
        kept.push(serde_json::json!({"key": TAINT_DEDICATED, "value": p, "effect": "NoSchedule"}));
    }
    if !n.data["spec"].is_object() {
        n.data["spec"] = serde_json::json!({});
    }
    n.data["spec"]["taints"] = serde_json::Value::Array(kept);
    if n.data["spec"]["taints"]
        .as_array()
        .is_some_and(Vec::is_empty)
    {
        n.data["spec"].as_object_mut().map(|s| s.remove("taints"));
    }
    let same = n.metadata.labels == before.metadata.labels && n.data["spec"] == before.data["spec"];
    (!same).then_some(n)
}

/// The nodes a pool may claim: of its size, in no pool. The pool asking is named too
/// (`hxb.io/pool notin (<pool>)`, always true of a node without the label), so a backend that
/// routes by tenant (the fleet) can send the query to the cluster hosting that workspace.
pub fn free_nodes_selector(size: NodeSize, pool: &str) -> Selector {
    Selector::from_labels([(LABEL_NODE_SIZE, size_label(size))])
        .and(Requirement::DoesNotExist(LABEL_POOL.to_owned()))
        .and(Requirement::NotIn(
            LABEL_POOL.to_owned(),
            [pool.to_owned()].into_iter().collect(),
        ))
}

impl Tenancy {
    /// Claim and release dedicated nodes for the workspaces of `part`.
    pub(crate) async fn sync_pools(&self, snap: &OrgSnapshot, part: &Part) -> ReconcileReport {
        let mut report = ReconcileReport::default();
        let org_live = snap.org.0.status != hxb_core::EntityStatus::Deleting;
        for (ws, _) in snap.workspaces.values() {
            if matches!(part, Part::Workspace(w) if *w != ws.name) {
                continue;
            }
            let pool = pool_id(&ws.organization, &ws.name);
            let want = match self.plans().get(ws.plan.as_str()) {
                Ok(p)
                    if p.kind == PlanKind::Dedicated
                        && org_live
                        && ws.status != hxb_core::EntityStatus::Deleting =>
                {
                    p.node_plan.as_ref().map(|np| (np.size, np.nodes as usize))
                }
                Ok(_) => None,
                Err(e) => {
                    report
                        .errors
                        .push((format!("workspace {}", ws.name), e.to_string()));
                    continue;
                }
            };
            if let Err(e) = self.sync_pool(&pool, want, &mut report).await {
                report
                    .errors
                    .push((format!("node pool {pool}"), e.to_string()));
            }
        }
        report
    }

    async fn sync_pool(
        &self,
        pool: &str,
        want: Option<(NodeSize, usize)>,
        report: &mut ReconcileReport,
    ) -> Result<()> {
        let ty = ResourceType::of::<Node>();
        let mine = ListOptions::labels(Selector::from_labels([(LABEL_POOL, pool)]));
        let owned = retry(self.inner.retry, || self.cluster().list(&ty, None, &mine))
            .await?
            .items;
        let (size, count) = want.unwrap_or((NodeSize::S, 0));
        // release surplus (all when not dedicated), keeping the first `count` by name
        let mut kept = 0;
        for n in owned {
            let right_size = n
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(LABEL_NODE_SIZE))
                .map(String::as_str)
                == Some(size_label(size));
            if kept < count && right_size {
                kept += 1;
                // make sure the taint is there too (repair drift)
                if let Some(fixed) = with_pool(n, Some(pool)) {
                    retry(self.inner.retry, || {
                        self.cluster().replace(&ty, fixed.clone())
                    })
                    .await?;
                    report.updated += 1;
                }
            } else if let Some(freed) = with_pool(n, None) {
                retry(self.inner.retry, || {
                    self.cluster().replace(&ty, freed.clone())
                })
                .await?;
                report.updated += 1;
            }
        }
        // claim what is missing (bounded: persistent failures end this round with an error)
        let mut attempts = 0;
        while kept < count {
            attempts += 1;
            if attempts > 3 * count + 5 {
                return Err(hxb_core::Error::unavailable(
                    format!("could not claim nodes for pool {pool}"),
                    None,
                ));
            }
            let free = ListOptions::labels(free_nodes_selector(size, pool));
            let candidates = retry(self.inner.retry, || self.cluster().list(&ty, None, &free))
                .await?
                .items;
            let Some(node) = candidates.into_iter().min_by_key(name_of) else {
                return Err(hxb_core::Error::unavailable(
                    format!(
                        "no free dedicated node of size {} for pool {pool} ({kept} of {count} claimed)",
                        size_label(size)
                    ),
                    None,
                ));
            };
            let claimed = with_pool(node, Some(pool)).expect("a free node changes when claimed");
            match self.cluster().replace(&ty, claimed).await {
                Ok(_) => {
                    kept += 1;
                    report.updated += 1;
                }
                // someone else claimed it first (or a transient failure): look again
                Err(e) if e.kind() == ErrorKind::Conflict || e.is_retryable() => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
