//! The Helm chart (`charts/sessionops`) and the Dockerfile, checked without helm or docker.
//!
//! Templates are read with a small scanner of Go-template actions that understands `{{ }}`
//! delimiters, trim markers, comments, string literals and the scopes that `with`, `range`,
//! `else` and `define` open. It resolves every `.Values` reference (absolute, `$.Values`, and
//! relative to a `with .Values.x` scope) and turns a template into YAML by dropping lines that
//! hold only actions and replacing inline actions with placeholders. That is enough to check
//! what matters without rendering: every referenced value exists and every value is used and
//! documented, the RBAC rules are exactly the ones in `crates/operator/src/rbac.rs`, the Deployment
//! is locked down and passes only flags that `sessionops operator` accepts.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use sessionops_operator::rbac::{Rule, cluster_rules, namespace_rules};
use sessionops_testkit::chart::{RefKind, Scan, ValuesRef, is_ident, scan, validate};

// ---------------------------------------------------------------------------------------------
// Files

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn chart() -> PathBuf {
    repo().join("charts/sessionops")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn template(name: &str) -> String {
    read(&chart().join("templates").join(name))
}

fn yaml(text: &str, what: &str) -> Value {
    serde_saphyr::from_str::<Value>(text).unwrap_or_else(|e| panic!("{what}: not YAML: {e}"))
}

fn values() -> Value {
    yaml(&read(&chart().join("values.yaml")), "values.yaml")
}

/// Every file in `templates/`, sorted by name.
fn templates() -> Vec<(String, String)> {
    let dir = chart().join("templates");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .map(|path| {
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            (name, read(&path))
        })
        .collect();
    files.sort();
    assert!(
        files.iter().any(|(name, _)| name == "deployment.yaml"),
        "no templates found in {}",
        dir.display()
    );
    files
}

/// The value at a dotted path, walking objects only.
fn lookup<'a>(values: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter()
        .try_fold(values, |value, key| value.as_object()?.get(key))
}

