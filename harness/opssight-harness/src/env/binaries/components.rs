//! Where the real components are: what `scripts/build-real-components.sh`
//! built into the user's cache directory and described in its
//! `components.json`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One built component.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Component {
    pub version: String,
    /// The Go module (or package) it came from.
    pub module: String,
    pub path: PathBuf,
}

/// ESO's controller, with the CRDs and the rendered chart of its module.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct EsoComponent {
    pub version: String,
    pub module: String,
    pub path: PathBuf,
    pub crds: PathBuf,
    pub chart: PathBuf,
    /// Why this is the version (a fallback from the chart's v2.9.0).
    #[serde(default)]
    pub note: String,
}

/// Everything `--env binaries` runs.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Components {
    pub schema_version: u32,
    #[serde(rename = "external-secrets")]
    pub eso: EsoComponent,
    #[serde(rename = "kube-apiserver")]
    pub kube_apiserver: Component,
    #[serde(rename = "kube-controller-manager")]
    pub kube_controller_manager: Component,
    pub etcd: Component,
}

/// Why the components cannot be used, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ComponentsError {
    #[error(
        "the real components are not built ({} is missing): run scripts/build-real-components.sh (needs Go and the Go module proxy, minutes on a cold cache), or use --env embedded",
        .0.display()
    )]
    NotBuilt(PathBuf),
    #[error("{}: {source}", .path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: line {line}, column {column}: {message}", .path.display())]
    Malformed {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{what} {version} is listed in {} but {} is missing: rerun scripts/build-real-components.sh",
        .manifest.display(), .path.display()
    )]
    Missing {
        what: &'static str,
        version: String,
        path: PathBuf,
        manifest: PathBuf,
    },
}

/// `OPSSIGHT_BIN_DIR`, else `${XDG_CACHE_HOME:-$HOME/.cache}/opssight-harness/bin`,
/// as the build script computes it.
pub fn bin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("OPSSIGHT_BIN_DIR") {
        return PathBuf::from(d);
    }
    crate::files::user_cache_dir().join("bin")
}

impl Components {
    /// Reads `components.json` of `dir` and checks every file it names.
    pub fn load(dir: &Path) -> Result<Self, ComponentsError> {
        let manifest = dir.join("components.json");
        let text = match std::fs::read_to_string(&manifest) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ComponentsError::NotBuilt(manifest));
            }
            Err(source) => {
                return Err(ComponentsError::Unreadable {
                    path: manifest,
                    source,
                });
            }
        };
        let components: Self =
            serde_json::from_str(&text).map_err(|e| ComponentsError::Malformed {
                path: manifest.clone(),
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            })?;
        for (what, version, path) in components.files() {
            if !path.is_file() {
                return Err(ComponentsError::Missing {
                    what,
                    version: version.to_owned(),
                    path: path.to_owned(),
                    manifest,
                });
            }
        }
        Ok(components)
    }

    /// Every file the environment needs, named.
    pub fn files(&self) -> Vec<(&'static str, &str, &Path)> {
        vec![
            ("external-secrets", &self.eso.version, &self.eso.path),
            ("ESO's CRDs", &self.eso.version, &self.eso.crds),
            ("ESO's rendered chart", &self.eso.version, &self.eso.chart),
            (
                "kube-apiserver",
                &self.kube_apiserver.version,
                &self.kube_apiserver.path,
            ),
            (
                "kube-controller-manager",
                &self.kube_controller_manager.version,
                &self.kube_controller_manager.path,
            ),
            ("etcd", &self.etcd.version, &self.etcd.path),
        ]
    }

    /// One line for headers and reports: which real components run.
    pub fn summary(&self) -> String {
        format!(
            "ESO {} (the Helm chart pins v2.9.0; see doctor), kube-apiserver and kube-controller-manager {}, etcd {}",
            self.eso.version, self.kube_apiserver.version, self.etcd.version
        )
    }
}

/// The version of `module` that a Go binary says it was built from: the
/// `mod` line of the build information Go links into every binary (what
/// `go version -m` prints), read without Go.
pub fn go_module_version(binary: &Path, module: &str) -> std::io::Result<Option<String>> {
    let bytes = std::fs::read(binary)?;
    let needle = format!("\nmod\t{module}\t");
    let Some(at) = bytes
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
    else {
        return Ok(None);
    };
    let rest = &bytes[at + needle.len()..];
    let end = rest
        .iter()
        .position(|&b| b == b'\t' || b == b'\n')
        .unwrap_or(rest.len());
    Ok(Some(String::from_utf8_lossy(&rest[..end]).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_module_version_is_read_from_go_build_information() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::write(&bin, b"\x00go1.26\npath\tgithub.com/x/y\nmod\tgithub.com/x/y\tv0.20.4\th1:abc=\ndep\tz\tv1\n").unwrap();
        assert_eq!(
            go_module_version(&bin, "github.com/x/y")
                .unwrap()
                .as_deref(),
            Some("v0.20.4")
        );
        assert_eq!(go_module_version(&bin, "github.com/x").unwrap(), None);
    }

    #[test]
    fn a_missing_manifest_says_how_to_build_and_how_to_go_on() {
        let dir = tempfile::tempdir().unwrap();
        let e = Components::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("scripts/build-real-components.sh"), "{e}");
        assert!(e.contains("--env embedded"), "{e}");
    }

    #[test]
    fn a_malformed_manifest_is_named_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("components.json"),
            "{\n  \"schema_version\": x\n}",
        )
        .unwrap();
        let e = Components::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("components.json: line 2"), "{e}");
    }

    #[test]
    fn a_listed_file_that_is_gone_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("x");
        std::fs::write(&bin, "").unwrap();
        let c = |p: &Path| serde_json::json!({ "version": "v1", "module": "m", "path": p });
        let manifest = serde_json::json!({
            "schema_version": 1,
            "external-secrets": { "version": "v0.20.4", "module": "m", "path": bin, "crds": bin, "chart": dir.path().join("gone.yaml") },
            "kube-apiserver": c(&bin), "kube-controller-manager": c(&bin), "etcd": c(&bin),
        });
        std::fs::write(dir.path().join("components.json"), manifest.to_string()).unwrap();
        let e = Components::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("ESO's rendered chart v0.20.4"), "{e}");
        assert!(e.contains("gone.yaml is missing"), "{e}");
    }
}
