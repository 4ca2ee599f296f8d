//! The engine's event bus: entity status changes, alerts and incidents as they happen.
//!
//! [`Engine::subscribe`](crate::Engine::subscribe) hands out an [`EventReceiver`]; the engine
//! publishes on a bounded broadcast channel, so publishing never waits for a subscriber. A
//! subscriber that falls more than the channel's capacity behind gets
//! [`Delivery::Lagged`] with the number of events it missed, then continues with the oldest
//! event still held. With no subscriber, publishing costs one uncontended lock (the channel's
//! receiver count) and nothing is built or kept. Closing the engine ends every subscription:
//! a receiver gets the events still held for it, then `None`.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> hxb::Result<()> {
//! use hxb::events::{Delivery, EngineEvent};
//! let engine = hxb::Engine::embedded()?;
//! let mut events = engine.subscribe();
//! engine.tenancy()?.create_organization("acme").execute().await?;
//! let Some(Delivery::Event(EngineEvent::StatusChanged(c))) = events.recv().await else {
//!     panic!("expected a status change")
//! };
//! assert_eq!((c.path.organization.as_str(), c.from, c.to.as_deref()), ("acme", None, Some("Pending")));
//! # Ok(()) }
//! ```

mod store;

use hxb_ai::incidents::Incident;
use hxb_core::metrics::alerts::Alert;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};

pub(crate) use store::ObservedStore;

/// Events a subscriber may fall behind by before it is told it lagged.
pub const DEFAULT_CAPACITY: usize = 1024;

/// What kind of entity changed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// An organization.
    Organization,
    /// A workspace.
    Workspace,
    /// A project.
    Project,
}

/// Where an entity sits in the hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EntityPath {
    /// Organization name.
    pub organization: String,
    /// Workspace name (workspaces and projects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// Project name (projects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

impl EntityPath {
    /// The path of a record key of the tenancy store (`org`, `org/ws`, `org/ws/project`).
    pub fn from_key(key: &str) -> EntityPath {
        let mut parts = key.splitn(3, '/').map(str::to_owned);
        EntityPath {
            organization: parts.next().unwrap_or_default(),
            workspace: parts.next(),
            project: parts.next(),
        }
    }
}

/// An organization, workspace or project moved from one lifecycle phase to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// What changed.
    pub kind: EntityKind,
    /// Which one.
    pub path: EntityPath,
    /// The phase before (`None`: it was just created).
    pub from: Option<String>,
    /// The phase after (`None`: it was removed).
    pub to: Option<String>,
    /// Why, when the new phase is `Error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Something that happened in the engine.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EngineEvent {
    /// An entity's status changed.
    StatusChanged(StatusChange),
    /// An alert started firing.
    AlertFired(Alert),
    /// A firing alert resolved.
    AlertResolved(Alert),
    /// A signal opened a new incident.
    IncidentOpened(Incident),
    /// A signal joined an open incident (its root causes are re-ranked).
    IncidentUpdated(Incident),
    /// An incident was quiet for longer than its window and closed.
    IncidentClosed(Incident),
}

impl EngineEvent {
    /// The event's type name as serialised (`status_changed`, `alert_fired`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            EngineEvent::StatusChanged(_) => "status_changed",
            EngineEvent::AlertFired(_) => "alert_fired",
            EngineEvent::AlertResolved(_) => "alert_resolved",
            EngineEvent::IncidentOpened(_) => "incident_opened",
            EngineEvent::IncidentUpdated(_) => "incident_updated",
            EngineEvent::IncidentClosed(_) => "incident_closed",
        }
    }

    /// Every type name, in declaration order.
    pub const TYPE_NAMES: [&'static str; 6] = [
        "status_changed",
        "alert_fired",
        "alert_resolved",
        "incident_opened",
        "incident_updated",
        "incident_closed",
    ];

    /// The hierarchy path the event concerns: the entity's path, or the `org[/ws[/project]]`
    /// scope of an alert or incident.
    pub fn path(&self) -> EntityPath {
        match self {
            EngineEvent::StatusChanged(c) => c.path.clone(),
            EngineEvent::AlertFired(a) | EngineEvent::AlertResolved(a) => {
                EntityPath::from_key(&a.scope)
            }
            EngineEvent::IncidentOpened(i)
            | EngineEvent::IncidentUpdated(i)
            | EngineEvent::IncidentClosed(i) => EntityPath::from_key(&i.scope),
        }
    }
}

/// What a receiver gets.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// The next event.
    Event(EngineEvent),
    /// The receiver fell behind and `missed` events were dropped for it; the next
    /// [`recv`](EventReceiver::recv) continues with the oldest event still held.
    Lagged {
        /// How many events this receiver missed.
        missed: u64,
    },
}

/// The publishing side, one per engine.
#[derive(Debug, Clone)]
pub(crate) struct EventBus {
    tx: broadcast::Sender<EngineEvent>,
    /// `true` once the engine is closed: receivers end after what they still hold.
    closed: std::sync::Arc<watch::Sender<bool>>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus::with_capacity(DEFAULT_CAPACITY)
    }
}

