//! The Secrets Manager seed: templates under fixtures/secretsmanager whose
//! secret fields are generated for each run, so that no fixed value exists
//! in the repository and every output can be searched for every value.

use std::collections::BTreeMap;
use std::path::Path;

use rand::Rng;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    region: String,
    secrets: Vec<SeedSecret>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedSecret {
    name: String,
    value: BTreeMap<String, Value>,
}

/// The seeded secrets of one run: name → key → value.
#[derive(Clone)]
pub struct Seed {
    pub region: String,
    pub secrets: BTreeMap<String, BTreeMap<String, String>>,
    /// Secret name → the keys whose values were generated (the secret ones).
    pub generated: BTreeMap<String, Vec<String>>,
}

impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shape: BTreeMap<&String, Vec<&String>> = self
            .secrets
            .iter()
            .map(|(n, kv)| (n, kv.keys().collect()))
            .collect();
        f.debug_struct("Seed")
            .field("region", &self.region)
            .field("keys", &shape)
            .finish()
    }
}

const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A value made for this run. When `OPSSIGHT_VALUE_LEDGER` names a file,
/// every value is appended to it, so that a test can search every output of
/// a run for every value the run made (the hygiene check).
pub fn generate(length: usize) -> String {
    let mut rng = rand::rng();
    let value: String = (0..length)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect();
    crate::redact::register(&value);
    if let Some(ledger) = ledger() {
        use std::io::Write;
        let mut file = ledger.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(file, "{value}");
    }
    value
}

fn ledger() -> Option<&'static std::sync::Mutex<std::fs::File>> {
    static LEDGER: std::sync::OnceLock<Option<std::sync::Mutex<std::fs::File>>> =
        std::sync::OnceLock::new();
    LEDGER
        .get_or_init(|| {
            let path = std::env::var_os("OPSSIGHT_VALUE_LEDGER")?;
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .ok()
                .map(std::sync::Mutex::new)
        })
        .as_ref()
}

/// The longest value the seed may generate: far beyond any credential,
/// far below what would exhaust memory (a length of 10^12 would abort).
pub const MAX_LENGTH: u64 = 1 << 16;

impl Seed {
    /// What `load` checks, without generating (nor recording) a value.
    pub fn check(path: &Path) -> anyhow::Result<()> {
        Self::read(path, false).map(|_| ())
    }

    pub fn load(path: &Path) -> anyhow::Result<Self> {
        Self::read(path, true)
    }

    fn read(path: &Path, make: bool) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let file: SeedFile = serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{}: line {}, column {}: {e}",
                path.display(),
                e.line(),
                e.column()
            )
        })?;
        let mut secrets = BTreeMap::new();
        let mut generated = BTreeMap::new();
        for s in file.secrets {
            let mut values = BTreeMap::new();
            let mut made: Vec<String> = Vec::new();
            for (k, v) in s.value {
                let value = match &v {
                    Value::String(fixed) => fixed.clone(),
                    Value::Object(o) if o.contains_key("generate") => {
                        let g = &o["generate"];
                        let length = g.get("length").and_then(Value::as_u64).ok_or_else(|| {
                            anyhow::anyhow!(
                                "{}: secret {}: field {k}: generate needs a length (a whole number), not {}",
                                path.display(),
                                s.name,
                                g.get("length").map(Value::to_string).unwrap_or_else(|| "none".into())
                            )
                        })?;
                        if length == 0 || length > MAX_LENGTH {
                            anyhow::bail!(
                                "{}: secret {}: field {k}: generate.length {length} is out of range (1 to {MAX_LENGTH})",
                                path.display(),
                                s.name
                            );
                        }
                        let prefix = match g.get("prefix") {
                            None => "",
                            Some(Value::String(p)) => p.as_str(),
                            Some(other) => anyhow::bail!(
                                "{}: secret {}: field {k}: generate.prefix must be a string, not {other}",
                                path.display(),
                                s.name
                            ),
                        };
                        made.push(k.clone());
                        let value = if make {
                            format!("{prefix}{}", generate(length as usize))
                        } else {
                            String::new()
                        };
                        // Its full form too: a prefixed value is shown whole.
                        crate::redact::register(&value);
                        value
                    }
                    _ => anyhow::bail!(
                        "{}: secret {}: field {k}: a string or {{\"generate\": ...}}",
                        path.display(),
                        s.name
                    ),
                };
                values.insert(k, value);
            }
            generated.insert(s.name.clone(), made);
            secrets.insert(s.name, values);
        }
        Ok(Self {
            region: file.region,
            secrets,
            generated,
        })
    }

    /// Every generated value, for searching outputs.
    pub fn all_values(&self) -> Vec<String> {
        self.secrets
            .iter()
            .flat_map(|(name, kv)| {
                kv.iter()
                    .filter(move |(k, _)| self.generated.get(name).is_some_and(|g| g.contains(k)))
                    .map(|(_, v)| v.clone())
            })
            .collect()
    }
}

/// What may be shown of a value: its length and a short hash.
pub fn describe(value: &[u8]) -> String {
    use sha2::Digest;
    format!(
        "<{} bytes, sha256 {}>",
        value.len(),
        &hex::encode(sha2::Sha256::digest(value))[..8]
    )
}
