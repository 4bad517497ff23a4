//! IAM policy documents in standard JSON, and their evaluation: Action and
//! Resource (and their Not- forms) with `*` and `?` wildcards, the common
//! string conditions, explicit Deny over Allow, and implicit deny.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

/// An IAM policy: identity policy or role trust policy.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDocument {
    /// Its statements, in order.
    pub statements: Vec<Statement>,
}

/// One statement of a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Its `Sid`, if any.
    pub sid: Option<String>,
    /// Allow or Deny.
    pub effect: Effect,
    /// `Action` or `NotAction` (matched ignoring case).
    pub actions: Matcher,
    /// `None` in trust policies, which name a Principal instead.
    pub resources: Option<Matcher>,
    /// `Principal`, in trust policies.
    pub principal: Option<Principal>,
    /// `Condition`, one entry per operator and key; all must hold.
    pub conditions: Vec<Condition>,
}

/// What a statement does when it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Allows, unless a Deny applies too.
    Allow,
    /// Denies, whatever allows.
    Deny,
}

/// `Action` / `Resource` (matches any pattern) or `NotAction` / `NotResource`
/// (matches when no pattern does).
#[derive(Debug, Clone, PartialEq)]
pub enum Matcher {
    /// Matches what any of the patterns matches.
    Any(Vec<String>),
    /// Matches what none of the patterns matches.
    NoneOf(Vec<String>),
}

/// Whom a trust-policy statement is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    /// `"Principal": "*"`.
    Everyone,
    /// `{"AWS": [...], "Federated": [...], "Service": [...]}`
    Typed(BTreeMap<String, Vec<String>>),
}

/// One condition: an operator on one key, against any of some values.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// How the key's value is compared.
    pub operator: ConditionOperator,
    /// The condition key (`aws:...`, `ISSUER:sub`), matched ignoring case.
    pub key: String,
    /// The values any of which satisfies it (for negated operators: none of which).
    pub values: Vec<String>,
}

/// The condition operators this emulator evaluates, named as IAM names
/// them. The `Not` forms hold when the key is absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionOperator {
    /// Exactly equal.
    StringEquals,
    /// Not exactly equal.
    StringNotEquals,
    /// Equal ignoring ASCII case.
    StringEqualsIgnoreCase,
    /// Not equal ignoring ASCII case.
    StringNotEqualsIgnoreCase,
    /// Matches a pattern with `*` and `?`.
    StringLike,
    /// Matches no pattern.
    StringNotLike,
    /// An ARN exactly equal.
    ArnEquals,
    /// An ARN matching a pattern.
    ArnLike,
    /// An ARN not equal.
    ArnNotEquals,
    /// An ARN matching no pattern.
    ArnNotLike,
    /// `true` / `false`, ignoring case.
    Bool,
}

impl ConditionOperator {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "StringEquals" => Self::StringEquals,
            "StringNotEquals" => Self::StringNotEquals,
            "StringEqualsIgnoreCase" => Self::StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => Self::StringNotEqualsIgnoreCase,
            "StringLike" => Self::StringLike,
            "StringNotLike" => Self::StringNotLike,
            "ArnEquals" => Self::ArnEquals,
            "ArnLike" => Self::ArnLike,
            "ArnNotEquals" => Self::ArnNotEquals,
            "ArnNotLike" => Self::ArnNotLike,
            "Bool" => Self::Bool,
            _ => return None,
        })
    }

    fn negated(self) -> bool {
        matches!(
            self,
            Self::StringNotEquals
                | Self::StringNotEqualsIgnoreCase
                | Self::StringNotLike
                | Self::ArnNotEquals
                | Self::ArnNotLike
        )
    }

    fn matches(self, pattern: &str, actual: &str) -> bool {
        match self {
            Self::StringEquals | Self::StringNotEquals | Self::ArnEquals | Self::ArnNotEquals => {
                pattern == actual
            }
            Self::StringEqualsIgnoreCase | Self::StringNotEqualsIgnoreCase | Self::Bool => {
                pattern.eq_ignore_ascii_case(actual)
            }
            Self::StringLike | Self::StringNotLike | Self::ArnLike | Self::ArnNotLike => {
                wildcard_match(pattern, actual, false)
            }
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
/// Why a policy document was refused.
pub enum PolicyError {
    /// Not JSON.
    #[error("{origin}: not valid JSON at line {line}, column {column}: {message}")]
    Json {
        /// Where it came from (a file name, "policy").
        origin: String,
        /// Where the JSON went wrong.
        line: usize,
        /// Where on that line.
        column: usize,
        /// serde_json's description.
        message: String,
    },
    /// JSON, but not a policy this emulator can evaluate.
    #[error("{origin}: {field}: {problem}")]
    Field {
        /// Where it came from.
        origin: String,
        /// The field, as a path (`Statement[1].Effect`).
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The file could not be read.
    #[error("cannot read policy file {path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// What the system said.
        message: String,
    },
}

/// What a request asks for, as IAM evaluates it.
#[derive(Debug, Clone, Default)]
pub struct RequestContext<'a> {
    /// The action (`secretsmanager:GetSecretValue`).
    pub action: &'a str,
    /// The resource's ARN, or `*`.
    pub resource: &'a str,
    /// Condition keys (`aws:...`, `ISSUER:sub`, ...), matched ignoring case.
    pub keys: BTreeMap<String, String>,
}

/// IAM's decision on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A statement allows it and none denies it.
    Allow,
    /// A statement denies it.
    ExplicitDeny,
    /// No statement allows it.
    ImplicitDeny,
}

