//! Loading manifests from files for the CLI (`plan`, `apply`, `validate`).
//!
//! A manifest passes the same checks the API server would apply at admission, in this order,
//! and every failure names the file, the document, the field and the reason:
//! 1. YAML syntax (multi-document streams; `---` separated);
//! 2. `apiVersion`/`kind`/`metadata` (objects of other API groups are skipped, so a directory
//!    may also hold Namespaces or Secrets);
//! 3. the typed schema: types, enum values, required fields, **unknown fields rejected**;
//! 4. the CEL rules of the CRDs (`x-kubernetes-validations`), evaluated locally.
//!
//! Directories are read like `kubectl apply -f DIR`: the `.yaml`, `.yml` and `.json` files
//! directly in it, in name order; `recursive` descends into subdirectories. Hidden files and
//! directories (such as the `.sessionops/` state directory) are never read.

mod error;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use std::sync::{Arc, Mutex, OnceLock};

use kube::core::cel::CompiledSchema;
use kube::{CustomResourceExt, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{
    AuthenticationStrength, ClusterTenantConnection, GROUP, IdleTimeoutPolicy, KINDS, Kind,
    NamedLocation, RevocationRequest, SessionPolicy, TenantConnection, VERSION,
};
pub use error::{ManifestError, ManifestErrors};

/// Namespace given to namespaced objects whose manifest names none (as kubectl does).
pub const DEFAULT_NAMESPACE: &str = "default";

/// Top-level fields a manifest may carry. `status` is accepted and ignored, as on create.
const TOP_LEVEL_FIELDS: &[&str] = &["apiVersion", "kind", "metadata", "spec", "status"];

/// `metadata` fields of `ObjectMeta`; anything else is a typo worth reporting.
const METADATA_FIELDS: &[&str] = &[
    "name",
    "namespace",
    "labels",
    "annotations",
    "generateName",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "finalizers",
    "ownerReferences",
    "managedFields",
    "selfLink",
];

/// One sessionops object read from a file (boxed: the kinds differ a lot in size).
#[derive(Clone, Debug, PartialEq)]
pub enum Object {
    /// A cluster-scoped tenant connection.
    ClusterTenantConnection(Box<ClusterTenantConnection>),
    /// A namespaced tenant connection.
    TenantConnection(Box<TenantConnection>),
    /// A Conditional Access policy.
    SessionPolicy(Box<SessionPolicy>),
    /// A Conditional Access named location.
    NamedLocation(Box<NamedLocation>),
    /// A custom authentication strength.
    AuthenticationStrength(Box<AuthenticationStrength>),
    /// The tenant's idle sign-out.
    IdleTimeoutPolicy(Box<IdleTimeoutPolicy>),
    /// A one-shot revocation.
    RevocationRequest(Box<RevocationRequest>),
}

impl Object {
    /// The kind.
    pub fn kind(&self) -> Kind {
        match self {
            Object::ClusterTenantConnection(_) => Kind::ClusterTenantConnection,
            Object::TenantConnection(_) => Kind::TenantConnection,
            Object::SessionPolicy(_) => Kind::SessionPolicy,
            Object::NamedLocation(_) => Kind::NamedLocation,
            Object::AuthenticationStrength(_) => Kind::AuthenticationStrength,
            Object::IdleTimeoutPolicy(_) => Kind::IdleTimeoutPolicy,
            Object::RevocationRequest(_) => Kind::RevocationRequest,
        }
    }

    /// Gives a namespaced object without a namespace the default one, as kubectl does.
    fn default_namespace(&mut self) {
        let meta = match self {
            Object::ClusterTenantConnection(_) => return,
            Object::TenantConnection(o) => o.meta_mut(),
            Object::SessionPolicy(o) => o.meta_mut(),
            Object::NamedLocation(o) => o.meta_mut(),
            Object::AuthenticationStrength(o) => o.meta_mut(),
            Object::IdleTimeoutPolicy(o) => o.meta_mut(),
            Object::RevocationRequest(o) => o.meta_mut(),
        };
        meta.namespace
            .get_or_insert_with(|| DEFAULT_NAMESPACE.to_owned());
    }

    /// The object as JSON, as the API server would return it.
    pub fn to_json(&self) -> serde_json::Value {
        let json = match self {
            Object::ClusterTenantConnection(o) => serde_json::to_value(o),
            Object::TenantConnection(o) => serde_json::to_value(o),
            Object::SessionPolicy(o) => serde_json::to_value(o),
            Object::NamedLocation(o) => serde_json::to_value(o),
            Object::AuthenticationStrength(o) => serde_json::to_value(o),
            Object::IdleTimeoutPolicy(o) => serde_json::to_value(o),
            Object::RevocationRequest(o) => serde_json::to_value(o),
        };
        json.expect("sessionops objects serialize")
    }

    /// `namespace/name`, or `name` for cluster-scoped objects.
    pub fn key(&self) -> String {
        let (namespace, name) = match self {
            Object::ClusterTenantConnection(o) => (o.namespace(), o.name_any()),
            Object::TenantConnection(o) => (o.namespace(), o.name_any()),
            Object::SessionPolicy(o) => (o.namespace(), o.name_any()),
            Object::NamedLocation(o) => (o.namespace(), o.name_any()),
            Object::AuthenticationStrength(o) => (o.namespace(), o.name_any()),
            Object::IdleTimeoutPolicy(o) => (o.namespace(), o.name_any()),
            Object::RevocationRequest(o) => (o.namespace(), o.name_any()),
        };
        match namespace {
            Some(namespace) => format!("{namespace}/{name}"),
            None => name,
        }
    }
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.key())
    }
}

