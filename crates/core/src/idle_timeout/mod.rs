//! IdleTimeoutPolicy → the organization's activity-based timeout policy and, when the spec
//! has `sharePoint`, SharePoint's idle session sign-out, on the tenant-object seam. Pure
//! except for the seam functions at the end.
//!
//! Graph facts (`api-reference/v1.0/resources/activitybasedtimeoutpolicy.md`):
//! - `definition` is "a string collection containing a JSON string"; durations are written
//!   `dd.hh:mm:ss`, and a maximum of one day "is specified as 23:59:59".
//! - `ApplicationId` is `default` or the Azure portal's id.
//! - "only one can be activated as the organization default": the kind is a singleton per
//!   connection ([`SeamKind::claim`]), and the tenant's organization default is adopted
//!   whatever its name.
//! - The definition is compared parsed ([`definition_value`]), so whitespace, key order and
//!   `1:00:00` against `01:00:00` are not drift.
//!
//! SharePoint (`sharepointsettings-update.md`, `idlesessionsignout.md`): one tenant setting
//! with no id and no delete, PATCHed as the complex property `idleSessionSignOut`, whole.

pub mod export;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::failure::Failure;
use crate::status::Reason;
use crate::tenant_object::io::{self, Applied, AppliedAction, Endpoints};
use crate::tenant_object::kind::{Managed, ManagedNames, SeamKind};
use crate::tenant_object::{self, Field, FieldChange, Found, Plan, TenantObject};
use sessionops_api::idle_timeout::{AZURE_PORTAL_APP_ID, duration_seconds, format_duration};
use sessionops_api::{
    DeletionPolicy, IdleTimeoutPolicySpec, Kind, ProtectedPrincipals, SharePointIdleSignOut,
    TenantRef,
};
use sessionops_graph::models::{
    ActivityBasedTimeoutPolicy, IdleSessionSignOut, SharePointSettings,
};
use sessionops_graph::{ApiVersion, GraphClient, GraphError, GraphRequest, paths};

/// Where activity-based timeout policies live; they have no deleted items.
pub const ENDPOINTS: Endpoints = Endpoints {
    noun: "activity-based timeout policy",
    collection: paths::ACTIVITY_BASED_TIMEOUT_POLICIES,
    item: paths::activity_based_timeout_policy,
    deleted: None,
};

/// The property of `/admin/sharepoint/settings` this kind manages.
pub const SHARE_POINT_PROPERTY: &str = "idleSessionSignOut";

/// The `ApplicationId` of the policy for every application without an override.
pub const DEFAULT_APPLICATION: &str = "default";

/// One day, the longest idle timeout.
const ONE_DAY: u64 = 86_400;

/// The policy's display name when the spec gives none.
pub fn default_display_name(namespace: &str, name: &str) -> String {
    format!("sessionops {namespace}/{name}")
}

