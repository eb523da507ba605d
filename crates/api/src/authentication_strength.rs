//! `AuthenticationStrength`: one custom authentication strength policy (the combinations of
//! authentication methods that satisfy it, and the FIDO2 and certificate restrictions of those
//! combinations), managed from Git, that SessionPolicies require by display name. The three
//! built-in strengths are referenced by name from a SessionPolicy and never managed.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::common::{Conditions, TenantRef};
use super::rules::{self, GUID};
use super::session_policy::DeletionPolicy;

/// One allowed combination: `authenticationMethodModes` members joined by commas
/// (`authenticationmethodmodes.md`; e.g. `fido2`, `password,microsoftAuthenticatorPush`).
pub const COMBINATION: &str = "^(password|voice|hardwareOath|softwareOath|sms|fido2|windowsHelloForBusiness|microsoftAuthenticatorPush|deviceBasedPush|temporaryAccessPassOneTime|temporaryAccessPassMultiUse|email|x509CertificateSingleFactor|x509CertificateMultiFactor|federatedSingleFactor|federatedMultiFactor|qrCodePin)(,(password|voice|hardwareOath|softwareOath|sms|fido2|windowsHelloForBusiness|microsoftAuthenticatorPush|deviceBasedPush|temporaryAccessPassOneTime|temporaryAccessPassMultiUse|email|x509CertificateSingleFactor|x509CertificateMultiFactor|federatedSingleFactor|federatedMultiFactor|qrCodePin))*$";
/// A certificate's subject key identifier, hex.
pub const SUBJECT_KEY_IDENTIFIER: &str = "^[0-9a-fA-F]{2,128}$";
/// A certificate policy object identifier (`1.2.840.113549.1.1.1`).
pub const OBJECT_IDENTIFIER: &str = "^[0-2]([.][0-9]{1,20}){1,30}$";

/// Desired custom authentication strength. Its display name is its identity in the tenant: an
/// existing custom strength with this name is adopted instead of creating a duplicate.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "sessionops.io",
    version = "v1alpha1",
    kind = "AuthenticationStrength",
    doc = "A custom authentication strength (the method combinations that satisfy it), managed from Git: one AuthenticationStrength is exactly one custom authentication strength policy in the tenant.",
    derive = "PartialEq",
    namespaced,
    status = "AuthenticationStrengthStatus",
    shortname = "authstrength",
    category = "sessionops",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason"}"#,
    printcolumn = r#"{"name":"Strength ID","type":"string","jsonPath":".status.strengthId"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    cel
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[x_kube(
    validation = rules::rule("!has(self.fido2) || 'fido2' in self.allowedCombinations", "fido2 restrictions need the fido2 combination in allowedCombinations (a FIDO2 configuration applies to fido2 only)"),
    validation = rules::rule("!has(self.certificates) || self.certificates.all(x, x.appliesTo in self.allowedCombinations)", "each certificate restriction's appliesTo must be one of allowedCombinations"),
)]
pub struct AuthenticationStrengthSpec {
    /// The tenant connection the strength is applied through.
    pub tenant_ref: TenantRef,

    /// Display name of the strength; SessionPolicies require it by this name. Default:
    /// `sessionops <namespace>/<name>`. The built-in names (`Multifactor authentication`,
    /// `Passwordless MFA`, `Phishing-resistant MFA`) cannot be taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = rules::not_blank("displayName must not be blank"))]
    #[schemars(length(max = 256))]
    pub display_name: Option<String>,

    /// What the strength is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub description: Option<String>,

    /// What happens to the strength in the tenant when this object is deleted: `Delete`
    /// (default) or `Retain`. Authentication strengths have no deleted items: a deleted one
    /// is gone.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// The method combinations that satisfy the strength, each `authenticationMethodModes`
    /// members joined by commas: `fido2`, `windowsHelloForBusiness`,
    /// `password,microsoftAuthenticatorPush` ...
    #[schemars(length(max = 64), inner(length(max = 512)))]
    #[x_kube(
        validation = rules::rule("size(self) > 0", "allowedCombinations must name at least one combination"),
        validation = rules::each_item(&[COMBINATION], &[], "each combination must be authentication method modes joined by commas (fido2, password,sms ...)"),
    )]
    pub allowed_combinations: Vec<String>,

    /// Only these FIDO2 security key models (by AAGUID) satisfy the `fido2` combination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fido2: Option<Fido2Restriction>,

    /// Only certificates from these issuers or with these policy OIDs satisfy a certificate
    /// combination; one entry per combination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2))]
    #[x_kube(validation = rules::rule("self.all(x, self.exists_one(y, y.appliesTo == x.appliesTo))", "each certificate combination may have one restriction"))]
    pub certificates: Option<Vec<CertificateRestriction>>,
}

/// Graph's `fido2CombinationConfiguration`.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fido2Restriction {
    /// The AAGUIDs of the allowed security key models.
    #[serde(rename = "allowedAAGUIDs")]
    #[schemars(length(max = 512), inner(length(max = 36)))]
    #[x_kube(
        validation = rules::rule("size(self) > 0", "allowedAAGUIDs must name at least one AAGUID"),
        validation = rules::each_item(&[GUID], &[], "each AAGUID must be a GUID"),
    )]
    pub allowed_aaguids: Vec<String>,
}

/// Which certificate combination a restriction applies to.
#[derive(
    Serialize, Deserialize, schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "camelCase")]
