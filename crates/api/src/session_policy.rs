//! `SessionPolicy`: one Conditional Access policy with session controls, managed from Git.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::{Conditions, IncludeExclude, TenantRef};
use super::rules::{
    self, AUTHENTICATION_CONTEXT, GUID, MAX_NAME_LENGTH, MAX_PRINCIPALS, SIGN_IN_FREQUENCY, UPN,
};

/// Desired Conditional Access policy: assignments, conditions, and session controls (sign-in
/// frequency, persistent browser, continuous access evaluation, ...) with optional grant
/// controls. sessionops creates the policy, keeps it as written here (correcting portal edits
/// at the next resync) and deletes or keeps it when this object is deleted.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "sessionops.io",
    version = "v1alpha1",
    kind = "SessionPolicy",
    doc = "A Conditional Access policy with session controls, managed from Git: one SessionPolicy is exactly one policy in the tenant.",
    derive = "PartialEq",
    namespaced,
    status = "SessionPolicyStatus",
    shortname = "sesspol",
    category = "sessionops",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#,
    printcolumn = r#"{"name":"State","type":"string","jsonPath":".spec.state"}"#,
    printcolumn = r#"{"name":"Policy ID","type":"string","jsonPath":".status.policyId"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    cel
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[x_kube(validation = rules::rule("has(self.grant) || has(self.session)", "at least one of grant or session must be set"))]
#[x_kube(validation = rules::rule_at(
    "!has(self.session) || !has(self.session.persistentBrowser) || (has(self.assignments.applications) && has(self.assignments.applications.include) && 'All' in self.assignments.applications.include)",
    "persistentBrowser requires assignments.applications.include to be [All] (all tabs share one session cookie)",
    ".session.persistentBrowser",
))]
#[x_kube(validation = rules::rule_at(
    "!has(self.grant) || !has(self.grant.controls) || !('passwordChange' in self.grant.controls) || (has(self.assignments.applications) && has(self.assignments.applications.include) && self.assignments.applications.include == ['All'] && !has(self.assignments.applications.exclude))",
    "grant control passwordChange requires assignments.applications.include [All] without exclusions",
    ".grant.controls",
))]
#[x_kube(validation = rules::rule_at(
    "!has(self.assignments.servicePrincipals) || !has(self.assignments.servicePrincipals.include) || (has(self.grant) && has(self.grant.controls) && self.grant.controls == ['block'] && !has(self.session))",
    "a policy for workload identities can only block (entra-docs workload-identity.md: Block access is the only available option)",
    ".grant",
))]
#[x_kube(validation = rules::rule_at(
    "!has(self.assignments.agents) || !has(self.assignments.agents.include) || (has(self.grant) && has(self.grant.controls) && self.grant.controls == ['block'] && !has(self.session))",
    "a policy for agent identities can only block (entra-docs agent-id.md: Block is the only access control)",
    ".grant",
))]
pub struct SessionPolicySpec {
    /// The tenant connection this policy is applied through.
    pub tenant_ref: TenantRef,

    /// Display name of the Conditional Access policy. It identifies the policy in the tenant:
    /// an existing policy with this name is adopted instead of creating a duplicate.
    /// Default: `sessionops <namespace>/<name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = rules::not_blank("displayName must not be blank"))]
    #[schemars(length(max = 256))]
    pub display_name: Option<String>,

    /// Description of the policy in the tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub description: Option<String>,

    /// `enabled` enforces the policy, `reportOnly` only logs what it would have done (Graph:
    /// `enabledForReportingButNotEnforced`), `disabled` keeps it off. Required, so that nobody
    /// enforces a policy by omission.
    pub state: PolicyState,

    /// What happens to the policy in the tenant when this object is deleted: `Delete` (default)
    /// removes it, `Retain` leaves it in place, no longer managed.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// Who and what the policy applies to. Protected principals of the tenant connection are
    /// always added to the exclusions.
    pub assignments: Assignments,

    /// Conditions that narrow when the policy applies. All are optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<PolicyConditions>,

    /// Grant controls: what a sign-in must satisfy to be allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<GrantControls>,

