//! Typed Graph resources used by sessionops. Every struct keeps the properties it does not
//! model in `extra` and every enum keeps members it does not know in `Other`, so reading and
//! writing back never drops what the tenant has (a device filter, terms of use, a new enum
//! member Microsoft added after this build).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Properties a model does not name, kept verbatim (including `@odata.*` annotations).
pub type Extra = BTreeMap<String, Value>;

/// Whether a JSON key is metadata rather than a property: an OData instance or property
/// annotation (`@odata.context`, `authenticationStrength@odata.context`, `@odata.type`) or an
/// action link (`#microsoft.graph.restore`). Graph puts them at any depth: every
/// `grantControls` of a Conditional Access policy carries `authenticationStrength@odata.context`
/// (v1.0 `conditionalaccessroot-list-policies.md`, beta `policydeletableitem-list.md`), so they
/// never count as content, drift or "unmodelled" settings.
pub fn is_annotation(key: &str) -> bool {
    key.contains('@') || key.starts_with('#')
}

/// Whether `extra` holds a real property (annotations aside).
pub fn has_content(extra: &Extra) -> bool {
    extra.keys().any(|key| !is_annotation(key))
}

/// Removes annotations at every depth, except `@odata.type`, which names a derived type a
/// write must state (e.g. `#microsoft.graph.ipNamedLocation`).
pub fn strip_annotations(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|key, _| key == "@odata.type" || !is_annotation(key));
            map.values_mut().for_each(strip_annotations);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_annotations),
        _ => {}
    }
}

/// The read-only properties of every `policyDeletableItem` (Conditional Access policies and
/// named locations): its id, timestamps and deletion time.
const DELETABLE_ITEM_READ_ONLY: &[&str] = &[
    "id",
    "createdDateTime",
    "modifiedDateTime",
    "deletedDateTime",
];

/// `object` as a POST or PATCH body: the top-level `read_only` properties and every
/// annotation removed (`@odata.type` kept: writes must name a derived type).
fn write_body(object: &impl Serialize, read_only: &[&str]) -> Value {
    let mut body = serde_json::to_value(object).expect("a Graph model serializes");
    if let Value::Object(map) = &mut body {
        for property in read_only {
            map.remove(*property);
        }
    }
    strip_annotations(&mut body);
    body
}

/// An enum serialized as a string that keeps unknown members instead of failing.
macro_rules! open_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A member this build does not know, kept as Graph sent it.
            Other(String),
        }

        impl $name {
            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)*
                    $name::Other(value) => value,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $($wire => $name::$variant,)*
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = String::deserialize(deserializer)?;
                Ok($name::from(value.as_str()))
            }
        }
    };
}

/// A flags enum as Graph writes it: the members in one comma-separated string
/// (`"internalGuest,b2bCollaborationGuest"`; `IsFlags="true"` types in the v1.0 CSDL, e.g.
/// `conditionalAccessGuestOrExternalUserTypes`, `conditionalAccessTransferMethods`). The
/// members keep Graph's order, so a value reads back as written.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Flags<T>(pub Vec<T>);

impl<T> Flags<T> {
    /// The members.
    pub fn members(&self) -> &[T] {
        &self.0
    }
}

impl<T: for<'a> From<&'a str>> From<&str> for Flags<T> {
    fn from(text: &str) -> Self {
        Flags(
            text.split(',')
                .map(str::trim)
                .filter(|member| !member.is_empty())
                .map(T::from)
                .collect(),
        )
    }
}

impl<T: std::fmt::Display> std::fmt::Display for Flags<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for member in &self.0 {
            if !first {
                f.write_str(",")?;
            }
            first = false;
            write!(f, "{member}")?;
        }
        Ok(())
    }
}

impl<T: std::fmt::Display> Serialize for Flags<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de, T: for<'a> From<&'a str>> Deserialize<'de> for Flags<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(Flags::from(text.as_str()))
    }
}

open_enum! {
    /// `conditionalAccessPolicyState`.
    pub enum PolicyState {
        /// Enforced.
        Enabled = "enabled",
        /// Off.
        Disabled = "disabled",
        /// Report-only.
        EnabledForReportingButNotEnforced = "enabledForReportingButNotEnforced",
    }
}

open_enum! {
    /// `conditionalAccessClientApp`.
    pub enum ClientAppType {
        /// All clients.
        All = "all",
        /// Browsers.
        Browser = "browser",
        /// Modern-auth apps and desktop clients.
        MobileAppsAndDesktopClients = "mobileAppsAndDesktopClients",
        /// Exchange ActiveSync.
        ExchangeActiveSync = "exchangeActiveSync",
        /// Exchange ActiveSync on supported platforms.
        EasSupported = "easSupported",
        /// Legacy authentication clients.
        Other_ = "other",
        /// Placeholder for members hidden without `Prefer: include-unknown-enum-members`.
        UnknownFutureValue = "unknownFutureValue",
    }
}

