//! TODO: module `keys` is being written.
