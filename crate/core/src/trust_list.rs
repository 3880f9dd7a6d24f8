//! TODO: module `trust_list` is being written.
