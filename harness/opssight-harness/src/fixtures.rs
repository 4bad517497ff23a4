//! Where the fixtures are: `fixtures/` of this repository, or a directory
//! named by `OPSSIGHT_FIXTURES`.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Fixtures {
    root: PathBuf,
}

impl Fixtures {
    pub fn locate() -> anyhow::Result<Self> {
        if let Some(dir) = std::env::var_os("OPSSIGHT_FIXTURES") {
            return Ok(Self {
                root: PathBuf::from(dir),
            });
        }
        let from_manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
        let candidates = [from_manifest, PathBuf::from("fixtures")];
        candidates
            .into_iter()
            .find(|p| p.join("k8s").is_dir())
            .map(|root| Self { root })
            .ok_or_else(|| anyhow::anyhow!("cannot find the fixtures directory; run from the repository or set OPSSIGHT_FIXTURES"))
    }

    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn overlay(&self, name: &str) -> PathBuf {
        self.root.join("k8s/overlays").join(name)
    }

    /// The runbook's single-file form of the production manifests
    /// (`external-secrets.yaml`, which its `sed` and `kubectl apply -f` name).
    pub fn runbook_single_file(&self) -> PathBuf {
        self.root.join("k8s/runbook/external-secrets.yaml")
    }

    pub fn seed_file(&self) -> PathBuf {
        self.root.join("secretsmanager/opssight-production.json")
    }

    pub fn rotation_policy(&self) -> PathBuf {
        self.root.join("rotation-policy.json")
    }

    pub fn iam_policy(&self) -> PathBuf {
        self.root.join("iam/opssight-external-secrets-policy.json")
    }

    /// Reads and checks every fixture a run uses, before anything starts:
    /// the seed (its JSON, each field's type, each generated length), the
    /// rotation policy, the IAM policy and every overlay's manifests. The
    /// error names the file and the line or field; a directory where a file
    /// should be is named as such.
    pub fn validate(&self) -> anyhow::Result<()> {
        crate::seed::Seed::check(&self.seed_file())?;
        crate::rotation::load_policies(&self.rotation_policy())?;
        aws_emulator::PolicyDocument::from_file(&self.iam_policy())?;
        let overlays = self.root.join("k8s/overlays");
        let mut names: Vec<_> = std::fs::read_dir(&overlays)
            .map_err(|e| anyhow::anyhow!("{}: {e}", overlays.display()))?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            crate::manifests::kustomize(&self.overlay(&name))?;
        }
        // Optional: a fixtures directory of one's own need not carry it.
        let single = self.runbook_single_file();
        if single.exists() {
            crate::manifests::load_file(&single)?;
        }
        Ok(())
    }

    /// ESO's upstream CRDs, when `../shared` is beside the repository.
    pub fn upstream_crds(&self) -> Option<PathBuf> {
        let dir = self.root.join("../../shared/reference/eso-crds-v2.9.0");
        dir.is_dir().then_some(dir)
    }
}
