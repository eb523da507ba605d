//! The SessionPolicy API's enums as Graph writes them: one [`ToWire`] impl per pair, so the desired
//! policy is built as Graph's typed model (no wire strings in the planner), and an API value
//! cannot be forgotten (each `match` is exhaustive). Graph's enums are open (unknown members
//! are kept), so the way back ([`spec_value`]) is partial: export refuses what the API lacks.
//!
//! Wire values: `conditionalAccessPolicy` and its complex types in the v1.0 and beta CSDL
//! (`microsoftgraph/msgraph-metadata`, `clean_v10_metadata/cleanMetadataWithDescriptionsv1.0.xml`
//! and `clean_beta_metadata/cleanMetadataWithDescriptionsbeta.xml`), and
//! `api-reference/v1.0/resources/conditionalaccesspolicy.md` in
//! `microsoftgraph/microsoft-graph-docs-contrib`.

use sessionops_api::{
    AgentIdRiskLevel as SpecAgentRisk, ClientAppType as SpecClientApp, CloudAppSecurity,
    ContinuousAccessEvaluation, FilterMode as SpecFilterMode, GrantControl, GrantOperator,
    GuestOrExternalUserType as SpecGuestType, InsiderRiskLevel as SpecInsiderRisk,
    PersistentBrowser, Platform, PolicyState as SpecState, RiskLevel as SpecRisk,
    SignInFrequencyAuthentication, TransferMethod as SpecTransferMethod, UserAction,
};
use sessionops_graph::models::{
    AgentIdRiskLevel, BuiltInControl, ClientAppType, CloudAppSecurityType,
    ContinuousAccessEvaluationMode, DevicePlatform, FilterMode, FrequencyAuthenticationType,
    GuestOrExternalUserType, InsiderRiskLevel, PersistentBrowserMode, PolicyState, RiskLevel,
    TransferMethod,
};

/// An API value and the Graph member it is written as (a local trait: both types live in other
/// crates, so `From` cannot be implemented here).
pub trait ToWire: Copy {
    /// Graph's (open) enum.
    type Wire: PartialEq;
    /// The Graph member.
    fn to_wire(self) -> Self::Wire;
}

impl ToWire for SpecState {
    type Wire = PolicyState;

    fn to_wire(self) -> PolicyState {
        match self {
            SpecState::Enabled => PolicyState::Enabled,
            SpecState::Disabled => PolicyState::Disabled,
            SpecState::ReportOnly => PolicyState::EnabledForReportingButNotEnforced,
        }
    }
}

impl ToWire for GrantControl {
    type Wire = BuiltInControl;

    fn to_wire(self) -> BuiltInControl {
        match self {
            GrantControl::Mfa => BuiltInControl::Mfa,
            GrantControl::CompliantDevice => BuiltInControl::CompliantDevice,
            GrantControl::DomainJoinedDevice => BuiltInControl::DomainJoinedDevice,
            GrantControl::ApprovedApplication => BuiltInControl::ApprovedApplication,
            GrantControl::CompliantApplication => BuiltInControl::CompliantApplication,
            GrantControl::PasswordChange => BuiltInControl::PasswordChange,
            GrantControl::RiskRemediation => BuiltInControl::RiskRemediation,
            GrantControl::Block => BuiltInControl::Block,
        }
    }
}

/// `AND` or `OR`, as `conditionalAccessGrantControls.operator` carries it (a plain string).
pub fn grant_operator(operator: GrantOperator) -> &'static str {
    match operator {
        GrantOperator::And => "AND",
        GrantOperator::Or => "OR",
    }
}

impl ToWire for SpecClientApp {
    type Wire = ClientAppType;

    fn to_wire(self) -> ClientAppType {
        match self {
            SpecClientApp::All => ClientAppType::All,
            SpecClientApp::Browser => ClientAppType::Browser,
            SpecClientApp::MobileAppsAndDesktopClients => {
                ClientAppType::MobileAppsAndDesktopClients
            }
            SpecClientApp::ExchangeActiveSync => ClientAppType::ExchangeActiveSync,
            SpecClientApp::EasSupported => ClientAppType::EasSupported,
            SpecClientApp::Other => ClientAppType::Other_,
        }
    }
}

impl ToWire for Platform {
    type Wire = DevicePlatform;

    fn to_wire(self) -> DevicePlatform {
        match self {
            Platform::All => DevicePlatform::All,
            Platform::Android => DevicePlatform::Android,
            Platform::Ios => DevicePlatform::Ios,
            Platform::Windows => DevicePlatform::Windows,
            Platform::WindowsPhone => DevicePlatform::WindowsPhone,
            Platform::MacOs => DevicePlatform::MacOs,
            Platform::Linux => DevicePlatform::Linux,
        }
    }
}

impl ToWire for SpecRisk {
    type Wire = RiskLevel;

    fn to_wire(self) -> RiskLevel {
        match self {
            SpecRisk::Low => RiskLevel::Low,
            SpecRisk::Medium => RiskLevel::Medium,
            SpecRisk::High => RiskLevel::High,
            SpecRisk::Hidden => RiskLevel::Hidden,
            SpecRisk::None => RiskLevel::None,
        }
    }
}

impl ToWire for SpecFilterMode {
    type Wire = FilterMode;

    fn to_wire(self) -> FilterMode {
        match self {
            SpecFilterMode::Include => FilterMode::Include,
            SpecFilterMode::Exclude => FilterMode::Exclude,
        }
    }
}

impl ToWire for SignInFrequencyAuthentication {
    type Wire = FrequencyAuthenticationType;

