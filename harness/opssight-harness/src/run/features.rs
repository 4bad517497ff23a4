//! The feature files and the tag expression, checked before anything
//! starts: every file parsed (a malformed one named with its line and
//! column), the selection not empty, the reports writable.

use std::path::{Path, PathBuf};

use cucumber::gherkin;
use cucumber::gherkin::tagexpr::TagOperation;
use cucumber::tag::Ext as _;

pub(super) fn tags_of(feature: &gherkin::Feature, scenario: &gherkin::Scenario) -> Vec<String> {
    feature
        .tags
        .iter()
        .chain(scenario.tags.iter())
        .map(|t| t.trim_start_matches('@').to_owned())
        .collect()
}

/// What `run` checks before anything starts (the environment included):
/// the tag expression, the feature files (every one, in subdirectories
/// too, with its line), that the selection has scenarios, and that the
/// reports can be written.
pub fn preflight(
    features: &Path,
    tags: Option<&str>,
    outputs: &[(&str, &Option<PathBuf>)],
) -> anyhow::Result<usize> {
    let tag_text = tags;
    let tags = parse_tags(tags)?;
    if !features.exists() {
        anyhow::bail!("{}: no such feature file or directory", features.display());
    }
    let parsed = check_feature_files(features)?;
    let selected: usize = parsed
        .iter()
        .map(|f| {
            scenarios_of(f)
                .filter(|s| tags.as_ref().is_none_or(|t| t.eval(tags_of(f, s).iter())))
                .count()
        })
        .sum();
    if selected == 0 {
        let total: usize = parsed.iter().map(|f| scenarios_of(f).count()).sum();
        match tag_text {
            _ if parsed.is_empty() => anyhow::bail!(
                "{}: no feature files (*.feature) there: nothing to run",
                features.display()
            ),
            Some(t) if total > 0 => anyhow::bail!(
                "--tags {t:?} selects none of the {total} scenarios of {}: nothing to run (a misspelt tag?)",
                features.display()
            ),
            _ => anyhow::bail!("{}: no scenarios: nothing to run", features.display()),
        }
    }
    for (flag, path) in outputs {
        if let Some(p) = path {
            crate::files::check_writable(p)
                .map_err(|e| anyhow::anyhow!("{flag} {}: {e}", p.display()))?;
        }
    }
    Ok(selected)
}

pub(super) fn parse_tags(tags: Option<&str>) -> anyhow::Result<Option<TagOperation>> {
    tags.map(|t| t.parse().map_err(|e| anyhow::anyhow!("--tags {t:?}: {e}")))
        .transpose()
}

fn scenarios_of(f: &gherkin::Feature) -> impl Iterator<Item = &gherkin::Scenario> {
    f.scenarios
        .iter()
        .chain(f.rules.iter().flat_map(|r| r.scenarios.iter()))
}

/// Parses every feature file first (in subdirectories too, as cucumber
/// reads them), so a malformed one is reported with its line and column
/// (cucumber's own report names only the file). Returns them parsed.
pub fn check_feature_files(path: &Path) -> anyhow::Result<Vec<gherkin::Feature>> {
    let files: Vec<PathBuf> = if path.is_dir() {
        let mut v = Vec::new();
        let mut stack = vec![path.to_owned()];
        while let Some(dir) = stack.pop() {
            let entries =
                std::fs::read_dir(&dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
            for entry in entries {
                let p = entry
                    .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?
                    .path();
                if p.is_dir() {
                    stack.push(p);
                } else if p
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("feature"))
                {
                    v.push(p);
                }
            }
        }
        v.sort();
        v
    } else {
        vec![path.to_owned()]
    };
    let mut parsed = Vec::new();
    for file in files {
        match gherkin::Feature::parse_path(&file, gherkin::GherkinEnv::default()) {
            Ok(f) => parsed.push(f),
            Err(e) => {
                let detail = match &e {
                    // "Error at LINE:COL: {expected tokens}"
                    gherkin::ParseFileError::Parsing { source, .. } => {
                        source.to_string().replacen("Error at ", "line:column ", 1)
                    }
                    other => other.to_string(),
                };
                anyhow::bail!("{}: malformed feature file: {detail}", file.display());
            }
        }
    }
    Ok(parsed)
}
