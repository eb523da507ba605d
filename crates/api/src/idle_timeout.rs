//! `IdleTimeoutPolicy`: the tenant's idle sign-out for web sessions, managed from Git. One
//! object is the organization's `activityBasedTimeoutPolicy` (Graph allows one organization
//! default, so the kind is a singleton per connection), and optionally SharePoint's and
//! OneDrive's idle session sign-out with its warning (`/admin/sharepoint/settings`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::{Conditions, TenantRef};
use super::rules;
use super::session_policy::DeletionPolicy;

/// The application id of the Azure portal, the one application override Graph documents for
/// an activity-based timeout (`activitybasedtimeoutpolicy.md`).
pub const AZURE_PORTAL_APP_ID: &str = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c";

/// A duration as written in specs: Go's `time.ParseDuration` units `h`, `m`, `s` in that
/// order, whole numbers (`15m`, `1h`, `1h30m`, `24h`). CEL's `duration()` reads the same text.
pub const DURATION: &str = "^([0-9]{1,5}h)?([0-9]{1,5}m)?([0-9]{1,5}s)?$";

/// Seconds in a spec duration ([`DURATION`]); None when it is not one.
pub fn duration_seconds(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    let mut total = 0u64;
    let mut rest = text;
    for (unit, scale) in [('h', 3_600u64), ('m', 60), ('s', 1)] {
        if let Some((number, after)) = rest.split_once(unit)
            && !number.is_empty()
            && number.len() <= 5
            && number.bytes().all(|b| b.is_ascii_digit())
        {
            total += number.parse::<u64>().ok()? * scale;
            rest = after;
        }
    }
    rest.is_empty().then_some(total)
}

/// `text` as a spec duration ([`DURATION`]) of `seconds`: the largest units first (`1h30m`).
pub fn format_duration(seconds: u64) -> String {
    let (hours, minutes, secs) = (seconds / 3_600, seconds / 60 % 60, seconds % 60);
    let mut text = String::new();
    for (value, unit) in [(hours, 'h'), (minutes, 'm'), (secs, 's')] {
        if value > 0 {
            text.push_str(&format!("{value}{unit}"));
        }
    }
    if text.is_empty() {
        "0s".to_owned()
    } else {
        text
    }
}

/// A rule: the duration field is a [`DURATION`] between `min` and `max` (CEL durations).
fn duration_between(min: &str, max: &str, what: &str) -> kube::core::Rule {
    rules::rule(
        format!(
            "self.matches('{DURATION}') && self != '' && duration(self) >= duration('{min}') && duration(self) <= duration('{max}')"
        ),
        &format!("{what} must be a duration such as 15m, 1h or 1h30m between {min} and {max}"),
    )
}

/// Desired idle sign-out of the tenant's web sessions.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "sessionops.io",
    version = "v1alpha1",
    kind = "IdleTimeoutPolicy",
    doc = "The tenant's idle sign-out for web sessions, managed from Git: the organization's activity-based timeout policy (one per tenant connection) and, optionally, SharePoint and OneDrive idle session sign-out with its warning.",
    derive = "PartialEq",
    namespaced,
    status = "IdleTimeoutPolicyStatus",
    shortname = "idletimeout",
    category = "sessionops",
    printcolumn = r#"{"name":"Default","type":"string","jsonPath":".spec.default"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#,
    printcolumn = r#"{"name":"Policy ID","type":"string","jsonPath":".status.policyId"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    cel
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdleTimeoutPolicySpec {
    /// The tenant connection the policy is applied through. One IdleTimeoutPolicy per tenant:
    /// a second one on the same connection is refused (Conflict).
    pub tenant_ref: TenantRef,

    /// Display name of the activity-based timeout policy. Default:
    /// `sessionops <namespace>/<name>`. The tenant's organization default is adopted whatever
    /// its name (and renamed to this).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = rules::not_blank("displayName must not be blank"))]
    #[schemars(length(max = 256))]
    pub display_name: Option<String>,

    /// Description of the policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub description: Option<String>,

    /// What happens in the tenant when this object is deleted: `Delete` (default) deletes the
    /// activity-based timeout policy, which Graph does not keep in deleted items, so web
    /// sessions no longer time out; SharePoint's setting is left as it is. `Retain` leaves both.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// How long a web session may be idle before the user is signed out, in every application
    /// that supports activity-based timeout and has no override below: 5m to 24h.
    #[x_kube(validation = duration_between("5m", "24h", "default"))]
    #[schemars(length(max = 24))]
    pub default: String,

    /// Overrides for single applications. Graph documents one: the Azure portal
    /// (`app: AzurePortal`, or its application id).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 1))]
    pub applications: Vec<ApplicationIdleTimeout>,

    /// SharePoint and OneDrive idle session sign-out (`/admin/sharepoint/settings`): users are
    /// warned after `warnAfter` of inactivity and signed out after `signOutAfter`, on
    /// unmanaged devices. Absent: sessionops leaves SharePoint's setting as it is (and needs no
    /// SharePoint permission).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_point: Option<SharePointIdleSignOut>,
}