    fn to_wire(self) -> FrequencyAuthenticationType {
        match self {
            SignInFrequencyAuthentication::PrimaryAndSecondary => {
                FrequencyAuthenticationType::PrimaryAndSecondaryAuthentication
            }
            SignInFrequencyAuthentication::SecondaryOnly => {
                FrequencyAuthenticationType::SecondaryAuthentication
            }
        }
    }
}

impl ToWire for PersistentBrowser {
    type Wire = PersistentBrowserMode;

    fn to_wire(self) -> PersistentBrowserMode {
        match self {
            PersistentBrowser::Always => PersistentBrowserMode::Always,
            PersistentBrowser::Never => PersistentBrowserMode::Never,
        }
    }
}

impl ToWire for CloudAppSecurity {
    type Wire = CloudAppSecurityType;

    fn to_wire(self) -> CloudAppSecurityType {
        match self {
            CloudAppSecurity::MonitorOnly => CloudAppSecurityType::MonitorOnly,
            CloudAppSecurity::BlockDownloads => CloudAppSecurityType::BlockDownloads,
            CloudAppSecurity::McasConfigured => CloudAppSecurityType::McasConfigured,
        }
    }
}

impl ToWire for ContinuousAccessEvaluation {
    type Wire = ContinuousAccessEvaluationMode;

    fn to_wire(self) -> ContinuousAccessEvaluationMode {
        match self {
            ContinuousAccessEvaluation::StrictEnforcement => {
                ContinuousAccessEvaluationMode::StrictEnforcement
            }
            ContinuousAccessEvaluation::Disabled => ContinuousAccessEvaluationMode::Disabled,
            ContinuousAccessEvaluation::StrictLocation => {
                ContinuousAccessEvaluationMode::StrictLocation
            }
        }
    }
}

impl ToWire for SpecGuestType {
    type Wire = GuestOrExternalUserType;

    fn to_wire(self) -> GuestOrExternalUserType {
        match self {
            SpecGuestType::InternalGuest => GuestOrExternalUserType::InternalGuest,
            SpecGuestType::B2bCollaborationGuest => GuestOrExternalUserType::B2bCollaborationGuest,
            SpecGuestType::B2bCollaborationMember => {
                GuestOrExternalUserType::B2bCollaborationMember
            }
            SpecGuestType::B2bDirectConnectUser => GuestOrExternalUserType::B2bDirectConnectUser,
            SpecGuestType::OtherExternalUser => GuestOrExternalUserType::OtherExternalUser,
            SpecGuestType::ServiceProvider => GuestOrExternalUserType::ServiceProvider,
        }
    }
}

impl ToWire for SpecInsiderRisk {
    type Wire = InsiderRiskLevel;

    fn to_wire(self) -> InsiderRiskLevel {
        match self {
            SpecInsiderRisk::Minor => InsiderRiskLevel::Minor,
            SpecInsiderRisk::Moderate => InsiderRiskLevel::Moderate,
            SpecInsiderRisk::Elevated => InsiderRiskLevel::Elevated,
        }
    }
}

impl ToWire for SpecAgentRisk {
    type Wire = AgentIdRiskLevel;

    fn to_wire(self) -> AgentIdRiskLevel {
        match self {
            SpecAgentRisk::Low => AgentIdRiskLevel::Low,
            SpecAgentRisk::Medium => AgentIdRiskLevel::Medium,
            SpecAgentRisk::High => AgentIdRiskLevel::High,
        }
    }
}

impl ToWire for SpecTransferMethod {
    type Wire = TransferMethod;

    fn to_wire(self) -> TransferMethod {
        match self {
            SpecTransferMethod::DeviceCodeFlow => TransferMethod::DeviceCodeFlow,
            SpecTransferMethod::AuthenticationTransfer => TransferMethod::AuthenticationTransfer,
        }
    }
}

/// User actions as `includeUserActions` carries them (`conditionalaccessapplications.md`: "Supported
/// values are `urn:user:registersecurityinfo` and `urn:user:registerdevice`"). The diff
/// lowercases both sides, as for every set of strings.
impl ToWire for UserAction {
    type Wire = &'static str;

    fn to_wire(self) -> &'static str {
        match self {
            UserAction::RegisterSecurityInfo => "urn:user:registersecurityinfo",
            UserAction::RegisterOrJoinDevices => "urn:user:registerdevice",
        }
    }
}

/// The API value whose wire form is `wire`, among `values`: the way back for export, `None`
/// when the API has no such value (an unknown or newer Graph member).
pub fn spec_value<S: ToWire>(values: &[S], wire: &S::Wire) -> Option<S> {
    values
        .iter()
        .copied()
        .find(|value| value.to_wire() == *wire)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire values are the CSDL member names (the ones the manifests' tests, the
    /// simulator and the docs corpus use).
    #[test]
    fn api_values_map_to_graphs_members() {
        assert_eq!(
            SpecState::ReportOnly.to_wire().as_str(),
            "enabledForReportingButNotEnforced"
        );
        assert_eq!(SpecClientApp::Other.to_wire().as_str(), "other");
        assert_eq!(Platform::Ios.to_wire().as_str(), "iOS");
        assert_eq!(Platform::MacOs.to_wire().as_str(), "macOS");
        assert_eq!(
            SignInFrequencyAuthentication::SecondaryOnly
                .to_wire()
                .as_str(),
            "secondaryAuthentication"
        );
        assert_eq!(
            ContinuousAccessEvaluation::StrictLocation
                .to_wire()
                .as_str(),
            "strictLocation"
        );
        assert_eq!(
            spec_value(
                &[Platform::All, Platform::Linux],
                &DevicePlatform::from("linux")
            ),
            Some(Platform::Linux)
        );
        assert_eq!(
            spec_value(&[Platform::All], &DevicePlatform::from("tvOS")),
            None
        );
        assert_eq!(grant_operator(GrantOperator::And), "AND");
    }
}
