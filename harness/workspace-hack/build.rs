// Empty on purpose: a build script makes cargo honour the build-dependencies
// in Cargo.toml, which unify the features of host crates (proc macros).
fn main() {}
