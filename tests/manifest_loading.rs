//! Reading manifests from files and directories: multi-document YAML, directory rules, other
//! API groups, and errors that name file, document, field and reason, all of them at once.

use std::path::{Path, PathBuf};

use sessionops_api::manifest::{self, DEFAULT_NAMESPACE, ManifestErrors, Object};

const POLICY: &str = "apiVersion: sessionops.io/v1alpha1
kind: SessionPolicy
metadata: {name: NAME}
spec:
  tenantRef: {name: contoso}
  state: enabled
  assignments: {users: {include: [All]}, applications: {include: [All]}}
  session: {signInFrequency: 8h}
";

fn policy(name: &str) -> String {
    POLICY.replace("NAME", name)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

fn errors(result: Result<manifest::ManifestSet, ManifestErrors>) -> Vec<manifest::ManifestError> {
    match result {
        Ok(set) => panic!("accepted: {:?}", set.objects),
        Err(errors) => errors.0,
    }
}

#[test]
fn multi_document_files_keep_document_positions_and_skip_other_groups() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "---\n{}---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: identity}}\n---\n# only a comment\n---\n{}",
        policy("a"),
        policy("b")
    );
    let file = write(dir.path(), "all.yaml", &text);
    let set = manifest::load(&[file], false).unwrap();
    let positions: Vec<(String, usize)> = set
        .objects
        .iter()
        .map(|o| (o.object.key(), o.source.document))
        .collect();
    assert_eq!(
        positions,
        vec![("default/a".to_owned(), 1), ("default/b".to_owned(), 4)]
    );
    assert_eq!(set.skipped.len(), 1);
    assert_eq!(set.skipped[0].kind, "Namespace");
    assert_eq!(set.skipped[0].source.document, 2);
}

#[test]
fn namespaced_objects_default_to_the_default_namespace() {
    let set = manifest::load_str(Path::new("p.yaml"), &policy("a")).unwrap();
    let Object::SessionPolicy(policy) = &set.objects[0].object else {
        panic!()
    };
    assert_eq!(
        policy.metadata.namespace.as_deref(),
        Some(DEFAULT_NAMESPACE)
    );
}

#[test]
fn directories_are_read_flat_unless_recursive_and_hidden_entries_never() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "b.yaml", &policy("b"));
    write(dir.path(), "a.yml", &policy("a"));
    write(dir.path(), "notes.txt", "not a manifest");
    write(
        dir.path(),
        "sub/c.json",
        &serde_json::to_string(&serde_saphyr::from_str::<serde_json::Value>(&policy("c")).unwrap())
            .unwrap(),
    );
    write(dir.path(), ".sessionops/state.yaml", "not: [valid");
    write(dir.path(), ".hidden.yaml", "not: [valid");
    let names = |recursive| {
        manifest::load(&[dir.path().to_path_buf()], recursive)
            .unwrap()
            .objects
            .iter()
            .map(|o| o.object.key())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(false),
        ["default/a", "default/b"],
        "name order, top level only"
    );
    assert_eq!(names(true), ["default/a", "default/b", "default/c"]);
}

#[test]
fn every_error_of_every_file_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let first = write(dir.path(), "1.yaml", &policy("a").replace("8h", "48h"));
    let second = write(
        dir.path(),
        "2.yaml",
        &format!(
            "{}---\n{}",
            policy("b"),
            policy("c").replace("state: enabled", "state: on")
        ),
    );
    let errors = errors(manifest::load(&[dir.path().to_path_buf()], false));
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].file, first.display().to_string());
    assert_eq!(errors[0].field, "spec.session.signInFrequency");
    assert_eq!(errors[1].file, second.display().to_string());
    assert_eq!(errors[1].document, Some(2));
    assert_eq!(errors[1].object.as_deref(), Some("SessionPolicy default/c"));
    assert_eq!(errors[1].field, "spec.state");
}

#[test]
fn yaml_syntax_errors_name_the_file() {
    let errors = errors(manifest::load_str(
        Path::new("broken.yaml"),
        "kind: [unclosed",
    ));
    assert_eq!(errors[0].file, "broken.yaml");
    assert!(
        errors[0].reason.starts_with("invalid YAML"),
        "{}",
        errors[0].reason
    );
}

#[test]
fn envelope_errors_name_the_field() {
    let cases = [
        ("- a list\n", "", "mapping"),
        ("kind: SessionPolicy\n", "apiVersion", "missing"),
        ("apiVersion: sessionops.io/v1alpha1\n", "kind", "missing"),
        (
            "apiVersion: sessionops.io/v1alpha1\nkind: SesionPolicy\nmetadata: {name: a}\n",
            "kind",
            "unknown kind",
        ),
        (
            "apiVersion: sessionops.io/v1alpha1\nkind: SessionPolicy\nspec: {}\n",
            "metadata",
            "required",
        ),
        (
            "apiVersion: sessionops.io/v1alpha1\nkind: SessionPolicy\nmetadata: {namespace: x}\n",
            "metadata.name",
            "missing",
        ),
        (
            "apiVersion: sessionops.io/v1alpha1\nkind: SessionPolicy\nmetadata: {name: Bad_Name}\n",
            "metadata.name",
            "not a valid name",
        ),
        (
            "apiVersion: sessionops.io/v1alpha1\nkind: SessionPolicy\nmetadata: {name: a, namespace: -x}\n",
            "metadata.namespace",
            "not a valid namespace",
        ),
        (
            "apiVersion: sessionops.io/v1alpha1\nkind: SessionPolicy\nmetadata: {name: a, namespce: x}\n",
            "metadata.namespce",
            "unknown field",
        ),
        (
            "apiVersion: sessionops.io/v1alpha1\nkind: SessionPolicy\nmetadata: {name: a}\nspecs: {}\n",
            "specs",
            "unknown field",
        ),
        (
            "apiVersion: sessionops.io/v1alpha1\nkind: ClusterTenantConnection\nmetadata: {name: a, namespace: x}\n",
            "metadata.namespace",
            "cluster-scoped",
        ),
    ];
    for (text, field, reason) in cases {
        let errors = errors(manifest::load_str(Path::new("case.yaml"), text));
        assert_eq!(errors.len(), 1, "{text}");
        assert_eq!(errors[0].field, field, "{text}");
        assert!(
            errors[0].reason.contains(reason),
            "{text}: {}",
            errors[0].reason
        );
        assert_eq!(errors[0].document, Some(1));
    }
}

#[test]
fn the_same_object_twice_is_an_error_naming_both_places() {
    let dir = tempfile::tempdir().unwrap();
    let first = write(dir.path(), "a.yaml", &policy("same"));
    write(dir.path(), "b.yaml", &policy("same"));
    let errors = errors(manifest::load(&[dir.path().to_path_buf()], false));
    assert_eq!(errors.len(), 1);
    assert!(errors[0].file.ends_with("b.yaml"));
    assert!(
        errors[0].reason.contains("defined twice")
            && errors[0].reason.contains(&first.display().to_string()),
        "{}",
        errors[0].reason
    );
}

#[test]
fn missing_paths_and_empty_directories_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.yaml");
    let errors = errors(manifest::load(
        &[missing.clone(), dir.path().to_path_buf()],
        false,
    ));
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0].file, missing.display().to_string());
    assert!(errors[1].reason.contains("no .yaml"));
}

#[test]
fn status_in_a_manifest_is_ignored_like_on_create() {
    let text = format!("{}status: {{policyId: abc}}\n", policy("a"));
    let set = manifest::load_str(Path::new("p.yaml"), &text).unwrap();
    assert_eq!(set.objects.len(), 1);
}
