//! What the CLI-driving tests share.

// Each test binary that includes this module uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst)
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// A copy of the repository's fixtures under `dir`, with `edit` applied to one file.
pub fn fixtures_with(dir: &Path, file: &str, from: &str, to: &str) -> (PathBuf, PathBuf) {
    let fixtures = dir.join("fixtures");
    copy_dir(&repo_root().join("fixtures"), &fixtures);
    let path = fixtures.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    (fixtures, path)
}
