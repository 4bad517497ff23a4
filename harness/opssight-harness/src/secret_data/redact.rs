//! The one redaction every writer goes through (the console, JUnit and
//! JSON reports, diagnostics, the drill's reports, errors): every value the
//! run made or read is replaced by its length and short hash, in raw form,
//! base64 (standard and URL-safe, at any alignment, so inside a longer
//! base64 text too, as kubectl -v=8 shows a Secret's data) and URL-encoded.

use std::collections::BTreeSet;
use std::sync::Mutex;

use base64::Engine as _;

use super::describe;

/// Shorter values are not searched for: they would match ordinary words.
const MIN_LEN: usize = 8;

struct Registry {
    values: BTreeSet<String>,
    /// (form, replacement), longest form first; rebuilt on a new value.
    forms: Option<std::sync::Arc<Vec<(String, String)>>>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    values: BTreeSet::new(),
    forms: None,
});

/// Makes `value` one that no output may show.
pub fn register(value: &str) {
    if value.len() < MIN_LEN {
        return;
    }
    let mut r = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    if r.values.insert(value.to_owned()) {
        r.forms = None;
    }
}

/// The characters of the base64 of `value` that do not depend on what is
/// around it, when it starts `shift` bytes into a 3-byte group.
fn base64_cores(value: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for shift in 0..3usize {
        let mut bytes = vec![0u8; shift];
        bytes.extend_from_slice(value);
        let enc = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&bytes);
        let start = (8 * shift).div_ceil(6);
        let end = (8 * (shift + value.len())) / 6;
        if end > start && end <= enc.len() {
            let core = &enc[start..end];
            out.push(core.to_owned());
            out.push(core.replace('+', "-").replace('/', "_"));
        }
    }
    out
}

fn percent_encoded(value: &str, plus_for_space: bool) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b' ' if plus_for_space => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn forms() -> std::sync::Arc<Vec<(String, String)>> {
    let mut r = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(f) = &r.forms {
        return f.clone();
    }
    let mut forms: Vec<(String, String)> = Vec::new();
    for v in &r.values {
        let shown = describe(v.as_bytes());
        forms.push((v.clone(), shown.clone()));
        for encoded in [percent_encoded(v, false), percent_encoded(v, true)] {
            if encoded != *v {
                forms.push((encoded.clone(), format!("{shown} (URL-encoded)")));
                forms.push((encoded.to_lowercase(), format!("{shown} (URL-encoded)")));
            }
        }
        for core in base64_cores(v.as_bytes()) {
            if core.len() >= MIN_LEN {
                forms.push((core, format!("{shown} (base64)")));
            }
        }
    }
    forms.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    forms.dedup_by(|a, b| a.0 == b.0);
    let forms = std::sync::Arc::new(forms);
    r.forms = Some(forms.clone());
    forms
}

/// `text` with every registered value, in every form, replaced.
pub fn text(text: &str) -> String {
    let forms = forms();
    let mut out = text.to_owned();
    for (form, shown) in forms.iter() {
        if out.contains(form.as_str()) {
            out = out.replace(form.as_str(), shown);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_base64_and_url_encoded_forms_are_replaced() {
        let v = "Zq8Hk2mPv9Lx/Wb+yT3n=&";
        register(v);
        let b64 = base64::engine::general_purpose::STANDARD.encode(v);
        let url_b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let inside =
            base64::engine::general_purpose::STANDARD.encode(format!("{{\"password\":\"{v}\"}}"));
        let url = percent_encoded(v, false);
        for shown in [
            v.to_owned(),
            b64.clone(),
            url_b64.clone(),
            inside.clone(),
            url.clone(),
        ] {
            let out = text(&format!("before {shown} after"));
            assert!(
                out.starts_with("before ") && out.ends_with(" after"),
                "{out}"
            );
            for secret in [v, &b64, &url_b64, &url] {
                assert!(!out.contains(secret), "{out} holds {secret}");
            }
            // Nothing long enough of the base64 is left to decode.
            assert!(!out.contains(&b64[2..b64.len() - 4]), "{out}");
            assert!(!out.contains(&inside[8..inside.len() - 8]), "{out}");
        }
    }
}