impl PolicyDocument {
    /// Reads and parses a policy file.
    pub fn from_file(path: &Path) -> Result<Self, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::parse_named(&text, &path.display().to_string())
    }

    /// Parses a policy; errors name the field.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        Self::parse_named(text, "policy")
    }

    /// Parses a policy; errors name `origin` (a file name) and the field.
    pub fn parse_named(text: &str, origin: &str) -> Result<Self, PolicyError> {
        let doc: Value = serde_json::from_str(text).map_err(|e| PolicyError::Json {
            origin: origin.to_owned(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        let field_err = |field: &str, problem: &str| PolicyError::Field {
            origin: origin.to_owned(),
            field: field.to_owned(),
            problem: problem.to_owned(),
        };
        let obj = doc
            .as_object()
            .ok_or_else(|| field_err("(document)", "a policy is a JSON object"))?;
        if let Some(v) = obj.get("Version")
            && v.as_str()
                .is_none_or(|v| v != "2012-10-17" && v != "2008-10-17")
        {
            return Err(field_err(
                "Version",
                "must be \"2012-10-17\" or \"2008-10-17\"",
            ));
        }
        let statements = match obj.get("Statement") {
            Some(Value::Array(items)) => items.iter().collect::<Vec<_>>(),
            Some(one @ Value::Object(_)) => vec![one],
            _ => return Err(field_err("Statement", "missing, or not an object or array")),
        };
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(i, s)| parse_statement(s, &format!("Statement[{i}]"), &field_err))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { statements })
    }

    /// Replaces a placeholder (such as the runbook's `ACCOUNT_ID`) in every
    /// resource and principal of the document.
    pub fn with_placeholder(mut self, placeholder: &str, value: &str) -> Self {
        let fix = |m: &mut Matcher| {
            let (Matcher::Any(p) | Matcher::NoneOf(p)) = m;
            p.iter_mut()
                .for_each(|s| *s = s.replace(placeholder, value));
        };
        for s in &mut self.statements {
            if let Some(r) = s.resources.as_mut() {
                fix(r);
            }
            if let Some(Principal::Typed(map)) = s.principal.as_mut() {
                map.values_mut()
                    .flatten()
                    .for_each(|p| *p = p.replace(placeholder, value));
            }
        }
        self
    }

    /// Every action an Allow statement names, for reviewing a policy.
    pub fn allowed_actions(&self) -> Vec<&str> {
        self.statements
            .iter()
            .filter(|s| s.effect == Effect::Allow)
            .flat_map(|s| match &s.actions {
                Matcher::Any(a) => a.iter().map(String::as_str).collect::<Vec<_>>(),
                Matcher::NoneOf(_) => vec!["NotAction:*"],
            })
            .collect()
    }
}

type FieldErr<'a> = dyn Fn(&str, &str) -> PolicyError + 'a;

fn strings(v: &Value, field: &str, err: &FieldErr<'_>) -> Result<Vec<String>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| err(field, "every entry must be a string"))
            })
            .collect(),
        Value::Bool(b) => Ok(vec![b.to_string()]),
        _ => Err(err(field, "must be a string or an array of strings")),
    }
}

