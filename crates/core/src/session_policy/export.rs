//! Conditional Access policy → SessionPolicy manifest (onboarding an existing tenant). Pure:
//! the caller supplies the id → name table. Applying an exported manifest never changes the
//! tenant: a policy whose modelled fields the spec cannot carry back unchanged is refused with
//! the reasons; content no metadata describes is left as it is and named
//! ([`Exported::Partial`]), since no PATCH names it.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::connection::ProtectedIds;
use crate::directory::resolve::{NameKind, Resolution, Resolutions};
use crate::session_policy::plan::{
    self, BUILT_IN_STRENGTHS, COMPLIANT_NETWORK_LOCATION_ID, COMPLIANT_NETWORKS,
};
use crate::session_policy::wire::ToWire;
use crate::tenant_object::export::{Exported, strip_empty};
pub use crate::tenant_object::export::{Unexportable, object_name};
use crate::tenant_object::is_content;
use sessionops_api::{Kind, SessionPolicySpec, TenantRef, UserAction};
use sessionops_graph::models::{
    ALL_EXTERNAL_TENANTS_TYPE, ConditionalAccessPolicy, Filter, Flags, GuestsOrExternalUsers,
    MembershipKind,
};

/// Names for ids, by kind, only where the name is unique (an ambiguous name would not resolve
/// back to the same object).
#[derive(Clone, Debug, Default)]
pub struct IdNames {
    /// (kind, lowercased id) → name.
    pub names: BTreeMap<(NameKind, String), String>,
}

impl IdNames {
    /// Records `name` for `id`.
    pub fn insert(&mut self, kind: NameKind, id: &str, name: &str) {
        self.names
            .insert((kind, id.to_lowercase()), name.to_owned());
    }

    fn name(&self, kind: NameKind, id: &str) -> String {
        self.names
            .get(&(kind, id.to_lowercase()))
            .cloned()
            .unwrap_or_else(|| id.to_owned())
    }

    /// The same table the other way round, as planning reads names.
    fn resolutions(&self) -> Resolutions {
        let mut resolutions = Resolutions::default();
        for ((kind, id), name) in &self.names {
            resolutions.insert(*kind, name, Resolution::Id(id.clone()));
        }
        resolutions
    }
}

/// The parts of a policy the API does not model, by JSON path: the properties a build does
/// not know (newer than it) at any level of the policy.
pub fn unmodelled_content(policy: &ConditionalAccessPolicy) -> Vec<String> {
    let mut found = Vec::new();
    let mut check = |path: &str, extra: &BTreeMap<String, Value>| {
        for (key, value) in extra {
            if is_content(key, value) {
                found.push(format!("{path}{key}"));
            }
        }
    };
    check("", &policy.extra);
    let c = &policy.conditions;
    check("conditions.", &c.extra);
    if let Some(users) = &c.users {
        check("conditions.users.", &users.extra);
        for (side, guests) in [
            ("include", &users.include_guests_or_external_users),
            ("exclude", &users.exclude_guests_or_external_users),
        ] {
            if let Some(guests) = guests {
                let path = format!("conditions.users.{side}GuestsOrExternalUsers.");
                check(&path, &guests.extra);
                if let Some(tenants) = &guests.external_tenants {
                    check(&format!("{path}externalTenants."), &tenants.extra);
                }
            }
        }
    }
    if let Some(applications) = &c.applications {
        check("conditions.applications.", &applications.extra);
    }
    if let Some(clients) = &c.client_applications {
        check("conditions.clientApplications.", &clients.extra);
    }
    if let Some(flows) = &c.authentication_flows {
        check("conditions.authenticationFlows.", &flows.extra);
    }
    if let Some(platforms) = &c.platforms {
        check("conditions.platforms.", &platforms.extra);
    }
    if let Some(locations) = &c.locations {
        check("conditions.locations.", &locations.extra);
    }
    if let Some(devices) = &c.devices {
        check("conditions.devices.", &devices.extra);
    }
    if let Some(states) = &c.device_states {
        check("conditions.deviceStates.", &states.extra);
    }
    if let Some(grant) = &policy.grant_controls {
        check("grantControls.", &grant.extra);
    }
    if let Some(session) = &policy.session_controls {
        check("sessionControls.", &session.extra);
        let controls = [
            (
                "applicationEnforcedRestrictions",
                session
                    .application_enforced_restrictions
                    .as_ref()
                    .map(|c| &c.extra),
            ),
            (
                "cloudAppSecurity",
                session.cloud_app_security.as_ref().map(|c| &c.extra),
            ),
            (
                "signInFrequency",
                session.sign_in_frequency.as_ref().map(|c| &c.extra),
            ),
            (
                "persistentBrowser",
                session.persistent_browser.as_ref().map(|c| &c.extra),
            ),
            (
                "secureSignInSession",
                session.secure_sign_in_session.as_ref().map(|c| &c.extra),
            ),
            (
                "continuousAccessEvaluation",
                session
                    .continuous_access_evaluation
                    .as_ref()
                    .map(|c| &c.extra),
            ),
            (
                "globalSecureAccessFilteringProfile",
                session
                    .global_secure_access_filtering_profile
                    .as_ref()
                    .map(|c| &c.extra),
            ),
        ];
        for (control, extra) in controls {
            if let Some(extra) = extra {
                check(&format!("sessionControls.{control}."), extra);
            }
        }
    }
    found
}

