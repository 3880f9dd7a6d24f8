//! TODO: module `seal` is being written.
