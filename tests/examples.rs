//! Every example validates; every file in examples/invalid/ is rejected for the rule it names,
//! with the field path and reason its header announces; the CLI exits 1 and names them.

use std::path::{Path, PathBuf};
use std::process::Command;

use sessionops_api::manifest::{self, Object};

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

fn invalid_examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(examples_dir().join("invalid"))
        .expect("examples/invalid exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// The `# key: value` header lines of an invalid example.
fn header(path: &Path, key: &str) -> String {
    let text = std::fs::read_to_string(path).expect("readable example");
    let prefix = format!("# {key}: ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("{} has no '{prefix}' header", path.display()))
        .to_owned()
}

#[test]
fn every_valid_example_loads() {
    let set = manifest::load(&[examples_dir()], false).unwrap_or_else(|e| panic!("{e}"));
    let count = |kind: &str| {
        set.objects
            .iter()
            .filter(|o| o.object.kind().as_str() == kind)
            .count()
    };
    assert_eq!(count("ClusterTenantConnection"), 2);
    assert_eq!(count("TenantConnection"), 1);
    assert!(
        count("SessionPolicy") >= 4,
        "the four policies of the foundation issue"
    );
    assert_eq!(count("RevocationRequest"), 2);
    assert!(set.skipped.is_empty());
    // Not read: examples/invalid/ is a subdirectory and -R was not given.
    assert!(
        set.objects
            .iter()
            .all(|o| !o.source.file.starts_with(examples_dir().join("invalid")))
    );
}

/// Every kind of the registry is shown by at least one example (a new kind comes with one).
#[test]
fn every_kind_has_a_valid_example() {
    let set = manifest::load(&[examples_dir()], false).unwrap_or_else(|e| panic!("{e}"));
    for info in sessionops_api::KINDS {
        assert!(
            set.objects.iter().any(|o| o.object.kind() == info.kind),
            "no example in examples/ is a {}",
            info.name
        );
    }
}

#[test]
fn examples_carry_their_defaults() {
    let set = manifest::load(
        &[examples_dir().join("revocation-offboard-jdoe.yaml")],
        false,
    )
    .unwrap();
    let Object::RevocationRequest(request) = &set.objects[0].object else {
        panic!("expected a RevocationRequest");
    };
    assert!(request.spec.verify);
    assert!(!request.spec.dry_run);
    assert_eq!(request.spec.max_targets, 1);
    let set = manifest::load(
        &[examples_dir().join("policy-sign-in-every-12h.yaml")],
        false,
    )
    .unwrap();
    let Object::SessionPolicy(policy) = &set.objects[0].object else {
        panic!("expected a SessionPolicy");
    };
    assert_eq!(
        policy.spec.deletion_policy,
        sessionops_api::DeletionPolicy::Delete
    );
}

#[test]
fn at_least_fifteen_invalid_examples_each_naming_its_rule() {
    let files = invalid_examples();
    assert!(files.len() >= 15, "only {} invalid examples", files.len());
    for file in &files {
        assert!(!header(file, "rule").is_empty());
    }
}

#[test]
fn every_invalid_example_is_rejected_for_its_rule() {
    for file in invalid_examples() {
        let expected_field = header(&file, "expect-field");
        let expected_reason = header(&file, "expect-reason");
        let errors = match manifest::load(std::slice::from_ref(&file), false) {
            Ok(_) => panic!("{} was accepted", file.display()),
            Err(errors) => errors.0,
        };
        assert_eq!(
            errors.len(),
            1,
            "{}: one rule broken, one error expected: {errors:?}",
            file.display()
        );
        let error = &errors[0];
        assert_eq!(error.file, file.display().to_string());
        assert_eq!(error.document, Some(1));
        assert_eq!(
            error.field,
            expected_field,
            "{}: wrong field in {error}",
            file.display()
        );
        assert!(
            error.reason.contains(&expected_reason),
            "{}: reason {:?} does not contain {expected_reason:?}",
            file.display(),
            error.reason
        );
    }
}

fn sessionops(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sessionops"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("sessionops runs")
}

#[test]
fn plan_of_an_invalid_manifest_exits_1_naming_file_field_and_reason() {
    for file in invalid_examples() {
        let relative = file
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let output = sessionops(&["plan", "-f", &relative]);
        assert_eq!(output.status.code(), Some(1), "{relative}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(&relative), "{relative}: {stderr}");
        assert!(
            stderr.contains(&header(&file, "expect-field")),
            "{relative}: {stderr}"
        );
        assert!(
            stderr.contains(&header(&file, "expect-reason")),
            "{relative}: {stderr}"
        );
        assert!(
            stderr.contains("nothing was sent to the tenant"),
            "{relative}: {stderr}"
        );
        assert!(
            output.stdout.is_empty(),
            "{relative}: no plan output for invalid input"
        );
    }
}

#[test]
fn json_errors_carry_file_document_field_and_reason() {
    let output = sessionops(&[
        "validate",
        "-o",
        "json",
        "-f",
        "examples/invalid/policy-sign-in-frequency-24h.yaml",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let body: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(body["valid"], false);
    assert_eq!(body["reason"], "InvalidSpec");
    let error = &body["errors"][0];
    assert_eq!(
        error["file"],
        "examples/invalid/policy-sign-in-frequency-24h.yaml"
    );
    assert_eq!(error["document"], 1);
    assert_eq!(error["object"], "SessionPolicy identity/sif");
    assert_eq!(error["field"], "spec.session.signInFrequency");
}

#[test]
fn recursive_validation_of_examples_reports_every_invalid_file() {
    let output = sessionops(&["validate", "-R", "-f", "examples/"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for file in invalid_examples() {
        let name = file.file_name().unwrap().to_str().unwrap();
        assert!(stderr.contains(name), "{name} missing from {stderr}");
    }
}

#[test]
fn validate_accepts_the_examples() {
    let output = sessionops(&["validate", "-f", "examples/"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Without a cluster the operator stops at once with a clear error, not a crash loop of watch
/// failures, and prints nothing on stdout.
#[test]
fn the_operator_without_a_cluster_says_why_and_exits_1() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_sessionops"))
        .args([
            "operator",
            "--metrics-addr",
            "127.0.0.1:0",
            "--log-format",
            "text",
        ])
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        output.stdout.is_empty(),
        "printed output it cannot stand behind"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot configure the Kubernetes client (in-cluster or KUBECONFIG)"),
        "{stderr}"
    );
}

#[test]
fn a_revocation_without_its_connection_is_refused_before_any_graph_call() {
    let output = sessionops(&["apply", "-f", "examples/revocation-offboard-jdoe.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("RevocationRequest security/offboard-jdoe-hr4411")
            && stdout.contains("TenantConnectionNotFound"),
        "{stdout}"
    );
    assert!(
        !Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/.sessionops")
            .exists(),
        "no state written for a request that did not run"
    );
}