pub enum CertificateCombination {
    /// `x509CertificateSingleFactor`.
    X509CertificateSingleFactor,
    /// `x509CertificateMultiFactor`.
    X509CertificateMultiFactor,
}

impl CertificateCombination {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            CertificateCombination::X509CertificateSingleFactor => "x509CertificateSingleFactor",
            CertificateCombination::X509CertificateMultiFactor => "x509CertificateMultiFactor",
        }
    }
}

/// Graph's `x509CertificateCombinationConfiguration`. Entra allows at most five issuers and
/// five policy OIDs (entra-docs `concept-authentication-strength-advanced-options.md`).
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[x_kube(validation = rules::rule("size(self.allowedIssuerSkis) + size(self.allowedPolicyOids) > 0", "a certificate restriction names at least one issuer or policy OID"))]
pub struct CertificateRestriction {
    /// `x509CertificateSingleFactor` or `x509CertificateMultiFactor`.
    pub applies_to: CertificateCombination,
    /// Subject key identifiers of the allowed issuing CAs (hex).
    #[serde(default)]
    #[schemars(length(max = 5), inner(length(max = 128)))]
    #[x_kube(validation = rules::each_item(&[SUBJECT_KEY_IDENTIFIER], &[], "each issuer must be a subject key identifier in hex"))]
    pub allowed_issuer_skis: Vec<String>,
    /// Allowed certificate policy OIDs.
    #[serde(default, rename = "allowedPolicyOids")]
    #[schemars(length(max = 5), inner(length(max = 256)))]
    #[x_kube(validation = rules::each_item(&[OBJECT_IDENTIFIER], &[], "each policy OID must be dotted digits (1.2.3.4)"))]
    pub allowed_policy_oids: Vec<String>,
}

/// Observed state of an AuthenticationStrength.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationStrengthStatus {
    /// The `metadata.generation` this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` is always present.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = kube::core::ListMerge::Map(vec!["type".into()]))]
    pub conditions: Conditions,
    /// Id of the authentication strength policy in the tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strength_id: Option<String>,
    /// When the strength was last confirmed to match the spec.
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

    fn strength(spec: Value) -> AuthenticationStrength {
        let mut object = json!({
            "apiVersion": "sessionops.io/v1alpha1", "kind": "AuthenticationStrength",
            "metadata": {"name": "keys", "namespace": "identity"},
            "spec": {"tenantRef": {"kind": "ClusterTenantConnection", "name": "contoso"}}
        });
        for (key, value) in spec.as_object().unwrap() {
            object["spec"][key] = value.clone();
        }
        serde_json::from_value(object).unwrap()
    }

    fn refused_at(spec: Value) -> Option<String> {
        AuthenticationStrength::validate_cel(&strength(spec))
            .err()
            .map(|errors| format!("{errors}"))
    }

    #[test]
    fn combinations_and_restrictions() {
        assert_eq!(
            refused_at(json!({
                "allowedCombinations": ["fido2", "x509CertificateMultiFactor", "password,microsoftAuthenticatorPush"],
                "fido2": {"allowedAAGUIDs": ["cb69481e-8ff7-4039-93ec-0a2729a154a8"]},
                "certificates": [{"appliesTo": "x509CertificateMultiFactor", "allowedIssuerSkis": ["9A4248C6AC8C2931AB2A86537818E92E7B6C97B6"], "allowedPolicyOids": ["1.2.3.4.6"]}]
            })),
            None
        );
        for (spec, words) in [
            (
                json!({"allowedCombinations": []}),
                "at least one combination",
            ),
            (
                json!({"allowedCombinations": ["password,carrierPigeon"]}),
                "joined by commas",
            ),
            (
                json!({"allowedCombinations": ["password, sms"]}),
                "joined by commas",
            ),
            (
                json!({"allowedCombinations": ["windowsHelloForBusiness"], "fido2": {"allowedAAGUIDs": ["cb69481e-8ff7-4039-93ec-0a2729a154a8"]}}),
                "fido2 restrictions need the fido2 combination",
            ),
            (
                json!({"allowedCombinations": ["fido2"], "fido2": {"allowedAAGUIDs": ["yubikey"]}}),
                "each AAGUID must be a GUID",
            ),
            (
                json!({"allowedCombinations": ["fido2"], "certificates": [{"appliesTo": "x509CertificateMultiFactor", "allowedPolicyOids": ["1.2.3"]}]}),
                "must be one of allowedCombinations",
            ),
            (
                json!({"allowedCombinations": ["x509CertificateMultiFactor"], "certificates": [{"appliesTo": "x509CertificateMultiFactor"}]}),
                "at least one issuer or policy OID",
            ),
            (
                json!({"allowedCombinations": ["x509CertificateMultiFactor"], "certificates": [{"appliesTo": "x509CertificateMultiFactor", "allowedPolicyOids": ["not an oid"]}]}),
                "dotted digits",
            ),
            (
                json!({"allowedCombinations": ["x509CertificateMultiFactor"], "certificates": [{"appliesTo": "x509CertificateMultiFactor", "allowedPolicyOids": ["1.2"]}, {"appliesTo": "x509CertificateMultiFactor", "allowedPolicyOids": ["1.3"]}]}),
                "may have one restriction",
            ),
        ] {
            let refused = refused_at(spec.clone()).unwrap_or_else(|| panic!("{spec} accepted"));
            assert!(refused.contains(words), "{spec}: {refused}");
        }
    }
}
