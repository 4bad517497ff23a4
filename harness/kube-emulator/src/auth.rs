//! Who the client is and what it may do, as the real server answers its
//! one user here: the holder of the server's bearer token, a member of
//! `system:masters` (which the real server's authorizer allows everything).
//! SelfSubjectReview (`kubectl auth whoami`), SelfSubjectAccessReview
//! (`kubectl auth can-i VERB RESOURCE`) and SelfSubjectRulesReview
//! (`kubectl auth can-i --list`) are answered and not stored.
//! Impersonation (`kubectl --as`) is refused: the emulator has one user.

use http::HeaderMap;
use serde_json::{Value, json};

use crate::error::{ApiError, Reason};
use crate::kinds::{Builtin, ResourceType};

/// The user the bearer token authenticates as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user name (`kubectl auth whoami`'s USERNAME).
    pub name: String,
    /// Without `system:authenticated`, which every authenticated user has.
    pub groups: Vec<String>,
}

impl Default for User {
    fn default() -> Self {
        Self {
            name: "kube-emulator-admin".into(),
            groups: vec!["system:masters".into()],
        }
    }
}

impl User {
    fn all_groups(&self) -> Vec<String> {
        let mut g = self.groups.clone();
        if !g.iter().any(|x| x == "system:authenticated") {
            g.push("system:authenticated".into());
        }
        g
    }

    fn is_master(&self) -> bool {
        self.groups.iter().any(|g| g == "system:masters")
    }
}

/// Refuses a request that impersonates someone, naming who and why.
pub(crate) fn refuse_impersonation(headers: &HeaderMap, user: &User) -> Result<(), ApiError> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (resource, who) = if let Some(u) = header("impersonate-user") {
        ("users", u)
    } else if let Some(g) = header("impersonate-group") {
        ("groups", g)
    } else if let Some(u) = header("impersonate-uid") {
        ("uids", u)
    } else if headers
        .keys()
        .any(|k| k.as_str().starts_with("impersonate-extra-"))
    {
        ("userextras", String::new())
    } else {
        return Ok(());
    };
    Err(ApiError::new(
        Reason::Forbidden,
        format!(
            "{resource} \"{who}\" is forbidden: User \"{}\" cannot impersonate resource \"{resource}\" in API group \"\" at the cluster scope: the kube-emulator does not implement impersonation (it has one user)",
            user.name
        ),
    ))
}

/// Answers a POST of a review: the review with its status.
pub(crate) fn review(rt: &ResourceType, user: &User, body: &Value) -> Result<Value, ApiError> {
    let mut out = json!({
        "kind": rt.kind,
        "apiVersion": rt.api_version(),
        "metadata": { "creationTimestamp": null },
    });
    match rt.builtin {
        Builtin::SelfSubjectReview => {
            out["status"] =
                json!({ "userInfo": { "username": user.name, "groups": user.all_groups() } });
        }
        Builtin::SelfSubjectAccessReview => {
            let spec = body.get("spec").cloned().unwrap_or(json!({}));
            let resource = spec.get("resourceAttributes").filter(|v| !v.is_null());
            let non_resource = spec.get("nonResourceAttributes").filter(|v| !v.is_null());
            match (resource, non_resource) {
                (Some(_), Some(_)) => {
                    return Err(invalid(
                        rt,
                        "spec.nonResourceAttributes",
                        "Invalid value: \"null\": cannot be specified in combination with resourceAttributes",
                    ));
                }
                (None, None) => {
                    return Err(invalid(
                        rt,
                        "spec.resourceAttributes",
                        "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified",
                    ));
                }
                _ => {}
            }
            out["spec"] = spec;
            out["status"] = if user.is_master() {
                json!({ "allowed": true })
            } else {
                json!({ "allowed": false })
            };
        }
        Builtin::SelfSubjectRulesReview => {
            let spec = body.get("spec").cloned().unwrap_or(json!({}));
            if spec
                .get("namespace")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(ApiError::bad_request("no namespace on request"));
            }
            out["spec"] = spec;
            out["status"] = if user.is_master() {
                json!({
                    "resourceRules": [
                        { "verbs": ["*"], "apiGroups": ["*"], "resources": ["*"] },
                        { "verbs": ["create"], "apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"] },
                        { "verbs": ["create"], "apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"] },
                    ],
                    "nonResourceRules": [{ "verbs": ["*"], "nonResourceURLs": ["*"] }],
                    "incomplete": false,
                })
            } else {
                json!({ "resourceRules": [], "nonResourceRules": [], "incomplete": false })
            };
        }
        _ => {
            return Err(ApiError::bad_request(format!(
                "{} is not a review",
                rt.kind
            )));
        }
    }
    Ok(out)
}

fn invalid(rt: &ResourceType, field: &str, message: &str) -> ApiError {
    ApiError::invalid(
        &rt.group,
        &rt.kind,
        "",
        vec![crate::error::invalid_value(field, message)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::Catalogue;

    fn rt(group: &str, plural: &str) -> std::sync::Arc<ResourceType> {
        Catalogue::with_builtins()
            .find(group, "v1", plural)
            .unwrap()
    }

    #[test]
    fn whoami_names_the_user_and_its_groups() {
        let r = review(
            &rt("authentication.k8s.io", "selfsubjectreviews"),
            &User::default(),
            &json!({}),
        )
        .unwrap();
        assert_eq!(r["kind"], "SelfSubjectReview");
        assert_eq!(
            r["status"]["userInfo"]["groups"],
            json!(["system:masters", "system:authenticated"])
        );
        assert_eq!(r["status"]["userInfo"]["username"], "kube-emulator-admin");
    }

    #[test]
    fn a_master_may_do_anything_and_others_nothing() {
        let ssar = rt("authorization.k8s.io", "selfsubjectaccessreviews");
        let body = json!({"spec": {"resourceAttributes": {"verb": "get", "resource": "secrets", "namespace": "ns"}}});
        let r = review(&ssar, &User::default(), &body).unwrap();
        assert_eq!(r["status"]["allowed"], true);
        assert_eq!(r["spec"], body["spec"]);
        let nobody = User {
            name: "nobody".into(),
            groups: vec![],
        };
        assert_eq!(
            review(&ssar, &nobody, &body).unwrap()["status"]["allowed"],
            false
        );
        let e = review(&ssar, &User::default(), &json!({"spec": {}})).unwrap_err();
        assert_eq!(e.reason, Reason::Invalid);
    }

    #[test]
    fn impersonation_is_refused_naming_whom() {
        let mut h = HeaderMap::new();
        assert!(refuse_impersonation(&h, &User::default()).is_ok());
        h.insert("impersonate-user", "bob".parse().unwrap());
        let e = refuse_impersonation(&h, &User::default()).unwrap_err();
        assert_eq!(e.reason, Reason::Forbidden);
        assert!(e.message.starts_with("users \"bob\" is forbidden: User \"kube-emulator-admin\" cannot impersonate resource \"users\""), "{}", e.message);
    }
}