open_enum! {
    /// `conditionalAccessDevicePlatform` (evolvable: `linux`).
    pub enum DevicePlatform {
        /// Android.
        Android = "android",
        /// iOS.
        Ios = "iOS",
        /// Windows.
        Windows = "windows",
        /// Windows Phone.
        WindowsPhone = "windowsPhone",
        /// macOS.
        MacOs = "macOS",
        /// All platforms.
        All = "all",
        /// Placeholder.
        UnknownFutureValue = "unknownFutureValue",
        /// Linux (only with `Prefer: include-unknown-enum-members`).
        Linux = "linux",
    }
}

open_enum! {
    /// `riskLevel`.
    pub enum RiskLevel {
        /// Low.
        Low = "low",
        /// Medium.
        Medium = "medium",
        /// High.
        High = "high",
        /// Hidden (no P2 license).
        Hidden = "hidden",
        /// None.
        None = "none",
        /// Placeholder.
        UnknownFutureValue = "unknownFutureValue",
    }
}

open_enum! {
    /// `conditionalAccessGrantControl` (evolvable: `riskRemediation`).
    pub enum BuiltInControl {
        /// Block access.
        Block = "block",
        /// Require MFA.
        Mfa = "mfa",
        /// Require a compliant device.
        CompliantDevice = "compliantDevice",
        /// Require a hybrid-joined device.
        DomainJoinedDevice = "domainJoinedDevice",
        /// Require an approved client app.
        ApprovedApplication = "approvedApplication",
        /// Require an app protection policy.
        CompliantApplication = "compliantApplication",
        /// Require a password change.
        PasswordChange = "passwordChange",
        /// Placeholder.
        UnknownFutureValue = "unknownFutureValue",
        /// Risk remediation (only with `Prefer: include-unknown-enum-members`).
        RiskRemediation = "riskRemediation",
    }
}

open_enum! {
    /// `conditionalAccessGuestOrExternalUserTypes` (flags).
    pub enum GuestOrExternalUserType {
        /// No type.
        None = "none",
        /// Local guest accounts of this tenant.
        InternalGuest = "internalGuest",
        /// B2B collaboration guests.
        B2bCollaborationGuest = "b2bCollaborationGuest",
        /// B2B collaboration members.
        B2bCollaborationMember = "b2bCollaborationMember",
        /// B2B direct connect users.
        B2bDirectConnectUser = "b2bDirectConnectUser",
        /// Other external users.
        OtherExternalUser = "otherExternalUser",
        /// Service providers (GDAP, CSP).
        ServiceProvider = "serviceProvider",
        /// Placeholder.
        UnknownFutureValue = "unknownFutureValue",
    }
}

open_enum! {
    /// `conditionalAccessExternalTenantsMembershipKind`.
    pub enum MembershipKind {
        /// Every external tenant (`conditionalAccessAllExternalTenants`).
        All = "all",
        /// The listed tenants (`conditionalAccessEnumeratedExternalTenants`).
        Enumerated = "enumerated",
        /// Placeholder.
        UnknownFutureValue = "unknownFutureValue",
    }
}

open_enum! {
    /// `conditionalAccessInsiderRiskLevels` (flags).
    pub enum InsiderRiskLevel {
        /// Minor.
        Minor = "minor",
        /// Moderate.
        Moderate = "moderate",
        /// Elevated.
        Elevated = "elevated",
        /// Placeholder.
        UnknownFutureValue = "unknownFutureValue",
    }
}

open_enum! {
    /// `conditionalAccessAgentIdRiskLevels` (beta, flags).
    pub enum AgentIdRiskLevel {
        /// Low.
        Low = "low",
        /// Medium.
        Medium = "medium",
        /// High.
        High = "high",
        /// Placeholder.
        UnknownFutureValue = "unknownFutureValue",
    }
}

open_enum! {
    /// `conditionalAccessTransferMethods` (flags).
    pub enum TransferMethod {
        /// None.
        None = "none",
        /// The device code flow.
        DeviceCodeFlow = "deviceCodeFlow",
        /// Authentication transfer (from a PC to a phone).
        AuthenticationTransfer = "authenticationTransfer",
        /// Placeholder.
        UnknownFutureValue = "unknownFutureValue",
    }
}

open_enum! {
    /// `filterMode`.
    pub enum FilterMode {
        /// Include matching.
        Include = "include",
        /// Exclude matching.
        Exclude = "exclude",
    }
}

open_enum! {
    /// `signinFrequencyType`.
    pub enum FrequencyUnit {
        /// Days.
        Days = "days",
        /// Hours.
        Hours = "hours",
    }
}

open_enum! {
    /// `signInFrequencyAuthenticationType`.
    pub enum FrequencyAuthenticationType {
        /// Primary and secondary authentication.
        PrimaryAndSecondaryAuthentication = "primaryAndSecondaryAuthentication",
        /// Secondary authentication only.
        SecondaryAuthentication = "secondaryAuthentication",
        /// Placeholder.
        UnknownFutureValue = "unknownFutureValue",
    }
}

