//! Custom authentication strength → AuthenticationStrength spec (onboarding an existing
//! tenant). Pure. Built-in strengths are left out: policies require them by name and they
//! cannot be written (`authenticationstrengthpolicy.md`: `policyType` `builtIn`).

use super::{FIELDS, desired_strength, is_built_in};
use crate::tenant_object::export::{Exported, Unexportable, unchanged, unmodelled};
use sessionops_api::{
    AuthenticationStrengthSpec, CertificateCombination, CertificateRestriction, DeletionPolicy,
    Fido2Restriction, Kind, TenantRef,
};
use sessionops_graph::models::{
    AuthenticationStrengthPolicy, FIDO2_COMBINATION_CONFIGURATION_TYPE,
    X509_COMBINATION_CONFIGURATION_TYPE,
};

/// Read-only properties of a strength (`authenticationstrengthpolicy.md`).
const READ_ONLY: &[&str] = &[
    "requirementsSatisfied",
    "createdDateTime",
    "modifiedDateTime",
];

/// The AuthenticationStrength spec that manages `strength` exactly as it is.
pub fn spec_from_strength(
    strength: &AuthenticationStrengthPolicy,
    tenant_ref: &TenantRef,
) -> Result<Exported<AuthenticationStrengthSpec>, Unexportable> {
    if is_built_in(strength) {
        return Ok(Exported::LeftOut(
            "a built-in strength: policies require it by name and it cannot be changed",
        ));
    }
    // Top-level content no field manages stays as it is (PATCH names only managed fields); a
    // configuration's unknown content would be lost when it is posted again, so it refuses.
    let unknown = unmodelled("", &strength.extra, READ_ONLY);
    let mut reasons = Vec::new();
    let mut fido2 = None;
    let mut certificates = Vec::new();
    for (index, configuration) in strength.combination_configurations.iter().enumerate() {
        let path = format!("combinationConfigurations[{index}]");
        reasons.extend(unmodelled(&format!("{path}."), &configuration.extra, &[]));
        match configuration.odata_type.as_deref() {
            Some(FIDO2_COMBINATION_CONFIGURATION_TYPE) if fido2.is_none() => {
                fido2 = Some(Fido2Restriction {
                    allowed_aaguids: configuration.allowed_aaguids.clone().unwrap_or_default(),
                });
            }
            Some(X509_COMBINATION_CONFIGURATION_TYPE) => {
                // One restriction per certificate combination, as the spec (and the portal)
                // have it; a configuration restricting both is named instead.
                let applies_to: Vec<Option<CertificateCombination>> = configuration
                    .applies_to_combinations
                    .iter()
                    .map(|c| serde_json::from_value(serde_json::json!(c)).ok())
                    .collect();
                match applies_to.as_slice() {
                    [Some(applies_to)] => certificates.push(CertificateRestriction {
                        applies_to: *applies_to,
                        allowed_issuer_skis: configuration
                            .allowed_issuer_skis
                            .clone()
                            .unwrap_or_default(),
                        allowed_policy_oids: configuration
                            .allowed_policy_oids
                            .clone()
                            .unwrap_or_default(),
                    }),
                    _ => reasons.push(format!(
                        "{path} applies to {} (one certificate combination each is modelled)",
                        configuration.applies_to_combinations.join(", ")
                    )),
                }
            }
            other => reasons.push(format!(
                "{path} is a {} (one FIDO2 configuration and certificate configurations are modelled)",
                other.unwrap_or("configuration without @odata.type")
            )),
        }
    }
    let unexportable = |reasons: Vec<String>| Unexportable {
        kind: Kind::AuthenticationStrength,
        id: strength.id.clone(),
        display_name: strength.display_name.clone(),
        reasons,
    };
    if !reasons.is_empty() {
        return Err(unexportable(reasons));
    }
    certificates.sort_by_key(|c| c.applies_to);
    let spec = AuthenticationStrengthSpec {
        tenant_ref: tenant_ref.clone(),
        display_name: Some(strength.display_name.clone()),
        description: strength.description.clone().filter(|d| !d.is_empty()),
        deletion_policy: DeletionPolicy::Delete,
        allowed_combinations: strength.allowed_combinations.clone(),
        fido2,
        certificates: (!certificates.is_empty()).then_some(certificates),
    };
    let changes = unchanged(FIELDS, &desired_strength(&spec, "", ""), strength);
    if !changes.is_empty() {
        return Err(unexportable(changes));
    }
    Ok(Exported::of(spec, unknown))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sessionops_api::TenantKind;

    fn tenant() -> TenantRef {
        TenantRef {
            kind: TenantKind::ClusterTenantConnection,
            name: "contoso".into(),
        }
    }

    fn read(value: serde_json::Value) -> AuthenticationStrengthPolicy {
        serde_json::from_value(value).unwrap()
    }

    /// The response shape of `authenticationstrengthroot-list-policies.md` (configurations
    /// expanded, read-only properties and annotations present).
    #[test]
    fn a_custom_strength_exports_with_its_configurations_and_plans_back_unchanged() {
        let strength = read(json!({
            "@odata.type": "#microsoft.graph.authenticationStrengthPolicy",
            "id": "5b1e0c1e-6e8a-4b8a-9d59-4c3f7a1d2e10", "displayName": "Company keys",
            "description": "", "policyType": "custom", "requirementsSatisfied": "mfa",
            "createdDateTime": "2024-05-01T00:00:00Z", "modifiedDateTime": "2024-05-01T00:00:00Z",
            "allowedCombinations": ["fido2", "x509CertificateMultiFactor"],
            "combinationConfigurations@odata.context": "x",
            "combinationConfigurations": [
                {"@odata.type": "#microsoft.graph.x509CertificateCombinationConfiguration", "id": "c-2",
                 "appliesToCombinations": ["x509CertificateMultiFactor"], "allowedIssuerSkis": ["9A4248C6AC8C2931AB2A86537818E92E7B6C97B6"], "allowedPolicyOIDs": []},
                {"@odata.type": "#microsoft.graph.fido2CombinationConfiguration", "id": "c-1",
                 "appliesToCombinations": ["fido2"], "allowedAAGUIDs": ["90a3ccdf-635c-4729-a248-9b709135078f"]}
            ]
        }));
        let Ok(Exported::Spec(spec)) = spec_from_strength(&strength, &tenant()) else {
            panic!("{:?}", spec_from_strength(&strength, &tenant()))
        };
        assert_eq!(spec.description, None);
        assert_eq!(
            spec.fido2.unwrap().allowed_aaguids,
            ["90a3ccdf-635c-4729-a248-9b709135078f"]
        );
        let certificates = spec.certificates.unwrap();
        assert_eq!(certificates.len(), 1);
        assert_eq!(
            certificates[0].applies_to,
            CertificateCombination::X509CertificateMultiFactor
        );
    }

    #[test]
    fn built_ins_are_left_out_and_unmodelled_configurations_are_named() {
        let built_in = read(json!({
            "id": "00000000-0000-0000-0000-000000000004", "displayName": "Phishing-resistant MFA",
            "policyType": "builtIn", "allowedCombinations": ["fido2"]
        }));
        assert!(matches!(
            spec_from_strength(&built_in, &tenant()),
            Ok(Exported::LeftOut(_))
        ));
        let strength = read(json!({
            "id": "s-1", "displayName": "Both", "policyType": "custom",
            "allowedCombinations": ["x509CertificateSingleFactor", "x509CertificateMultiFactor"],
            "combinationConfigurations": [
                {"@odata.type": "#microsoft.graph.x509CertificateCombinationConfiguration", "id": "c-1",
                 "appliesToCombinations": ["x509CertificateSingleFactor", "x509CertificateMultiFactor"], "allowedPolicyOIDs": ["1.2.3.4"]},
                {"@odata.type": "#microsoft.graph.futureCombinationConfiguration", "id": "c-2", "appliesToCombinations": ["fido2"]}
            ]
        }));
        let Err(unexportable) = spec_from_strength(&strength, &tenant()) else {
            panic!()
        };
        assert_eq!(unexportable.kind, Kind::AuthenticationStrength);
        assert_eq!(
            unexportable.reasons,
            [
                "combinationConfigurations[0] applies to x509CertificateSingleFactor, x509CertificateMultiFactor (one certificate combination each is modelled)",
                "combinationConfigurations[1] is a #microsoft.graph.futureCombinationConfiguration (one FIDO2 configuration and certificate configurations are modelled)"
            ]
        );
    }
}
