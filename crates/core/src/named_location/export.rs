//! Named location → NamedLocation spec (onboarding an existing tenant). Pure.
//!
//! IP and country locations are exported; the compliant-network location is left out: Global
//! Secure Access creates it when its signaling for Conditional Access is enabled (beta
//! `resources/compliantnetworknamedlocation.md`: "Automatically created with the name \"All
//! Compliant Network Locations\"") and policies name it with the keyword
//! `AllCompliantNetworks`, so no manifest owns it.

use super::{FIELDS, desired_location};
use crate::tenant_object::export::{Exported, Unexportable, unchanged, unmodelled};
use sessionops_api::{
    CountryLocation, CountryLookup, DeletionPolicy, IpLocation, Kind, NamedLocationSpec, TenantRef,
};
use sessionops_graph::models::{
    COUNTRY_NAMED_LOCATION_TYPE, CountryLookupMethod, IP_NAMED_LOCATION_TYPE, NamedLocation,
};

/// `@odata.type` of the Global Secure Access compliant-network location (beta).
pub const COMPLIANT_NETWORK_NAMED_LOCATION_TYPE: &str =
    "#microsoft.graph.compliantNetworkNamedLocation";

/// The NamedLocation spec that manages `location` exactly as it is.
pub fn spec_from_location(
    location: &NamedLocation,
    tenant_ref: &TenantRef,
) -> Result<Exported<NamedLocationSpec>, Unexportable> {
    let unexportable = |reasons: Vec<String>| Unexportable {
        kind: Kind::NamedLocation,
        id: location.id.clone().unwrap_or_default(),
        display_name: location.display_name.clone(),
        reasons,
    };
    // Top-level content no field manages stays as it is (PATCH names only managed fields);
    // a range's unknown content would be lost when `ipRanges` is written whole, so it refuses.
    let unknown = unmodelled("", &location.extra, &[]);
    let mut reasons = Vec::new();
    let mut spec = NamedLocationSpec {
        tenant_ref: tenant_ref.clone(),
        display_name: Some(location.display_name.clone()),
        deletion_policy: DeletionPolicy::Delete,
        ip: None,
        country: None,
    };
    match location.odata_type.as_deref() {
        Some(IP_NAMED_LOCATION_TYPE) => {
            let mut ranges = Vec::new();
            for (index, range) in location.ip_ranges.iter().flatten().enumerate() {
                match &range.cidr_address {
                    Some(cidr) => ranges.push(cidr.clone()),
                    // `iprange.md` is abstract; only the CIDR ranges are modelled.
                    None => reasons.push(format!(
                        "ipRanges[{index}] is a {} without cidrAddress",
                        range.odata_type.as_deref().unwrap_or("range")
                    )),
                }
                reasons.extend(unmodelled(
                    &format!("ipRanges[{index}]."),
                    &range.extra,
                    &[],
                ));
            }
            spec.ip = Some(IpLocation {
                ranges,
                trusted: location.is_trusted.unwrap_or(false),
            });
        }
        Some(COUNTRY_NAMED_LOCATION_TYPE) => {
            let lookup = match &location.country_lookup_method {
                None | Some(CountryLookupMethod::ClientIpAddress) => CountryLookup::ClientIpAddress,
                Some(CountryLookupMethod::AuthenticatorAppGps) => {
                    CountryLookup::AuthenticatorAppGps
                }
                Some(other) => {
                    reasons.push(format!("countryLookupMethod {}", other.as_str()));
                    CountryLookup::ClientIpAddress
                }
            };
            spec.country = Some(CountryLocation {
                countries: location
                    .countries_and_regions
                    .clone()
                    .unwrap_or_default()
                    .iter()
                    .map(|c| c.to_uppercase())
                    .collect(),
                lookup,
                include_unknown: location
                    .include_unknown_countries_and_regions
                    .unwrap_or(false),
            });
        }
        Some(COMPLIANT_NETWORK_NAMED_LOCATION_TYPE) => {
            return Ok(Exported::LeftOut(
                "the compliant-network location belongs to Global Secure Access; policies name it AllCompliantNetworks",
            ));
        }
        other => reasons.push(format!(
            "@odata.type {} is not an ip or country location",
            other.unwrap_or("(none)")
        )),
    }
    if !reasons.is_empty() {
        return Err(unexportable(reasons));
    }
    let desired = desired_location(&spec, "", "");
    let changes = unchanged(FIELDS, &desired, location);
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

    fn read(value: serde_json::Value) -> NamedLocation {
        serde_json::from_value(value).unwrap()
    }

    /// Graph's own response shapes (`ipnamedlocation-get.md`, `countrynamedlocation-get.md`).
    #[test]
    fn ip_and_country_locations_export_to_specs_that_plan_back_unchanged() {
        let ip = read(json!({
            "@odata.type": "#microsoft.graph.ipNamedLocation",
            "id": "0854951d-5fc0-4eb1-b392-9b2c9d7949c2", "displayName": "Untrusted IP named location",
            "modifiedDateTime": "2021-04-22T08:14:32Z", "createdDateTime": "2021-04-22T08:14:32Z",
            "isTrusted": true,
            "ipRanges": [
                {"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "12.34.221.11/22"},
                {"@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "2001:0:9d38:90d6:0:0:0:0/63"}
            ]
        }));
        let Ok(Exported::Spec(spec)) = spec_from_location(&ip, &tenant()) else {
            panic!()
        };
        let ip_spec = spec.ip.unwrap();
        assert_eq!(
            ip_spec.ranges,
            ["12.34.221.11/22", "2001:0:9d38:90d6:0:0:0:0/63"]
        );
        assert!(ip_spec.trusted);
        let country = read(json!({
            "@odata.type": "#microsoft.graph.countryNamedLocation",
            "id": "1c4427fd-0885-4a3d-8b23-09a899ffa959", "displayName": "Named location with unknown countries and regions",
            "countriesAndRegions": ["us", "GB"], "countryLookupMethod": "authenticatorAppGps",
            "includeUnknownCountriesAndRegions": true
        }));
        let Ok(Exported::Spec(spec)) = spec_from_location(&country, &tenant()) else {
            panic!()
        };
        let country_spec = spec.country.unwrap();
        assert_eq!(country_spec.countries, ["US", "GB"]);
        assert_eq!(country_spec.lookup, CountryLookup::AuthenticatorAppGps);
        assert!(country_spec.include_unknown);
    }

    #[test]
    fn the_compliant_network_location_is_left_out_and_unknown_shapes_are_named() {
        let compliant = read(json!({
            "@odata.type": "#microsoft.graph.compliantNetworkNamedLocation",
            "id": "3d46dbda-8382-466a-856d-eb00cbc6b910", "displayName": "All Compliant Network Locations",
            "compliantNetworkType": "allTenantCompliantNetworks", "isTrusted": true
        }));
        assert!(matches!(
            spec_from_location(&compliant, &tenant()),
            Ok(Exported::LeftOut(_))
        ));
        let ranged = read(json!({
            "@odata.type": "#microsoft.graph.ipNamedLocation", "id": "l-1", "displayName": "Range",
            "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4Range", "lowerAddress": "10.0.0.1", "upperAddress": "10.0.0.9"}],
            "futureFlag": true
        }));
        let Err(unexportable) = spec_from_location(&ranged, &tenant()) else {
            panic!()
        };
        assert_eq!(
            unexportable.reasons,
            [
                "ipRanges[0] is a #microsoft.graph.iPv4Range without cidrAddress",
                "ipRanges[0].lowerAddress",
                "ipRanges[0].upperAddress"
            ]
        );
        assert_eq!(unexportable.kind, Kind::NamedLocation);
    }
}
