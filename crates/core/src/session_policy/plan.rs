//! SessionPolicy → one Conditional Access policy: the desired Graph body, the normalized form
//! both sides are compared in, the field-level diff and the plan. Pure: no IO.
//!
//! Only fields the API models are compared and written. What the tenant has beyond them (terms
//! of use, authentication flows, guest types, an application filter ...) is never compared,
//! never sent and so never dropped: PATCH merges nested objects, and a container the spec
//! leaves empty is cleared field by field instead of nulled when it holds such content.

use std::collections::{BTreeMap, BTreeSet};

use super::fields::MANAGED_FIELDS;
use super::wire::{self, ToWire};
use crate::connection::ProtectedIds;
use crate::directory::resolve::{
    MissingName, NameKind, NameRequests, Resolution, Resolutions, is_object_id,
};
use crate::failure::Failure;
use crate::status::Reason;
use crate::tenant_object;
pub use crate::tenant_object::FieldChange;
use sessionops_api::{Assignments, GuestSelection, PolicyConditions, SessionPolicySpec};
use sessionops_graph::ApiVersion;
use sessionops_graph::models::{
    ALL_EXTERNAL_TENANTS_TYPE, AuthenticationStrengthRef, ClientAppType, CloudAppSecurityControl,
    ConditionApplications, ConditionAuthenticationFlows, ConditionClientApplications,
    ConditionDeviceStates, ConditionDevices, ConditionLocations, ConditionPlatforms, ConditionSet,
    ConditionUsers, ConditionalAccessPolicy, ContinuousAccessEvaluationControl,
    ENUMERATED_EXTERNAL_TENANTS_TYPE, EnabledControl, ExternalTenants, Extra, Filter,
    FilteringProfileControl, Flags, FrequencyInterval, FrequencyUnit, GrantControls,
    GuestsOrExternalUsers, MembershipKind, PersistentBrowserControl, SessionControls,
    SignInFrequencyControl,
};

/// Built-in authentication strengths by the names the API accepts, and their fixed ids.
pub const BUILT_IN_STRENGTHS: [(&str, &str); 3] = [
    ("mfa", "00000000-0000-0000-0000-000000000002"),
    ("passwordless", "00000000-0000-0000-0000-000000000003"),
    ("phishingResistant", "00000000-0000-0000-0000-000000000004"),
];

const AGENT_USERS: &str = "AllAgentIdUsers";
const AGENT_RESOURCES: &str = "AllAgentIdResources";
const SERVICE_PRINCIPALS_IN_MY_TENANT: &str = "ServicePrincipalsInMyTenant";
const USER_KEYWORDS: &[&str] = &["All", "None", "GuestsOrExternalUsers", AGENT_USERS];
const APPLICATION_KEYWORDS: &[&str] = &[
    "All",
    "None",
    "Office365",
    "MicrosoftAdminPortals",
    AGENT_RESOURCES,
];
const LOCATION_KEYWORDS: &[&str] = &["All", "AllTrusted", COMPLIANT_NETWORKS];

/// The spec's keyword for the Global Secure Access compliant network.
pub const COMPLIANT_NETWORKS: &str = "AllCompliantNetworks";
/// The named location "All Compliant Network locations" that Global Secure Access creates:
/// `api-reference/beta/api/compliantnetworknamedlocation-get.md` reads it by this id and
/// entra-docs `global-secure-access/scripts/powershell-break-glass.md` matches policies
/// against it in any tenant.
pub const COMPLIANT_NETWORK_LOCATION_ID: &str = "3d46dbda-8382-466a-856d-eb00cbc6b910";

/// The policy's display name when the spec gives none.
pub fn default_display_name(namespace: &str, name: &str) -> String {
    format!("sessionops {namespace}/{name}")
}

