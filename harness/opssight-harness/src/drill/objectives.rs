//! What a drill must show to pass: each Secret restored within its recovery
//! time objective, and no value lost. A YAML (or JSON) file can change them.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objectives {
    /// Longest time from the first recovery action (or, with none, from the
    /// disaster) until a Secret holds its values again and is Ready.
    #[serde(default = "default_rto", with = "seconds")]
    pub max_recovery_seconds: Duration,
    /// Whether a Secret may end the drill holding other values than those it
    /// should (the recorded ones, or a value the scenario changed on purpose).
    #[serde(default)]
    pub allow_data_loss: bool,
    /// Tighter or looser objectives for single Secrets, by name.
    #[serde(default)]
    pub secrets: BTreeMap<String, SecretObjective>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretObjective {
    #[serde(with = "seconds")]
    pub max_recovery_seconds: Duration,
}

fn default_rto() -> Duration {
    Duration::from_secs(5 * 60)
}

impl Default for Objectives {
    fn default() -> Self {
        Self {
            max_recovery_seconds: default_rto(),
            allow_data_loss: false,
            secrets: BTreeMap::new(),
        }
    }
}

impl Objectives {
    /// The data-loss objective as the reports say it.
    pub fn data_loss(&self) -> &'static str {
        if self.allow_data_loss {
            "allowed"
        } else {
            "not allowed"
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ObjectivesError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: secrets: {name}: no such Secret in the drill (it follows: {known})")]
    UnknownSecret {
        path: String,
        name: String,
        known: String,
    },
}

impl Objectives {
    pub fn load(path: &Path) -> Result<Self, ObjectivesError> {
        let text = std::fs::read_to_string(path).map_err(|source| ObjectivesError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text).map_err(|message| ObjectivesError::Parse {
            path: path.display().to_string(),
            message,
        })
    }

    /// serde-saphyr's message names the line and the field. Booleans are
    /// YAML 1.2's `true` and `false` only: `yes`, `on` or `"yes"` for
    /// allow_data_loss is refused, not guessed.
    pub fn parse(text: &str) -> Result<Self, String> {
        let options = serde_saphyr::options! { strict_booleans: true };
        serde_saphyr::from_str_with_options(text, options).map_err(|e| e.to_string())
    }

    /// Refuses a per-Secret objective naming a Secret the drill does not
    /// follow (a misspelt name would silently change nothing).
    pub fn check_secrets(&self, path: &Path, known: &[String]) -> Result<(), ObjectivesError> {
        match self.secrets.keys().find(|n| !known.contains(n)) {
            Some(name) => Err(ObjectivesError::UnknownSecret {
                path: path.display().to_string(),
                name: name.clone(),
                known: known.join(", "),
            }),
            None => Ok(()),
        }
    }

    pub fn max_recovery_for(&self, secret: &str) -> Duration {
        self.secrets
            .get(secret)
            .map(|s| s.max_recovery_seconds)
            .unwrap_or(self.max_recovery_seconds)
    }
}

/// A duration as a number of seconds (fractions allowed), as people write
/// objectives.
mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = f64::deserialize(d)?;
        Duration::try_from_secs_f64(v)
            .map_err(|_| D::Error::custom(format!("{v} is not a number of seconds >= 0")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_five_minutes_and_no_loss() {
        let o = Objectives::parse("{}").unwrap();
        assert_eq!(o, Objectives::default());
        assert_eq!(o.max_recovery_seconds, Duration::from_secs(300));
        assert!(!o.allow_data_loss);
    }

    #[test]
    fn per_secret_objective_overrides_the_default() {
        let o = Objectives::parse(
            "max_recovery_seconds: 120\nsecrets:\n  opssight-app-secrets:\n    max_recovery_seconds: 30\n",
        )
        .unwrap();
        assert_eq!(
            o.max_recovery_for("opssight-app-secrets"),
            Duration::from_secs(30)
        );
        assert_eq!(
            o.max_recovery_for("opssight-redis-secrets"),
            Duration::from_secs(120)
        );
    }

    #[test]
    fn yes_is_not_a_boolean() {
        for text in [
            "allow_data_loss: yes\n",
            "allow_data_loss: \"yes\"\n",
            "allow_data_loss: on\n",
        ] {
            let e = Objectives::parse(text).unwrap_err();
            assert!(
                e.contains("allow_data_loss") || e.contains("line 1"),
                "{text}: {e}"
            );
        }
        assert!(
            Objectives::parse("allow_data_loss: true\n")
                .unwrap()
                .allow_data_loss
        );
    }

    #[test]
    fn a_misspelt_secret_is_refused() {
        let o =
            Objectives::parse("secrets:\n  opssight-app-secret:\n    max_recovery_seconds: 30\n")
                .unwrap();
        let e = o
            .check_secrets(Path::new("o.yaml"), &["opssight-app-secrets".into()])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("o.yaml: secrets: opssight-app-secret: no such Secret"),
            "{e}"
        );
    }

    #[test]
    fn unknown_field_and_negative_time_are_named() {
        let e = Objectives::parse("max_recovery_secs: 10\n").unwrap_err();
        assert!(e.contains("max_recovery_secs"), "{e}");
        let e = Objectives::parse("max_recovery_seconds: -1\n").unwrap_err();
        assert!(e.contains("-1"), "{e}");
    }
}
