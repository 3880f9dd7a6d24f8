//! TODO: module `attributes` is being written.
