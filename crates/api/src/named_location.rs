//! `NamedLocation`: one Conditional Access named location (IP ranges or countries), managed
//! from Git, that SessionPolicies refer to by display name.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::{Conditions, TenantRef};
use super::rules::{self, COUNTRY_CODES, IPV4_CIDR, IPV6_CIDR};
use super::session_policy::DeletionPolicy;

/// Desired named location. Its display name is its identity in the tenant: an existing
/// location with this name is adopted instead of creating a duplicate.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "sessionops.io",
    version = "v1alpha1",
    kind = "NamedLocation",
    doc = "A Conditional Access named location (IP ranges or countries), managed from Git: one NamedLocation is exactly one named location in the tenant.",
    derive = "PartialEq",
    namespaced,
    status = "NamedLocationStatus",
    shortname = "namedloc",
    category = "sessionops",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#,
    printcolumn = r#"{"name":"Location ID","type":"string","jsonPath":".status.locationId"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    cel
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[x_kube(validation = rules::rule("has(self.ip) != has(self.country)", "exactly one of ip or country must be set"))]
pub struct NamedLocationSpec {
    /// The tenant connection the location is applied through.
    pub tenant_ref: TenantRef,

    /// Display name of the named location; SessionPolicies name it by this. Default:
    /// `sessionops <namespace>/<name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = rules::not_blank("displayName must not be blank"))]
    #[schemars(length(max = 256))]
    pub display_name: Option<String>,

    /// What happens to the location in the tenant when this object is deleted: `Delete`
    /// (default; it stays restorable in deleted items for 30 days) or `Retain`.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// An IP location (Graph `ipNamedLocation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpLocation>,

    /// A country location (Graph `countryNamedLocation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<CountryLocation>,
}

/// IP ranges, trusted or not.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IpLocation {
    /// IPv4 or IPv6 ranges in CIDR notation, masks /9 and longer (entra-docs: at most 2000
    /// ranges per location, masks greater than /8).
    #[schemars(length(max = 2000), inner(length(max = 64)))]
    #[x_kube(
        validation = rules::rule("size(self) > 0", "ranges must name at least one range"),
        validation = rules::each_item(&[IPV4_CIDR, IPV6_CIDR], &[], "each range must be an IPv4 or IPv6 range in CIDR notation with a mask of /9 or longer"),
    )]
    pub ranges: Vec<String>,
    /// Trusted locations count for `AllTrusted` and lower sign-in risk. Graph refuses to
    /// delete a trusted location until it is marked untrusted (entra-docs
    /// `concept-assignment-network.md`).
    #[serde(default)]
    pub trusted: bool,
}

/// Countries and regions.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CountryLocation {
    /// ISO 3166-1 alpha-2 codes (`US`, `GB`).
    #[schemars(length(max = 250), inner(length(max = 2)))]
    #[x_kube(
        validation = rules::rule("size(self) > 0", "countries must name at least one country or region"),
        validation = rules::each_item(&[], COUNTRY_CODES, "each entry must be an ISO 3166-1 alpha-2 country or region code (US, GB ...)"),
    )]
    pub countries: Vec<String>,
    /// How the country of a sign-in is found: `clientIpAddress` (default) or
    /// `authenticatorAppGps` (not in US Government clouds).
    #[serde(default)]
    pub lookup: CountryLookup,
    /// Whether sign-ins from IP addresses that map to no country are included.
    #[serde(default)]
    pub include_unknown: bool,
}

/// How a country location finds the country of a sign-in.
#[derive(
    Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Default,
)]
#[serde(rename_all = "camelCase")]
pub enum CountryLookup {
    /// The sign-in's IP address.
    #[default]
    ClientIpAddress,
    /// The GPS location the Authenticator app reports.
    AuthenticatorAppGps,
}

/// Observed state of a NamedLocation.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NamedLocationStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` is always present.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = kube::core::ListMerge::Map(vec!["type".into()]))]
    pub conditions: Conditions,
    /// Id of the named location in the tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    /// When the location was last confirmed to match the spec.
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

    fn location(spec: Value) -> NamedLocation {
        let mut object = json!({
            "apiVersion": "sessionops.io/v1alpha1", "kind": "NamedLocation",
            "metadata": {"name": "office", "namespace": "identity"},
            "spec": {"tenantRef": {"kind": "ClusterTenantConnection", "name": "contoso"}}
        });
        for (key, value) in spec.as_object().unwrap() {
            object["spec"][key] = value.clone();
        }
        serde_json::from_value(object).unwrap()
    }

    /// The field the first failed rule is reported at, or None when every rule holds.
    fn refused_at(spec: Value) -> Option<String> {
        NamedLocation::validate_cel(&location(spec))
            .err()
            .map(|errors| format!("{errors}"))
    }

    #[test]
    fn ranges_countries_and_exactly_one_type() {
        assert_eq!(
            refused_at(
                json!({"ip": {"ranges": ["203.0.113.0/24", "2001:db8::/48", "10.0.0.1/32"], "trusted": true}})
            ),
            None
        );
        assert_eq!(
            refused_at(json!({"country": {"countries": ["KP", "IR"], "includeUnknown": true}})),
            None
        );
        for (spec, words) in [
            (json!({}), "exactly one of ip or country"),
            (
                json!({"ip": {"ranges": ["10.0.0.0/8"]}, "country": {"countries": ["US"]}}),
                "exactly one of ip or country",
            ),
            (
                json!({"ip": {"ranges": ["10.0.0.0/8"]}}),
                "mask of /9 or longer",
            ),
            (json!({"ip": {"ranges": ["300.1.2.3/24"]}}), "CIDR notation"),
            (json!({"ip": {"ranges": ["203.0.113.0"]}}), "CIDR notation"),
            (json!({"ip": {"ranges": []}}), "at least one range"),
            (
                json!({"country": {"countries": ["XX"]}}),
                "ISO 3166-1 alpha-2",
            ),
            (
                json!({"country": {"countries": ["us"]}}),
                "ISO 3166-1 alpha-2",
            ),
            (
                json!({"country": {"countries": []}}),
                "at least one country",
            ),
        ] {
            let refused = refused_at(spec.clone()).unwrap_or_else(|| panic!("{spec} accepted"));
            assert!(refused.contains(words), "{spec}: {refused}");
        }
    }
}
