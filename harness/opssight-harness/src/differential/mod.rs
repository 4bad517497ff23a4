//! The differential: the same scenarios on two environments (embedded and
//! binaries), each checkpoint's observable state recorded, and the
//! differences compared with those declared in a crate's README; and the
//! kube API's own differential, requests replayed on the kube-emulator and
//! on the real kube-apiserver.

pub mod compare;
pub mod kube_api;
pub mod observe;
pub mod record;
