//! TODO: module `inspect` is being written.
