//! Backend wrappers for tests and benchmarks: count writes, inject faults.
//!
//! Both wrap any [`ClusterBackend`], so the same checks run against the embedded cluster and a
//! real one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use hxb_core::cluster::{
    ApplyOptions, BackendKind, DynamicObject, IssuedToken, ListOptions, LogOptions, ObjectList,
    ProxyRequest, ProxyResponse, ResourceType, WatchOptions, WatchStream,
};
use hxb_core::{ClusterBackend, Error, Result};
use parking_lot::Mutex;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Counts calls by kind. Writes are create, apply, replace, replace_status, delete and
/// request_token; reads are get, list, watch and proxy_service.
#[derive(Debug, Default)]
pub struct CallCounts {
    /// Write calls.
    pub writes: AtomicU64,
    /// Read calls (get, list, watch, proxy_service).
    pub reads: AtomicU64,
}

/// A backend that counts the calls it forwards.
pub struct CountingBackend {
    inner: Arc<dyn ClusterBackend>,
    counts: Arc<CallCounts>,
}

impl CountingBackend {
    /// Wrap `inner`.
    pub fn new(inner: Arc<dyn ClusterBackend>) -> Self {
        CountingBackend {
            inner,
            counts: Arc::default(),
        }
    }

    /// The shared counters.
    pub fn counts(&self) -> Arc<CallCounts> {
        self.counts.clone()
    }

    /// Write calls so far.
    pub fn writes(&self) -> u64 {
        self.counts.writes.load(Ordering::SeqCst)
    }

    fn w(&self) {
        self.counts.writes.fetch_add(1, Ordering::SeqCst);
    }

    fn r(&self) {
        self.counts.reads.fetch_add(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl ClusterBackend for CountingBackend {
    fn kind(&self) -> BackendKind {
        self.inner.kind()
    }
    async fn create(&self, ty: &ResourceType, obj: DynamicObject) -> Result<DynamicObject> {
        self.w();
        self.inner.create(ty, obj).await
    }
    async fn apply(
        &self,
        ty: &ResourceType,
        obj: DynamicObject,
        o: &ApplyOptions,
    ) -> Result<DynamicObject> {
        self.w();
        self.inner.apply(ty, obj, o).await
    }
    async fn replace(&self, ty: &ResourceType, obj: DynamicObject) -> Result<DynamicObject> {
        self.w();
        self.inner.replace(ty, obj).await
    }
    async fn replace_status(&self, ty: &ResourceType, obj: DynamicObject) -> Result<DynamicObject> {
        self.w();
        self.inner.replace_status(ty, obj).await
    }
    async fn get(&self, ty: &ResourceType, ns: Option<&str>, name: &str) -> Result<DynamicObject> {
        self.r();
        self.inner.get(ty, ns, name).await
    }
    async fn list(
        &self,
        ty: &ResourceType,
        ns: Option<&str>,
        o: &ListOptions,
    ) -> Result<ObjectList> {
        self.r();
        self.inner.list(ty, ns, o).await
    }
    async fn delete(&self, ty: &ResourceType, ns: Option<&str>, name: &str) -> Result<()> {
        self.w();
        self.inner.delete(ty, ns, name).await
    }
    async fn watch(
        &self,
        ty: &ResourceType,
        ns: Option<&str>,
        o: &WatchOptions,
    ) -> Result<WatchStream> {
        self.r();
        self.inner.watch(ty, ns, o).await
    }

    async fn logs(&self, ns: &str, pod: &str, o: &LogOptions) -> Result<String> {
        self.r();
        self.inner.logs(ns, pod, o).await
    }

    async fn proxy_service(
        &self,
        ns: &str,
        service: &str,
        port: &str,
        request: ProxyRequest,
    ) -> Result<ProxyResponse> {
        self.r();
        self.inner.proxy_service(ns, service, port, request).await
    }
    async fn request_token(
        &self,
        ns: &str,
        sa: &str,
        audiences: &[String],
        expiration_seconds: i64,
    ) -> Result<IssuedToken> {
        self.w();
        self.inner
            .request_token(ns, sa, audiences, expiration_seconds)
            .await
    }
}

/// Where an injected fault strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strike {
    /// The call fails without reaching the backend.
    Before,
    /// The call reaches the backend, then the response is lost (the write happened).
    After,
}

/// A backend that fails at random, reproducibly: each call, with probability `rate`, fails
/// with a conflict, a server error (unavailable) or a timeout, either before reaching the
/// inner backend or after it acted (a lost response).
pub struct FaultyBackend {
    inner: Arc<dyn ClusterBackend>,
    rng: Mutex<SmallRng>,
    rate: f64,
    injected: AtomicU64,
    enabled: std::sync::atomic::AtomicBool,
}

impl FaultyBackend {
    /// Wrap `inner`, failing a fraction `rate` (0..=1) of calls, seeded by `seed`.
    pub fn new(inner: Arc<dyn ClusterBackend>, seed: u64, rate: f64) -> Self {
        FaultyBackend {
            inner,
            rng: Mutex::new(SmallRng::seed_from_u64(seed)),
            rate: rate.clamp(0.0, 1.0),
            injected: AtomicU64::new(0),
            enabled: std::sync::atomic::AtomicBool::new(true),
        }
    }

    /// Faults injected so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::SeqCst)
    }

    /// Turn injection on or off (e.g. to check the final state through the same handle).
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::SeqCst);
    }

    fn roll(&self, what: &str) -> Option<(Strike, Error)> {
        if !self.enabled.load(Ordering::SeqCst) {
            return None;
        }
        let mut rng = self.rng.lock();
        if !rng.random_bool(self.rate) {
            return None;
        }
        self.injected.fetch_add(1, Ordering::SeqCst);
        let strike = if rng.random_bool(0.5) {
            Strike::Before
        } else {
            Strike::After
        };
        let err = match rng.random_range(0..3) {
            0 => Error::conflict("injected", what, "injected conflict"),
            1 => Error::unavailable(format!("injected server error on {what}"), None),
            _ => Error::Timeout {
                operation: format!("injected timeout on {what}"),
            },
        };
        Some((strike, err))
    }

    async fn guarded<T, F>(&self, what: &str, call: F) -> Result<T>
    where
        F: std::future::Future<Output = Result<T>>,
    {
        match self.roll(what) {
            None => call.await,
            Some((Strike::Before, e)) => Err(e),
            Some((Strike::After, e)) => {
                let _ = call.await;
                Err(e)
            }
        }
    }
}

