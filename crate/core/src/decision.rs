//! TODO: module `decision` is being written.
