//! The access-event collector: an HTTP service that verifies signed access
//! events and stores each one once, in SQLite or PostgreSQL.

pub(crate) mod bench;
pub(crate) mod directory;
pub(crate) mod host;
pub(crate) mod postgres;
pub(crate) mod quota;
pub(crate) mod server;
pub(crate) mod sqlite;
pub(crate) mod store;
