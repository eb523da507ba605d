//! `sessionops export`: the tenant's Conditional Access and idle sign-out as a tree of
//! manifests, `<plural>/<name>.yaml` (`namedlocations/`, `authenticationstrengths/`,
//! `sessionpolicies/`, `idletimeoutpolicies/`),
//! ids turned back into names where they resolve uniquely. One paged LIST per kind (policies
//! and named locations through beta, so beta-only content is exported too) and a few batched
//! lookups, whatever the size. Every manifest is checked before it is written: it must pass
//! `validate` and plan back to no change.

use std::path::Path;

use kube::ResourceExt;
use serde::Serialize;
use serde_json::{Value, json};

use sessionops_api::manifest::{self, ManifestSet, Object};
use sessionops_api::{ConnectionSettings, Kind, TenantKind, TenantRef};
use sessionops_core::authentication_strength::export::spec_from_strength;
use sessionops_core::connection::config::{Environment, config_from_environment};
use sessionops_core::directory::{self, IdRequests};
use sessionops_core::idle_timeout::export::spec_from_timeout_policy;
use sessionops_core::named_location::export::spec_from_location;
use sessionops_core::session_policy::export as policy_export;
use sessionops_core::tenant_object::export::{Exported as Export, Unexportable, object_name};
use sessionops_graph::models::{
    ActivityBasedTimeoutPolicy, AuthenticationStrengthPolicy, ConditionalAccessPolicy,
    IdleSessionSignOut, NamedLocation, SharePointSettings,
};
use sessionops_graph::paths;

use super::render::printable;
use sessionops_graph::{ApiVersion, GraphClient, GraphConfig, GraphError, GraphRequest};

/// One exported manifest.
#[derive(Clone, Debug)]
pub struct Exported {
    /// Its kind.
    pub kind: Kind,
    /// Path relative to the output directory: `<plural>/<name>.yaml`.
    pub file_name: String,
    /// The source object's id in the tenant.
    pub id: String,
    /// The manifest text (YAML with a comment header).
    pub yaml: String,
}

/// A tenant object export leaves out by design (a built-in strength, the compliant-network
/// location): named, not an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeftOut {
    /// The kind it would be.
    pub kind: Kind,
    /// Its id.
    pub id: String,
    /// Its display name.
    pub display_name: String,
    /// Why no manifest owns it.
    pub why: &'static str,
}

/// What an export produced.
#[derive(Clone, Debug, Default)]
pub struct ExportResult {
    /// Exported manifests: named locations, then strengths, then policies.
    pub exported: Vec<Exported>,
    /// Objects that could not be represented, with reasons.
    pub skipped: Vec<Unexportable>,
    /// Objects no manifest manages.
    pub left_out: Vec<LeftOut>,
    /// Exported objects holding content this build does not model, left as it is.
    pub partial: Vec<Partial>,
}

/// An exported object with content this build does not model (a property Graph added later):
/// the manifest manages everything else; that content stays as it is in the tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partial {
    /// Its kind.
    pub kind: Kind,
    /// Its id.
    pub id: String,
    /// Its display name.
    pub display_name: String,
    /// The content left as it is, by JSON path.
    pub unmodelled: Vec<String>,
}

/// The tenant connection of the `--tenant` file and the tenantRef exported manifests use.
pub fn connection(
    set: &ManifestSet,
) -> Result<(&dyn ConnectionSettings, TenantRef, String), String> {
    let connections: Vec<&Object> = set
        .objects
        .iter()
        .map(|o| &o.object)
        .filter(|o| {
            matches!(
                o,
                Object::ClusterTenantConnection(_) | Object::TenantConnection(_)
            )
        })
        .collect();
    match connections.as_slice() {
        [Object::ClusterTenantConnection(c)] => {
            let namespace = c
                .spec
                .allowed_namespaces
                .iter()
                .find(|n| *n != "*")
                .cloned()
                .unwrap_or_else(|| "default".into());
            Ok((
                &c.spec,
                TenantRef {
                    kind: TenantKind::ClusterTenantConnection,
                    name: c.name_any(),
                },
                namespace,
            ))
        }
        [Object::TenantConnection(c)] => Ok((
            &c.spec,
            TenantRef {
                kind: TenantKind::TenantConnection,
                name: c.name_any(),
            },
            c.namespace().unwrap_or_default(),
        )),
        [] => Err("the --tenant file holds no ClusterTenantConnection or TenantConnection".into()),
        _ => Err("the --tenant file holds several tenant connections; give one".into()),
    }
}

