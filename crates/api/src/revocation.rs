//! `RevocationRequest`: invalidate users' refresh tokens and session cookies, once, and prove it.
//! Like a Job.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::{Conditions, TenantRef};
use super::rules::{self, GUID, MAX_NAME_LENGTH, UPN};

/// Upper bound of users or groups named directly in a request; larger populations are groups.
pub const MAX_LISTED_TARGETS: u32 = 1000;
/// Failures kept in status; counts stay exact beyond it.
pub const MAX_REPORTED_FAILURES: usize = 50;

/// Desired one-shot action against users of a tenant: revoke their Entra refresh tokens and
/// browser session cookies (and
/// optionally force a password change, disable the account or its devices, confirm it
/// compromised), then verify that the revocation took effect. Runs once; immutable.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "sessionops.io",
    version = "v1alpha1",
    kind = "RevocationRequest",
    doc = "Invalidate the Entra refresh tokens and browser session cookies of users or whole groups, once, and verify it (like a Job).",
    derive = "PartialEq",
    namespaced,
    status = "RevocationRequestStatus",
    shortname = "revoke",
    shortname = "rr",
    category = "sessionops",
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Resolved","type":"integer","jsonPath":".status.counts.resolved"}"#,
    printcolumn = r#"{"name":"Succeeded","type":"integer","jsonPath":".status.counts.succeeded"}"#,
    printcolumn = r#"{"name":"Verified","type":"integer","jsonPath":".status.counts.verified"}"#,
    printcolumn = r#"{"name":"Failed","type":"integer","jsonPath":".status.counts.failed"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    cel
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[x_kube(validation = rules::rule("self == oldSelf", "spec is immutable: create a new RevocationRequest instead"))]
pub struct RevocationRequestSpec {
    /// The tenant connection this request runs through.
    pub tenant_ref: TenantRef,

    /// Why: shown in events and kept with the status for auditors (e.g. a ticket number).
    #[schemars(length(max = 1024))]
    #[x_kube(validation = rules::not_blank("reason must not be blank: say why (a ticket, an incident)"))]
    pub reason: String,

    /// Who is affected. At least one target.
    pub targets: RevocationTargets,

    /// What to do to every target, in this order. Default `[revokeSessions]`.
    #[serde(default = "default_actions")]
    #[schemars(length(max = 5))]
    #[x_kube(
        validation = rules::rule("size(self) > 0", "actions must name at least one action"),
        validation = rules::unique_items("actions must not repeat"),
    )]
    pub actions: Vec<RevocationAction>,

    /// Read back `signInSessionsValidFromDateTime` of every revoked user and report those whose
    /// sessions were not invalidated. Default true.
    #[serde(default = "default_true")]
    pub verify: bool,

    /// Blast-radius guard: when more users resolve than this, the request fails with
    /// TooManyTargets before anything is written. Default 1000.
    #[serde(default = "default_max_targets")]
    #[x_kube(validation = rules::rule("self >= 1", "maxTargets must be at least 1"))]
    pub max_targets: i64,

    /// Resolve and report the targets, write nothing.
    #[serde(default)]
    pub dry_run: bool,
}

fn default_actions() -> Vec<RevocationAction> {
    vec![RevocationAction::RevokeSessions]
}

fn default_true() -> bool {
    true
}

fn default_max_targets() -> i64 {
    1000
}

/// Who a revocation applies to. Protected principals of the tenant connection are never touched.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[x_kube(validation = rules::rule(
    "(has(self.users) && size(self.users) > 0) || (has(self.groups) && size(self.groups) > 0) || (has(self.allUsers) && self.allUsers)",
    "targets must name at least one user or group, or set allUsers",
))]
pub struct RevocationTargets {
    /// Users by user principal name or object id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_LISTED_TARGETS), inner(length(max = MAX_NAME_LENGTH)))]
    #[x_kube(validation = rules::each_item(&[UPN, GUID], &[], "each user must be a user principal name or an object id"))]
    pub users: Vec<String>,
    /// Groups by display name or object id; all transitive user members are targeted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_LISTED_TARGETS), inner(length(max = MAX_NAME_LENGTH)))]
    #[x_kube(validation = rules::rule("self.all(g, g.trim().size() > 0)", "group names must not be blank"))]
    pub groups: Vec<String>,
    /// Every user of the tenant (still bounded by maxTargets).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all_users: bool,
}