/// A Graph `WebSessionIdleTimeout` for `seconds`: `hh:mm:ss`, and `23:59:59` for one day
/// (`activitybasedtimeoutpolicy.md`: "the max value of 1 days is specified as 23:59:59").
pub fn timespan(seconds: u64) -> String {
    let seconds = seconds.min(ONE_DAY - 1);
    format!(
        "{:02}:{:02}:{:02}",
        seconds / 3_600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// Seconds of a Graph timespan `[d.]h:mm:ss[.fffffff]` (.NET's constant format, which the
/// portal and PowerShell write); one second short of a day counts as a day, the way Graph
/// writes it. None when it is not one.
pub fn timespan_seconds(text: &str) -> Option<u64> {
    let text = text.trim();
    let (days, clock) = match text.split_once('.') {
        Some((days, clock)) if !days.contains(':') => (days.parse::<u64>().ok()?, clock),
        _ => (0, text),
    };
    // Fractional seconds follow the last colon's seconds.
    let clock = clock.split('.').next()?;
    let parts: Vec<u64> = clock
        .split(':')
        .map(|p| {
            (!p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        })
        .collect::<Option<_>>()?;
    let [hours, minutes, seconds] = parts[..] else {
        return None;
    };
    if hours > 23 || minutes > 59 || seconds > 59 {
        return None;
    }
    let total = days * ONE_DAY + hours * 3_600 + minutes * 60 + seconds;
    Some(if total == ONE_DAY - 1 { ONE_DAY } else { total })
}

/// The Graph application id an `applications[].app` names.
pub fn application_id(app: &str) -> String {
    if app == "AzurePortal" {
        AZURE_PORTAL_APP_ID.to_owned()
    } else {
        app.to_lowercase()
    }
}

/// What the tenant side of an IdleTimeoutPolicy is: the activity-based timeout policy and,
/// when the spec manages it, SharePoint's idle session sign-out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IdleTimeout {
    /// The policy.
    pub policy: ActivityBasedTimeoutPolicy,
    /// SharePoint's setting, when managed (None: not compared, not written).
    pub share_point: Option<IdleSessionSignOut>,
}

/// The definition JSON of an activity-based timeout of `default` seconds with `overrides`
/// (application id, seconds).
pub fn definition_text(default: u64, overrides: &[(String, u64)]) -> String {
    let mut policies = vec![json!({
        "ApplicationId": DEFAULT_APPLICATION,
        "WebSessionIdleTimeout": timespan(default),
    })];
    policies.extend(overrides.iter().map(
        |(app, seconds)| json!({"ApplicationId": app, "WebSessionIdleTimeout": timespan(*seconds)}),
    ));
    json!({"ActivityBasedTimeoutPolicy": {"Version": 1, "ApplicationPolicies": policies}})
        .to_string()
}

/// The tenant side a spec asks for. The CRD's rules hold (durations parse), so a duration
/// that does not parse can only come from a caller that skipped them: it is written as 0,
/// which Graph refuses.
pub fn desired(spec: &IdleTimeoutPolicySpec, namespace: &str, name: &str) -> IdleTimeout {
    let seconds = |text: &str| duration_seconds(text).unwrap_or(0);
    let overrides: Vec<(String, u64)> = spec
        .applications
        .iter()
        .map(|a| (application_id(&a.app), seconds(&a.idle_timeout)))
        .collect();
    IdleTimeout {
        policy: ActivityBasedTimeoutPolicy {
            id: None,
            display_name: spec
                .display_name
                .clone()
                .unwrap_or_else(|| default_display_name(namespace, name)),
            description: spec.description.clone(),
            definition: vec![definition_text(seconds(&spec.default), &overrides)],
            is_organization_default: Some(true),
            extra: Default::default(),
        },
        share_point: spec.share_point.as_ref().map(share_point_setting),
    }
}

/// Graph's `idleSessionSignOut` for a spec's `sharePoint`.
pub fn share_point_setting(spec: &SharePointIdleSignOut) -> IdleSessionSignOut {
    let seconds = |text: &str| duration_seconds(text).map_or(0, |s| s as i64);
    IdleSessionSignOut {
        is_enabled: Some(true),
        warn_after_in_seconds: Some(seconds(&spec.warn_after)),
        sign_out_after_in_seconds: Some(seconds(&spec.sign_out_after)),
    }
}

/// A definition as the application timeouts it sets, in spec durations so that plans read
/// like specs: `{"version": 1, "applications": {"default": "1h", "AzurePortal": "15m"}}`
/// (other ids lowercase), or the raw text when it is not one definition sessionops can read
/// (then it differs from every spec, and is rewritten). What else a definition holds is not
/// compared: [`export`] names it.
pub fn definition_value(definition: &[String]) -> Value {
    parsed_definition(definition).unwrap_or_else(|| json!(definition))
}

/// The definition's version and application timeouts, when it is one readable definition.
fn parsed_definition(definition: &[String]) -> Option<Value> {
    let [text] = definition else {
        return None;
    };
    let parsed: Value = serde_json::from_str(text).ok()?;
    let policy = parsed.get("ActivityBasedTimeoutPolicy")?;
    let mut applications = BTreeMap::new();
    for application in policy.get("ApplicationPolicies")?.as_array()? {
        let mut id = application.get("ApplicationId")?.as_str()?.to_lowercase();
        if id == AZURE_PORTAL_APP_ID {
            "AzurePortal".clone_into(&mut id);
        }
        let timeout = application.get("WebSessionIdleTimeout")?.as_str()?;
        applications.insert(id, json!(format_duration(timespan_seconds(timeout)?)));
    }
    Some(json!({"version": policy.get("Version")?, "applications": applications}))
}

impl TenantObject for IdleTimeout {
    fn id(&self) -> Option<&str> {
        self.policy.id.as_deref()
    }

    fn display_name(&self) -> &str {
        &self.policy.display_name
    }

    fn deleted_date_time(&self) -> Option<&str> {
        None
    }

    /// The policy's body, plus `idleSessionSignOut` when managed (split off by [`apply`]).
    fn write_body(&self) -> Value {
        let mut body = self.policy.to_write_body();
        if let (Value::Object(map), Some(setting)) = (&mut body, &self.share_point) {
            map.insert(SHARE_POINT_PROPERTY.to_owned(), json!(setting));
        }
        body
    }

    /// Every field is top-level or written whole.
    fn cleared() -> Value {
        json!({})
    }
}

/// Every managed field.
pub const FIELDS: &[Field<IdleTimeout>] = &[
    Field::new("displayName", |t| json!(t.policy.display_name)),
    Field::new("description", |t| {
        json!(t.policy.description.as_deref().unwrap_or(""))
    }),
    Field::new("definition", |t| definition_value(&t.policy.definition)),
    Field::new("isOrganizationDefault", |t| {
        json!(t.policy.is_organization_default.unwrap_or(false))
    }),
    // Graph's default for a setting never set is "disabled"; the numbers count only when on.
    Field::new(SHARE_POINT_PROPERTY, |t| match &t.share_point {
        None => Value::Null,
        Some(s) if s.is_enabled != Some(true) => json!({"isEnabled": false}),
        Some(s) => json!({
            "isEnabled": true,
            "warnAfterInSeconds": s.warn_after_in_seconds,
            "signOutAfterInSeconds": s.sign_out_after_in_seconds,
        }),
    }),
];

/// Why an IdleTimeoutPolicy cannot be planned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdleTimeoutError {
    /// Another IdleTimeoutPolicy targets the same connection.
    #[error(
        "IdleTimeoutPolicy {other} also targets this tenant connection: a tenant has one organization default activity-based timeout policy, so one IdleTimeoutPolicy per connection"
    )]
    Conflict {
        /// What both claim.
        claim: String,
        /// The other object (`namespace/name`).
        other: String,
    },
    /// Several tenant policies share the display name (none is the organization default).
    #[error("{count} activity-based timeout policies are named {display_name:?} in the tenant ({}): rename or delete all but one", .ids.join(", "))]
    DuplicateInTenant {
        /// The name.
        display_name: String,
        /// How many.
        count: usize,
        /// Their ids.
        ids: Vec<String>,
    },
    /// The policy this object manages is no longer the organization default: another one
    /// was made the default outside sessionops, and Graph allows one.
    #[error(
        "activity-based timeout policy {other_id} ({other_name:?}) was made the organization default outside sessionops, so the policy this object manages ({id}) cannot be: delete {other_id} or clear its isOrganizationDefault, or delete {id} so that sessionops adopts {other_id}"
    )]
    OtherDefault {
        /// The managed policy.
        id: String,
        /// The default one.
        other_id: String,
        /// Its display name.
        other_name: String,
    },
}

