//! The bulk of a streamed payload goes through WebCrypto. The data key is
//! handed to `crypto.subtle` as a non-extractable AES-GCM key, so the key
//! bytes never become readable from JavaScript. Each segment's AES-GCM
//! decryption and SHA-256 then run in the browser's native code, several
//! times faster than AES-GCM compiled to WebAssembly (docs/benchmarks.md).
//! This module makes the calls. The worker only awaits the promises and
//! hands the results back to [`SegmentChecker::check_segment`].
//!
//! `crypto` is read from `globalThis`, which works in a window and in a
//! worker alike.

use js_sys::{Array, Promise, Reflect, Uint8Array};
use valise_core::key_access::{GCM_NONCE_LEN, GCM_TAG_LEN};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{AesGcmParams, CryptoKey, SubtleCrypto};

use crate::error::{BindingError, ErrorKind};
use crate::package::OpenedPackage;
use crate::stream::SegmentChecker;

fn internal(message: &str) -> JsValue {
    BindingError::new(ErrorKind::Internal, message).into()
}

/// Returns `globalThis.crypto.subtle`, or `None` on a page that is not a
/// secure context.
fn subtle() -> Option<SubtleCrypto> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).ok().filter(JsValue::is_object)?;
    let subtle = Reflect::get(&crypto, &"subtle".into()).ok().filter(JsValue::is_object)?;
    Some(subtle.unchecked_into())
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
        let Some(subtle) = subtle() else {
            return Ok(JsValue::NULL);
        };
        let key = streaming.key.take().ok_or_else(|| internal("the segment key was already handed out"))?;
        let algorithm = js_sys::Object::new();
        Reflect::set(&algorithm, &"name".into(), &"AES-GCM".into())?;
        // importKey copies the bytes before it returns; the copy made here
        // is zeroed right after the call, and `key` zeroizes on drop.
        let raw = Uint8Array::from(&key.as_bytes()[..]);
        let result = subtle.import_key_with_object("raw", &raw, &algorithm, false, &Array::of1(&"decrypt".into()));
        raw.fill(0, 0, raw.length());
        drop(key);
        Ok(result?.into())
    }
}

#[wasm_bindgen]
impl SegmentChecker {
    /// Starts WebCrypto on one encrypted segment (nonce, ciphertext and tag)
    /// with `key`, the `CryptoKey` that `OpenedPackage.segmentKey()`
    /// resolved to: AES-256-GCM decryption, which checks the GCM tag, and,
    /// when `needsDigest`, the SHA-256 of the encrypted bytes, both at once.
    /// Resolves to `[plaintext, digest]`: the plaintext, or `undefined` when
    /// the tag check failed, and the digest or `undefined`. Nothing is released
    /// yet: pass both to `checkSegment` with the same segment.
    ///
    /// # Errors
    ///
    /// `Internal` when the page has no `crypto.subtle`, the segment is
    /// shorter than a nonce and a tag, or WebCrypto throws.
    #[wasm_bindgen(js_name = decryptSegment, unchecked_return_type = "Promise<[ArrayBuffer | undefined, ArrayBuffer | undefined]>")]
    pub fn decrypt_segment(&mut self, key: &CryptoKey, encrypted: &Uint8Array) -> Result<Promise, JsValue> {
        let subtle = subtle().ok_or_else(|| internal("this page has no crypto.subtle (not a secure context)"))?;
        // Each encrypted segment is nonce || ciphertext || tag.
        let (nonce_len, tag_len) = (GCM_NONCE_LEN as u32, GCM_TAG_LEN as u32);
        let length = encrypted.length();
        if length < nonce_len + tag_len {
            return Err(internal("an encrypted segment is shorter than its nonce and tag"));
        }
        let algorithm = AesGcmParams::new("AES-GCM", &encrypted.subarray(0, nonce_len));
        algorithm.set_tag_length(128);
        let decrypted = subtle.decrypt_with_object_and_js_u8_array(&algorithm, key, &encrypted.subarray(nonce_len, length))?;
        // A failed tag check rejects with a bare OperationError. It resolves
        // to `undefined` here, so `checkSegment` reports it as an integrity
        // failure of this segment like every other check.
        let decrypted = decrypted.catch(self.tag_failure.get_or_insert_with(|| Closure::new(|_: JsValue| {})));
        let digest = if self.needs_digest() { subtle.digest_with_str_and_js_u8_array("SHA-256", encrypted)?.into() } else { JsValue::UNDEFINED };
        Ok(Promise::all(&Array::of2(&decrypted, &digest)))
    }
}
