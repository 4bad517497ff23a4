//! Lists: one page of a kind's objects from where a continue token says
//! the last page ended (a seek into the store's key order, not a walk from
//! the start), answered as JSON written item by item, as a Table, or as a
//! value for the verbs built on a list.

use serde_json::{Value, json};

use crate::api::{Api, Query, presented};
use crate::error::{ApiError, Reason};
use crate::kinds::{Builtin, ResourceType};

fn write_json(out: &mut Vec<u8>, value: &impl serde::Serialize) -> Result<(), ApiError> {
    serde_json::to_writer(out, value)
        .map_err(|e| ApiError::new(Reason::InternalError, format!("encoding a list: {e}")))
}

/// What a list says of itself besides its items.
struct ListMeta {
    rv: u64,
    /// The continue token, when a page has more after it.
    next: Option<String>,
    remaining: Option<usize>,
}

impl ListMeta {
    fn to_value(&self) -> Value {
        let mut metadata = json!({ "resourceVersion": self.rv.to_string() });
        if let Some(next) = &self.next {
            metadata["continue"] = json!(next);
            if let Some(remaining) = self.remaining {
                metadata["remainingItemCount"] = json!(remaining);
            }
        }
        metadata
    }
}

impl Api {
    /// The objects a list request selects, one page of them, each handed to
    /// `each` as the list shows it; then what the list says of itself.
    /// A continued list seeks to where the page before it ended.
    fn visit_list(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        query: &Query,
        mut each: impl FnMut(&Value) -> Result<(), ApiError>,
    ) -> Result<ListMeta, ApiError> {
        let (labels, fields) = Self::selectors(query)?;
        fields.supported_by(&rt.kind)?;
        let ns = if rt.namespaced { ns } else { None };
        let limit: usize = query
            .get("limit")
            .and_then(|l| l.parse().ok())
            .filter(|l| *l > 0)
            .unwrap_or(usize::MAX);
        // As the real server's, a continue token holds the key after which
        // the next page starts, relative to the list's prefix (its
        // namespace's, for a list in one namespace).
        let prefix = ns.map(|n| format!("{n}/")).unwrap_or_default();
        let start_after = match query.get("continue").filter(|c| !c.is_empty()) {
            Some(token) => Some(format!("{prefix}{}", continue_token::decode(token)?)),
            None => None,
        };
        let api_version = rt.api_version();
        let res = rt.key();
        let rv = self.store.current_rv();
        let mut count = 0usize;
        let mut last: Option<&str> = None;
        let mut meta = ListMeta {
            rv,
            next: None,
            remaining: None,
        };
        for (key, obj) in self.store.scan(&res, ns, start_after.as_deref()) {
            if count == limit {
                // Something follows the page, so there is a next one, as
                // etcd's store decides (whether or not that object matches
                // the selectors, which only a later page can tell).
                let last = last.unwrap_or_default();
                meta.next = Some(continue_token::encode(
                    rv,
                    last.strip_prefix(prefix.as_str()).unwrap_or(last),
                ));
                // As etcd's store counts it: only for an unfiltered list.
                if labels.is_empty() && fields.is_empty() {
                    meta.remaining = Some(self.store.count_after(&res, ns, last));
                }
                break;
            }
            let item = presented(rt, &api_version, obj);
            if !labels.matches(&item) || !fields.matches(&item) {
                continue;
            }
            each(&item)?;
            count += 1;
            last = Some(key);
        }
        Ok(meta)
    }

    /// A list as a value, as [`Api::list_json`] writes it.
    pub(crate) fn list(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        query: &Query,
    ) -> Result<Value, ApiError> {
        let typed = rt.builtin != Builtin::Custom;
        let mut items = Vec::new();
        let meta = self.visit_list(rt, ns, query, |item| {
            let mut item = item.clone();
            if typed && let Some(m) = item.as_object_mut() {
                m.remove("apiVersion");
                m.remove("kind");
            }
            items.push(item);
            Ok(())
        })?;
        Ok(
            json!({ "kind": rt.list_kind(), "apiVersion": rt.api_version(), "metadata": meta.to_value(), "items": items }),
        )
    }

