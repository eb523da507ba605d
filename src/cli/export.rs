//! `sessionops export`: one SessionPolicy manifest per Conditional Access policy of the tenant,
//! ids turned back into names where they resolve uniquely. One paged LIST of policies (through
//! beta, so beta-only controls are exported too) and a few batched lookups, whatever the size.

use std::path::Path;

use kube::ResourceExt;
use serde_json::json;

use sessionops_api::manifest::{ManifestSet, Object};
use sessionops_api::{ConnectionSettings, TenantKind, TenantRef};
use sessionops_core::connection::config::{Environment, config_from_environment};
use sessionops_core::directory::{self, IdRequests};
use sessionops_core::session_policy::export::{self, Unexportable};
use sessionops_graph::models::ConditionalAccessPolicy;
use sessionops_graph::paths::CONDITIONAL_ACCESS_POLICIES as POLICIES;
use sessionops_graph::{ApiVersion, GraphClient, GraphConfig, GraphError, GraphRequest};

/// One exported manifest.
#[derive(Clone, Debug)]
pub struct Exported {
    /// Suggested file name.
    pub file_name: String,
    /// The source policy id.
    pub policy_id: String,
    /// The manifest text (YAML with a comment header).
    pub yaml: String,
}

/// What an export produced.
#[derive(Clone, Debug, Default)]
pub struct ExportResult {
    /// Exported manifests.
    pub exported: Vec<Exported>,
    /// Policies that could not be represented, with reasons.
    pub skipped: Vec<Unexportable>,
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

/// Exports every policy of the tenant.
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
        .list_all(GraphRequest::get(POLICIES).version(ApiVersion::Beta))
        .await?;
    let ids = IdRequests::of_policies(&policies);
    let names = directory::names_for_ids(&client, &ids).await?;
    let exported_at = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let mut result = ExportResult::default();
    let mut used = std::collections::BTreeSet::new();
    for policy in &policies {
        match export::spec_from_policy(policy, &names, tenant_ref) {
            Ok(spec) => {
                let mut name = export::object_name(&policy.display_name);
                while !used.insert(name.clone()) {
                    name = format!(
                        "{}-{}",
                        name.chars().take(54).collect::<String>(),
                        &policy
                            .id
                            .clone()
                            .unwrap_or_default()
                            .chars()
                            .take(8)
                            .collect::<String>()
                    );
                }
                let manifest = json!({
                    "apiVersion": "sessionops.io/v1alpha1",
                    "kind": "SessionPolicy",
                    "metadata": {"name": name, "namespace": namespace},
                    "spec": spec,
                });
                let id = policy.id.clone().unwrap_or_default();
                let template = policy
                    .template_id
                    .as_deref()
                    .map(|t| format!("# Created from the Microsoft template {t:?} (templateId is read-only and not managed).\n"))
                    .unwrap_or_default();
                let header = format!(
                    "# Exported by `sessionops export` on {exported_at} from Conditional Access policy\n# {id} ({:?}, last modified {}).\n{template}# Applying it unchanged changes nothing in the tenant.\n",
                    policy.display_name,
                    policy.modified_date_time.as_deref().unwrap_or("unknown")
                );
                let yaml =
                    serde_saphyr::to_string(&manifest).map_err(|e| GraphError::Protocol {
                        detail: format!("cannot write YAML: {e}"),
                        ids: Default::default(),
                    })?;
                result.exported.push(Exported {
                    file_name: format!("{name}.yaml"),
                    policy_id: id,
                    yaml: format!("{header}{yaml}"),
                });
            }
            Err(unexportable) => result.skipped.push(unexportable),
        }
    }
    Ok(result)
}

/// Writes the manifests into `dir` (atomically, one file each).
pub fn write(result: &ExportResult, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for exported in &result.exported {
        crate::util::write_atomic(&dir.join(&exported.file_name), exported.yaml.as_bytes())?;
    }
    Ok(())
}
