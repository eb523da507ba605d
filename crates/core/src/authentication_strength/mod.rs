//! AuthenticationStrength → one custom authentication strength policy, on the tenant-object
//! seam. Unlike the other kinds, one strength is written through three calls, as Graph
//! documents them: PATCH changes only `displayName` and `description`
//! (`authenticationstrengthpolicy-update.md`), the allowed combinations change only through
//! `updateAllowedCombinations` (`authenticationstrengthpolicy-updateallowedcombinations.md`),
//! and combination configurations are a collection of their own
//! (`authenticationstrengthpolicy-post-combinationconfigurations.md`). The plan stays the
//! seam's (one PATCH-shaped body of what differs); [`SeamKind::apply`] splits it into those
//! calls. Built-in strengths are never written: a spec that names one is refused.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::directory::resolve::NameKind;
use crate::failure::Failure;
use crate::session_policy::sync::refuse_while_used;
use crate::status::Reason;
use crate::tenant_object::io::{self, Applied, AppliedAction, Endpoints, TenantObjects};
use crate::tenant_object::kind::{Managed, ManagedNames, SeamKind};
use crate::tenant_object::{self, Field, Found, Plan, TenantObject};
use sessionops_api::{
    AuthenticationStrength, AuthenticationStrengthSpec, AuthenticationStrengthStatus,
    DeletionPolicy, Kind, ProtectedPrincipals, TenantRef,
};
use sessionops_graph::models::{
    AuthenticationStrengthPolicy, CombinationConfiguration, FIDO2_COMBINATION_CONFIGURATION_TYPE,
    X509_COMBINATION_CONFIGURATION_TYPE,
};
use sessionops_graph::{ApiVersion, GraphClient, GraphError, GraphRequest, paths};

/// Where strengths live. They have no deleted items: a deleted strength is gone.
pub const ENDPOINTS: Endpoints = Endpoints {
    noun: "authentication strength",
    collection: paths::AUTHENTICATION_STRENGTH_POLICIES,
    item: paths::authentication_strength_policy,
    deleted: None,
};

/// At most 15 custom strengths per tenant (entra-docs
/// `docs/identity/authentication/concept-authentication-strength-advanced-options.md`: "create
/// up to 15 of their own custom authentication strengths").
pub const MAX_CUSTOM_STRENGTHS: usize = 15;

/// The strength's display name when the spec gives none.
pub fn default_display_name(namespace: &str, name: &str) -> String {
    format!("sessionops {namespace}/{name}")
}

/// The strength a spec asks for, its configurations included.
pub fn desired_strength(
    spec: &AuthenticationStrengthSpec,
    namespace: &str,
    name: &str,
) -> AuthenticationStrengthPolicy {
    let mut configurations = Vec::new();
    if let Some(fido2) = &spec.fido2 {
        configurations.push(CombinationConfiguration {
            odata_type: Some(FIDO2_COMBINATION_CONFIGURATION_TYPE.to_owned()),
            applies_to_combinations: vec!["fido2".to_owned()],
            allowed_aaguids: Some(fido2.allowed_aaguids.clone()),
            ..Default::default()
        });
    }
    for certificate in spec.certificates.iter().flatten() {
        configurations.push(CombinationConfiguration {
            odata_type: Some(X509_COMBINATION_CONFIGURATION_TYPE.to_owned()),
            applies_to_combinations: vec![certificate.applies_to.as_str().to_owned()],
            allowed_issuer_skis: Some(certificate.allowed_issuer_skis.clone()),
            allowed_policy_oids: Some(certificate.allowed_policy_oids.clone()),
            ..Default::default()
        });
    }
    AuthenticationStrengthPolicy {
        display_name: spec
            .display_name
            .clone()
            .unwrap_or_else(|| default_display_name(namespace, name)),
        description: spec.description.clone(),
        allowed_combinations: spec.allowed_combinations.clone(),
        combination_configurations: configurations,
        ..Default::default()
    }
}

impl TenantObject for AuthenticationStrengthPolicy {
    fn id(&self) -> Option<&str> {
        (!self.id.is_empty()).then_some(self.id.as_str())
    }

    fn display_name(&self) -> &str {
        &self.display_name
    }

    fn deleted_date_time(&self) -> Option<&str> {
        None
    }

