//! The fields of a Conditional Access policy that a SessionPolicy manages, as one declarative
//! table: each with its path, whether only Graph beta has it, the PATCH group it is sent in,
//! and the normalizer that puts both sides in one canonical form (sets sorted and lowercased,
//! absent and empty the same, defaults filled). [`super::plan::diff`] compares through it,
//! [`super::plan`]'s PATCH bodies send its groups and keys, and export checks with it that an
//! exported manifest manages its policy exactly.
//!
//! Paths and shapes: `api-reference/v1.0/resources/conditionalaccesspolicy.md` and the
//! complex types it links (`conditionalaccessconditionset.md`, `conditionalaccessgrantcontrols.md`,
//! `conditionalaccesssessioncontrols.md`) in `microsoftgraph/microsoft-graph-docs-contrib`;
//! `continuousAccessEvaluation` is in the beta CSDL only.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use serde_json::{Value, json};
use sessionops_graph::models::{
    ALL_EXTERNAL_TENANTS_TYPE, ConditionApplications, ConditionClientApplications,
    ConditionDevices, ConditionLocations, ConditionPlatforms, ConditionUsers,
    ConditionalAccessPolicy, Filter, Flags, GrantControls, GuestsOrExternalUsers, MembershipKind,
    SessionControls,
};

/// The part of a PATCH body a field is sent in: a changed field sends its whole group (Graph
/// merges nested objects, so an omitted list would silently survive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchGroup {
    /// `displayName`.
    DisplayName,
    /// `description`.
    Description,
    /// `state`.
    State,
    /// `conditions`.
    Conditions,
    /// `grantControls`.
    GrantControls,
    /// `sessionControls`.
    SessionControls,
}

impl PatchGroup {
    /// Every group, in the order a PATCH body lists them.
    pub const ALL: [PatchGroup; 6] = [
        PatchGroup::DisplayName,
        PatchGroup::Description,
        PatchGroup::State,
        PatchGroup::Conditions,
        PatchGroup::GrantControls,
        PatchGroup::SessionControls,
    ];

    /// The top-level property of the group.
    pub fn property(self) -> &'static str {
        match self {
            PatchGroup::DisplayName => "displayName",
            PatchGroup::Description => "description",
            PatchGroup::State => "state",
            PatchGroup::Conditions => "conditions",
            PatchGroup::GrantControls => "grantControls",
            PatchGroup::SessionControls => "sessionControls",
        }
    }
}

/// One managed field.
#[derive(Clone, Copy, Debug)]
pub struct ManagedField {
    /// Dotted Graph path, e.g. `sessionControls.signInFrequency`.
    pub path: &'static str,
    /// Only Graph beta has it: a policy read through v1.0 does not show it, so it is not
    /// compared then, and it is sent only when the desired policy sets it.
    pub beta_only: bool,
    /// Where a PATCH sends it.
    pub group: PatchGroup,
    /// The field of a policy in canonical form.
    pub normalize: fn(&ConditionalAccessPolicy) -> Value,
}

impl ManagedField {
    /// The path below the group's property (`users.includeUsers`), empty for a top-level field.
    pub fn key_in_group(&self) -> &'static str {
        self.path
            .strip_prefix(self.group.property())
            .map_or("", |rest| rest.trim_start_matches('.'))
    }
}

const fn field(
    path: &'static str,
    group: PatchGroup,
    normalize: fn(&ConditionalAccessPolicy) -> Value,
) -> ManagedField {
    ManagedField {
        path,
        beta_only: false,
        group,
        normalize,
    }
}

/// A field only Graph beta has (the beta type mappings of `microsoftgraph/msgraph-metadata`,
/// `schemas/type-mappings/beta-complex-types.json`, list it; the v1.0 CSDL does not).
const fn beta_field(
    path: &'static str,
    group: PatchGroup,
    normalize: fn(&ConditionalAccessPolicy) -> Value,
) -> ManagedField {
    ManagedField {
        path,
        beta_only: true,
        group,
        normalize,
    }
}

use PatchGroup::{Conditions, GrantControls as Grant, SessionControls as Session};

