//! TODO: module `label` is being written.
