//! Panic capture: a panic hook that hands the panic message to a JavaScript
//! callback before the module traps, so the page shows an error state with
//! details instead of going blank.
//!
//! The module is built with `panic = "abort"`, so after the hook returns the
//! instance traps with `unreachable` and must not be called again; the page
//! reloads the module instead.

use std::cell::RefCell;
use std::panic::PanicHookInfo;

use wasm_bindgen::prelude::*;

thread_local! {
    static HANDLER: RefCell<Option<js_sys::Function>> = const { RefCell::new(None) };
}

/// Installs the panic hook and registers the function that receives the message.
pub(crate) fn set_panic_handler(handler: js_sys::Function) {
    HANDLER.with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = Some(handler);
        }
    });
    std::panic::set_hook(Box::new(report_panic));
}

fn report_panic(info: &PanicHookInfo<'_>) {
    let message = info.to_string();
    HANDLER.with(|slot| {
        if let Ok(slot) = slot.try_borrow() {
            if let Some(handler) = slot.as_ref() {
                // Nothing more can be done if the handler itself throws.
                let _ = handler.call1(&JsValue::NULL, &JsValue::from_str(&message));
            }
        }
    });
}
