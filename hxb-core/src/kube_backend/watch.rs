//! Watches: kube's watch API from a resourceVersion, resumed when the server ends the stream.

use futures::StreamExt;
use futures::stream::BoxStream;
use kube::api::{Api as KubeApi, ListParams, WatchParams};
use kube::core::{DynamicObject, WatchEvent as KubeEvent};

use super::errors::{Failure, Target, classify, map_error, map_status};
use super::retry::{Call, RetryPolicy, run};
use super::{KubeBackend, target};
use crate::cluster::{ResourceType, WatchEvent, WatchOptions, WatchStream};
use crate::error::{Error, Result};

type Events = BoxStream<'static, std::result::Result<KubeEvent<DynamicObject>, kube::Error>>;

/// Everything a running watch needs to resume.
struct State {
    api: KubeApi<DynamicObject>,
    params: WatchParams,
    policy: RetryPolicy,
    kind: String,
    plural: String,
    group: String,
    namespace: Option<String>,
    /// The last resourceVersion seen (object or bookmark): where a resumed watch starts.
    resource_version: String,
    events: Option<Events>,
    /// Streams in a row that ended before delivering anything.
    idle_ends: u32,
    delivered: bool,
    done: bool,
}

impl State {
    fn target(&self) -> Target<'_> {
        Target {
            kind: &self.kind,
            plural: &self.plural,
            group: &self.group,
            namespace: self.namespace.as_deref(),
            name: "",
        }
    }

    /// The next event, resuming the watch from the last resourceVersion when the server ends a
    /// stream (its `timeoutSeconds`) or the connection drops.
    async fn next(mut self) -> Option<(Result<WatchEvent>, State)> {
        loop {
            if self.done {
                return None;
            }
            let Some(events) = self.events.as_mut() else {
                if self.idle_ends > 0 {
                    tokio::time::sleep(self.policy.delay(self.idle_ends, None)).await;
                }
                let t = self.target();
                match open_events(
                    &self.api,
                    &self.params,
                    &self.resource_version,
                    &self.policy,
                    t,
                )
                .await
                {
                    Ok(events) => {
                        self.events = Some(events);
                        self.delivered = false;
                        continue;
                    }
                    Err(e) => return self.fail(e),
                }
            };
            let event = match events.next().await {
                None => {
                    self.end_stream();
                    continue;
                }
                Some(Err(e)) if matches!(classify(&e), Failure::Transport | Failure::TimedOut) => {
                    tracing::warn!(kind = %self.kind, error = %e, "watch stream broke; resuming");
                    self.end_stream();
                    continue;
                }
                Some(Err(e)) => {
                    let err = map_error(e, self.target());
                    return self.fail(err);
                }
                Some(Ok(event)) => event,
            };
            self.delivered = true;
            let out = match event {
                KubeEvent::Added(o) => WatchEvent::Added(o),
                KubeEvent::Modified(o) => WatchEvent::Modified(o),
                KubeEvent::Deleted(o) => WatchEvent::Deleted(o),
                KubeEvent::Bookmark(b) => {
                    self.resource_version = b.metadata.resource_version;
                    continue;
                }
                KubeEvent::Error(status) => {
                    let err = map_status(&status, self.target()).unwrap_or_else(|| {
                        Error::backend("the watch failed", kube::Error::Api(status))
                    });
                    return self.fail(err);
                }
            };
            if let Some(rv) = out.object().metadata.resource_version.clone() {
                self.resource_version = rv;
            }
            return Some((Ok(out), self));
        }
    }

    fn end_stream(&mut self) {
        self.events = None;
        self.idle_ends = if self.delivered {
            0
        } else {
            self.idle_ends + 1
        };
    }

    fn fail(mut self, e: Error) -> Option<(Result<WatchEvent>, State)> {
        self.done = true;
        Some((Err(e), self))
    }
}

/// Open one watch stream from `rv` (borrowing only `Sync` parts, so the future is `Send`).
async fn open_events(
    api: &KubeApi<DynamicObject>,
    params: &WatchParams,
    rv: &str,
    policy: &RetryPolicy,
    t: Target<'_>,
) -> Result<Events> {
    let events = run(policy, Call::Watch, t, || api.watch(params, rv))
        .await
        .map_err(|f| map_error(f.error, t))?;
    Ok(events.boxed())
}

/// Start a watch. Without a resourceVersion the watch starts now: a one-item list gives the
/// collection's current resourceVersion, so existing objects are not replayed as `Added`.
pub(super) async fn open(
    backend: &KubeBackend,
    ty: &ResourceType,
    namespace: Option<&str>,
    opts: &WatchOptions,
) -> Result<WatchStream> {
    let api = backend.api(ty, namespace);
    let selector = opts
        .label_selector
        .as_ref()
        .map(ToString::to_string)
        .filter(|s| !s.is_empty());
    let mut params = WatchParams::default();
    if let Some(sel) = &selector {
        params = params.labels(sel);
    }
    let t = target(ty, namespace, "");
    let resource_version = match &opts.resource_version {
        Some(rv) if !rv.is_empty() => rv.clone(),
        _ => {
            let mut lp = ListParams::default().limit(1);
            if let Some(sel) = &selector {
                lp = lp.labels(sel);
            }
            let list = run(backend.retry_policy(), Call::List, t, || api.list(&lp))
                .await
                .map_err(|f| map_error(f.error, t))?;
            list.metadata.resource_version.unwrap_or_default()
        }
    };
    let mut state = State {
        api,
        params,
        policy: backend.retry_policy().clone(),
        kind: ty.kind.clone(),
        plural: ty.plural.clone(),
        group: ty.group.clone(),
        namespace: t.namespace.map(str::to_owned),
        resource_version,
        events: None,
        idle_ends: 0,
        delivered: false,
        done: false,
    };
    // Open the first stream now so that errors (404, 403) surface from `watch` itself.
    let first = open_events(
        &state.api,
        &state.params,
        &state.resource_version,
        &state.policy,
        t,
    )
    .await?;
    state.events = Some(first);
    Ok(futures::stream::unfold(state, State::next).boxed())
}