/// Where a document came from: file and 1-based position in its YAML stream.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Source {
    /// The file as given (or found in a given directory).
    pub file: PathBuf,
    /// 1-based index of the document in the file.
    pub document: usize,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: document {}", self.file.display(), self.document)
    }
}

/// A validated object and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    /// Where the object was read.
    pub source: Source,
    /// The object.
    pub object: Object,
}

/// A document that is not a sessionops object and was therefore left alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// Where the document was read.
    pub source: Source,
    /// Its `apiVersion` and `kind`.
    pub api_version: String,
    /// Its kind.
    pub kind: String,
}

/// Everything read from the given paths.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ManifestSet {
    /// sessionops objects, in file and document order.
    pub objects: Vec<Loaded>,
    /// Documents of other API groups.
    pub skipped: Vec<Skipped>,
}

/// Reads, parses and validates every manifest under `paths`. Returns all errors at once (not
/// only the first), so one run shows everything to fix.
pub fn load(paths: &[PathBuf], recursive: bool) -> Result<ManifestSet, ManifestErrors> {
    let mut errors = Vec::new();
    let mut files = Vec::new();
    for path in paths {
        collect_files(path, recursive, true, &mut files, &mut errors);
    }
    let mut set = ManifestSet::default();
    for file in files {
        match std::fs::read_to_string(&file) {
            Ok(text) => load_text(&file, &text, &mut set, &mut errors),
            Err(err) => errors.push(ManifestError::file(&file, format!("cannot read: {err}"))),
        }
    }
    check_duplicates(&set, &mut errors);
    if errors.is_empty() {
        Ok(set)
    } else {
        Err(ManifestErrors(errors))
    }
}

/// Parses the documents of one file's text (exposed for tests and stdin).
pub fn load_str(file: &Path, text: &str) -> Result<ManifestSet, ManifestErrors> {
    let mut set = ManifestSet::default();
    let mut errors = Vec::new();
    load_text(file, text, &mut set, &mut errors);
    check_duplicates(&set, &mut errors);
    if errors.is_empty() {
        Ok(set)
    } else {
        Err(ManifestErrors(errors))
    }
}

fn collect_files(
    path: &Path,
    recursive: bool,
    named_by_user: bool,
    files: &mut Vec<PathBuf>,
    errors: &mut Vec<ManifestError>,
) {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(err) => {
            errors.push(ManifestError::file(path, format!("cannot read: {err}")));
            return;
        }
    };
    if metadata.is_file() {
        files.push(path.to_path_buf());
        return;
    }
    if !named_by_user && !recursive {
        return;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(err) => {
            errors.push(ManifestError::file(
                path,
                format!("cannot read directory: {err}"),
            ));
            return;
        }
    };
    let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    children.sort();
    let before = files.len();
    for child in children {
        let name = child
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        if child.is_dir() {
            if recursive {
                collect_files(&child, recursive, false, files, errors);
            }
        } else if is_manifest_file(&child) {
            files.push(child);
        }
    }
    if named_by_user && files.len() == before {
        errors.push(ManifestError::file(
            path,
            "directory holds no .yaml, .yml or .json file".to_owned(),
        ));
    }
}

fn is_manifest_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

fn load_text(file: &Path, text: &str, set: &mut ManifestSet, errors: &mut Vec<ManifestError>) {
    for (position, document) in split_documents(text).into_iter().enumerate() {
        let source = Source {
            file: file.to_path_buf(),
            document: position + 1,
        };
        let document: Value = match serde_saphyr::from_str(document) {
            Ok(document) => document,
            Err(err) => {
                errors.push(ManifestError::field(
                    &source,
                    None,
                    "",
                    format!("invalid YAML: {err}"),
                ));
                continue;
            }
        };
        // Empty documents (a trailing `---`, a document of comments) are not objects.
        if document.is_null() {
            continue;
        }
        match load_document(&source, document) {
            Ok(DocumentOutcome::Object(object)) => set.objects.push(Loaded { source, object }),
            Ok(DocumentOutcome::Skipped { api_version, kind }) => set.skipped.push(Skipped {
                source,
                api_version,
                kind,
            }),
            Err(mut document_errors) => errors.append(&mut document_errors),
        }
    }
}

