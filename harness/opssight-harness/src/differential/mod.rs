//! The differential: the same scenarios on two environments (embedded and
//! binaries), each checkpoint's observable state recorded, and the
//! differences compared with those declared in a crate's README.

pub mod compare;
pub mod observe;
