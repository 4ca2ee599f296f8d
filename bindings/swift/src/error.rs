//! The one error-mapping point: [`hxb::Error`] → [`HxbError`], one case per error kind.

use hxb_bindings_common::ErrorInfo;

macro_rules! hxb_error {
    ($($(#[$doc:meta])* $case:ident = $code:literal,)*) => {
        /// Every error of hxb: one case per stable kind, each with the message, the messages
        /// of the Rust `source()` chain (outermost first) and structured details as JSON.
        #[non_exhaustive]
        #[derive(Debug, Clone, PartialEq, thiserror::Error, uniffi::Error)]
        pub enum HxbError {
            $(
                $(#[$doc])*
                #[error("{message}")]
                $case {
                    /// What went wrong.
                    message: String,
                    /// The `source()` chain, outermost first.
                    causes: Vec<String>,
                    /// Structured fields of the error as a JSON object.
                    details_json: String,
                },
            )*
        }

        impl HxbError {
            /// The stable code of this error's kind (`"quota_exceeded"`).
            pub fn code(&self) -> &'static str {
                match self { $(HxbError::$case { .. } => $code,)* }
            }
        }

        impl From<ErrorInfo> for HxbError {
            fn from(info: ErrorInfo) -> Self {
                let details_json = info.details.to_string();
                let (message, causes) = (info.message, info.causes);
                match info.kind {
                    $($code => HxbError::$case { message, causes, details_json },)*
                    _ => HxbError::Internal { message, causes, details_json },
                }
            }
        }
    };
}

hxb_error! {
    /// Malformed input (a name, a quantity, a manifest). Nothing changed.
    InvalidInput = "invalid_input",
    /// The object does not exist.
    NotFound = "not_found",
    /// An object with that identity already exists.
    AlreadyExists = "already_exists",
    /// A concurrent change won; re-read and retry.
    Conflict = "conflict",
    /// Quota admission refused the request (details list each exceeded resource).
    QuotaExceeded = "quota_exceeded",
    /// RBAC or a policy refused the request.
    Forbidden = "forbidden",
    /// The current state does not allow the request.
    FailedPrecondition = "failed_precondition",
    /// No node can run the workload.
    Unschedulable = "unschedulable",
    /// A dependency is temporarily unavailable; retry later.
    Unavailable = "unavailable",
    /// The operation did not finish in time.
    Timeout = "timeout",
    /// The backend failed.
    Backend = "backend",
    /// The engine was closed.
    Closed = "closed",
    /// A bug in hxb (an invariant broke, or native code panicked).
    Internal = "internal",
}

impl From<hxb::Error> for HxbError {
    fn from(err: hxb::Error) -> Self {
        ErrorInfo::from_error(&err).into()
    }
}

/// `Result` of every exported call.
pub type Res<T> = Result<T, HxbError>;

/// Run a sync facade call with panics contained.
pub fn guard<T>(f: impl FnOnce() -> hxb::Result<T>) -> Res<T> {
    Ok(hxb_bindings_common::guard(f)?)
}

/// Throw a representative error of `kind` (tests of the mapping; not part of the API).
#[uniffi::export]
pub fn raise_sample_error(kind: String) -> Res<()> {
    Err(hxb_bindings_common::sample_error(&kind)
        .unwrap_or_else(|| hxb::Error::invalid("kind", format!("unknown error kind {kind:?}")))
        .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_maps_to_the_case_of_that_code() {
        for kind in hxb::ErrorKind::ALL {
            let err = HxbError::from(hxb_bindings_common::sample_error(kind.as_str()).unwrap());
            assert_eq!(err.code(), kind.as_str());
        }
    }
}
