//! Where the test against ESO's upstream CRDs takes them from, the first
//! that exists:
//!
//! 1. `ESO_CRDS`: a YAML file of one or more CRDs, or a directory of such
//!    files (the ESO version is read from the path, `eso-v0.20.4/...`);
//! 2. the CRDs `--env binaries` runs with. A convention of this workspace:
//!    `scripts/build-real-components.sh` writes all of ESO's CRDs, from the
//!    ESO Go module it builds, and a `components.json` naming them
//!    (`external-secrets.crds`, `external-secrets.version`) into
//!    `${OPSSIGHT_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/opssight-harness/bin}`.
//!    Those two fields are all this test reads of it: the kube-emulator
//!    knows nothing else of the harness;
//! 3. `../shared/reference/eso-crds-v2.9.0` beside the repository.
//!
//! A source that is named but broken (`ESO_CRDS` pointing at nothing, a
//! `components.json` naming a missing file) fails the test: skipping
//! would hide it.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// ESO's CRDs as one source holds them.
pub(crate) struct EsoCrds {
    /// How the source was found, for the output.
    pub(crate) origin: &'static str,
    /// The ESO release they are from.
    pub(crate) version: String,
    /// The YAML files, each of one or more CRDs.
    pub(crate) files: Vec<PathBuf>,
}

/// ESO's CRDs, or (Err) everywhere they were looked for.
pub(crate) fn find() -> Result<EsoCrds, String> {
    if let Some(path) = std::env::var_os("ESO_CRDS").map(PathBuf::from) {
        assert!(path.exists(), "ESO_CRDS={} does not exist", path.display());
        let version = version_in(&path).unwrap_or_else(|| "(version not in the path)".into());
        return Ok(EsoCrds {
            origin: "ESO_CRDS",
            version,
            files: yaml_files(&path),
        });
    }
    let bin = bin_dir();
    let manifest = bin.join("components.json");
    if manifest.is_file() {
        let text = std::fs::read_to_string(&manifest)
            .unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
        let components: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
        let field = |name: &str| {
            components["external-secrets"][name]
                .as_str()
                .unwrap_or_else(|| {
                    panic!(
                        "{}: no external-secrets.{name}: rerun scripts/build-real-components.sh",
                        manifest.display()
                    )
                })
                .to_owned()
        };
        let crds = PathBuf::from(field("crds"));
        assert!(
            crds.is_file(),
            "{} names ESO's CRDs {}, which is missing: rerun scripts/build-real-components.sh",
            manifest.display(),
            crds.display()
        );
        return Ok(EsoCrds {
            origin: "components.json of --env binaries",
            version: field("version"),
            files: vec![crds],
        });
    }
    let shared =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/eso-crds-v2.9.0");
    if shared.is_dir() {
        return Ok(EsoCrds {
            origin: "../shared/reference",
            version: "v2.9.0".into(),
            files: yaml_files(&shared),
        });
    }
    Err(format!(
        "no ESO CRDs: ESO_CRDS is not set, {} does not exist (scripts/build-real-components.sh writes it) and neither does {}",
        manifest.display(),
        shared.display()
    ))
}

/// Says `line` in the test's output even when libtest captures the test's
/// (it captures only the print macros): which CRDs were checked, or why
/// none were.
pub(crate) fn tell(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// `OPSSIGHT_BIN_DIR`, else `${XDG_CACHE_HOME:-$HOME/.cache}/opssight-harness/bin`,
/// as scripts/build-real-components.sh computes it (a relative
/// XDG_CACHE_HOME is ignored, as the XDG spec says).
fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("OPSSIGHT_BIN_DIR") {
        return dir.into();
    }
    let cache = match std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from) {
        Some(xdg) if xdg.is_absolute() => xdg,
        _ => Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".cache"),
    };
    cache.join("opssight-harness/bin")
}

/// The YAML files of a directory, in name order, or the file itself.
fn yaml_files(path: &Path) -> Vec<PathBuf> {
    if !path.is_dir() {
        assert!(path.is_file(), "{} does not exist", path.display());
        return vec![path.to_owned()];
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no YAML file", path.display());
    files
}

/// The first `vX.Y...` in the path's names (`eso-v0.20.4`, `eso-crds-v2.9.0`).
fn version_in(path: &Path) -> Option<String> {
    path.iter()
        .filter_map(|name| name.to_str())
        .flat_map(|name| name.split('-'))
        .find(|part| {
            part.strip_prefix('v')
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        })
        .map(str::to_owned)
}

#[test]
fn a_version_is_read_from_the_path() {
    assert_eq!(
        version_in(Path::new("/c/bin/eso-v0.20.4/crds.yaml")).as_deref(),
        Some("v0.20.4")
    );
    assert_eq!(
        version_in(Path::new("../shared/reference/eso-crds-v2.9.0")).as_deref(),
        Some("v2.9.0")
    );
    assert_eq!(version_in(Path::new("/tmp/crds.yaml")), None);
}
