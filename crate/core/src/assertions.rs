//! TODO: module `assertions` is being written.