/// Every managed field (plans list changes in path order).
pub const MANAGED_FIELDS: &[ManagedField] = &[
    field("displayName", PatchGroup::DisplayName, |p| {
        json!(p.display_name)
    }),
    field("description", PatchGroup::Description, |p| {
        // Graph returns null for a policy created without one; an empty text is the same.
        json!(p.description.as_deref().filter(|d| !d.is_empty()))
    }),
    field("state", PatchGroup::State, |p| json!(p.state.as_str())),
    field("conditions.users.includeUsers", Conditions, |p| {
        set(&users(p).include_users)
    }),
    field("conditions.users.excludeUsers", Conditions, |p| {
        set(&users(p).exclude_users)
    }),
    field("conditions.users.includeGroups", Conditions, |p| {
        set(&users(p).include_groups)
    }),
    field("conditions.users.excludeGroups", Conditions, |p| {
        set(&users(p).exclude_groups)
    }),
    field("conditions.users.includeRoles", Conditions, |p| {
        set(&users(p).include_roles)
    }),
    field("conditions.users.excludeRoles", Conditions, |p| {
        set(&users(p).exclude_roles)
    }),
    field(
        "conditions.users.includeGuestsOrExternalUsers",
        Conditions,
        |p| guests(users(p).include_guests_or_external_users.as_ref()),
    ),
    field(
        "conditions.users.excludeGuestsOrExternalUsers",
        Conditions,
        |p| guests(users(p).exclude_guests_or_external_users.as_ref()),
    ),
    field(
        "conditions.applications.includeApplications",
        Conditions,
        |p| set(&applications(p).include_applications),
    ),
    field(
        "conditions.applications.excludeApplications",
        Conditions,
        |p| set(&applications(p).exclude_applications),
    ),
    field(
        "conditions.applications.includeUserActions",
        Conditions,
        |p| set(&applications(p).include_user_actions),
    ),
    field(
        "conditions.applications.includeAuthenticationContextClassReferences",
        Conditions,
        |p| set(&applications(p).include_authentication_context_class_references),
    ),
    field(
        "conditions.applications.applicationFilter",
        Conditions,
        |p| filter(applications(p).application_filter.as_ref()),
    ),
    beta_field(
        "conditions.applications.globalSecureAccess",
        Conditions,
        |p| json!(applications(p).global_secure_access.is_some()),
    ),
    beta_field("conditions.applications.networkAccess", Conditions, |p| {
        json!(applications(p).network_access.is_some())
    }),
    field(
        "conditions.clientApplications.includeServicePrincipals",
        Conditions,
        |p| set(&client_applications(p).include_service_principals),
    ),
    field(
        "conditions.clientApplications.excludeServicePrincipals",
        Conditions,
        |p| set(&client_applications(p).exclude_service_principals),
    ),
    field(
        "conditions.clientApplications.servicePrincipalFilter",
        Conditions,
        |p| filter(client_applications(p).service_principal_filter.as_ref()),
    ),
    beta_field(
        "conditions.clientApplications.includeAgentIdServicePrincipals",
        Conditions,
        |p| optional_set(&client_applications(p).include_agent_id_service_principals),
    ),
    beta_field(
        "conditions.clientApplications.excludeAgentIdServicePrincipals",
        Conditions,
        |p| optional_set(&client_applications(p).exclude_agent_id_service_principals),
    ),
    beta_field(
        "conditions.clientApplications.agentIdServicePrincipalFilter",
        Conditions,
        |p| {
            filter(
                client_applications(p)
                    .agent_id_service_principal_filter
                    .as_ref(),
            )
        },
    ),
    field("conditions.clientAppTypes", Conditions, |p| {
        // Absent means all (Graph's default).
        let apps = strings(&p.conditions.client_app_types);
        if apps.is_empty() {
            json!(["all"])
        } else {
            set(&apps)
        }
    }),
    field("conditions.platforms.includePlatforms", Conditions, |p| {
        set(&strings(&platforms(p).include_platforms))
    }),
    field("conditions.platforms.excludePlatforms", Conditions, |p| {
        set(&strings(&platforms(p).exclude_platforms))
    }),
    field("conditions.locations.includeLocations", Conditions, |p| {
        set(&locations(p).include_locations)
    }),
    field("conditions.locations.excludeLocations", Conditions, |p| {
        set(&locations(p).exclude_locations)
    }),
    field("conditions.devices.deviceFilter", Conditions, |p| {
        filter(devices(p).device_filter.as_ref())
    }),
    beta_field("conditions.devices.includeDevices", Conditions, |p| {
        optional_set(&devices(p).include_devices)
    }),
    beta_field("conditions.devices.excludeDevices", Conditions, |p| {
        optional_set(&devices(p).exclude_devices)
    }),
    beta_field("conditions.devices.includeDeviceStates", Conditions, |p| {
        optional_set(&devices(p).include_device_states)
    }),
    beta_field("conditions.devices.excludeDeviceStates", Conditions, |p| {
        optional_set(&devices(p).exclude_device_states)
    }),
    beta_field("conditions.deviceStates", Conditions, |p| {
        let states = p.conditions.device_states.as_ref();
        let include = states.map(|s| set(&s.include_states));
        let exclude = states.map(|s| set(&s.exclude_states));
        match (include, exclude) {
            (Some(include), Some(exclude)) if include != json!([]) || exclude != json!([]) => {
                json!({"includeStates": include, "excludeStates": exclude})
            }
            _ => Value::Null,
        }
    }),
    field("conditions.signInRiskLevels", Conditions, |p| {
        set(&strings(&p.conditions.sign_in_risk_levels))
    }),
    field("conditions.userRiskLevels", Conditions, |p| {
        set(&strings(&p.conditions.user_risk_levels))
    }),
    field("conditions.servicePrincipalRiskLevels", Conditions, |p| {
        set(&strings(&p.conditions.service_principal_risk_levels))
    }),
    field("conditions.insiderRiskLevels", Conditions, |p| {
        flags(p.conditions.insider_risk_levels.as_ref())
    }),
    beta_field("conditions.agentIdRiskLevels", Conditions, |p| {
        flags(p.conditions.agent_id_risk_levels.as_ref())
    }),
    field(
        "conditions.authenticationFlows.transferMethods",
        Conditions,
        |p| {
            flags(
                p.conditions
                    .authentication_flows
                    .as_ref()
                    .and_then(|f| f.transfer_methods.as_ref()),
            )
        },
    ),
    field("grantControls.operator", Grant, |p| {
        let grant = grant(p);
        let requirements = grant.built_in_controls.len()
            + usize::from(strength(grant).is_some())
            + grant.terms_of_use.len()
            + grant.custom_authentication_factors.len();
        // With one requirement or none, AND and OR mean the same: Graph's choice is not drift.
        if requirements <= 1 {
            json!("OR")
        } else {
            json!(grant.operator.as_deref().unwrap_or("OR").to_uppercase())
        }
    }),
    field("grantControls.builtInControls", Grant, |p| {
        set(&strings(&grant(p).built_in_controls))
    }),
    field("grantControls.authenticationStrength", Grant, |p| {
        json!(strength(grant(p)))
    }),
    field("grantControls.termsOfUse", Grant, |p| {
        set(&grant(p).terms_of_use)
    }),
    field("grantControls.customAuthenticationFactors", Grant, |p| {
        set(&grant(p).custom_authentication_factors)
    }),
    field(
        "sessionControls.applicationEnforcedRestrictions",
        Session,
        |p| {
            let control = session(p).application_enforced_restrictions.as_ref();
            json!(control.and_then(|c| c.is_enabled).unwrap_or(false))
        },
    ),
    field("sessionControls.cloudAppSecurity", Session, |p| {
        session(p)
            .cloud_app_security
            .as_ref()
            .filter(|c| c.is_enabled == Some(true))
            .map(|c| json!(c.cloud_app_security_type.as_ref().map(|t| t.as_str())))
            .unwrap_or(Value::Null)
    }),
    field("sessionControls.signInFrequency", Session, |p| {
        session(p)
            .sign_in_frequency
            .as_ref()
            .filter(|f| f.is_enabled == Some(true))
            .map(|f| {
                // In hours, so that 24 hours and 1 day are the same setting.
                let every = match f.frequency_interval.as_ref().map(|i| i.as_str()) {
                    Some("everyTime") => "everyTime".to_owned(),
                    _ => {
                        let days = f.unit.as_ref().is_some_and(|u| u.as_str() == "days");
                        let per_unit = if days { 24 } else { 1 };
                        format!("{}h", i64::from(f.value.unwrap_or(0)) * per_unit)
                    }
                };
                let authentication = f
                    .authentication_type
                    .as_ref()
                    .map_or("primaryAndSecondaryAuthentication", |a| a.as_str());
                json!(format!("{every} ({authentication})"))
            })
            .unwrap_or(Value::Null)
    }),
    field("sessionControls.persistentBrowser", Session, |p| {
        session(p)
            .persistent_browser
            .as_ref()
            .filter(|b| b.is_enabled == Some(true))
            .map(|b| json!(b.mode.as_ref().map(|m| m.as_str())))
            .unwrap_or(Value::Null)
    }),
    field("sessionControls.disableResilienceDefaults", Session, |p| {
        json!(session(p).disable_resilience_defaults.unwrap_or(false))
    }),
    field("sessionControls.secureSignInSession", Session, |p| {
        let control = session(p).secure_sign_in_session.as_ref();
        json!(control.and_then(|c| c.is_enabled).unwrap_or(false))
    }),
    beta_field("sessionControls.continuousAccessEvaluation", Session, |p| {
        session(p)
            .continuous_access_evaluation
            .as_ref()
            .and_then(|c| c.mode.as_ref())
            .map(|m| json!(m.as_str()))
            .unwrap_or(Value::Null)
    }),
    beta_field(
        "sessionControls.globalSecureAccessFilteringProfile",
        Session,
        |p| {
            session(p)
                .global_secure_access_filtering_profile
                .as_ref()
                .filter(|f| f.is_enabled != Some(false))
                .and_then(|f| f.profile_id.as_ref())
                .map(|id| json!(id.to_lowercase()))
                .unwrap_or(Value::Null)
        },
    ),
];

