//! Security headers, admin authentication on every admin route, and no secrets in the
//! template. (CORS for configured origins only is in `local_router.rs`.) The token check
//! compares SHA-256 digests with `subtle`'s constant-time equality; that is code, not a
//! timing test, since tests never measure time.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, template};

/// Fills a route's path parameters with values of the right shape.
fn concrete(path: &str) -> String {
    path.replace("{slug}", "some-post")
        .replace("{id}", "01J00000000000000000000000")
        .replace("{token}", &"ab".repeat(32))
}

/// Every route under `/admin/` but the console's own script and styles (the console page
/// itself, `/admin`, is public too: it holds no data and asks for the token).
fn is_admin_route(method: &str, path: &str) -> bool {
    (path.starts_with("/admin/") && !path.starts_with("/admin/console."))
        || (path.starts_with("/posts") && !path.contains("/comments") && method != "GET")
        || ((path == "/petitions" || path == "/pledges") && method == "POST")
        || ((path == "/petitions/{slug}" || path == "/pledges/{slug}") && method == "PUT")
}

#[tokio::test]
async fn every_answer_of_every_route_says_nosniff() {
    let app = TestApp::spawn().await;
    let routes = template().routes;
    assert_eq!(routes.len(), 52);
    for route in routes {
        let url = app.url(&concrete(&route.path));
        let method = Method::from_bytes(route.method.as_bytes()).unwrap();
        let mut request = app.http.request(method, url).header("origin", "https://blog.example");
        if matches!(route.method.as_str(), "POST" | "PUT") {
            request = request.json(&json!({}));
        }
        let answer = request.send().await.unwrap();
        assert_eq!(
            answer.headers().get("x-content-type-options").map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "{} {} answered {} without nosniff",
            route.method,
            route.path,
            answer.status()
        );
        assert!(answer.status() != StatusCode::INTERNAL_SERVER_ERROR, "{} {}", route.method, route.path);
    }
}

#[tokio::test]
async fn admin_routes_refuse_a_missing_wrong_or_malformed_token() {
    let app = TestApp::spawn().await;
    let admin: Vec<_> = template().routes.into_iter().filter(|r| is_admin_route(&r.method, &r.path)).collect();
    assert_eq!(admin.len(), 24, "{admin:?}");
    let long = format!("Bearer {}", "a".repeat(10_000));
    let wrong = format!("Bearer {}", crate::helpers::ADMIN_TOKEN.to_uppercase());
    let almost = format!("Bearer {}x", crate::helpers::ADMIN_TOKEN);
    let basic = format!("Basic {}", crate::helpers::ADMIN_TOKEN);
    let bare = crate::helpers::ADMIN_TOKEN.to_owned();
    let tokens: [Option<&str>; 8] =
        [None, Some(""), Some("Bearer"), Some("Bearer "), Some(&wrong), Some(&almost), Some(&basic), Some(&long)];
    for route in &admin {
        for token in tokens.iter().copied().chain([Some(bare.as_str())]) {
            let method = Method::from_bytes(route.method.as_bytes()).unwrap();
            let mut request = app.http.request(method, app.url(&concrete(&route.path)));
            if let Some(token) = token {
                request = request.header("authorization", token);
            }
            if matches!(route.method.as_str(), "POST" | "PUT") {
                request = request.json(&json!({"slug": "x", "title": "t", "body": "b", "author": "a"}));
            }
            let answer = app.send(request).await;
            assert_eq!(
                (answer.status, answer.code()),
                (StatusCode::UNAUTHORIZED, "unauthorized"),
                "{} {} with {:?}",
                route.method,
                route.path,
                token.map(|t| &t[..t.len().min(20)])
            );
        }
    }
}

