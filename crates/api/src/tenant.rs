//! `ClusterTenantConnection` and `TenantConnection`: how to reach one Entra ID tenant.
//!
//! Like cert-manager's ClusterIssuer/Issuer: a `TenantConnection` serves objects of its own
//! namespace only; a `ClusterTenantConnection` serves the namespaces in `allowedNamespaces`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::Conditions;
use super::rules::{
    self, DOMAIN, GUID, LOOPBACK_HTTP_URL, MAX_NAME_LENGTH, MAX_PRINCIPALS, NAMESPACE, UPN,
};

/// (`namespace` is a CEL reserved word: rules spell the field `__namespace__`, as the API
/// server requires.)
///
/// Both connection kinds carry the same fields; the cluster-scoped one adds
/// `allowedNamespaces`. A macro keeps one definition (and one set of docs and rules) for both.
macro_rules! tenant_connection_spec {
    (
        $(#[$struct_meta:meta])*
        pub struct $name:ident { $($extra:tt)* }
    ) => {
        $(#[$struct_meta])*
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct $name {
            /// Directory (tenant) id: a GUID or a verified domain such as `contoso.onmicrosoft.com`.
            /// `AZURE_TENANT_ID` overrides it outside a cluster.
            #[schemars(length(max = 253))]
            #[x_kube(validation = rules::rule(
                format!("self.matches('{GUID}') || self.matches('{DOMAIN}')"),
                "tenantId must be a GUID or a verified domain name",
            ))]
            pub tenant_id: String,

            /// Application (client) id of the app registration sessionops signs in as.
            /// `AZURE_CLIENT_ID` overrides it outside a cluster.
            #[schemars(length(max = 36))]
            #[x_kube(validation = rules::matches(GUID, "clientId must be an application (client) id GUID"))]
            pub client_id: String,

            /// National cloud; sets the Graph and login hosts. Default `Global`.
            #[serde(default)]
            pub cloud: Cloud,

            /// Host overrides (a proxy, or the simulator). Default: the hosts of `cloud`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub endpoints: Option<Endpoints>,

            /// How sessionops authenticates. Exactly one kind.
            pub credentials: Credentials,

            /// Principals sessionops never revokes or disables, and always excludes from every
            /// SessionPolicy (break-glass accounts).
            #[serde(default, skip_serializing_if = "ProtectedPrincipals::is_empty")]
            pub protected: ProtectedPrincipals,

            $($extra)*
        }
    };
}

tenant_connection_spec! {
    /// A connection to one Entra ID tenant, usable by the namespaces listed in
    /// `allowedNamespaces`. Secret references must name their namespace.
    #[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[kube(
        group = "sessionops.io",
        version = "v1alpha1",
        kind = "ClusterTenantConnection",
        doc = "How to reach one Entra ID tenant; usable by the namespaces in allowedNamespaces.",
        derive = "PartialEq",
        status = "TenantConnectionStatus",
        shortname = "ctc",
        category = "sessionops",
        printcolumn = r#"{"name":"Tenant","type":"string","jsonPath":".spec.tenantId"}"#,
        printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
        printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#,
        printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
        cel
    )]
    #[x_kube(validation = rules::rule_at(
        "(!has(self.credentials.clientSecret) || has(self.credentials.clientSecret.secretRef.__namespace__)) && (!has(self.credentials.certificate) || has(self.credentials.certificate.secretRef.__namespace__))",
        "a cluster-scoped connection must name the namespace of its secretRef",
        ".credentials",
    ))]
    pub struct ClusterTenantConnectionSpec {
        /// Namespaces whose objects may use this connection. Empty (the default) allows none;
        /// `["*"]` allows all.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        #[schemars(length(max = 256), inner(length(max = 63)))]
        #[x_kube(
            validation = rules::each_item(&[NAMESPACE], &["*"], "each entry must be a namespace name or *"),
            validation = rules::alone("*", "* cannot be combined with namespace names"),
        )]
        pub allowed_namespaces: Vec<String>,
    }
}

