//! Settings of one simulated tenant. `Default` gives Graph's documented limits and a tenant with
//! fixed, copyable ids.

use std::time::Duration;

use super::seed::Seed;

/// Tenant id the simulator answers for unless told otherwise.
pub const DEFAULT_TENANT_ID: &str = "5e551011-0000-4000-8000-00000000000a";
/// Client id of the one app registration it accepts unless told otherwise.
pub const DEFAULT_CLIENT_ID: &str = "5e551011-0000-4000-8000-00000000000c";
/// Client secret of that app registration unless told otherwise. Not a secret: it is printed.
pub const DEFAULT_CLIENT_SECRET: &str = "sim~sessionops-simulator-client-secret";
/// Subject of the federated credential (workload identity) unless told otherwise.
pub const DEFAULT_FEDERATED_SUBJECT: &str = "system:serviceaccount:sessionops-system:sessionops";
/// Primary domain of the tenant unless told otherwise.
pub const DEFAULT_DOMAIN: &str = "contoso.onmicrosoft.com";

/// Every application permission sessionops uses (each API page's permissions table), granted by default.
pub const DEFAULT_ROLES: &[&str] = &[
    "User.Read.All",
    "User.RevokeSessions.All",
    "User.EnableDisableAccount.All",
    "User-PasswordProfile.ReadWrite.All",
    "GroupMember.Read.All",
    "Device.ReadWrite.All",
    "Policy.Read.All",
    "Policy.ReadWrite.ConditionalAccess",
    "Policy.ReadWrite.ApplicationConfiguration",
    "Policy.Read.AuthenticationMethod",
    "RoleManagement.Read.Directory",
    "IdentityRiskyUser.ReadWrite.All",
    "Application.Read.All",
    "SharePointTenantSettings.ReadWrite.All",
];

/// Directory roles assigned to the app's service principal unless told otherwise: the ones
/// sessionops' device and password actions need (see [`SimConfig::directory_roles`]).
pub const DEFAULT_DIRECTORY_ROLES: &[&str] = &["Cloud Device Administrator", "User Administrator"];

/// The national cloud the simulated tenant lives in. The national-cloud CSDLs
/// (`msgraph-metadata` `schemas/v1.0-Fairfax.csdl`, `v1.0-Mooncake.csdl`) have no Conditional
/// Access `deletedItems`, and Mooncake (China) has no Identity Protection (`riskyUser`); the
/// deleted-items pages (`beta/api/policydeletableitem-list.md`) are "global service" only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SimCloud {
    /// The global service.
    #[default]
    Global,
    /// US Government L4 (GCC High).
    UsGov,
    /// US Government L5 (DoD).
    UsGovDod,
    /// China, operated by 21Vianet.
    China,
}

impl SimCloud {
    /// `Global`, `USGov`, `USGovDoD` or `China` (the names of `spec.cloud`).
    pub fn parse(name: &str) -> Option<SimCloud> {
        match name {
            "Global" => Some(SimCloud::Global),
            "USGov" => Some(SimCloud::UsGov),
            "USGovDoD" => Some(SimCloud::UsGovDod),
            "China" => Some(SimCloud::China),
            _ => None,
        }
    }

    /// Whether Conditional Access deleted items exist in this cloud.
    pub fn has_deleted_items(self) -> bool {
        self == SimCloud::Global
    }

    /// Whether Identity Protection exists in this cloud.
    pub fn has_identity_protection(self) -> bool {
        self != SimCloud::China
    }
}

