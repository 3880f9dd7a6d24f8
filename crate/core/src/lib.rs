//! Valise core: the ZTDF community profile, the community trust list, the
//! access decision point and access events.
//!
//! The crate is pure Rust with no wasm-bindgen dependency. It builds for the
//! host (the `valise` CLI) and for `wasm32-unknown-unknown` (the browser
//! viewer), and both run exactly the same verification and decision code.
//! Nothing here reads the clock or the file system: callers pass the current
//! time and the bytes.

#![forbid(unsafe_code)]

// Cryptographic building blocks.
pub mod jws;
pub mod key_access;
pub mod keys;

// The package format.
pub mod assertions;
pub mod container;
pub mod inspect;
pub mod json_strict;
pub mod limits;
pub mod manifest;
pub mod open;
pub mod policy;
pub mod seal;
pub mod segments;

// Trust, identity and the decision point.
pub mod attributes;
pub mod credential;
pub mod decision;
pub mod display_name;
pub mod label;
pub mod trust_list;

// Access events.
pub mod events;