    /// Session controls: how long and how the resulting session lives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionControls>,
}

/// Conditional Access policy state.
#[derive(Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum PolicyState {
    /// The policy is enforced.
    Enabled,
    /// The policy exists but is off.
    Disabled,
    /// The policy is evaluated and logged but not enforced.
    ReportOnly,
}

/// What happens in the tenant when the Kubernetes object is deleted.
#[derive(
    Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
pub enum DeletionPolicy {
    /// Delete the Conditional Access policy (it stays restorable in the tenant's deleted items).
    #[default]
    Delete,
    /// Leave the policy in the tenant, unmanaged.
    Retain,
}

/// Users, groups, roles and applications the policy applies to.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[x_kube(validation = rules::rule(
    "(has(self.users) && has(self.users.include)) || (has(self.groups) && has(self.groups.include)) || (has(self.roles) && has(self.roles.include)) || (has(self.guestsOrExternalUsers) && has(self.guestsOrExternalUsers.include)) || (has(self.servicePrincipals) && has(self.servicePrincipals.include)) || (has(self.agents) && has(self.agents.include))",
    "at least one of users.include, groups.include, roles.include, guestsOrExternalUsers.include, servicePrincipals.include or agents.include must name someone (use users.include: [None] for a policy that applies to nobody yet)",
))]
#[x_kube(validation = rules::rule(
    "has(self.applications) && (has(self.applications.include) || has(self.applications.userActions) || has(self.applications.authenticationContexts) || (has(self.applications.globalSecureAccess) && self.applications.globalSecureAccess) || (has(self.applications.networkAccess) && self.applications.networkAccess))",
    "applications must name what the policy protects: include (All, Office365, MicrosoftAdminPortals or an appId), userActions, authenticationContexts or a Global Secure Access traffic profile",
))]
#[x_kube(validation = rules::rule_at(
    "!has(self.servicePrincipals) || !has(self.servicePrincipals.include) || !((has(self.users) && has(self.users.include) && self.users.include != ['None']) || (has(self.groups) && has(self.groups.include)) || (has(self.roles) && has(self.roles.include)) || (has(self.guestsOrExternalUsers) && has(self.guestsOrExternalUsers.include)))",
    "a policy for servicePrincipals (workload identities) cannot also include users, groups, roles or guests",
    ".servicePrincipals",
))]
pub struct Assignments {
    /// Users: `All`, `None`, `GuestsOrExternalUsers`, a user principal name or an object id.
    #[serde(default, skip_serializing_if = "UserAssignment::is_empty")]
    pub users: UserAssignment,
    /// Groups by display name or object id.
    #[serde(default, skip_serializing_if = "IncludeExclude::is_empty")]
    pub groups: IncludeExclude,
    /// Directory roles by display name (e.g. `Global Administrator`) or role template id.
    #[serde(default, skip_serializing_if = "IncludeExclude::is_empty")]
    pub roles: IncludeExclude,
    /// Cloud apps: `All`, `Office365`, `MicrosoftAdminPortals`, `None` or an application (client) id;
    /// user actions; authentication contexts; an application filter.
    #[serde(default, skip_serializing_if = "ApplicationAssignment::is_empty")]
    pub applications: ApplicationAssignment,
    /// Guests and external users by kind and home tenant (Graph
    /// `include`/`excludeGuestsOrExternalUsers`).
    #[serde(default, skip_serializing_if = "GuestAssignment::is_empty")]
    pub guests_or_external_users: GuestAssignment,
    /// Workload identities: service principals of this tenant (Graph
    /// `conditions.clientApplications`). Such a policy can only block.
    #[serde(default, skip_serializing_if = "ServicePrincipalAssignment::is_empty")]
    pub service_principals: ServicePrincipalAssignment,
    /// Agent identities (Graph beta `includeAgentIdServicePrincipals`, ...): routes the policy
    /// through Graph beta.
    #[serde(default, skip_serializing_if = "AgentAssignment::is_empty")]
    pub agents: AgentAssignment,
}

