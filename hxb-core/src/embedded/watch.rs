//! Watches: a bounded history of changes for replay, and a broadcast for live events.
//!
//! Every write appends a [`Record`] while the cluster's write lock is held, and a watch
//! snapshots the history and subscribes under the lock too, so a stream sees every change
//! after its starting resourceVersion exactly once and in order. A start older than the
//! retained history, or a consumer that falls too far behind, gets
//! [`Conflict`](crate::ErrorKind::Conflict) ("too old resource version", the API server's
//! `410 Gone`): list again and watch from the new resourceVersion.

use std::collections::VecDeque;
use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::broadcast;

use crate::cluster::{DynamicObject, ResourceType, WatchEvent, WatchStream};
use crate::error::{Error, Result};
use crate::selector::Selector;

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    Added,
    Modified,
    Deleted,
}

/// One change, as stored in the history.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) rv: u64,
    pub(crate) ty: Arc<ResourceType>,
    pub(crate) change: Change,
    pub(crate) obj: Arc<DynamicObject>,
    /// The state before a modification (to turn selector transitions into Added/Deleted).
    pub(crate) prev: Option<Arc<DynamicObject>>,
}

/// What one watch wants to see.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    pub(crate) group: String,
    pub(crate) kind: String,
    pub(crate) namespace: Option<String>,
    pub(crate) selector: Option<Selector>,
}

impl Filter {
    fn matches_labels(&self, obj: &DynamicObject) -> bool {
        match &self.selector {
            None => true,
            Some(sel) => match &obj.metadata.labels {
                Some(l) => sel.matches(l),
                None => sel.matches(&Default::default()),
            },
        }
    }

    /// The event this watch sees for `rec`, if any. With a label selector, an object that
    /// starts matching is `Added` and one that stops matching is `Deleted`, as the API server
    /// does.
    pub(crate) fn translate(&self, rec: &Record) -> Option<WatchEvent> {
        if rec.ty.kind != self.kind || rec.ty.group != self.group {
            return None;
        }
        if let Some(ns) = &self.namespace
            && rec.obj.metadata.namespace.as_deref() != Some(ns.as_str())
        {
            return None;
        }
        let now = self.matches_labels(&rec.obj);
        let obj = || DynamicObject::clone(&rec.obj);
        match rec.change {
            Change::Added => now.then(|| WatchEvent::Added(obj())),
            Change::Deleted => now.then(|| WatchEvent::Deleted(obj())),
            Change::Modified => {
                let before = rec.prev.as_ref().is_none_or(|p| self.matches_labels(p));
                match (before, now) {
                    (true, true) => Some(WatchEvent::Modified(obj())),
                    (false, true) => Some(WatchEvent::Added(obj())),
                    (true, false) => Some(WatchEvent::Deleted(obj())),
                    (false, false) => None,
                }
            }
        }
    }
}

/// The change log of one cluster.
#[derive(Debug)]
pub(crate) struct WatchLog {
    history: VecDeque<Arc<Record>>,
    cap: usize,
    /// The highest resourceVersion dropped from the history.
    evicted_upto: u64,
    tx: broadcast::Sender<Arc<Record>>,
}

fn too_old(what: &str, rv: u64, oldest: u64) -> Error {
    Error::conflict(
        "watch",
        what,
        format!(
            "too old resource version: {rv} ({oldest}); list again and watch from the new resourceVersion"
        ),
    )
}

impl WatchLog {
    /// A log keeping `cap` events for replay.
    pub(crate) fn new(cap: usize) -> Self {
        let (tx, _) = broadcast::channel(cap.clamp(1024, 65_536));
        WatchLog {
            history: VecDeque::with_capacity(cap.min(1024)),
            cap,
            evicted_upto: 0,
            tx,
        }
    }

    /// Record a change (called with the cluster's write lock held).
    pub(crate) fn push(&mut self, rec: Record) {
        let rec = Arc::new(rec);
        if self.history.len() == self.cap
            && let Some(old) = self.history.pop_front()
        {
            self.evicted_upto = old.rv;
        }
        self.history.push_back(rec.clone());
        if self.tx.receiver_count() > 0 {
            let _ = self.tx.send(rec);
        }
    }

    /// A stream of the changes after `from` (replayed from history) and every later change.
    pub(crate) fn subscribe(&self, filter: Filter, from: Option<u64>) -> Result<WatchStream> {
        let what = format!("{}.{}", filter.kind, filter.group);
        let mut replay = Vec::new();
        let start = match from {
            Some(rv) if rv > 0 => {
                if rv < self.evicted_upto {
                    return Err(too_old(&what, rv, self.evicted_upto));
                }
                replay.extend(
                    self.history
                        .iter()
                        .filter(|r| r.rv > rv)
                        .filter_map(|r| filter.translate(r))
                        .map(Ok),
                );
                rv
            }
            _ => self.history.back().map_or(self.evicted_upto, |r| r.rv),
        };
        let rx = self.tx.subscribe();
        let live = futures::stream::unfold(Some((rx, filter)), move |st| {
            let what = what.clone();
            async move {
                let (mut rx, filter) = st?;
                loop {
                    match rx.recv().await {
                        Ok(rec) => {
                            if rec.rv <= start {
                                continue;
                            }
                            if let Some(ev) = filter.translate(&rec) {
                                return Some((Ok(ev), Some((rx, filter))));
                            }
                        }
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            let e = Error::conflict(
                                "watch",
                                what,
                                format!(
                                    "too old resource version: the watch fell {n} events behind; list again"
                                ),
                            );
                            return Some((Err(e), None));
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
        });
        Ok(futures::stream::iter(replay).chain(live).boxed())
    }
}
