//! Microsoft's documented request and response examples (`tests/graph-docs/`, one file per
//! example, each naming the page and revision it was taken from) as the outside reference for
//! both sides of the wire, so the client and the simulator cannot agree on a mistake:
//!
//! - (a) every documented response parses into the client's models, and every documented
//!   Conditional Access policy round-trips through export and compare without false drift or a
//!   refusal caused by metadata;
//! - (b) the simulator answers every documented request it serves with the documented status
//!   and at least the documented keys at every depth (annotations included), with compatible
//!   value types;
//! - (c) every request the client sends for a documented operation has the documented shape:
//!   method, URL form, headers and body keys.

use sessionops_core::status::Reason;
use sessionops_testkit as common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use sessionops_api::{TenantKind, TenantRef};
use sessionops_core::connection::ProtectedIds;
use sessionops_core::directory::resolve::Resolutions;
use sessionops_core::session_policy::export::{self, IdNames};
use sessionops_core::session_policy::plan;
use sessionops_graph::models::{
    ActivityBasedTimeoutPolicy, AuthenticationStrengthPolicy, ConditionalAccessPolicy, Device,
    DirectoryObject, DirectoryRoleTemplate, Group, NamedLocation, Page, RiskyUser,
    SharePointSettings, User,
};
use sessionops_graph::{BatchItemResponse, GraphError, RequestIds};

/// One documented example.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Example {
    #[serde(skip)]
    pub file: String,
    pub source: Source,
    pub operation: String,
    pub api_version: Option<String>,
    pub request: Option<Request>,
    pub response: Option<Response>,
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "part of the corpus file format (deny_unknown_fields), for its readers"
    )]
    pub edits: Vec<String>,
}

/// Where an example comes from.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Source {
    pub repo: String,
    pub path: String,
    pub commit: Option<String>,
    #[expect(
        dead_code,
        reason = "part of the corpus file format (deny_unknown_fields), for its readers"
    )]
    pub ms_date: Option<String>,
    #[expect(
        dead_code,
        reason = "part of the corpus file format (deny_unknown_fields), for its readers"
    )]
    pub example: Option<String>,
}

/// A documented request.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Request {
    pub method: Option<String>,
    pub url: Option<String>,
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "part of the corpus file format (deny_unknown_fields), for its readers"
    )]
    pub headers: BTreeMap<String, String>,
    pub body: Option<Value>,
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "part of the corpus file format (deny_unknown_fields), for its readers"
    )]
    pub form: Option<BTreeMap<String, String>>,
}

/// A documented response.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Response {
    pub status: Option<u16>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub body: Option<Value>,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/graph-docs")
}

/// Every example, sorted by file.
pub(crate) fn corpus() -> Vec<Example> {
    let mut files = Vec::new();
    for area in std::fs::read_dir(corpus_dir()).unwrap() {
        let area = area.unwrap().path();
        // resources/ holds the types' JSON representations, not examples.
        if area.is_dir() && !area.ends_with("resources") {
            for file in std::fs::read_dir(&area).unwrap() {
                let file = file.unwrap().path();
                if file.extension().is_some_and(|e| e == "json") {
                    files.push(file);
                }
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let mut example: Example =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            example.file = path
                .strip_prefix(corpus_dir())
                .unwrap()
                .display()
                .to_string();
            example
        })
        .collect()
}

/// Examples per operation, as the corpus README lists them.
fn counts(corpus: &[Example]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for example in corpus {
        *counts.entry(example.operation.clone()).or_default() += 1;
    }
    counts
}

#[test]
fn the_corpus_names_its_sources_and_its_readme_counts_every_example() {
    let corpus = corpus();
    assert!(corpus.len() >= 40, "{} examples", corpus.len());
    const SOURCES: &[&str] = &[
        "microsoftgraph/microsoft-graph-docs-contrib",
        "MicrosoftDocs/entra-docs",
        "learn.microsoft.com",
    ];
    for example in &corpus {
        let source = &example.source;
        assert!(
            SOURCES.contains(&source.repo.as_str()),
            "{}: {}",
            example.file,
            source.repo
        );
        assert!(!source.path.is_empty(), "{}", example.file);
        match &source.commit {
            Some(commit) => assert!(
                commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit()),
                "{}: commit {commit}",
                example.file
            ),
            None => assert_eq!(
                source.repo, "learn.microsoft.com",
                "{}: a repository source names its revision",
                example.file
            ),
        }
        assert!(
            example.request.is_some() || example.response.is_some(),
            "{}",
            example.file
        );
    }
    // The README's table is the one this test computes: it cannot drift from the files.
    let readme = std::fs::read_to_string(corpus_dir().join("README.md")).unwrap();
    let table: String = counts(&corpus)
        .iter()
        .map(|(operation, n)| format!("| `{operation}` | {n} |\n"))
        .collect();
    assert!(
        readme.contains(&table),
        "tests/graph-docs/README.md must list these counts:\n{table}"
    );
    assert!(
        readme.contains(&format!("{} examples", corpus.len())),
        "the README gives the total ({} examples)",
        corpus.len()
    );
}

// ---------------------------------------------------------------------------------------------
// (a) Documented responses against the client's models.

fn parse<T: serde::de::DeserializeOwned>(example: &Example, body: &Value) -> T {
    serde_json::from_value(body.clone()).unwrap_or_else(|e| {
        panic!(
            "{}: the documented response does not parse: {e}",
            example.file
        )
    })
}

/// The items of a documented collection that carry an `id`, each parsed. Docs shorten
/// responses "for readability" and some list items lack the `id` every sessionops read
/// needs; those are counted in `shortened`, not parsed.
fn parse_items<T: serde::de::DeserializeOwned>(
    example: &Example,
    body: &Value,
    shortened: &mut Vec<String>,
) -> Vec<T> {
    let _: Page<Value> = parse(example, body);
    body["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| {
            let has_id = item.get("id").is_some();
            if !has_id {
                shortened.push(example.file.clone());
            }
            has_id
        })
        .map(|item| parse(example, item))
        .collect()
}

/// What the round trip of one documented policy found.
#[derive(Default, Debug)]
struct RoundTrips {
    exported: Vec<String>,
    refused: Vec<(String, Vec<String>)>,
    annotated: usize,
}

fn has_annotation(value: &Value) -> bool {
    match value {
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| sessionops_graph::models::is_annotation(k) || has_annotation(v)),
        Value::Array(items) => items.iter().any(has_annotation),
        _ => false,
    }
}

/// The value at a dotted path (`conditions.users.includeGuestsOrExternalUsers`).
fn at<'a>(value: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(value, |v, key| &v[key])
}

fn is_content(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| !sessionops_graph::models::is_annotation(k) && is_content(v)),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

/// Export, then compare: a policy either exports to a spec whose desired policy equals it
/// field by field, or is refused only for real content the API does not model.
fn round_trip(example: &Example, raw: &Value, found: &mut RoundTrips) {
    let policy: ConditionalAccessPolicy = parse(example, raw);
    let label = format!("{} {:?}", example.file, policy.display_name);
    if has_annotation(&raw["grantControls"]) || has_annotation(&raw["conditions"]) {
        found.annotated += 1;
    }
    let mut keys = BTreeSet::new();
    key_paths(&policy.to_write_body(), "", &mut keys);
    let annotations: Vec<&String> = keys
        .iter()
        .filter(|k| {
            let last = k.rsplit('.').next().unwrap_or(k);
            last != "@odata.type" && (last.contains('@') || last.starts_with('#'))
        })
        .collect();
    assert!(
        annotations.is_empty(),
        "{label}: a write body carries no annotation: {annotations:?}"
    );
    let tenant = TenantRef {
        kind: TenantKind::ClusterTenantConnection,
        name: "contoso".into(),
    };
    match export::spec_from_policy(&policy, &IdNames::default(), &tenant) {
        Ok(exported) => {
            let spec = exported
                .spec()
                .expect("policies are never left out")
                .clone();
            let desired = plan::desired_policy(
                &spec,
                "identity",
                "exported",
                &ProtectedIds::default(),
                &Resolutions::default(),
            )
            .unwrap_or_else(|e| panic!("{label}: the exported spec does not plan: {e}"));
            let changes = plan::diff(&desired.body, &policy, true);
            assert!(
                changes.is_empty(),
                "{label}: exported, then planned with changes (false drift): {changes:?}"
            );
            found.exported.push(label);
        }
        Err(refused) => {
            for reason in &refused.reasons {
                let path = reason.split_whitespace().next().unwrap_or(reason);
                assert!(
                    !path.contains('@') && !path.contains('#'),
                    "{label}: refused for metadata: {reason}"
                );
                if !path.contains(':') {
                    assert!(
                        is_content(at(raw, path)),
                        "{label}: refused for {path}, which holds no content: {}",
                        at(raw, path)
                    );
                }
            }
            found.refused.push((label, refused.reasons));
        }
    }
}