/// Why a SessionPolicy cannot be planned. Each has a stable condition reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Names that match no directory object.
    #[error("names not found in the tenant: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))]
    NameNotFound(Vec<MissingName>),
    /// Names that match nothing yet but that other sessionops objects on the connection
    /// manage (a NamedLocation or AuthenticationStrength about to be created): the policy is
    /// applied right after them.
    #[error("waiting for {} to be created in the tenant", .0.join(", "))]
    WaitingForDependency(Vec<String>),
    /// Names that match several objects.
    #[error("ambiguous names (use the object id): {}", .0.join("; "))]
    AmbiguousName(Vec<String>),
    /// Another SessionPolicy manages the same displayName.
    #[error("displayName {display_name:?} is also claimed by {other}; one policy per displayName")]
    Conflict {
        /// The contested name.
        display_name: String,
        /// The other object (`namespace/name`).
        other: String,
    },
    /// Several tenant policies share the displayName: sessionops will not pick one.
    #[error("{count} Conditional Access policies are named {display_name:?} in the tenant ({}): rename or delete all but one", .ids.join(", "))]
    DuplicateInTenant {
        /// The name.
        display_name: String,
        /// How many.
        count: usize,
        /// Their ids.
        ids: Vec<String>,
    },
}

impl PolicyError {
    /// Stable CamelCase reason for conditions, events and metrics.
    pub fn reason(&self) -> Reason {
        match self {
            PolicyError::NameNotFound(_) | PolicyError::AmbiguousName(_) => Reason::NameNotFound,
            PolicyError::WaitingForDependency(_) => Reason::WaitingForDependency,
            PolicyError::Conflict { .. } | PolicyError::DuplicateInTenant { .. } => {
                Reason::Conflict
            }
        }
    }
}

impl From<PolicyError> for Failure {
    fn from(error: PolicyError) -> Failure {
        Failure::refused(error.reason(), error.to_string())
    }
}

/// The policy a SessionPolicy asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredPolicy {
    /// Its display name (its identity in the tenant).
    pub display_name: String,
    /// The full Graph body to create it with.
    pub body: ConditionalAccessPolicy,
    /// `Beta` when a control exists only there (CAE, everyTime).
    pub version: ApiVersion,
    /// The spec fields that route the policy through beta (empty on v1.0).
    pub beta_fields: Vec<&'static str>,
    /// Names of the spec and the ids they resolved to, for status and readable diffs.
    pub resolved: BTreeMap<String, String>,
}

/// Every name `spec` needs resolved (ids and keywords excluded).
pub fn name_requests(spec: &SessionPolicySpec, requests: &mut NameRequests) {
    let assignments = &spec.assignments;
    for user in assignments
        .users
        .include
        .iter()
        .chain(&assignments.users.exclude)
    {
        requests.add(NameKind::User, user, USER_KEYWORDS);
    }
    for group in assignments
        .groups
        .include
        .iter()
        .chain(&assignments.groups.exclude)
    {
        requests.add(NameKind::Group, group, &[]);
    }
    for role in assignments
        .roles
        .include
        .iter()
        .chain(&assignments.roles.exclude)
    {
        requests.add(NameKind::Role, role, &[]);
    }
    let apps = &assignments.applications;
    for app in apps.include.iter().chain(&apps.exclude) {
        requests.add(NameKind::Application, app, APPLICATION_KEYWORDS);
    }
    let principals = &assignments.service_principals;
    for principal in principals.include.iter().chain(&principals.exclude) {
        requests.add(
            NameKind::ServicePrincipal,
            principal,
            &[SERVICE_PRINCIPALS_IN_MY_TENANT],
        );
    }
    if let Some(conditions) = &spec.conditions {
        for location in conditions
            .locations
            .include
            .iter()
            .chain(&conditions.locations.exclude)
        {
            requests.add(NameKind::Location, location, LOCATION_KEYWORDS);
        }
    }
    if let Some(strength) = spec
        .grant
        .as_ref()
        .and_then(|g| g.authentication_strength.as_deref())
    {
        requests.add(
            NameKind::AuthenticationStrength,
            strength,
            &BUILT_IN_STRENGTHS.map(|(name, _)| name),
        );
    }
}

/// The kinds of directory objects `spec` names by display name (each needs a read permission
/// of its own to resolve).
pub fn named_kinds(spec: &SessionPolicySpec) -> Vec<NameKind> {
    let mut requests = NameRequests::default();
    name_requests(spec, &mut requests);
    requests.names.keys().copied().collect()
}