#[async_trait]
impl ClusterBackend for FaultyBackend {
    fn kind(&self) -> BackendKind {
        self.inner.kind()
    }
    async fn create(&self, ty: &ResourceType, obj: DynamicObject) -> Result<DynamicObject> {
        self.guarded("create", self.inner.create(ty, obj)).await
    }
    async fn apply(
        &self,
        ty: &ResourceType,
        obj: DynamicObject,
        o: &ApplyOptions,
    ) -> Result<DynamicObject> {
        self.guarded("apply", self.inner.apply(ty, obj, o)).await
    }
    async fn replace(&self, ty: &ResourceType, obj: DynamicObject) -> Result<DynamicObject> {
        self.guarded("replace", self.inner.replace(ty, obj)).await
    }
    async fn replace_status(&self, ty: &ResourceType, obj: DynamicObject) -> Result<DynamicObject> {
        self.guarded("replace_status", self.inner.replace_status(ty, obj))
            .await
    }
    async fn get(&self, ty: &ResourceType, ns: Option<&str>, name: &str) -> Result<DynamicObject> {
        self.guarded("get", self.inner.get(ty, ns, name)).await
    }
    async fn list(
        &self,
        ty: &ResourceType,
        ns: Option<&str>,
        o: &ListOptions,
    ) -> Result<ObjectList> {
        self.guarded("list", self.inner.list(ty, ns, o)).await
    }
    async fn delete(&self, ty: &ResourceType, ns: Option<&str>, name: &str) -> Result<()> {
        self.guarded("delete", self.inner.delete(ty, ns, name))
            .await
    }
    async fn watch(
        &self,
        ty: &ResourceType,
        ns: Option<&str>,
        o: &WatchOptions,
    ) -> Result<WatchStream> {
        self.guarded("watch", self.inner.watch(ty, ns, o)).await
    }

    async fn logs(&self, ns: &str, pod: &str, o: &LogOptions) -> Result<String> {
        self.guarded("logs", self.inner.logs(ns, pod, o)).await
    }

    async fn proxy_service(
        &self,
        ns: &str,
        service: &str,
        port: &str,
        request: ProxyRequest,
    ) -> Result<ProxyResponse> {
        self.guarded(
            "proxy_service",
            self.inner.proxy_service(ns, service, port, request),
        )
        .await
    }
    async fn request_token(
        &self,
        ns: &str,
        sa: &str,
        audiences: &[String],
        expiration_seconds: i64,
    ) -> Result<IssuedToken> {
        self.guarded(
            "request_token",
            self.inner
                .request_token(ns, sa, audiences, expiration_seconds),
        )
        .await
    }
}
