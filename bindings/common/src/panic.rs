//! Panics stay inside: a panic in native code becomes an `internal` [`hxb::Error`].

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use hxb::Error;

/// Run `f`, turning a panic into [`Error::Internal`] that carries the panic message.
pub fn guard<T>(f: impl FnOnce() -> hxb::Result<T>) -> hxb::Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Err(panic_error(p.as_ref())))
}

/// The error of a spawned task that did not return: a panic or a cancelled runtime.
pub fn join_error(err: tokio::task::JoinError) -> Error {
    match err.try_into_panic() {
        Ok(p) => panic_error(p.as_ref()),
        Err(_) => Error::internal("the native task was cancelled"),
    }
}

/// The [`Error::Internal`] of a caught panic's payload.
pub fn panic_error(payload: &(dyn Any + Send)) -> Error {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    Error::internal(format!("panic in native code: {msg}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_internal_error() {
        let err = guard::<()>(|| panic!("boom {}", 1)).unwrap_err();
        assert_eq!(err.kind(), hxb::ErrorKind::Internal);
        assert_eq!(
            err.to_string(),
            "internal error: panic in native code: boom 1"
        );
        assert_eq!(guard(|| Ok(3)).unwrap(), 3);
    }

    #[test]
    fn a_panicking_task_becomes_an_internal_error() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let err = rt
            .block_on(async { tokio::spawn(async { panic!("in task") }).await })
            .map_err(join_error)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "internal error: panic in native code: in task"
        );
    }
}