/// Builds the desired Graph policy. Fails with every unresolved name at once.
pub fn desired_policy(
    spec: &SessionPolicySpec,
    namespace: &str,
    name: &str,
    protected: &ProtectedIds,
    resolutions: &Resolutions,
) -> Result<DesiredPolicy, PolicyError> {
    let mut resolver = Resolver {
        resolutions,
        resolved: BTreeMap::new(),
        missing: Vec::new(),
        ambiguous: Vec::new(),
    };
    let mut beta = BetaFields::default();
    let a = &spec.assignments;
    let include_users = resolver.all(NameKind::User, &a.users.include, USER_KEYWORDS);
    let mut exclude_users = resolver.all(NameKind::User, &a.users.exclude, USER_KEYWORDS);
    let include_groups = resolver.all(NameKind::Group, &a.groups.include, &[]);
    let mut exclude_groups = resolver.all(NameKind::Group, &a.groups.exclude, &[]);
    let include_roles = resolver.all(NameKind::Role, &a.roles.include, &[]);
    let exclude_roles = resolver.all(NameKind::Role, &a.roles.exclude, &[]);
    let include_applications = resolver.all(
        NameKind::Application,
        &a.applications.include,
        APPLICATION_KEYWORDS,
    );
    let exclude_applications = resolver.all(
        NameKind::Application,
        &a.applications.exclude,
        APPLICATION_KEYWORDS,
    );
    let in_my_tenant = &[SERVICE_PRINCIPALS_IN_MY_TENANT];
    let include_service_principals = resolver.all(
        NameKind::ServicePrincipal,
        &a.service_principals.include,
        in_my_tenant,
    );
    let exclude_service_principals = resolver.all(
        NameKind::ServicePrincipal,
        &a.service_principals.exclude,
        in_my_tenant,
    );
    // Break-glass accounts are excluded from every policy, whatever the manifest says.
    exclude_users.extend(protected.users.iter().cloned());
    exclude_groups.extend(protected.groups.iter().cloned());
    // Agents acting as users and agent resources are documented with Graph beta only
    // (entra-docs `agent-id` Conditional Access pages).
    beta.mark_if(
        a.users.include.iter().any(|u| u == AGENT_USERS),
        "assignments.users.include: AllAgentIdUsers",
    );
    beta.mark_if(
        a.applications.include.iter().any(|u| u == AGENT_RESOURCES),
        "assignments.applications.include: AllAgentIdResources",
    );

    let conditions = spec.conditions.clone().unwrap_or_default();
    let include_locations = resolver.all(
        NameKind::Location,
        &conditions.locations.include,
        LOCATION_KEYWORDS,
    );
    let exclude_locations = resolver.all(
        NameKind::Location,
        &conditions.locations.exclude,
        LOCATION_KEYWORDS,
    );

    let grant = spec.grant.as_ref().map(|grant| {
        let strength = grant
            .authentication_strength
            .as_ref()
            .and_then(|s| resolver.strength(s));
        GrantControls {
            operator: Some(wire::grant_operator(grant.operator).to_owned()),
            built_in_controls: grant.controls.iter().map(|c| c.to_wire()).collect(),
            custom_authentication_factors: grant.custom_authentication_factors.clone(),
            terms_of_use: grant
                .terms_of_use
                .iter()
                .map(|t| t.to_lowercase())
                .collect(),
            authentication_strength: strength.map(|id| AuthenticationStrengthRef {
                id: Some(id),
                ..Default::default()
            }),
            ..Default::default()
        }
    });

    if !resolver.missing.is_empty() {
        return Err(PolicyError::NameNotFound(resolver.missing));
    }
    if !resolver.ambiguous.is_empty() {
        return Err(PolicyError::AmbiguousName(resolver.ambiguous));
    }

    let session = spec
        .session
        .as_ref()
        .map(|session| session_controls(session, &mut beta));

    let client_app_types = if conditions.client_app_types.is_empty() {
        vec![ClientAppType::All]
    } else {
        conditions
            .client_app_types
            .iter()
            .map(|c| c.to_wire())
            .collect()
    };
    let client_applications = client_applications(
        a,
        include_service_principals,
        exclude_service_principals,
        &mut beta,
    );
    let (devices, device_states) = device_conditions(&conditions, &mut beta);
    let agent_id_risk_levels = (!conditions.agent_id_risk_levels.is_empty()).then(|| {
        Flags(
            conditions
                .agent_id_risk_levels
                .iter()
                .map(|r| r.to_wire())
                .collect(),
        )
    });
    beta.mark_if(
        agent_id_risk_levels.is_some(),
        "conditions.agentIdRiskLevels",
    );
    let applications = &a.applications;
    let marker = |on: bool, field: &'static str, beta: &mut BetaFields| {
        beta.mark_if(on, field);
        on.then(Extra::new)
    };
    let body = ConditionalAccessPolicy {
        id: None,
        display_name: spec
            .display_name
            .clone()
            .unwrap_or_else(|| default_display_name(namespace, name)),
        description: spec.description.clone(),
        state: spec.state.to_wire(),
        conditions: ConditionSet {
            users: Some(ConditionUsers {
                include_users,
                exclude_users: dedup(exclude_users),
                include_groups,
                exclude_groups: dedup(exclude_groups),
                include_roles,
                exclude_roles,
                include_guests_or_external_users: a
                    .guests_or_external_users
                    .include
                    .as_ref()
                    .map(guests),
                exclude_guests_or_external_users: a
                    .guests_or_external_users
                    .exclude
                    .as_ref()
                    .map(guests),
                ..Default::default()
            }),
            applications: Some(ConditionApplications {
                include_applications,
                exclude_applications,
                include_user_actions: applications
                    .user_actions
                    .iter()
                    .map(|action| action.to_wire().to_owned())
                    .collect(),
                include_authentication_context_class_references: applications
                    .authentication_contexts
                    .clone(),
                application_filter: applications.filter.as_ref().map(wire_filter),
                global_secure_access: marker(
                    applications.global_secure_access,
                    "assignments.applications.globalSecureAccess",
                    &mut beta,
                ),
                network_access: marker(
                    applications.network_access,
                    "assignments.applications.networkAccess",
                    &mut beta,
                ),
                ..Default::default()
            }),
            client_app_types,
            platforms: (!conditions.platforms.is_empty()).then(|| ConditionPlatforms {
                include_platforms: conditions
                    .platforms
                    .include
                    .iter()
                    .map(|p| p.to_wire())
                    .collect(),
                exclude_platforms: conditions
                    .platforms
                    .exclude
                    .iter()
                    .map(|p| p.to_wire())
                    .collect(),
                ..Default::default()
            }),
            locations: (!conditions.locations.is_empty()).then(|| ConditionLocations {
                include_locations,
                exclude_locations,
                ..Default::default()
            }),
            devices,
            sign_in_risk_levels: conditions
                .sign_in_risk_levels
                .iter()
                .map(|r| r.to_wire())
                .collect(),
            user_risk_levels: conditions
                .user_risk_levels
                .iter()
                .map(|r| r.to_wire())
                .collect(),
            service_principal_risk_levels: conditions
                .service_principal_risk_levels
                .iter()
                .map(|r| r.to_wire())
                .collect(),
            insider_risk_levels: (!conditions.insider_risk_levels.is_empty()).then(|| {
                Flags(
                    conditions
                        .insider_risk_levels
                        .iter()
                        .map(|r| r.to_wire())
                        .collect(),
                )
            }),
            client_applications,
            authentication_flows: (!conditions.authentication_flows.is_empty()).then(|| {
                ConditionAuthenticationFlows {
                    transfer_methods: Some(Flags(
                        conditions
                            .authentication_flows
                            .iter()
                            .map(|m| m.to_wire())
                            .collect(),
                    )),
                    ..Default::default()
                }
            }),
            agent_id_risk_levels,
            device_states,
            ..Default::default()
        },
        grant_controls: grant,
        session_controls: session,
        created_date_time: None,
        modified_date_time: None,
        deleted_date_time: None,
        template_id: None,
        extra: Default::default(),
    };
    Ok(DesiredPolicy {
        display_name: body.display_name.clone(),
        body,
        version: beta.version(),
        beta_fields: beta.fields,
        resolved: resolver.resolved,
    })
}