impl From<IdleTimeoutError> for Failure {
    fn from(error: IdleTimeoutError) -> Failure {
        Failure::refused(Reason::Conflict, error.to_string())
    }
}

fn is_default(policy: &ActivityBasedTimeoutPolicy) -> bool {
    policy.is_organization_default == Some(true)
}

/// What planning the IdleTimeoutPolicy of one tenant needs.
#[derive(Clone, Debug, Default)]
pub struct IdleTimeoutRead {
    /// The tenant's activity-based timeout policies (one LIST).
    pub policies: Vec<ActivityBasedTimeoutPolicy>,
    /// SharePoint's idle session sign-out, when a managed object sets `sharePoint` (one GET).
    pub share_point: Option<IdleSessionSignOut>,
}

/// The tenant policy an object manages: its recorded id; else the organization default
/// (adopted whatever its name); else the one with its display name.
pub fn find<'a>(
    recorded_id: Option<&str>,
    display_name: &str,
    policies: &'a [ActivityBasedTimeoutPolicy],
) -> Result<Found<'a, ActivityBasedTimeoutPolicy>, IdleTimeoutError> {
    let default = policies.iter().find(|p| is_default(p));
    if let Some(id) = recorded_id
        && let Some(ours) = policies
            .iter()
            .find(|p| p.id.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(id)))
    {
        if let Some(other) = default.filter(|d| d.id != ours.id) {
            return Err(IdleTimeoutError::OtherDefault {
                id: id.to_owned(),
                other_id: other.id.clone().unwrap_or_default(),
                other_name: other.display_name.clone(),
            });
        }
        return Ok(Found::ById(ours));
    }
    if let Some(default) = default {
        return Ok(Found::ByName(default));
    }
    let named: Vec<&ActivityBasedTimeoutPolicy> = policies
        .iter()
        .filter(|p| p.display_name == display_name)
        .collect();
    match named.as_slice() {
        [] => Ok(Found::Missing),
        [one] => Ok(Found::ByName(one)),
        many => Err(IdleTimeoutError::DuplicateInTenant {
            display_name: display_name.to_owned(),
            count: many.len(),
            ids: many.iter().filter_map(|p| p.id.clone()).collect(),
        }),
    }
}