/// Exports every policy, named location and custom authentication strength of the tenant.
pub async fn export(
    settings: &dyn ConnectionSettings,
    tenant_ref: &TenantRef,
    namespace: &str,
    env: &dyn Environment,
    configure: &dyn Fn(&mut GraphConfig),
) -> Result<ExportResult, GraphError> {
    let mut config = config_from_environment(settings, env)?;
    configure(&mut config);
    let client = GraphClient::new(config)?;
    let policies: Vec<ConditionalAccessPolicy> = client
        .list_all(GraphRequest::get(paths::CONDITIONAL_ACCESS_POLICIES).version(ApiVersion::Beta))
        .await?;
    // Beta lists the compliant-network location too (beta `compliantnetworknamedlocation.md`),
    // so that it is named as left out rather than unknown.
    let locations: Vec<NamedLocation> = client
        .list_all(GraphRequest::get(paths::NAMED_LOCATIONS).version(ApiVersion::Beta))
        .await?;
    let strengths: Vec<AuthenticationStrengthPolicy> = client
        .list_all(GraphRequest::get(paths::AUTHENTICATION_STRENGTH_POLICIES))
        .await?;
    let ids = IdRequests::of_policies(&policies);
    let names = directory::names_for_ids(&client, &ids, &locations, &strengths).await?;
    let mut writer = Writer {
        exported_at: jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
        namespace,
        result: ExportResult::default(),
        used: Default::default(),
    };
    for location in &locations {
        let source = Source {
            kind: Kind::NamedLocation,
            noun: "named location",
            id: location.id.as_deref().unwrap_or_default(),
            display_name: &location.display_name,
            modified: location.modified_date_time.as_deref(),
            note: String::new(),
        };
        writer.add(source, spec_from_location(location, tenant_ref))?;
    }
    for strength in &strengths {
        let source = Source {
            kind: Kind::AuthenticationStrength,
            noun: "authentication strength",
            id: &strength.id,
            display_name: &strength.display_name,
            modified: strength
                .extra
                .get("modifiedDateTime")
                .and_then(Value::as_str),
            note: String::new(),
        };
        writer.add(source, spec_from_strength(strength, tenant_ref))?;
    }
    for policy in &policies {
        let source = Source {
            kind: Kind::SessionPolicy,
            noun: "Conditional Access policy",
            id: policy.id.as_deref().unwrap_or_default(),
            display_name: &policy.display_name,
            modified: policy.modified_date_time.as_deref(),
            note: policy
                .template_id
                .as_deref()
                .map(|t| format!("# Created from the Microsoft template {t:?} (templateId is read-only and not managed).\n"))
                .unwrap_or_default(),
        };
        let spec = policy_export::spec_from_policy(policy, &names, tenant_ref);
        writer.add(source, spec)?;
    }
    export_idle_timeouts(&client, tenant_ref, &mut writer).await?;
    Ok(writer.result)
}

