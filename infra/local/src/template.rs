//! Reads `infra/template.yaml`, the one source of truth for the table and the routes, so
//! the local stack cannot drift from what `sam deploy` creates.

use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;

/// The parsed template: the table's definition, every `HttpApi` route, and the
/// function the table's stream feeds.
#[derive(Debug, Clone)]
pub struct Template {
    pub table: Value,
    pub routes: Vec<Route>,
    pub cors: Cors,
    pub stream: Option<StreamEvent>,
    pub schedules: Vec<ScheduleEvent>,
    /// Each function's DynamoDB permissions, by binary.
    pub policies: std::collections::HashMap<String, crate::policy::Policy>,
    /// Functions subscribed to an SNS topic, by the topic's logical id.
    pub sns: Vec<SnsEvent>,
}

/// A function's `SNS` event: the topic's messages are delivered to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsEvent {
    pub topic: String,
    pub binary: String,
}

/// A function's `Schedule` event: EventBridge invokes it every `period`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleEvent {
    pub name: String,
    pub binary: String,
    /// From `rate(N unit)`.
    pub period: std::time::Duration,
}

/// The period of a `rate(…)` schedule expression (`cron(…)` is not read).
pub fn rate(expression: &str) -> Option<std::time::Duration> {
    let inner = expression.trim().strip_prefix("rate(")?.strip_suffix(')')?;
    let (count, unit) = inner.trim().split_once(' ')?;
    let count: u64 = count.parse().ok().filter(|n| *n > 0)?;
    let unit_secs = match unit.trim() {
        "minute" | "minutes" => 60,
        "hour" | "hours" => 3600,
        "day" | "days" => 86_400,
        _ => return None,
    };
    Some(std::time::Duration::from_secs(count * unit_secs))
}

/// A function's `DynamoDB` event: how Lambda feeds it the table's stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamEvent {
    /// The cargo binary of the function it invokes.
    pub binary: String,
    pub batch_size: usize,
    /// `TRIM_HORIZON` (every record the stream still has) or `LATEST`.
    pub starting_position: String,
    pub bisect_on_error: bool,
    /// Retries after the first attempt; `None` is Lambda's default, until the record expires.
    pub maximum_retry_attempts: Option<u32>,
    pub maximum_record_age_secs: Option<i64>,
    pub report_batch_item_failures: bool,
    /// Each filter's pattern, as JSON: a record is delivered when any one matches.
    pub filters: Vec<serde_json::Value>,
}

/// One `HttpApi` event: `method path` served by the function whose cargo binary is `binary`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    pub path: String,
    pub binary: String,
}

impl Route {
    /// The route key API Gateway puts in the event, e.g. `GET /posts/{slug}`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// The `HttpApi`'s CORS configuration, which API Gateway applies in front of the functions.
#[derive(Debug, Clone, Default)]
pub struct Cors {
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub max_age: Option<u64>,
}

/// The template that ships with this checkout.
pub fn default_path() -> PathBuf {
    checkout().join("infra/template.yaml")
}

/// The top of the checkout: the working directory when it is one (`make` runs there),
/// else the one this was built from. The build's path alone can name another clone
/// whose build cache this one reused.
pub fn checkout() -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::env::current_dir()
        .ok()
        .into_iter()
        .flat_map(|dir| dir.ancestors().map(Path::to_path_buf).collect::<Vec<_>>())
        .find(|dir| dir.join("infra/template.yaml").is_file() && dir.join("openapi.yaml").is_file())
        .unwrap_or(built)
}