tenant_connection_spec! {
    /// A connection to one Entra ID tenant, usable only by objects in its own namespace.
    /// Secret references point into that namespace.
    #[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[kube(
        group = "sessionops.io",
        version = "v1alpha1",
        kind = "TenantConnection",
        doc = "How to reach one Entra ID tenant; usable by objects in its own namespace only.",
        derive = "PartialEq",
        namespaced,
        status = "TenantConnectionStatus",
        shortname = "tc",
        category = "sessionops",
        printcolumn = r#"{"name":"Tenant","type":"string","jsonPath":".spec.tenantId"}"#,
        printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
        printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#,
        printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
        cel
    )]
    #[x_kube(validation = rules::rule_at(
        "(!has(self.credentials.clientSecret) || !has(self.credentials.clientSecret.secretRef.__namespace__)) && (!has(self.credentials.certificate) || !has(self.credentials.certificate.secretRef.__namespace__))",
        "a namespaced connection reads secrets from its own namespace: omit secretRef.namespace",
        ".credentials",
    ))]
    pub struct TenantConnectionSpec {}
}

/// National clouds (they differ in Graph and login hosts).
#[derive(
    Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
pub enum Cloud {
    /// Microsoft Graph global service (graph.microsoft.com, login.microsoftonline.com).
    #[default]
    Global,
    /// US Government L4 (graph.microsoft.us, login.microsoftonline.us).
    #[serde(rename = "USGov")]
    UsGov,
    /// US Government L5 DoD (dod-graph.microsoft.us, login.microsoftonline.us).
    #[serde(rename = "USGovDoD")]
    UsGovDod,
    /// Microsoft Graph operated by 21Vianet (microsoftgraph.chinacloudapi.cn, login.chinacloudapi.cn).
    China,
}

impl Cloud {
    /// Graph host of the cloud.
    pub fn graph_endpoint(self) -> &'static str {
        match self {
            Cloud::Global => "https://graph.microsoft.com",
            Cloud::UsGov => "https://graph.microsoft.us",
            Cloud::UsGovDod => "https://dod-graph.microsoft.us",
            Cloud::China => "https://microsoftgraph.chinacloudapi.cn",
        }
    }

    /// Login (token) host of the cloud.
    pub fn login_endpoint(self) -> &'static str {
        match self {
            Cloud::Global => "https://login.microsoftonline.com",
            Cloud::UsGov | Cloud::UsGovDod => "https://login.microsoftonline.us",
            Cloud::China => "https://login.chinacloudapi.cn",
        }
    }
}

/// Host overrides. HTTPS is required except towards loopback (the simulator).
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Endpoints {
    /// Graph base URL, e.g. `https://graph.microsoft.com` (without `/v1.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    #[x_kube(validation = https_or_loopback())]
    pub graph: Option<String>,
    /// Login base URL, e.g. `https://login.microsoftonline.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    #[x_kube(validation = https_or_loopback())]
    pub login: Option<String>,
}

fn https_or_loopback() -> kube::core::Rule {
    rules::rule(
        format!("self.startsWith('https://') || self.matches('{LOOPBACK_HTTP_URL}')"),
        "must be an https:// URL (plain http is allowed only for localhost, 127.0.0.1 and [::1])",
    )
}

/// Credentials of the app registration. Exactly one kind is set.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[x_kube(validation = rules::rule(
    "(has(self.clientSecret) ? 1 : 0) + (has(self.certificate) ? 1 : 0) + (has(self.workloadIdentity) ? 1 : 0) == 1",
    "exactly one of clientSecret, certificate or workloadIdentity must be set",
))]
pub struct Credentials {
    /// A client secret stored in a Kubernetes Secret. Outside a cluster: `AZURE_CLIENT_SECRET`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<ClientSecretCredential>,
    /// A certificate (`tls.crt` + `tls.key`, PEM) in a Kubernetes Secret, used to sign a
    /// client assertion (PS256, `x5t#S256`). Outside a cluster: `AZURE_CLIENT_CERTIFICATE_PATH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateCredential>,
    /// Workload identity federation: the projected service account token in
    /// `AZURE_FEDERATED_TOKEN_FILE` is exchanged for a Graph token. No secret to rotate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_identity: Option<WorkloadIdentityCredential>,
}

/// A client secret in a Kubernetes Secret.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientSecretCredential {
    /// The Secret and key holding the client secret (key default `client-secret`).
    pub secret_ref: SecretKeyReference,
}

