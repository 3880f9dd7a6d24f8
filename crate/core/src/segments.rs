//! TODO: module `segments` is being written.
