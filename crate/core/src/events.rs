//! TODO: module `events` is being written.