/// Guests and external users to include and exclude.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GuestAssignment {
    /// Kinds of guests (and their tenants) the policy applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<GuestSelection>,
    /// Kinds of guests (and their tenants) the policy never applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<GuestSelection>,
}

impl GuestAssignment {
    /// Neither side is set.
    pub fn is_empty(&self) -> bool {
        self.include.is_none() && self.exclude.is_none()
    }
}

/// Kinds of guests and external users, optionally only from some tenants.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GuestSelection {
    /// The kinds (Graph `guestOrExternalUserTypes`, sent as one comma-separated value).
    #[schemars(length(min = 1, max = 8))]
    #[x_kube(
        validation = rules::rule("size(self) > 0", "types must name at least one kind of guest or external user"),
        validation = rules::unique_items("types must not repeat"),
    )]
    pub types: Vec<GuestOrExternalUserType>,
    /// `[All]` for every external tenant, or tenant ids. Unset: Graph's default (no tenant
    /// restriction recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_PRINCIPALS), inner(length(max = 64)))]
    #[x_kube(
        validation = rules::each_item(&[GUID], &["All"], "each entry must be All or a tenant id"),
        validation = rules::alone("All", "All cannot be combined with tenant ids"),
    )]
    pub external_tenants: Vec<String>,
}

/// Kinds of guests and external users (`conditionalAccessGuestOrExternalUserTypes`).
#[derive(
    Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "camelCase")]
pub enum GuestOrExternalUserType {
    /// Local guest accounts of this tenant.
    InternalGuest,
    /// B2B collaboration guests.
    B2bCollaborationGuest,
    /// B2B collaboration members.
    B2bCollaborationMember,
    /// B2B direct connect users (shared channels).
    B2bDirectConnectUser,
    /// Other external users.
    OtherExternalUser,
    /// Service providers (partner admins through GDAP or CSP).
    ServiceProvider,
}

/// Service principals (workload identities) to include and exclude.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServicePrincipalAssignment {
    /// `ServicePrincipalsInMyTenant`, service principal object ids or display names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_PRINCIPALS), inner(length(max = MAX_NAME_LENGTH)))]
    #[x_kube(
        validation = rules::each_not_blank("service principal entries must not be blank"),
        validation = rules::alone("ServicePrincipalsInMyTenant", "ServicePrincipalsInMyTenant cannot be combined with other entries"),
    )]
    pub include: Vec<String>,
    /// Service principal object ids or display names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_PRINCIPALS), inner(length(max = MAX_NAME_LENGTH)))]
    #[x_kube(
        validation = rules::each_not_blank("service principal entries must not be blank"),
        validation = rules::none_of(&["ServicePrincipalsInMyTenant"], "ServicePrincipalsInMyTenant cannot be excluded"),
    )]
    pub exclude: Vec<String>,
    /// Filter on custom security attributes of service principals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
}

impl ServicePrincipalAssignment {
    /// Nothing is set.
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty() && self.filter.is_none()
    }
}

/// Agent identities to include and exclude (Graph beta only).
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentAssignment {
    /// `All` or agent identity object ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_PRINCIPALS), inner(length(max = MAX_NAME_LENGTH)))]
    #[x_kube(
        validation = rules::each_item(&[GUID], &["All"], "each entry must be All or an agent identity id"),
        validation = rules::alone("All", "All cannot be combined with other entries"),
    )]
    pub include: Vec<String>,
    /// Agent identity object ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_PRINCIPALS), inner(length(max = MAX_NAME_LENGTH)))]
    #[x_kube(validation = rules::each_item(&[GUID], &[], "each entry must be an agent identity id"))]
    pub exclude: Vec<String>,
    /// Filter on custom security attributes of agent identities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
}

impl AgentAssignment {
    /// Nothing is set.
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty() && self.filter.is_none()
    }
}

