//! The store's indexes against what a walk of the whole state says: due
//! rotations and purges, ListSecrets' pages while the list changes, ARNs,
//! and an index rebuilt from scratch after every kind of change.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::*;
use crate::error::ErrorCode;
use crate::model::{Deletion, Version};

struct AllowAll;

impl Authorize for AllowAll {
    fn authorize(&self, _: &str, _: &str) -> Result<(), AwsError> {
        Ok(())
    }
}

const REGION: &str = "us-west-2";

fn t0() -> Timestamp {
    "2026-03-01T00:00:00Z".parse().unwrap()
}

fn at(secs: i64) -> Timestamp {
    t0().checked_add(SignedDuration::from_secs(secs)).unwrap()
}

const DAY: i64 = 86_400;

fn call_in(
    sm: &mut SecretsManager,
    region: &str,
    op: &str,
    body: Value,
    now: Timestamp,
) -> Result<Value, AwsError> {
    let mut call = Call {
        region,
        now,
        authorizer: &AllowAll,
        resources: Vec::new(),
    };
    let result = sm
        .handle(op, body.to_string().as_bytes(), &mut call)
        .map(|json| {
            let value: Value = serde_json::from_slice(&json).unwrap();
            // Keys in byte order, numbers as a Value writes them: the bytes a
            // Value-built answer had (replies.rs writes the frequent ones directly).
            assert_eq!(
                String::from_utf8(serde_json::to_vec(&value).unwrap()).unwrap(),
                String::from_utf8(json).unwrap(),
                "{op} answered JSON other than its Value would be"
            );
            value
        });
    // A rebuild costs O(N): checked after every call while the state is
    // small, and at the end of the tests that grow it.
    if sm
        .state()
        .regions
        .values()
        .map(BTreeMap::len)
        .sum::<usize>()
        <= 500
    {
        assert!(
            sm.store.index_is_consistent(),
            "index drifted from the state after {op}"
        );
    }
    result
}

fn call(sm: &mut SecretsManager, op: &str, body: Value, now: Timestamp) -> Result<Value, AwsError> {
    call_in(sm, REGION, op, body, now)
}

fn create(sm: &mut SecretsManager, name: &str, now: Timestamp) {
    call(
        sm,
        "CreateSecret",
        json!({ "Name": name, "SecretString": "v" }),
        now,
    )
    .unwrap();
}

fn exists(sm: &mut SecretsManager, name: &str, now: Timestamp) -> bool {
    match call(sm, "DescribeSecret", json!({ "SecretId": name }), now) {
        Ok(_) => true,
        Err(e) if e.code == ErrorCode::ResourceNotFoundException => false,
        Err(e) => panic!("DescribeSecret {name}: {e:?}"),
    }
}

/// A hook that records which secrets it rotated.
fn recording_hook(sm: &mut SecretsManager) -> Arc<Mutex<Vec<String>>> {
    let rotated = Arc::new(Mutex::new(Vec::new()));
    let log = rotated.clone();
    sm.set_rotation_hook(Some(Arc::new(move |req: &RotationRequest<'_>| {
        log.lock().unwrap().push(req.secret_name.to_owned());
        Ok(SecretValue::String("next".into()))
    })));
    rotated
}

/// A small deterministic generator, so a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

