//! TODO: module `key_access` is being written.
