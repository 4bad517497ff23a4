//! A last guard: any seeded or changed secret value in a text is replaced
//! by its length and short hash before the text is shown or saved.

use crate::seed::describe;
use crate::world::OpsWorld;

pub fn redact(text: &str, w: &OpsWorld) -> String {
    let mut out = text.to_owned();
    let mut values: Vec<String> = w
        .env()
        .map(|e| crate::env::Environment::seed(e.as_ref()).all_values())
        .unwrap_or_default();
    values.extend(
        w.expected
            .values()
            .chain(w.previous.values())
            .flat_map(|kv| kv.values().cloned()),
    );
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    for v in values.into_iter().filter(|v| v.len() >= 8) {
        out = out.replace(&v, &describe(v.as_bytes()));
    }
    out
}