    /// The POST body plus the configurations (sent by [`SeamKind::apply`] one by one after
    /// the strength exists), so that a plan shows the whole strength.
    fn write_body(&self) -> Value {
        let mut body = self.to_write_body();
        body["combinationConfigurations"] = Value::Array(
            self.combination_configurations
                .iter()
                .map(CombinationConfiguration::to_write_body)
                .collect(),
        );
        body
    }

    /// Every field is top-level: nothing is ever cleared around unmanaged content.
    fn cleared() -> Value {
        json!({})
    }
}

/// A combination in canonical form: modes trimmed and sorted (`password, sms` and
/// `sms,password` are one combination).
fn combination(text: &str) -> String {
    let mut modes: Vec<String> = text.split(',').map(|m| m.trim().to_lowercase()).collect();
    modes.sort();
    modes.join(",")
}

fn sorted(values: Option<&Vec<String>>, case: fn(&str) -> String) -> Vec<String> {
    let set: BTreeSet<String> = values.into_iter().flatten().map(|v| case(v)).collect();
    set.into_iter().collect()
}

/// A configuration in canonical form (ids and annotations aside).
fn configuration(c: &CombinationConfiguration) -> Value {
    json!({
        "type": c.odata_type.as_deref().unwrap_or("").trim_start_matches('#').to_lowercase(),
        "appliesTo": c.applies_to_combinations.iter().map(|a| combination(a)).collect::<BTreeSet<_>>(),
        "aaguids": sorted(c.allowed_aaguids.as_ref(), str::to_lowercase),
        "issuers": sorted(c.allowed_issuer_skis.as_ref(), str::to_uppercase),
        "oids": sorted(c.allowed_policy_oids.as_ref(), str::to_owned),
    })
}

/// Every managed field.
pub const FIELDS: &[Field<AuthenticationStrengthPolicy>] = &[
    Field::new("displayName", |s| json!(s.display_name)),
    Field::new("description", |s| {
        json!(s.description.as_deref().unwrap_or(""))
    }),
    Field::new("allowedCombinations", |s| {
        json!(
            s.allowed_combinations
                .iter()
                .map(|c| combination(c))
                .collect::<BTreeSet<_>>()
        )
    }),
    Field::new("combinationConfigurations", |s| {
        let mut all: Vec<Value> = s
            .combination_configurations
            .iter()
            .map(configuration)
            .collect();
        all.sort_by_key(Value::to_string);
        Value::Array(all)
    }),
];

/// Why an AuthenticationStrength cannot be planned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StrengthError {
    /// Another AuthenticationStrength manages the same display name.
    #[error(
        "displayName {display_name:?} is also claimed by {other}; one authentication strength per displayName"
    )]
    Conflict {
        /// The contested name.
        display_name: String,
        /// The other object (`namespace/name`).
        other: String,
    },
    /// Several tenant strengths share the display name.
    #[error("{count} authentication strengths are named {display_name:?} in the tenant ({}): rename or delete all but one", .ids.join(", "))]
    DuplicateInTenant {
        /// The name.
        display_name: String,
        /// How many.
        count: usize,
        /// Their ids.
        ids: Vec<String>,
    },
    /// The display name is a built-in strength's, which cannot be changed.
    #[error(
        "{display_name:?} is the built-in authentication strength {id}: built-ins cannot be changed; require it by name from a SessionPolicy instead, or give this strength another displayName"
    )]
    BuiltIn {
        /// The name.
        display_name: String,
        /// The built-in's id.
        id: String,
    },
    /// The tenant holds the most custom strengths Entra allows.
    #[error(
        "the tenant already has {MAX_CUSTOM_STRENGTHS} custom authentication strengths, the most Entra allows: delete one or reuse one"
    )]
    LimitReached,
}

impl From<StrengthError> for Failure {
    fn from(error: StrengthError) -> Failure {
        Failure::refused(Reason::Conflict, error.to_string())
    }
}

fn is_built_in(strength: &AuthenticationStrengthPolicy) -> bool {
    strength.policy_type.as_deref() == Some("builtIn")
}

