//! What the run ran on, written into the JUnit and cucumber JSON reports
//! after cucumber's writers are done: JUnit `<properties>` in every
//! `<testsuite>`, and a `properties` object on every feature of the JSON
//! (consumers ignore fields they do not know).

use std::path::Path;

use anyhow::Context as _;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Inserts the properties after each `<testsuite ...>` opening tag.
pub fn junit_with(xml: &str, properties: &[(String, String)]) -> String {
    let block = format!(
        "<properties>{}</properties>",
        properties
            .iter()
            .map(|(k, v)| format!(r#"<property name="{}" value="{}"/>"#, escape(k), escape(v)))
            .collect::<String>()
    );
    let mut out = String::with_capacity(xml.len() + block.len() * 8);
    let mut rest = xml;
    while let Some(at) = rest.find("<testsuite ") {
        let Some(close) = rest[at..].find('>') else {
            break;
        };
        let end = at + close + 1;
        out.push_str(&rest[..end]);
        // A self-closed suite (`<testsuite .../>`) has no children to add.
        if !rest[..end].ends_with("/>") {
            out.push_str(&block);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

pub fn add_to_junit(path: &Path, properties: &[(String, String)]) -> anyhow::Result<()> {
    let xml =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    std::fs::write(path, junit_with(&xml, properties))
        .with_context(|| format!("writing {}", path.display()))
}

pub fn add_to_json(path: &Path, properties: &[(String, String)]) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut features: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let props: serde_json::Map<String, serde_json::Value> = properties
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    if let Some(list) = features.as_array_mut() {
        for f in list {
            f["properties"] = serde_json::Value::Object(props.clone());
        }
    }
    std::fs::write(path, serde_json::to_vec_pretty(&features)?)
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_suite_gets_the_properties() {
        let xml = r#"<testsuites><testsuite name="a" tests="1"><testcase/></testsuite><testsuite name="b"/></testsuites>"#;
        let props = vec![("eso.version".to_owned(), "v0.20.4 \"x\"".to_owned())];
        let out = super::junit_with(xml, &props);
        assert_eq!(
            out,
            r#"<testsuites><testsuite name="a" tests="1"><properties><property name="eso.version" value="v0.20.4 &quot;x&quot;"/></properties><testcase/></testsuite><testsuite name="b"/></testsuites>"#
        );
    }
}
