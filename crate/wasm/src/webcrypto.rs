//! Hands a permitted package's data key to WebCrypto as a non-extractable
//! AES-GCM key, so a worker can decrypt the bulk of the payload with the
//! browser's native AES-GCM (several times faster than AES-GCM compiled to
//! WebAssembly) while the key bytes never become readable from JavaScript.
//!
//! The call goes through `js_sys::Reflect` on `globalThis.crypto.subtle`,
//! which works in a window and in a worker alike.

use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::error::{BindingError, ErrorKind};
use crate::package::OpenedPackage;

fn internal(message: &str) -> JsValue {
    BindingError::new(ErrorKind::Internal, message).into()
}

#[wasm_bindgen]
impl OpenedPackage {
    /// Imports the data key into WebCrypto as a non-extractable AES-GCM key
    /// usable only to decrypt, and forgets it here. Resolves to the
    /// `CryptoKey`, which can be posted to a worker. Returns `null` when the
    /// package has no stream plan or the page has no `crypto.subtle` (not a
    /// secure context): the caller then uses `decryptAll`.
    ///
    /// # Errors
    ///
    /// `Internal` when called a second time or when WebCrypto throws.
    #[wasm_bindgen(js_name = segmentKey, unchecked_return_type = "Promise<CryptoKey> | null")]
    pub fn segment_key(&mut self) -> Result<JsValue, JsValue> {
        let Some(streaming) = self.stream.as_mut() else {
            return Ok(JsValue::NULL);
        };
        let global = js_sys::global();
        let subtle = Reflect::get(&global, &"crypto".into())
            .ok()
            .filter(|crypto| crypto.is_object())
            .and_then(|crypto| Reflect::get(&crypto, &"subtle".into()).ok())
            .filter(JsValue::is_object);
        let Some(subtle) = subtle else {
            return Ok(JsValue::NULL);
        };
        let import_key: js_sys::Function = Reflect::get(&subtle, &"importKey".into())?
            .dyn_into()
            .map_err(|_| internal("crypto.subtle.importKey is not a function"))?;
        let key = streaming.key.take().ok_or_else(|| internal("the segment key was already handed out"))?;
        let algorithm = Object::new();
        Reflect::set(&algorithm, &"name".into(), &"AES-GCM".into())?;
        // importKey copies the bytes before it returns; the copy made here
        // is zeroed right after the call, and `key` zeroizes on drop.
        let raw = Uint8Array::from(&key.as_bytes()[..]);
        let arguments = Array::of5(&"raw".into(), &raw, &algorithm, &JsValue::FALSE, &Array::of1(&"decrypt".into()));
        let result = Reflect::apply(&import_key, &subtle, &arguments);
        raw.fill(0, 0, raw.length());
        drop(key);
        let promise: Promise = result?.dyn_into().map_err(|_| internal("crypto.subtle.importKey returned no promise"))?;
        Ok(promise.into())
    }
}
