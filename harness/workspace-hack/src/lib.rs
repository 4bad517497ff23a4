//! Nothing to see: this crate exists for its Cargo.toml (see its README).
