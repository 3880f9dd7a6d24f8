//! TODO: module `json_strict` is being written.
