//! The binding's own tokio runtime. Async methods poll their facade future on the asyncio
//! thread inside the runtime's context ([`run`]): a call that completes without waiting (the
//! embedded cluster) costs no thread hop, and one that waits on I/O or timers is woken by the
//! runtime's worker threads through asyncio's waker. Sync calls that need the runtime block on
//! it with the GIL released.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use hxb_bindings_common::{join_error, panic_error};
use pyo3::Python;

use crate::errors::Res;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("hxb-python")
            .enable_all()
            .build()
            .expect("cannot start the hxb tokio runtime")
    })
}

/// Await `fut` in the runtime's context (a panic becomes an `internal` error).
pub async fn run<T, F>(fut: F) -> Res<T>
where
    F: Future<Output = hxb::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    Ok(InContext(Box::pin(fut)).await?)
}

/// A future polled inside the runtime's context, with panics contained.
struct InContext<F>(Pin<Box<F>>);

impl<T, F: Future<Output = hxb::Result<T>>> Future for InContext<F> {
    type Output = hxb::Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let _context = runtime().enter();
        catch_unwind(AssertUnwindSafe(|| self.0.as_mut().poll(cx)))
            .unwrap_or_else(|p| Poll::Ready(Err(panic_error(p.as_ref()))))
    }
}

/// Run `fut` on the runtime and wait for it without holding the GIL.
pub fn block_on<T, F>(py: Python<'_>, fut: F) -> Res<T>
where
    F: Future<Output = hxb::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    py.detach(|| {
        let rt = runtime();
        Ok(rt.block_on(rt.spawn(fut)).map_err(join_error)??)
    })
}

/// Run a sync facade call inside the runtime's context, panics contained.
pub fn enter<T>(py: Python<'_>, f: impl FnOnce() -> hxb::Result<T> + Send) -> Res<T>
where
    T: Send,
{
    py.detach(|| {
        let _guard = runtime().enter();
        Ok(hxb_bindings_common::guard(f)?)
    })
}
