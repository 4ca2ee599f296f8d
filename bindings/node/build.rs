//! napi-rs link set-up (platform link flags for a Node addon).

fn main() {
    napi_build::setup();
}