/// The plan for `desired` against the tenant as `read` saw it.
pub fn plan(
    desired: &IdleTimeout,
    recorded_id: Option<&str>,
    read: &IdleTimeoutRead,
) -> Result<Plan, IdleTimeoutError> {
    let found = find(recorded_id, &desired.policy.display_name, &read.policies)?;
    // SharePoint's setting is compared only when the spec manages it.
    let share_point = desired
        .share_point
        .as_ref()
        .map(|_| read.share_point.clone().unwrap_or_default());
    let observed = |policy: &ActivityBasedTimeoutPolicy| IdleTimeout {
        policy: policy.clone(),
        share_point: share_point.clone(),
    };
    let observed = match found {
        Found::ById(p) => Some((observed(p), true)),
        Found::ByName(p) => Some((observed(p), false)),
        Found::Deleted(_) | Found::Missing => None,
    };
    let plan = match &observed {
        Some((observed, by_id)) => tenant_object::plan(
            FIELDS,
            desired,
            ApiVersion::V1,
            if *by_id {
                Found::ById(observed)
            } else {
                Found::ByName(observed)
            },
            false,
        ),
        None => {
            let mut body = desired.write_body();
            // A SharePoint setting already as desired is not written again.
            if share_point == desired.share_point
                && let Value::Object(map) = &mut body
            {
                map.remove(SHARE_POINT_PROPERTY);
            }
            Plan::Create {
                body,
                version: ApiVersion::V1,
            }
        }
    };
    Ok(plan)
}

/// A plan's body split into the policy's part and SharePoint's `idleSessionSignOut`.
fn split(body: &Value) -> (Map<String, Value>, Option<Value>) {
    let mut policy = body.as_object().cloned().unwrap_or_default();
    let share_point = policy.remove(SHARE_POINT_PROPERTY);
    (policy, share_point)
}

/// The id of an object a POST created.
#[derive(serde::Deserialize)]
struct Created {
    id: String,
}

/// Makes the writes of one plan: the policy (POST or PATCH), then SharePoint's setting.
pub async fn apply(client: &GraphClient, plan: &Plan) -> Result<Applied, GraphError> {
    let applied = |id: &str, action, changes: &[FieldChange]| Applied {
        id: id.to_owned(),
        action,
        version: ApiVersion::V1,
        changed_fields: changes.iter().map(|c| c.field.clone()).collect(),
        note: None,
    };
    let write_share_point = |setting: Option<Value>| async move {
        if let Some(setting) = setting {
            client
                .send(GraphRequest::patch(
                    paths::SHAREPOINT_SETTINGS,
                    json!({ SHARE_POINT_PROPERTY: setting }),
                ))
                .await?;
        }
        Ok::<(), GraphError>(())
    };
    match plan {
        Plan::Create { body, .. } => {
            let (policy, share_point) = split(body);
            let created: Created = client
                .send_json(GraphRequest::post(
                    ENDPOINTS.collection,
                    Value::Object(policy),
                ))
                .await?;
            write_share_point(share_point).await?;
            Ok(applied(&created.id, AppliedAction::Created, &[]))
        }
        Plan::Update {
            id, changes, patch, ..
        } => {
            let (policy, share_point) = split(patch);
            if !policy.is_empty() {
                client
                    .send(GraphRequest::patch(
                        &paths::activity_based_timeout_policy(id),
                        Value::Object(policy),
                    ))
                    .await?;
            }
            write_share_point(share_point).await?;
            Ok(applied(id, AppliedAction::Updated, changes))
        }
        Plan::Restore { .. } => Err(GraphError::Protocol {
            detail: "activity-based timeout policies have no deleted items to restore from"
                .to_owned(),
            ids: Default::default(),
        }),
        Plan::NoOp { id, .. } => Ok(applied(id, AppliedAction::Unchanged, &[])),
    }
}

/// Folds a write into `read`: the policy as written, SharePoint's setting as written.
pub fn record(read: &mut IdleTimeoutRead, plan: &Plan, applied: &Applied) -> bool {
    let (body, id) = match plan {
        Plan::Create { body, .. } => (body, applied.id.as_str()),
        Plan::Update { id, patch, .. } => (patch, id.as_str()),
        Plan::NoOp { .. } => return true,
        Plan::Restore { .. } => return false,
    };
    let (policy, share_point) = split(body);
    if let Some(setting) = share_point {
        match serde_json::from_value(setting) {
            Ok(setting) => read.share_point = Some(setting),
            Err(_) => return false,
        }
    }
    let cached = match read
        .policies
        .iter()
        .position(|p| p.id.as_deref() == Some(id))
    {
        Some(at) => read.policies.remove(at),
        None => ActivityBasedTimeoutPolicy {
            id: Some(id.to_owned()),
            ..Default::default()
        },
    };
    let Ok(mut value) = serde_json::to_value(&cached) else {
        return false;
    };
    for (key, property) in policy {
        value[key] = property;
    }
    match serde_json::from_value(value) {
        Ok(written) => {
            read.policies.push(written);
            true
        }
        Err(_) => false,
    }
}

