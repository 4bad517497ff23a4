//! Kubernetes manifests from YAML files, and the part of kustomize the
//! fixtures use (resources, and patches merged onto the object they name),
//! with errors that name the file and line.

use std::path::{Path, PathBuf};

use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path}: not valid YAML: {message}")]
    Yaml { path: PathBuf, message: String },
    #[error("{path}: document {index}: {message}")]
    Object {
        path: PathBuf,
        index: usize,
        message: String,
    },
    #[error("{path}: field `{field}`: {message}")]
    Kustomization {
        path: PathBuf,
        field: String,
        message: String,
    },
}

/// An object and the file it came from.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub source: PathBuf,
    pub object: Value,
}

impl Manifest {
    pub fn kind(&self) -> &str {
        self.object
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
    pub fn api_version(&self) -> &str {
        self.object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
    pub fn name(&self) -> &str {
        self.object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
    pub fn namespace(&self) -> Option<&str> {
        self.object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
    }
}

/// `a/b/../c` → `a/c`, so that errors name files as a person would.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn read(path: &Path) -> Result<String, ManifestError> {
    std::fs::read_to_string(path).map_err(|e| ManifestError::Read {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// Every object of a (multi-document) YAML file.
pub fn load_file(path: &Path) -> Result<Vec<Manifest>, ManifestError> {
    let text = read(path)?;
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).map_err(|e| ManifestError::Yaml {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let mut out = Vec::new();
    for (index, doc) in docs.into_iter().enumerate().filter(|(_, d)| !d.is_null()) {
        let m = Manifest {
            source: path.to_owned(),
            object: doc,
        };
        for (field, ok) in [
            ("apiVersion", !m.api_version().is_empty()),
            ("kind", !m.kind().is_empty()),
            ("metadata.name", !m.name().is_empty()),
        ] {
            if !ok {
                return Err(ManifestError::Object {
                    path: path.to_owned(),
                    index: index + 1,
                    message: format!("missing {field}"),
                });
            }
        }
        out.push(m);
    }
    Ok(out)
}

/// Builds a kustomization directory: its resources (files or directories
/// with their own kustomization), then its patches, each merged onto the
/// object with the same apiVersion, kind and name.
pub fn kustomize(dir: &Path) -> Result<Vec<Manifest>, ManifestError> {
    let file = dir.join("kustomization.yaml");
    let text = read(&file)?;
    let k: Value = serde_saphyr::from_str(&text).map_err(|e| ManifestError::Yaml {
        path: file.clone(),
        message: e.to_string(),
    })?;
    let list = |field: &str| -> Result<Vec<Value>, ManifestError> {
        match k.get(field) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(a)) => Ok(a.clone()),
            Some(_) => Err(ManifestError::Kustomization {
                path: file.clone(),
                field: field.into(),
                message: "must be a list".into(),
            }),
        }
    };
    let mut out = Vec::new();
    for r in list("resources")? {
        let rel = r.as_str().ok_or_else(|| ManifestError::Kustomization {
            path: file.clone(),
            field: "resources".into(),
            message: "entries must be paths".into(),
        })?;
        let path = normalize(&dir.join(rel));
        if path.is_dir() {
            out.extend(kustomize(&path)?);
        } else {
            out.extend(load_file(&path)?);
        }
    }
    for (i, p) in list("patches")?.into_iter().enumerate() {
        let rel =
            p.get("path")
                .and_then(Value::as_str)
                .ok_or_else(|| ManifestError::Kustomization {
                    path: file.clone(),
                    field: format!("patches[{i}].path"),
                    message: "missing (only patches from files are supported)".into(),
                })?;
        for patch in load_file(&normalize(&dir.join(rel)))? {
            let target = out
                .iter_mut()
                .find(|m| {
                    m.api_version() == patch.api_version()
                        && m.kind() == patch.kind()
                        && m.name() == patch.name()
                })
                .ok_or_else(|| ManifestError::Kustomization {
                    path: file.clone(),
                    field: format!("patches[{i}]"),
                    message: format!(
                        "no resource {} {} to patch (from {})",
                        patch.kind(),
                        patch.name(),
                        patch.source.display()
                    ),
                })?;
            json_patch::merge(&mut target.object, &patch.object);
        }
    }
    if let Some(ns) = k.get("namespace").and_then(Value::as_str) {
        for m in &mut out {
            if m.kind() != "Namespace" {
                m.object["metadata"]["namespace"] = Value::String(ns.into());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_file_is_named_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("bad.yaml");
        std::fs::write(
            &f,
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: [unclosed\n",
        )
        .unwrap();
        let e = load_file(&f).unwrap_err().to_string();
        assert!(e.starts_with(&f.display().to_string()), "{e}");
        assert!(e.contains("line"), "{e}");
        std::fs::write(&f, "apiVersion: v1\nkind: Secret\nmetadata: {}\n").unwrap();
        assert!(
            load_file(&f)
                .unwrap_err()
                .to_string()
                .contains("document 1: missing metadata.name")
        );
    }
}
