//! Operations that describe and list secrets, and ListSecrets' filters.

use std::cmp::Reverse;

use base64::Engine;
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::replies::{self, ListSecretsReply, ReplicaStatusReply, Reply, Summary};
use super::store::ListKey;
use super::wire::{self, *};
use super::{Call, SecretsManager};
use crate::error::{AwsError, ErrorCode};
use crate::model::{Replication, Secret};

pub(super) struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

/// Which secrets of a region a listing walks, and in which direction.
pub(super) struct Query<'a> {
    pub filters: &'a [Filter],
    pub include_deleted: bool,
    /// Oldest first (ListSecrets' `SortOrder: asc`) instead of newest first.
    pub ascending: bool,
}

/// MaxResults, defaulted and checked against the operation's limit.
fn page_size(max: Option<i64>, limit: i64) -> Result<usize, AwsError> {
    let max = max.unwrap_or(limit);
    if !(1..=limit).contains(&max) {
        return Err(AwsError::new(
            ErrorCode::ValidationException,
            format!(
                "1 validation error detected: Value '{max}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and {limit}"
            ),
        ));
    }
    Ok(max as usize)
}

fn invalid_token() -> AwsError {
    AwsError::new(
        ErrorCode::InvalidNextTokenException,
        "The NextToken value is invalid.",
    )
}

/// Pages `items` with an opaque token that encodes the offset.
pub(super) fn page<T>(
    items: Vec<T>,
    max: Option<i64>,
    token: Option<&str>,
    limit: i64,
) -> Result<Page<T>, AwsError> {
    let max = page_size(max, limit)?;
    let start = match token {
        None => 0,
        Some(t) => decode_token(t).ok_or_else(invalid_token)?,
    };
    let total = items.len();
    let end = start.saturating_add(max).min(total);
    let items: Vec<T> = items
        .into_iter()
        .skip(start)
        .take(end.saturating_sub(start))
        .collect();
    let next_token = (end < total).then(|| encode_token(end));
    Ok(Page { items, next_token })
}

fn encode_token(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("offset:{offset}"))
}

fn decode_token(token: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    std::str::from_utf8(&raw)
        .ok()?
        .strip_prefix("offset:")?
        .parse()
        .ok()
}

/// A listing's token names the last secret of the page (its creation time
/// and name), so the next page seeks straight to it, and a walk neither
/// skips nor repeats secrets when others are created or deleted meanwhile.
fn encode_key((Reverse(created), name): &ListKey) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(format!("after:{}:{name}", created.as_nanosecond()))
}

fn decode_key(token: &str) -> Option<ListKey> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    let (nanos, name) = std::str::from_utf8(&raw)
        .ok()?
        .strip_prefix("after:")?
        .split_once(':')?;
    let created = Timestamp::from_nanosecond(nanos.parse().ok()?).ok()?;
    Some((Reverse(created), name.to_owned()))
}

const FILTER_KEYS: &[&str] = &[
    "description",
    "name",
    "tag-key",
    "tag-value",
    "primary-region",
    "owning-service",
    "all",
];

fn check_filters(filters: &[Filter]) -> Result<(), AwsError> {
    for (i, f) in filters.iter().enumerate() {
        let key = f
            .key
            .as_deref()
            .ok_or_else(|| AwsError::invalid_parameter("Invalid filter key"))?;
        if !FILTER_KEYS.contains(&key) {
            return Err(AwsError::new(
                ErrorCode::ValidationException,
                format!(
                    "1 validation error detected: Value '{key}' at 'filters.{}.member.key' failed to satisfy constraint: Member must satisfy enum value set: [all, name, tag-key, description, tag-value]",
                    i + 1
                ),
            ));
        }
        if f.values.is_none() {
            return Err(AwsError::invalid_parameter(format!(
                "Invalid filter values for key: {key}"
            )));
        }
    }
    Ok(())
}

/// AWS's filter matching: `name`, `tag-key` and `tag-value` are case-sensitive
/// prefix matches; `description`, `owning-service` and `all` match words,
/// ignoring case. A value starting with `!` negates. Filters are ANDed, the
/// values of one filter ORed.
fn filter_matches(secret: &Secret, f: &Filter) -> bool {
    let key = f.key.as_deref().unwrap_or_default();
    let values = f.values.as_deref().unwrap_or_default();
    let (fields, prefix, case_sensitive): (Vec<&str>, bool, bool) = match key {
        "name" => (vec![secret.name.as_str()], true, true),
        "description" => (
            secret.description.as_deref().into_iter().collect(),
            false,
            false,
        ),
        "tag-key" => (
            secret.tags.iter().map(|t| t.key.as_str()).collect(),
            true,
            true,
        ),
        "tag-value" => (
            secret.tags.iter().map(|t| t.value.as_str()).collect(),
            true,
            true,
        ),
        "owning-service" => (Vec::new(), false, false),
        "primary-region" => {
            return match &secret.replication {
                Replication::Replica { primary_region } => {
                    values.iter().any(|v| v == primary_region)
                }
                Replication::Primary { replicas } => {
                    !replicas.is_empty()
                        && secret
                            .arn
                            .split(':')
                            .nth(3)
                            .is_some_and(|r| values.iter().any(|v| v == r))
                }
            };
        }
        _ => {
            let mut all = vec![secret.name.as_str()];
            all.extend(secret.description.as_deref());
            all.extend(
                secret
                    .tags
                    .iter()
                    .flat_map(|t| [t.key.as_str(), t.value.as_str()]),
            );
            (all, false, false)
        }
    };
    let one = |pattern: &str, field: &str| -> bool {
        let (p, f) = if case_sensitive {
            (pattern.to_owned(), field.to_owned())
        } else {
            (pattern.to_lowercase(), field.to_lowercase())
        };
        if prefix {
            f.starts_with(&p)
        } else {
            f.contains(&p)
        }
    };
    let negated = values.iter().filter_map(|v| v.strip_prefix('!'));
    let positive = values.iter().filter(|v| !v.starts_with('!'));
    let any_negated = negated
        .clone()
        .any(|p| fields.iter().any(|field| !one(p, field)));
    any_negated
        || positive
            .clone()
            .any(|p| fields.iter().any(|field| one(p, field)))
}

