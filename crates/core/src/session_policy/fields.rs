//! The fields of a Conditional Access policy that a SessionPolicy manages, as one declarative
//! [`Field`] table: each with its path, whether only Graph beta has it, and the normalizer that
//! puts both sides in one canonical form (sets sorted and lowercased, absent and empty the
//! same, defaults filled). The tenant-object seam ([`crate::tenant_object`]) compares and
//! PATCHes through it, and export checks with it that an exported manifest manages its policy
//! exactly.
//!
//! Paths and shapes: `api-reference/v1.0/resources/conditionalaccesspolicy.md` and the
//! complex types it links (`conditionalaccessconditionset.md`, `conditionalaccessgrantcontrols.md`,
//! `conditionalaccesssessioncontrols.md`) in `microsoftgraph/microsoft-graph-docs-contrib`; the
//! v1.0 CSDL and the beta type mappings of `microsoftgraph/msgraph-metadata` for what the pages
//! lag behind and for what only beta has.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use crate::tenant_object::Field;
use serde_json::{Value, json};
use sessionops_graph::models::{
    ALL_EXTERNAL_TENANTS_TYPE, ConditionApplications, ConditionClientApplications,
    ConditionDevices, ConditionLocations, ConditionPlatforms, ConditionUsers,
    ConditionalAccessPolicy, Filter, Flags, GrantControls, GuestsOrExternalUsers, MembershipKind,
    SessionControls,
};