/// Paths of the leaves of values.yaml: scalars, lists and empty maps. A non-empty map is
/// descended into.
fn leaf_paths(value: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match value.as_object() {
        Some(map) if !map.is_empty() => {
            for (key, child) in map {
                prefix.push(key.clone());
                leaf_paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => out.push(prefix.clone()),
    }
}

fn dotted(path: &[String]) -> String {
    path.join(".")
}

fn scan_template(name: &str) -> Scan {
    scan(name, &template(name))
}

// ---------------------------------------------------------------------------------------------
// Values: referenced, used, documented, validated

fn all_refs() -> Vec<ValuesRef> {
    templates()
        .iter()
        .flat_map(|(name, source)| scan(name, source).refs)
        .collect()
}

#[test]
fn every_values_reference_in_the_templates_exists_in_values_yaml() {
    let values = values();
    let refs = all_refs();
    assert!(refs.len() > 40, "suspiciously few references: {refs:#?}");
    let missing: Vec<String> = refs
        .iter()
        .filter(|r| lookup(&values, &r.path).is_none())
        .map(|r| {
            format!(
                "templates/{}:{}: .Values.{} is not in values.yaml",
                r.file,
                r.line,
                dotted(&r.path)
            )
        })
        .collect();
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn every_value_in_values_yaml_is_used_by_a_template() {
    let mut leaves = Vec::new();
    leaf_paths(&values(), &mut Vec::new(), &mut leaves);
    let uses: Vec<Vec<String>> = all_refs()
        .into_iter()
        .filter(|r| r.kind == RefKind::Use)
        .map(|r| r.path)
        .collect();
    let unused: Vec<String> = leaves
        .iter()
        .filter(|leaf| !uses.iter().any(|used| leaf.starts_with(used)))
        .map(|leaf| dotted(leaf))
        .collect();
    assert!(
        unused.is_empty(),
        "values.yaml keys no template reads (a value that does nothing misleads users): {unused:?}"
    );
}

/// A key of values.yaml as written: its path, the text after the colon, its `# --` comment.
#[derive(Debug)]
struct ValuesKey {
    path: String,
    raw: String,
    description: Option<String>,
    default_note: Option<String>,
}

/// Reads values.yaml as text, the way helm-docs does: a `# --` comment right above a key
/// documents it; `# @default --` overrides the default shown.
fn values_keys() -> Vec<ValuesKey> {
    let text = read(&chart().join("values.yaml"));
    let mut keys = Vec::new();
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut comment: Vec<String> = Vec::new();
    let mut list_owner: Option<usize> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            comment.clear();
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if list_owner.is_some_and(|owner| indent > owner) {
            continue;
        }
        list_owner = None;
        if trimmed.starts_with('#') {
            comment.push(trimmed.to_owned());
            continue;
        }
        if trimmed.starts_with('-') {
            // Items of a block list: part of the owning key's value.
            list_owner = Some(stack.last().map_or(0, |(i, _)| *i));
            comment.clear();
            continue;
        }
        let (key, raw) = trimmed
            .split_once(':')
            .unwrap_or_else(|| panic!("values.yaml: cannot read {line:?}"));
        assert!(
            key.chars().all(is_ident),
            "values.yaml: unexpected key {key:?}"
        );
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        stack.push((indent, key.to_owned()));
        let path = stack
            .iter()
            .map(|(_, k)| k.as_str())
            .collect::<Vec<_>>()
            .join(".");
        let start = comment.iter().position(|c| c.starts_with("# --"));
        let (description, default_note) = match start {
            Some(start) => {
                let block = &comment[start..];
                let description = block
                    .iter()
                    .filter(|c| !c.starts_with("# @default"))
                    .map(|c| c.trim_start_matches("# --").trim_start_matches('#').trim())
                    .collect::<Vec<_>>()
                    .join(" ");
                let note = block
                    .iter()
                    .find_map(|c| c.strip_prefix("# @default --"))
                    .map(|n| n.trim().to_owned());
                (Some(description), note)
            }
            None => (None, None),
        };
        keys.push(ValuesKey {
            path,
            raw: raw.trim().to_owned(),
            description,
            default_note,
        });
        comment.clear();
    }
    keys
}

#[test]
fn every_value_is_documented_in_values_yaml_and_the_chart_readme() {
    let values = values();
    let keys = values_keys();

    // The text reading sees exactly the keys the YAML parser sees.
    let mut parsed = BTreeSet::new();
    fn all_keys(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
        if let Some(map) = value.as_object() {
            for (key, child) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                out.insert(path.clone());
                all_keys(child, &path, out);
            }
        }
    }
    all_keys(&values, "", &mut parsed);
    let read_as_text: BTreeSet<String> = keys.iter().map(|k| k.path.clone()).collect();
    assert_eq!(read_as_text, parsed);

    // Every leaf is documented, on itself or on an ancestor (`resources` documents its parts).
    let documented: Vec<&ValuesKey> = keys.iter().filter(|k| k.description.is_some()).collect();
    let mut leaves = Vec::new();
    leaf_paths(&values, &mut Vec::new(), &mut leaves);
    let undocumented: Vec<String> = leaves
        .iter()
        .map(|leaf| dotted(leaf))
        .filter(|leaf| {
            !documented
                .iter()
                .any(|k| *leaf == k.path || leaf.starts_with(&format!("{}.", k.path)))
        })
        .collect();
    assert!(
        undocumented.is_empty(),
        "values without a `# --` comment: {undocumented:?}"
    );
    for key in &documented {
        assert!(
            key.description.as_ref().unwrap().len() > 10,
            "{}: say what it does",
            key.path
        );
    }

    // The chart README's table lists exactly the documented keys, with their defaults.
    let readme = read(&chart().join("README.md"));
    let section = readme
        .split("\n## Values\n")
        .nth(1)
        .expect("charts/sessionops/README.md has a `## Values` section");
    let section = section.split("\n## ").next().unwrap();
    let rows: Vec<(String, String, String)> = section
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .map(|row| {
            let cells: Vec<&str> = row.splitn(3, " | ").collect();
            assert_eq!(cells.len(), 3, "README row {row:?}");
            (
                cells[0].trim_end_matches('`').to_owned(),
                cells[1].to_owned(),
                cells[2].trim_end_matches('|').trim().to_owned(),
            )
        })
        .collect();
    let in_readme: Vec<String> = rows.iter().map(|(k, _, _)| k.clone()).collect();
    let expected: Vec<String> = documented.iter().map(|k| k.path.clone()).collect();
    assert_eq!(in_readme, expected, "README value table vs values.yaml");
    for ((_, shown, description), key) in rows.iter().zip(&documented) {
        assert_eq!(
            Some(description),
            key.description.as_ref(),
            "README description of {} (copy the `# --` comment)",
            key.path
        );
        let want = match (&key.default_note, key.raw.is_empty()) {
            (Some(note), _) => note.clone(),
            (None, false) => format!("`{}`", key.raw),
            // A block value (a map or list spelled over several lines): described by hand.
            (None, true) => {
                assert!(!shown.trim().is_empty(), "{}: no default shown", key.path);
                continue;
            }
        };
        assert_eq!(shown, &want, "README default of {}", key.path);
    }
}

fn schema() -> Value {
    let path = chart().join("values.schema.json");
    serde_json::from_str(&read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn schema_errors(values: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    validate(&schema(), values, "values", &mut errors);
    errors
}

#[test]
fn values_schema_accepts_the_defaults_and_rejects_typos_and_wrong_types() {
    assert_eq!(schema_errors(&values()), Vec::<String>::new());

    let with = |path: &[&str], value: Value| {
        let mut values = values();
        let (last, parents) = path.split_last().unwrap();
        let mut target = &mut values;
        for key in parents {
            target = target.get_mut(*key).unwrap();
        }
        target
            .as_object_mut()
            .unwrap()
            .insert((*last).to_owned(), value);
        values
    };
    for (path, value) in [
        (&["replicas"][..], json!(2)),
        (&["serviceaccount"][..], json!({"create": false})),
        (&["serviceAccount", "creat"][..], json!(false)),
        (&["logFormat"][..], json!("JSON")),
        (&["image", "pullPolicy"][..], json!("Sometimes")),
        (&["replicaCount"][..], json!("2")),
        (&["metrics", "port"][..], json!(70000)),
        (&["leaderElection", "enabled"][..], json!("true")),
        (&["networkPolicy", "graph", "cidrs"][..], json!("0.0.0.0/0")),
        (&["podAnnotations"][..], json!({"a": 1})),
    ] {
        assert!(
            !schema_errors(&with(path, value.clone())).is_empty(),
            "values.schema.json accepts {}={value}",
            path.join(".")
        );
    }

    // Every key the schema knows is a real value (except `global`, which Helm passes to
    // subcharts): a stale schema entry would accept a value the templates ignore.
    fn schema_paths(schema: &Value, prefix: &str, out: &mut Vec<String>) {
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (key, sub) in properties {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                out.push(path.clone());
                schema_paths(sub, &path, out);
            }
        }
    }
    let mut paths = Vec::new();
    schema_paths(&schema(), "", &mut paths);
    let values = values();
    let stale: Vec<&String> = paths
        .iter()
        .filter(|p| *p != "global")
        .filter(|p| {
            let path: Vec<String> = p.split('.').map(str::to_owned).collect();
            lookup(&values, &path).is_none()
        })
        .collect();
    assert!(
        stale.is_empty(),
        "schema keys not in values.yaml: {stale:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// RBAC

/// (apiGroups, resources, verbs) of each rule of a Role or ClusterRole template.
fn template_rules(name: &str, kind: &str) -> Vec<(Vec<String>, Vec<String>, Vec<String>)> {
    let object = scan_template(name).yaml(name);
    assert_eq!(object["kind"], kind, "{name}");
    assert_eq!(
        object["apiVersion"], "rbac.authorization.k8s.io/v1",
        "{name}"
    );
    let strings = |rule: &Value, field: &str| -> Vec<String> {
        rule[field]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: a rule without {field}: {rule}"))
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    object["rules"]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: no rules"))
        .iter()
        .map(|rule| {
            let fields: Vec<&String> = rule.as_object().unwrap().keys().collect();
            assert_eq!(
                fields.len(),
                3,
                "{name}: a rule holds apiGroups, resources and verbs only: {rule}"
            );
            (
                strings(rule, "apiGroups"),
                strings(rule, "resources"),
                strings(rule, "verbs"),
            )
        })
        .collect()
}

fn code_rules(rules: &[Rule]) -> Vec<(Vec<String>, Vec<String>, Vec<String>)> {
    let owned = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect();
    rules
        .iter()
        .map(|rule| {
            (
                vec![rule.api_group.to_owned()],
                rule.resources.clone(),
                owned(rule.verbs),
            )
        })
        .collect()
}

#[test]
fn cluster_role_holds_exactly_the_cluster_rules_of_the_operator() {
    assert_eq!(
        template_rules("clusterrole.yaml", "ClusterRole"),
        code_rules(&cluster_rules()),
        "charts/sessionops/templates/clusterrole.yaml vs cluster_rules() in crates/operator/src/rbac.rs"
    );
}

#[test]
fn role_holds_exactly_the_namespace_rules_of_the_operator() {
    assert_eq!(
        template_rules("role.yaml", "Role"),
        code_rules(&namespace_rules()),
        "charts/sessionops/templates/role.yaml vs namespace_rules() in crates/operator/src/rbac.rs"
    );
}

#[test]
fn rbac_templates_have_no_wildcards() {
    let mut checked = 0;
    for (name, source) in templates() {
        let scan = scan(&name, &source);
        if !scan.yaml_text().contains("rbac.authorization.k8s.io/v1") {
            continue;
        }
        checked += 1;
        // Any `*` outside comments: in a rule, in a roleRef, in a subject.
        for line in &scan.lines {
            let text = line.text.split('#').next().unwrap();
            assert!(
                !text.contains('*'),
                "templates/{name}:{}: wildcard in {:?}",
                line.number,
                line.text
            );
        }
        let object = scan.yaml(&name);
        assert!(
            object.get("aggregationRule").is_none(),
            "{name}: aggregation"
        );
    }
    assert_eq!(
        checked, 4,
        "ClusterRole, ClusterRoleBinding, Role, RoleBinding"
    );
    for rules in [cluster_rules(), namespace_rules()] {
        for rule in &rules {
            let all = rule
                .resources
                .iter()
                .map(String::as_str)
                .chain(rule.verbs.iter().copied())
                .chain([rule.api_group]);
            assert!(all.clone().all(|s| !s.contains('*')), "{rule:?}");
        }
    }
}

#[test]
fn bindings_grant_the_roles_to_the_operator_service_account() {
    for (binding, role, kind) in [
        ("clusterrolebinding.yaml", "clusterrole.yaml", "ClusterRole"),
        ("rolebinding.yaml", "role.yaml", "Role"),
    ] {
        let role_scan = scan_template(role);
        let role_object = role_scan.yaml(role);
        let scan = scan_template(binding);
        let object = scan.yaml(binding);
        assert_eq!(object["kind"], format!("{kind}Binding"));
        assert_eq!(object["roleRef"]["kind"], kind);
        assert_eq!(object["roleRef"]["apiGroup"], "rbac.authorization.k8s.io");
        let role_name = role_scan.inline(role_object["metadata"]["name"].as_str().unwrap());
        let ref_name = scan.inline(object["roleRef"]["name"].as_str().unwrap());
        assert_eq!(ref_name.code, role_name.code, "{binding}: roleRef.name");
        let subjects = object["subjects"].as_array().unwrap();
        assert_eq!(subjects.len(), 1, "{binding}");
        assert_eq!(subjects[0]["kind"], "ServiceAccount");
        assert_eq!(
            scan.inline(subjects[0]["name"].as_str().unwrap()).code,
            r#"include "sessionops.serviceAccountName" ."#
        );
        assert_eq!(
            scan.inline(subjects[0]["namespace"].as_str().unwrap()).code,
            ".Release.Namespace"
        );
    }
    let deployment = scan_template("deployment.yaml").yaml("deployment.yaml");
    let scan = scan_template("deployment.yaml");
    assert_eq!(
        scan.inline(
            deployment["spec"]["template"]["spec"]["serviceAccountName"]
                .as_str()
                .unwrap()
        )
        .code,
        r#"include "sessionops.serviceAccountName" ."#
    );
}

// ---------------------------------------------------------------------------------------------
// Deployment

fn deployment() -> (Scan, Value) {
    let scan = scan_template("deployment.yaml");
    let object = scan.yaml("deployment.yaml");
    assert_eq!(object["kind"], "Deployment");
    (scan, object)
}

fn operator_container(deployment: &Value) -> &Value {
    let containers = deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers");
    assert_eq!(containers.len(), 1, "one container");
    &containers[0]
}

#[test]
fn deployment_runs_locked_down_with_resources_and_probes() {
    let (scan, deployment) = deployment();
    let pod = &deployment["spec"]["template"]["spec"];
    let container = operator_container(&deployment);

    let pod_security = &pod["securityContext"];
    assert_eq!(pod_security["runAsNonRoot"], true);
    assert_eq!(pod_security["seccompProfile"]["type"], "RuntimeDefault");
    for id in ["runAsUser", "runAsGroup", "fsGroup"] {
        assert_eq!(pod_security[id], 65532, "pod securityContext.{id}");
        assert_eq!(
            scan.line_with(&format!("{id}:")).conditions,
            vec!["if .Values.pinUserIds".to_owned()],
            "{id} is pinned unless pinUserIds=false, and only then"
        );
    }
    let security = &container["securityContext"];
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["runAsNonRoot"], true);
    assert_eq!(security["capabilities"]["drop"], json!(["ALL"]));
    assert!(security["capabilities"].get("add").is_none());
    assert!(security.get("privileged").is_none());
    assert_eq!(security["seccompProfile"]["type"], "RuntimeDefault");
    // None of the security settings depends on a value.
    for setting in [
        "runAsNonRoot:",
        "allowPrivilegeEscalation:",
        "readOnlyRootFilesystem:",
        "- ALL",
    ] {
        for line in scan.lines.iter().filter(|l| l.text.contains(setting)) {
            assert!(line.conditions.is_empty(), "{setting} is conditional");
        }
    }
    for host in ["hostNetwork", "hostPID", "hostIPC"] {
        assert!(pod.get(host).is_none(), "{host}");
    }
    assert_eq!(pod["automountServiceAccountToken"], true);
    assert_eq!(pod["terminationGracePeriodSeconds"], 60);

    // Resources come from values, and values set requests and a memory limit.
    let resources_line = scan.line_with("resources:").number;
    let source = template("deployment.yaml");
    let next = source.lines().nth(resources_line).unwrap().trim();
    assert_eq!(next, "{{- toYaml .Values.resources | nindent 12 }}");
    let values = values();
    for (path, expected) in [
        ("requests.cpu", "50m"),
        ("requests.memory", "64Mi"),
        ("limits.memory", "128Mi"),
    ] {
        let path: Vec<String> = ["resources"]
            .into_iter()
            .chain(path.split('.'))
            .map(str::to_owned)
            .collect();
        assert_eq!(
            lookup(&values, &path),
            Some(&json!(expected)),
            "{}",
            dotted(&path)
        );
    }

    // Probes on the named metrics port, which is the metrics.port value.
    let ports = container["ports"].as_array().unwrap();
    assert_eq!(ports.len(), 1);
    assert_eq!(ports[0]["name"], "http-metrics");
    assert_eq!(
        scan.inline(ports[0]["containerPort"].as_str().unwrap())
            .value,
        Some(vec!["metrics".to_owned(), "port".to_owned()])
    );
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        assert_eq!(container[probe]["httpGet"]["path"], path, "{probe}");
        assert_eq!(
            container[probe]["httpGet"]["port"], "http-metrics",
            "{probe}"
        );
    }
}

#[test]
fn deployment_env_names_the_lease_holder_and_the_log_filter() {
    let (scan, deployment) = deployment();
    let env = operator_container(&deployment)["env"].as_array().unwrap();
    let find = |name: &str| {
        env.iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("env {name} missing"))
    };
    assert_eq!(
        find("POD_NAME")["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.name"
    );
    assert_eq!(
        find("POD_NAMESPACE")["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.namespace"
    );
    assert_eq!(
        scan.inline(find("RUST_LOG")["value"].as_str().unwrap())
            .value,
        Some(vec!["logLevel".to_owned()])
    );
    // The workload-identity label reaches the pod only when enabled, and not when the chart
    // projects the token itself (the webhook would inject a second one).
    assert_eq!(
        scan.line_with("azure.workload.identity/use").conditions,
        vec![
            "if and .Values.workloadIdentity.enabled (not .Values.workloadIdentity.projectedToken.enabled)"
                .to_owned()
        ]
    );
}

/// The container args of the Deployment with each value filled in from `values`.
fn rendered_args(scan: &Scan, deployment: &Value, values: &Value) -> Vec<String> {
    operator_container(deployment)["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|arg| {
            let mut arg = arg.as_str().unwrap().to_owned();
            while let Some(start) = arg.find("__tpl_") {
                let digits = start + "__tpl_".len();
                let end = digits + arg[digits..].find("__").unwrap() + 2;
                let inline = scan.inline(&arg[start..end]);
                let path = inline.value.as_ref().unwrap_or_else(|| {
                    panic!("arg {arg:?}: {:?} is not a plain value", inline.code)
                });
                let value = match lookup(values, path) {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    other => panic!("{}: {other:?}", dotted(path)),
                };
                arg.replace_range(start..end, &value);
            }
            arg
        })
        .collect()
}

fn operator_help() -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_sessionops"))
        .args(["operator", "--help"])
        .output()
        .unwrap();
    assert!(output.status.success(), "sessionops operator --help failed");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn deployment_args_are_flags_that_sessionops_operator_accepts() {
    let (scan, deployment) = deployment();
    let mut values = values();
    // Set so that the conditional arg is rendered too.
    values["watchNamespace"] = json!("identity");
    let args = rendered_args(&scan, &deployment, &values);
    assert_eq!(args[0], "operator", "the subcommand comes first");

    let flags: Vec<&str> = args[1..]
        .iter()
        .map(|arg| arg.split('=').next().unwrap())
        .collect();
    assert_eq!(
        flags,
        [
            "--metrics-addr",
            "--leader-election",
            "--lease-name",
            "--watch-namespace",
            "--resync-interval",
            "--log-format",
        ]
    );
    let help = operator_help();
    for flag in &flags {
        let listed = help.match_indices(flag).any(|(at, _)| {
            help[at + flag.len()..]
                .chars()
                .next()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '-'))
        });
        assert!(listed, "`sessionops operator --help` does not list {flag}");
    }
    assert!(
        args.contains(&"--metrics-addr=0.0.0.0:8080".to_owned()),
        "{args:?}"
    );

    // The binary parses the rendered args (values included) before it handles --help, so an
    // unknown flag, a presence flag given a value or a value it rejects fails here.
    let output = Command::new(env!("CARGO_BIN_EXE_sessionops"))
        .args(&args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "sessionops {} --help: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    // And the check has teeth: a value the binary rejects fails the same way.
    let mut bad = args.clone();
    let last = bad.len() - 1;
    bad[last] = "--log-format=xml".to_owned();
    let rejected = Command::new(env!("CARGO_BIN_EXE_sessionops"))
        .args(&bad)
        .arg("--help")
        .output()
        .unwrap();
    assert!(!rejected.status.success());

    // Conditional args render only when their value is set.
    assert_eq!(
        scan.line_with("--leader-election").conditions,
        vec!["if .Values.leaderElection.enabled".to_owned()]
    );
    assert_eq!(
        scan.line_with("--watch-namespace=").conditions,
        vec!["with .Values.watchNamespace".to_owned()],
        "an empty --watch-namespace= would be accepted by the binary and watch nothing"
    );
    for line in ["--metrics-addr=", "--resync-interval=", "--log-format="] {
        assert!(scan.line_with(line).conditions.is_empty(), "{line}");
    }
}

#[test]
fn replicas_without_leader_election_are_refused() {
    let source = template("deployment.yaml");
    let head: Vec<&str> = source.lines().take(3).collect();
    assert_eq!(
        head,
        [
            "{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) }}",
            "{{- fail \"replicaCount > 1 requires leaderElection.enabled=true: without a Lease every replica would write to the tenant\" }}",
            "{{- end }}",
        ]
    );
    assert!(values()["replicaCount"].as_i64().unwrap() > 1);
    assert_eq!(values()["leaderElection"]["enabled"], true);
}

// ---------------------------------------------------------------------------------------------
// Optional objects, Service, NetworkPolicy

/// Every YAML line of the template is inside `condition`.
fn assert_all_inside(name: &str, condition: &str) {
    let scan = scan_template(name);
    assert!(!scan.lines.is_empty(), "{name}");
    for line in scan.lines.iter().filter(|l| !l.text.trim().is_empty()) {
        assert_eq!(
            line.conditions.first().map(String::as_str),
            Some(condition),
            "templates/{name}:{}: {:?} outside `{condition}`",
            line.number,
            line.text
        );
    }
}

#[test]
fn optional_objects_render_only_when_switched_on() {
    for (name, condition) in [
        ("serviceaccount.yaml", "if .Values.serviceAccount.create"),
        ("clusterrole.yaml", "if .Values.rbac.create"),
        ("clusterrolebinding.yaml", "if .Values.rbac.create"),
        ("role.yaml", "if .Values.rbac.create"),
        ("rolebinding.yaml", "if .Values.rbac.create"),
        ("servicemonitor.yaml", "if .Values.serviceMonitor.enabled"),
        ("networkpolicy.yaml", "if .Values.networkPolicy.enabled"),
        (
            "pdb.yaml",
            "if and .Values.podDisruptionBudget.enabled (gt (int .Values.replicaCount) 1)",
        ),
    ] {
        assert_all_inside(name, condition);
    }
    let values = values();
    assert_eq!(values["serviceMonitor"]["enabled"], false);
    assert_eq!(values["networkPolicy"]["enabled"], false);
    assert_eq!(values["workloadIdentity"]["enabled"], false);
}

#[test]
fn service_and_service_monitor_scrape_the_named_metrics_port() {
    let service = scan_template("service.yaml").yaml("service.yaml");
    let ports = service["spec"]["ports"].as_array().unwrap();
    assert_eq!(ports.len(), 1);
    assert_eq!(ports[0]["name"], "http-metrics");
    assert_eq!(ports[0]["targetPort"], "http-metrics");

    let monitor = scan_template("servicemonitor.yaml").yaml("servicemonitor.yaml");
    assert_eq!(monitor["apiVersion"], "monitoring.coreos.com/v1");
    let endpoints = monitor["spec"]["endpoints"].as_array().unwrap();
    assert_eq!(endpoints.len(), 1);
    assert_eq!(endpoints[0]["port"], "http-metrics");
    assert_eq!(endpoints[0]["path"], "/metrics");
}

#[test]
fn network_policy_allows_dns_the_api_server_https_egress_and_metrics_ingress_only() {
    let scan = scan_template("networkpolicy.yaml");
    let policy = scan.yaml("networkpolicy.yaml");
    assert_eq!(policy["kind"], "NetworkPolicy");
    assert_eq!(policy["spec"]["policyTypes"], json!(["Ingress", "Egress"]));

    let ingress = policy["spec"]["ingress"].as_array().unwrap();
    assert_eq!(ingress.len(), 1);
    assert_eq!(
        ingress[0]["ports"],
        json!([{"port": "http-metrics", "protocol": "TCP"}])
    );

    let egress = policy["spec"]["egress"].as_array().unwrap();
    assert_eq!(egress.len(), 3, "DNS, API server, Graph/login");
    let dns_ports = egress[0]["ports"].as_array().unwrap();
    let protocols: Vec<&Value> = dns_ports.iter().map(|p| &p["protocol"]).collect();
    assert_eq!(protocols, [&json!("UDP"), &json!("TCP")]);
    for port in dns_ports {
        assert!(
            scan.inline(port["port"].as_str().unwrap()).code == ".",
            "DNS ports come from networkPolicy.dns.ports"
        );
    }
    for rule in &egress[1..] {
        assert_eq!(rule["ports"].as_array().unwrap().len(), 1);
        assert_eq!(rule["ports"][0]["protocol"], "TCP");
        assert!(rule["to"][0]["ipBlock"]["cidr"].is_string(), "{rule}");
    }
    // Every egress peer and port comes from a value, and the documented defaults hold:
    // Graph on 443 only, the API server required (no default that silently allows it all).
    let values = values();
    assert_eq!(values["networkPolicy"]["graph"]["ports"], json!([443]));
    assert_eq!(
        values["networkPolicy"]["graph"]["cidrs"],
        json!(["0.0.0.0/0"])
    );
    assert_eq!(values["networkPolicy"]["apiServer"]["cidrs"], json!([]));
    assert_eq!(values["networkPolicy"]["dns"]["ports"], json!([53]));
    let source = template("networkpolicy.yaml");
    assert!(source.contains(
        "{{- if not .Values.networkPolicy.apiServer.cidrs }}\n{{- fail \"networkPolicy.apiServer.cidrs is required"
    ));
    for range in [
        "range .Values.networkPolicy.dns.ports",
        "range .Values.networkPolicy.apiServer.cidrs",
        "range .Values.networkPolicy.apiServer.ports",
        "range .Values.networkPolicy.graph.cidrs",
        "range .Values.networkPolicy.graph.ports",
    ] {
        assert!(
            scan.lines
                .iter()
                .any(|l| l.conditions.iter().any(|c| c == range)),
            "{range}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Chart metadata, CRDs, Dockerfile

#[test]
fn chart_metadata_matches_the_crate() {
    let chart_yaml = yaml(&read(&chart().join("Chart.yaml")), "Chart.yaml");
    assert_eq!(chart_yaml["apiVersion"], "v2");
    assert_eq!(chart_yaml["name"], "sessionops");
    assert_eq!(chart_yaml["type"], "application");
    // The image tag defaults to appVersion: it must be the version the crate builds.
    assert_eq!(chart_yaml["appVersion"], env!("CARGO_PKG_VERSION"));
    assert_eq!(chart_yaml["kubeVersion"], ">=1.30.0-0");
}

#[test]
fn chart_crds_are_byte_identical_to_the_generated_crds() {
    let list = |dir: &Path| -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .map(|path| {
                (
                    path.file_name().unwrap().to_str().unwrap().to_owned(),
                    std::fs::read(&path).unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    };
    let root = list(&repo().join("crds"));
    let in_chart = list(&chart().join("crds"));
    let names = |files: &[(String, Vec<u8>)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&in_chart), names(&root));
    assert_eq!(root.len(), sessionops_api::KINDS.len(), "one CRD per kind");
    for ((name, chart_bytes), (_, root_bytes)) in in_chart.iter().zip(&root) {
        assert!(
            chart_bytes == root_bytes,
            "charts/sessionops/crds/{name} differs from crds/{name}: regenerate both with `cargo run -- crds --out ...`"
        );
    }
}

#[test]
fn dockerfile_builds_what_the_chart_runs() {
    let dockerfile = read(&repo().join("Dockerfile"));
    let instructions: Vec<&str> = dockerfile
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    let stages: Vec<&&str> = instructions
        .iter()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert_eq!(stages.len(), 2, "builder and runtime");
    assert!(stages[1].contains("gcr.io/distroless/cc-debian12:nonroot"));
    // The image has no simulator (it issues tokens) and no demo: see tests/workspace.rs for
    // what --no-default-features leaves out.
    assert!(dockerfile.contains(
        "cargo build --release --locked --package sessionops --bin sessionops --no-default-features"
    ));
    // The user the chart pins is the user of the image.
    assert!(instructions.contains(&"USER 65532:65532"));
    assert!(template("deployment.yaml").contains("runAsUser: 65532\n"));
    assert!(instructions.contains(&r#"ENTRYPOINT ["/sessionops"]"#));
    assert!(instructions.contains(&r#"CMD ["operator"]"#));

    // What the build reads is copied: every COPY source exists, is not excluded by
    // .dockerignore, and covers every file the sources embed and every declared bench.
    let sources: Vec<&str> = instructions
        .iter()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from="))
        .flat_map(|l| {
            let words: Vec<&str> = l.split_whitespace().skip(1).collect();
            words[..words.len() - 1].to_vec()
        })
        .collect();
    let ignored: Vec<String> = read(&repo().join(".dockerignore"))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.trim_end_matches('/').to_owned())
        .collect();
    for source in &sources {
        assert!(repo().join(source).exists(), "COPY {source}: no such path");
        assert!(
            !ignored.iter().any(|i| i == source),
            ".dockerignore excludes {source}, which the Dockerfile copies"
        );
    }
    let mut needed = BTreeSet::from(["Cargo.toml".to_owned(), "Cargo.lock".to_owned()]);
    if read(&repo().join("Cargo.toml")).contains("[[bench]]") {
        needed.insert("benches".to_owned());
    }
    let mut pending = vec![repo().join("src"), repo().join("crates")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let code = read(&path);
            for embed in ["include_str!(\"", "include_bytes!(\""] {
                for (at, _) in code.match_indices(embed) {
                    let rest = &code[at + embed.len()..];
                    let relative = &rest[..rest.find('"').unwrap()];
                    let target = path.parent().unwrap().join(relative);
                    let target = target
                        .canonicalize()
                        .unwrap_or_else(|e| panic!("{}: {e}", target.display()));
                    let inside = target.strip_prefix(repo().canonicalize().unwrap()).unwrap();
                    needed.insert(
                        inside
                            .components()
                            .next()
                            .unwrap()
                            .as_os_str()
                            .to_str()
                            .unwrap()
                            .to_owned(),
                    );
                }
            }
        }
    }
    needed.insert("src".to_owned());
    needed.insert("crates".to_owned());
    let copied: BTreeSet<String> = sources
        .iter()
        .map(|s| s.trim_end_matches('/').to_owned())
        .collect();
    let missing: Vec<&String> = needed.difference(&copied).collect();
    assert!(
        missing.is_empty(),
        "the build reads {missing:?}, which the Dockerfile does not copy"
    );
}
