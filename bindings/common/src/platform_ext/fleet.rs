//! The multi-cluster fleet over plain data: members of an engine opened with
//! [`EngineOptions::fleet`](crate::ops::EngineOptions::fleet), placing a workspace, members
//! with their load, assignments, and moving a workspace between members.
//!
//! A move to a member without room is `quota_exceeded` (quota `cluster <name>`), to a member
//! it may not use (dedicated to another organization, labels) `failed_precondition`; either
//! way nothing changed (the facade's guarantee).

use std::collections::BTreeMap;

use hxb::fleet::{ClusterInfo, FleetMember, LABEL_REGION, MoveReport};
use hxb::{Engine, Result, Selector};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ops::resource_map;
use crate::platform::json;

/// One member cluster of an engine's fleet: an embedded cluster of `nodes` nodes, or a
/// kubeconfig context when `kubeconfig` is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct FleetMemberOptions {
    /// The member's name in the fleet (a DNS label).
    pub name: String,
    /// Nodes of an embedded member (default 3).
    pub nodes: Option<u32>,
    /// A kubeconfig file: the member is that real cluster.
    pub kubeconfig: Option<String>,
    /// The kubeconfig context (default: the file's current context).
    pub context: Option<String>,
    /// The region label (`topology.kubernetes.io/region`).
    pub region: Option<String>,
    /// Other labels placement can match.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Reserve the member for one organization.
    #[serde(alias = "dedicatedTo")]
    pub dedicated_to: Option<String>,
}

impl FleetMemberOptions {
    /// The facade's member description.
    pub fn member(&self) -> FleetMember {
        let mut m = match &self.kubeconfig {
            Some(path) => FleetMember::kube_context(&self.name, path, self.context.as_deref()),
            None => FleetMember::embedded(&self.name, self.nodes.unwrap_or(3) as usize),
        };
        for (k, v) in &self.labels {
            m = m.label(k, v);
        }
        if let Some(r) = &self.region {
            m = m.region(r);
        }
        if let Some(org) = &self.dedicated_to {
            m = m.dedicated_to(org);
        }
        m
    }
}

/// Members from JSON (`[{name, nodes, region, labels, dedicated_to | dedicatedTo, kubeconfig,
/// context}]`); an unknown field or a wrong type is `invalid_input`.
pub fn members_from_json(value: Value) -> Result<Vec<FleetMemberOptions>> {
    serde_json::from_value(value).map_err(|e| hxb::Error::invalid("fleet", e.to_string()))
}

/// Where to place a workspace; every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    /// Required region.
    pub region: Option<String>,
    /// Required cluster labels, as a label selector (`tier=gold,zone in (a,b)`).
    pub require: Option<String>,
    /// Preferred cluster labels, as a label selector.
    pub prefer: Option<String>,
    /// This member exactly.
    pub cluster: Option<String>,
}

/// Place workspace `org/ws` (a workspace already placed keeps its member); returns the
/// member's name. No member qualifies: `unschedulable` (or, for an explicit `cluster`,
/// `quota_exceeded` / `failed_precondition`), nothing stored.
pub async fn place_workspace(
    engine: &Engine,
    org: &str,
    ws: &str,
    at: Placement,
) -> Result<String> {
    let fleet = engine.fleet()?;
    let mut b = fleet.place_workspace(org, ws);
    if let Some(r) = &at.region {
        b = b.region(r);
    }
    if let Some(s) = &at.require {
        b = b.require(&Selector::parse(s)?);
    }
    if let Some(s) = &at.prefer {
        b = b.prefer(Selector::parse(s)?);
    }
    if let Some(c) = &at.cluster {
        b = b.cluster(c);
    }
    b.execute().await
}

/// Every member with its load: `[{name, region, labels, dedicated_to, allocatable, used,
/// free, workspaces}]` (resources as `{cpu, memory, pods}` quantities; `workspaces` as
/// `org/ws`), in registration order.
pub async fn members(engine: &Engine) -> Result<Vec<Value>> {
    let clusters = engine.fleet()?.clusters().await?;
    clusters.iter().map(member_json).collect()
}

fn member_json(c: &ClusterInfo) -> Result<Value> {
    Ok(json!({
        "name": c.name,
        "region": c.labels.get(LABEL_REGION),
        "labels": c.labels,
        "dedicated_to": json(&c.dedicated_to)?,
        "allocatable": resource_map(&c.allocatable),
        "used": resource_map(&c.used),
        "free": resource_map(&c.free()),
        "workspaces": c.workspaces,
    }))
}

/// Where workspace `org/ws` is: `{organization, workspace, cluster, moving_to, leaving}`, or
/// `None` when it is not placed yet.
pub fn assignment(engine: &Engine, org: &str, ws: &str) -> Result<Option<Value>> {
    engine.fleet()?.assignment(org, ws).map(json).transpose()
}

/// Move workspace `org/ws` with its namespaces and applications to member `target`
/// ([`Engine::move_workspace`]): `{from, to, namespaces, copied, deleted_namespaces,
/// released_nodes, reconciled}`.
pub async fn move_workspace(engine: &Engine, org: &str, ws: &str, target: &str) -> Result<Value> {
    Ok(move_json(&engine.move_workspace(org, ws, target).await?))
}

fn move_json(r: &MoveReport) -> Value {
    json!({
        "from": r.from,
        "to": r.to,
        "namespaces": r.namespaces,
        "copied": r.copied,
        "deleted_namespaces": r.deleted_namespaces,
        "released_nodes": r.released_nodes,
        "reconciled": r.reconciled,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{EngineOptions, open};
    use crate::platform::{create_organization, create_project, create_workspace};
    use hxb::ErrorKind;

    #[tokio::test]
    async fn fleet_over_plain_data() {
        let fleet = members_from_json(json!([
            {"name": "big", "nodes": 3, "region": "eu", "labels": {"tier": "gold"}},
            {"name": "small", "nodes": 1, "region": "us"},
        ]))
        .unwrap();
        let e = open(EngineOptions {
            fleet,
            ..EngineOptions::default()
        })
        .await
        .unwrap();
        create_organization(&e, "acme", Some("professional"), None)
            .await
            .unwrap();
        create_workspace(&e, "acme", "dev", None).await.unwrap();
        let at = Placement {
            require: Some("tier=gold".into()),
            ..Placement::default()
        };
        assert_eq!(place_workspace(&e, "acme", "dev", at).await.unwrap(), "big");
        create_project(&e, "acme", "dev", "web").await.unwrap();
        let list = members(&e).await.unwrap();
        assert_eq!(list[0]["name"], "big");
        assert_eq!(list[0]["region"], "eu");
        assert_eq!(list[0]["workspaces"], json!(["acme/dev"]));
        assert_eq!(list[0]["used"]["cpu"], "8"); // the professional plan's quota
        assert_eq!(list[1]["allocatable"]["cpu"], "4");
        // 8 cpu do not fit a 4-cpu member: refused, nothing changed
        let err = move_workspace(&e, "acme", "dev", "small")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::QuotaExceeded);
        assert_eq!(
            assignment(&e, "acme", "dev").unwrap().unwrap()["cluster"],
            "big"
        );
        assert_eq!(members(&e).await.unwrap(), list);
        let bad = members_from_json(json!([{"name": "x", "size": 3}])).unwrap_err();
        assert_eq!(bad.kind(), ErrorKind::InvalidInput);
        assert!(assignment(&e, "acme", "nope").unwrap().is_none());
    }
}
