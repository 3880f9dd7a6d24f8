//! TODO: module `open` is being written.