fn parse_statement(v: &Value, at: &str, err: &FieldErr<'_>) -> Result<Statement, PolicyError> {
    let obj = v
        .as_object()
        .ok_or_else(|| err(at, "a statement is a JSON object"))?;
    let effect = match obj.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        _ => {
            return Err(err(
                &format!("{at}.Effect"),
                "must be \"Allow\" or \"Deny\"",
            ));
        }
    };
    let pick = |yes: &str, no: &str| -> Result<Option<Matcher>, PolicyError> {
        match (obj.get(yes), obj.get(no)) {
            (Some(_), Some(_)) => Err(err(
                &format!("{at}.{yes}"),
                &format!("cannot be given together with {no}"),
            )),
            (Some(v), None) => Ok(Some(Matcher::Any(strings(v, &format!("{at}.{yes}"), err)?))),
            (None, Some(v)) => Ok(Some(Matcher::NoneOf(strings(
                v,
                &format!("{at}.{no}"),
                err,
            )?))),
            (None, None) => Ok(None),
        }
    };
    let actions =
        pick("Action", "NotAction")?.ok_or_else(|| err(&format!("{at}.Action"), "missing"))?;
    let resources = pick("Resource", "NotResource")?;
    let principal = match obj.get("Principal") {
        None => None,
        Some(Value::String(s)) if s == "*" => Some(Principal::Everyone),
        Some(Value::Object(map)) => Some(Principal::Typed(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), strings(v, &format!("{at}.Principal.{k}"), err)?)))
                .collect::<Result<_, PolicyError>>()?,
        )),
        Some(_) => {
            return Err(err(
                &format!("{at}.Principal"),
                "must be \"*\" or an object",
            ));
        }
    };
    if resources.is_none() && principal.is_none() {
        return Err(err(&format!("{at}.Resource"), "missing"));
    }
    let mut conditions = Vec::new();
    if let Some(c) = obj.get("Condition") {
        let map = c
            .as_object()
            .ok_or_else(|| err(&format!("{at}.Condition"), "must be an object"))?;
        for (op_name, keys) in map {
            let field = format!("{at}.Condition.{op_name}");
            let operator = ConditionOperator::parse(op_name)
                .ok_or_else(|| err(&field, "unsupported condition operator in this emulator"))?;
            let keys = keys
                .as_object()
                .ok_or_else(|| err(&field, "must be an object of condition keys"))?;
            for (key, values) in keys {
                conditions.push(Condition {
                    operator,
                    key: key.clone(),
                    values: strings(values, &format!("{field}.{key}"), err)?,
                });
            }
        }
    }
    Ok(Statement {
        sid: obj.get("Sid").and_then(Value::as_str).map(str::to_owned),
        effect,
        actions,
        resources,
        principal,
        conditions,
    })
}

/// IAM wildcards: `*` any run of characters, `?` any one character;
/// `ignore_case` folds ASCII letters only.
pub fn wildcard_match(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let same = |a: char, b: char| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let char_at = |s: &str, i: usize| s.get(i..).and_then(|rest| rest.chars().next());
    // Iterative matcher with backtracking to the last `*`: linear in
    // practice. Positions are byte offsets of characters; nothing is copied,
    // as this runs for every statement of every call.
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while let Some(tc) = char_at(text, ti) {
        let pc = char_at(pattern, pi);
        // A `*` in the text matches a `*` in the pattern literally first.
        if let Some(pc) = pc.filter(|&pc| pc == '?' || same(pc, tc)) {
            pi += pc.len_utf8();
            ti += tc.len_utf8();
        } else if pc == Some('*') {
            // Only stars left (`*`, `secretsmanager:*`): whatever follows in
            // the text matches, as the backtracking below would find.
            if pattern
                .get(pi..)
                .is_some_and(|rest| rest.bytes().all(|b| b == b'*'))
            {
                return true;
            }
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += char_at(text, mark).map_or(1, char::len_utf8);
            ti = mark;
        } else {
            return false;
        }
    }
    pattern
        .get(pi..)
        .unwrap_or_default()
        .chars()
        .all(|c| c == '*')
}

impl Matcher {
    fn matches(&self, value: &str, ignore_case: bool) -> bool {
        match self {
            Self::Any(ps) => ps.iter().any(|p| wildcard_match(p, value, ignore_case)),
            Self::NoneOf(ps) => !ps.iter().any(|p| wildcard_match(p, value, ignore_case)),
        }
    }
}