/// Users to include and exclude.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserAssignment {
    /// `All`, `None`, `GuestsOrExternalUsers`, user principal names or object ids
    /// (`AllAgentIdUsers`, agents acting as users, routes the policy through Graph beta).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_PRINCIPALS), inner(length(max = MAX_NAME_LENGTH)))]
    #[x_kube(
        validation = rules::each_item(&[UPN, GUID], &["All", "None", "GuestsOrExternalUsers", "AllAgentIdUsers"], "each entry must be All, None, GuestsOrExternalUsers, AllAgentIdUsers, a user principal name or an object id"),
        validation = rules::alone("All", "All cannot be combined with other entries"),
        validation = rules::alone("None", "None cannot be combined with other entries"),
    )]
    pub include: Vec<String>,
    /// User principal names, object ids or `GuestsOrExternalUsers`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_PRINCIPALS), inner(length(max = MAX_NAME_LENGTH)))]
    #[x_kube(validation = rules::each_item(&[UPN, GUID], &["GuestsOrExternalUsers"], "each entry must be a user principal name, an object id or GuestsOrExternalUsers (All and None cannot be excluded)"))]
    pub exclude: Vec<String>,
}

impl UserAssignment {
    /// Neither list has an entry.
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }
}

/// Cloud apps, user actions and authentication contexts the policy protects.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[x_kube(validation = rules::rule(
    "[has(self.include), has(self.userActions), has(self.authenticationContexts)].filter(x, x).size() <= 1",
    "include, userActions and authenticationContexts are alternatives: a policy targets one of them",
))]
pub struct ApplicationAssignment {
    /// `All`, `Office365`, `MicrosoftAdminPortals`, `None`, application (client) ids or the
    /// display names of their service principals (`Office 365 Exchange Online`), resolved at
    /// plan time (`AllAgentIdResources` routes the policy through Graph beta).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_PRINCIPALS), inner(length(max = MAX_NAME_LENGTH)))]
    #[x_kube(
        validation = rules::each_not_blank("application entries must not be blank"),
        validation = rules::alone("All", "All cannot be combined with other entries"),
        validation = rules::alone("None", "None cannot be combined with other entries"),
    )]
    pub include: Vec<String>,
    /// `Office365`, `MicrosoftAdminPortals`, application (client) ids or service principal
    /// display names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_PRINCIPALS), inner(length(max = MAX_NAME_LENGTH)))]
    #[x_kube(
        validation = rules::each_not_blank("application entries must not be blank"),
        validation = rules::none_of(&["All", "None"], "All and None cannot be excluded"),
    )]
    pub exclude: Vec<String>,
    /// Filter on custom security attributes of applications (Graph `applicationFilter`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    /// User actions instead of apps: registering security information or devices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 2))]
    #[x_kube(validation = rules::unique_items("userActions must not repeat"))]
    pub user_actions: Vec<UserAction>,
    /// Authentication context ids (`c1` to `c99`) instead of apps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 99), inner(length(max = 3)))]
    #[x_kube(validation = rules::each_item(&[AUTHENTICATION_CONTEXT], &[], "each entry must be an authentication context id c1 to c99"))]
    pub authentication_contexts: Vec<String>,
    /// Global Secure Access traffic profile (Graph beta only; deprecated by Microsoft).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub global_secure_access: bool,
    /// Network access traffic profile (Graph beta only; deprecated by Microsoft).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub network_access: bool,
}

impl ApplicationAssignment {
    /// Nothing is set.
    pub fn is_empty(&self) -> bool {
        self.include.is_empty()
            && self.exclude.is_empty()
            && self.filter.is_none()
            && self.user_actions.is_empty()
            && self.authentication_contexts.is_empty()
            && !self.global_secure_access
            && !self.network_access
    }
}

/// A user action a policy can protect instead of an app.
#[derive(
    Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "camelCase")]
pub enum UserAction {
    /// Registering security information (Graph `urn:user:registersecurityinfo`).
    RegisterSecurityInfo,
    /// Registering or joining devices (Graph `urn:user:registerdevice`).
    RegisterOrJoinDevices,
}