/// Everything one simulated tenant is made of. All fields are public; build one with struct
/// update syntax: `SimConfig { users: 50, ..SimConfig::default() }`.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Directory (tenant) id; the token endpoint also accepts [`SimConfig::domain`] in its path.
    pub tenant_id: String,
    /// Application (client) id of the one app registration the token endpoint accepts.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: String,
    /// PEM of the certificate registered on the app, for JWT client assertions.
    pub client_certificate_pem: Option<String>,
    /// Issuer of the federated credential; `None` accepts any issuer.
    pub federated_issuer: Option<String>,
    /// Subject of the federated credential.
    pub federated_subject: String,
    /// Application permissions put into the `roles` claim of issued tokens.
    pub granted_roles: Vec<String>,
    /// Number of generated users `user0001@{domain}` …
    pub users: u32,
    /// Generated groups: (display name, the first N generated users as members).
    pub groups: Vec<(String, u32)>,
    /// A parsed seed file (users, groups, devices, policies ...), loaded before generation.
    pub seed: Option<Seed>,
    /// `true`: Graph's throttling (`concepts/throttling.md`, `concepts/throttling-limits.md`); `false`: never 429.
    pub throttle: bool,
    /// Identity write quota per app and tenant: (writes, window).
    pub write_quota: (u32, Duration),
    /// Conditional Access / named location / Identity Protection requests per second per tenant.
    pub ca_rps: f64,
    /// Latency added to every HTTP request.
    pub latency: Duration,
    /// Probability that a request (or `$batch` item) fails with 503 or 504.
    pub fault_rate: f64,
    /// Eventual-consistency lag: new objects 404 and revocations stay invisible this long.
    pub lag: Duration,
    /// Lifetime of issued access tokens (`expires_in`).
    pub token_lifetime: Duration,
    /// Primary verified domain (UPN suffix of generated users).
    pub domain: String,
    /// The national cloud: which Graph surface exists.
    pub cloud: SimCloud,
    /// Keep a journal of the last requests (`GET /_sim/requests`), for tests that compare
    /// requests with Microsoft's documented ones. Off by default: it copies every body.
    pub journal: bool,
    /// Display names of the Entra directory roles assigned to the app's service principal.
    /// App-only writes of some properties need one besides the permission: `accountEnabled` of
    /// a device needs Cloud Device Administrator (`device-update.md`), a `passwordProfile`
    /// User Administrator (`user-update.md`), and either change on a user who holds an admin
    /// role Privileged Authentication Administrator ("Who can perform sensitive actions").
    pub directory_roles: Vec<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            tenant_id: DEFAULT_TENANT_ID.to_owned(),
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            client_certificate_pem: None,
            federated_issuer: None,
            federated_subject: DEFAULT_FEDERATED_SUBJECT.to_owned(),
            granted_roles: DEFAULT_ROLES.iter().map(|r| (*r).to_owned()).collect(),
            users: 0,
            groups: Vec::new(),
            seed: None,
            throttle: true,
            write_quota: (3000, Duration::from_secs(150)),
            ca_rps: 1.0,
            latency: Duration::ZERO,
            fault_rate: 0.0,
            lag: Duration::ZERO,
            token_lifetime: Duration::from_secs(3599),
            domain: DEFAULT_DOMAIN.to_owned(),
            cloud: SimCloud::Global,
            journal: false,
            directory_roles: DEFAULT_DIRECTORY_ROLES
                .iter()
                .map(|r| (*r).to_owned())
                .collect(),
        }
    }
}

/// A setting that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `--fault-rate` outside 0..=1.
    #[error("fault rate must be between 0 and 1, got {0}")]
    FaultRate(f64),
    /// `--ca-rps` not positive.
    #[error("CA requests per second must be greater than 0, got {0}")]
    CaRps(f64),
    /// `--write-quota` with no writes or no window.
    #[error("write quota needs at least 1 write in a window longer than 0 s")]
    WriteQuota,
    /// `--token-lifetime` of 0.
    #[error("token lifetime must be at least 1 second")]
    TokenLifetime,
    /// An identity setting (tenant, client, secret, domain) left empty.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// A `--groups` entry larger than `--users`.
    #[error("group '{name}' asks for {wanted} members but only {available} users are generated")]
    GroupTooLarge {
        /// The group.
        name: String,
        /// Members asked for.
        wanted: u32,
        /// Users generated.
        available: u32,
    },
    /// The app certificate could not be read.
    #[error("client certificate: {0}")]
    Certificate(String),
    /// The seed does not load into a tenant (duplicate or dangling names).
    #[error("seed: {0}")]
    Seed(String),
}

impl SimConfig {
    /// Checks the settings that do not depend on the seed.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(0.0..=1.0).contains(&self.fault_rate) {
            return Err(ConfigError::FaultRate(self.fault_rate));
        }
        if !(self.ca_rps > 0.0 && self.ca_rps.is_finite()) {
            return Err(ConfigError::CaRps(self.ca_rps));
        }
        if self.write_quota.0 == 0 || self.write_quota.1.is_zero() {
            return Err(ConfigError::WriteQuota);
        }
        if self.token_lifetime < Duration::from_secs(1) {
            return Err(ConfigError::TokenLifetime);
        }
        for (field, value) in [
            ("tenant id", &self.tenant_id),
            ("client id", &self.client_id),
            ("client secret", &self.client_secret),
            ("domain", &self.domain),
        ] {
            if value.is_empty() {
                return Err(ConfigError::Empty(field));
            }
        }
        for (name, wanted) in &self.groups {
            if *wanted > self.users {
                return Err(ConfigError::GroupTooLarge {
                    name: name.clone(),
                    wanted: *wanted,
                    available: self.users,
                });
            }
        }
        Ok(())
    }
}