impl Condition {
    fn holds(&self, keys: &BTreeMap<String, String>) -> bool {
        let actual = keys
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&self.key))
            .map(|(_, v)| v);
        match actual {
            // IAM: a negated operator holds when the key is absent; others do not.
            None => self.operator.negated(),
            Some(actual) => {
                let any = self.values.iter().any(|p| self.operator.matches(p, actual));
                if self.operator.negated() { !any } else { any }
            }
        }
    }
}

impl Statement {
    fn applies(&self, req: &RequestContext<'_>) -> bool {
        self.actions.matches(req.action, true)
            && self
                .resources
                .as_ref()
                .is_none_or(|r| r.matches(req.resource, false))
            && self.conditions.iter().all(|c| c.holds(&req.keys))
    }

    /// Whether a trust-policy statement names this principal (`TYPE` → ARN or id).
    pub fn names_principal(&self, kind: &str, id: &str) -> bool {
        match &self.principal {
            Some(Principal::Everyone) => true,
            Some(Principal::Typed(map)) => map
                .get(kind)
                .is_some_and(|ids| ids.iter().any(|p| wildcard_match(p, id, false))),
            None => false,
        }
    }
}

/// IAM's evaluation for identity-based policies: an explicit Deny anywhere
/// wins, else an Allow allows, else the request is implicitly denied.
pub fn evaluate<'a>(
    policies: impl IntoIterator<Item = &'a PolicyDocument>,
    req: &RequestContext<'_>,
) -> Decision {
    decide(policies.into_iter().flat_map(|p| &p.statements), req)
}

/// Trust-policy evaluation for one kind of principal (`Federated`, `AWS`, ...).
pub fn evaluate_trust(
    policy: &PolicyDocument,
    principal_kind: &str,
    principal_id: &str,
    req: &RequestContext<'_>,
) -> Decision {
    decide(
        policy
            .statements
            .iter()
            .filter(|s| s.names_principal(principal_kind, principal_id)),
        req,
    )
}