/// Conditions of the policy; an empty condition does not narrow anything.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyConditions {
    /// Client app types; default `[all]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 8))]
    #[x_kube(validation = rules::alone("all", "all cannot be combined with other client app types"))]
    pub client_app_types: Vec<ClientAppType>,
    /// Device platforms.
    #[serde(default, skip_serializing_if = "PlatformCondition::is_empty")]
    pub platforms: PlatformCondition,
    /// Named locations by display name or id, or `All` / `AllTrusted`.
    #[serde(default, skip_serializing_if = "LocationCondition::is_empty")]
    pub locations: LocationCondition,
    /// Sign-in risk levels (needs Entra ID P2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 4))]
    pub sign_in_risk_levels: Vec<RiskLevel>,
    /// User risk levels (needs Entra ID P2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 4))]
    pub user_risk_levels: Vec<RiskLevel>,
    /// Filter on device properties, e.g. to target unmanaged devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_filter: Option<Filter>,
    /// Service principal risk levels (workload identities; needs Workload Identities Premium).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 4))]
    #[x_kube(validation = rules::none_of(&["hidden"], "hidden is not a service principal risk level"))]
    pub service_principal_risk_levels: Vec<RiskLevel>,
    /// Insider risk levels (Microsoft Purview adaptive protection).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 3))]
    #[x_kube(validation = rules::unique_items("insiderRiskLevels must not repeat"))]
    pub insider_risk_levels: Vec<InsiderRiskLevel>,
    /// Agent identity risk levels (Graph beta only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 3))]
    #[x_kube(validation = rules::unique_items("agentIdRiskLevels must not repeat"))]
    pub agent_id_risk_levels: Vec<AgentIdRiskLevel>,
    /// Authentication flows the policy applies to (Graph `authenticationFlows.transferMethods`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 2))]
    #[x_kube(validation = rules::unique_items("authenticationFlows must not repeat"))]
    pub authentication_flows: Vec<TransferMethod>,
    /// Devices by state (Graph beta only; deprecated by Microsoft in favour of `deviceFilter`,
    /// kept so that older tenants export losslessly).
    #[serde(default, skip_serializing_if = "LegacyDevices::is_empty")]
    pub devices: LegacyDevices,
    /// Device states (Graph beta `conditions.deviceStates`; deprecated by Microsoft in favour of
    /// `deviceFilter`).
    #[serde(default, skip_serializing_if = "DeviceStates::is_empty")]
    pub device_states: DeviceStates,
}

/// A filter rule in Graph's rule syntax, e.g.
/// `device.isCompliant -eq True -or device.trustType -eq "ServerAD"` for devices or
/// `CustomSecurityAttribute.Engineering_Project -eq "Baker"` for apps and service principals.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Filter {
    /// `include`: the policy applies to what matches; `exclude`: to everything else.
    pub mode: FilterMode,
    /// The filter rule.
    #[schemars(length(max = 3072))]
    #[x_kube(validation = rules::not_blank("filter rule must not be blank"))]
    pub rule: String,
}

/// Whether a filter selects or removes what it matches.
#[derive(Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum FilterMode {
    /// Apply to what matches.
    Include,
    /// Apply to everything except what matches.
    Exclude,
}

/// Insider risk levels (`conditionalAccessInsiderRiskLevels`).
#[derive(
    Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "camelCase")]
pub enum InsiderRiskLevel {
    /// Minor.
    Minor,
    /// Moderate.
    Moderate,
    /// Elevated.
    Elevated,
}

/// Agent identity risk levels (`conditionalAccessAgentIdRiskLevels`, beta).
#[derive(
    Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "camelCase")]
pub enum AgentIdRiskLevel {
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
}

/// Authentication flows (`conditionalAccessTransferMethods`).
#[derive(
    Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "camelCase")]
pub enum TransferMethod {
    /// The device code flow (sign in on another device with a code).
    DeviceCodeFlow,
    /// Authentication transfer (move a signed-in session from a PC to a phone).
    AuthenticationTransfer,
}

