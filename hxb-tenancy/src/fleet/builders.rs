//! The builders of the registry: registering a member, placing a workspace.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use hxb_core::store::{Batch, Precondition};
use hxb_core::{ClusterBackend, Error, ErrorKind, KubeBackend, Name, Result, Selector};

use super::CLUSTERS;
use super::placement::LABEL_REGION;
use super::registry::{ClusterSource, Fleet, Member, MemberCluster};
use crate::engine::state::encode;

impl Fleet {
    /// Register member cluster `name` served by `backend` (finish with `.execute()`).
    /// Registering a name again with the same labels, dedication and source attaches the
    /// backend (after a restart); with different ones it is `AlreadyExists`.
    pub fn add_cluster(&self, name: &str, backend: Arc<dyn ClusterBackend>) -> AddCluster<'_> {
        AddCluster {
            fleet: self,
            name: name.to_owned(),
            backend: Some(backend),
            labels: BTreeMap::new(),
            dedicated_to: None,
            source: ClusterSource::Attached,
        }
    }

    /// Register a kubeconfig context as member `name` (connected on `.execute()`).
    pub fn add_kube_context(
        &self,
        name: &str,
        kubeconfig: impl Into<PathBuf>,
        context: Option<&str>,
    ) -> AddCluster<'_> {
        AddCluster {
            fleet: self,
            name: name.to_owned(),
            backend: None,
            labels: BTreeMap::new(),
            dedicated_to: None,
            source: ClusterSource::Kubeconfig {
                path: kubeconfig.into(),
                context: context.map(Into::into),
            },
        }
    }

    /// Place a workspace explicitly (finish with `.execute()`); routing places a workspace
    /// by itself, without constraints, the first time something of it is written.
    pub fn place_workspace(&self, org: &str, ws: &str) -> PlaceWorkspace<'_> {
        PlaceWorkspace {
            fleet: self,
            org: org.to_owned(),
            ws: ws.to_owned(),
            required: Selector::everything(),
            preferred: None,
            cluster: None,
        }
    }
}

/// Registers a member cluster; see [`Fleet::add_cluster`].
#[must_use]
pub struct AddCluster<'a> {
    fleet: &'a Fleet,
    name: String,
    backend: Option<Arc<dyn ClusterBackend>>,
    labels: BTreeMap<String, String>,
    dedicated_to: Option<String>,
    source: ClusterSource,
}

impl AddCluster<'_> {
    /// Add a label.
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.labels.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Add labels.
    pub fn labels<'k>(mut self, labels: impl IntoIterator<Item = (&'k str, &'k str)>) -> Self {
        for (k, v) in labels {
            self.labels.insert(k.to_owned(), v.to_owned());
        }
        self
    }

    /// Set the region label ([`LABEL_REGION`]).
    pub fn region(self, region: &str) -> Self {
        self.label(LABEL_REGION, region)
    }

    /// Reserve the cluster for one organization (hard isolation).
    pub fn dedicated_to(mut self, org: &str) -> Self {
        self.dedicated_to = Some(org.to_owned());
        self
    }

    /// Validate, connect (kubeconfig members) and register atomically.
    pub async fn execute(self) -> Result<MemberCluster> {
        let fleet = self.fleet;
        Name::new(&self.name)?;
        let dedicated_to = self.dedicated_to.as_deref().map(Name::new).transpose()?;
        for (k, v) in &self.labels {
            // a label must be usable in a selector
            Selector::parse(&format!("{k}={v}"))
                .map_err(|_| Error::invalid("labels", format!("{k}={v} is not a valid label")))?;
        }
        let backend = match self.backend {
            Some(b) => b,
            None => match &self.source {
                ClusterSource::Kubeconfig { path, context } => {
                    Arc::new(KubeBackend::from_kubeconfig(path, context.as_deref()).await?)
                }
                ClusterSource::Attached => {
                    return Err(Error::invalid("backend", "a member needs a backend"));
                }
            },
        };
        let _g = fleet.inner.placing.lock().await;
        fleet.refresh().await?;
        let mut spec = MemberCluster {
            name: self.name.clone(),
            labels: self.labels,
            dedicated_to,
            source: self.source,
            order: 0,
        };
        if let Some(existing) = fleet.members().into_iter().find(|m| m.name == self.name) {
            spec.order = existing.order;
            if existing != spec {
                return Err(Error::already_exists("cluster", &self.name));
            }
            fleet.attach(&self.name, backend);
            return Ok(existing);
        }
        spec.order = fleet
            .members()
            .iter()
            .map(|m| m.order + 1)
            .max()
            .unwrap_or(0);
        let res = fleet
            .inner
            .store
            .commit(Batch::new().put(CLUSTERS, &spec.name, encode(&spec)?, Precondition::Absent))
            .await;
        match res {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists || e.kind() == ErrorKind::Conflict => {
                return Err(Error::already_exists("cluster", &spec.name));
            }
            Err(e) => return Err(e),
        }
        fleet.inner.members.write().insert(
            spec.name.clone(),
            Member {
                spec: spec.clone(),
                backend: Some(backend),
            },
        );
        Ok(spec)
    }
}

/// Places a workspace; see [`Fleet::place_workspace`].
#[must_use]
pub struct PlaceWorkspace<'a> {
    fleet: &'a Fleet,
    org: String,
    ws: String,
    required: Selector,
    preferred: Option<Selector>,
    cluster: Option<String>,
}

impl PlaceWorkspace<'_> {
    /// Require the cluster's region label.
    pub fn region(mut self, region: &str) -> Self {
        self.required = self.required.and(hxb_core::selector::Requirement::Equals(
            LABEL_REGION.into(),
            region.into(),
        ));
        self
    }

    /// Require cluster labels to match.
    pub fn require(mut self, selector: &Selector) -> Self {
        for r in selector.requirements() {
            self.required = self.required.and(r.clone());
        }
        self
    }

    /// Prefer clusters whose labels match.
    pub fn prefer(mut self, selector: Selector) -> Self {
        self.preferred = Some(selector);
        self
    }

    /// Place on this member (checked for isolation, labels and capacity).
    pub fn cluster(mut self, name: &str) -> Self {
        self.cluster = Some(name.to_owned());
        self
    }

    /// Validate and commit the assignment; returns the cluster. A workspace already placed
    /// keeps its cluster (an explicit different `.cluster()` is `FailedPrecondition`).
    pub async fn execute(self) -> Result<String> {
        Name::new(&self.org)?;
        Name::new(&self.ws)?;
        self.fleet
            .place(
                &self.org,
                &self.ws,
                self.required,
                self.preferred,
                self.cluster.as_deref(),
            )
            .await
    }
}