/// A certificate in a Kubernetes Secret of type `kubernetes.io/tls`.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CertificateCredential {
    /// The Secret holding `tls.crt` and `tls.key`.
    pub secret_ref: SecretReference,
}

/// Workload identity federation settings.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkloadIdentityCredential {}

/// Reference to a Secret.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretReference {
    /// Name of the Secret.
    #[schemars(length(max = 253))]
    #[x_kube(validation = rules::not_blank("secretRef.name must not be empty"))]
    pub name: String,
    /// Namespace of the Secret: required for a ClusterTenantConnection, not allowed for a
    /// TenantConnection (which always reads its own namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 63))]
    #[x_kube(validation = rules::matches(NAMESPACE, "secretRef.namespace must be a namespace name"))]
    pub namespace: Option<String>,
}

/// Reference to one key of a Secret.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretKeyReference {
    /// Name of the Secret.
    #[schemars(length(max = 253))]
    #[x_kube(validation = rules::not_blank("secretRef.name must not be empty"))]
    pub name: String,
    /// Namespace of the Secret: required for a ClusterTenantConnection, not allowed for a
    /// TenantConnection (which always reads its own namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 63))]
    #[x_kube(validation = rules::matches(NAMESPACE, "secretRef.namespace must be a namespace name"))]
    pub namespace: Option<String>,
    /// Key in the Secret's data. Default `client-secret`.
    #[serde(default = "default_secret_key")]
    #[schemars(length(max = 253))]
    pub key: String,
}

fn default_secret_key() -> String {
    "client-secret".to_owned()
}

/// Principals that sessionops never touches: excluded from every SessionPolicy, never revoked
/// or disabled by a RevocationRequest.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProtectedPrincipals {
    /// User principal names or object ids (break-glass accounts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_PRINCIPALS), inner(length(max = MAX_NAME_LENGTH)))]
    #[x_kube(validation = rules::each_item(&[UPN, GUID], &[], "each entry must be a user principal name or an object id"))]
    pub users: Vec<String>,
    /// Groups by display name or object id; their transitive members are protected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_PRINCIPALS), inner(length(max = MAX_NAME_LENGTH)))]
    pub groups: Vec<String>,
}

impl ProtectedPrincipals {
    /// No principal is protected.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.groups.is_empty()
    }
}

/// Observed state of a tenant connection.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct TenantConnectionStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready=True` once a token was obtained with the configured credentials.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = kube::core::ListMerge::Map(vec!["type".into()]))]
    pub conditions: Conditions,
    /// Application permissions granted to the app (the token's `roles` claim).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub granted_roles: Vec<String>,
    /// Permissions the features in use need but the token does not carry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_roles: Vec<String>,
    /// Entra directory roles the features in use need besides permissions (app-only device
    /// and password changes) that are not assigned to the app: Cloud Device Administrator
    /// for `disableDevices`, User Administrator for `requirePasswordChange`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_directory_roles: Vec<String>,
    /// When a token was last obtained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_token_time: Option<Time>,
}

/// What both connection kinds have in common, for code that serves either.
pub trait ConnectionSettings {
    /// Tenant id or verified domain.
    fn tenant_id(&self) -> &str;
    /// Application (client) id.
    fn client_id(&self) -> &str;
    /// National cloud.
    fn cloud(&self) -> Cloud;
    /// Host overrides.
    fn endpoints(&self) -> Option<&Endpoints>;
    /// Credentials.
    fn credentials(&self) -> &Credentials;
    /// Protected principals.
    fn protected(&self) -> &ProtectedPrincipals;
}

macro_rules! connection_settings {
    ($($spec:ty),*) => {$(
        impl ConnectionSettings for $spec {
            fn tenant_id(&self) -> &str { &self.tenant_id }
            fn client_id(&self) -> &str { &self.client_id }
            fn cloud(&self) -> Cloud { self.cloud }
            fn endpoints(&self) -> Option<&Endpoints> { self.endpoints.as_ref() }
            fn credentials(&self) -> &Credentials { &self.credentials }
            fn protected(&self) -> &ProtectedPrincipals { &self.protected }
        }
    )*};
}

connection_settings!(ClusterTenantConnectionSpec, TenantConnectionSpec);