/// The deprecated beta device condition (`conditions.devices` include/exclude lists).
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LegacyDevices {
    /// `All` (Graph `includeDevices`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 1), inner(length(max = 16)))]
    #[x_kube(validation = rules::each_item(&[], &["All"], "All is the only allowed value"))]
    pub include: Vec<String>,
    /// `Compliant`, `DomainJoined` (Graph `excludeDevices`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 2), inner(length(max = 16)))]
    #[x_kube(validation = rules::each_item(&[], &["Compliant", "DomainJoined"], "each entry must be Compliant or DomainJoined"))]
    pub exclude: Vec<String>,
    /// Graph `includeDeviceStates`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 1), inner(length(max = 16)))]
    #[x_kube(validation = rules::each_item(&[], &["All"], "All is the only allowed value"))]
    pub include_states: Vec<String>,
    /// Graph `excludeDeviceStates`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 2), inner(length(max = 16)))]
    #[x_kube(validation = rules::each_item(&[], &["Compliant", "DomainJoined"], "each entry must be Compliant or DomainJoined"))]
    pub exclude_states: Vec<String>,
}

impl LegacyDevices {
    /// Nothing is set.
    pub fn is_empty(&self) -> bool {
        self.include.is_empty()
            && self.exclude.is_empty()
            && self.include_states.is_empty()
            && self.exclude_states.is_empty()
    }
}

/// The deprecated beta `conditions.deviceStates`.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeviceStates {
    /// `All`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 1), inner(length(max = 16)))]
    #[x_kube(validation = rules::each_item(&[], &["All"], "All is the only allowed value"))]
    pub include: Vec<String>,
    /// `Compliant`, `DomainJoined`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 2), inner(length(max = 16)))]
    #[x_kube(validation = rules::each_item(&[], &["Compliant", "DomainJoined"], "each entry must be Compliant or DomainJoined"))]
    pub exclude: Vec<String>,
}

impl DeviceStates {
    /// Nothing is set.
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }
}

/// Client application types of a sign-in.
#[derive(
    Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "camelCase")]
pub enum ClientAppType {
    /// Every client.
    All,
    /// Web browsers.
    Browser,
    /// Mobile apps and desktop clients using modern authentication.
    MobileAppsAndDesktopClients,
    /// Exchange ActiveSync clients.
    ExchangeActiveSync,
    /// Exchange ActiveSync clients on supported platforms.
    EasSupported,
    /// Other (legacy authentication) clients.
    Other,
}

/// Device platforms to include and exclude.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[x_kube(validation = rules::rule(
    "!has(self.exclude) || has(self.include)",
    "platforms.exclude needs platforms.include (Graph rejects exclusions alone)",
))]
pub struct PlatformCondition {
    /// Platforms the policy applies to (`all` for every platform).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 8))]
    #[x_kube(validation = rules::alone("all", "all cannot be combined with other platforms"))]
    pub include: Vec<Platform>,
    /// Platforms the policy never applies to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 8))]
    #[x_kube(validation = rules::none_of(&["all"], "all cannot be excluded"))]
    pub exclude: Vec<Platform>,
}

impl PlatformCondition {
    /// Neither list has an entry.
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }
}

/// Device platforms as Graph names them.
#[derive(
    Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord,
)]
pub enum Platform {
    /// Every platform.
    #[serde(rename = "all")]
    All,
    /// Android.
    #[serde(rename = "android")]
    Android,
    /// iOS and iPadOS.
    #[serde(rename = "iOS")]
    Ios,
    /// Windows.
    #[serde(rename = "windows")]
    Windows,
    /// Windows Phone.
    #[serde(rename = "windowsPhone")]
    WindowsPhone,
    /// macOS.
    #[serde(rename = "macOS")]
    MacOs,
    /// Linux.
    #[serde(rename = "linux")]
    Linux,
}

/// Named locations to include and exclude.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocationCondition {
    /// `All`, `AllTrusted`, `AllCompliantNetworks` (Global Secure Access compliant network),
    /// named-location display names or ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_PRINCIPALS), inner(length(max = MAX_NAME_LENGTH)))]
    #[x_kube(validation = rules::alone("All", "All cannot be combined with other locations"))]
    pub include: Vec<String>,
    /// `AllTrusted`, `AllCompliantNetworks`, named-location display names or ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_PRINCIPALS), inner(length(max = MAX_NAME_LENGTH)))]
    #[x_kube(validation = rules::none_of(&["All"], "All cannot be excluded"))]
    pub exclude: Vec<String>,
}

impl LocationCondition {
    /// Neither list has an entry.
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }
}

