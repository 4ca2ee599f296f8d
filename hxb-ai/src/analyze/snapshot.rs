//! A read-only snapshot of the cluster objects the analyzers look at.

use std::sync::Arc;

use hxb_core::cluster::{Api, ListOptions, Object, ScopeInfo};
use hxb_core::{ClusterBackend, Result};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Event, Pod, ResourceQuota, Service};

/// Cluster state at one moment (one namespace, or all).
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Pods.
    pub pods: Vec<Pod>,
    /// Services.
    pub services: Vec<Service>,
    /// Deployments.
    pub deployments: Vec<Deployment>,
    /// Jobs.
    pub jobs: Vec<Job>,
    /// CronJobs.
    pub cron_jobs: Vec<CronJob>,
    /// HorizontalPodAutoscalers.
    pub autoscalers: Vec<HorizontalPodAutoscaler>,
    /// ResourceQuotas.
    pub quotas: Vec<ResourceQuota>,
    /// Events.
    pub events: Vec<Event>,
}

async fn list<K>(cluster: &Arc<dyn ClusterBackend>, namespace: Option<&str>) -> Result<Vec<K>>
where
    K: Object,
    K::Scope: ScopeInfo,
{
    let api: Api<K> = match namespace {
        Some(ns) => Api::namespaced(cluster.clone(), ns),
        None => Api::all(cluster.clone()),
    };
    api.list(&ListOptions::default()).await
}

impl Snapshot {
    /// Read everything the analyzers need, in `namespace` or across all namespaces.
    pub async fn collect(
        cluster: &Arc<dyn ClusterBackend>,
        namespace: Option<&str>,
    ) -> Result<Snapshot> {
        Ok(Snapshot {
            pods: list(cluster, namespace).await?,
            services: list(cluster, namespace).await?,
            deployments: list(cluster, namespace).await?,
            jobs: list(cluster, namespace).await?,
            cron_jobs: list(cluster, namespace).await?,
            autoscalers: list(cluster, namespace).await?,
            quotas: list(cluster, namespace).await?,
            events: list(cluster, namespace).await?,
        })
    }
}
