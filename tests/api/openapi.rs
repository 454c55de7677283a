//! `openapi.yaml` describes exactly the routes the SAM template deploys (and so the
//! routes the local router serves): a route exists in both or in neither.

use std::collections::BTreeSet;

use serde_yaml_ng::Value;

fn spec() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml");
    serde_yaml_ng::from_str(&std::fs::read_to_string(path).expect("openapi.yaml is readable"))
        .expect("openapi.yaml parses")
}

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

#[test]
fn the_spec_and_the_template_have_the_same_routes() {
    let spec = spec();
    let paths = spec["paths"].as_mapping().expect("the spec has paths");
    let in_spec: BTreeSet<String> = paths
        .iter()
        .flat_map(|(path, operations)| {
            let path = path.as_str().unwrap_or_default().to_owned();
            METHODS
                .iter()
                .filter(|method| operations.get(**method).is_some())
                .map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect();
    let in_template: BTreeSet<String> = crate::helpers::template().routes.iter().map(|r| r.key()).collect();
    let only_spec: Vec<_> = in_spec.difference(&in_template).collect();
    let only_template: Vec<_> = in_template.difference(&in_spec).collect();
    assert!(
        only_spec.is_empty() && only_template.is_empty(),
        "only in openapi.yaml: {only_spec:?}; only in the template: {only_template:?}"
    );
    assert_eq!(in_spec.len(), 52, "{in_spec:?}");
}

#[test]
fn every_operation_documents_its_answers_and_every_reference_resolves() {
    let spec = spec();
    let text = serde_yaml_ng::to_string(&spec).unwrap();
    for (path, operations) in spec["paths"].as_mapping().unwrap() {
        for method in METHODS {
            let Some(operation) = operations.get(method) else { continue };
            let responses = operation["responses"].as_mapping().expect("responses");
            assert!(
                responses.keys().any(|code| code.as_str().is_some_and(|c| c.starts_with('2'))),
                "{method} {path:?} has no success answer"
            );
            let admin = operation
                .get("security")
                .and_then(Value::as_sequence)
                .is_some_and(|s| s.iter().any(|scheme| scheme.get("admin").is_some()));
            if admin {
                assert!(responses.contains_key("401"), "{method} {path:?} is admin-only but documents no 401");
            }
        }
    }
    // Every `$ref` names something in components.
    for reference in text.split("$ref: ").skip(1) {
        let target = reference.split(['\n', '}', ',']).next().unwrap().trim().trim_matches(['"', '\'']);
        let mut node = &spec;
        for part in target.trim_start_matches("#/").split('/') {
            node = node.get(part).unwrap_or_else(|| panic!("dangling $ref {target}"));
        }
    }
}