/// Risk level of a user or sign-in (Identity Protection).
#[derive(
    Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "camelCase")]
pub enum RiskLevel {
    /// Low risk.
    Low,
    /// Medium risk.
    Medium,
    /// High risk.
    High,
    /// Hidden: the level is not shown (the tenant has no Entra ID P2 license).
    Hidden,
    /// No risk detected.
    None,
}

/// Grant controls of the policy.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[x_kube(validation = rules::rule(
    "!has(self.authenticationStrength) || !has(self.controls) || !('mfa' in self.controls)",
    "control mfa cannot be combined with authenticationStrength (Graph error 1108); use one of them",
))]
#[x_kube(validation = rules::rule_at(
    "!has(self.controls) || !('passwordChange' in self.controls) || (self.operator == 'AND' && 'mfa' in self.controls)",
    "passwordChange must be combined with mfa using operator AND",
    ".controls",
))]
#[x_kube(validation = rules::rule_at(
    "!has(self.controls) || !('riskRemediation' in self.controls) || (self.operator == 'AND' && has(self.authenticationStrength) && !('passwordChange' in self.controls))",
    "riskRemediation must be combined with an authenticationStrength using operator AND, and not with passwordChange",
    ".controls",
))]
#[x_kube(validation = rules::rule(
    "(has(self.controls) && size(self.controls) > 0) || has(self.authenticationStrength) || has(self.termsOfUse) || has(self.customAuthenticationFactors)",
    "grant needs at least one control, an authenticationStrength, a termsOfUse agreement or a custom factor",
))]
pub struct GrantControls {
    /// `OR` (default): any one control satisfies the policy; `AND`: all are required.
    #[serde(default)]
    pub operator: GrantOperator,
    /// Built-in grant controls.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 8))]
    #[x_kube(
        validation = rules::alone("block", "block cannot be combined with other controls"),
        validation = rules::unique_items("controls must not repeat"),
    )]
    pub controls: Vec<GrantControl>,
    /// Authentication strength: a built-in one by name (`mfa`, `passwordless`,
    /// `phishingResistant`), a custom one by display name, or an authentication strength
    /// policy id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 256))]
    #[x_kube(validation = rules::not_blank("authenticationStrength must not be blank"))]
    pub authentication_strength: Option<String>,
    /// Terms of use agreements (ids) users must accept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32), inner(length(max = 64)))]
    #[x_kube(validation = rules::each_item(&[GUID], &[], "each entry must be a terms of use agreement id"))]
    pub terms_of_use: Vec<String>,
    /// Custom control ids (Graph `customAuthenticationFactors`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32), inner(length(max = MAX_NAME_LENGTH)))]
    pub custom_authentication_factors: Vec<String>,
}

/// How grant controls combine.
#[derive(
    Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
pub enum GrantOperator {
    /// All controls are required.
    #[serde(rename = "AND")]
    And,
    /// Any one control suffices.
    #[default]
    #[serde(rename = "OR")]
    Or,
}

/// Built-in grant controls.
#[derive(
    Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "camelCase")]
pub enum GrantControl {
    /// Require multifactor authentication.
    Mfa,
    /// Require a device marked compliant by Intune.
    CompliantDevice,
    /// Require a Microsoft Entra hybrid joined device.
    DomainJoinedDevice,
    /// Require an approved client app.
    ApprovedApplication,
    /// Require an app protection policy.
    CompliantApplication,
    /// Require a password change (with mfa, for user risk).
    PasswordChange,
    /// Require risk remediation (Microsoft-managed remediation of user risk; with an
    /// authentication strength).
    RiskRemediation,
    /// Block access.
    Block,
}