open_enum! {
    /// `signInFrequencyInterval`.
    pub enum FrequencyInterval {
        /// After a time period.
        TimeBased = "timeBased",
        /// Every sign-in.
        EveryTime = "everyTime",
        /// Placeholder.
        UnknownFutureValue = "unknownFutureValue",
    }
}

open_enum! {
    /// `persistentBrowserSessionMode`.
    pub enum PersistentBrowserMode {
        /// Always persistent.
        Always = "always",
        /// Never persistent.
        Never = "never",
    }
}

open_enum! {
    /// `cloudAppSecuritySessionControlType`.
    pub enum CloudAppSecurityType {
        /// Custom policy configured in Defender for Cloud Apps.
        McasConfigured = "mcasConfigured",
        /// Monitor only.
        MonitorOnly = "monitorOnly",
        /// Block downloads.
        BlockDownloads = "blockDownloads",
        /// Placeholder.
        UnknownFutureValue = "unknownFutureValue",
    }
}

open_enum! {
    /// `continuousAccessEvaluationMode` (beta; evolvable: `strictLocation`).
    pub enum ContinuousAccessEvaluationMode {
        /// Strict enforcement.
        StrictEnforcement = "strictEnforcement",
        /// Disabled.
        Disabled = "disabled",
        /// Placeholder.
        UnknownFutureValue = "unknownFutureValue",
        /// Strict location enforcement.
        StrictLocation = "strictLocation",
    }
}

/// `conditionalAccessPolicy`. Read-only properties are kept for diffing and never sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionalAccessPolicy {
    /// Policy id (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Display name (required).
    #[serde(default)]
    pub display_name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// State (required).
    pub state: PolicyState,
    /// Conditions (required).
    #[serde(default)]
    pub conditions: ConditionSet,
    /// Grant controls; `null` means none.
    #[serde(default)]
    pub grant_controls: Option<GrantControls>,
    /// Session controls; `null` means none.
    #[serde(default)]
    pub session_controls: Option<SessionControls>,
    /// Created (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_date_time: Option<String>,
    /// Last modified (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_date_time: Option<String>,
    /// Deleted (read-only, soft-deleted policies only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_date_time: Option<String>,
    /// Template the policy was created from (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ConditionalAccessPolicy {
    /// The body to send on POST or PATCH: read-only properties and annotations removed.
    pub fn to_write_body(&self) -> Value {
        write_body(self, &[DELETABLE_ITEM_READ_ONLY, &["templateId"]].concat())
    }
}

