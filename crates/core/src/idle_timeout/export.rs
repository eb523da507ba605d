//! Activity-based timeout policy (and SharePoint's idle sign-out) → IdleTimeoutPolicy spec.
//! Pure.
//!
//! Only the organization default is exported: "only one can be activated as the organization
//! default" (`activitybasedtimeoutpolicy.md`), and the others have no effect. Content of the
//! definition the spec cannot write (another application, another key) refuses the policy:
//! the next write of the definition would drop it.

use serde_json::Value;

use super::{DEFAULT_APPLICATION, FIELDS, IdleTimeout, desired, is_default, timespan_seconds};
use crate::tenant_object::export::{Exported, Unexportable, unchanged, unmodelled};
use sessionops_api::idle_timeout::{AZURE_PORTAL_APP_ID, format_duration};
use sessionops_api::{
    ApplicationIdleTimeout, DeletionPolicy, IdleTimeoutPolicySpec, Kind, SharePointIdleSignOut,
    TenantRef,
};
use sessionops_graph::models::{ActivityBasedTimeoutPolicy, IdleSessionSignOut};

const MIN_TIMEOUT: u64 = 300;
const MAX_TIMEOUT: u64 = 86_400;

/// The spec that manages `policy` (and `share_point`, SharePoint's setting when it could be
/// read) exactly as they are.
pub fn spec_from_timeout_policy(
    policy: &ActivityBasedTimeoutPolicy,
    share_point: Option<&IdleSessionSignOut>,
    tenant_ref: &TenantRef,
) -> Result<Exported<IdleTimeoutPolicySpec>, Unexportable> {
    if !is_default(policy) {
        return Ok(Exported::LeftOut(
            "not the organization default, so it has no effect (a tenant has one IdleTimeoutPolicy)",
        ));
    }
    let mut reasons = Vec::new();
    let mut default = None;
    let mut applications = Vec::new();
    match read_definition(&policy.definition, &mut reasons) {
        Some(entries) => {
            for (app, seconds) in entries {
                let duration = if (MIN_TIMEOUT..=MAX_TIMEOUT).contains(&seconds) {
                    format_duration(seconds)
                } else {
                    reasons.push(format!(
                        "the idle timeout of {app} is {seconds} s, outside 5m to 24h"
                    ));
                    continue;
                };
                if app == DEFAULT_APPLICATION {
                    default = Some(duration);
                } else if app == AZURE_PORTAL_APP_ID {
                    applications.push(ApplicationIdleTimeout {
                        app: "AzurePortal".to_owned(),
                        idle_timeout: duration,
                    });
                } else {
                    reasons.push(format!(
                        "application {app} is not one activitybasedtimeoutpolicy.md documents"
                    ));
                }
            }
            if default.is_none() && reasons.is_empty() {
                reasons.push("the definition has no ApplicationId \"default\"".to_owned());
            }
        }
        None => reasons.push("the definition is not one readable JSON definition".to_owned()),
    }
    let share_point_spec = share_point
        .filter(|s| s.is_enabled == Some(true))
        .and_then(|s| {
            let seconds = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok());
            match (
                seconds(s.warn_after_in_seconds),
                seconds(s.sign_out_after_in_seconds),
            ) {
                (Some(warn), Some(sign_out)) if 0 < warn && warn < sign_out => {
                    Some(SharePointIdleSignOut {
                        warn_after: format_duration(warn),
                        sign_out_after: format_duration(sign_out),
                    })
                }
                _ => {
                    reasons.push(format!(
                        "SharePoint's idle sign-out warns after {:?} s and signs out after {:?} s, which a spec cannot write (a warning before the sign-out)",
                        s.warn_after_in_seconds, s.sign_out_after_in_seconds
                    ));
                    None
                }
            }
        });
    let unexportable = |reasons: Vec<String>| Unexportable {
        kind: Kind::IdleTimeoutPolicy,
        id: policy.id.clone().unwrap_or_default(),
        display_name: policy.display_name.clone(),
        reasons,
    };
    let Some(default) = default.filter(|_| reasons.is_empty()) else {
        return Err(unexportable(reasons));
    };
    let spec = IdleTimeoutPolicySpec {
        tenant_ref: tenant_ref.clone(),
        display_name: Some(policy.display_name.clone()),
        description: policy.description.clone().filter(|d| !d.is_empty()),
        deletion_policy: DeletionPolicy::Delete,
        default,
        applications,
        share_point: share_point_spec,
    };
    let observed = IdleTimeout {
        policy: policy.clone(),
        share_point: spec.share_point.as_ref().and(share_point).cloned(),
    };
    let changes = unchanged(FIELDS, &desired(&spec, "", ""), &observed);
    if !changes.is_empty() {
        return Err(unexportable(changes));
    }
    Ok(Exported::of(
        spec,
        unmodelled("", &policy.extra, &["deletedDateTime"]),
    ))
}

/// The `(application id, seconds)` of a definition, or None when it is not one JSON
/// definition; content besides `Version` 1 and the application timeouts goes to `reasons`.
fn read_definition(definition: &[String], reasons: &mut Vec<String>) -> Option<Vec<(String, u64)>> {
    let [text] = definition else {
        return None;
    };
    let parsed: Value = serde_json::from_str(text).ok()?;
    let root = parsed.as_object()?;
    for key in root.keys().filter(|k| *k != "ActivityBasedTimeoutPolicy") {
        reasons.push(format!("definition.{key}"));
    }
    let policy = root.get("ActivityBasedTimeoutPolicy")?.as_object()?;
    for key in policy
        .keys()
        .filter(|k| !matches!(k.as_str(), "Version" | "ApplicationPolicies"))
    {
        reasons.push(format!("definition.ActivityBasedTimeoutPolicy.{key}"));
    }
    if policy.get("Version").and_then(Value::as_i64) != Some(1) {
        reasons.push("the definition's Version is not 1".to_owned());
    }
    let mut entries = Vec::new();
    for (index, application) in policy
        .get("ApplicationPolicies")?
        .as_array()?
        .iter()
        .enumerate()
    {
        let application = application.as_object()?;
        for key in application
            .keys()
            .filter(|k| !matches!(k.as_str(), "ApplicationId" | "WebSessionIdleTimeout"))
        {
            reasons.push(format!("definition ApplicationPolicies[{index}].{key}"));
        }
        let id = application.get("ApplicationId")?.as_str()?.to_lowercase();
        let seconds = timespan_seconds(application.get("WebSessionIdleTimeout")?.as_str()?)?;
        entries.push((id, seconds));
    }
    Some(entries)
}