/// The organization-default activity-based timeout policy, with SharePoint's idle sign-out
/// when it is on. SharePoint's setting needs `SharePointTenantSettings.Read.All`: without it
/// the policy is exported without `sharePoint` and the setting is named as left as it is.
async fn export_idle_timeouts(
    client: &GraphClient,
    tenant_ref: &TenantRef,
    writer: &mut Writer<'_>,
) -> Result<(), GraphError> {
    let timeouts: Vec<ActivityBasedTimeoutPolicy> = client
        .list_all(GraphRequest::get(paths::ACTIVITY_BASED_TIMEOUT_POLICIES))
        .await?;
    let share_point: Result<Option<IdleSessionSignOut>, &'static str> = match client
        .send_json::<Value>(GraphRequest::get(paths::SHAREPOINT_SETTINGS))
        .await
    {
        Ok(body) => Ok(SharePointSettings::from_response(body)
            .map_err(|e| {
                protocol(format!(
                    "{} is not a sharepointSettings: {e}",
                    paths::SHAREPOINT_SETTINGS
                ))
            })?
            .idle_session_sign_out),
        Err(GraphError::Forbidden { .. }) => Err(
            "SharePoint's idleSessionSignOut (not read: the app lacks SharePointTenantSettings.Read.All)",
        ),
        Err(error) => return Err(error),
    };
    let share_point_on = matches!(&share_point, Ok(Some(s)) if s.is_enabled == Some(true));
    let mut exported_default = false;
    for timeout in &timeouts {
        exported_default |= timeout.is_organization_default == Some(true);
        let source = Source {
            kind: Kind::IdleTimeoutPolicy,
            noun: "activity-based timeout policy",
            id: timeout.id.as_deref().unwrap_or_default(),
            display_name: &timeout.display_name,
            modified: None,
            note: String::new(),
        };
        let setting = share_point.as_ref().ok().and_then(Option::as_ref);
        let spec = spec_from_timeout_policy(timeout, setting, tenant_ref).map(|exported| {
            match (&share_point, exported) {
                (Err(unread), Export::Spec(spec)) => Export::Partial {
                    spec,
                    unmodelled: vec![(*unread).to_owned()],
                },
                (
                    Err(unread),
                    Export::Partial {
                        spec,
                        mut unmodelled,
                    },
                ) => {
                    unmodelled.push((*unread).to_owned());
                    Export::Partial { spec, unmodelled }
                }
                (_, exported) => exported,
            }
        });
        writer.add(source, spec)?;
    }
    if share_point_on && !exported_default {
        writer.result.left_out.push(LeftOut {
            kind: Kind::IdleTimeoutPolicy,
            id: String::new(),
            display_name: "SharePoint idle session sign-out".to_owned(),
            why: "an IdleTimeoutPolicy carries it with the organization's activity-based timeout, and the tenant has none",
        });
    }
    Ok(())
}

/// The tenant object a manifest comes from, as its header names it.
struct Source<'a> {
    kind: Kind,
    noun: &'static str,
    id: &'a str,
    display_name: &'a str,
    modified: Option<&'a str>,
    /// More header lines.
    note: String,
}

struct Writer<'a> {
    exported_at: String,
    namespace: &'a str,
    result: ExportResult,
    /// File names taken, per kind.
    used: std::collections::BTreeSet<(Kind, String)>,
}

impl Writer<'_> {
    fn add<S: Serialize>(
        &mut self,
        source: Source<'_>,
        exported: Result<Export<S>, Unexportable>,
    ) -> Result<(), GraphError> {
        let (spec, unmodelled) = match exported {
            Ok(Export::Spec(spec)) => (spec, Vec::new()),
            Ok(Export::Partial { spec, unmodelled }) => (spec, unmodelled),
            Ok(Export::LeftOut(why)) => {
                self.result.left_out.push(LeftOut {
                    kind: source.kind,
                    id: source.id.to_owned(),
                    display_name: source.display_name.to_owned(),
                    why,
                });
                return Ok(());
            }
            Err(unexportable) => {
                self.result.skipped.push(unexportable);
                return Ok(());
            }
        };
        let name = self.file_name(source.kind, source.display_name, source.id);
        let spec = sessionops_core::tenant_object::export::strip_empty(
            serde_json::to_value(&spec)
                .map_err(|e| protocol(format!("cannot write the spec: {e}")))?,
        );
        let manifest = json!({
            "apiVersion": "sessionops.io/v1alpha1",
            "kind": source.kind.as_str(),
            "metadata": {"name": name, "namespace": self.namespace},
            "spec": spec,
        });
        // Tenant text in a comment is escaped (`{:?}`, `printable`): a newline in it would
        // otherwise end the comment and write YAML of the tenant's choosing.
        let header = format!(
            "# Exported by `sessionops export` on {} from {}\n# {} ({:?}, last modified {}).\n{}# Applying it unchanged changes nothing in the tenant.\n",
            self.exported_at,
            source.noun,
            printable(source.id),
            source.display_name,
            printable(source.modified.unwrap_or("unknown")),
            source.note,
        );
        let header = if unmodelled.is_empty() {
            header
        } else {
            format!(
                "{header}# Not in this manifest and left as it is in the tenant (this build does not model it):\n# {}\n",
                printable(&unmodelled.join(", "))
            )
        };
        let yaml = serde_saphyr::to_string(&manifest)
            .map_err(|e| protocol(format!("cannot write YAML: {e}")))?;
        let file_name = format!("{}/{name}.yaml", source.kind.info().plural);
        let yaml = format!("{header}{yaml}");
        // What is written must load as `validate` loads it (schema and CEL rules): a value
        // Graph accepts but the CRD does not is named, never written.
        if let Err(errors) = manifest::load_str(Path::new(&file_name), &yaml) {
            self.used.remove(&(source.kind, name));
            self.result.skipped.push(Unexportable {
                kind: source.kind,
                id: source.id.to_owned(),
                display_name: source.display_name.to_owned(),
                reasons: vec![format!("the manifest would not validate: {errors}")],
            });
            return Ok(());
        }
        if !unmodelled.is_empty() {
            self.result.partial.push(Partial {
                kind: source.kind,
                id: source.id.to_owned(),
                display_name: source.display_name.to_owned(),
                unmodelled,
            });
        }
        self.result.exported.push(Exported {
            kind: source.kind,
            file_name,
            id: source.id.to_owned(),
            yaml,
        });
        Ok(())
    }
}