impl EventBus {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        EventBus {
            tx: broadcast::channel(capacity.max(1)).0,
            closed: std::sync::Arc::new(watch::Sender::new(false)),
        }
    }

    /// Whether anybody listens (publishers skip building events when nobody does).
    pub(crate) fn is_observed(&self) -> bool {
        self.tx.receiver_count() > 0
    }

    /// Publish; never blocks, never fails (an event nobody receives is dropped).
    pub(crate) fn publish(&self, event: EngineEvent) {
        if self.is_observed() {
            let _ = self.tx.send(event);
        }
    }

    pub(crate) fn subscribe(&self) -> EventReceiver {
        EventReceiver {
            rx: self.tx.subscribe(),
            closed: self.closed.subscribe(),
        }
    }

    /// End every subscription (idempotent): waiting receivers wake, and each gets the events
    /// still held for it, then `None`.
    pub(crate) fn close(&self) {
        self.closed.send_replace(true);
    }
}

/// One subscription to the engine's events (from [`Engine::subscribe`](crate::Engine::subscribe)).
/// It sees every event published after it was created.
#[derive(Debug)]
pub struct EventReceiver {
    rx: broadcast::Receiver<EngineEvent>,
    closed: watch::Receiver<bool>,
}

impl EventReceiver {
    /// The next delivery; `None` once the engine is closed (after the events still held for
    /// this receiver) or gone (every clone dropped).
    pub async fn recv(&mut self) -> Option<Delivery> {
        if !*self.closed.borrow() {
            tokio::select! {
                biased;
                r = self.rx.recv() => return match r {
                    Ok(e) => Some(Delivery::Event(e)),
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        Some(Delivery::Lagged { missed })
                    }
                    Err(broadcast::error::RecvError::Closed) => None,
                },
                _ = self.closed.wait_for(|closed| *closed) => {}
            }
        }
        self.try_recv()
    }

    /// The next delivery if one is ready, without waiting.
    pub fn try_recv(&mut self) -> Option<Delivery> {
        match self.rx.try_recv() {
            Ok(e) => Some(Delivery::Event(e)),
            Err(broadcast::error::TryRecvError::Lagged(missed)) => {
                Some(Delivery::Lagged { missed })
            }
            Err(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(n: usize) -> EngineEvent {
        EngineEvent::StatusChanged(StatusChange {
            kind: EntityKind::Organization,
            path: EntityPath::from_key(&format!("o{n}")),
            from: None,
            to: Some("Pending".into()),
            reason: None,
        })
    }

    #[tokio::test]
    async fn every_subscriber_sees_every_event_in_order() {
        let bus = EventBus::default();
        let (mut a, mut b) = (bus.subscribe(), bus.subscribe());
        for n in 0..3 {
            bus.publish(change(n));
        }
        for r in [&mut a, &mut b] {
            for n in 0..3 {
                assert_eq!(r.recv().await, Some(Delivery::Event(change(n))));
            }
            assert_eq!(r.try_recv(), None);
        }
    }

    #[tokio::test]
    async fn a_slow_subscriber_is_told_how_much_it_missed_and_publishers_never_wait() {
        let bus = EventBus::with_capacity(4);
        let mut slow = bus.subscribe();
        for n in 0..10 {
            bus.publish(change(n)); // would block forever if publishing waited for `slow`
        }
        assert_eq!(slow.recv().await, Some(Delivery::Lagged { missed: 6 }));
        for n in 6..10 {
            assert_eq!(slow.recv().await, Some(Delivery::Event(change(n))));
        }
    }

    #[tokio::test]
    async fn without_subscribers_nothing_is_kept_and_closing_ends_the_stream() {
        let bus = EventBus::with_capacity(2);
        assert!(!bus.is_observed());
        bus.publish(change(0));
        let mut r = bus.subscribe();
        assert_eq!(
            r.try_recv(),
            None,
            "events published before subscribing are not seen"
        );
        drop(bus);
        assert_eq!(r.recv().await, None);
    }

    #[tokio::test]
    async fn closing_wakes_a_waiting_receiver_after_what_it_holds() {
        let bus = EventBus::default();
        let mut held = bus.subscribe();
        let mut waiting = bus.subscribe();
        bus.publish(change(0));
        assert_eq!(waiting.recv().await, Some(Delivery::Event(change(0))));
        let wait = tokio::spawn(async move { waiting.recv().await });
        tokio::task::yield_now().await;
        bus.close();
        assert_eq!(wait.await.unwrap(), None);
        assert_eq!(held.recv().await, Some(Delivery::Event(change(0))));
        assert_eq!(held.recv().await, None);
        assert_eq!(
            bus.subscribe().recv().await,
            None,
            "closed before subscribing"
        );
    }

    #[test]
    fn serialised_shape_and_paths() {
        let v = serde_json::to_value(change(1)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type": "status_changed", "kind": "organization",
                "path": {"organization": "o1"}, "from": null, "to": "Pending"})
        );
        let back: EngineEvent = serde_json::from_value(v).unwrap();
        assert_eq!(back, change(1));
        let p = EntityPath::from_key("acme/dev/web");
        assert_eq!(
            (p.workspace.as_deref(), p.project.as_deref()),
            (Some("dev"), Some("web"))
        );
        assert_eq!(change(0).type_name(), EngineEvent::TYPE_NAMES[0]);
    }
}
