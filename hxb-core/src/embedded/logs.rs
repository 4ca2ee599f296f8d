//! Container logs of the embedded cluster.
//!
//! There is no container runtime in process, so nothing writes logs by itself: the embedder
//! (a simulation, a test, an in-process handler) appends lines with
//! [`EmbeddedCluster::append_log`], and [`ClusterBackend::logs`](crate::ClusterBackend::logs)
//! reads them back the way `kubectl logs` does. Lines belong to a pod's uid, so a pod deleted
//! and created again under the same name starts with empty logs, as on a real node.

use std::collections::{HashMap, HashSet, VecDeque};

use super::EmbeddedCluster;
use super::state::{POD, State};
use crate::cluster::{DynamicObject, LogOptions};
use crate::error::{Error, Result};

/// Lines kept per container (older lines are dropped, like a rotated log file).
pub const LOG_LINES_PER_CONTAINER: usize = 1_000;

/// Log lines by pod uid, then container name.
#[derive(Debug, Default)]
pub(crate) struct PodLogs {
    by_pod: HashMap<String, HashMap<String, VecDeque<String>>>,
    /// Sweep the logs of deleted pods once `by_pod` grows past this (and [`PRUNE_FLOOR`]).
    prune_at: usize,
}

/// Pods with logs kept before the first sweep for deleted ones.
const PRUNE_FLOOR: usize = 4 * 1024;

fn containers(pod: &DynamicObject) -> Vec<String> {
    pod.data
        .pointer("/spec/containers")
        .and_then(|c| c.as_array())
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.get("name").and_then(|n| n.as_str()).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The container a request means: the one named, or the only one.
fn pick(pod: &DynamicObject, name: &str, container: Option<&str>) -> Result<String> {
    let all = containers(pod);
    match container {
        Some(c) if all.iter().any(|x| x == c) => Ok(c.to_owned()),
        Some(c) => Err(Error::invalid(
            "container",
            format!("container {c} is not valid for pod {name}"),
        )),
        None if all.len() == 1 => Ok(all[0].clone()),
        None => Err(Error::invalid(
            "container",
            format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                all.join(" ")
            ),
        )),
    }
}

impl State {
    pub(crate) fn read_logs(
        &self,
        namespace: &str,
        pod: &str,
        opts: &LogOptions,
    ) -> Result<String> {
        let obj = self.get(&POD, Some(namespace), pod)?;
        let container = pick(&obj, pod, opts.container.as_deref())?;
        let uid = obj.metadata.uid.clone().unwrap_or_default();
        let lines = self.logs.by_pod.get(&uid).and_then(|m| m.get(&container));
        let Some(lines) = lines else {
            return Ok(String::new());
        };
        let skip = opts.tail_lines.map_or(0, |n| lines.len().saturating_sub(n));
        let mut out = String::new();
        for line in lines.iter().skip(skip) {
            out.push_str(line);
            out.push('\n');
        }
        if let Some(limit) = opts.limit_bytes
            && out.len() > limit
        {
            let mut cut = limit;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
        }
        Ok(out)
    }
}