/// Session controls of the policy.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[x_kube(validation = rules::rule(
    "has(self.signInFrequency) || has(self.persistentBrowser) || has(self.cloudAppSecurity) || has(self.continuousAccessEvaluation) || has(self.globalSecureAccessFilteringProfile) || (has(self.applicationEnforcedRestrictions) && self.applicationEnforcedRestrictions) || (has(self.disableResilienceDefaults) && self.disableResilienceDefaults) || (has(self.tokenProtection) && self.tokenProtection)",
    "session must set at least one control",
))]
#[x_kube(validation = rules::rule_at(
    "!has(self.signInFrequencyAuthentication) || has(self.signInFrequency)",
    "signInFrequencyAuthentication needs signInFrequency",
    ".signInFrequencyAuthentication",
))]
pub struct SessionControls {
    /// How often users must sign in again: `<1-23>h`, `<1-365>d` or `everyTime`
    /// (`everyTime` is sent to the Graph beta endpoint where v1.0 refuses it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 16))]
    #[x_kube(validation = rules::matches(SIGN_IN_FREQUENCY, "signInFrequency must be <1-23>h, <1-365>d or everyTime"))]
    pub sign_in_frequency: Option<String>,
    /// Which authentications the frequency applies to; default `primaryAndSecondary`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_frequency_authentication: Option<SignInFrequencyAuthentication>,
    /// Whether browsers stay signed in after being closed. Requires all cloud apps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_browser: Option<PersistentBrowser>,
    /// Let Exchange Online and SharePoint Online apply their own limited experience.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub application_enforced_restrictions: bool,
    /// Route sessions through Defender for Cloud Apps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_app_security: Option<CloudAppSecurity>,
    /// Continuous access evaluation mode (Graph beta only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuous_access_evaluation: Option<ContinuousAccessEvaluation>,
    /// Disable resilience defaults: block instead of extending sessions during an Entra outage.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disable_resilience_defaults: bool,
    /// Token protection: bind sign-in sessions to the device (Graph `secureSignInSession`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub token_protection: bool,
    /// Global Secure Access filtering profile id (Graph beta only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    #[x_kube(validation = rules::not_blank("globalSecureAccessFilteringProfile must not be blank"))]
    pub global_secure_access_filtering_profile: Option<String>,
}

/// Which authentications a sign-in frequency applies to.
#[derive(
    Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
#[serde(rename_all = "camelCase")]
pub enum SignInFrequencyAuthentication {
    /// Primary and secondary authentication (Graph `primaryAndSecondaryAuthentication`).
    #[default]
    PrimaryAndSecondary,
    /// Only secondary authentication (Graph `secondaryAuthentication`).
    SecondaryOnly,
}

/// Persistent browser session mode.
#[derive(Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum PersistentBrowser {
    /// Browsers stay signed in.
    Always,
    /// Browsers never stay signed in.
    Never,
}

/// Defender for Cloud Apps session control type.
#[derive(Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum CloudAppSecurity {
    /// Monitor only.
    MonitorOnly,
    /// Block downloads.
    BlockDownloads,
    /// Use the custom policy configured in Defender for Cloud Apps.
    McasConfigured,
}

/// Continuous access evaluation mode.
#[derive(Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum ContinuousAccessEvaluation {
    /// Strictly enforce location policies.
    StrictEnforcement,
    /// Turn CAE off for the policy.
    Disabled,
    /// Strict location enforcement.
    StrictLocation,
}

/// Observed state of a SessionPolicy, written by the operator (and printed by the CLI).
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SessionPolicyStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` is always present. Reasons: Synced, DriftCorrected, InvalidSpec, NameNotFound,
    /// NamespaceNotAllowed, Forbidden, Throttled, TenantUnreachable, Conflict.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = kube::core::ListMerge::Map(vec!["type".into()]))]
    pub conditions: Conditions,
    /// Id of the Conditional Access policy in the tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    /// Graph version used for this policy: `v1.0`, or `beta` when a control needs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph_version: Option<String>,
    /// Why the policy goes through Graph beta: the spec fields only beta has.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub beta_fields: Vec<String>,
    /// When the policy was last confirmed to match the spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_synced_time: Option<Time>,
    /// `modifiedDateTime` of the policy in the tenant when last read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_modified_time: Option<Time>,
    /// How many times a change made outside sessionops was reverted.
    #[serde(default)]
    pub drift_corrections: i64,
    /// Names from the spec and the ids they resolved to (`user:jdoe@contoso.com` → id).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resolved: BTreeMap<String, String>,
}
