//! Each function's DynamoDB permissions as the template grants them, enforced on the
//! local stack's calls the way IAM enforces them on AWS: the actions each statement
//! allows, on the table or on its index, and, where a statement says so, only for the
//! partition keys its `dynamodb:LeadingKeys` patterns match. A call the template would
//! not allow fails here as `AccessDeniedException` does there, so every test proves the
//! policies are enough, and no more than the code needs is a matter of reading them.
//! `RALLY_POLICY_LOG=<file>` appends each call's function, action, place and key prefix
//! to the file, which is how the template's prefixes were found.

use std::fmt;

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use serde_json::Value;
use serde_yaml_ng::Value as Yaml;

/// Where a statement applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum On {
    Table,
    Index,
}

#[derive(Clone, Debug)]
struct Statement {
    actions: Vec<String>,
    on: Vec<On>,
    /// `None`: any partition key.
    leading_keys: Option<Vec<String>>,
}

/// One function's permissions on the table.
#[derive(Clone, Debug)]
pub struct Policy {
    function: String,
    statements: Vec<Statement>,
}

impl Policy {
    /// The DynamoDB statements of `function`'s `Policies` in the template.
    pub fn from_function(function: &str, properties: &Yaml) -> Result<Self, String> {
        let mut statements = Vec::new();
        let policies = properties.get("Policies").and_then(Yaml::as_sequence).into_iter().flatten();
        for statement in policies.filter_map(|p| p.get("Statement")).filter_map(Yaml::as_sequence).flatten() {
            if statement.get("Effect").and_then(Yaml::as_str) != Some("Allow") {
                return Err(format!("template: {function} has a statement that is not Allow"));
            }
            let actions: Vec<String> = one_or_many(statement.get("Action"))
                .iter()
                .filter_map(|a| a.as_str())
                .filter_map(|a| a.strip_prefix("dynamodb:"))
                .map(str::to_owned)
                .collect();
            if actions.is_empty() {
                continue;
            }
            let on = one_or_many(statement.get("Resource"))
                .iter()
                .map(|r| match resource_text(r).as_deref() {
                    Some(text) if text.contains("/index/") => Ok(On::Index),
                    Some("Table.Arn") => Ok(On::Table),
                    other => {
                        Err(format!("template: {function} grants DynamoDB on {other:?}, not the table or its index"))
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            let leading_keys = statement
                .get("Condition")
                .and_then(|c| c.get("ForAllValues:StringLike"))
                .and_then(|c| c.get("dynamodb:LeadingKeys"))
                .map(|keys| one_or_many(Some(keys)).iter().filter_map(|k| k.as_str().map(str::to_owned)).collect());
            statements.push(Statement { actions, on, leading_keys });
        }
        Ok(Self { function: function.to_owned(), statements })
    }

    /// Whether every statement on the table names the partition keys it allows.
    pub fn scoped_by_leading_keys(&self) -> bool {
        self.statements.iter().filter(|s| s.on.contains(&On::Table)).all(|s| s.leading_keys.is_some())
    }

    /// Whether `action` on `on` is allowed for every partition key in `keys`.
    pub fn allows(&self, action: &str, on: On, keys: &[String]) -> Result<(), String> {
        let mut uncovered: Vec<&String> = keys.iter().collect();
        let mut granted = false;
        for statement in &self.statements {
            if !statement.on.contains(&on) || !statement.actions.iter().any(|a| a == action) {
                continue;
            }
            match &statement.leading_keys {
                None => return Ok(()),
                Some(patterns) => {
                    granted = true;
                    uncovered.retain(|key| !patterns.iter().any(|p| like(p, key)));
                }
            }
        }
        match (granted, uncovered.first()) {
            (true, None) if !keys.is_empty() => Ok(()),
            (true, Some(key)) => Err(format!("{} may not {action} the partition {key}", self.function)),
            _ => Err(format!("{} may not {action} on the {on:?}", self.function)),
        }
    }
}

impl fmt::Display for On {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// IAM's `StringLike`: `*` for any run of characters, `?` for one.
fn like(pattern: &str, value: &str) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    let (mut pi, mut vi, mut star, mut mark) = (0, 0, None, 0);
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn one_or_many(value: Option<&Yaml>) -> Vec<Yaml> {
    match value {
        Some(Yaml::Sequence(items)) => items.clone(),
        Some(one) => vec![one.clone()],
        None => Vec::new(),
    }
}

/// `!GetAtt Table.Arn` or `!Sub "${Table.Arn}/index/GSI1"`, as text.
fn resource_text(resource: &Yaml) -> Option<String> {
    match resource {
        Yaml::Tagged(tagged) => tagged.value.as_str().map(str::to_owned),
        other => other.as_str().map(str::to_owned),
    }
}

/// What a DynamoDB request asks IAM for: (action, where, the partition keys it touches).
pub fn requested(target: &str, body: &Value) -> Vec<(String, On, Vec<String>)> {
    let operation = target.strip_prefix("DynamoDB_20120810.").unwrap_or(target);
    let pk = |item: &Value| item["PK"]["S"].as_str().map(str::to_owned);
    let on_table = |action: &str, keys: Vec<String>| vec![(action.to_owned(), On::Table, keys)];
    match operation {
        "GetItem" | "UpdateItem" | "DeleteItem" => on_table(operation, pk(&body["Key"]).into_iter().collect()),
        "PutItem" => on_table(operation, pk(&body["Item"]).into_iter().collect()),
        "Query" if body.get("IndexName").is_some() => vec![("Query".into(), On::Index, Vec::new())],
        "Query" => on_table(
            "Query",
            body["ExpressionAttributeValues"][":pk"]["S"].as_str().map(str::to_owned).into_iter().collect(),
        ),
        "BatchGetItem" => {
            let keys = values(&body["RequestItems"]).flat_map(|t| array(&t["Keys"])).filter_map(pk).collect();
            on_table(operation, keys)
        }
        "BatchWriteItem" => {
            let requests: Vec<&Value> = values(&body["RequestItems"]).flat_map(array).collect();
            let keys = requests
                .iter()
                .filter_map(|r| pk(&r["PutRequest"]["Item"]).or_else(|| pk(&r["DeleteRequest"]["Key"])))
                .collect();
            on_table(operation, keys)
        }
        "TransactWriteItems" | "TransactGetItems" => array(&body["TransactItems"])
            .filter_map(|item| {
                let (action, key) = [
                    ("Put", "PutItem", "Item"),
                    ("Update", "UpdateItem", "Key"),
                    ("Delete", "DeleteItem", "Key"),
                    ("ConditionCheck", "ConditionCheckItem", "Key"),
                    ("Get", "GetItem", "Key"),
                ]
                .into_iter()
                .find(|(kind, _, _)| item.get(*kind).is_some())
                .map(|(kind, action, key)| (action, pk(&item[kind][key])))?;
                Some((action.to_owned(), On::Table, key.into_iter().collect()))
            })
            .collect(),
        other => on_table(other, Vec::new()),
    }
}

fn values(map: &Value) -> impl Iterator<Item = &Value> {
    map.as_object().into_iter().flat_map(|m| m.values())
}

fn array(list: &Value) -> impl Iterator<Item = &Value> {
    list.as_array().into_iter().flatten()
}

/// The interceptor that holds one function's client to its policy.
#[derive(Debug)]
pub struct Enforce(pub Policy);

impl Intercept for Enforce {
    fn name(&self) -> &'static str {
        "TemplatePolicy"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let target = request.headers().get("x-amz-target").unwrap_or_default().to_owned();
        let body: Value = request.body().bytes().and_then(|b| serde_json::from_slice(b).ok()).unwrap_or_default();
        for (action, on, keys) in requested(&target, &body) {
            if let Ok(path) = std::env::var("RALLY_POLICY_LOG") {
                use std::io::Write;
                let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
                let prefixes = keys.iter().map(|k| k.split_inclusive('#').next().unwrap_or(k));
                let lines: String = prefixes
                    .chain(keys.is_empty().then_some("-"))
                    .map(|key| format!("{} {action} {on} {key}\n", self.0.function))
                    .collect();
                // One write, so lines of concurrent calls never interleave.
                file.write_all(lines.as_bytes())?;
            }
            self.0.allows(&action, on, &keys).map_err(|why| format!("AccessDeniedException: {why}"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_like_matches_as_iam_does() {
        assert!(like("POST#*", "POST#a-post"));
        assert!(like("SIGNUP#*", "SIGNUP#"));
        assert!(!like("POST#*", "PETITION#x"));
        assert!(like("*#S?", "PETITION#x#S7"));
        assert!(!like("*#S?", "PETITION#x#S17"));
    }

    #[test]
    fn a_statement_allows_only_its_actions_and_prefixes() {
        let properties: Yaml = serde_yaml_ng::from_str(
            r#"
Policies:
  - Statement:
      - Effect: Allow
        Action: [dynamodb:GetItem, dynamodb:PutItem]
        Resource: !GetAtt Table.Arn
        Condition:
          ForAllValues:StringLike:
            dynamodb:LeadingKeys: ["POST#*", "COMMENT#*"]
      - Effect: Allow
        Action: dynamodb:Query
        Resource: !Sub "${Table.Arn}/index/GSI1"
"#,
        )
        .unwrap();
        let policy = Policy::from_function("CommentsFunction", &properties).unwrap();
        assert!(policy.allows("GetItem", On::Table, &["POST#a".into(), "COMMENT#b".into()]).is_ok());
        let denied = policy.allows("GetItem", On::Table, &["POST#a".into(), "PETITION#p#S1".into()]).unwrap_err();
        assert_eq!(denied, "CommentsFunction may not GetItem the partition PETITION#p#S1");
        assert!(policy.allows("DeleteItem", On::Table, &["POST#a".into()]).is_err());
        assert!(policy.allows("Query", On::Index, &[]).is_ok());
        assert!(policy.allows("Query", On::Table, &["POST#a".into()]).is_err());
    }

    #[test]
    fn a_transaction_asks_for_each_of_its_writes() {
        let body = serde_json::json!({"TransactItems": [
            {"Put": {"Item": {"PK": {"S": "POST#a"}, "SK": {"S": "C#1"}}}},
            {"Update": {"Key": {"PK": {"S": "POST#a"}, "SK": {"S": "#META"}}}},
            {"ConditionCheck": {"Key": {"PK": {"S": "RATE#c#1"}, "SK": {"S": "#META"}}}}
        ]});
        let asked = requested("DynamoDB_20120810.TransactWriteItems", &body);
        let actions: Vec<&str> = asked.iter().map(|(a, _, _)| a.as_str()).collect();
        assert_eq!(actions, ["PutItem", "UpdateItem", "ConditionCheckItem"]);
        assert_eq!(asked[2].2, ["RATE#c#1"]);
    }
}