#[test]
fn a_due_rotation_among_many_is_the_only_one_run() {
    let mut sm = SecretsManager::new("111122223333");
    for i in 0..2_000 {
        create(&mut sm, &format!("s{i:04}"), t0());
    }
    for (name, days) in [("s0137", 1), ("s1500", 30)] {
        call(
            &mut sm,
            "RotateSecret",
            json!({ "SecretId": name, "RotateImmediately": false,
                    "RotationRules": { "AutomaticallyAfterDays": days } }),
            t0(),
        )
        .unwrap();
    }
    // Due at day 1 too, but marked for deletion: AWS does not rotate it.
    call(
        &mut sm,
        "RotateSecret",
        json!({ "SecretId": "s0999", "RotateImmediately": false,
                "RotationRules": { "AutomaticallyAfterDays": 1 } }),
        t0(),
    )
    .unwrap();
    call(
        &mut sm,
        "DeleteSecret",
        json!({ "SecretId": "s0999", "RecoveryWindowInDays": 7 }),
        t0(),
    )
    .unwrap();
    let rotated = recording_hook(&mut sm);

    sm.maintain(at(DAY - 1));
    assert!(rotated.lock().unwrap().is_empty(), "nothing due yet");
    sm.maintain(at(DAY));
    assert_eq!(*rotated.lock().unwrap(), ["s0137"]);
    sm.maintain(at(DAY + 3_600));
    assert_eq!(
        *rotated.lock().unwrap(),
        ["s0137"],
        "rotated once per period"
    );
    sm.maintain(at(2 * DAY));
    assert_eq!(*rotated.lock().unwrap(), ["s0137", "s0137"]);
    let current = call(
        &mut sm,
        "GetSecretValue",
        json!({ "SecretId": "s0137" }),
        at(2 * DAY),
    )
    .unwrap();
    assert_eq!(current["SecretString"], "next");
    sm.maintain(at(30 * DAY));
    let log = rotated.lock().unwrap().clone();
    assert_eq!(log.iter().filter(|n| *n == "s1500").count(), 1);
    assert!(log.iter().all(|n| n == "s0137" || n == "s1500"), "{log:?}");
    assert!(sm.store.index_is_consistent());
}

#[test]
fn due_rotations_run_in_region_then_name_order() {
    let mut sm = SecretsManager::new("111122223333");
    for (region, name) in [
        ("us-west-2", "b"),
        ("eu-west-1", "z"),
        ("us-west-2", "a"),
        ("eu-west-1", "c"),
    ] {
        call_in(
            &mut sm,
            region,
            "CreateSecret",
            json!({ "Name": name, "SecretString": "v" }),
            t0(),
        )
        .unwrap();
        call_in(
            &mut sm,
            region,
            "RotateSecret",
            json!({ "SecretId": name, "RotateImmediately": false,
                    "RotationRules": { "AutomaticallyAfterDays": 1 } }),
            t0(),
        )
        .unwrap();
    }
    let rotated = recording_hook(&mut sm);
    sm.maintain(at(DAY));
    assert_eq!(*rotated.lock().unwrap(), ["c", "z", "a", "b"]);
}

#[test]
fn a_failing_scheduled_rotation_is_pushed_on_not_retried_every_call() {
    let mut sm = SecretsManager::new("111122223333");
    create(&mut sm, "s", t0());
    call(
        &mut sm,
        "RotateSecret",
        json!({ "SecretId": "s", "RotateImmediately": false,
                "RotationRules": { "AutomaticallyAfterDays": 1 } }),
        t0(),
    )
    .unwrap();
    let attempts = Arc::new(Mutex::new(0));
    let count = attempts.clone();
    sm.set_rotation_hook(Some(Arc::new(move |_: &RotationRequest<'_>| {
        *count.lock().unwrap() += 1;
        Err("the lambda is broken".to_owned())
    })));
    sm.maintain(at(DAY));
    sm.maintain(at(DAY + 60));
    assert_eq!(*attempts.lock().unwrap(), 1);
    sm.maintain(at(2 * DAY));
    assert_eq!(*attempts.lock().unwrap(), 2, "tried again a period later");
    assert!(sm.store.index_is_consistent());
}

