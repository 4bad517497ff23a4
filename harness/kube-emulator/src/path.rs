//! What a request path names.

use std::sync::Arc;

use crate::error::{ApiError, Reason};
use crate::kinds::{Catalogue, ResourceType};

#[derive(Debug, Clone)]
pub(crate) enum Target {
    Version,
    /// `/api`
    CoreVersions,
    /// `/api/v1` or `/apis/G/V`
    GroupVersion {
        group: String,
        version: String,
    },
    /// `/apis`
    Groups,
    /// `/apis/G`
    Group(String),
    OpenApiV2,
    OpenApiV3Root,
    OpenApiV3 {
        group: String,
        version: String,
    },
    Jwks,
    OpenIdConfiguration,
    Health,
    Collection {
        rt: Arc<ResourceType>,
        namespace: Option<String>,
    },
    Object {
        rt: Arc<ResourceType>,
        namespace: Option<String>,
        name: String,
        sub: Option<String>,
    },
}

pub(crate) fn parse(path: &str, catalogue: &Catalogue) -> Result<Target, ApiError> {
    let trimmed = path.trim_end_matches('/');
    let segs: Vec<&str> = trimmed.split('/').filter(|s| !s.is_empty()).collect();
    let not_found = || {
        ApiError::new(
            Reason::NotFound,
            "the server could not find the requested resource",
        )
        .with_empty_details()
    };
    let no_route = || ApiError::new(Reason::NoRoute, "404 page not found");
    match segs.as_slice() {
        ["version"] => return Ok(Target::Version),
        ["healthz" | "readyz" | "livez", ..] => return Ok(Target::Health),
        ["api"] => return Ok(Target::CoreVersions),
        ["apis"] => return Ok(Target::Groups),
        ["apis", g] => return Ok(Target::Group((*g).to_owned())),
        ["openapi", "v2"] | ["swagger.json"] => return Ok(Target::OpenApiV2),
        ["openapi", "v3"] => return Ok(Target::OpenApiV3Root),
        ["openapi", "v3", "api", v] => {
            return Ok(Target::OpenApiV3 {
                group: String::new(),
                version: (*v).to_owned(),
            });
        }
        ["openapi", "v3", "apis", g, v] => {
            return Ok(Target::OpenApiV3 {
                group: (*g).to_owned(),
                version: (*v).to_owned(),
            });
        }
        ["openid", "v1", "jwks"] => return Ok(Target::Jwks),
        [".well-known", "openid-configuration"] => return Ok(Target::OpenIdConfiguration),
        _ => {}
    }
    let (group, version, rest): (&str, &str, &[&str]) = match segs.as_slice() {
        ["api", v, rest @ ..] => ("", v, rest),
        ["apis", g, v, rest @ ..] => (g, v, rest),
        _ => return Err(no_route()),
    };
    if !catalogue
        .all()
        .iter()
        .any(|rt| rt.group == group && rt.version == version)
    {
        return Err(no_route());
    }
    if rest.is_empty() {
        return Ok(Target::GroupVersion {
            group: group.to_owned(),
            version: version.to_owned(),
        });
    }
    let find = |plural: &str| catalogue.find(group, version, plural);
    let known_sub = |rt: &ResourceType, sub: &str| match sub {
        "status" => rt.status_subresource,
        "scale" => crate::scale::scalable(rt),
        "log" => rt.builtin == crate::kinds::Builtin::Pod,
        "token" => rt.plural == "serviceaccounts",
        "finalize" => rt.plural == "namespaces",
        _ => false,
    };
    // `namespaces/NS/PLURAL/...` addresses namespaced kinds; `namespaces/NS`
    // and `namespaces/NS/status|finalize` the Namespace object itself.
    if let ["namespaces", ns, plural, tail @ ..] = rest
        && let Some(rt) = find(plural).filter(|rt| rt.namespaced)
    {
        let namespace = Some((*ns).to_owned());
        return match tail {
            [] => Ok(Target::Collection { rt, namespace }),
            [name] => Ok(Target::Object {
                rt,
                namespace,
                name: (*name).to_owned(),
                sub: None,
            }),
            [name, sub] if known_sub(&rt, sub) => Ok(Target::Object {
                rt,
                namespace,
                name: (*name).to_owned(),
                sub: Some((*sub).to_owned()),
            }),
            _ => Err(not_found()),
        };
    }
    let (plural, tail) = rest.split_first().ok_or_else(not_found)?;
    let rt = find(plural).ok_or_else(not_found)?;
    match tail {
        [] => Ok(Target::Collection {
            rt,
            namespace: None,
        }),
        [name] if !rt.namespaced || rt.plural == "namespaces" => Ok(Target::Object {
            rt,
            namespace: None,
            name: (*name).to_owned(),
            sub: None,
        }),
        [name, sub] if (!rt.namespaced || rt.plural == "namespaces") && known_sub(&rt, sub) => {
            Ok(Target::Object {
                rt,
                namespace: None,
                name: (*name).to_owned(),
                sub: Some((*sub).to_owned()),
            })
        }
        _ => Err(not_found()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let c = Catalogue::with_builtins();
        assert!(matches!(
            parse("/api/v1/namespaces", &c),
            Ok(Target::Collection {
                namespace: None,
                ..
            })
        ));
        assert!(
            matches!(parse("/api/v1/namespaces/ns", &c), Ok(Target::Object { ref name, .. }) if name == "ns")
        );
        assert!(
            matches!(parse("/api/v1/namespaces/ns/status", &c), Ok(Target::Object { sub: Some(ref s), .. }) if s == "status")
        );
        assert!(matches!(
            parse("/api/v1/namespaces/ns/secrets", &c),
            Ok(Target::Collection {
                namespace: Some(_),
                ..
            })
        ));
        assert!(matches!(
            parse("/api/v1/secrets", &c),
            Ok(Target::Collection {
                namespace: None,
                ..
            })
        ));
        let t = parse("/api/v1/namespaces/ns/serviceaccounts/sa/token", &c).unwrap();
        assert!(matches!(t, Target::Object { ref sub, .. } if sub.as_deref() == Some("token")));
        assert!(matches!(
            parse(
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x",
                &c
            ),
            Ok(Target::Object { .. })
        ));
        assert!(parse("/api/v1/namespaces/ns/widgets", &c).is_err());
        assert!(parse("/nope", &c).is_err());
    }
}
