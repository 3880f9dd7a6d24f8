//! TODO: module `credential` is being written.
