//! The workspace's shape, as `cargo tree` reports it: dependencies run one way (binary →
//! operator → core → {graph, api}; the simulator only behind the `sim` feature), so a layer
//! cannot start using one above it, and the operator image build carries no simulator.

use std::collections::BTreeSet;
use std::process::Command;

/// The workspace crates `package` depends on (normal and build dependencies, transitively),
/// with `flags` added to `cargo tree`.
fn workspace_dependencies(package: &str, flags: &[&str]) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["tree", "--locked", "--offline", "--edges", "normal,build"])
        .args(["--prefix", "none", "--format", "{p}", "--package", package])
        .args(flags)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != package && is_workspace_crate(name))
        .map(str::to_owned)
        .collect()
}

fn is_workspace_crate(name: &str) -> bool {
    name == "sessionops" || name.starts_with("sessionops-") || name == "graph-sim"
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

#[test]
fn dependencies_run_one_way() {
    let expected: [(&str, &[&str]); 6] = [
        ("sessionops-api", &[]),
        ("sessionops-graph", &[]),
        ("graph-sim", &[]),
        ("sessionops-core", &["sessionops-api", "sessionops-graph"]),
        (
            "sessionops-operator",
            &["sessionops-api", "sessionops-graph", "sessionops-core"],
        ),
        (
            "sessionops",
            &[
                "sessionops-api",
                "sessionops-graph",
                "sessionops-core",
                "sessionops-operator",
                "graph-sim",
            ],
        ),
    ];
    for (package, dependencies) in expected {
        assert_eq!(
            workspace_dependencies(package, &[]),
            set(dependencies),
            "{package}"
        );
    }
}

#[test]
fn the_operator_image_build_has_no_simulator() {
    // The Dockerfile's build (tests/chart.rs checks it uses these flags).
    let image = workspace_dependencies("sessionops", &["--no-default-features"]);
    assert!(!image.contains("graph-sim"), "{image:?}");
    assert!(!image.contains("sessionops-testkit"), "{image:?}");
    assert!(image.contains("sessionops-operator"), "{image:?}");
}