/// The members of a flags value the API names (`none` is no member).
fn flag_members<T: std::fmt::Display>(flags: Option<&Flags<T>>) -> Vec<String> {
    flags
        .map(|f| {
            f.members()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .filter(|m: &String| m != "none")
        .collect()
}

fn filter_json(filter: Option<&Filter>) -> Value {
    filter.map_or(
        Value::Null,
        |f| json!({"mode": f.mode.as_str(), "rule": f.rule}),
    )
}

fn guests_json(guests: Option<&GuestsOrExternalUsers>) -> Value {
    let Some(guests) = guests else {
        return Value::Null;
    };
    let types = flag_members(guests.guest_or_external_user_types.as_ref());
    if types.is_empty() {
        return Value::Null;
    }
    let tenants = guests.external_tenants.as_ref().map(|t| {
        let all = t.membership_kind == Some(MembershipKind::All)
            || t.odata_type.as_deref() == Some(ALL_EXTERNAL_TENANTS_TYPE);
        if all {
            vec!["All".to_owned()]
        } else {
            t.members.clone().unwrap_or_default()
        }
    });
    json!({"types": types, "externalTenants": tenants})
}

/// The SessionPolicy spec that manages `policy` exactly as it is.
pub fn spec_from_policy(
    policy: &ConditionalAccessPolicy,
    names: &IdNames,
    tenant_ref: &TenantRef,
) -> Result<Exported<SessionPolicySpec>, Unexportable> {
    let unexportable = |reasons: Vec<String>| Unexportable {
        kind: Kind::SessionPolicy,
        id: policy.id.clone().unwrap_or_default(),
        display_name: policy.display_name.clone(),
        reasons,
    };
    let unmodelled = unmodelled_content(policy);
    let mut reasons = Vec::new();
    let c = &policy.conditions;
    let users = c.users.clone().unwrap_or_default();
    let applications = c.applications.clone().unwrap_or_default();
    let clients = c.client_applications.clone().unwrap_or_default();
    let devices = c.devices.clone().unwrap_or_default();
    let list = |kind: NameKind, ids: &[String]| -> Vec<String> {
        ids.iter().map(|id| names.name(kind, id)).collect()
    };
    let locations = |ids: &[String]| -> Vec<String> {
        ids.iter()
            .map(|id| {
                if id.eq_ignore_ascii_case(COMPLIANT_NETWORK_LOCATION_ID) {
                    COMPLIANT_NETWORKS.to_owned()
                } else {
                    names.name(NameKind::Location, id)
                }
            })
            .collect()
    };
    let user_actions: Vec<Value> = applications
        .include_user_actions
        .iter()
        .map(|urn| {
            [
                UserAction::RegisterSecurityInfo,
                UserAction::RegisterOrJoinDevices,
            ]
            .into_iter()
            .find(|action| action.to_wire().eq_ignore_ascii_case(urn))
            .map_or_else(
                || {
                    reasons.push(format!("conditions.applications.includeUserActions {urn}"));
                    Value::Null
                },
                |action| json!(action),
            )
        })
        .collect();
    let grant = policy.grant_controls.as_ref().filter(|g| {
        !g.built_in_controls.is_empty()
            || !g.terms_of_use.is_empty()
            || !g.custom_authentication_factors.is_empty()
            || g.authentication_strength
                .as_ref()
                .is_some_and(|s| s.id.is_some())
    });
    let session = policy.session_controls.clone().unwrap_or_default();
    let frequency = session
        .sign_in_frequency
        .as_ref()
        .filter(|f| f.is_enabled == Some(true))
        .map(|f| {
            if f.frequency_interval
                .as_ref()
                .is_some_and(|i| i.as_str() == "everyTime")
            {
                return "everyTime".to_owned();
            }
            let value = f.value.unwrap_or(0);
            match f.unit.as_ref().map(|u| u.as_str()) {
                Some("days") => format!("{value}d"),
                _ if value >= 24 && value % 24 == 0 => format!("{}d", value / 24),
                _ => format!("{value}h"),
            }
        });
    let authentication = session
        .sign_in_frequency
        .as_ref()
        .filter(|f| f.is_enabled == Some(true))
        .and_then(|f| f.authentication_type.as_ref())
        .filter(|t| t.as_str() == "secondaryAuthentication")
        .map(|_| "secondaryOnly");
    let strength = grant
        .and_then(|g| g.authentication_strength.as_ref())
        .and_then(|s| s.id.as_ref())
        .map(|id| {
            BUILT_IN_STRENGTHS
                .iter()
                .find(|(_, builtin)| builtin.eq_ignore_ascii_case(id))
                .map_or_else(
                    || names.name(NameKind::AuthenticationStrength, id),
                    |(name, _)| (*name).to_owned(),
                )
        });
    let enabled = |value: Option<bool>| value == Some(true);
    let agents = json!({
        "include": clients.include_agent_id_service_principals,
        "exclude": clients.exclude_agent_id_service_principals,
        "filter": filter_json(clients.agent_id_service_principal_filter.as_ref()),
    });
    let spec = json!({
        "tenantRef": tenant_ref,
        "displayName": policy.display_name,
        "description": policy.description,
        "state": match policy.state.as_str() { "enabled" => "enabled", "disabled" => "disabled", "enabledForReportingButNotEnforced" => "reportOnly", other => { reasons.push(format!("state {other}")); "disabled" } },
        "assignments": {
            "users": {"include": list(NameKind::User, &users.include_users), "exclude": list(NameKind::User, &users.exclude_users)},
            "groups": {"include": list(NameKind::Group, &users.include_groups), "exclude": list(NameKind::Group, &users.exclude_groups)},
            "roles": {"include": list(NameKind::Role, &users.include_roles), "exclude": list(NameKind::Role, &users.exclude_roles)},
            "guestsOrExternalUsers": {
                "include": guests_json(users.include_guests_or_external_users.as_ref()),
                "exclude": guests_json(users.exclude_guests_or_external_users.as_ref()),
            },
            "applications": {
                "include": list(NameKind::Application, &applications.include_applications),
                "exclude": list(NameKind::Application, &applications.exclude_applications),
                "filter": filter_json(applications.application_filter.as_ref()),
                "userActions": user_actions,
                "authenticationContexts": applications.include_authentication_context_class_references,
                "globalSecureAccess": applications.global_secure_access.is_some(),
                "networkAccess": applications.network_access.is_some(),
            },
            "servicePrincipals": {
                "include": list(NameKind::ServicePrincipal, &clients.include_service_principals),
                "exclude": list(NameKind::ServicePrincipal, &clients.exclude_service_principals),
                "filter": filter_json(clients.service_principal_filter.as_ref()),
            },
            "agents": agents,
        },
        "conditions": {
            "clientAppTypes": c.client_app_types.iter().map(|t| t.as_str()).filter(|t| *t != "all").collect::<Vec<_>>(),
            "platforms": c.platforms.as_ref().map(|p| json!({
                "include": p.include_platforms.iter().map(|x| x.as_str()).collect::<Vec<_>>(),
                "exclude": p.exclude_platforms.iter().map(|x| x.as_str()).collect::<Vec<_>>(),
            })),
            "locations": c.locations.as_ref().map(|l| json!({"include": locations(&l.include_locations), "exclude": locations(&l.exclude_locations)})),
            "signInRiskLevels": c.sign_in_risk_levels.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "userRiskLevels": c.user_risk_levels.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "servicePrincipalRiskLevels": c.service_principal_risk_levels.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "insiderRiskLevels": flag_members(c.insider_risk_levels.as_ref()),
            "agentIdRiskLevels": flag_members(c.agent_id_risk_levels.as_ref()),
            "authenticationFlows": flag_members(c.authentication_flows.as_ref().and_then(|f| f.transfer_methods.as_ref())),
            "deviceFilter": filter_json(devices.device_filter.as_ref()),
            "devices": {
                "include": devices.include_devices,
                "exclude": devices.exclude_devices,
                "includeStates": devices.include_device_states,
                "excludeStates": devices.exclude_device_states,
            },
            "deviceStates": c.device_states.as_ref().map(|d| json!({"include": d.include_states, "exclude": d.exclude_states})),
        },
        "grant": grant.map(|g| json!({
            "operator": g.operator.clone().unwrap_or_else(|| "OR".into()).to_uppercase(),
            "controls": g.built_in_controls.iter().map(|b| b.as_str()).collect::<Vec<_>>(),
            "authenticationStrength": strength,
            "termsOfUse": g.terms_of_use,
            "customAuthenticationFactors": g.custom_authentication_factors,
        })),
        "session": {
            "signInFrequency": frequency,
            "signInFrequencyAuthentication": authentication,
            "persistentBrowser": session.persistent_browser.as_ref().filter(|p| p.is_enabled == Some(true)).and_then(|p| p.mode.as_ref()).map(|m| m.as_str().to_owned()),
            "applicationEnforcedRestrictions": enabled(session.application_enforced_restrictions.as_ref().and_then(|a| a.is_enabled)),
            "cloudAppSecurity": session.cloud_app_security.as_ref().filter(|c| c.is_enabled == Some(true)).and_then(|c| c.cloud_app_security_type.as_ref()).map(|t| t.as_str().to_owned()),
            "continuousAccessEvaluation": session.continuous_access_evaluation.as_ref().and_then(|c| c.mode.as_ref()).map(|m| m.as_str().to_owned()),
            "disableResilienceDefaults": session.disable_resilience_defaults.unwrap_or(false),
            "tokenProtection": enabled(session.secure_sign_in_session.as_ref().and_then(|s| s.is_enabled)),
            "globalSecureAccessFilteringProfile": session.global_secure_access_filtering_profile.as_ref().filter(|f| f.is_enabled != Some(false)).and_then(|f| f.profile_id.clone()),
        },
    });
    if !reasons.is_empty() {
        return Err(unexportable(reasons));
    }
    let mut spec = strip_empty(spec);
    if spec
        .get("session")
        .is_some_and(|s| s.as_object().is_some_and(|s| s.is_empty()))
    {
        spec.as_object_mut().map(|s| s.remove("session"));
    }
    let spec: SessionPolicySpec = serde_json::from_value(spec)
        .map_err(|e| unexportable(vec![format!("not representable: {e}")]))?;
    // The exported manifest must manage the policy exactly as it is: plan it back through the
    // managed-fields table and refuse any field it would change.
    let desired = plan::desired_policy(
        &spec,
        "",
        "",
        &ProtectedIds::default(),
        &names.resolutions(),
    )
    .map_err(|e| unexportable(vec![format!("does not plan back: {e}")]))?;
    let changes = plan::diff(&desired.body, policy, true);
    if !changes.is_empty() {
        return Err(unexportable(
            changes
                .iter()
                .map(|c| format!("{} would change to {}", c.field, c.desired))
                .collect(),
        ));
    }
    Ok(Exported::of(spec, unmodelled))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Content the API models but export cannot carry back unchanged is refused by the
    /// plan-back check, not exported as a manifest that would change the tenant.
    #[test]
    fn a_policy_that_would_not_plan_back_unchanged_is_refused() {
        let policy: ConditionalAccessPolicy = serde_json::from_value(json!({
            "id": "p-1",
            "displayName": "Browsers",
            "state": "enabled",
            "conditions": {
                "users": {"includeUsers": ["All"]},
                "applications": {"includeApplications": ["All"]},
                "clientAppTypes": ["all", "browser"]
            },
            "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}
        }))
        .unwrap();
        let tenant = TenantRef {
            kind: sessionops_api::TenantKind::ClusterTenantConnection,
            name: "contoso".into(),
        };
        let refused = spec_from_policy(&policy, &IdNames::default(), &tenant).unwrap_err();
        assert_eq!(
            refused.reasons,
            [r#"conditions.clientAppTypes would change to ["browser"]"#]
        );
        let mut fine = policy.clone();
        fine.conditions.client_app_types = vec!["browser".into()];
        let exported = spec_from_policy(&fine, &IdNames::default(), &tenant).unwrap();
        assert_eq!(
            exported.spec().unwrap().display_name.as_deref(),
            Some("Browsers")
        );
        // Content this build does not know is left as it is, and named: not a refusal.
        fine.conditions.extra.insert(
            "times".into(),
            json!({"included": {"@odata.type": "#microsoft.graph.conditionalAccessAllTimes"}}),
        );
        let Ok(Exported::Partial { unmodelled, .. }) =
            spec_from_policy(&fine, &IdNames::default(), &tenant)
        else {
            panic!("exported, naming what it leaves alone")
        };
        assert_eq!(unmodelled, ["conditions.times"]);
    }

    /// Annotations anywhere (`@odata.type` of a complex value, `@odata.context` of a
    /// navigation) are not content; a property this build does not know is, even when all it
    /// holds is a derived type's name.
    #[test]
    fn annotations_are_not_unmodelled_content_but_unknown_properties_are() {
        let mut policy: ConditionalAccessPolicy = serde_json::from_value(json!({
            "id": "p-1", "displayName": "Annotated", "state": "enabled",
            "conditions": {
                "@odata.type": "#microsoft.graph.conditionalAccessConditionSet",
                "users": {"@odata.type": "#microsoft.graph.conditionalAccessUsers", "includeUsers": ["All"]},
                "applications": {"includeApplications": ["All"]},
                "clientAppTypes": ["all"],
                "times": null
            },
            "grantControls": {"operator": "OR", "builtInControls": ["mfa"], "authenticationStrength@odata.context": "x"},
            "partialEnablementStrategy": null
        }))
        .unwrap();
        assert_eq!(unmodelled_content(&policy), Vec::<String>::new());
        policy.conditions.extra.insert(
            "times".into(),
            json!({"included": {"@odata.type": "#microsoft.graph.conditionalAccessAllTimes"}}),
        );
        assert_eq!(unmodelled_content(&policy), ["conditions.times"]);
    }

    /// A property Graph adds to a session control tomorrow is named, not dropped.
    #[test]
    fn unknown_properties_of_session_controls_are_unmodelled_content() {
        let policy: ConditionalAccessPolicy = serde_json::from_value(json!({
            "id": "p-2", "displayName": "Session", "state": "enabled",
            "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}, "clientAppTypes": ["all"]},
            "sessionControls": {
                "signInFrequency": {"isEnabled": true, "value": 4, "type": "hours", "frequencyInterval": "timeBased", "graceMinutes": 10},
                "persistentBrowser": {"@odata.type": "#microsoft.graph.persistentBrowserSessionControl", "isEnabled": true, "mode": "never"},
                "continuousAccessEvaluation": {"mode": "strictEnforcement", "scope": null}
            }
        }))
        .unwrap();
        assert_eq!(
            unmodelled_content(&policy),
            ["sessionControls.signInFrequency.graceMinutes"]
        );
    }
}