/// The plan for `desired` given the tenant's strengths (built-in and custom).
pub fn plan(
    desired: &AuthenticationStrengthPolicy,
    recorded_id: Option<&str>,
    tenant: &[AuthenticationStrengthPolicy],
) -> Result<Plan, StrengthError> {
    let found = tenant_object::find(recorded_id, &desired.display_name, tenant).map_err(|d| {
        StrengthError::DuplicateInTenant {
            display_name: d.display_name,
            count: d.count,
            ids: d.ids,
        }
    })?;
    match found {
        Found::ById(observed) | Found::ByName(observed) if is_built_in(observed) => {
            Err(StrengthError::BuiltIn {
                display_name: observed.display_name.clone(),
                id: observed.id.clone(),
            })
        }
        Found::Missing
            if tenant.iter().filter(|s| !is_built_in(s)).count() >= MAX_CUSTOM_STRENGTHS =>
        {
            Err(StrengthError::LimitReached)
        }
        found => Ok(tenant_object::plan(
            FIELDS,
            desired,
            ApiVersion::V1,
            found,
            false,
        )),
    }
}

pub mod export;

crate::seam_status!(AuthenticationStrengthStatus, strength_id);

/// What planning the AuthenticationStrengths of one tenant needs: one LIST of the strengths
/// (configurations expanded, as `authenticationstrengthroot-list-policies.md` shows them).
#[derive(Clone, Debug, Default)]
pub struct StrengthRead {
    /// The tenant's strengths.
    pub strengths: TenantObjects<AuthenticationStrengthPolicy>,
}

impl SeamKind for AuthenticationStrength {
    type Spec = AuthenticationStrengthSpec;
    type Status = AuthenticationStrengthStatus;
    type Desired = AuthenticationStrengthPolicy;
    type Error = StrengthError;
    type Read = StrengthRead;

    const KIND: Kind = Kind::AuthenticationStrength;
    const NOUN: &'static str = "authentication strength";
    const FINALIZER: &'static str = "sessionops.io/tenant-authentication-strength";

    fn spec(&self) -> &AuthenticationStrengthSpec {
        &self.spec
    }

    fn status(&self) -> Option<&AuthenticationStrengthStatus> {
        self.status.as_ref()
    }

    fn tenant_ref(spec: &AuthenticationStrengthSpec) -> &TenantRef {
        &spec.tenant_ref
    }

    fn deletion_policy(spec: &AuthenticationStrengthSpec) -> DeletionPolicy {
        spec.deletion_policy
    }

    fn display_name(spec: &AuthenticationStrengthSpec, namespace: &str, name: &str) -> String {
        spec.display_name
            .clone()
            .unwrap_or_else(|| default_display_name(namespace, name))
    }

    fn referred_as() -> Option<NameKind> {
        Some(NameKind::AuthenticationStrength)
    }

    fn conflict(display_name: String, other: String) -> StrengthError {
        StrengthError::Conflict {
            display_name,
            other,
        }
    }

    async fn read(
        client: &GraphClient,
        _: &ProtectedPrincipals,
        _: &[Managed<Self>],
    ) -> Result<StrengthRead, Failure> {
        Ok(StrengthRead {
            strengths: io::read(client, &ENDPOINTS, false).await?,
        })
    }

    fn serves(_: &StrengthRead, _: &ProtectedPrincipals, _: &Managed<Self>) -> bool {
        true
    }

    fn plan(
        read: &StrengthRead,
        target: &Managed<Self>,
        _: &ManagedNames,
    ) -> (
        Option<AuthenticationStrengthPolicy>,
        Result<Plan, StrengthError>,
    ) {
        let desired = desired_strength(&target.spec, &target.namespace, &target.name);
        let plan = plan(&desired, target.recorded_id(), &read.strengths.active);
        (Some(desired), plan)
    }

    async fn apply(client: &GraphClient, plan: &Plan) -> Result<Applied, GraphError> {
        apply(client, plan).await
    }

    fn record(read: &mut StrengthRead, plan: &Plan, applied: &Applied) -> bool {
        read.strengths.record(plan, applied)
    }

    /// Refused while a Conditional Access policy still requires the strength (Graph refuses
    /// it too, entra-docs `concept-authentication-strength-advanced-options.md`: "If it's
    /// referenced by a Conditional Access policy, it can't be deleted"; the error is
    /// undocumented, so sessionops checks first and names the policies).
    async fn delete(client: &GraphClient, id: &str) -> Result<(), Failure> {
        refuse_while_used(
            client,
            |p| {
                p.grant_controls
                    .as_ref()
                    .and_then(|g| g.authentication_strength.as_ref())
                    .and_then(|s| s.id.as_deref())
                    .is_some_and(|s| s.eq_ignore_ascii_case(id))
            },
            |users| {
                format!(
                    "authentication strength {id} is still required by Conditional Access {users}: remove it from them first (it is deleted once no policy requires it)"
                )
            },
        )
        .await?;
        Ok(io::delete(client, &ENDPOINTS, id).await?)
    }

