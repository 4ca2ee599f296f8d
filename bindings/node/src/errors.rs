//! The one error-mapping point: [`hxb::Error`] → a napi error whose message is the JSON
//! [`ErrorInfo`] record after [`MARKER`]; `index.js` decodes it into `HxbError`.

use hxb_bindings_common::ErrorInfo;
use napi_derive::napi;

/// Prefix of an encoded error message (never seen by users of `index.js`).
pub const MARKER: &str = "\u{1}hxb:";

/// The napi error of a facade error.
pub fn to_napi(err: hxb::Error) -> napi::Error {
    info_to_napi(&ErrorInfo::from_error(&err))
}

/// The napi error of an error record (for calls whose refusal carries more details than the
/// facade error itself, e.g. a policy refusal with its violations).
pub fn info_to_napi(info: &ErrorInfo) -> napi::Error {
    napi::Error::new(
        napi::Status::GenericFailure,
        format!("{MARKER}{}", info.to_json()),
    )
}

/// `Result` of the facade mapped for napi.
pub trait IntoNapi<T> {
    /// Map the error with [`to_napi`].
    fn napi(self) -> napi::Result<T>;
}

impl<T> IntoNapi<T> for hxb::Result<T> {
    fn napi(self) -> napi::Result<T> {
        self.map_err(to_napi)
    }
}

/// Run a sync facade call with panics contained.
pub fn guard<T>(f: impl FnOnce() -> hxb::Result<T>) -> napi::Result<T> {
    hxb_bindings_common::guard(f).napi()
}

/// Throw a representative error of `kind` (tests of the mapping; not part of the API).
#[napi(js_name = "_raiseSampleError")]
pub fn raise_sample_error(kind: String) -> napi::Result<()> {
    match hxb_bindings_common::sample_error(&kind) {
        Some(e) => Err(to_napi(e)),
        None => Err(to_napi(hxb::Error::invalid(
            "kind",
            format!("unknown error kind {kind:?}"),
        ))),
    }
}