    /// A list's JSON, each item written straight from the store into the
    /// one buffer: no copy of every object first, so a list of everything
    /// costs about its own size in memory. The bytes are those of
    /// serializing [`Api::list`]'s value (keys in order, as serde_json's map
    /// keeps them).
    pub(crate) fn list_json(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        query: &Query,
    ) -> Result<Vec<u8>, ApiError> {
        // A typed list's items carry no apiVersion and kind on the real
        // server (the list's own say them); a custom resource's keep theirs.
        let typed = rt.builtin != Builtin::Custom;
        let mut out = Vec::new();
        out.extend_from_slice(b"{\"apiVersion\":");
        write_json(&mut out, &rt.api_version())?;
        out.extend_from_slice(b",\"items\":[");
        let mut first = true;
        let meta = self.visit_list(rt, ns, query, |item| {
            if !first {
                out.push(b',');
            }
            first = false;
            match item.as_object() {
                Some(fields) if typed => {
                    out.push(b'{');
                    let mut first_field = true;
                    for (k, v) in fields {
                        if k == "apiVersion" || k == "kind" {
                            continue;
                        }
                        if !first_field {
                            out.push(b',');
                        }
                        first_field = false;
                        write_json(&mut out, k)?;
                        out.push(b':');
                        write_json(&mut out, v)?;
                    }
                    out.push(b'}');
                    Ok(())
                }
                _ => write_json(&mut out, item),
            }
        })?;
        out.extend_from_slice(b"],\"kind\":");
        write_json(&mut out, &rt.list_kind())?;
        out.extend_from_slice(b",\"metadata\":");
        write_json(&mut out, &meta.to_value())?;
        out.push(b'}');
        Ok(out)
    }

    /// A list as `kubectl get` asks for it: a Table, one row per item,
    /// with the list's continue token when there is a next page.
    pub(crate) fn list_table(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        query: &Query,
    ) -> Result<Value, ApiError> {
        let mut rows = Vec::new();
        let meta = self.visit_list(rt, ns, query, |item| {
            rows.push(crate::table::row(rt, item, &self.clock));
            Ok(())
        })?;
        Ok(crate::table::from_rows(rt, rows, meta.to_value(), true))
    }
}

/// The continue token of a paged list, in the real server's shape
/// (base64url of `{"v":"meta.k8s.io/v1","rv":N,"start":KEY}`), so a bad
/// token fails with its words.
mod continue_token {
    use base64::Engine as _;

    use crate::error::ApiError;

