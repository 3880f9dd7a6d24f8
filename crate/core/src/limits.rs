//! TODO: module `limits` is being written.