/// Whether a URL's `$select` leaves `id` out.
fn selects_without_id(url: &str) -> bool {
    url.split(['?', '&'])
        .find_map(|part| part.strip_prefix("$select="))
        .is_some_and(|fields| !fields.split(',').any(|f| f.trim() == "id"))
}

fn url_of(example: &Example) -> &str {
    example
        .request
        .as_ref()
        .and_then(|r| r.url.as_deref())
        .unwrap_or_default()
}

fn body_of(example: &Example) -> Option<&Value> {
    example.response.as_ref().and_then(|r| r.body.as_ref())
}

#[test]
fn documented_responses_parse_into_the_models_and_policies_export_without_false_drift() {
    let corpus = corpus();
    let mut found = RoundTrips::default();
    let mut checked = BTreeSet::new();
    let mut shortened = Vec::new();
    for example in &corpus {
        let Some(response) = &example.response else {
            continue;
        };
        let Some(body) = body_of(example) else {
            // 204 and friends: a documented success without a body.
            let status = response.status.unwrap_or(200);
            assert!(
                (200..300).contains(&status),
                "{}: {status} without a body",
                example.file
            );
            checked.insert(example.file.clone());
            continue;
        };
        match example.operation.as_str() {
            "ca.policies.list" | "ca.deletedPolicies.list" => {
                let page: Page<Value> = parse(example, body);
                assert!(!page.value.is_empty(), "{}", example.file);
                for raw in &page.value {
                    round_trip(example, raw, &mut found);
                }
            }
            "ca.policies.get"
            | "ca.policies.create"
            | "ca.deletedPolicies.get"
            | "ca.deletedPolicies.restore" => round_trip(example, body, &mut found),
            "ca.namedLocations.list" | "ca.deletedNamedLocations.list" => {
                let page: Page<NamedLocation> = parse(example, body);
                assert!(
                    page.value.iter().all(|l| l.odata_type.is_some()),
                    "{}: every named location names its derived type",
                    example.file
                );
            }
            "ca.namedLocations.get"
            | "ca.namedLocations.create"
            | "ca.deletedNamedLocations.get"
            | "ca.deletedNamedLocations.restore" => {
                let location: NamedLocation = parse(example, body);
                assert!(location.odata_type.is_some(), "{}", example.file);
            }
            "authStrengths.list" => {
                let _: Vec<AuthenticationStrengthPolicy> =
                    parse_items(example, body, &mut shortened);
            }
            "authStrengths.get" | "authStrengths.create" => {
                let _: AuthenticationStrengthPolicy = parse(example, body);
            }
            // authenticationCombinationConfiguration is abstract: every configuration names its
            // derived type (fido2 or x509Certificate).
            "authStrengths.combinationConfigurations.list" => {
                let page: Page<Value> = parse(example, body);
                assert!(
                    page.value.iter().all(|c| c["@odata.type"].is_string()),
                    "{}",
                    example.file
                );
            }
            "authStrengths.combinationConfigurations.get"
            | "authStrengths.combinationConfigurations.create" => {
                assert!(body["@odata.type"].is_string(), "{}", example.file);
            }
            "activityBasedTimeoutPolicies.list" => {
                let _: Page<ActivityBasedTimeoutPolicy> = parse(example, body);
            }
            "activityBasedTimeoutPolicies.get" | "activityBasedTimeoutPolicies.create" => {
                let policy: ActivityBasedTimeoutPolicy = parse(example, body);
                assert!(!policy.definition.is_empty(), "{}", example.file);
            }
            // sharepointsettings-get.md wraps the object in "value", the update page's response
            // does not: the client reads both.
            "sharepointSettings.get" | "sharepointSettings.update" => {
                let settings = SharePointSettings::from_response(body.clone())
                    .unwrap_or_else(|e| panic!("{}: {e}", example.file));
                assert!(settings.idle_session_sign_out.is_some(), "{}", example.file);
            }
            // The page's list is shortened to five properties, `id` and `appId` not among them:
            // sessionops always `$select`s `id,appId,displayName`.
            "servicePrincipals.list" => {
                assert!(body["value"].is_array(), "{}", example.file);
            }
            "directoryRoleTemplates.list" => {
                let _: Page<DirectoryRoleTemplate> = parse(example, body);
            }
            "directoryRoleTemplates.get" => {
                let _: DirectoryRoleTemplate = parse(example, body);
            }
            // `$select` without `id` returns no id: sessionops always selects it.
            "users.get" | "users.get.select" if selects_without_id(url_of(example)) => {
                assert!(body.get("id").is_none(), "{}", example.file);
            }
            "users.get" | "users.get.select" => {
                let _: User = parse(example, body);
            }
            "users.list" | "groups.list" | "devices.list" | "groups.transitiveMembers.list"
                if body.is_number() =>
            {
                // `$count` segments answer text/plain with the number.
            }
            "users.list" => {
                let users: Vec<User> = parse_items(example, body, &mut shortened);
                for user in &users {
                    if user.user_type.as_deref() == Some("Guest")
                        && user
                            .user_principal_name
                            .as_deref()
                            .is_some_and(|u| u.contains("#EXT#"))
                    {
                        assert!(user.is_external(), "{}: {user:?}", example.file);
                    }
                }
            }
            // The page shows `{"id": "id-value"}` without @odata.type: sessionops takes an
            // untyped member for a device (only other types are left out).
            "users.registeredDevices.list" => {
                let _: Vec<DirectoryObject> = parse_items(example, body, &mut shortened);
            }
            "users.revokeSignInSessions" => {
                // known-issues.md: it answers 200 with a Boolean that is always true; any 2xx
                // is success.
                assert_eq!(body["value"], Value::Bool(true), "{}", example.file);
            }
            "groups.get" => {
                let _: Group = parse(example, body);
            }
            "groups.list" => {
                let _: Vec<Group> = parse_items(example, body, &mut shortened);
            }
            "groups.transitiveMembers.list" if url_of(example).contains("/microsoft.graph.") => {
                // A cast answers only that type, untyped: sessionops reads users this way.
                if url_of(example).contains("/microsoft.graph.user") {
                    let _: Vec<User> = parse_items(example, body, &mut shortened);
                } else {
                    let _: Vec<Group> = parse_items(example, body, &mut shortened);
                }
            }
            "groups.transitiveMembers.list" => {
                let members: Vec<DirectoryObject> = parse_items(example, body, &mut shortened);
                assert!(
                    members.iter().all(|m| m.odata_type.is_some()),
                    "{}: members are typed by @odata.type",
                    example.file
                );
            }
            "devices.get" => {
                let _: Device = parse(example, body);
            }
            // sessionops never lists /devices (a user's devices come from registeredDevices);
            // the documented list even omits `id`, which every read sessionops makes needs.
            "devices.list" => {
                assert!(body["value"].is_array(), "{}", example.file);
            }
            "riskyUsers.list" | "riskyUsers.get" => {
                let _: Vec<RiskyUser> = parse_items(example, body, &mut shortened);
            }
            "batch" => {
                #[derive(Deserialize)]
                struct Answers {
                    responses: Vec<BatchItemResponse>,
                }
                if body.get("requests").is_some() {
                    // A documented batch request; its shape is checked in (c).
                    continue;
                }
                let answers: Answers = parse(example, body);
                let ids: BTreeSet<String> = answers
                    .responses
                    .iter()
                    .map(|r| r.id.to_ascii_lowercase())
                    .collect();
                assert_eq!(ids.len(), answers.responses.len(), "{}", example.file);
            }
            "throttling.429" | "errors.response" => {
                let status = response.status.unwrap_or(400);
                let bytes = serde_json::to_vec(body).unwrap();
                let error = GraphError::from_response(status, &bytes, RequestIds::default(), None);
                assert_eq!(
                    error.code(),
                    (status != 429).then(|| body["error"]["code"].as_str().unwrap()),
                    "{}: {error}",
                    example.file
                );
                if status == 429 {
                    assert_eq!(Reason::from(&error), Reason::Throttled);
                    let retry_after = response
                        .headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
                        .map(|(_, v)| v.as_str())
                        .unwrap();
                    assert!(
                        sessionops_graph::client::parse_retry_after(retry_after).is_some(),
                        "{}: Retry-After {retry_after}",
                        example.file
                    );
                }
                let documented_id = body["error"]["innerError"]["request-id"].as_str();
                if let (Some(id), Some(ids)) = (documented_id, error.ids()) {
                    assert_eq!(ids.request_id.as_deref(), Some(id), "{}", example.file);
                }
            }
            "token.success" => {
                let bytes = serde_json::to_vec(body).unwrap();
                let (_, lifetime) = sessionops_graph::auth::parse_token_success(&bytes)
                    .unwrap_or_else(|e| panic!("{}: {e}", example.file));
                assert!(lifetime.as_secs() > 0);
            }
            "token.error" => {
                let bytes = serde_json::to_vec(body).unwrap();
                let error =
                    sessionops_graph::auth::token_error(response.status.unwrap_or(400), &bytes);
                let first = body["error_codes"][0].as_u64().unwrap();
                assert_eq!(
                    error.code(),
                    Some(format!("AADSTS{first}").as_str()),
                    "{}: {error}",
                    example.file
                );
            }
            // Documented, but not read into a model by sessionops (yet): the body is JSON.
            "authStrengths.updateAllowedCombinations"
            | "roleDefinitions.list"
            | "roleAssignments.list" => {
                assert!(body.is_object(), "{}", example.file);
            }
            // A 204 is "No Content" whatever the page shows beside it (the v1.0
            // activitybasedtimeoutpolicy-update page prints a body under its 204): sessionops
            // reads nothing from an update's answer.
            op if op.ends_with(".update") && response.status == Some(204) => {}
            other => panic!("{}: no response check for operation {other}", example.file),
        }
        checked.insert(example.file.clone());
    }
    println!(
        "documented responses checked: {}; policies exported and planned to no change: {}; refused for content the API does not model: {}",
        checked.len(),
        found.exported.len(),
        found.refused.len()
    );
    println!(
        "documented list items without the id the docs shortened away: {} ({shortened:?})",
        shortened.len()
    );
    assert!(shortened.len() <= 5, "{shortened:?}");
    for (label, reasons) in &found.refused {
        println!("  refused {label}: {}", reasons.join("; "));
    }
    assert!(
        found.annotated >= 1,
        "the corpus holds documented policies with nested annotations"
    );
    assert!(
        found.exported.len() >= 5,
        "most documented policies export: {found:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Shared by (b) and (c): operations by method and URL form.

/// Path segments that are names, not keys: everything else in a path is an id, a UPN or a
/// placeholder and becomes `{id}`.
const LITERAL_SEGMENTS: &[&str] = &[
    "users",
    "groups",
    "devices",
    "identity",
    "conditionalAccess",
    "policies",
    "deletedItems",
    "namedLocations",
    "restore",
    "revokeSignInSessions",
    "registeredDevices",
    "transitiveMembers",
    "microsoft.graph.user",
    "microsoft.graph.group",
    "authenticationStrengthPolicies",
    "authenticationStrength",
    "directoryRoleTemplates",
    "roleManagement",
    "directory",
    "roleAssignments",
    "roleDefinitions",
    "identityProtection",
    "riskyUsers",
    "confirmCompromised",
    "dismiss",
    "activityBasedTimeoutPolicies",
    "admin",
    "sharepoint",
    "settings",
    "servicePrincipals",
    "updateAllowedCombinations",
    "combinationConfigurations",
    "$ref",
    "$batch",
    "$count",
];

/// `/users/87d3…/revokeSignInSessions?x=y` → `/users/{id}/revokeSignInSessions`; `/me` is the
/// signed-in user's `/users/{id}`. A trailing `/$ref` is dropped: the DELETE examples of
/// `authenticationstrengthroot-delete-policies.md` and `authenticationstrengthpolicy-delete-combinationconfigurations.md`
/// append it, while their "HTTP request" sections do not (the simulator serves both).
fn url_form(url: &str) -> String {
    let path = url.split('?').next().unwrap_or(url);
    let path = path.strip_suffix("/$ref").unwrap_or(path);
    let mut out = String::new();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        if segment == "me" {
            out.push_str("/users/{id}");
        } else if let Some(literal) = LITERAL_SEGMENTS
            .iter()
            .find(|literal| literal.eq_ignore_ascii_case(segment))
        {
            // Segment names match whatever their case (serviceprincipal-list.md documents
            // `GET /serviceprincipals`).
            out.push('/');
            out.push_str(literal);
        } else {
            out.push_str("/{id}");
        }
    }
    out
}

/// Query parameter names of a URL (`$filter`, `$select` …).
fn query_names(url: &str) -> BTreeSet<String> {
    url.split_once('?')
        .map(|(_, query)| {
            query
                .split('&')
                .filter_map(|pair| pair.split('=').next())
                .map(|name| name.trim().to_owned())
                .filter(|name| !name.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The documented operation of `method url`, by the URL forms of the corpus.
fn operation_of(corpus: &[Example], method: &str, url: &str) -> Option<String> {
    let form = url_form(url);
    corpus
        .iter()
        .filter_map(|e| {
            let request = e.request.as_ref()?;
            let documented = url_form(request.url.as_deref()?);
            (request.method.as_deref()? == method && documented == form)
                .then(|| e.operation.clone())
        })
        .next()
}

/// Keys at every depth of a body, as dotted paths (array items share their array's path).
fn key_paths(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                out.insert(path.clone());
                key_paths(value, &path, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                key_paths(item, prefix, out);
            }
        }
        _ => {}
    }
}

/// The documented JSON representations of resource types (`tests/graph-docs/resources/`,
/// from each type's resource page), v1.0 and beta merged: type name → property → value
/// (nested types appear as `{"@odata.type": "microsoft.graph.…"}`).
fn representations() -> BTreeMap<String, serde_json::Map<String, Value>> {
    let mut types: BTreeMap<String, serde_json::Map<String, Value>> = BTreeMap::new();
    for file in std::fs::read_dir(corpus_dir().join("resources")).unwrap() {
        let file = file.unwrap().path();
        let text = std::fs::read_to_string(&file).unwrap();
        let page: Value = serde_json::from_str(&text).unwrap();
        assert!(
            page["source"]["commit"]
                .as_str()
                .is_some_and(|c| c.len() == 40),
            "{}: names its revision",
            file.display()
        );
        let name = page["type"].as_str().unwrap().to_owned();
        let entry = types.entry(name).or_default();
        for (key, value) in page["representation"].as_object().unwrap() {
            entry.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    types
}

/// The type a representation's value names (`{"@odata.type": "microsoft.graph.x"}` or a list
/// of them).
fn nested_type(value: &Value) -> Option<String> {
    let value = value.as_array().and_then(|a| a.first()).unwrap_or(value);
    value["@odata.type"].as_str().map(|t| {
        t.trim_start_matches('#')
            .trim_start_matches("microsoft.graph.")
            .to_owned()
    })
}

/// Keys of `body` documented neither by an example of the call (`example_keys`) nor by the
/// representation of `ty` and of the types nested in it.
fn undocumented_keys(
    body: &Value,
    ty: Option<&str>,
    types: &BTreeMap<String, serde_json::Map<String, Value>>,
    example_keys: &BTreeSet<String>,
    prefix: &str,
    out: &mut Vec<String>,
) {
    let Value::Object(map) = body else {
        if let Value::Array(items) = body {
            for item in items {
                undocumented_keys(item, ty, types, example_keys, prefix, out);
            }
        }
        return;
    };
    let representation = ty.and_then(|t| types.get(t));
    for (key, value) in map {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let documented = representation.and_then(|r| r.get(key));
        let in_metadata = ty.and_then(|t| metadata_property(t, key));
        if documented.is_none() && in_metadata.is_none() && !example_keys.contains(&path) {
            out.push(path.clone());
            continue;
        }
        let nested = documented
            .and_then(nested_type)
            .or_else(|| in_metadata.flatten().map(str::to_owned));
        undocumented_keys(value, nested.as_deref(), types, example_keys, &path, out);
    }
}

/// Properties the metadata declares (`microsoftgraph/msgraph-metadata` commit f54f11b: the v1.0
/// CSDL `clean_v10_metadata/cleanMetadata.xml` and, for beta-only ones, the beta type mappings
/// `schemas/type-mappings/beta-complex-types.json`) that the stored revisions of their types'
/// resource pages are too old to show: (type, property, the property's own type when it is a
/// complex one).
const METADATA_PROPERTIES: &[(&str, &str, Option<&str>)] = &[
    (
        "conditionalAccessSessionControls",
        "secureSignInSession",
        Some("secureSignInSessionControl"),
    ),
    (
        "conditionalAccessSessionControls",
        "globalSecureAccessFilteringProfile",
        Some("globalSecureAccessFilteringProfileSessionControl"),
    ),
    (
        "globalSecureAccessFilteringProfileSessionControl",
        "profileId",
        None,
    ),
    (
        "globalSecureAccessFilteringProfileSessionControl",
        "isEnabled",
        None,
    ),
    (
        "conditionalAccessApplications",
        "includeAuthenticationContextClassReferences",
        None,
    ),
    (
        "conditionalAccessApplications",
        "applicationFilter",
        Some("conditionalAccessFilter"),
    ),
    (
        "conditionalAccessApplications",
        "globalSecureAccess",
        Some("conditionalAccessGlobalSecureAccess"),
    ),
    (
        "conditionalAccessApplications",
        "networkAccess",
        Some("conditionalAccessNetworkAccess"),
    ),
    (
        "conditionalAccessConditionSet",
        "authenticationFlows",
        Some("conditionalAccessAuthenticationFlows"),
    ),
    ("conditionalAccessConditionSet", "insiderRiskLevels", None),
    ("conditionalAccessConditionSet", "agentIdRiskLevels", None),
    (
        "conditionalAccessConditionSet",
        "deviceStates",
        Some("conditionalAccessDeviceStates"),
    ),
    (
        "conditionalAccessAuthenticationFlows",
        "transferMethods",
        None,
    ),
    (
        "conditionalAccessClientApplications",
        "includeServicePrincipals",
        None,
    ),
    (
        "conditionalAccessClientApplications",
        "excludeServicePrincipals",
        None,
    ),
    (
        "conditionalAccessClientApplications",
        "servicePrincipalFilter",
        Some("conditionalAccessFilter"),
    ),
    (
        "conditionalAccessClientApplications",
        "includeAgentIdServicePrincipals",
        None,
    ),
    (
        "conditionalAccessClientApplications",
        "excludeAgentIdServicePrincipals",
        None,
    ),
    (
        "conditionalAccessClientApplications",
        "agentIdServicePrincipalFilter",
        Some("conditionalAccessFilter"),
    ),
    ("conditionalAccessDevices", "includeDeviceStates", None),
    ("conditionalAccessDevices", "excludeDeviceStates", None),
    ("conditionalAccessDeviceStates", "includeStates", None),
    ("conditionalAccessDeviceStates", "excludeStates", None),
    // The users page names this type `conditionalAccessGuestOrExternalUsers` (sic); the CSDL
    // has `conditionalAccessGuestsOrExternalUsers`.
    (
        "conditionalAccessGuestOrExternalUsers",
        "guestOrExternalUserTypes",
        None,
    ),
    (
        "conditionalAccessGuestOrExternalUsers",
        "externalTenants",
        Some("conditionalAccessExternalTenants"),
    ),
    (
        "conditionalAccessGuestsOrExternalUsers",
        "guestOrExternalUserTypes",
        None,
    ),
    (
        "conditionalAccessGuestsOrExternalUsers",
        "externalTenants",
        Some("conditionalAccessExternalTenants"),
    ),
    // An abstract type (`Abstract="true"`): a value names its derived type
    // (conditionalAccessAllExternalTenants or conditionalAccessEnumeratedExternalTenants, whose
    // only own property is `members`).
    ("conditionalAccessExternalTenants", "@odata.type", None),
    ("conditionalAccessExternalTenants", "membershipKind", None),
    ("conditionalAccessExternalTenants", "members", None),
];

fn metadata_property(ty: &str, key: &str) -> Option<Option<&'static str>> {
    METADATA_PROPERTIES
        .iter()
        .find(|(t, k, _)| *t == ty && *k == key)
        .map(|(_, _, nested)| *nested)
}

/// The resource type a write of `operation` sends (named locations and combination
/// configurations: the derived type the body names).
fn written_type(operation: &str, body: &Value) -> Option<&'static str> {
    match operation {
        "ca.policies.create" | "ca.policies.update" => Some("conditionalAccessPolicy"),
        "ca.namedLocations.create" | "ca.namedLocations.update" => {
            match body["@odata.type"].as_str() {
                Some("#microsoft.graph.ipNamedLocation") => Some("ipNamedLocation"),
                Some("#microsoft.graph.countryNamedLocation") => Some("countryNamedLocation"),
                _ => None,
            }
        }
        "authStrengths.combinationConfigurations.create" => match body["@odata.type"].as_str() {
            Some("#microsoft.graph.fido2CombinationConfiguration") => {
                Some("fido2CombinationConfiguration")
            }
            Some("#microsoft.graph.x509CertificateCombinationConfiguration") => {
                Some("x509CertificateCombinationConfiguration")
            }
            _ => None,
        },
        "users.update" => Some("user"),
        "devices.update" => Some("device"),
        _ => None,
    }
}

/// Query parameters Microsoft documents for whole families of reads rather than in each
/// page's examples, with where.
const GENERAL_QUERY_PARAMETERS: &[(&str, &[&str], &str)] = &[
    (
        "$top",
        &[
            "users.list",
            "groups.list",
            "groups.transitiveMembers.list",
            "users.registeredDevices.list",
        ],
        "concepts/paging.md: directory collections page with $top, default 100, maximum 999",
    ),
    (
        "$select",
        &[
            "users.registeredDevices.list",
            "users.get",
            "groups.list",
            "servicePrincipals.list",
        ],
        "concepts/query-parameters.md: $select on directory objects",
    ),
];

// ---------------------------------------------------------------------------------------------
// (c) The client's requests against the documented requests.

mod flows {
    use std::collections::HashMap;
    use std::path::Path;
    use std::time::Duration;

    use graph_sim::seed::SeedDevice;
    use graph_sim::{Seed, SimConfig, Simulator};
    use sessionops::cli::{objects, policies, revocations};
    use sessionops_api::Endpoints;
    use sessionops_api::manifest::{self, ManifestSet, Object};
    use sessionops_core::connection::{self, Features};
    use sessionops_core::revocation::RunOptions;
    use sessionops_graph::GraphConfig;

    use sessionops_testkit::fixtures::DEMO_SEED as SEED;

    fn point_at(set: &mut ManifestSet, sim: &Simulator) {
        for loaded in &mut set.objects {
            if let Object::ClusterTenantConnection(c) = &mut loaded.object {
                c.spec.endpoints = Some(Endpoints {
                    graph: Some(sim.base_url()),
                    login: Some(sim.base_url()),
                });
            }
        }
    }

    fn fast(config: &mut GraphConfig) {
        config.ca_requests_per_second = 50.0;
        config.retry.base_delay = Duration::from_millis(20);
    }

    /// A tenant with the demo's people; jdoe has a laptop.
    pub(super) async fn tenant() -> Simulator {
        let mut seed = Seed::from_yaml(SEED).unwrap();
        let jdoe = seed
            .users
            .iter_mut()
            .find(|u| u.user_principal_name.starts_with("jdoe@"))
            .unwrap();
        jdoe.devices.push(SeedDevice {
            display_name: "JDOE-LAPTOP".into(),
            id: None,
            device_id: None,
            operating_system: "Windows".into(),
            operating_system_version: None,
            trust_type: "AzureAd".into(),
            account_enabled: true,
            is_compliant: None,
            is_managed: None,
        });
        super::common::start(SimConfig {
            seed: Some(seed),
            ca_rps: 50.0,
            journal: true,
            ..SimConfig::default()
        })
        .await
    }

    /// Everything sessionops sends to a tenant: the examples' SessionPolicies applied, edited
    /// and deleted in the portal and applied again (update, deleted-items read, restore), a
    /// RevocationRequest with every action on a user and a group, and the connection check.
    pub(super) async fn everything(sim: &Simulator) {
        let env: HashMap<String, String> = super::common::azure_env(sim);
        let mut set = manifest::load(
            &[Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")],
            false,
        )
        .unwrap();
        set.objects.retain(|o| {
            matches!(
                o.object,
                Object::ClusterTenantConnection(_)
                    | Object::SessionPolicy(_)
                    | Object::NamedLocation(_)
                    | Object::AuthenticationStrength(_)
            )
        });
        point_at(&mut set, sim);
        let created = objects::run_all(&set, &env, true, &fast).await;
        assert!(created.locations.iter().all(|l| l.is_ready()));
        assert!(created.strengths.iter().all(|s| s.is_ready()));
        let created = created.policies;
        let ids: Vec<String> = created
            .iter()
            .filter_map(|r| r.status.as_ref()?.policy_id.clone())
            .collect();
        let policies = set
            .objects
            .iter()
            .filter(|o| matches!(o.object, Object::SessionPolicy(_)))
            .count();
        assert!(policies >= 10, "{policies} example policies");
        assert_eq!(ids.len(), policies, "every example policy created");
        let portal = reqwest::Client::new();
        portal
            .patch(format!(
                "{}/_sim/portal/policies/{}",
                sim.base_url(),
                ids[0]
            ))
            .json(&serde_json::json!({"state": "disabled"}))
            .send()
            .await
            .unwrap();
        portal
            .delete(format!(
                "{}/_sim/portal/policies/{}",
                sim.base_url(),
                ids[1]
            ))
            .send()
            .await
            .unwrap();
        policies::run(&set, &env, true, &fast).await;

        let text = format!(
            "apiVersion: sessionops.io/v1alpha1\nkind: ClusterTenantConnection\nmetadata: {{name: contoso}}\nspec:\n  tenantId: {}\n  clientId: {}\n  credentials: {{clientSecret: {{secretRef: {{name: graph, namespace: sessionops-system}}}}}}\n  allowedNamespaces: [security]\n---\napiVersion: sessionops.io/v1alpha1\nkind: RevocationRequest\nmetadata: {{name: everything, namespace: security}}\nspec:\n  tenantRef: {{kind: ClusterTenantConnection, name: contoso}}\n  reason: \"corpus\"\n  targets: {{users: [jdoe@contoso.onmicrosoft.com], groups: [incident-2026-11-27]}}\n  actions: [revokeSessions, requirePasswordChange, disableAccount, disableDevices, confirmCompromised]\n",
            sim.tenant_id(),
            sim.client_id()
        );
        let mut set = manifest::load_str(Path::new("everything.yaml"), &text).unwrap();
        point_at(&mut set, sim);
        let dir = tempfile::tempdir().unwrap();
        let options = RunOptions {
            concurrency: 2,
            verify_timeout: Duration::from_secs(5),
            verify_poll: Duration::from_millis(100),
            stop: None,
        };
        let reports = revocations::run(
            &set,
            &env,
            &dir.path().join("state.json"),
            true,
            &options,
            &fast,
        )
        .await
        .unwrap();
        let counts = &reports[0].status.as_ref().unwrap().counts;
        assert_eq!(
            (counts.resolved, counts.failed),
            (2, 0),
            "{}",
            revocations::text(&reports)
        );

        let features = Features {
            policies: true,
            revocation_actions: [sessionops_api::RevocationAction::DisableDevices].into(),
            group_targets: true,
            ..Features::default()
        };
        let check = connection::check_token(&super::common::client(sim), &features)
            .await
            .unwrap();
        assert!(matches!(check.directory_roles, Some(Ok(_))), "{check:?}");
    }
}

/// The journal of the simulator: every request as received.
async fn journal(sim: &graph_sim::Simulator) -> Vec<Value> {
    let body: Value = reqwest::get(format!("{}/_sim/requests", sim.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["requests"].as_array().unwrap().clone()
}

fn journal_url(entry: &Value) -> String {
    let query: Vec<String> = entry["query"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            format!(
                "{}={}",
                pair[0].as_str().unwrap(),
                pair[1].as_str().unwrap()
            )
        })
        .collect();
    let path = entry["path"].as_str().unwrap();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

fn header<'a>(headers: &'a Value, name: &str) -> Option<&'a str> {
    headers
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

#[tokio::test]
async fn requests_the_client_sends_have_the_documented_shape() {
    let corpus = corpus();
    let sim = flows::tenant().await;
    flows::everything(&sim).await;
    let sent = journal(&sim).await;
    let types = representations();
    assert!(sent.len() > 20, "{} requests", sent.len());
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    for entry in &sent {
        let method = entry["method"].as_str().unwrap();
        let url = journal_url(entry);
        let Some(operation) = operation_of(&corpus, method, &url) else {
            problems.push(format!(
                "{method} {url}: no documented example of this call in tests/graph-docs"
            ));
            continue;
        };
        *seen.entry(operation.clone()).or_default() += 1;
        let documented: Vec<&Request> = corpus
            .iter()
            .filter(|e| e.operation == operation)
            .filter_map(|e| e.request.as_ref())
            .filter(|r| r.method.as_deref() == Some(method))
            .collect();
        // Query parameters: only ones the documentation uses for this call.
        let mut allowed: BTreeSet<String> = documented
            .iter()
            .filter_map(|r| r.url.as_deref())
            .flat_map(query_names)
            .collect();
        for (name, operations, _) in GENERAL_QUERY_PARAMETERS {
            if operations.contains(&operation.as_str()) {
                allowed.insert((*name).to_owned());
            }
        }
        for name in query_names(&url) {
            if !allowed.contains(&name) {
                problems.push(format!(
                    "{method} {url}: query parameter {name} appears in no documented {operation} request ({allowed:?})"
                ));
            }
        }
        // aad-advanced-queries.md: $count and OData casts on directory objects need
        // `ConsistencyLevel: eventual`, on every page.
        let advanced = query_names(&url).contains("$count") || url.contains("/microsoft.graph.");
        if advanced && header(&entry["headers"], "ConsistencyLevel") != Some("eventual") {
            problems.push(format!(
                "{method} {url}: an advanced query without ConsistencyLevel: eventual"
            ));
        }
        // Body keys: every key the client sends, at every depth, appears in a documented body
        // of the call (or, for a $batch envelope, of a documented batch).
        let body = &entry["body"];
        let batch_item = entry["batchItem"] == Value::Bool(true);
        if batch_item && ["POST", "PATCH", "PUT"].contains(&method) {
            // json-batching.md: a write item carries headers with Content-Type and a body,
            // even an empty one.
            if header(&entry["headers"], "Content-Type").is_none() || body.is_null() {
                problems.push(format!(
                    "{method} {url} in a $batch without Content-Type or body"
                ));
            }
        }
        if !body.is_null() && body != &Value::Object(Default::default()) {
            let mut documented_keys = BTreeSet::new();
            for request in &documented {
                if let Some(body) = &request.body {
                    key_paths(body, "", &mut documented_keys);
                }
            }
            let mut undocumented = Vec::new();
            if operation == "batch" {
                // The envelope: its items are checked as requests of their own (the journal
                // lists them after it), so only the envelope's keys are compared here.
                let mut sent = BTreeSet::new();
                key_paths(body, "", &mut sent);
                undocumented.extend(sent.into_iter().filter(|key| {
                    !key.starts_with("requests.body.")
                        && !key.starts_with("requests.headers.")
                        && !documented_keys.contains(key)
                }));
            } else {
                undocumented_keys(
                    body,
                    written_type(&operation, body),
                    &types,
                    &documented_keys,
                    "",
                    &mut undocumented,
                );
            }
            for key in undocumented {
                problems.push(format!(
                    "{method} {url}: body key {key} is documented neither by an example of {operation} nor by its resource type"
                ));
            }
        }
    }
    println!("client requests matched to documented operations: {seen:?}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    for operation in [
        "ca.policies.list",
        "ca.policies.create",
        "ca.policies.update",
        "ca.deletedPolicies.list",
        "ca.deletedPolicies.restore",
        "users.revokeSignInSessions",
        "users.update",
        "groups.transitiveMembers.list",
        "batch",
        "riskyUsers.confirmCompromised",
        "directoryRoleTemplates.list",
        "roleAssignments.list",
    ] {
        assert!(
            seen.contains_key(operation),
            "no {operation} sent: {seen:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// (b) The simulator against the documented requests.

/// Documented examples the simulator answers differently, each with why. The test fails if
/// one of them starts to agree (then it leaves this list) or another one disagrees.
/// docs/simulator.md lists the same differences for users of the simulator.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "authentication-strengths/auth-strengths-list-filter-allowedcombinations-v1.json",
        "a query feature sessionops does not use and the simulator does not implement ($filter with any())",
    ),
    (
        "conditional-access/policies-create-devices-beta.json",
        "an old page revision: includeProtectionLevels was renamed includeAuthenticationContextClassReferences",
    ),
    (
        "conditional-access/policies-create-mfa-noncompliant-devices-v1.json",
        "an old page revision: includeProtectionLevels (since renamed) and times (beta only today) in a v1.0 answer",
    ),
    (
        "devices/devices-get-select-extensionattributes-beta.json",
        "properties sessionops never reads, which the simulator does not model (extensionAttributes)",
    ),
    (
        "devices/devices-get-v1.json",
        "an old page revision: an @odata.id annotation on a device",
    ),
    (
        "devices/devices-update-extensionattributes-v1.json",
        "properties sessionops never reads, which the simulator does not model (extensionAttributes)",
    ),
    (
        "groups/groups-get-default-v1.json",
        "properties sessionops never reads, which the simulator does not model (classification, membershipRule, onPremises*, proxyAddresses …)",
    ),
    (
        "groups/groups-get-select-nondefault-v1.json",
        "properties sessionops never reads, which the simulator does not model (allowExternalSenders …)",
    ),
    (
        "groups/groups-list-all-v1.json",
        "properties sessionops never reads, which the simulator does not model (classification, membershipRule, onPremises*, proxyAddresses …)",
    ),
    (
        "groups/groups-list-count-only-v1.json",
        "a query feature sessionops does not use and the simulator does not implement (the $count segment)",
    ),
    (
        "groups/groups-list-filter-licenseerrors-count-v1.json",
        "a query feature sessionops does not use and the simulator does not implement (hasMembersWithLicenseErrors)",
    ),
    (
        "groups/groups-transitivemembers-cast-user-filter-startswith-count-v1.json",
        "a query feature sessionops does not use and the simulator does not implement ($orderby)",
    ),
    (
        "groups/groups-transitivemembers-cast-user-search-count-v1.json",
        "a query feature sessionops does not use and the simulator does not implement ($search, $orderby)",
    ),
    (
        "groups/groups-transitivemembers-count-only-v1.json",
        "a query feature sessionops does not use and the simulator does not implement (the $count segment)",
    ),
    (
        "identity-protection/riskyusers-get-v1.json",
        "the page wraps a single riskyUser in a value array",
    ),
    (
        "identity-protection/riskyusers-list-v1.json",
        "the page shows type names (\"Boolean\") as values",
    ),
    (
        "named-locations/named-locations-list-filter-country-any-v1.json",
        "a query feature sessionops does not use and the simulator does not implement ($filter with any() on a cast)",
    ),
    (
        "named-locations/named-locations-list-filter-created-after-v1.json",
        "a query feature sessionops does not use and the simulator does not implement (ge on createdDateTime)",
    ),
    (
        "named-locations/named-locations-list-filter-isof-ip-v1.json",
        "a query feature sessionops does not use and the simulator does not implement (isof)",
    ),
    (
        "sharepoint-settings/sharepoint-settings-get-v1.json",
        "the page wraps the settings in \"value\" while its update page returns them bare, as a single-valued navigation property does; the simulator answers bare and the client reads both",
    ),
    (
        "timeout-policies/activity-timeout-create-v1.json",
        "the page's definition is a placeholder (\"definition-value\"), which the simulator refuses as Graph would",
    ),
    (
        "timeout-policies/activity-timeout-update-v1.json",
        "the page's definition is a placeholder (\"definition-value\"), which the simulator refuses as Graph would",
    ),
    (
        "users/users-get-me-v1.json",
        "/me needs a signed-in user (delegated); sessionops and the simulator are app-only",
    ),
    (
        "users/users-get-select-customsecurityattributes-v1.json",
        "properties sessionops never reads, which the simulator does not model (customSecurityAttributes)",
    ),
    (
        "users/users-get-select-schemaextension-v1.json",
        "properties sessionops never reads, which the simulator does not model (schema extensions)",
    ),
    (
        "users/users-get-select-v1.json",
        "properties sessionops never reads, which the simulator does not model (postalCode …)",
    ),
    (
        "users/users-list-count-only-v1.json",
        "a query feature sessionops does not use and the simulator does not implement (the $count segment)",
    ),
    (
        "users/users-list-filter-assignedlicenses-select-v1.json",
        "a query feature sessionops does not use and the simulator does not implement ($filter with any())",
    ),
    (
        "users/users-list-filter-endswith-upn-guests-select-v1.json",
        "properties sessionops never reads, which the simulator does not model (identities)",
    ),
    (
        "users/users-list-filter-identities-signinname-v1.json",
        "a query feature sessionops does not use and the simulator does not implement ($filter with any() on identities)",
    ),
    (
        "users/users-list-search-displayname-count-v1.json",
        "a query feature sessionops does not use and the simulator does not implement ($search)",
    ),
    (
        "users/users-list-select-signinactivity-v1.json",
        "properties sessionops never reads, which the simulator does not model (signInActivity, which needs AuditLog.Read.All and P1)",
    ),
    (
        "users/users-registereddevices-list-me-v1.json",
        "/me needs a signed-in user (delegated); sessionops and the simulator are app-only",
    ),
    (
        "users/users-revokesigninsessions-me-beta.json",
        "/me needs a signed-in user (delegated); sessionops and the simulator are app-only",
    ),
    (
        "users/users-revokesigninsessions-me-v1.json",
        "/me needs a signed-in user (delegated); sessionops and the simulator are app-only",
    ),
    (
        "users/users-update-accountenabled-legacy-v1.json",
        "/me needs a signed-in user (delegated); sessionops and the simulator are app-only",
    ),
    (
        "users/users-update-by-id-v1.json",
        "the page's body sets profile properties that need User.ReadWrite.All, which the simulator's least-privilege app lacks: 403, as Graph would answer",
    ),
    (
        "users/users-update-me-v1.json",
        "/me needs a signed-in user (delegated); sessionops and the simulator are app-only",
    ),
];

/// Operations the simulator serves, so that their documented requests can be replayed.
const SERVED: &[&str] = &[
    "servicePrincipals.list",
    "ca.policies.list",
    "ca.policies.get",
    "ca.policies.create",
    "ca.policies.update",
    "ca.policies.delete",
    "ca.deletedPolicies.list",
    "ca.deletedPolicies.get",
    "ca.deletedPolicies.restore",
    "ca.deletedPolicies.delete",
    "ca.namedLocations.list",
    "ca.namedLocations.get",
    "ca.namedLocations.create",
    "ca.namedLocations.update",
    "ca.namedLocations.delete",
    "ca.deletedNamedLocations.list",
    "ca.deletedNamedLocations.get",
    "ca.deletedNamedLocations.restore",
    "ca.deletedNamedLocations.delete",
    "authStrengths.list",
    "authStrengths.get",
    "authStrengths.create",
    "authStrengths.update",
    "authStrengths.updateAllowedCombinations",
    "authStrengths.delete",
    "authStrengths.combinationConfigurations.list",
    "authStrengths.combinationConfigurations.get",
    "authStrengths.combinationConfigurations.create",
    "authStrengths.combinationConfigurations.update",
    "authStrengths.combinationConfigurations.delete",
    "activityBasedTimeoutPolicies.list",
    "activityBasedTimeoutPolicies.get",
    "activityBasedTimeoutPolicies.create",
    "activityBasedTimeoutPolicies.update",
    "activityBasedTimeoutPolicies.delete",
    "sharepointSettings.get",
    "sharepointSettings.update",
    "directoryRoleTemplates.list",
    "directoryRoleTemplates.get",
    "roleAssignments.list",
    "users.get",
    "users.get.select",
    "users.list",
    "users.update",
    "users.revokeSignInSessions",
    "users.registeredDevices.list",
    "groups.list",
    "groups.get",
    "groups.transitiveMembers.list",
    "devices.get",
    "devices.update",
    "riskyUsers.list",
    "riskyUsers.get",
    "riskyUsers.confirmCompromised",
    "riskyUsers.dismiss",
];

/// Whether `actual` (the simulator's) has every key of `documented` at every depth, with a
/// compatible value: the same JSON type, or null on either side. Differences are appended.
fn covers(documented: &Value, actual: &Value, path: &str, out: &mut Vec<String>) {
    match (documented, actual) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(doc), Value::Object(sim)) => {
            for (key, value) in doc {
                // Type-name placeholders ("Boolean", "String") are not values.
                match sim.get(key) {
                    None => out.push(format!("{path}.{key}: documented, missing")),
                    Some(actual) => covers(value, actual, &format!("{path}.{key}"), out),
                }
            }
        }
        (Value::Array(doc), Value::Array(sim)) => {
            // Compare like with like: the simulator's item of the documented item's type.
            if let Some(doc) = doc.first() {
                let same_type = sim
                    .iter()
                    .find(|s| {
                        doc.get("@odata.type").is_some()
                            && s.get("@odata.type") == doc.get("@odata.type")
                    })
                    .or(sim.first());
                if let Some(sim) = same_type {
                    covers(doc, sim, &format!("{path}[]"), out);
                }
            }
        }
        (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Number(_), Value::Number(_)) => {}
        (doc, sim) => out.push(format!("{path}: documented {doc}, simulator {sim}")),
    }
}

/// A simulator with the objects the documented requests name, and their ids.
struct Replay {
    sim: graph_sim::Simulator,
    token: String,
    ids: BTreeMap<&'static str, String>,
}

async fn replay_tenant(corpus: &[Example]) -> Replay {
    let seed = graph_sim::Seed::from_yaml(
        "users:\n  - userPrincipalName: jdoe@contoso.onmicrosoft.com\n    riskLevel: high\n    devices: [{displayName: JDOE-LAPTOP}]\ngroups:\n  - {displayName: incident, members: [jdoe@contoso.onmicrosoft.com]}\n",
    )
    .unwrap();
    let sim = common::start(graph_sim::SimConfig {
        seed: Some(seed),
        users: 3,
        ..common::quiet()
    })
    .await;
    let token: Value = reqwest::Client::new()
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            sim.base_url(),
            sim.tenant_id()
        ))
        .form(&[
            ("client_id", sim.client_id()),
            ("client_secret", sim.client_secret()),
            ("scope", "https://graph.microsoft.com/.default"),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let view: Value = reqwest::get(format!(
        "{}/_sim/users/jdoe@contoso.onmicrosoft.com",
        sim.base_url()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let mut ids = BTreeMap::new();
    ids.insert("user", view["id"].as_str().unwrap().to_owned());
    ids.insert(
        "device",
        view["registeredDevices"][0].as_str().unwrap().to_owned(),
    );
    let mut replay = Replay { sim, token, ids };
    let group: Value = replay
        .send(
            "GET",
            "v1.0",
            "/groups?$filter=displayName eq 'incident'",
            None,
        )
        .await
        .1;
    replay.ids.insert(
        "group",
        group["value"][0]["id"].as_str().unwrap().to_owned(),
    );
    // Objects made from Microsoft's own create examples.
    let create = |operation: &str| {
        // `….ip`: the create example of an ipNamedLocation.
        let (operation, ip) = match operation.strip_suffix(".ip") {
            Some(operation) => (operation, true),
            None => (operation, false),
        };
        corpus
            .iter()
            .filter(|e| e.operation == operation && e.api_version.as_deref() == Some("v1.0"))
            .find(|e| !ip || mentions_ip_location(e))
            .and_then(|e| e.request.as_ref())
            .map(|r| (r.url.clone().unwrap(), r.body.clone().unwrap()))
            .unwrap()
    };
    for (kind, operation, deleted) in [
        ("policy", "ca.policies.create", None),
        (
            "deletedPolicy",
            "ca.policies.create",
            Some("/identity/conditionalAccess/policies"),
        ),
        ("location", "ca.namedLocations.create", None),
        ("ipLocation", "ca.namedLocations.create.ip", None),
        (
            "deletedLocation",
            "ca.namedLocations.create",
            Some("/identity/conditionalAccess/namedLocations"),
        ),
        ("strength", "authStrengths.create", None),
        ("timeout", "activityBasedTimeoutPolicies.create", None),
    ] {
        let (url, mut body) = create(operation);
        if kind == "timeout" {
            // The page's example body holds placeholders ("definition-value"); the definition
            // format is the one activitybasedtimeoutpolicy.md describes.
            body = serde_json::json!({
                "displayName": "Idle timeout",
                "isOrganizationDefault": true,
                "definition": ["{\"ActivityBasedTimeoutPolicy\":{\"Version\":1,\"ApplicationPolicies\":[{\"ApplicationId\":\"default\",\"WebSessionIdleTimeout\":\"01:00:00\"}]}}"],
            });
        }
        if let Some(name) = body.get_mut("displayName") {
            *name = json_string(&format!("{} ({kind})", name.as_str().unwrap_or("x")));
        }
        let (status, created) = replay.send("POST", "v1.0", &url, Some(&body)).await;
        assert_eq!(status, 201, "{kind}: {created}");
        let id = created["id"].as_str().unwrap().to_owned();
        if let Some(collection) = deleted {
            let (status, _) = replay
                .send("DELETE", "v1.0", &format!("{collection}/{id}"), None)
                .await;
            assert_eq!(status, 204);
        }
        replay.ids.insert(kind, id);
    }
    // For the combination configuration examples: a strength allowing `fido2`, the only
    // combination a fido2CombinationConfiguration applies to (fido2combinationconfiguration.md),
    // and a configuration of it made from Microsoft's create example.
    let (url, mut body) = create("authStrengths.create");
    body["displayName"] = json_string("FIDO2 keys (fido2Strength)");
    body["allowedCombinations"] = serde_json::json!(["fido2"]);
    let (status, created) = replay.send("POST", "v1.0", &url, Some(&body)).await;
    assert_eq!(status, 201, "fido2Strength: {created}");
    replay
        .ids
        .insert("fido2Strength", created["id"].as_str().unwrap().to_owned());
    let example = corpus
        .iter()
        .find(|e| e.operation == "authStrengths.combinationConfigurations.create")
        .unwrap();
    let request = example.request.as_ref().unwrap();
    let url = replay.url(example, request.url.as_deref().unwrap());
    let (status, created) = replay
        .send("POST", "v1.0", &url, request.body.as_ref())
        .await;
    assert_eq!(status, 201, "configuration: {created}");
    replay
        .ids
        .insert("configuration", created["id"].as_str().unwrap().to_owned());
    replay
}

fn json_string(text: &str) -> Value {
    Value::String(text.to_owned())
}

impl Replay {
    async fn send(
        &self,
        method: &str,
        version: &str,
        url: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let client = reqwest::Client::new();
        let mut request = client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}/{version}{url}", self.sim.base_url()),
            )
            .bearer_auth(&self.token)
            .header("ConsistencyLevel", "eventual");
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// The documented URL with its ids (GUIDs, UPNs, placeholders) replaced by this tenant's.
    fn url(&self, example: &Example, url: &str) -> String {
        let operation = example.operation.as_str();
        let ip = mentions_ip_location(example);
        let (path, query) = url
            .split_once('?')
            .map_or((url, None), |(p, q)| (p, Some(q)));
        let mut out = String::new();
        let mut collection = "";
        for segment in path.split('/').filter(|s| !s.is_empty()) {
            if LITERAL_SEGMENTS
                .iter()
                .any(|literal| literal.eq_ignore_ascii_case(segment))
                || segment == "me"
                || segment.eq_ignore_ascii_case("transitivemembers")
            {
                out.push('/');
                out.push_str(segment);
                collection = segment;
                continue;
            }
            let kind = match (collection, operation.starts_with("ca.deleted")) {
                ("policies", true) if operation.contains("Policies") => "deletedPolicy",
                ("namedLocations", true) => "deletedLocation",
                ("policies", _) if operation.starts_with("ca.") => "policy",
                ("namedLocations", _) if ip => "ipLocation",
                ("namedLocations", _) => "location",
                ("policies" | "authenticationStrengthPolicies", _)
                    if operation.starts_with("authStrengths.combinationConfigurations.") =>
                {
                    "fido2Strength"
                }
                ("combinationConfigurations", _) => "configuration",
                ("authenticationStrengthPolicies", _) => "strength",
                ("activityBasedTimeoutPolicies", _) => "timeout",
                ("groups", _) => "group",
                ("devices", _) => "device",
                ("directoryRoleTemplates", _) => {
                    out.push_str("/62e90394-69f5-4237-9190-012177145e10");
                    continue;
                }
                _ => "user",
            };
            out.push('/');
            out.push_str(&self.ids[kind]);
        }
        match query {
            // The documented filter names the page's principal: ask about this tenant's app.
            Some(_) if operation == "roleAssignments.list" => {
                let principal = sessionops_sp(&self.sim);
                format!("{out}?$filter=principalId eq '{principal}'")
            }
            Some(query) => format!("{out}?{query}"),
            None => out,
        }
    }
}

/// Whether an example is about an ipNamedLocation (its fixture must be one too).
fn mentions_ip_location(example: &Example) -> bool {
    let text = serde_json::to_string(&(
        example.request.as_ref().and_then(|r| r.body.clone()),
        example.response.as_ref().and_then(|r| r.body.clone()),
    ))
    .unwrap();
    text.contains("ipNamedLocation")
}

/// The object id of the simulator's app registration's service principal (its tokens' oid).
fn sessionops_sp(sim: &graph_sim::Simulator) -> String {
    graph_sim::ids::derive(&format!("servicePrincipal:{}", sim.client_id()))
}

/// Ids in a documented body (confirmCompromised's `userIds`) replaced by this tenant's.
fn replay_body(replay: &Replay, body: &Option<Value>) -> Option<Value> {
    let mut body = body.clone()?;
    if let Some(ids) = body.get_mut("userIds").and_then(Value::as_array_mut) {
        for id in ids {
            *id = json_string(&replay.ids["user"]);
        }
    }
    Some(body)
}

#[tokio::test]
async fn the_simulator_answers_documented_requests_with_the_documented_shape() {
    let corpus = corpus();
    let mut differences: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut replayed = 0;
    for example in &corpus {
        if !SERVED.contains(&example.operation.as_str()) {
            continue;
        }
        let (Some(request), Some(response)) = (&example.request, &example.response) else {
            continue;
        };
        let (Some(method), Some(url), Some(version)) =
            (&request.method, &request.url, &example.api_version)
        else {
            continue;
        };
        // A fresh tenant for every example: deletes and restores change what the next sees.
        let replay = replay_tenant(&corpus).await;
        let target = replay.url(example, url);
        let body = replay_body(&replay, &request.body);
        let (status, answer) = replay.send(method, version, &target, body.as_ref()).await;
        replayed += 1;
        let mut found = Vec::new();
        if Some(status) != response.status {
            found.push(format!(
                "status {status}, documented {:?}: {answer}",
                response.status
            ));
        } else if let Some(documented) = &response.body
            && status != 204
        {
            covers(documented, &answer, "", &mut found);
        }
        if !found.is_empty() {
            differences.insert(example.file.clone(), found);
        }
        replay.sim.shutdown().await;
    }
    println!("documented requests replayed against the simulator: {replayed}");
    let known: BTreeMap<&str, &str> = KNOWN_DIFFERENCES.iter().copied().collect();
    let unexpected: Vec<String> = differences
        .iter()
        .filter(|(file, _)| !known.contains_key(file.as_str()))
        .map(|(file, found)| format!("{file}:\n    {}", found.join("\n    ")))
        .collect();
    let agreeing: Vec<&&str> = known
        .keys()
        .filter(|file| !differences.contains_key(**file))
        .collect();
    assert!(
        unexpected.is_empty(),
        "the simulator disagrees with Microsoft's documentation:\n{}",
        unexpected.join("\n")
    );
    assert!(
        agreeing.is_empty(),
        "listed as known differences but now agreeing (remove them): {agreeing:?}"
    );
    assert!(replayed >= 40, "{replayed} replayed");
    // docs/simulator.md lists the same differences for the simulator's users.
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/simulator.md"))
            .unwrap();
    for (file, _) in KNOWN_DIFFERENCES {
        assert!(
            docs.contains(file),
            "docs/simulator.md does not list the known difference {file}"
        );
    }
}