#[tokio::test]
async fn html_pages_carry_a_strict_content_security_policy() {
    let app = TestApp::spawn_with(|config| config.writes_per_minute = 1_000).await;
    let petition = json!({"slug": "csp", "title": "P", "body": "B", "target": "T", "goal": 10});
    assert_eq!(app.send(app.admin(Method::POST, "/petitions").json(&petition)).await.status, StatusCode::CREATED);
    let sign = json!({"name": "A", "email": "a@example.org", "public": false, "consent": true});
    assert_eq!(
        app.send(app.http.post(app.url("/petitions/csp/signatures")).json(&sign)).await.status,
        StatusCode::ACCEPTED
    );
    let link = app.stack.mails().await[0].links[0].clone();
    let path = link.split_once("/confirm/").map(|(_, t)| format!("/confirm/{t}")).unwrap();
    let pages = [
        (app.http.get(app.url(&path)), StatusCode::OK),
        (app.http.get(app.url(&format!("/confirm/{}", "cd".repeat(32)))), StatusCode::NOT_FOUND),
        (app.http.get(app.url("/confirm/not-a-token")), StatusCode::NOT_FOUND),
        (
            app.http
                .post(app.url(&path))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "text/html"),
            StatusCode::OK,
        ),
    ];
    for (request, status) in pages {
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), status);
        let headers = answer.headers().clone();
        assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-eval") && csp.contains("form-action 'self'"), "{csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer", "a token in the URL must not leak to other sites");
        assert!(answer.text().await.unwrap().contains("<!doctype html>"));
    }
}

#[test]
fn the_template_holds_no_secret() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    let template: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let parameter = &template["Parameters"]["AdminTokenSha256"];
    assert_eq!(parameter["NoEcho"].as_bool(), Some(true), "AdminTokenSha256 must be NoEcho");
    assert!(parameter.get("Default").is_none(), "AdminTokenSha256 must have no default");
    // The hashing secret is generated in Secrets Manager and kept with the table.
    let secret = &template["Resources"]["HashSecret"];
    assert_eq!(secret["Type"].as_str(), Some("AWS::SecretsManager::Secret"));
    assert_eq!(secret["DeletionPolicy"].as_str(), Some("Retain"));
    assert_eq!(secret["Properties"]["GenerateSecretString"]["GenerateStringKey"].as_str(), Some("hash_secret"));
    // No hash, key or token written into it.
    let hex_run = text
        .split(|c: char| !c.is_ascii_hexdigit())
        .filter(|run| run.len() >= 32 && run.chars().any(|c| c.is_ascii_digit()))
        .count();
    assert_eq!(hex_run, 0, "a long hexadecimal value is written in the template");
    for word in ["AKIA", "aws_secret_access_key", "BEGIN PRIVATE KEY"] {
        assert!(!text.contains(word), "{word} in the template");
    }
}

/// The template's DynamoDB policies, as the local stack enforces them on every call of
/// every test: each function reaches only the partitions it owns.
#[test]
fn each_function_reaches_only_the_partitions_it_owns() {
    use local_stack::policy::On;
    let template = crate::helpers::template();
    let policy = |binary: &str| template.policies.get(binary).unwrap_or_else(|| panic!("{binary} has a policy"));
    for (binary, policy) in &template.policies {
        assert!(policy.scoped_by_leading_keys(), "{binary}'s table access names its partitions");
    }
    let keys = |k: &[&str]| k.iter().map(|k| (*k).to_owned()).collect::<Vec<_>>();
    let signup = keys(&["PETITION#free-them#S3"]);
    assert!(policy("comments").allows("GetItem", On::Table, &keys(&["POST#a-post"])).is_ok());
    for action in ["GetItem", "Query", "BatchGetItem"] {
        let denied = policy("comments").allows(action, On::Table, &signup);
        assert!(denied.is_err(), "the comments function may not {action} a signup");
    }
    assert!(policy("posts").allows("GetItem", On::Table, &keys(&["TOKEN#abc"])).is_err());
    assert!(policy("posts").allows("GetItem", On::Table, &keys(&["MAILBOX#abc"])).is_err());
    assert!(policy("pledges").allows("GetItem", On::Table, &signup).is_err(), "pledges never read a petition");
    assert!(policy("petitions").allows("GetItem", On::Table, &signup).is_ok());
    assert!(
        policy("widget").allows("GetItem", On::Table, &keys(&["POST#a-post"])).is_err(),
        "the widget holds no data"
    );
    assert!(policy("events").allows("Scan", On::Table, &[]).is_err(), "no function scans the table");
}

