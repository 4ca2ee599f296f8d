//! The kube-rs backend (placeholder until implemented).

/// A real cluster through kube-rs.
#[derive(Clone)]
pub struct KubeBackend { _client: kube::Client }