fn wire_filter(filter: &sessionops_api::Filter) -> Filter {
    Filter {
        mode: filter.mode.to_wire(),
        rule: filter.rule.clone(),
    }
}

/// Workload identities (resolved `include`/`exclude`) and, beta only, agent identities.
fn client_applications(
    a: &Assignments,
    include: Vec<String>,
    exclude: Vec<String>,
    beta: &mut BetaFields,
) -> Option<ConditionClientApplications> {
    if a.service_principals.is_empty() && a.agents.is_empty() {
        return None;
    }
    let agents = (!a.agents.is_empty()).then_some(&a.agents);
    beta.mark_if(agents.is_some(), "assignments.agents");
    Some(ConditionClientApplications {
        include_service_principals: include,
        exclude_service_principals: exclude,
        service_principal_filter: a.service_principals.filter.as_ref().map(wire_filter),
        include_agent_id_service_principals: agents.map(|g| {
            g.include
                .iter()
                .map(|id| keyword_or_id(id, &["All"]))
                .collect()
        }),
        exclude_agent_id_service_principals: agents
            .map(|g| g.exclude.iter().map(|id| id.to_lowercase()).collect()),
        agent_id_service_principal_filter: agents.and_then(|g| g.filter.as_ref().map(wire_filter)),
        ..Default::default()
    })
}