impl Template {
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let doc: Value = serde_yaml_ng::from_str(text).map_err(|e| format!("template: {e}"))?;
        let resources = doc.get("Resources").and_then(Value::as_mapping).ok_or("template: no Resources")?;
        let mut table = None;
        let mut routes = Vec::new();
        let mut cors = Cors::default();
        let mut stream = None;
        let mut schedules = Vec::new();
        let mut sns = Vec::new();
        let mut policies = std::collections::HashMap::new();
        for (name, resource) in resources {
            let name = name.as_str().unwrap_or_default();
            let properties = resource.get("Properties").cloned().unwrap_or(Value::Null);
            match resource.get("Type").and_then(Value::as_str) {
                Some("AWS::DynamoDB::Table") if table.is_some() => {
                    return Err("template: more than one DynamoDB table".into());
                }
                Some("AWS::DynamoDB::Table") => table = Some(properties),
                Some("AWS::Serverless::HttpApi") => {
                    if let Some(config) = properties.get("CorsConfiguration") {
                        cors = Cors {
                            allow_methods: strings(config.get("AllowMethods")),
                            allow_headers: strings(config.get("AllowHeaders")),
                            max_age: config.get("MaxAge").and_then(Value::as_u64),
                        };
                    }
                }
                Some("AWS::Serverless::Function") => {
                    let binary = resource
                        .get("Metadata")
                        .and_then(|m| m.get("BuildProperties"))
                        .and_then(|b| b.get("Binary"))
                        .and_then(Value::as_str)
                        .ok_or_else(|| format!("template: {name} has no Metadata.BuildProperties.Binary"))?;
                    policies.insert(binary.to_owned(), crate::policy::Policy::from_function(name, &properties)?);
                    let events = properties.get("Events").and_then(Value::as_mapping).into_iter().flatten();
                    for (event_name, event) in events {
                        if event.get("Type").and_then(Value::as_str) == Some("SNS") {
                            // `Topic: !Ref Name` reads back as a tagged value.
                            let topic = event.get("Properties").and_then(|p| p.get("Topic"));
                            let topic = match topic {
                                Some(Value::Tagged(tagged)) => tagged.value.as_str().map(str::to_owned),
                                Some(other) => other.as_str().map(str::to_owned),
                                None => None,
                            };
                            let topic =
                                topic.ok_or_else(|| format!("template: an SNS event of {name} names no topic"))?;
                            sns.push(SnsEvent { topic, binary: binary.to_owned() });
                            continue;
                        }
                        if event.get("Type").and_then(Value::as_str) == Some("Schedule") {
                            let expression = event
                                .get("Properties")
                                .and_then(|p| p.get("Schedule"))
                                .and_then(Value::as_str)
                                .unwrap_or_default();
                            let period = rate(expression).ok_or_else(|| {
                                format!("template: {name} has a schedule that is not rate(…): {expression}")
                            })?;
                            let event_name = event_name.as_str().unwrap_or_default().to_owned();
                            schedules.push(ScheduleEvent { name: event_name, binary: binary.to_owned(), period });
                            continue;
                        }
                        if event.get("Type").and_then(Value::as_str) == Some("DynamoDB") {
                            if stream.is_some() {
                                return Err("template: more than one DynamoDB stream event".into());
                            }
                            stream = Some(StreamEvent::parse(binary, event.get("Properties"))?);
                            continue;
                        }
                        if event.get("Type").and_then(Value::as_str) != Some("HttpApi") {
                            continue;
                        }
                        let props = event.get("Properties");
                        let field =
                            |key: &str| props.and_then(|p| p.get(key)).and_then(Value::as_str).map(str::to_owned);
                        let (Some(method), Some(path)) = (field("Method"), field("Path")) else {
                            return Err(format!("template: an HttpApi event of {name} lacks Method or Path"));
                        };
                        routes.push(Route { method: method.to_ascii_uppercase(), path, binary: binary.to_owned() });
                    }
                }
                _ => {}
            }
        }
        Ok(Self { table: table.ok_or("template: no DynamoDB table")?, routes, cors, stream, schedules, sns, policies })
    }
}

impl StreamEvent {
    fn parse(binary: &str, props: Option<&Value>) -> Result<Self, String> {
        let props = props.ok_or("template: a DynamoDB event without Properties")?;
        let number = |key: &str| props.get(key).and_then(Value::as_i64);
        let filters = props
            .get("FilterCriteria")
            .and_then(|f| f.get("Filters"))
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .map(|filter| {
                let pattern =
                    filter.get("Pattern").and_then(Value::as_str).ok_or("template: a filter without Pattern")?;
                serde_json::from_str(pattern).map_err(|e| format!("template: filter pattern {pattern}: {e}"))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self {
            binary: binary.to_owned(),
            // Lambda's defaults for a DynamoDB stream.
            batch_size: number("BatchSize").unwrap_or(100).clamp(1, 10_000) as usize,
            starting_position: props
                .get("StartingPosition")
                .and_then(Value::as_str)
                .ok_or("template: a DynamoDB event without StartingPosition")?
                .to_owned(),
            bisect_on_error: props.get("BisectBatchOnFunctionError").and_then(Value::as_bool).unwrap_or(false),
            maximum_retry_attempts: number("MaximumRetryAttempts").filter(|n| *n >= 0).map(|n| n as u32),
            maximum_record_age_secs: number("MaximumRecordAgeInSeconds").filter(|n| *n >= 0),
            report_batch_item_failures: strings(props.get("FunctionResponseTypes"))
                .iter()
                .any(|t| t == "ReportBatchItemFailures"),
            filters,
        })
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value.and_then(Value::as_sequence).into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_shipped_template() {
        let template = Template::load(&default_path()).unwrap();
        assert!(template.routes.contains(&Route {
            method: "GET".into(),
            path: "/posts/{slug}".into(),
            binary: "posts".into()
        }));
        assert!(template.table.get("KeySchema").is_some());
        assert!(template.cors.allow_headers.iter().any(|h| h == "authorization"));
        let stream = template.stream.expect("the events function reads the table's stream");
        assert_eq!(stream.binary, "events");
        assert!(stream.report_batch_item_failures && stream.bisect_on_error);
        assert!(!stream.filters.is_empty());
        assert!(template.schedules.iter().any(|s| s.binary == "events"));
        assert_eq!(template.sns, [SnsEvent { topic: "MailFeedbackTopic".into(), binary: "events".into() }]);
    }

    #[test]
    fn rates_are_read() {
        assert_eq!(rate("rate(5 minutes)"), Some(std::time::Duration::from_secs(300)));
        assert_eq!(rate("rate(1 hour)"), Some(std::time::Duration::from_secs(3600)));
        assert_eq!(rate("rate(0 minutes)"), None);
        assert_eq!(rate("cron(0 12 * * ? *)"), None);
    }

    #[test]
    fn a_function_without_its_binary_is_an_error() {
        let text = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {}\n";
        assert!(Template::parse(text).unwrap_err().contains("Binary"));
    }
}
