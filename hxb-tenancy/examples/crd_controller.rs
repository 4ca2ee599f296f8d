//! A custom controller: watches the `Organization`, `Workspace` and `Project` custom resources
//! (group `hxb.io`) and reconciles them through the tenancy engine, writing the outcome back
//! to each resource's status. Deleting a resource deletes the entity (cascading), guarded by
//! a finalizer so nothing is orphaned.
//!
//! `run` needs a Kubernetes API server (kubeconfig or in-cluster; see "Running the CRD
//! controller" in `docs/tenancy.md` for the CRDs and RBAC to install first):
//!
//! ```text
//! kubectl apply -f hxb-tenancy/deploy/crds.yaml            # or: … -- crds | kubectl apply -f -
//! kubectl apply -f hxb-tenancy/deploy/controller-rbac.yaml
//! KUBECONFIG=$HOME/.kube/config cargo run -p hxb-tenancy --example crd_controller -- run state.db
//! ```

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use hxb_core::store::SqliteStore;
use hxb_core::{KubeBackend, StateStore};
use hxb_tenancy::Tenancy;
use hxb_tenancy::crd::{self, Organization, Project, TenantStatus, Workspace};
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{Event, finalizer};
use kube::runtime::watcher;
use kube::{Api, Client, Resource, ResourceExt};

const FINALIZER: &str = "hxb.io/cleanup";

struct Ctx {
    client: Client,
    tenancy: Tenancy,
}

#[derive(Debug, thiserror::Error)]
enum Error {
    #[error(transparent)]
    Engine(#[from] hxb_core::Error),
    #[error(transparent)]
    Kube(#[from] kube::Error),
    #[error("finalizer: {0}")]
    Finalizer(String),
}

async fn write_status<K>(api: &Api<K>, name: &str, status: TenantStatus) -> Result<(), Error>
where
    K: Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let patch = serde_json::json!({ "status": status });
    api.patch_status(
        name,
        &PatchParams::apply("hxb").force(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}

async fn reconcile_org(obj: Arc<Organization>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let api: Api<Organization> = Api::all(ctx.client.clone());
    let t = &ctx.tenancy;
    finalizer(&api, FINALIZER, obj, |ev| async {
        match ev {
            Event::Apply(o) => {
                let status = crd::apply_organization(t, &o.spec).await?;
                write_status(&api, &o.name_any(), status).await?;
                Ok::<_, Error>(Action::requeue(Duration::from_secs(300)))
            }
            Event::Cleanup(o) => {
                t.delete_organization(&o.spec.name)
                    .cascade(true)
                    .actor("crd")
                    .execute()
                    .await?;
                Ok::<_, Error>(Action::await_change())
            }
        }
    })
    .await
    .map_err(|e| Error::Finalizer(e.to_string()))
}

async fn reconcile_ws(obj: Arc<Workspace>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let api: Api<Workspace> = Api::all(ctx.client.clone());
    let t = &ctx.tenancy;
    finalizer(&api, FINALIZER, obj, |ev| async {
        match ev {
            Event::Apply(o) => {
                let status = crd::apply_workspace(t, &o.spec).await?;
                write_status(&api, &o.name_any(), status).await?;
                Ok::<_, Error>(Action::requeue(Duration::from_secs(300)))
            }
            Event::Cleanup(o) => {
                t.delete_workspace(&o.spec.organization, &o.spec.name)
                    .cascade(true)
                    .actor("crd")
                    .execute()
                    .await?;
                Ok::<_, Error>(Action::await_change())
            }
        }
    })
    .await
    .map_err(|e| Error::Finalizer(e.to_string()))
}

async fn reconcile_prj(obj: Arc<Project>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let api: Api<Project> = Api::all(ctx.client.clone());
    let t = &ctx.tenancy;
    finalizer(&api, FINALIZER, obj, |ev| async {
        match ev {
            Event::Apply(o) => {
                let status = crd::apply_project(t, &o.spec).await?;
                write_status(&api, &o.name_any(), status).await?;
                Ok::<_, Error>(Action::requeue(Duration::from_secs(300)))
            }
            Event::Cleanup(o) => {
                let s = &o.spec;
                t.delete_project(&s.organization, &s.workspace, &s.name)
                    .cascade(true)
                    .actor("crd")
                    .execute()
                    .await?;
                Ok::<_, Error>(Action::await_change())
            }
        }
    })
    .await
    .map_err(|e| Error::Finalizer(e.to_string()))
}

fn error_policy<K>(_obj: Arc<K>, err: &Error, _ctx: Arc<Ctx>) -> Action {
    eprintln!("reconcile failed: {err}");
    Action::requeue(Duration::from_secs(15))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("crds") {
        print!("{}", crd::crds_yaml()?);
        return Ok(());
    }
    hxb_core::install_crypto_provider();
    let client = Client::try_default().await?;
    let store: Arc<dyn StateStore> = Arc::new(SqliteStore::open(
        args.get(2).map(String::as_str).unwrap_or("hxb-state.db"),
    )?);
    let backend = Arc::new(KubeBackend::infer().await?);
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        tenancy: Tenancy::new(backend, store),
    });
    let orgs = Controller::new(
        Api::<Organization>::all(client.clone()),
        watcher::Config::default(),
    )
    .run(reconcile_org, error_policy, ctx.clone())
    .for_each(|_| async {});
    let wss = Controller::new(
        Api::<Workspace>::all(client.clone()),
        watcher::Config::default(),
    )
    .run(reconcile_ws, error_policy, ctx.clone())
    .for_each(|_| async {});
    let prjs = Controller::new(Api::<Project>::all(client), watcher::Config::default())
        .run(reconcile_prj, error_policy, ctx)
        .for_each(|_| async {});
    tokio::join!(orgs, wss, prjs);
    Ok(())
}
