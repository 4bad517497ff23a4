//! The subset of kubectl's JSONPath that printer columns use:
//! `.a.b`, `[n]`, `[*]`, `['key']` and `[?(@.field=="value")]`.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Index(usize),
    All,
    Filter {
        path: Vec<String>,
        value: String,
        equal: bool,
    },
}

fn parse(path: &str) -> Option<Vec<Step>> {
    let path = path.trim().trim_start_matches('{').trim_end_matches('}');
    let mut steps = Vec::new();
    let chars: Vec<char> = path.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '.' => {
                let start = i + 1;
                i = start;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    i += 1;
                }
                let name: String = chars[start..i].iter().collect();
                if !name.is_empty() {
                    steps.push(Step::Field(name));
                }
            }
            '[' => {
                let close = chars[i..].iter().position(|c| *c == ']')? + i;
                let mut inner: String = chars[i + 1..close].iter().collect();
                // a filter may itself contain ']' inside quotes: extend to the real end
                if inner.starts_with("?(") && !inner.ends_with(')') {
                    let end = chars[i..].iter().collect::<String>().find(")]")? + i;
                    inner = chars[i + 1..end + 1].iter().collect();
                    i = end + 2;
                } else {
                    i = close + 1;
                }
                let inner = inner.trim();
                if inner == "*" {
                    steps.push(Step::All);
                } else if let Some(filter) =
                    inner.strip_prefix("?(").and_then(|f| f.strip_suffix(')'))
                {
                    let (lhs, rhs, equal) = if let Some((l, r)) = filter.split_once("!=") {
                        (l, r, false)
                    } else {
                        let (l, r) = filter.split_once("==")?;
                        (l, r, true)
                    };
                    let path = lhs
                        .trim()
                        .strip_prefix("@.")?
                        .split('.')
                        .map(str::to_owned)
                        .collect();
                    let value = rhs
                        .trim()
                        .trim_matches(|c| c == '"' || c == '\'')
                        .to_owned();
                    steps.push(Step::Filter { path, value, equal });
                } else if let Ok(n) = inner.parse() {
                    steps.push(Step::Index(n));
                } else {
                    steps.push(Step::Field(
                        inner.trim_matches(|c| c == '\'' || c == '"').to_owned(),
                    ));
                }
            }
            _ => {
                // a leading field name without a dot
                let start = i;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    i += 1;
                }
                steps.push(Step::Field(chars[start..i].iter().collect()));
            }
        }
    }
    Some(steps)
}

/// Every value the path selects.
pub(crate) fn select<'a>(root: &'a Value, path: &str) -> Vec<&'a Value> {
    let Some(steps) = parse(path) else {
        return Vec::new();
    };
    let mut current = vec![root];
    for step in &steps {
        let mut next = Vec::new();
        for v in current {
            match step {
                Step::Field(name) => next.extend(v.get(name)),
                Step::Index(n) => next.extend(v.get(n)),
                Step::All => match v {
                    Value::Array(items) => next.extend(items.iter()),
                    Value::Object(map) => next.extend(map.values()),
                    _ => {}
                },
                Step::Filter { path, value, equal } => {
                    if let Value::Array(items) = v {
                        next.extend(items.iter().filter(|item| {
                            let got = path.iter().try_fold(*item, |acc, k| acc.get(k));
                            let got = got.map(|g| match g {
                                Value::String(s) => s.clone(),
                                other => other.to_string(),
                            });
                            (got.as_deref() == Some(value.as_str())) == *equal
                        }));
                    }
                }
            }
        }
        current = next;
    }
    current
}

/// What kubectl prints for a column: values joined by commas, `<none>` for nothing.
pub(crate) fn render(root: &Value, path: &str) -> Option<String> {
    let values = select(root, path);
    if values.is_empty() {
        return None;
    }
    Some(
        values
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(","),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn printer_column_paths() {
        let es = json!({"spec": {"secretStoreRef": {"name": "aws"}}, "status": {"conditions": [
            {"type": "Other", "status": "False"}, {"type": "Ready", "status": "True", "reason": "SecretSynced"}]}});
        assert_eq!(
            render(&es, ".spec.secretStoreRef.name").as_deref(),
            Some("aws")
        );
        assert_eq!(
            render(&es, r#".status.conditions[?(@.type=="Ready")].reason"#).as_deref(),
            Some("SecretSynced")
        );
        assert_eq!(
            render(&es, ".status.conditions[*].type").as_deref(),
            Some("Other,Ready")
        );
        assert_eq!(
            render(&es, ".status.conditions[0].status").as_deref(),
            Some("False")
        );
        assert_eq!(
            render(&es, "{.spec.secretStoreRef['name']}").as_deref(),
            Some("aws")
        );
        assert_eq!(render(&es, ".status.missing"), None);
    }
}