/// Every managed field (plans list changes in path order).
pub const MANAGED_FIELDS: &[Field<ConditionalAccessPolicy>] = &[
    Field::new("displayName", |p| json!(p.display_name)),
    Field::new("description", |p| {
        // Graph returns null for a policy created without one; an empty text is the same.
        json!(p.description.as_deref().filter(|d| !d.is_empty()))
    }),
    Field::new("state", |p| json!(p.state.as_str())),
    Field::new("conditions.users.includeUsers", |p| {
        set(&users(p).include_users)
    }),
    Field::new("conditions.users.excludeUsers", |p| {
        set(&users(p).exclude_users)
    }),
    Field::new("conditions.users.includeGroups", |p| {
        set(&users(p).include_groups)
    }),
    Field::new("conditions.users.excludeGroups", |p| {
        set(&users(p).exclude_groups)
    }),
    Field::new("conditions.users.includeRoles", |p| {
        set(&users(p).include_roles)
    }),
    Field::new("conditions.users.excludeRoles", |p| {
        set(&users(p).exclude_roles)
    }),
    Field::new("conditions.users.includeGuestsOrExternalUsers", |p| {
        guests(users(p).include_guests_or_external_users.as_ref())
    }),
    Field::new("conditions.users.excludeGuestsOrExternalUsers", |p| {
        guests(users(p).exclude_guests_or_external_users.as_ref())
    }),
    Field::new("conditions.applications.includeApplications", |p| {
        set(&applications(p).include_applications)
    }),
    Field::new("conditions.applications.excludeApplications", |p| {
        set(&applications(p).exclude_applications)
    }),
    Field::new("conditions.applications.includeUserActions", |p| {
        set(&applications(p).include_user_actions)
    }),
    Field::new(
        "conditions.applications.includeAuthenticationContextClassReferences",
        |p| set(&applications(p).include_authentication_context_class_references),
    ),
    Field::new("conditions.applications.applicationFilter", |p| {
        filter(applications(p).application_filter.as_ref())
    }),
    Field::beta("conditions.applications.globalSecureAccess", |p| {
        json!(applications(p).global_secure_access.is_some())
    }),
    Field::beta("conditions.applications.networkAccess", |p| {
        json!(applications(p).network_access.is_some())
    }),
    Field::new(
        "conditions.clientApplications.includeServicePrincipals",
        |p| set(&client_applications(p).include_service_principals),
    ),
    Field::new(
        "conditions.clientApplications.excludeServicePrincipals",
        |p| set(&client_applications(p).exclude_service_principals),
    ),
    Field::new(
        "conditions.clientApplications.servicePrincipalFilter",
        |p| filter(client_applications(p).service_principal_filter.as_ref()),
    ),
    Field::beta(
        "conditions.clientApplications.includeAgentIdServicePrincipals",
        |p| optional_set(&client_applications(p).include_agent_id_service_principals),
    ),
    Field::beta(
        "conditions.clientApplications.excludeAgentIdServicePrincipals",
        |p| optional_set(&client_applications(p).exclude_agent_id_service_principals),
    ),
    Field::beta(
        "conditions.clientApplications.agentIdServicePrincipalFilter",
        |p| {
            filter(
                client_applications(p)
                    .agent_id_service_principal_filter
                    .as_ref(),
            )
        },
    ),
    Field::new("conditions.clientAppTypes", |p| {
        // Absent means all (Graph's default).
        let apps = strings(&p.conditions.client_app_types);
        if apps.is_empty() {
            json!(["all"])
        } else {
            set(&apps)
        }
    }),
    Field::new("conditions.platforms.includePlatforms", |p| {
        set(&strings(&platforms(p).include_platforms))
    }),
    Field::new("conditions.platforms.excludePlatforms", |p| {
        set(&strings(&platforms(p).exclude_platforms))
    }),
    Field::new("conditions.locations.includeLocations", |p| {
        set(&locations(p).include_locations)
    }),
    Field::new("conditions.locations.excludeLocations", |p| {
        set(&locations(p).exclude_locations)
    }),
    Field::new("conditions.devices.deviceFilter", |p| {
        filter(devices(p).device_filter.as_ref())
    }),
    Field::beta("conditions.devices.includeDevices", |p| {
        optional_set(&devices(p).include_devices)
    }),
    Field::beta("conditions.devices.excludeDevices", |p| {
        optional_set(&devices(p).exclude_devices)
    }),
    Field::beta("conditions.devices.includeDeviceStates", |p| {
        optional_set(&devices(p).include_device_states)
    }),
    Field::beta("conditions.devices.excludeDeviceStates", |p| {
        optional_set(&devices(p).exclude_device_states)
    }),
    Field::beta("conditions.deviceStates", |p| {
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
    Field::new("conditions.signInRiskLevels", |p| {
        set(&strings(&p.conditions.sign_in_risk_levels))
    }),
    Field::new("conditions.userRiskLevels", |p| {
        set(&strings(&p.conditions.user_risk_levels))
    }),
    Field::new("conditions.servicePrincipalRiskLevels", |p| {
        set(&strings(&p.conditions.service_principal_risk_levels))
    }),
    Field::new("conditions.insiderRiskLevels", |p| {
        flags(p.conditions.insider_risk_levels.as_ref())
    }),
    Field::beta("conditions.agentIdRiskLevels", |p| {
        flags(p.conditions.agent_id_risk_levels.as_ref())
    }),
    Field::new("conditions.authenticationFlows.transferMethods", |p| {
        flags(
            p.conditions
                .authentication_flows
                .as_ref()
                .and_then(|f| f.transfer_methods.as_ref()),
        )
    }),
    Field::new("grantControls.operator", |p| {
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
    Field::new("grantControls.builtInControls", |p| {
        set(&strings(&grant(p).built_in_controls))
    }),
    Field::new("grantControls.authenticationStrength", |p| {
        json!(strength(grant(p)))
    }),
    Field::new("grantControls.termsOfUse", |p| set(&grant(p).terms_of_use)),
    Field::new("grantControls.customAuthenticationFactors", |p| {
        set(&grant(p).custom_authentication_factors)
    }),
    Field::new("sessionControls.applicationEnforcedRestrictions", |p| {
        let control = session(p).application_enforced_restrictions.as_ref();
        json!(control.and_then(|c| c.is_enabled).unwrap_or(false))
    }),
    Field::new("sessionControls.cloudAppSecurity", |p| {
        session(p)
            .cloud_app_security
            .as_ref()
            .filter(|c| c.is_enabled == Some(true))
            .map(|c| json!(c.cloud_app_security_type.as_ref().map(|t| t.as_str())))
            .unwrap_or(Value::Null)
    }),
    Field::new("sessionControls.signInFrequency", |p| {
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
    Field::new("sessionControls.persistentBrowser", |p| {
        session(p)
            .persistent_browser
            .as_ref()
            .filter(|b| b.is_enabled == Some(true))
            .map(|b| json!(b.mode.as_ref().map(|m| m.as_str())))
            .unwrap_or(Value::Null)
    }),
    Field::new("sessionControls.disableResilienceDefaults", |p| {
        json!(session(p).disable_resilience_defaults.unwrap_or(false))
    }),
    Field::new("sessionControls.secureSignInSession", |p| {
        let control = session(p).secure_sign_in_session.as_ref();
        json!(control.and_then(|c| c.is_enabled).unwrap_or(false))
    }),
    Field::beta("sessionControls.continuousAccessEvaluation", |p| {
        session(p)
            .continuous_access_evaluation
            .as_ref()
            .and_then(|c| c.mode.as_ref())
            .map(|m| json!(m.as_str()))
            .unwrap_or(Value::Null)
    }),
    Field::beta("sessionControls.globalSecureAccessFilteringProfile", |p| {
        session(p)
            .global_secure_access_filtering_profile
            .as_ref()
            .filter(|f| f.is_enabled != Some(false))
            .and_then(|f| f.profile_id.as_ref())
            .map(|id| json!(id.to_lowercase()))
            .unwrap_or(Value::Null)
    }),
];

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

    /// Each field once, under one of the policy's top-level properties.
    #[test]
    fn every_field_is_named_once_under_a_policy_property() {
        let mut seen = BTreeSet::new();
        for field in MANAGED_FIELDS {
            assert!(seen.insert(field.path), "{} twice", field.path);
            assert!(
                [
                    "displayName",
                    "description",
                    "state",
                    "conditions",
                    "grantControls",
                    "sessionControls"
                ]
                .contains(&field.group()),
                "{}",
                field.path
            );
        }
    }
}
