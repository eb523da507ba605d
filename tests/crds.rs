//! The CRD files are exactly what `sessionops crds` generates from the Rust types, and they are
//! structural schemas the API server will accept.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn generated_files(dir: &str) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_str().unwrap().to_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

const REGENERATE: &str = "regenerate with `cargo run -- crds --out crds && cargo run -- crds --out charts/sessionops/crds`";

#[test]
fn crd_files_match_the_rust_types() {
    let expected: Vec<(String, String)> = sessionops_api::crds::all()
        .iter()
        .map(|crd| {
            (
                sessionops_api::crds::file_name(crd),
                sessionops_api::crds::to_yaml(crd).unwrap(),
            )
        })
        .collect();
    for dir in ["crds", "charts/sessionops/crds"] {
        let actual = generated_files(dir);
        let names =
            |files: &[(String, String)]| files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(&actual), names(&expected), "{dir}: {REGENERATE}");
        for ((name, actual), (_, expected)) in actual.iter().zip(&expected) {
            assert!(
                actual == expected,
                "{dir}/{name} drifted from the Rust types: {REGENERATE}"
            );
        }
    }
}

#[test]
fn crds_command_prints_the_concatenated_files() {
    let output = Command::new(env!("CARGO_BIN_EXE_sessionops"))
        .arg("crds")
        .output()
        .unwrap();
    assert!(output.status.success());
    let concatenated: String = generated_files("crds")
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    assert!(
        String::from_utf8(output.stdout).unwrap() == concatenated,
        "{REGENERATE}"
    );
}

#[test]
fn crd_yaml_parses_back_into_the_same_crd() {
    for crd in sessionops_api::crds::all() {
        let yaml = sessionops_api::crds::to_yaml(&crd).unwrap();
        let parsed: k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition =
            serde_saphyr::from_str(&yaml).unwrap();
        assert_eq!(parsed, crd);
    }
}

/// Walks a schema, calling `check` with each node's JSON path.
fn walk(path: &str, node: &Value, check: &mut dyn FnMut(&str, &serde_json::Map<String, Value>)) {
    let Value::Object(map) = node else { return };
    check(path, map);
    if let Some(Value::Object(properties)) = map.get("properties") {
        for (name, child) in properties {
            walk(&format!("{path}.{name}"), child, check);
        }
    }
    if let Some(items) = map.get("items") {
        walk(&format!("{path}[]"), items, check);
    }
    if let Some(additional @ Value::Object(_)) = map.get("additionalProperties") {
        walk(&format!("{path}{{}}"), additional, check);
    }
}

#[test]
fn schemas_are_structural_and_documented() {
    for crd in sessionops_api::crds::all() {
        let name = crd.metadata.name.clone().unwrap();
        let version = &crd.spec.versions[0];
        assert!(
            version
                .subresources
                .as_ref()
                .and_then(|s| s.status.as_ref())
                .is_some(),
            "{name}: status subresource"
        );
        let schema = serde_json::to_value(
            version
                .schema
                .as_ref()
                .unwrap()
                .open_api_v3_schema
                .as_ref()
                .unwrap(),
        )
        .unwrap();
        walk("", &schema, &mut |path, node| {
            // Structural schema rules of the API server.
            assert!(
                node.contains_key("type")
                    || node.contains_key("x-kubernetes-int-or-string")
                    || node.contains_key("x-kubernetes-preserve-unknown-fields"),
                "{name}{path}: no type"
            );
            for forbidden in [
                "$ref",
                "oneOf",
                "anyOf",
                "allOf",
                "not",
                "definitions",
                "$schema",
            ] {
                assert!(
                    !node.contains_key(forbidden),
                    "{name}{path}: {forbidden} is not structural"
                );
            }
            assert!(
                !(node.contains_key("properties") && node.contains_key("additionalProperties")),
                "{name}{path}: properties with additionalProperties"
            );
            // `kubectl explain` text for everything a user writes (spec) or reads (status).
            let user_facing = path.starts_with(".spec") || path.starts_with(".status");
            let inside_condition = path.contains(".conditions[]");
            if user_facing && !inside_condition && !path.ends_with("[]") && !path.ends_with("{}") {
                assert!(
                    node.get("description")
                        .and_then(Value::as_str)
                        .is_some_and(|d| !d.is_empty()),
                    "{name}{path}: no description"
                );
            }
        });
    }
}

#[test]
fn kinds_have_short_names_printer_columns_and_a_category() {
    for crd in sessionops_api::crds::all() {
        let name = crd.metadata.name.clone().unwrap();
        assert_eq!(crd.spec.group, "sessionops.io");
        assert!(
            crd.spec
                .names
                .short_names
                .as_ref()
                .is_some_and(|s| !s.is_empty()),
            "{name}"
        );
        assert_eq!(
            crd.spec.names.categories.as_deref(),
            Some(&["sessionops".to_owned()][..]),
            "{name}"
        );
        let columns = crd.spec.versions[0]
            .additional_printer_columns
            .as_ref()
            .expect("printer columns");
        assert!(columns.iter().any(|c| c.name == "Age"), "{name}");
    }
}

#[test]
fn conditions_are_list_maps_keyed_by_type() {
    for crd in sessionops_api::crds::all() {
        let schema = serde_json::to_value(
            crd.spec.versions[0]
                .schema
                .as_ref()
                .unwrap()
                .open_api_v3_schema
                .as_ref()
                .unwrap(),
        )
        .unwrap();
        let conditions = &schema["properties"]["status"]["properties"]["conditions"];
        assert_eq!(
            conditions["x-kubernetes-list-type"], "map",
            "{:?}",
            crd.metadata.name
        );
        assert_eq!(
            conditions["x-kubernetes-list-map-keys"],
            serde_json::json!(["type"])
        );
    }
}
