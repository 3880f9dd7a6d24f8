//! TODO: module `container` is being written.