#[test]
fn a_purge_happens_at_its_time_and_not_before() {
    let mut sm = SecretsManager::new("111122223333");
    for i in 0..1_000 {
        create(&mut sm, &format!("s{i:04}"), t0());
    }
    for (name, days) in [("s0010", 7), ("s0500", 10), ("s0900", 30)] {
        call(
            &mut sm,
            "DeleteSecret",
            json!({ "SecretId": name, "RecoveryWindowInDays": days }),
            t0(),
        )
        .unwrap();
    }
    let just_before = t0()
        .checked_add(SignedDuration::from_secs(7 * DAY))
        .unwrap()
        .checked_sub(SignedDuration::from_nanos(1))
        .unwrap();
    sm.maintain(just_before);
    assert!(exists(&mut sm, "s0010", just_before));
    assert!(exists(&mut sm, "s0010", at(7 * DAY - 1)));
    assert!(!exists(&mut sm, "s0010", at(7 * DAY)), "purged at its time");
    assert!(exists(&mut sm, "s0500", at(7 * DAY)));
    assert!(!exists(&mut sm, "s0500", at(10 * DAY)));
    assert!(exists(&mut sm, "s0900", at(10 * DAY)));
    // Restored, it is no longer on the timeline.
    call(
        &mut sm,
        "RestoreSecret",
        json!({ "SecretId": "s0900" }),
        at(10 * DAY),
    )
    .unwrap();
    assert!(exists(&mut sm, "s0900", at(40 * DAY)));
    let names: Vec<&String> = sm.state().regions[REGION].keys().collect();
    assert_eq!(names.len(), 998);
    // The name is free again once purged.
    create(&mut sm, "s0010", at(40 * DAY));
    assert!(sm.store.index_is_consistent());
}

#[test]
fn a_snapshot_restore_brings_its_purges_and_rotations_onto_the_timeline() {
    let mut source = SecretsManager::new("111122223333");
    for i in 0..50 {
        create(&mut source, &format!("s{i:02}"), t0());
    }
    call(
        &mut source,
        "DeleteSecret",
        json!({ "SecretId": "s07", "RecoveryWindowInDays": 7 }),
        t0(),
    )
    .unwrap();
    call(
        &mut source,
        "RotateSecret",
        json!({ "SecretId": "s33", "RotateImmediately": false,
                "RotationRules": { "AutomaticallyAfterDays": 2 } }),
        t0(),
    )
    .unwrap();
    let mut restored = SecretsManager::new("111122223333");
    create(&mut restored, "gone-after-restore", t0());
    restored.replace_state(source.state().clone());
    assert!(restored.store.index_is_consistent());
    assert!(!exists(&mut restored, "gone-after-restore", t0()));
    let rotated = recording_hook(&mut restored);
    assert!(exists(&mut restored, "s07", at(DAY)));
    assert!(!exists(&mut restored, "s07", at(7 * DAY)));
    assert_eq!(*rotated.lock().unwrap(), ["s33"]);
}

/// ListSecrets' order as it was defined before any index: every secret of
/// the region that passes, newest first then by name, reversed for `asc`.
fn full_sort(
    sm: &SecretsManager,
    passes: &dyn Fn(&Secret) -> bool,
    ascending: bool,
) -> Vec<(Timestamp, String)> {
    let mut all: Vec<&Secret> = sm
        .state()
        .regions
        .get(REGION)
        .into_iter()
        .flat_map(|m| m.values())
        .filter(|s| !s.is_deleted() && passes(s))
        .collect();
    all.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.name.cmp(&b.name)));
    if ascending {
        all.reverse();
    }
    all.into_iter()
        .map(|s| (s.created, s.name.clone()))
        .collect()
}