/// `conditionalAccessConditionSet`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionSet {
    /// Users, groups and roles.
    #[serde(default)]
    pub users: Option<ConditionUsers>,
    /// Cloud apps and user actions.
    #[serde(default)]
    pub applications: Option<ConditionApplications>,
    /// Client app types (required, non-null).
    #[serde(default)]
    pub client_app_types: Vec<ClientAppType>,
    /// Device platforms.
    #[serde(default)]
    pub platforms: Option<ConditionPlatforms>,
    /// Named locations.
    #[serde(default)]
    pub locations: Option<ConditionLocations>,
    /// Device filter.
    #[serde(default)]
    pub devices: Option<ConditionDevices>,
    /// Sign-in risk levels.
    #[serde(default)]
    pub sign_in_risk_levels: Vec<RiskLevel>,
    /// User risk levels.
    #[serde(default)]
    pub user_risk_levels: Vec<RiskLevel>,
    /// Service principal risk levels (workload identities).
    #[serde(default)]
    pub service_principal_risk_levels: Vec<RiskLevel>,
    /// Insider risk levels (Purview adaptive protection).
    #[serde(default)]
    pub insider_risk_levels: Option<Flags<InsiderRiskLevel>>,
    /// Service principals (workload identities) and agent identities.
    #[serde(default)]
    pub client_applications: Option<ConditionClientApplications>,
    /// Authentication flows (device code, authentication transfer).
    #[serde(default)]
    pub authentication_flows: Option<ConditionAuthenticationFlows>,
    /// Agent identity risk levels (beta only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id_risk_levels: Option<Flags<AgentIdRiskLevel>>,
    /// Device states (beta only, deprecated in favour of `devices`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_states: Option<ConditionDeviceStates>,
    /// Everything else (properties newer than this build).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `conditionalAccessUsers`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionUsers {
    /// User ids, `All`, `None`, `GuestsOrExternalUsers`.
    #[serde(default)]
    pub include_users: Vec<String>,
    /// User ids, `GuestsOrExternalUsers`.
    #[serde(default)]
    pub exclude_users: Vec<String>,
    /// Group ids.
    #[serde(default)]
    pub include_groups: Vec<String>,
    /// Group ids.
    #[serde(default)]
    pub exclude_groups: Vec<String>,
    /// Role template ids.
    #[serde(default)]
    pub include_roles: Vec<String>,
    /// Role template ids.
    #[serde(default)]
    pub exclude_roles: Vec<String>,
    /// Guests and external users included.
    #[serde(default)]
    pub include_guests_or_external_users: Option<GuestsOrExternalUsers>,
    /// Guests and external users excluded.
    #[serde(default)]
    pub exclude_guests_or_external_users: Option<GuestsOrExternalUsers>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `conditionalAccessGuestsOrExternalUsers`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuestsOrExternalUsers {
    /// The kinds of guests and external users.
    #[serde(default)]
    pub guest_or_external_user_types: Option<Flags<GuestOrExternalUserType>>,
    /// Their home tenants; `null` is every tenant.
    #[serde(default)]
    pub external_tenants: Option<ExternalTenants>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `conditionalAccessExternalTenants`: the derived type (`@odata.type`) says which, and a
/// write must name it (`conditionalaccessexternaltenants.md`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalTenants {
    /// `#microsoft.graph.conditionalAccessAllExternalTenants` or
    /// `#microsoft.graph.conditionalAccessEnumeratedExternalTenants`.
    #[serde(
        rename = "@odata.type",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub odata_type: Option<String>,
    /// `all` or `enumerated`.
    #[serde(default)]
    pub membership_kind: Option<MembershipKind>,
    /// Tenant ids (enumerated only; the other type has no such property).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<String>>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `@odata.type` of [`ExternalTenants`] for every tenant.
pub const ALL_EXTERNAL_TENANTS_TYPE: &str = "#microsoft.graph.conditionalAccessAllExternalTenants";
/// `@odata.type` of [`ExternalTenants`] for listed tenants.
pub const ENUMERATED_EXTERNAL_TENANTS_TYPE: &str =
    "#microsoft.graph.conditionalAccessEnumeratedExternalTenants";

/// `conditionalAccessClientApplications`: workload identities and (beta) agent identities.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionClientApplications {
    /// Service principal ids or `ServicePrincipalsInMyTenant`.
    #[serde(default)]
    pub include_service_principals: Vec<String>,
    /// Service principal ids.
    #[serde(default)]
    pub exclude_service_principals: Vec<String>,
    /// Filter on service principal attributes.
    #[serde(default)]
    pub service_principal_filter: Option<Filter>,
    /// Agent identity service principals (beta only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_agent_id_service_principals: Option<Vec<String>>,
    /// Agent identity service principals excluded (beta only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_agent_id_service_principals: Option<Vec<String>>,
    /// Filter on agent identity attributes (beta only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id_service_principal_filter: Option<Filter>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `conditionalAccessAuthenticationFlows`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionAuthenticationFlows {
    /// The transfer methods the policy applies to.
    #[serde(default)]
    pub transfer_methods: Option<Flags<TransferMethod>>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `conditionalAccessDeviceStates` (beta only, deprecated).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionDeviceStates {
    /// `All`.
    #[serde(default)]
    pub include_states: Vec<String>,
    /// `Compliant`, `DomainJoined`.
    #[serde(default)]
    pub exclude_states: Vec<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `conditionalAccessApplications`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionApplications {
    /// App ids, `All`, `Office365`, `MicrosoftAdminPortals`, `None`.
    #[serde(default)]
    pub include_applications: Vec<String>,
    /// App ids.
    #[serde(default)]
    pub exclude_applications: Vec<String>,
    /// User actions.
    #[serde(default)]
    pub include_user_actions: Vec<String>,
    /// Authentication context class references.
    #[serde(default)]
    pub include_authentication_context_class_references: Vec<String>,
    /// Filter on application attributes.
    #[serde(default)]
    pub application_filter: Option<Filter>,
    /// Global Secure Access traffic (beta only): an object without properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_secure_access: Option<Extra>,
    /// Network access traffic (beta only): an object without properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_access: Option<Extra>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `conditionalAccessPlatforms`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionPlatforms {
    /// Included platforms.
    #[serde(default)]
    pub include_platforms: Vec<DevicePlatform>,
    /// Excluded platforms.
    #[serde(default)]
    pub exclude_platforms: Vec<DevicePlatform>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `conditionalAccessLocations`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionLocations {
    /// Named location ids, `All`, `AllTrusted`.
    #[serde(default)]
    pub include_locations: Vec<String>,
    /// Named location ids, `AllTrusted`.
    #[serde(default)]
    pub exclude_locations: Vec<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `conditionalAccessDevices`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionDevices {
    /// The device filter.
    #[serde(default)]
    pub device_filter: Option<Filter>,
    /// Device ids or `All` (beta only, deprecated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_devices: Option<Vec<String>>,
    /// Device ids (beta only, deprecated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_devices: Option<Vec<String>>,
    /// Device states (beta only, deprecated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_device_states: Option<Vec<String>>,
    /// Device states (beta only, deprecated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_device_states: Option<Vec<String>>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `conditionalAccessFilter`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    /// Include or exclude matches.
    pub mode: FilterMode,
    /// The rule text.
    pub rule: String,
}

/// `conditionalAccessGrantControls`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantControls {
    /// `AND` or `OR`.
    #[serde(default)]
    pub operator: Option<String>,
    /// Built-in controls.
    #[serde(default)]
    pub built_in_controls: Vec<BuiltInControl>,
    /// Custom authentication factors.
    #[serde(default)]
    pub custom_authentication_factors: Vec<String>,
    /// Terms of use agreement ids.
    #[serde(default)]
    pub terms_of_use: Vec<String>,
    /// Authentication strength (navigation; written as `{"id": ...}`).
    #[serde(default)]
    pub authentication_strength: Option<AuthenticationStrengthRef>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A reference to an authentication strength policy inside grant controls.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationStrengthRef {
    /// The policy id.
    #[serde(default)]
    pub id: Option<String>,
    /// Everything else Graph returns with it (displayName, allowedCombinations ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `conditionalAccessSessionControls`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionControls {
    /// Application-enforced restrictions.
    #[serde(default)]
    pub application_enforced_restrictions: Option<EnabledControl>,
    /// Defender for Cloud Apps.
    #[serde(default)]
    pub cloud_app_security: Option<CloudAppSecurityControl>,
    /// Sign-in frequency.
    #[serde(default)]
    pub sign_in_frequency: Option<SignInFrequencyControl>,
    /// Persistent browser.
    #[serde(default)]
    pub persistent_browser: Option<PersistentBrowserControl>,
    /// Disable resilience defaults.
    #[serde(default)]
    pub disable_resilience_defaults: Option<bool>,
    /// Token protection.
    #[serde(default)]
    pub secure_sign_in_session: Option<EnabledControl>,
    /// Continuous access evaluation (beta only; absent on v1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuous_access_evaluation: Option<ContinuousAccessEvaluationControl>,
    /// Global Secure Access filtering profile (beta only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_secure_access_filtering_profile: Option<FilteringProfileControl>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A session control that is only switched on or off.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnabledControl {
    /// On or off.
    #[serde(default)]
    pub is_enabled: Option<bool>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `cloudAppSecuritySessionControl`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudAppSecurityControl {
    /// On or off.
    #[serde(default)]
    pub is_enabled: Option<bool>,
    /// The control type.
    #[serde(default)]
    pub cloud_app_security_type: Option<CloudAppSecurityType>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `signInFrequencySessionControl`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInFrequencyControl {
    /// On or off.
    #[serde(default)]
    pub is_enabled: Option<bool>,
    /// The number of `type` units (null for everyTime).
    #[serde(default)]
    pub value: Option<i32>,
    /// `days` or `hours` (null for everyTime).
    #[serde(default, rename = "type")]
    pub unit: Option<FrequencyUnit>,
    /// Which authentications it applies to.
    #[serde(default)]
    pub authentication_type: Option<FrequencyAuthenticationType>,
    /// `timeBased` or `everyTime`.
    #[serde(default)]
    pub frequency_interval: Option<FrequencyInterval>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `persistentBrowserSessionControl`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersistentBrowserControl {
    /// On or off.
    #[serde(default)]
    pub is_enabled: Option<bool>,
    /// `always` or `never`.
    #[serde(default)]
    pub mode: Option<PersistentBrowserMode>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `continuousAccessEvaluationSessionControl` (beta).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContinuousAccessEvaluationControl {
    /// The mode.
    #[serde(default)]
    pub mode: Option<ContinuousAccessEvaluationMode>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `globalSecureAccessFilteringProfileSessionControl` (beta).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilteringProfileControl {
    /// On or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_enabled: Option<bool>,
    /// The filtering profile id.
    #[serde(default)]
    pub profile_id: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A directory user (the properties sessionops reads).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Object id.
    pub id: String,
    /// User principal name.
    #[serde(default)]
    pub user_principal_name: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// `Member` or `Guest`.
    #[serde(default)]
    pub user_type: Option<String>,
    /// Whether sign-in is allowed.
    #[serde(default)]
    pub account_enabled: Option<bool>,
    /// Synced from on-premises AD (cloud changes to it are overwritten or refused).
    #[serde(default)]
    pub on_premises_sync_enabled: Option<bool>,
    /// Sessions issued before this instant are invalid (only returned when `$select`ed).
    #[serde(default)]
    pub sign_in_sessions_valid_from_date_time: Option<String>,
    /// `Invitation` for an external account (only returned when `$select`ed).
    #[serde(default)]
    pub creation_type: Option<String>,
    /// Invitation state of a guest invited through the invitation API (`PendingAcceptance`,
    /// `Accepted`); null for accounts of this tenant.
    #[serde(default)]
    pub external_user_state: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

impl User {
    /// An external user: their home tenant is elsewhere, and "this API doesn't revoke sign-in
    /// sessions for external users, because external users sign in through their home tenant"
    /// (`user-revokesigninsessions.md`). Decided from how the account came to be (user.md:
    /// `creationType` "Invitation", an `externalUserState`, the `#EXT#` UPN of invited
    /// accounts), not from `userType`: an internal guest is a local account and is revoked.
    pub fn is_external(&self) -> bool {
        self.creation_type.as_deref() == Some("Invitation")
            || self.external_user_state.is_some()
            || self
                .user_principal_name
                .as_deref()
                .is_some_and(|upn| upn.to_ascii_uppercase().contains("#EXT#"))
    }

    /// Mastered in on-premises AD.
    pub fn is_synced(&self) -> bool {
        self.on_premises_sync_enabled == Some(true)
    }
}

/// A group.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// Object id.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A member of a directory collection (`transitiveMembers`), typed by `@odata.type`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryObject {
    /// `#microsoft.graph.user`, `#microsoft.graph.group`, `#microsoft.graph.device` ...
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    /// Object id.
    pub id: String,
    /// Set for users.
    #[serde(default)]
    pub user_principal_name: Option<String>,
    /// Set for users when selected.
    #[serde(default)]
    pub user_type: Option<String>,
    /// Set for users when selected.
    #[serde(default)]
    pub on_premises_sync_enabled: Option<bool>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A device (registered to a user).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    /// Object id.
    pub id: String,
    /// Device id (the one the device itself knows).
    #[serde(default)]
    pub device_id: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Whether the device may authenticate.
    #[serde(default)]
    pub account_enabled: Option<bool>,
    /// `AzureAd`, `ServerAd` (hybrid, synced), `Workplace`.
    #[serde(default)]
    pub trust_type: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A named location; the derived type is in `@odata.type` (`namedlocation.md`,
/// `ipnamedlocation.md`, `countrynamedlocation.md`). Properties of the other derived types
/// are absent (`None`), never sent as `null`: a type has only its own properties.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamedLocation {
    /// `#microsoft.graph.ipNamedLocation`, `#microsoft.graph.countryNamedLocation`, or (beta)
    /// `#microsoft.graph.compliantNetworkNamedLocation` …
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    /// Id (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Display name (required).
    #[serde(default)]
    pub display_name: String,
    /// IP ranges (ip locations), each with its own derived type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_ranges: Option<Vec<IpRange>>,
    /// Trusted (ip and compliant-network locations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_trusted: Option<bool>,
    /// ISO 3166-1 alpha-2 codes (country locations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub countries_and_regions: Option<Vec<String>>,
    /// `clientIpAddress` (default) or `authenticatorAppGps` (country locations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_lookup_method: Option<CountryLookupMethod>,
    /// Whether unknown countries and regions are included (country locations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_unknown_countries_and_regions: Option<bool>,
    /// Created (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_date_time: Option<String>,
    /// Last modified (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_date_time: Option<String>,
    /// Deleted (read-only, soft-deleted locations only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_date_time: Option<String>,
    /// Everything else (properties of other derived types, newer properties).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `@odata.type` of an IP named location.
pub const IP_NAMED_LOCATION_TYPE: &str = "#microsoft.graph.ipNamedLocation";
/// `@odata.type` of a country named location.
pub const COUNTRY_NAMED_LOCATION_TYPE: &str = "#microsoft.graph.countryNamedLocation";

impl NamedLocation {
    /// The body to send on POST or PATCH: read-only properties and annotations removed
    /// (`@odata.type` kept: writes must name the derived type).
    pub fn to_write_body(&self) -> Value {
        write_body(self, DELETABLE_ITEM_READ_ONLY)
    }
}

/// One range of an IP named location (`iprange.md`: abstract; `iPv4CidrRange`,
/// `iPv6CidrRange` carry `cidrAddress`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IpRange {
    /// `#microsoft.graph.iPv4CidrRange` or `#microsoft.graph.iPv6CidrRange`.
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    /// The range in CIDR notation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr_address: Option<String>,
    /// Everything else (`lowerAddress`/`upperAddress` of the other range types).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `@odata.type` of an IPv4 CIDR range.
pub const IPV4_CIDR_RANGE_TYPE: &str = "#microsoft.graph.iPv4CidrRange";
/// `@odata.type` of an IPv6 CIDR range.
pub const IPV6_CIDR_RANGE_TYPE: &str = "#microsoft.graph.iPv6CidrRange";

open_enum! {
    /// `countryLookupMethodType`.
    pub enum CountryLookupMethod {
        /// The sign-in's client IP address (the default).
        ClientIpAddress = "clientIpAddress",
        /// The Authenticator app's GPS location.
        AuthenticatorAppGps = "authenticatorAppGps",
        /// Placeholder.
        UnknownFutureValue = "unknownFutureValue",
    }
}

/// An authentication strength policy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationStrengthPolicy {
    /// Id (`00000000-0000-0000-0000-00000000000{2,3,4}` for the built-ins).
    #[serde(default)]
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub display_name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `builtIn` or `custom` (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_type: Option<String>,
    /// The method combinations that satisfy it (`authenticationMethodModes` joined by
    /// commas; Graph's own examples also write `password, sms`).
    #[serde(default)]
    pub allowed_combinations: Vec<String>,
    /// Restrictions of combinations (a navigation the LIST and GET return expanded,
    /// `authenticationstrengthroot-list-policies.md`); written through its own collection.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub combination_configurations: Vec<CombinationConfiguration>,
    /// Everything else (`requirementsSatisfied`, timestamps, newer properties).
    #[serde(flatten)]
    pub extra: Extra,
}

impl AuthenticationStrengthPolicy {
    /// The body of a POST (`authenticationstrengthroot-post-policies.md`: `displayName`,
    /// `description`, `allowedCombinations`); combination configurations and the read-only
    /// properties are not part of it.
    pub fn to_write_body(&self) -> Value {
        let mut body = write_body(
            self,
            &[
                "id",
                "policyType",
                "requirementsSatisfied",
                "createdDateTime",
                "modifiedDateTime",
                "combinationConfigurations",
            ],
        );
        if let Value::Object(map) = &mut body {
            map.insert(
                "@odata.type".to_owned(),
                Value::String(AUTHENTICATION_STRENGTH_POLICY_TYPE.to_owned()),
            );
        }
        body
    }
}

/// `@odata.type` of an authentication strength policy (its create example names it).
pub const AUTHENTICATION_STRENGTH_POLICY_TYPE: &str =
    "#microsoft.graph.authenticationStrengthPolicy";
/// `@odata.type` of a FIDO2 combination configuration (`fido2combinationconfiguration.md`).
pub const FIDO2_COMBINATION_CONFIGURATION_TYPE: &str =
    "#microsoft.graph.fido2CombinationConfiguration";
/// `@odata.type` of a certificate combination configuration
/// (`x509certificatecombinationconfiguration.md`).
pub const X509_COMBINATION_CONFIGURATION_TYPE: &str =
    "#microsoft.graph.x509CertificateCombinationConfiguration";

/// `authenticationCombinationConfiguration` (abstract): a restriction of some combinations of
/// a custom strength.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CombinationConfiguration {
    /// The derived type (FIDO2 or certificate).
    #[serde(
        rename = "@odata.type",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub odata_type: Option<String>,
    /// Id (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The combinations it restricts.
    #[serde(default)]
    pub applies_to_combinations: Vec<String>,
    /// FIDO2: allowed AAGUIDs.
    #[serde(
        rename = "allowedAAGUIDs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub allowed_aaguids: Option<Vec<String>>,
    /// Certificates: allowed issuer subject key identifiers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_issuer_skis: Option<Vec<String>>,
    /// Certificates: allowed policy OIDs.
    #[serde(
        rename = "allowedPolicyOIDs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub allowed_policy_oids: Option<Vec<String>>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

impl CombinationConfiguration {
    /// The body of a POST to the configurations collection: everything but the id.
    pub fn to_write_body(&self) -> Value {
        write_body(self, &["id"])
    }
}

/// A service principal: an application's identity in the tenant. Conditional Access names
/// applications by `appId` and workload identities by `id`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipal {
    /// Object id.
    pub id: String,
    /// The application (client) id.
    #[serde(default)]
    pub app_id: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A directory role template (roles in CA policies are template ids).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryRoleTemplate {
    /// Template id.
    pub id: String,
    /// Display name, e.g. `Global Administrator`.
    #[serde(default)]
    pub display_name: String,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `activityBasedTimeoutPolicy` (`activitybasedtimeoutpolicy.md`): the idle timeout of web
/// sessions, active only as the organization default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityBasedTimeoutPolicy {
    /// Id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// One JSON string with the policy definition (`{"ActivityBasedTimeoutPolicy": {"Version":
    /// 1, "ApplicationPolicies": [...]}}`).
    #[serde(default)]
    pub definition: Vec<String>,
    /// "If set to true, activates this policy"; only one policy can be the organization default.
    #[serde(default)]
    pub is_organization_default: Option<bool>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ActivityBasedTimeoutPolicy {
    /// The body to send on POST or PATCH: `id` and annotations removed.
    pub fn to_write_body(&self) -> Value {
        write_body(self, &["id", "deletedDateTime"])
    }
}

/// `sharepointSettings` (`sharepointsettings.md`): the tenant's SharePoint and OneDrive
/// settings; sessionops reads and writes only `idleSessionSignOut`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharePointSettings {
    /// Idle session sign-out.
    #[serde(default)]
    pub idle_session_sign_out: Option<IdleSessionSignOut>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

impl SharePointSettings {
    /// The settings from a GET response. `sharepointsettings-get.md`'s example wraps them in
    /// `"value"` while `sharepointsettings-update.md`'s response is the object itself: both
    /// are read.
    pub fn from_response(mut body: Value) -> Result<SharePointSettings, serde_json::Error> {
        if let Some(inner) = body
            .as_object_mut()
            .filter(|o| !o.contains_key("idleSessionSignOut"))
            .and_then(|o| o.remove("value"))
            .filter(Value::is_object)
        {
            body = inner;
        }
        serde_json::from_value(body)
    }
}

/// `idleSessionSignOut` (`idlesessionsignout.md`): SharePoint's and OneDrive's idle sign-out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdleSessionSignOut {
    /// Whether the policy is enabled.
    #[serde(default)]
    pub is_enabled: Option<bool>,
    /// Seconds of inactivity after which the user is warned.
    #[serde(default)]
    pub warn_after_in_seconds: Option<i64>,
    /// Seconds of inactivity after which the user is signed out.
    #[serde(default)]
    pub sign_out_after_in_seconds: Option<i64>,
}

/// A risky user (Identity Protection).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RiskyUser {
    /// The user's id.
    pub id: String,
    /// UPN.
    #[serde(default)]
    pub user_principal_name: Option<String>,
    /// Risk level.
    #[serde(default)]
    pub risk_level: Option<RiskLevel>,
    /// `atRisk`, `confirmedCompromised`, `remediated` ...
    #[serde(default)]
    pub risk_state: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A page of a Graph collection.
#[derive(Clone, Debug, Deserialize)]
pub struct Page<T> {
    /// The items.
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
    /// Absolute URL of the next page, to be followed verbatim.
    #[serde(rename = "@odata.nextLink", default)]
    pub next_link: Option<String>,
    /// `@odata.count` when `$count=true` was asked.
    #[serde(rename = "@odata.count", default)]
    pub count: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_properties_and_enum_members_survive_a_round_trip() {
        let wire = json!({
            "id": "p1", "displayName": "x", "state": "enabledForReportingButNotEnforced",
            "createdDateTime": "2026-01-01T00:00:00Z",
            "conditions": {
                "clientAppTypes": ["all"],
                "platforms": {"includePlatforms": ["linux", "someFuturePlatform"], "excludePlatforms": []},
                "devices": {"deviceFilter": {"mode": "exclude", "rule": "device.isCompliant -eq True"}},
                "authenticationFlows": {"transferMethods": "deviceCodeFlow"},
                "users": {"includeUsers": ["All"], "includeGuestsOrExternalUsers": {"guestOrExternalUserTypes": "internalGuest"}}
            },
            "grantControls": {"operator": "OR", "builtInControls": ["riskRemediation"], "termsOfUse": ["t1"]},
            "sessionControls": {"signInFrequency": {"isEnabled": true, "value": null, "type": null,
                "authenticationType": "primaryAndSecondaryAuthentication", "frequencyInterval": "everyTime"},
                "globalSecureAccessFilteringProfile": {"profileId": "g"}},
            "partialEnablementStrategy": "x"
        });
        let policy: ConditionalAccessPolicy = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(
            policy
                .conditions
                .platforms
                .as_ref()
                .unwrap()
                .include_platforms[1],
            DevicePlatform::Other("someFuturePlatform".into())
        );
        assert_eq!(
            policy.grant_controls.as_ref().unwrap().built_in_controls[0],
            BuiltInControl::RiskRemediation
        );
        let written = serde_json::to_value(&policy).unwrap();
        assert_kept(&wire, &written, "");
    }

    /// Everything in `original` is in `written` unchanged; `written` adds only empty defaults.
    fn assert_kept(original: &Value, written: &Value, path: &str) {
        match (original, written) {
            (Value::Object(original), Value::Object(written)) => {
                for (key, value) in original {
                    let child = written
                        .get(key)
                        .unwrap_or_else(|| panic!("{path}.{key} dropped"));
                    assert_kept(value, child, &format!("{path}.{key}"));
                }
                for (key, value) in written {
                    if !original.contains_key(key) {
                        assert!(
                            value.is_null() || value == &json!([]),
                            "{path}.{key} added with a value: {value}"
                        );
                    }
                }
            }
            _ => assert_eq!(original, written, "{path} changed"),
        }
    }

    #[test]
    fn write_body_drops_read_only_properties() {
        let policy: ConditionalAccessPolicy = serde_json::from_value(json!({
            "@odata.context": "x", "id": "p1", "displayName": "x", "state": "enabled",
            "createdDateTime": "t", "modifiedDateTime": "t", "templateId": null,
            "conditions": {"clientAppTypes": ["all"]}, "grantControls": null, "sessionControls": null
        }))
        .unwrap();
        let body = policy.to_write_body();
        for key in [
            "id",
            "createdDateTime",
            "modifiedDateTime",
            "templateId",
            "@odata.context",
        ] {
            assert!(body.get(key).is_none(), "{key} sent");
        }
        assert_eq!(
            body["grantControls"],
            Value::Null,
            "explicit null survives so PATCH clears it"
        );
    }
}