/// Deny wins, then Allow, else the implicit deny.
fn decide<'a>(
    statements: impl Iterator<Item = &'a Statement>,
    req: &RequestContext<'_>,
) -> Decision {
    let mut allowed = false;
    for s in statements.filter(|s| s.applies(req)) {
        match s.effect {
            Effect::Deny => return Decision::ExplicitDeny,
            Effect::Allow => allowed = true,
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUNBOOK: &str = r#"{
      "Version": "2012-10-17",
      "Statement": [
        {
          "Effect": "Allow",
          "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
          "Resource": ["arn:aws:secretsmanager:us-west-2:ACCOUNT_ID:secret:opssight/production/*"]
        }
      ]
    }"#;

    fn req<'a>(action: &'a str, resource: &'a str) -> RequestContext<'a> {
        RequestContext {
            action,
            resource,
            keys: BTreeMap::new(),
        }
    }

    #[test]
    fn runbook_policy_allows_reads_of_production_only() {
        let p = PolicyDocument::parse(RUNBOOK)
            .unwrap()
            .with_placeholder("ACCOUNT_ID", "111122223333");
        let arn =
            "arn:aws:secretsmanager:us-west-2:111122223333:secret:opssight/production/app-AbCdEf";
        assert_eq!(
            evaluate([&p], &req("secretsmanager:GetSecretValue", arn)),
            Decision::Allow
        );
        assert_eq!(
            evaluate([&p], &req("SecretsManager:getsecretvalue", arn)),
            Decision::Allow,
            "actions ignore case"
        );
        assert_eq!(
            evaluate([&p], &req("secretsmanager:PutSecretValue", arn)),
            Decision::ImplicitDeny
        );
        let staging =
            "arn:aws:secretsmanager:us-west-2:111122223333:secret:opssight/staging/app-AbCdEf";
        assert_eq!(
            evaluate([&p], &req("secretsmanager:GetSecretValue", staging)),
            Decision::ImplicitDeny
        );
        let other_region =
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:opssight/production/app-AbCdEf";
        assert_eq!(
            evaluate([&p], &req("secretsmanager:GetSecretValue", other_region)),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn explicit_deny_wins_over_allow() {
        let allow = PolicyDocument::parse(
            r#"{"Statement":{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}}"#,
        )
        .unwrap();
        let deny = PolicyDocument::parse(
            r#"{"Statement":[{"Effect":"Deny","NotAction":"secretsmanager:Describe*","Resource":"arn:*:secret:x-??????"}]}"#,
        )
        .unwrap();
        assert_eq!(
            evaluate(
                [&allow, &deny],
                &req("secretsmanager:GetSecretValue", "arn:a:secret:x-abcdef")
            ),
            Decision::ExplicitDeny
        );
        assert_eq!(
            evaluate(
                [&allow, &deny],
                &req("secretsmanager:DescribeSecret", "arn:a:secret:x-abcdef")
            ),
            Decision::Allow
        );
        assert_eq!(
            evaluate(
                [&allow, &deny],
                &req("secretsmanager:GetSecretValue", "arn:a:secret:x-abcdefg")
            ),
            Decision::Allow
        );
    }

    #[test]
    fn conditions_on_web_identity_keys() {
        let trust = PolicyDocument::parse(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::1:oidc-provider/issuer"},
               "Action":"sts:AssumeRoleWithWebIdentity",
               "Condition":{"StringEquals":{"issuer:sub":"system:serviceaccount:ns:sa","issuer:aud":"sts.amazonaws.com"}}}]}"#,
        )
        .unwrap();
        let mut r = req("sts:AssumeRoleWithWebIdentity", "*");
        r.keys
            .insert("issuer:sub".into(), "system:serviceaccount:ns:sa".into());
        r.keys
            .insert("issuer:aud".into(), "sts.amazonaws.com".into());
        let provider = "arn:aws:iam::1:oidc-provider/issuer";
        assert_eq!(
            evaluate_trust(&trust, "Federated", provider, &r),
            Decision::Allow
        );
        r.keys
            .insert("issuer:sub".into(), "system:serviceaccount:ns:other".into());
        assert_eq!(
            evaluate_trust(&trust, "Federated", provider, &r),
            Decision::ImplicitDeny
        );
        assert_eq!(
            evaluate_trust(&trust, "AWS", provider, &r),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn errors_name_the_field() {
        let e = PolicyDocument::parse_named(
            r#"{"Statement":[{"Effect":"Allow","Action":"x","Resource":"*"},{"Effect":"Maybe"}]}"#,
            "p.json",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "p.json: Statement[1].Effect: must be \"Allow\" or \"Deny\""
        );
        let e = PolicyDocument::parse_named("{\n  \"Statement\": [,]\n}", "p.json").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("p.json: not valid JSON at line 2"),
            "{e}"
        );
        let e = PolicyDocument::parse_named(
            r#"{"Statement":{"Effect":"Allow","Action":"x","Resource":"*","Condition":{"NumericLessThan":{"a":"1"}}}}"#,
            "p.json",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("Statement[0].Condition.NumericLessThan"),
            "{e}"
        );
    }

    /// The matcher before it worked in place (lower-cased copies, char
    /// vectors), to check the two agree.
    fn copying_wildcard_match(pattern: &str, text: &str, ignore_case: bool) -> bool {
        let norm = |s: &str| {
            if ignore_case {
                s.to_ascii_lowercase()
            } else {
                s.to_owned()
            }
        };
        let (p, t): (Vec<char>, Vec<char>) = (
            norm(pattern).chars().collect(),
            norm(text).chars().collect(),
        );
        let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
        while ti < t.len() {
            if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
                pi += 1;
                ti += 1;
            } else if pi < p.len() && p[pi] == '*' {
                star = Some(pi);
                mark = ti;
                pi += 1;
            } else if let Some(s) = star {
                pi = s + 1;
                mark += 1;
                ti = mark;
            } else {
                return false;
            }
        }
        p[pi..].iter().all(|c| *c == '*')
    }

    proptest::proptest! {
        #[test]
        fn wildcards_match_as_the_copying_matcher_did(
            pattern in "[aAbB*?é/:-]{0,8}",
            text in "[aAbB*?é/:-]{0,10}",
            ignore_case: bool,
        ) {
            proptest::prop_assert_eq!(
                wildcard_match(&pattern, &text, ignore_case),
                copying_wildcard_match(&pattern, &text, ignore_case)
            );
        }
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("a*c", "abbbc", false));
        assert!(wildcard_match("a?c", "abc", false));
        assert!(!wildcard_match("a?c", "abbc", false));
        assert!(wildcard_match("*", "", false));
        assert!(!wildcard_match("A*", "abc", false));
        assert!(wildcard_match("A*", "abc", true));
    }
}
