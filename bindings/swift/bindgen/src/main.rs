//! `uniffi-bindgen` for hxb (library mode): `uniffi-bindgen generate --library <lib> -l swift`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