/// The table entry of `path`.
pub fn managed_field(path: &str) -> Option<&'static ManagedField> {
    MANAGED_FIELDS.iter().find(|f| f.path == path)
}

/// The sub-object `get` picks, or its default when the policy has none (read in place: the
/// table runs for every policy of a tenant at every resync).
macro_rules! part {
    ($name:ident, $type:ty, $get:expr) => {
        fn $name(p: &ConditionalAccessPolicy) -> &$type {
            static NONE: LazyLock<$type> = LazyLock::new(Default::default);
            let get: fn(&ConditionalAccessPolicy) -> Option<&$type> = $get;
            get(p).unwrap_or(&NONE)
        }
    };
}

part!(users, ConditionUsers, |p| p.conditions.users.as_ref());
part!(applications, ConditionApplications, |p| p
    .conditions
    .applications
    .as_ref());
part!(platforms, ConditionPlatforms, |p| p
    .conditions
    .platforms
    .as_ref());
part!(locations, ConditionLocations, |p| p
    .conditions
    .locations
    .as_ref());
part!(client_applications, ConditionClientApplications, |p| p
    .conditions
    .client_applications
    .as_ref());
part!(devices, ConditionDevices, |p| p.conditions.devices.as_ref());
part!(grant, GrantControls, |p| p.grant_controls.as_ref());
part!(session, SessionControls, |p| p.session_controls.as_ref());