/// Every route a stranger writes through has a throttle of its own, below the API's
/// default, and the access log keeps neither the client's address nor the path.
#[test]
fn write_routes_are_throttled_and_the_access_log_names_nobody() {
    let text = std::fs::read_to_string(local_stack::template::default_path()).unwrap();
    let template: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let api = &template["Resources"]["Api"]["Properties"];
    let throttled = api["RouteSettings"].as_mapping().expect("RouteSettings");
    // The writes anyone may send: every operation of the contract but reads and those
    // behind the admin token.
    let spec: serde_yaml_ng::Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml")).unwrap(),
    )
    .unwrap();
    let mut writes = Vec::new();
    for (path, operations) in spec["paths"].as_mapping().unwrap() {
        for (method, operation) in operations.as_mapping().unwrap() {
            let method = method.as_str().unwrap();
            let admin = operation["security"]
                .as_sequence()
                .is_some_and(|s| !s.is_empty() && s.iter().all(|r| r.get("admin").is_some()));
            if ["post", "put", "delete", "patch"].contains(&method) && !admin {
                writes.push(format!("{} {}", method.to_uppercase(), path.as_str().unwrap()));
            }
        }
    }
    assert!(writes.len() >= 9, "{writes:?}");
    for route in &writes {
        let settings = throttled.get(route.as_str()).unwrap_or_else(|| panic!("{route} has no throttle of its own"));
        assert!(settings.get("ThrottlingRateLimit").is_some() && settings.get("ThrottlingBurstLimit").is_some());
    }
    let format = api["AccessLogSettings"]["Format"].as_str().expect("an access log");
    for forbidden in ["sourceIp", "$context.path", "userAgent", "identity"] {
        assert!(!format.contains(forbidden), "the access log keeps {forbidden}: {format}");
    }
    assert!(format.contains("$context.routeKey") && format.contains("$context.status"), "{format}");
}

/// What a careful operator watches: alarms on API 5xx, function errors and throttles,
/// ERROR log lines of every function, the failure queue and SES's reputation, each
/// telling the alarm topic; every function logs JSON to a group that expires.
#[test]
fn the_stack_is_watched() {
    let text = std::fs::read_to_string(local_stack::template::default_path()).unwrap();
    let template: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let resources = template["Resources"].as_mapping().unwrap();
    let of_type = |kind: &str| -> Vec<(&str, &serde_yaml_ng::Value)> {
        resources
            .iter()
            .filter(|(_, r)| r["Type"].as_str() == Some(kind))
            .map(|(name, r)| (name.as_str().unwrap(), &r["Properties"]))
            .collect()
    };
    let mut watched: Vec<String> = Vec::new();
    for (name, alarm) in of_type("AWS::CloudWatch::Alarm") {
        let actions = format!("{:?}", alarm["AlarmActions"]);
        assert!(actions.contains("AlarmTopic"), "{name} tells nobody");
        let metrics = format!("{:?} {:?}", alarm["MetricName"], alarm["Metrics"]);
        watched.extend(
            [
                "5xx",
                "Errors",
                "Throttles",
                "ErrorLogLines",
                "ApproximateNumberOfMessagesVisible",
                "BounceRate",
                "ComplaintRate",
            ]
            .iter()
            .filter(|m| metrics.contains(*m))
            .map(|m| (*m).to_owned()),
        );
    }
    watched.sort();
    watched.dedup();
    assert_eq!(watched.len(), 7, "{watched:?}");
    let functions = of_type("AWS::Serverless::Function");
    let filters = of_type("AWS::Logs::MetricFilter");
    for (name, function) in &functions {
        assert_eq!(function["LoggingConfig"]["LogFormat"].as_str(), Some("JSON"), "{name}");
        let group = format!("{:?}", function["LoggingConfig"]["LogGroup"]);
        let group = group.split('"').nth(1).map(str::to_owned).unwrap_or_default();
        assert!(
            !template["Resources"][group.as_str()]["Properties"]["RetentionInDays"].is_null(),
            "{name}'s logs expire"
        );
        assert!(
            filters.iter().any(|(_, f)| format!("{:?}", f["LogGroupName"]).contains(&group)
                && f["FilterPattern"].as_str().is_some_and(|p| p.contains("ERROR"))),
            "{name}'s ERROR lines are counted"
        );
    }
}