/// Splits a YAML stream at its document markers (`---` at the start of a line, which YAML
/// never allows inside a document's content), so that "document N" means what a person counts
/// in the file, empty and comment-only documents included. Text before the first marker is a
/// document only when it holds something besides comments.
fn split_documents(text: &str) -> Vec<&str> {
    let mut documents = Vec::new();
    let mut start = 0;
    let mut explicit = false;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        let is_marker =
            content == "---" || content.starts_with("--- ") || content.starts_with("---\t");
        if is_marker {
            let previous = &text[start..offset];
            if explicit || has_content(previous) {
                documents.push(previous);
            }
            // The marker line may carry content (`--- {a: 1}`): keep it, without the marker.
            start = offset + 3;
            explicit = true;
        }
        offset += line.len();
    }
    let last = &text[start..];
    if explicit || has_content(last) {
        documents.push(last);
    }
    documents
}

fn has_content(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim();
        !line.is_empty() && !line.starts_with('#') && line != "..."
    })
}

enum DocumentOutcome {
    Object(Object),
    Skipped { api_version: String, kind: String },
}

fn load_document(source: &Source, document: Value) -> Result<DocumentOutcome, Vec<ManifestError>> {
    let error =
        |field: &str, reason: String| vec![ManifestError::field(source, None, field, reason)];
    let Value::Object(map) = &document else {
        return Err(error(
            "",
            "a manifest must be a mapping with apiVersion and kind".to_owned(),
        ));
    };
    let api_version = match map.get("apiVersion") {
        Some(Value::String(v)) => v.clone(),
        _ => return Err(error("apiVersion", "required string is missing".to_owned())),
    };
    let kind = match map.get("kind") {
        Some(Value::String(k)) => k.clone(),
        _ => return Err(error("kind", "required string is missing".to_owned())),
    };
    let group = api_version.split_once('/').map(|(g, _)| g).unwrap_or("");
    if group != GROUP {
        return Ok(DocumentOutcome::Skipped { api_version, kind });
    }
    let expected = format!("{GROUP}/{VERSION}");
    if api_version != expected {
        return Err(error(
            "apiVersion",
            format!("unsupported version {api_version:?}: use {expected:?}"),
        ));
    }
    if let Some(field) = map.keys().find(|k| !TOP_LEVEL_FIELDS.contains(&k.as_str())) {
        return Err(error(field, "unknown field".to_owned()));
    }
    let metadata = match map.get("metadata") {
        Some(Value::Object(metadata)) => metadata,
        _ => {
            return Err(error(
                "metadata",
                "required mapping with at least a name".to_owned(),
            ));
        }
    };
    if let Some(field) = metadata
        .keys()
        .find(|k| !METADATA_FIELDS.contains(&k.as_str()))
    {
        return Err(error(
            &format!("metadata.{field}"),
            "unknown field".to_owned(),
        ));
    }
    match metadata.get("name") {
        Some(Value::String(name)) if is_dns_subdomain(name) => {}
        Some(Value::String(name)) => {
            return Err(error(
                "metadata.name",
                format!(
                    "{name:?} is not a valid name: lowercase letters, digits, '-' and '.', at most 253 characters, starting and ending with a letter or digit"
                ),
            ));
        }
        _ => {
            return Err(error(
                "metadata.name",
                "required string is missing".to_owned(),
            ));
        }
    }
    if let Some(Value::String(namespace)) = metadata.get("namespace")
        && !is_dns_label(namespace)
    {
        return Err(error(
            "metadata.namespace",
            format!("{namespace:?} is not a valid namespace name"),
        ));
    }
    let display = display_name(&kind, metadata);
    let Some(info) = Kind::parse(&kind).map(Kind::info) else {
        let known: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
        return Err(error(
            "kind",
            format!(
                "unknown kind {kind:?} in {GROUP}: expected {}",
                known.join(", ")
            ),
        ));
    };
    if !info.namespaced && metadata.contains_key("namespace") {
        return Err(error(
            "metadata.namespace",
            format!("{} is cluster-scoped: remove the namespace", info.name),
        ));
    }
    let mut object = (info.load)(source, document, &display)?;
    if info.namespaced {
        object.default_namespace();
    }
    Ok(DocumentOutcome::Object(object))
}

