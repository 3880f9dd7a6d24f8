//! TODO: module `jws` is being written.
