//! The tagged error object every failing export returns to JavaScript.
//!
//! The Rust side never builds JavaScript `Error` objects: it returns a plain
//! object `{ kind, message, reasons?, detail? }`, and `www/src/errors.js`
//! turns each `kind` into one named error class. The set of kinds is closed;
//! adding one means adding its class there too.

use serde::Serialize;
use wasm_bindgen::JsValue;

/// The closed set of failure kinds JavaScript distinguishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub(crate) enum ErrorKind {
    /// The package needs a private key and no identity is unlocked.
    KeyRequired,
    /// The unlocked key opens none of the package's key access objects.
    KeyMismatch,
    /// The bytes are not a well-formed package (container, manifest, limits).
    MalformedPackage,
    /// A signature, policy binding, segment tag or digest did not verify.
    Integrity,
    /// The decision point denied access; `reasons` says why.
    AccessDenied,
    /// The package or key uses a feature this viewer does not implement.
    Unsupported,
    /// The key file needs a passphrase, or the passphrase is wrong.
    Passphrase,
    /// A bug: a Rust panic or a call the bindings did not expect.
    Internal,
}

/// One reason of a denial, as the decision point states it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReasonView {
    /// Stable snake_case reason code.
    pub(crate) code: String,
    /// What is wrong, as a sentence for the reader.
    pub(crate) message: String,
    /// What the reader can do about it.
    pub(crate) next_step: String,
}

/// The error returned across the boundary.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BindingError {
    /// Which class JavaScript builds.
    pub(crate) kind: ErrorKind,
    /// A sentence for the reader; never contains key material or plaintext.
    pub(crate) message: String,
    /// The denial reasons (only for `AccessDenied`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) reasons: Vec<ReasonView>,
    /// The verified package's event facts, on a denial after the package's
    /// signatures verified, so the portal can report the denial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) event: Option<Box<crate::events::EventContext>>,
}

impl BindingError {
    /// Creates an error of the given kind with a message and no reasons.
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), reasons: Vec::new(), event: None }
    }

    /// Creates an `AccessDenied` error carrying the decision point's reasons.
    pub(crate) fn denied(reasons: Vec<ReasonView>) -> Self {
        let message = match reasons.as_slice() {
            [] => "Access was denied.".to_owned(),
            [only] => only.message.clone(),
            [first, ..] => format!("{} (and {} more reasons)", first.message, reasons.len() - 1),
        };
        Self { kind: ErrorKind::AccessDenied, message, reasons, event: None }
    }
}

impl From<BindingError> for JsValue {
    fn from(error: BindingError) -> JsValue {
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        error.serialize(&serializer).unwrap_or_else(|_| JsValue::from_str(&error.message))
    }
}

/// The result type of every fallible export.
pub(crate) type BindingResult<T> = Result<T, BindingError>;

/// Converts a serde value to a plain JavaScript object (maps as objects,
/// `None` as `null`).
///
/// # Errors
///
/// `Internal` if serialization fails, which only a bug produces.
pub(crate) fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|error| BindingError::new(ErrorKind::Internal, format!("could not convert a result for JavaScript: {error}")).into())
}

impl From<&valise_core::decision::Reason> for ReasonView {
    fn from(reason: &valise_core::decision::Reason) -> Self {
        Self { code: reason.code.as_str().to_owned(), message: reason.message.clone(), next_step: reason.next_step.clone() }
    }
}

/// Maps an open-path failure to the error JavaScript sees. Integrity
/// failures stay opaque, as the core returns them.
pub(crate) fn open_error(error: &valise_core::open::OpenError) -> BindingError {
    use valise_core::open::OpenError;
    match error {
        OpenError::NotRecipient | OpenError::MissingSplits { .. } => BindingError::new(ErrorKind::KeyMismatch, format!("Your key cannot open this package: {error}.")),
        OpenError::IntegrityFailure => BindingError::new(ErrorKind::Integrity, "The package was altered or damaged: a signature or checksum did not verify."),
        OpenError::Unsupported(_) => BindingError::new(ErrorKind::Unsupported, format!("The package uses a feature the viewer does not support: {error}.")),
        _ => BindingError::new(ErrorKind::MalformedPackage, format!("The file is not a valid protected package: {error}.")),
    }
}