/// `conditions.devices` (the filter, and the deprecated beta lists) and the deprecated beta
/// `conditions.deviceStates`.
fn device_conditions(
    conditions: &PolicyConditions,
    beta: &mut BetaFields,
) -> (Option<ConditionDevices>, Option<ConditionDeviceStates>) {
    let legacy = (!conditions.devices.is_empty()).then_some(&conditions.devices);
    beta.mark_if(legacy.is_some(), "conditions.devices");
    let devices = (conditions.device_filter.is_some() || legacy.is_some()).then(|| {
        let list = |values: &[String]| Some(values.to_vec());
        ConditionDevices {
            device_filter: conditions.device_filter.as_ref().map(wire_filter),
            include_devices: legacy.and_then(|d| list(&d.include)),
            exclude_devices: legacy.and_then(|d| list(&d.exclude)),
            include_device_states: legacy.and_then(|d| list(&d.include_states)),
            exclude_device_states: legacy.and_then(|d| list(&d.exclude_states)),
            ..Default::default()
        }
    });
    let states = (!conditions.device_states.is_empty()).then(|| ConditionDeviceStates {
        include_states: conditions.device_states.include.clone(),
        exclude_states: conditions.device_states.exclude.clone(),
        ..Default::default()
    });
    beta.mark_if(states.is_some(), "conditions.deviceStates");
    (devices, states)
}

/// The spec fields that exist only in Graph beta, in the order the spec names them.
#[derive(Default)]
struct BetaFields {
    fields: Vec<&'static str>,
}

impl BetaFields {
    fn mark_if(&mut self, used: bool, field: &'static str) {
        if used && !self.fields.contains(&field) {
            self.fields.push(field);
        }
    }

    fn version(&self) -> ApiVersion {
        if self.fields.is_empty() {
            ApiVersion::V1
        } else {
            ApiVersion::Beta
        }
    }
}