fn page_names(out: &Value) -> Vec<String> {
    out["SecretList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["Name"].as_str().unwrap().to_owned())
        .collect()
}

/// Walks ListSecrets with small pages, creating and deleting secrets
/// between pages; each page must be what a full sort of the state at that
/// moment holds right after the last secret the previous page returned.
fn walk_with_changes(ascending: bool, filtered: bool, seed: u64) {
    let mut sm = SecretsManager::new("111122223333");
    let mut rng = Lcg(seed);
    let mut serial = 0;
    let mut fresh = |rng: &mut Lcg| {
        serial += 1;
        let prefix = if rng.below(3) == 0 { "other" } else { "app" };
        format!("{prefix}/{serial:05}")
    };
    for _ in 0..400 {
        let name = fresh(&mut rng);
        // Few distinct times, so many secrets share one and order by name.
        create(&mut sm, &name, at(rng.below(40) as i64));
    }
    let passes = |s: &Secret| !filtered || s.name.starts_with("app/");
    let filters = if filtered {
        json!([{ "Key": "name", "Values": ["app/"] }])
    } else {
        json!([])
    };
    let mut token: Option<String> = None;
    let mut last: Option<(Timestamp, String)> = None;
    let mut pages = 0;
    loop {
        let expected: Vec<String> = full_sort(&sm, &passes, ascending)
            .into_iter()
            .filter(|(created, name)| match &last {
                None => true,
                // Strictly after the last secret returned, in the walk's order.
                Some((lc, ln)) => {
                    let desc_after = created < lc || (created == lc && name > ln);
                    let asc_after = created > lc || (created == lc && name < ln);
                    if ascending { asc_after } else { desc_after }
                }
            })
            .map(|(_, n)| n)
            .take(7)
            .collect();
        let mut body = json!({ "MaxResults": 7, "Filters": filters,
                               "SortOrder": if ascending { "asc" } else { "desc" } });
        if let Some(t) = &token {
            body["NextToken"] = json!(t);
        }
        let out = call(&mut sm, "ListSecrets", body, at(100)).unwrap();
        let names = page_names(&out);
        assert_eq!(names, expected, "page {pages}");
        pages += 1;
        token = out["NextToken"].as_str().map(str::to_owned);
        let Some(name) = names.last() else {
            assert!(token.is_none(), "an empty page ends the walk");
            break;
        };
        let created = sm.state().regions[REGION][name].created;
        last = Some((created, name.clone()));
        if token.is_none() {
            assert!(
                expected.len() < 7 || full_sort(&sm, &passes, ascending).last() == last.as_ref(),
                "no token while more were due"
            );
            break;
        }
        // Changes mid-walk, before and after the cursor.
        let names: Vec<String> = sm.state().regions[REGION].keys().cloned().collect();
        for _ in 0..3 {
            let victim = &names[rng.below(names.len() as u64) as usize];
            let body = if rng.below(2) == 0 {
                json!({ "SecretId": victim, "ForceDeleteWithoutRecovery": true })
            } else {
                json!({ "SecretId": victim, "RecoveryWindowInDays": 7 })
            };
            // Already marked for deletion is an answer too.
            let _ = call(&mut sm, "DeleteSecret", body, at(100));
        }
        for _ in 0..2 {
            let name = fresh(&mut rng);
            create(&mut sm, &name, at(rng.below(40) as i64));
        }
    }
    assert!(pages > 20, "the walk was long enough to mean something");
    assert!(sm.store.index_is_consistent());
}

#[test]
fn listing_pages_after_deletions_and_creations_mid_walk_match_a_full_sort() {
    walk_with_changes(false, false, 1);
    walk_with_changes(true, false, 2);
}

#[test]
fn filtered_listing_pages_mid_walk_match_a_full_sort() {
    walk_with_changes(false, true, 3);
    walk_with_changes(true, true, 4);
}

#[test]
fn listing_tokens_that_are_not_ours_are_refused() {
    let mut sm = SecretsManager::new("111122223333");
    create(&mut sm, "s", t0());
    // An offset, as tokens were before the index: not a place in it.
    let offset = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "offset:1");
    for token in ["garbage", offset.as_str()] {
        let err = call(&mut sm, "ListSecrets", json!({ "NextToken": token }), t0()).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidNextTokenException);
    }
    let err = call(&mut sm, "ListSecrets", json!({ "MaxResults": 101 }), t0()).unwrap_err();
    assert_eq!(err.code, ErrorCode::ValidationException);
}