impl EmbeddedCluster {
    /// Appends lines to a container's log (`container` `None` = the pod's only container).
    /// Each `\n`-separated line of `text` is one log line. Fails with `NotFound` for a missing
    /// pod and `InvalidInput` for an unknown or ambiguous container; changes nothing then.
    pub fn append_log(
        &self,
        namespace: &str,
        pod: &str,
        container: Option<&str>,
        text: &str,
    ) -> Result<()> {
        let mut guard = self.inner.write();
        let st = &mut *guard;
        let obj = st.get(&POD, Some(namespace), pod)?;
        let container = pick(&obj, pod, container)?;
        let uid = obj.metadata.uid.clone().unwrap_or_default();
        if st.logs.by_pod.len() > st.logs.prune_at.max(PRUNE_FLOOR) {
            // Forget the logs of pods that are gone (bounded memory over pod churn); the next
            // sweep waits until the map has doubled, so appends stay amortized O(1).
            let live: HashSet<&str> = st
                .store
                .table(&POD)
                .into_iter()
                .flat_map(|t| t.iter(None))
                .filter_map(|o| o.metadata.uid.as_deref())
                .collect();
            st.logs.by_pod.retain(|uid, _| live.contains(uid.as_str()));
            st.logs.prune_at = 2 * st.logs.by_pod.len();
        }
        let buf = st
            .logs
            .by_pod
            .entry(uid)
            .or_default()
            .entry(container)
            .or_default();
        for line in text.lines() {
            if buf.len() == LOG_LINES_PER_CONTAINER {
                buf.pop_front();
            }
            buf.push_back(line.to_owned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use serde_json::json;

    async fn cluster_with_pods() -> EmbeddedCluster {
        let c = EmbeddedCluster::builder().nodes(1).build();
        let b = c.clone().into_backend();
        let ns: DynamicObject = serde_json::from_value(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}),
        )
        .unwrap();
        b.create(&super::super::state::NAMESPACE, ns).await.unwrap();
        for (name, containers) in [("one", vec!["app"]), ("two", vec!["app", "sidecar"])] {
            let cs: Vec<_> = containers
                .iter()
                .map(|c| json!({"name": c, "image": "nginx"}))
                .collect();
            let pod: DynamicObject = serde_json::from_value(json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": "a"},
                "spec": {"containers": cs}
            }))
            .unwrap();
            b.create(&POD, pod).await.unwrap();
        }
        c
    }

    #[tokio::test]
    async fn logs_read_back_with_tail_and_limit() {
        let c = cluster_with_pods().await;
        c.append_log("a", "one", None, "first\nsecond").unwrap();
        c.append_log("a", "one", Some("app"), "third").unwrap();
        let b = c.clone().into_backend();
        let all = b.logs("a", "one", &LogOptions::default()).await.unwrap();
        assert_eq!(all, "first\nsecond\nthird\n");
        let tail = LogOptions {
            tail_lines: Some(2),
            ..Default::default()
        };
        assert_eq!(b.logs("a", "one", &tail).await.unwrap(), "second\nthird\n");
        let limited = LogOptions {
            limit_bytes: Some(8),
            ..Default::default()
        };
        assert_eq!(b.logs("a", "one", &limited).await.unwrap(), "first\nse");
    }

    #[tokio::test]
    async fn containers_are_chosen_like_the_api_server_does() {
        let c = cluster_with_pods().await;
        let err = c.append_log("a", "two", None, "x").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(
            err.to_string().contains("choose one of: [app sidecar]"),
            "{err}"
        );
        c.append_log("a", "two", Some("sidecar"), "proxy up")
            .unwrap();
        let b = c.clone().into_backend();
        let opts = LogOptions {
            container: Some("sidecar".into()),
            ..Default::default()
        };
        assert_eq!(b.logs("a", "two", &opts).await.unwrap(), "proxy up\n");
        let app = LogOptions {
            container: Some("app".into()),
            ..Default::default()
        };
        assert_eq!(b.logs("a", "two", &app).await.unwrap(), "");
        let bad = LogOptions {
            container: Some("nope".into()),
            ..Default::default()
        };
        assert_eq!(
            b.logs("a", "two", &bad).await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            b.logs("a", "missing", &LogOptions::default())
                .await
                .unwrap_err()
                .kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            c.append_log("a", "missing", None, "x").unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }

    fn pod(name: &str) -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "a"},
            "spec": {"containers": [{"name": "app", "image": "nginx"}]}
        }))
        .unwrap()
    }

    fn pods_with_logs(c: &EmbeddedCluster) -> usize {
        c.inner.read().logs.by_pod.len()
    }

    /// Past [`PRUNE_FLOOR`] pods with logs, the next append forgets the logs of deleted pods,
    /// keeps every live pod's lines, and puts the next sweep off until the map has doubled.
    #[tokio::test]
    async fn logs_of_deleted_pods_are_swept_past_the_floor_and_live_ones_kept() {
        let c = cluster_with_pods().await;
        let b = c.clone().into_backend();
        c.append_log("a", "one", None, "kept").unwrap();
        c.append_log("a", "two", Some("sidecar"), "kept too")
            .unwrap();
        // Pod churn: each pod logs a line and is deleted, until exactly PRUNE_FLOOR pods have
        // logs (the two live ones included). No sweep has run yet: the map only grows.
        for i in 0..PRUNE_FLOOR - 2 {
            let name = format!("gone-{i}");
            b.create(&POD, pod(&name)).await.unwrap();
            c.append_log("a", &name, None, "bye").unwrap();
            b.delete(&POD, Some("a"), &name).await.unwrap();
        }
        assert_eq!(pods_with_logs(&c), PRUNE_FLOOR);
        // One more pod with logs takes the map past the floor, without a sweep yet (the check
        // runs before the append that adds the new entry).
        b.create(&POD, pod("late")).await.unwrap();
        c.append_log("a", "late", None, "hello").unwrap();
        assert_eq!(pods_with_logs(&c), PRUNE_FLOOR + 1);
        // The next append sweeps: only the three live pods keep their logs.
        c.append_log("a", "one", None, "after the sweep").unwrap();
        assert_eq!(pods_with_logs(&c), 3);
        assert_eq!(c.inner.read().logs.prune_at, 6);
        let read = |pod: &'static str, container: &'static str| {
            let b = b.clone();
            async move {
                let opts = LogOptions {
                    container: Some(container.into()),
                    ..Default::default()
                };
                b.logs("a", pod, &opts).await.unwrap()
            }
        };
        assert_eq!(read("one", "app").await, "kept\nafter the sweep\n");
        assert_eq!(read("two", "sidecar").await, "kept too\n");
        assert_eq!(read("late", "app").await, "hello\n");
        // A deleted pod created again under an old name starts empty, as before the sweep.
        b.create(&POD, pod("gone-0")).await.unwrap();
        assert_eq!(read("gone-0", "app").await, "");
        // The next sweep waits for PRUNE_FLOOR again (it is larger than twice the live count):
        // more churn below the floor keeps the logs of deleted pods.
        for i in 0..10 {
            let name = format!("again-{i}");
            b.create(&POD, pod(&name)).await.unwrap();
            c.append_log("a", &name, None, "bye").unwrap();
            b.delete(&POD, Some("a"), &name).await.unwrap();
        }
        assert_eq!(pods_with_logs(&c), 13);
    }

    #[tokio::test]
    async fn a_recreated_pod_starts_with_empty_logs_and_old_lines_rotate() {
        let c = cluster_with_pods().await;
        for i in 0..LOG_LINES_PER_CONTAINER + 5 {
            c.append_log("a", "one", None, &format!("line {i}"))
                .unwrap();
        }
        let b = c.clone().into_backend();
        let text = b.logs("a", "one", &LogOptions::default()).await.unwrap();
        assert_eq!(text.lines().count(), LOG_LINES_PER_CONTAINER);
        assert!(text.starts_with("line 5\n"));
        let pod = b.get(&POD, Some("a"), "one").await.unwrap();
        b.delete(&POD, Some("a"), "one").await.unwrap();
        let mut again = pod.clone();
        again.metadata.uid = None;
        again.metadata.resource_version = None;
        again.metadata.creation_timestamp = None;
        b.create(&POD, again).await.unwrap();
        assert_eq!(
            b.logs("a", "one", &LogOptions::default()).await.unwrap(),
            ""
        );
    }
}