fn session_controls(
    session: &sessionops_api::SessionControls,
    beta: &mut BetaFields,
) -> SessionControls {
    let frequency = session.sign_in_frequency.as_deref().map(|frequency| {
        let authentication_type = Some(
            session
                .sign_in_frequency_authentication
                .unwrap_or_default()
                .to_wire(),
        );
        match parse_frequency(frequency) {
            Frequency::EveryTime => {
                // v1.0 refuses everyTime in some tenants; beta always takes it.
                beta.mark_if(true, "session.signInFrequency: everyTime");
                SignInFrequencyControl {
                    is_enabled: Some(true),
                    authentication_type,
                    frequency_interval: Some(FrequencyInterval::EveryTime),
                    ..Default::default()
                }
            }
            Frequency::Every(value, unit) => SignInFrequencyControl {
                is_enabled: Some(true),
                value: Some(value),
                unit: Some(unit),
                authentication_type,
                frequency_interval: Some(FrequencyInterval::TimeBased),
                ..Default::default()
            },
        }
    });
    let enabled = |on: bool| {
        on.then(|| EnabledControl {
            is_enabled: Some(true),
            ..Default::default()
        })
    };
    let continuous_access_evaluation = session.continuous_access_evaluation.map(|mode| {
        beta.mark_if(true, "session.continuousAccessEvaluation");
        ContinuousAccessEvaluationControl {
            mode: Some(mode.to_wire()),
            ..Default::default()
        }
    });
    let global_secure_access_filtering_profile = session
        .global_secure_access_filtering_profile
        .as_ref()
        .map(|profile| {
            beta.mark_if(true, "session.globalSecureAccessFilteringProfile");
            FilteringProfileControl {
                is_enabled: Some(true),
                profile_id: Some(profile.clone()),
                ..Default::default()
            }
        });
    SessionControls {
        application_enforced_restrictions: enabled(session.application_enforced_restrictions),
        cloud_app_security: session.cloud_app_security.map(|c| CloudAppSecurityControl {
            is_enabled: Some(true),
            cloud_app_security_type: Some(c.to_wire()),
            ..Default::default()
        }),
        sign_in_frequency: frequency,
        persistent_browser: session
            .persistent_browser
            .map(|m| PersistentBrowserControl {
                is_enabled: Some(true),
                mode: Some(m.to_wire()),
                ..Default::default()
            }),
        disable_resilience_defaults: Some(session.disable_resilience_defaults),
        secure_sign_in_session: enabled(session.token_protection),
        continuous_access_evaluation,
        global_secure_access_filtering_profile,
        ..Default::default()
    }
}

/// `guestOrExternalUserTypes` and `externalTenants` of one side. `[All]` is the all-tenants
/// derived type and a list the enumerated one; both state their `@odata.type`, which a write
/// of the abstract `conditionalAccessExternalTenants` must name
/// (`conditionalaccessexternaltenants.md`: "an abstract type").
fn guests(selection: &GuestSelection) -> GuestsOrExternalUsers {
    let external_tenants = match selection.external_tenants.as_slice() {
        [] => None,
        [all] if all == "All" => Some(ExternalTenants {
            odata_type: Some(ALL_EXTERNAL_TENANTS_TYPE.to_owned()),
            membership_kind: Some(MembershipKind::All),
            members: None,
            ..Default::default()
        }),
        tenants => Some(ExternalTenants {
            odata_type: Some(ENUMERATED_EXTERNAL_TENANTS_TYPE.to_owned()),
            membership_kind: Some(MembershipKind::Enumerated),
            members: Some(tenants.iter().map(|t| t.to_lowercase()).collect()),
            ..Default::default()
        }),
    };
    GuestsOrExternalUsers {
        guest_or_external_user_types: Some(Flags(
            selection.types.iter().map(|t| t.to_wire()).collect(),
        )),
        external_tenants,
        ..Default::default()
    }
}

fn keyword_or_id(value: &str, keywords: &[&str]) -> String {
    if keywords.contains(&value) {
        value.to_owned()
    } else {
        value.to_lowercase()
    }
}

struct Resolver<'a> {
    resolutions: &'a Resolutions,
    resolved: BTreeMap<String, String>,
    missing: Vec<MissingName>,
    ambiguous: Vec<String>,
}

impl Resolver<'_> {
    fn all(&mut self, kind: NameKind, names: &[String], keywords: &[&str]) -> Vec<String> {
        names
            .iter()
            .filter_map(|name| self.one(kind, name, keywords))
            .collect()
    }

    fn one(&mut self, kind: NameKind, name: &str, keywords: &[&str]) -> Option<String> {
        if kind == NameKind::Location && name == COMPLIANT_NETWORKS {
            return Some(COMPLIANT_NETWORK_LOCATION_ID.to_owned());
        }
        if keywords.contains(&name) {
            return Some(name.to_owned());
        }
        if is_object_id(name) {
            return Some(name.to_lowercase());
        }
        let label = format!("{}:{name}", kind.prefix());
        match self.resolutions.get(kind, name) {
            Some(Resolution::Id(id)) => {
                self.resolved.insert(label, id.clone());
                Some(id.to_lowercase())
            }
            Some(Resolution::Ambiguous(ids)) => {
                self.ambiguous
                    .push(format!("{label} matches {}", ids.join(", ")));
                None
            }
            Some(Resolution::Missing) | None => {
                self.missing.push(MissingName {
                    kind,
                    name: name.to_owned(),
                });
                None
            }
        }
    }
}