fn strength(grant: &GrantControls) -> Option<String> {
    grant
        .authentication_strength
        .as_ref()
        .and_then(|s| s.id.as_ref())
        .map(|id| id.to_lowercase())
}

fn strings<T: std::fmt::Display>(values: &[T]) -> Vec<String> {
    values.iter().map(ToString::to_string).collect()
}

fn set(values: &[String]) -> Value {
    let sorted: BTreeSet<String> = values.iter().map(|v| v.to_lowercase()).collect();
    json!(sorted)
}

/// A beta-only list: absent (read through v1.0 or never set) and empty are the same.
fn optional_set(values: &Option<Vec<String>>) -> Value {
    set(values.as_deref().unwrap_or_default())
}

/// A flags value as a set: order-free, and `none` (or absent) is the empty set.
fn flags<T: std::fmt::Display>(value: Option<&Flags<T>>) -> Value {
    let members: Vec<String> = value
        .map(|f| strings(f.members()))
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m != "none")
        .collect();
    set(&members)
}

/// A filter's mode and rule (the rule trimmed: surrounding blanks are not a different rule).
fn filter(value: Option<&Filter>) -> Value {
    value
        .map(|f| json!({"mode": f.mode.as_str(), "rule": f.rule.trim()}))
        .unwrap_or(Value::Null)
}

/// One side of guests or external users: the kinds as a set and the tenants as `all`, a set
/// of ids, or null (no restriction recorded). No kinds at all is no condition.
fn guests(value: Option<&GuestsOrExternalUsers>) -> Value {
    let Some(value) = value else {
        return Value::Null;
    };
    let types = flags(value.guest_or_external_user_types.as_ref());
    if types == json!([]) {
        return Value::Null;
    }
    let tenants = value.external_tenants.as_ref().map(|tenants| {
        let all = tenants.membership_kind == Some(MembershipKind::All)
            || tenants.odata_type.as_deref() == Some(ALL_EXTERNAL_TENANTS_TYPE);
        if all {
            json!("all")
        } else {
            optional_set(&tenants.members)
        }
    });
    json!({"types": types, "externalTenants": tenants})
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each field sits in the group its path names, once.
    #[test]
    fn every_field_is_in_the_group_its_path_names() {
        let mut seen = BTreeSet::new();
        for field in MANAGED_FIELDS {
            assert!(seen.insert(field.path), "{} twice", field.path);
            assert!(
                field.path == field.group.property()
                    || field
                        .path
                        .starts_with(&format!("{}.", field.group.property())),
                "{}",
                field.path
            );
        }
        assert_eq!(
            managed_field("conditions.users.includeUsers").map(ManagedField::key_in_group),
            Some("users.includeUsers")
        );
        assert_eq!(
            managed_field("state").map(ManagedField::key_in_group),
            Some("")
        );
    }
}