crate::seam_status!(sessionops_api::IdleTimeoutPolicyStatus, policy_id);

impl SeamKind for sessionops_api::IdleTimeoutPolicy {
    type Spec = IdleTimeoutPolicySpec;
    type Status = sessionops_api::IdleTimeoutPolicyStatus;
    type Desired = IdleTimeout;
    type Error = IdleTimeoutError;
    type Read = IdleTimeoutRead;

    const KIND: Kind = Kind::IdleTimeoutPolicy;
    const NOUN: &'static str = "activity-based timeout policy";
    const FINALIZER: &'static str = "sessionops.io/tenant-idle-timeout";

    fn spec(&self) -> &IdleTimeoutPolicySpec {
        &self.spec
    }

    fn status(&self) -> Option<&sessionops_api::IdleTimeoutPolicyStatus> {
        self.status.as_ref()
    }

    fn tenant_ref(spec: &IdleTimeoutPolicySpec) -> &TenantRef {
        &spec.tenant_ref
    }

    fn deletion_policy(spec: &IdleTimeoutPolicySpec) -> DeletionPolicy {
        spec.deletion_policy
    }

    fn display_name(spec: &IdleTimeoutPolicySpec, namespace: &str, name: &str) -> String {
        spec.display_name
            .clone()
            .unwrap_or_else(|| default_display_name(namespace, name))
    }

    /// Every object claims the tenant's one organization default.
    fn claim(_: &IdleTimeoutPolicySpec, _: &str, _: &str) -> String {
        "the organization default activity-based timeout policy".to_owned()
    }

    fn conflict(claim: String, other: String) -> IdleTimeoutError {
        IdleTimeoutError::Conflict { claim, other }
    }

    async fn read(
        client: &GraphClient,
        _: &ProtectedPrincipals,
        managed: &[Managed<Self>],
    ) -> Result<IdleTimeoutRead, Failure> {
        let policies = client
            .list_all(GraphRequest::get(ENDPOINTS.collection))
            .await?;
        // Only when managed: reading needs SharePointTenantSettings.Read.All.
        let share_point = if managed.iter().any(|m| m.spec.share_point.is_some()) {
            let body: Value = client
                .send_json(GraphRequest::get(paths::SHAREPOINT_SETTINGS))
                .await?;
            let settings =
                SharePointSettings::from_response(body).map_err(|error| GraphError::Protocol {
                    detail: format!(
                        "{} is not a sharepointSettings: {error}",
                        paths::SHAREPOINT_SETTINGS
                    ),
                    ids: Default::default(),
                })?;
            Some(settings.idle_session_sign_out.unwrap_or_default())
        } else {
            None
        };
        Ok(IdleTimeoutRead {
            policies,
            share_point,
        })
    }

    fn serves(read: &IdleTimeoutRead, _: &ProtectedPrincipals, target: &Managed<Self>) -> bool {
        target.spec.share_point.is_none() || read.share_point.is_some()
    }

    fn plan(
        read: &IdleTimeoutRead,
        target: &Managed<Self>,
        _: &ManagedNames,
    ) -> (Option<IdleTimeout>, Result<Plan, IdleTimeoutError>) {
        let desired = desired(&target.spec, &target.namespace, &target.name);
        let plan = plan(&desired, target.recorded_id(), read);
        (Some(desired), plan)
    }

    async fn apply(client: &GraphClient, plan: &Plan) -> Result<Applied, GraphError> {
        apply(client, plan).await
    }

    fn record(read: &mut IdleTimeoutRead, plan: &Plan, applied: &Applied) -> bool {
        record(read, plan, applied)
    }

    /// Deletes the policy (Graph keeps no deleted item of it: web sessions stop timing out).
    /// SharePoint's setting has no delete and is left as it is.
    async fn delete(client: &GraphClient, id: &str) -> Result<(), Failure> {
        Ok(io::delete(client, &ENDPOINTS, id).await?)
    }

    fn forget(read: &mut IdleTimeoutRead, id: &str) {
        read.policies.retain(|p| p.id.as_deref() != Some(id));
    }

    fn deleted_note() -> &'static str {
        "activity-based timeout policies have no deleted items; SharePoint's idle sign-out is left as it is"
    }
}