impl Resolver<'_> {
    /// A built-in strength by its API name, else a custom one by display name or id.
    fn strength(&mut self, strength: &str) -> Option<String> {
        if let Some((_, id)) = BUILT_IN_STRENGTHS
            .iter()
            .find(|(name, _)| *name == strength)
        {
            self.resolved.insert(
                format!("{}:{strength}", NameKind::AuthenticationStrength.prefix()),
                (*id).to_owned(),
            );
            return Some((*id).to_owned());
        }
        self.one(NameKind::AuthenticationStrength, strength, &[])
    }
}

fn dedup(mut ids: Vec<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    ids.retain(|id| seen.insert(id.to_lowercase()));
    ids
}

enum Frequency {
    EveryTime,
    Every(i32, FrequencyUnit),
}

/// `12h`, `7d` or `everyTime` (validated by the CRD's rule before it gets here).
fn parse_frequency(text: &str) -> Frequency {
    if text == "everyTime" {
        return Frequency::EveryTime;
    }
    let (number, unit) = text.split_at(text.len() - 1);
    let value = number.parse().unwrap_or(1);
    let unit = if unit == "d" {
        FrequencyUnit::Days
    } else {
        FrequencyUnit::Hours
    };
    Frequency::Every(value, unit)
}

/// What to do with one SessionPolicy (see [`tenant_object::Plan`]).
pub type PolicyPlan = tenant_object::Plan;

/// How the tenant policy of a SessionPolicy was found.
pub type Found<'a> = tenant_object::Found<'a, ConditionalAccessPolicy>;

/// The differing managed fields, in path order. `compare_beta_only` is false when the tenant
/// side was read through v1.0, which does not return beta-only controls.
pub fn diff(
    desired: &ConditionalAccessPolicy,
    observed: &ConditionalAccessPolicy,
    compare_beta_only: bool,
) -> Vec<FieldChange> {
    tenant_object::diff(MANAGED_FIELDS, desired, observed, compare_beta_only)
}

impl From<tenant_object::Duplicate> for PolicyError {
    fn from(duplicate: tenant_object::Duplicate) -> PolicyError {
        PolicyError::DuplicateInTenant {
            display_name: duplicate.display_name,
            count: duplicate.count,
            ids: duplicate.ids,
        }
    }
}

/// Finds the tenant policy: the recorded id first, else a unique displayName match.
pub fn find<'a>(
    recorded_id: Option<&str>,
    display_name: &str,
    policies: &'a [ConditionalAccessPolicy],
) -> Result<Found<'a>, PolicyError> {
    Ok(tenant_object::find(recorded_id, display_name, policies)?)
}

/// Finds the tenant policy among the active ones, failing that among the soft-deleted ones.
pub fn find_with_deleted<'a>(
    recorded_id: Option<&str>,
    display_name: &str,
    active: &'a [ConditionalAccessPolicy],
    deleted: &'a [ConditionalAccessPolicy],
) -> Result<Found<'a>, PolicyError> {
    Ok(tenant_object::find_with_deleted(
        recorded_id,
        display_name,
        active,
        deleted,
    )?)
}

/// The plan for a desired policy given what was found in the tenant. `observed_via_beta`
/// says whether the tenant side was read through beta (and so shows beta-only controls).
pub fn plan(desired: &DesiredPolicy, found: Found<'_>, observed_via_beta: bool) -> PolicyPlan {
    tenant_object::plan(
        MANAGED_FIELDS,
        &desired.body,
        desired.version,
        found,
        observed_via_beta,
    )
}

#[cfg(test)]
mod tests;