#[test]
fn batch_get_by_filters_pages_like_list_secrets() {
    let mut sm = SecretsManager::new("111122223333");
    for i in 0..45 {
        create(&mut sm, &format!("app/{i:02}"), at(i));
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({ "Filters": [{ "Key": "name", "Values": ["app/"] }] });
        if let Some(t) = &token {
            body["NextToken"] = json!(t);
        }
        let out = call(&mut sm, "BatchGetSecretValue", body, at(100)).unwrap();
        let values = out["SecretValues"].as_array().unwrap();
        assert!(values.len() <= 20);
        seen.extend(
            values
                .iter()
                .map(|v| v["Name"].as_str().unwrap().to_owned()),
        );
        token = out["NextToken"].as_str().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    let newest_first: Vec<String> = (0..45).rev().map(|i| format!("app/{i:02}")).collect();
    assert_eq!(seen, newest_first);
}

fn secret(name: &str, arn: &str) -> Secret {
    Secret {
        name: name.into(),
        arn: arn.into(),
        description: None,
        kms_key_id: None,
        tags: Vec::new(),
        created: t0(),
        last_changed: t0(),
        last_accessed: None,
        deletion: None,
        rotation: None,
        versions: vec![Version {
            id: "v1".into(),
            stages: vec!["AWSCURRENT".into()],
            value: SecretValue::String("v".into()),
            created: t0(),
            last_accessed: None,
        }],
        replication: Replication::Primary {
            replicas: Vec::new(),
        },
    }
}

#[test]
fn an_arn_that_is_one_secrets_full_arn_and_anothers_partial_resolves_to_the_first_by_name() {
    let base = "arn:aws:secretsmanager:us-west-2:111122223333:secret:";
    let mut state = SecretsState::default();
    let mut secrets = BTreeMap::new();
    secrets.insert("a".into(), secret("a", &format!("{base}a-abcdef")));
    secrets.insert(
        "a-abcdef".into(),
        secret("a-abcdef", &format!("{base}a-abcdef-ghijkl")),
    );
    state.regions.insert(REGION.into(), secrets);
    let mut sm = SecretsManager::new("111122223333");
    sm.replace_state(state);
    let describe = |sm: &mut SecretsManager, id: &str| {
        call(sm, "DescribeSecret", json!({ "SecretId": id }), t0()).map(|v| v["Name"].clone())
    };
    let ambiguous = format!("{base}a-abcdef");
    assert_eq!(describe(&mut sm, &ambiguous).unwrap(), "a");
    assert_eq!(
        describe(&mut sm, &format!("{base}a-abcdef-ghijkl")).unwrap(),
        "a-abcdef"
    );
    call(
        &mut sm,
        "DeleteSecret",
        json!({ "SecretId": "a", "ForceDeleteWithoutRecovery": true }),
        t0(),
    )
    .unwrap();
    assert_eq!(describe(&mut sm, &ambiguous).unwrap(), "a-abcdef");
    assert_eq!(
        describe(&mut sm, &format!("{base}a")).unwrap_err().code,
        ErrorCode::ResourceNotFoundException
    );
}

/// Every operation that changes a secret, at random, with time moving on so
/// purges and rotations run; [`call_in`] checks after each call that the
/// index is what a rebuild from the state gives, and here lookups by ARN are
/// checked against a scan.
#[test]
fn the_index_follows_every_kind_of_change() {
    let mut sm = SecretsManager::new("111122223333");
    let _rotated = recording_hook(&mut sm);
    let mut rng = Lcg(7);
    let names: Vec<String> = (0..30).map(|i| format!("s{i:02}")).collect();
    let regions = ["us-west-2", "eu-west-1", "ap-south-1"];
    let mut now = t0();
    for step in 0..3_000 {
        now = now
            .checked_add(SignedDuration::from_secs(rng.below(3 * DAY as u64) as i64))
            .unwrap();
        let name = &names[rng.below(names.len() as u64) as usize];
        let region = regions[rng.below(2) as usize];
        let other = regions[1 + rng.below(2) as usize];
        let (op, body) = match rng.below(14) {
            0 | 1 => (
                "CreateSecret",
                json!({ "Name": name, "SecretString": "v", "Description": "d" }),
            ),
            2 => (
                "PutSecretValue",
                json!({ "SecretId": name, "SecretString": format!("v{step}") }),
            ),
            3 => (
                "DeleteSecret",
                json!({ "SecretId": name, "RecoveryWindowInDays": 7 + rng.below(24) }),
            ),
            4 => (
                "DeleteSecret",
                json!({ "SecretId": name, "ForceDeleteWithoutRecovery": true }),
            ),
            5 => ("RestoreSecret", json!({ "SecretId": name })),
            6 => (
                "RotateSecret",
                json!({ "SecretId": name, "RotateImmediately": rng.below(2) == 0,
                        "RotationRules": { "AutomaticallyAfterDays": 1 + rng.below(10) } }),
            ),
            7 => (
                "TagResource",
                json!({ "SecretId": name, "Tags": [{ "Key": "k", "Value": "v" }] }),
            ),
            8 => (
                "ReplicateSecretToRegions",
                json!({ "SecretId": name, "AddReplicaRegions": [{ "Region": other }],
                        "ForceOverwriteReplicaSecret": rng.below(2) == 0 }),
            ),
            9 => (
                "RemoveRegionsFromReplication",
                json!({ "SecretId": name, "RemoveReplicaRegions": [other] }),
            ),
            10 => (
                "UpdateSecret",
                json!({ "SecretId": name, "Description": format!("d{step}"), "SecretString": "u" }),
            ),
            11 => ("GetSecretValue", json!({ "SecretId": name })),
            12 => ("ListSecrets", json!({ "IncludePlannedDeletion": true })),
            _ => {
                // A snapshot of the state as it is, restored.
                let state = sm.state().clone();
                sm.replace_state(state);
                ("DescribeSecret", json!({ "SecretId": name }))
            }
        };
        let _ = call_in(&mut sm, region, op, body, now);
        for region in regions {
            let Some(secrets) = sm.state().regions.get(region) else {
                continue;
            };
            for s in secrets.values() {
                let by_arn = sm.store.by_arn(region, &s.arn).map(|found| &found.name);
                let scanned = secrets
                    .values()
                    .find(|c| c.arn == s.arn || partial_arn(&c.arn) == s.arn)
                    .map(|found| &found.name);
                assert_eq!(by_arn, scanned, "{region}: ARN of {}", s.name);
            }
        }
    }
    let purged_or_listed = sm
        .state()
        .regions
        .values()
        .flat_map(|m| m.values())
        .filter(|s| s.deletion.is_some_and(|d: Deletion| d.purge_at <= now))
        .count();
    assert_eq!(purged_or_listed, 0, "nothing overdue is left after a call");
}

/// Every optional field of the frequent answers at once (written directly,
/// not through a Value; `call_in` checks their bytes are in a Value's order).
#[test]
fn the_frequent_answers_carry_every_field_the_secret_has() {
    let mut sm = SecretsManager::new("111122223333");
    sm.set_rotation_hook(Some(Arc::new(|_: &RotationRequest<'_>| {
        Ok(SecretValue::String("rotated".into()))
    })));
    let (a, b, c) = ("a".repeat(32), "b".repeat(32), "0".repeat(32));
    let created = call(
        &mut sm,
        "CreateSecret",
        json!({
            "Name": "rich", "Description": "rich one", "KmsKeyId": "alias/k",
            "SecretString": "one", "ClientRequestToken": a,
            "Tags": [{ "Key": "team", "Value": "a" }, { "Key": "env", "Value": "b" }],
            "AddReplicaRegions": [{ "Region": "eu-west-1" }],
        }),
        t0(),
    )
    .unwrap();
    let arn = created["ARN"].as_str().unwrap().to_owned();
    let put = call(
        &mut sm,
        "PutSecretValue",
        json!({ "SecretId": "rich", "SecretBinary": "AAEC", "ClientRequestToken": b }),
        at(10),
    )
    .unwrap();
    assert_eq!(
        put,
        json!({ "ARN": arn, "Name": "rich", "VersionId": b, "VersionStages": ["AWSCURRENT"] })
    );
    let lambda = "arn:aws:lambda:us-west-2:111122223333:function:rot";
    call(
        &mut sm,
        "RotateSecret",
        json!({ "SecretId": "rich", "RotationLambdaARN": lambda,
                "RotationRules": { "AutomaticallyAfterDays": 7 }, "ClientRequestToken": c }),
        at(20),
    )
    .unwrap();
    let current = call(
        &mut sm,
        "GetSecretValue",
        json!({ "SecretId": "rich" }),
        at(30),
    )
    .unwrap();
    assert_eq!(
        current,
        json!({ "ARN": arn, "CreatedDate": wire::epoch(at(20)), "Name": "rich",
                "SecretString": "rotated", "VersionId": c, "VersionStages": ["AWSCURRENT"] })
    );
    let stages = json!({ b.clone(): ["AWSPREVIOUS"], c.clone(): ["AWSCURRENT"] });
    let mut described = json!({
        "ARN": arn,
        "CreatedDate": wire::epoch(t0()),
        "Description": "rich one",
        "KmsKeyId": "alias/k",
        "LastAccessedDate": wire::epoch(t0()),
        "LastChangedDate": wire::epoch(at(20)),
        "LastRotatedDate": wire::epoch(at(20)),
        "Name": "rich",
        "NextRotationDate": wire::epoch(at(20 + 7 * DAY)),
        "PrimaryRegion": REGION,
        "ReplicationStatus": [{ "Region": "eu-west-1", "Status": "InSync" }],
        "RotationEnabled": true,
        "RotationLambdaARN": lambda,
        "RotationRules": { "AutomaticallyAfterDays": 7 },
        "Tags": [{ "Key": "team", "Value": "a" }, { "Key": "env", "Value": "b" }],
        "VersionIdsToStages": stages,
    });
    assert_eq!(
        call(
            &mut sm,
            "DescribeSecret",
            json!({ "SecretId": "rich" }),
            at(40)
        )
        .unwrap(),
        described
    );
    let previous = call(
        &mut sm,
        "GetSecretValue",
        json!({ "SecretId": arn, "VersionId": b, "VersionStage": "AWSPREVIOUS" }),
        at(50),
    )
    .unwrap();
    assert_eq!(
        previous,
        json!({ "ARN": arn, "CreatedDate": wire::epoch(at(10)), "Name": "rich",
                "SecretBinary": "AAEC", "VersionId": b, "VersionStages": ["AWSPREVIOUS"] })
    );
    let replica = call_in(
        &mut sm,
        "eu-west-1",
        "DescribeSecret",
        json!({ "SecretId": "rich" }),
        at(60),
    )
    .unwrap();
    assert_eq!(replica["PrimaryRegion"], json!(REGION));
    assert_eq!(replica.get("ReplicationStatus"), None);

    call(&mut sm, "CreateSecret", json!({ "Name": "gone" }), at(1)).unwrap();
    call(
        &mut sm,
        "DeleteSecret",
        json!({ "SecretId": "gone", "RecoveryWindowInDays": 7 }),
        at(2),
    )
    .unwrap();
    let gone = call(
        &mut sm,
        "DescribeSecret",
        json!({ "SecretId": "gone" }),
        at(70),
    )
    .unwrap();
    let gone_arn = gone["ARN"].clone();
    assert_eq!(
        gone,
        json!({ "ARN": gone_arn, "CreatedDate": wire::epoch(at(1)), "DeletedDate": wire::epoch(at(2)),
                "LastChangedDate": wire::epoch(at(1)), "Name": "gone", "RotationEnabled": false,
                "VersionIdsToStages": {} })
    );
    let listed = call(
        &mut sm,
        "ListSecrets",
        json!({ "IncludePlannedDeletion": true, "MaxResults": 1 }),
        at(80),
    )
    .unwrap();
    // Newest first: "gone" was created after "rich".
    assert_eq!(listed["SecretList"][0]["Name"], json!("gone"));
    assert_eq!(listed["SecretList"][0]["SecretVersionsToStages"], json!({}));
    let token = listed["NextToken"].clone();
    let rest = call(
        &mut sm,
        "ListSecrets",
        json!({ "IncludePlannedDeletion": true, "NextToken": token }),
        at(80),
    )
    .unwrap();
    let obj = described.as_object_mut().unwrap();
    let stages = obj.remove("VersionIdsToStages").unwrap();
    obj.insert("SecretVersionsToStages".into(), stages);
    obj.insert("LastAccessedDate".into(), wire::epoch(t0()));
    assert_eq!(rest, json!({ "SecretList": [described] }));
}