    /// Go's base64.RawURLEncoding: no padding, trailing bits ignored.
    const B64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_encode_padding(false)
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone),
    );

    pub(super) fn encode(rv: u64, after: &str) -> String {
        let token = serde_json::json!({ "v": "meta.k8s.io/v1", "rv": rv, "start": format!("{after}\u{0}") });
        B64.encode(token.to_string())
    }

    /// The key after which the next page starts.
    pub(super) fn decode(token: &str) -> Result<String, ApiError> {
        let invalid = |why: String| {
            ApiError::bad_request(format!(
                "invalid continue token: continue key is not valid: {why}"
            ))
        };
        let bytes = B64
            .decode(token.trim_end_matches('='))
            .map_err(|e| invalid(crate::api::go_base64_error(&e, token.len())))?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| {
            // Go's encoding/json names the first byte it could not take.
            let first = bytes
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                .copied()
                .unwrap_or_default();
            let shown = match char::from(first) {
                c if c.is_ascii_graphic() || c == ' ' => format!("'{c}'"),
                c => format!("'\\u{:04x}'", u32::from(c)),
            };
            invalid(format!(
                "invalid character {shown} looking for beginning of value"
            ))
        })?;
        match value.get("start").and_then(|s| s.as_str()) {
            Some(start) if value.get("v").and_then(|v| v.as_str()) == Some("meta.k8s.io/v1") => {
                Ok(start.trim_end_matches('\u{0}').to_owned())
            }
            _ => Err(invalid("unexpected continue token version".to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use emulator_core::Clock;
    use serde_json::{Value, json};

    use crate::api::{Api, Query};
    use crate::kinds::ResourceType;
    use crate::tokens::TokenIssuer;

    fn api() -> Api {
        let tokens = Arc::new(TokenIssuer::new("https://issuer.test").unwrap());
        let mut api = Api::new(Clock::system(), tokens, 1000);
        api.create_system_namespaces().unwrap();
        api
    }

    fn rt(api: &Api, group: &str, version: &str, plural: &str) -> Arc<ResourceType> {
        api.catalogue.find(group, version, plural).unwrap()
    }

    fn query(pairs: &[(&str, &str)]) -> Query {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// The JSON written item by item is the serialized list value, byte
    /// for byte, for a typed kind (items without apiVersion and kind), for
    /// Events read as events.k8s.io/v1 (converted) and for a custom
    /// resource (items keep theirs), unpaged and paged.
    #[test]
    fn list_json_is_the_list_value_serialized() {
        let mut api = api();
        let secrets = rt(&api, "", "v1", "secrets");
        let events = rt(&api, "", "v1", "events");
        let crds = rt(
            &api,
            "apiextensions.k8s.io",
            "v1",
            "customresourcedefinitions",
        );
        let crd = json!({"metadata": {"name": "widgets.example.test"},
            "spec": {"group": "example.test", "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}});
        api.create(&crds, None, crd, &Query::new()).unwrap();
        let widgets = rt(&api, "example.test", "v1", "widgets");
        for i in 0..5 {
            let name = format!("o{i}");
            api.create(&secrets, Some("default"), json!({"metadata": {"name": name, "labels": {"n": i.to_string()}}, "data": {"k": "dg=="}}), &Query::new()).unwrap();
            api.create(&events, Some("default"), json!({"metadata": {"name": name}, "involvedObject": {"kind": "Secret", "name": name}, "reason": "R", "message": "m"}), &Query::new()).unwrap();
            api.create(&widgets, Some("default"), json!({"apiVersion": "example.test/v1", "kind": "Widget", "metadata": {"name": name}, "spec": {"size": i}}), &Query::new()).unwrap();
        }
        let events_v1 = rt(&api, "events.k8s.io", "v1", "events");
        for rt in [&secrets, &events_v1, &widgets] {
            for q in [
                query(&[]),
                query(&[("limit", "2")]),
                query(&[("labelSelector", "n in (1,3)")]),
            ] {
                let value = api.list(rt, Some("default"), &q).unwrap();
                let written = api.list_json(rt, Some("default"), &q).unwrap();
                assert_eq!(
                    String::from_utf8(written).unwrap(),
                    serde_json::to_string(&value).unwrap(),
                    "{} {q:?}",
                    rt.plural
                );
            }
        }
        let value = api.list(&secrets, Some("default"), &Query::new()).unwrap();
        assert_eq!(value["items"].as_array().map(Vec::len), Some(5));
        assert!(value["items"][0].get("kind").is_none());
        let value = api.list(&widgets, Some("default"), &Query::new()).unwrap();
        assert_eq!(value["items"][0]["kind"], "Widget");
        let value = api
            .list(&events_v1, Some("default"), &Query::new())
            .unwrap();
        assert_eq!(value["items"][0]["regarding"]["name"], "o0");
    }

    fn names(list: &Value) -> Vec<String> {
        list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| {
                i["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    }

    /// Across namespaces a list is in etcd's key order, `NAMESPACE/NAME`
    /// compared as bytes ('-' sorts before '/'), also page by page.
    #[test]
    fn lists_across_namespaces_are_in_etcd_key_order() {
        let mut api = api();
        let namespaces = rt(&api, "", "v1", "namespaces");
        let maps = rt(&api, "", "v1", "configmaps");
        for ns in ["a", "a-b", "ab"] {
            api.create(
                &namespaces,
                None,
                json!({"metadata": {"name": ns}}),
                &Query::new(),
            )
            .unwrap();
            for name in ["x", "y"] {
                api.create(
                    &maps,
                    Some(ns),
                    json!({"metadata": {"name": format!("{ns}.{name}"), "labels": {"t": "1"}}}),
                    &Query::new(),
                )
                .unwrap();
            }
        }
        let q = query(&[("labelSelector", "t=1")]);
        let all = names(&api.list(&maps, None, &q).unwrap());
        assert_eq!(all, ["a-b.x", "a-b.y", "a.x", "a.y", "ab.x", "ab.y"]);
        let mut paged = Vec::new();
        let mut token = String::new();
        loop {
            let q = query(&[
                ("labelSelector", "t=1"),
                ("limit", "1"),
                ("continue", &token),
            ]);
            let page = api.list(&maps, None, &q).unwrap();
            paged.extend(names(&page));
            match page["metadata"]["continue"].as_str() {
                Some(next) => token = next.to_owned(),
                None => break,
            }
        }
        assert_eq!(paged, all);
    }

    /// `remainingItemCount` counts what follows the page, in the list's
    /// namespace only; a selector leaves it out.
    #[test]
    fn remaining_item_count_counts_what_follows_in_the_namespace() {
        let mut api = api();
        let maps = rt(&api, "", "v1", "configmaps");
        for ns in ["default", "kube-public"] {
            for i in 0..7 {
                api.create(
                    &maps,
                    Some(ns),
                    json!({"metadata": {"name": format!("m{i}")}}),
                    &Query::new(),
                )
                .unwrap();
            }
        }
        let page = api
            .list(&maps, Some("default"), &query(&[("limit", "3")]))
            .unwrap();
        assert_eq!(names(&page), ["m0", "m1", "m2"]);
        assert_eq!(page["metadata"]["remainingItemCount"], 4);
        let token = page["metadata"]["continue"].as_str().unwrap().to_owned();
        let page = api
            .list(
                &maps,
                Some("default"),
                &query(&[("limit", "3"), ("continue", &token)]),
            )
            .unwrap();
        assert_eq!(names(&page), ["m3", "m4", "m5"]);
        assert_eq!(page["metadata"]["remainingItemCount"], 1);
        let all = api.list(&maps, None, &query(&[("limit", "10")])).unwrap();
        assert_eq!(all["metadata"]["remainingItemCount"], 4);
        let filtered = api
            .list(
                &maps,
                Some("default"),
                &query(&[("limit", "3"), ("fieldSelector", "metadata.name!=m0")]),
            )
            .unwrap();
        assert_eq!(names(&filtered), ["m1", "m2", "m3"]);
        assert!(filtered["metadata"]["continue"].is_string());
        assert!(filtered["metadata"].get("remainingItemCount").is_none());
    }
}