/// The CRD schema of `T` with its CEL rules compiled, once per kind per process: compiling
/// is most of the cost of validating a document, and `validate` or `export` of a thousand
/// documents would otherwise compile the same rules a thousand times.
fn compiled_schema<T: CustomResourceExt>() -> Arc<CompiledSchema> {
    static COMPILED: OnceLock<Mutex<BTreeMap<&'static str, Arc<CompiledSchema>>>> = OnceLock::new();
    let cache = COMPILED.get_or_init(Default::default);
    let mut cache = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    cache
        .entry(T::crd_name())
        .or_insert_with(|| {
            let crd = T::crd();
            let schema = crd.spec.versions[0]
                .schema
                .as_ref()
                .and_then(|s| s.open_api_v3_schema.as_ref())
                .map(serde_json::to_value)
                .and_then(Result::ok)
                .unwrap_or(Value::Null);
            Arc::new(kube::core::cel::compile_schema(&schema))
        })
        .clone()
}

/// Deserializes with field paths, then evaluates the CRD's CEL rules on the typed object (its
/// serialized form carries the schema defaults, as the API server's defaulting would), as
/// kube's generated `validate_cel` does, with the schema compiled once.
pub(crate) fn typed<T>(
    source: &Source,
    document: Value,
    display: &str,
) -> Result<Box<T>, Vec<ManifestError>>
where
    T: DeserializeOwned + Serialize + CustomResourceExt,
{
    let object: T = serde_path_to_error::deserialize(document).map_err(|err| {
        let field = err.path().to_string();
        let field = if field == "." { String::new() } else { field };
        vec![ManifestError::field(
            source,
            Some(display.to_owned()),
            &field,
            err.into_inner().to_string(),
        )]
    })?;
    let value = serde_json::to_value(&object).unwrap_or(Value::Null);
    let validated =
        kube::core::cel::Validator::new().validate_compiled(&compiled_schema::<T>(), &value, None);
    validated.map_err(|errors| {
        errors
            .iter()
            .map(|e| {
                ManifestError::field(
                    source,
                    Some(display.to_owned()),
                    &e.field_path,
                    e.message.clone(),
                )
            })
            .collect::<Vec<_>>()
    })?;
    Ok(Box::new(object))
}

/// `Kind namespace/name` from the raw document, for messages about it.
fn display_name(kind: &str, metadata: &serde_json::Map<String, Value>) -> String {
    let name = metadata
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let namespaced = Kind::parse(kind).is_none_or(|k| k.info().namespaced);
    match metadata.get("namespace").and_then(Value::as_str) {
        Some(namespace) => format!("{kind} {namespace}/{name}"),
        None if namespaced => format!("{kind} {DEFAULT_NAMESPACE}/{name}"),
        None => format!("{kind} {name}"),
    }
}

fn check_duplicates(set: &ManifestSet, errors: &mut Vec<ManifestError>) {
    let mut first_seen: BTreeMap<String, &Source> = BTreeMap::new();
    for loaded in &set.objects {
        let id = loaded.object.to_string();
        if let Some(first) = first_seen.get(&id) {
            errors.push(ManifestError::field(
                &loaded.source,
                Some(id.clone()),
                "metadata.name",
                format!("{id} is defined twice (first in {first})"),
            ));
        } else {
            first_seen.insert(id, &loaded.source);
        }
    }
}

/// RFC 1123 subdomain: what Kubernetes accepts as an object name.
fn is_dns_subdomain(name: &str) -> bool {
    !name.is_empty() && name.len() <= 253 && name.split('.').all(|label| is_label_chars(label, 253))
}

/// RFC 1123 label: what Kubernetes accepts as a namespace name.
fn is_dns_label(name: &str) -> bool {
    is_label_chars(name, 63)
}

fn is_label_chars(label: &str, max: usize) -> bool {
    let bytes = label.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= max
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

#[cfg(test)]
mod tests {
    use super::split_documents;

    #[test]
    fn documents_are_split_at_markers_only() {
        assert_eq!(split_documents("a: 1\n"), ["a: 1\n"]);
        assert_eq!(split_documents("---\na: 1\n"), ["\na: 1\n"]);
        assert_eq!(
            split_documents("# header\n---\na: 1\n---\n"),
            ["\na: 1\n", "\n"]
        );
        assert_eq!(split_documents("a: 1\n---\nb: 2\n"), ["a: 1\n", "\nb: 2\n"]);
        assert_eq!(split_documents("--- {a: 1}\n"), [" {a: 1}\n"]);
        // Not markers: indented, or longer dashes inside content.
        assert_eq!(
            split_documents("a: |\n  ---\nb: ----\n"),
            ["a: |\n  ---\nb: ----\n"]
        );
        assert_eq!(
            split_documents("a: 1\r\n---\r\nb: 2\r\n"),
            ["a: 1\r\n", "\r\nb: 2\r\n"]
        );
    }
}
