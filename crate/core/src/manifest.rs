//! TODO: module `manifest` is being written.
