//! TODO: module `policy` is being written.