impl SecretsManager {
    /// One page of the secrets of a region that pass every filter, newest
    /// first (then by name), or the reverse. The walk starts at the token's
    /// place in the store's ordered index and stops one match past the page,
    /// so a page costs what it holds plus what the filters pass over.
    pub(super) fn list_page(
        &self,
        region: &str,
        query: &Query<'_>,
        max: Option<i64>,
        token: Option<&str>,
        limit: i64,
    ) -> Result<Page<&Secret>, AwsError> {
        check_filters(query.filters)?;
        let max = page_size(max, limit)?;
        let after = token
            .map(|t| decode_key(t).ok_or_else(invalid_token))
            .transpose()?;
        let mut walk = self
            .store
            .listing(region, query.ascending, after.as_ref())
            .filter(|(_, s)| query.include_deleted || !s.is_deleted())
            .filter(|(_, s)| query.filters.iter().all(|f| filter_matches(s, f)));
        let found: Vec<(&ListKey, &Secret)> = walk.by_ref().take(max).collect();
        let more = found.len() == max && walk.next().is_some();
        let next_token = found
            .last()
            .filter(|_| more)
            .map(|(key, _)| encode_key(key));
        Ok(Page {
            items: found.into_iter().map(|(_, s)| s).collect(),
            next_token,
        })
    }

    pub(super) fn describe_secret(
        &mut self,
        input: SecretIdInput,
        call: &mut Call<'_>,
    ) -> Result<Reply, AwsError> {
        let (name, _) = self.authorized("secretsmanager:DescribeSecret", input.secret_id, call)?;
        let secret = self
            .resolve(call.region, &name)
            .ok_or_else(AwsError::secret_not_found)?;
        Ok(Reply::json(&Summary::describe(secret)))
    }

    pub(super) fn list_secrets(
        &mut self,
        input: ListSecretsInput,
        call: &mut Call<'_>,
    ) -> Result<Reply, AwsError> {
        call.authorize("secretsmanager:ListSecrets", "*")?;
        let filters = input.filters.unwrap_or_default();
        let page = self.list_page(
            call.region,
            &Query {
                filters: &filters,
                include_deleted: input.include_planned_deletion.unwrap_or(false),
                ascending: input.sort_order.as_deref() == Some("asc"),
            },
            input.max_results,
            input.next_token.as_deref(),
            100,
        )?;
        Ok(Reply::json(&ListSecretsReply {
            next_token: page.next_token,
            secret_list: page.items.into_iter().map(Summary::list_entry).collect(),
        }))
    }

    pub(super) fn list_secret_version_ids(
        &mut self,
        input: ListSecretVersionIdsInput,
        call: &mut Call<'_>,
    ) -> Result<Value, AwsError> {
        let (name, arn) =
            self.authorized("secretsmanager:ListSecretVersionIds", input.secret_id, call)?;
        let secret = self
            .resolve(call.region, &name)
            .ok_or_else(AwsError::secret_not_found)?;
        let include_deprecated = input.include_deprecated.unwrap_or(false);
        let mut versions: Vec<&crate::model::Version> = secret
            .versions
            .iter()
            .filter(|v| include_deprecated || !v.stages.is_empty())
            .collect();
        versions.reverse();
        let page = page(
            versions,
            input.max_results,
            input.next_token.as_deref(),
            100,
        )?;
        let mut out = Map::new();
        out.insert("ARN".into(), json!(arn));
        out.insert("Name".into(), json!(name));
        out.insert(
            "Versions".into(),
            Value::Array(page.items.into_iter().map(wire::version_entry).collect()),
        );
        if let Some(t) = page.next_token {
            out.insert("NextToken".into(), json!(t));
        }
        Ok(Value::Object(out))
    }
}

pub(super) fn replica_status(r: &crate::model::ReplicaStatus) -> Value {
    replies::to_value(&ReplicaStatusReply::of(r))
}