impl Writer<'_> {
    /// A file name for the object not yet taken by its kind: the display name as a Kubernetes
    /// name, then with the id's first characters, then with a counter.
    fn file_name(&mut self, kind: Kind, display_name: &str, id: &str) -> String {
        let base = object_name(display_name);
        let short: String = id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(8)
            .collect::<String>()
            .to_lowercase();
        let short = if short.is_empty() {
            "0".to_owned()
        } else {
            short
        };
        // 50 + `-` + 8 + `-` + a counter below 1000: within the 63 of a Kubernetes name.
        let stem: String = base.chars().take(50).collect();
        let stem = stem.trim_end_matches('-');
        let candidates = std::iter::once(base.clone())
            .chain(std::iter::once(format!("{stem}-{short}")))
            .chain((2..).map(|n| format!("{stem}-{short}-{n}")));
        for name in candidates {
            if self.used.insert((kind, name.clone())) {
                return name;
            }
        }
        unreachable!("the counter never runs out")
    }
}

fn protocol(detail: String) -> GraphError {
    GraphError::Protocol {
        detail,
        ids: Default::default(),
    }
}

/// Writes the manifests into `dir/<plural>/` (atomically, one file each).
pub fn write(result: &ExportResult, dir: &Path) -> std::io::Result<()> {
    for exported in &result.exported {
        let path = dir.join(&exported.file_name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        crate::util::write_atomic(&path, exported.yaml.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two objects of a kind that share a display name, and ids that share their first
    /// characters, still get files of their own, each a valid Kubernetes name.
    #[test]
    fn file_names_never_collide_and_stay_valid_names() {
        let mut writer = Writer {
            exported_at: String::new(),
            namespace: "identity",
            result: ExportResult::default(),
            used: Default::default(),
        };
        let long = "Block legacy authentication for every user in every country ".repeat(2);
        let names: Vec<String> = [
            "33333333-cccc-4ccc-8ccc-000000000001",
            "33333333-cccc-4ccc-8ccc-000000000002",
            "33333333-cccc-4ccc-8ccc-000000000003",
        ]
        .iter()
        .map(|id| writer.file_name(Kind::SessionPolicy, &long, id))
        .collect();
        assert_eq!(
            names
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            3
        );
        assert!(names[1].ends_with("-33333333") && names[2].ends_with("-33333333-2"));
        for name in &names {
            assert!(name.len() <= 63 && !name.ends_with('-'), "{name}");
        }
        // Another kind may use the same name.
        assert_eq!(writer.file_name(Kind::NamedLocation, &long, "l"), names[0]);
    }
}
