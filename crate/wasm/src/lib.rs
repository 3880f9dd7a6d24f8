//! WebAssembly bindings for the Valise viewer: a thin wasm-bindgen layer over
//! `valise-core`. This file holds the exports only; each concern lives in its
//! own module. Failing exports throw the tagged object of `error.rs`, which
//! `www/src/errors.js` turns into a named JavaScript error class.

mod archive;
mod error;
mod events;
mod identity;
mod keyfile;
mod package;
mod panic;
mod stream;
mod time;
mod trust;
mod types;
mod webcrypto;

use wasm_bindgen::prelude::*;

pub use events::EventSigner;
pub use identity::Identity;
pub use package::{OpenedPackage, Package};
pub use stream::SegmentChecker;
pub use trust::TrustList;

/// Returns the version of the core this module was built from.
#[wasm_bindgen(js_name = coreVersion)]
pub fn core_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// Installs the panic hook; `handler(message)` is called before a panic traps.
#[wasm_bindgen(js_name = setPanicHandler)]
pub fn set_panic_handler(handler: js_sys::Function) {
    panic::set_panic_handler(handler);
}

/// Panics on purpose, so the portal's error state can be tested in a real
/// browser against the real module.
#[wasm_bindgen(js_name = debugPanic)]
#[allow(clippy::panic, reason = "this export exists to exercise the panic hook")]
pub fn debug_panic() {
    panic!("debugPanic was called to test the error state");
}