/// An idle timeout for one application.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApplicationIdleTimeout {
    /// `AzurePortal` or its application id `c44b4083-3bb0-49c1-b47d-974e53cbdf3c`, the
    /// values `activitybasedtimeoutpolicy.md` documents besides the default.
    #[x_kube(validation = rules::rule(
        format!("self == 'AzurePortal' || self.lowerAscii() == '{AZURE_PORTAL_APP_ID}'"),
        "app must be AzurePortal (or its application id c44b4083-3bb0-49c1-b47d-974e53cbdf3c): the only application override Graph documents for an activity-based timeout",
    ))]
    #[schemars(length(max = 64))]
    pub app: String,
    /// How long the application's web session may be idle: 5m to 24h.
    #[x_kube(validation = duration_between("5m", "24h", "idleTimeout"))]
    #[schemars(length(max = 24))]
    pub idle_timeout: String,
}

/// SharePoint and OneDrive idle session sign-out (Graph `idleSessionSignOut`).
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
// Only when both are durations (their own rules report them otherwise).
#[x_kube(validation = rules::rule(
    format!("!self.warnAfter.matches('{DURATION}') || !self.signOutAfter.matches('{DURATION}') || self.warnAfter == '' || self.signOutAfter == '' || duration(self.warnAfter) < duration(self.signOutAfter)"),
    "sharePoint.warnAfter must be shorter than sharePoint.signOutAfter: users are warned before they are signed out",
))]
pub struct SharePointIdleSignOut {
    /// Inactivity after which a user is warned that they will be signed out: 1m to 24h.
    #[x_kube(validation = duration_between("1m", "24h", "warnAfter"))]
    #[schemars(length(max = 24))]
    pub warn_after: String,
    /// Inactivity after which a user is signed out: 5m to 24h.
    #[x_kube(validation = duration_between("5m", "24h", "signOutAfter"))]
    #[schemars(length(max = 24))]
    pub sign_out_after: String,
}

/// Observed state of an IdleTimeoutPolicy.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct IdleTimeoutPolicyStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` is always present.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = kube::core::ListMerge::Map(vec!["type".into()]))]
    pub conditions: Conditions,
    /// Id of the activity-based timeout policy in the tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    /// When the tenant was last confirmed to match the spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_synced_time: Option<Time>,
    /// How many times a change made outside sessionops was reverted.
    #[serde(default)]
    pub drift_corrections: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn policy(spec: Value) -> IdleTimeoutPolicy {
        let mut object = json!({
            "apiVersion": "sessionops.io/v1alpha1", "kind": "IdleTimeoutPolicy",
            "metadata": {"name": "web", "namespace": "identity"},
            "spec": {"tenantRef": {"kind": "ClusterTenantConnection", "name": "contoso"}, "default": "1h"}
        });
        for (key, value) in spec.as_object().unwrap() {
            object["spec"][key] = value.clone();
        }
        serde_json::from_value(object).unwrap()
    }

    fn refused(spec: Value) -> Option<String> {
        IdleTimeoutPolicy::validate_cel(&policy(spec))
            .err()
            .map(|errors| format!("{errors}"))
    }

    #[test]
    fn durations_parse_and_format_alike() {
        for (text, seconds) in [
            ("15m", 900),
            ("1h", 3_600),
            ("1h30m", 5_400),
            ("24h", 86_400),
            ("90s", 90),
            ("2h0m5s", 7_205),
        ] {
            assert_eq!(duration_seconds(text), Some(seconds), "{text}");
        }
        for bad in [
            "", "1d", "15", "m", "1m1h", "1.5h", "-5m", "1h 30m", "123456h",
        ] {
            assert_eq!(duration_seconds(bad), None, "{bad}");
        }
        assert_eq!(format_duration(5_400), "1h30m");
        assert_eq!(format_duration(86_400), "24h");
        assert_eq!(format_duration(900), "15m");
    }

    #[test]
    fn ranges_apps_and_the_warning_before_sign_out() {
        assert_eq!(
            refused(json!({
                "applications": [{"app": "AzurePortal", "idleTimeout": "15m"}],
                "sharePoint": {"warnAfter": "45m", "signOutAfter": "1h"}
            })),
            None
        );
        assert_eq!(
            refused(
                json!({"default": "24h", "applications": [{"app": AZURE_PORTAL_APP_ID.to_uppercase(), "idleTimeout": "5m"}]})
            ),
            None
        );
        for (spec, words) in [
            (json!({"default": "2m"}), "between 5m and 24h"),
            (json!({"default": "25h"}), "between 5m and 24h"),
            (json!({"default": "1d"}), "duration such as"),
            (json!({"default": ""}), "duration such as"),
            (
                json!({"applications": [{"app": "AzurePortal", "idleTimeout": "4m59s"}]}),
                "idleTimeout must be",
            ),
            (
                json!({"applications": [{"app": "Outlook", "idleTimeout": "15m"}]}),
                "only application override",
            ),
            (
                json!({"sharePoint": {"warnAfter": "1h", "signOutAfter": "1h"}}),
                "warnAfter must be shorter",
            ),
            (
                json!({"sharePoint": {"warnAfter": "2h", "signOutAfter": "1h"}}),
                "warnAfter must be shorter",
            ),
            (
                json!({"sharePoint": {"warnAfter": "30s", "signOutAfter": "1h"}}),
                "between 1m and 24h",
            ),
        ] {
            let refused = refused(spec.clone()).unwrap_or_else(|| panic!("{spec} accepted"));
            assert!(refused.contains(words), "{spec}: {refused}");
        }
    }
}