/// An action applied to every target user.
#[derive(
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
)]
#[serde(rename_all = "camelCase")]
pub enum RevocationAction {
    /// Invalidate the user's Entra refresh tokens and browser session cookies
    /// (revokeSignInSessions); access tokens already issued live until they expire. Needs
    /// `User.RevokeSessions.All`. External users are skipped: they sign in at their home tenant.
    RevokeSessions,
    /// Set a generated temporary password that must be changed at next sign-in.
    /// Needs `User-PasswordProfile.ReadWrite.All` and the User Administrator directory role
    /// (Privileged Authentication Administrator for users who hold an admin role).
    RequirePasswordChange,
    /// Block sign-in (accountEnabled false). Needs `User.EnableDisableAccount.All` and
    /// `User.Read.All` (and Privileged Authentication Administrator for admins).
    DisableAccount,
    /// Disable every device registered to the user. Needs `Device.ReadWrite.All` and the Cloud
    /// Device Administrator directory role; app-only callers can change Windows devices only.
    DisableDevices,
    /// Mark the user compromised in Identity Protection (P2). Needs `IdentityRiskyUser.ReadWrite.All`.
    ConfirmCompromised,
}

/// Lifecycle of a RevocationRequest.
#[derive(
    Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
pub enum RevocationPhase {
    /// Accepted, not started.
    #[default]
    Pending,
    /// Resolving users and groups to user ids.
    Resolving,
    /// Applying the actions.
    Running,
    /// Reading back sign-in session validity.
    Verifying,
    /// Every target done (and verified when asked).
    Succeeded,
    /// Finished with some targets failed or unverified.
    PartiallySucceeded,
    /// Stopped before or during the run (see conditions).
    Failed,
}

impl RevocationPhase {
    /// The request has finished and will not run again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RevocationPhase::Succeeded
                | RevocationPhase::PartiallySucceeded
                | RevocationPhase::Failed
        )
    }
}

/// Exact counts of a run.
#[derive(Serialize, Deserialize, schemars::JsonSchema, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct RevocationCounts {
    /// Distinct users resolved from the targets (protected ones excluded).
    pub resolved: i64,
    /// Users for whom every action succeeded.
    pub succeeded: i64,
    /// Users whose revocation was verified.
    pub verified: i64,
    /// Users for whom an action failed or verification timed out.
    pub failed: i64,
    /// Users left alone because the tenant connection protects them.
    pub skipped_protected: i64,
    /// Users skipped for an action that cannot apply to them (external users for revokeSessions).
    #[serde(default)]
    pub skipped: i64,
}

/// One failed target (status keeps the first few; counts stay exact).
#[derive(Serialize, Deserialize, schemars::JsonSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RevocationFailure {
    /// User principal name or id.
    pub target: String,
    /// The action that failed, or `verify`.
    pub action: String,
    /// Stable CamelCase reason (e.g. Forbidden, NotFound, Unverified).
    pub reason: String,
    /// Details, including Graph's error code and request id.
    pub message: String,
}

/// Observed state of a RevocationRequest.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct RevocationRequestStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Where the request is in its lifecycle.
    #[serde(default)]
    pub phase: RevocationPhase,
    /// `Ready`, `Complete` and `Failed`, like a Job.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = kube::core::ListMerge::Map(vec!["type".into()]))]
    pub conditions: Conditions,
    /// When execution started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_time: Option<Time>,
    /// When execution finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_time: Option<Time>,
    /// Exact counts.
    #[serde(default)]
    pub counts: RevocationCounts,
    /// The first failures (capped); `counts.failed` is exact.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50))]
    pub failures: Vec<RevocationFailure>,
    /// Resume point after a restart (opaque to users).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Where the temporary passwords of `requirePasswordChange` are: in a cluster the name of
    /// a Secret in this namespace (owned by this object), outside a cluster a file path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_secret: Option<String>,
    /// Hash of the spec that ran, so a re-applied manifest is recognised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_hash: Option<String>,
}
