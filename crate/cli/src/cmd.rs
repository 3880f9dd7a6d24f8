//! One module per command group.

pub(crate) mod collector;
pub(crate) mod events;
