//! The `sessionops.io/v1alpha1` API: custom resource types, their schemas and the CEL rules
//! that the API server enforces at admission and that [`crate::manifest`] runs locally, and
//! [`KINDS`], the registry of kinds the CRDs, the loader, RBAC and the kubectl view read.
//!
//! Doc comments on fields become `kubectl explain` text, so they are written for users.

// kube's KubeSchema derive copies each struct with `x_kube` rules into a private scope, which
// unreachable_pub flags; every type here is public API.
#![allow(unreachable_pub)]

pub mod authentication_strength;
pub mod common;
pub mod crds;
pub mod idle_timeout;
pub mod kinds;
pub mod manifest;
pub mod named_location;
pub mod revocation;
pub mod rules;
pub mod session_policy;
pub mod tenant;

pub use authentication_strength::{
    AuthenticationStrength, AuthenticationStrengthSpec, AuthenticationStrengthStatus,
    CertificateCombination, CertificateRestriction, Fido2Restriction,
};
pub use common::{Conditions, IncludeExclude, TenantKind, TenantRef};
pub use idle_timeout::{
    ApplicationIdleTimeout, IdleTimeoutPolicy, IdleTimeoutPolicySpec, IdleTimeoutPolicyStatus,
    SharePointIdleSignOut,
};
pub use kinds::{KINDS, Kind, KindInfo};
pub use named_location::{
    CountryLocation, CountryLookup, IpLocation, NamedLocation, NamedLocationSpec,
    NamedLocationStatus,
};
pub use revocation::{
    RevocationAction, RevocationCounts, RevocationFailure, RevocationPhase, RevocationRequest,
    RevocationRequestSpec, RevocationRequestStatus, RevocationTargets,
};
pub use session_policy::{
    AgentAssignment, AgentIdRiskLevel, ApplicationAssignment, Assignments, ClientAppType,
    CloudAppSecurity, ContinuousAccessEvaluation, DeletionPolicy, DeviceStates, Filter, FilterMode,
    GrantControl, GrantControls, GrantOperator, GuestAssignment, GuestOrExternalUserType,
    GuestSelection, InsiderRiskLevel, LegacyDevices, LocationCondition, PersistentBrowser,
    Platform, PlatformCondition, PolicyConditions, PolicyState, RiskLevel,
    ServicePrincipalAssignment, SessionControls, SessionPolicy, SessionPolicySpec,
    SessionPolicyStatus, SignInFrequencyAuthentication, TransferMethod, UserAction, UserAssignment,
};
pub use tenant::{
    Cloud, ClusterTenantConnection, ClusterTenantConnectionSpec, ConnectionSettings, Credentials,
    Endpoints, ProtectedPrincipals, SecretKeyReference, SecretReference, TenantConnection,
    TenantConnectionSpec, TenantConnectionStatus,
};

/// API group of every sessionops kind.
pub const GROUP: &str = "sessionops.io";
/// The one served and stored version.
pub const VERSION: &str = "v1alpha1";