    fn forget(read: &mut StrengthRead, id: &str) {
        read.strengths.forget(id);
    }

    fn deleted_note() -> &'static str {
        "authentication strengths have no deleted items"
    }
}

/// The id of an object a POST created.
#[derive(serde::Deserialize)]
struct Created {
    id: String,
}

/// Makes the writes of one plan: the strength, then its configurations (see the module
/// comment for why one change can take three calls).
pub async fn apply(client: &GraphClient, plan: &Plan) -> Result<Applied, GraphError> {
    let applied = |id: &str, action, changes: &[tenant_object::FieldChange]| Applied {
        id: id.to_owned(),
        action,
        version: ApiVersion::V1,
        changed_fields: changes.iter().map(|c| c.field.clone()).collect(),
        note: None,
    };
    match plan {
        Plan::Create { body, .. } => {
            let mut body = body.clone();
            let configurations = body
                .as_object_mut()
                .and_then(|b| b.remove("combinationConfigurations"))
                .unwrap_or(Value::Null);
            let created: Created = client
                .send_json(GraphRequest::post(ENDPOINTS.collection, body))
                .await?;
            for configuration in configurations.as_array().into_iter().flatten() {
                client
                    .send(GraphRequest::post(
                        &paths::combination_configurations(&created.id),
                        configuration.clone(),
                    ))
                    .await?;
            }
            Ok(applied(&created.id, AppliedAction::Created, &[]))
        }
        Plan::Update {
            id, changes, patch, ..
        } => {
            let mut properties: Map<String, Value> = patch.as_object().cloned().unwrap_or_default();
            let combinations = properties.remove("allowedCombinations");
            let configurations = properties.remove("combinationConfigurations");
            if !properties.is_empty() {
                client
                    .send(GraphRequest::patch(
                        &paths::authentication_strength_policy(id),
                        Value::Object(properties),
                    ))
                    .await?;
            }
            // Configurations that no longer belong go before the combinations change (a
            // configuration must apply to an allowed combination), new ones after.
            let mut to_add: Vec<CombinationConfiguration> = Vec::new();
            if let Some(configurations) = &configurations {
                let desired: Vec<CombinationConfiguration> =
                    serde_json::from_value(configurations.clone()).unwrap_or_default();
                let existing: Vec<CombinationConfiguration> = client
                    .list_all(GraphRequest::get(&paths::combination_configurations(id)))
                    .await?;
                let wanted: Vec<Value> = desired.iter().map(configuration).collect();
                let kept: Vec<Value> = existing.iter().map(configuration).collect();
                for (old, shape) in existing.iter().zip(&kept) {
                    if !wanted.contains(shape)
                        && let Some(config_id) = &old.id
                    {
                        client
                            .send(GraphRequest::delete(&paths::combination_configuration(
                                id, config_id,
                            )))
                            .await?;
                    }
                }
                to_add = desired
                    .into_iter()
                    .zip(&wanted)
                    .filter(|(_, shape)| !kept.contains(shape))
                    .map(|(c, _)| c)
                    .collect();
            }
            if let Some(combinations) = combinations {
                client
                    .send(GraphRequest::post(
                        &paths::update_allowed_combinations(id),
                        json!({ "allowedCombinations": combinations }),
                    ))
                    .await?;
            }
            for configuration in to_add {
                client
                    .send(GraphRequest::post(
                        &paths::combination_configurations(id),
                        configuration.to_write_body(),
                    ))
                    .await?;
            }
            Ok(applied(id, AppliedAction::Updated, changes))
        }
        Plan::Restore { .. } => Err(GraphError::Protocol {
            detail: "authentication strengths have no deleted items to restore from".to_owned(),
            ids: Default::default(),
        }),
        Plan::NoOp { id, .. } => Ok(applied(id, AppliedAction::Unchanged, &[])),
    }
}

#[cfg(test)]
mod tests;
