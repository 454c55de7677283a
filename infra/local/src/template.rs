//! Reads `infra/template.yaml`, the one source of truth for the table and the routes, so
//! the local stack cannot drift from what `sam deploy` creates.

use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;

/// The parsed template: the table's definition and every `HttpApi` route.
#[derive(Debug, Clone)]
pub struct Template {
    pub table: Value,
    pub routes: Vec<Route>,
    pub cors: Cors,
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
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml")
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
                    let events = properties.get("Events").and_then(Value::as_mapping).into_iter().flatten();
                    for (_, event) in events {
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
        Ok(Self { table: table.ok_or("template: no DynamoDB table")?, routes, cors })
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
    }

    #[test]
    fn a_function_without_its_binary_is_an_error() {
        let text = "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {}\n";
        assert!(Template::parse(text).unwrap_err().contains("Binary"));
    }
}
