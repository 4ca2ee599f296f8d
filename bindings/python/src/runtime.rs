//! The binding's own tokio runtime: async methods spawn their facade future here and asyncio
//! awaits the task's handle; sync calls that need the runtime block on it with the GIL released.

use std::future::Future;
use std::sync::OnceLock;

use hxb_bindings_common::join_error;
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

/// Run `fut` on the runtime and await its result (a panic becomes an `internal` error).
pub async fn spawn<T, F>(fut: F) -> Res<T>
where
    F: Future<Output = hxb::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    Ok(runtime().spawn(fut).await.map_err(join_error)??)
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
