//! WebAssembly bindings for the Valise viewer: a thin wasm-bindgen layer over
//! `valise-core`. Exports only; the logic lives in the core.

use wasm_bindgen::prelude::*;

mod sanitize;

pub use sanitize::{render_markdown, sanitize_html, ALLOWED_URL_SCHEMES};

/// Returns the version of the core this module was built from.
#[wasm_bindgen(js_name = coreVersion)]
pub fn core_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
