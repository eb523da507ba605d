//! NamedLocation → one Conditional Access named location, on the tenant-object seam: the
//! desired location, its managed fields, where it lives in Graph. Pure except for the
//! [`ENDPOINTS`] the seam's IO uses.
//!
//! Shapes: `ipnamedlocation.md`, `countrynamedlocation.md`, `iprange.md` (v1.0); updates must
//! name the derived type (`ipnamedlocation-update.md`, `countrynamedlocation-update.md`), and
//! a location cannot change its type, so a spec that switches between `ip` and `country` is
//! refused rather than half-applied.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::failure::Failure;
use crate::status::Reason;
use crate::tenant_object::io::{DeletedItems, Endpoints};
use crate::tenant_object::{self, Field, Found, Plan, TenantObject};
use sessionops_api::{CountryLookup, NamedLocationSpec};
use sessionops_graph::models::{
    COUNTRY_NAMED_LOCATION_TYPE, CountryLookupMethod, IP_NAMED_LOCATION_TYPE, IPV4_CIDR_RANGE_TYPE,
    IPV6_CIDR_RANGE_TYPE, IpRange, NamedLocation,
};
use sessionops_graph::{ApiVersion, paths};

/// Where named locations live; deleted items and restore are beta only
/// (`beta/api/policydeletableitem-list.md`, `beta/api/ipnamedlocation-restore.md`).
pub const ENDPOINTS: Endpoints = Endpoints {
    noun: "named location",
    collection: paths::NAMED_LOCATIONS,
    item: paths::named_location,
    deleted: Some(DeletedItems {
        collection: paths::DELETED_NAMED_LOCATIONS,
        restore: paths::restore_named_location,
    }),
};

/// The location's display name when the spec gives none.
pub fn default_display_name(namespace: &str, name: &str) -> String {
    format!("sessionops {namespace}/{name}")
}

/// The named location a spec asks for.
pub fn desired_location(spec: &NamedLocationSpec, namespace: &str, name: &str) -> NamedLocation {
    let display_name = spec
        .display_name
        .clone()
        .unwrap_or_else(|| default_display_name(namespace, name));
    match (&spec.ip, &spec.country) {
        (Some(ip), _) => NamedLocation {
            odata_type: Some(IP_NAMED_LOCATION_TYPE.to_owned()),
            display_name,
            ip_ranges: Some(
                ip.ranges
                    .iter()
                    .map(|range| IpRange {
                        // The CRD rule admits IPv4 or IPv6 CIDR only: a colon is IPv6.
                        odata_type: Some(
                            if range.contains(':') {
                                IPV6_CIDR_RANGE_TYPE
                            } else {
                                IPV4_CIDR_RANGE_TYPE
                            }
                            .to_owned(),
                        ),
                        cidr_address: Some(range.clone()),
                        ..Default::default()
                    })
                    .collect(),
            ),
            is_trusted: Some(ip.trusted),
            ..Default::default()
        },
        (None, country) => {
            let country = country
                .clone()
                .unwrap_or_else(|| sessionops_api::CountryLocation {
                    countries: Vec::new(),
                    lookup: CountryLookup::default(),
                    include_unknown: false,
                });
            NamedLocation {
                odata_type: Some(COUNTRY_NAMED_LOCATION_TYPE.to_owned()),
                display_name,
                countries_and_regions: Some(country.countries.clone()),
                country_lookup_method: Some(match country.lookup {
                    CountryLookup::ClientIpAddress => CountryLookupMethod::ClientIpAddress,
                    CountryLookup::AuthenticatorAppGps => CountryLookupMethod::AuthenticatorAppGps,
                }),
                include_unknown_countries_and_regions: Some(country.include_unknown),
                ..Default::default()
            }
        }
    }
}

impl TenantObject for NamedLocation {
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    fn display_name(&self) -> &str {
        &self.display_name
    }

    fn deleted_date_time(&self) -> Option<&str> {
        self.deleted_date_time.as_deref()
    }

    fn write_body(&self) -> Value {
        self.to_write_body()
    }

    fn patch_header(&self) -> Map<String, Value> {
        self.odata_type
            .iter()
            .map(|t| ("@odata.type".to_owned(), json!(t)))
            .collect()
    }

    /// Every field is top-level: nothing is ever cleared around unmanaged content.
    fn cleared() -> Value {
        json!({})
    }
}

fn is_country(location: &NamedLocation) -> bool {
    location.odata_type.as_deref() == Some(COUNTRY_NAMED_LOCATION_TYPE)
}

fn set(values: impl Iterator<Item = String>) -> Value {
    json!(values.collect::<BTreeSet<String>>())
}

/// Every managed field. The derived type is not one: it cannot change (see [`plan`]).
pub const FIELDS: &[Field<NamedLocation>] = &[
    Field::new("displayName", |l| json!(l.display_name)),
    // Ranges as a set of their addresses: the range's own type follows from the address.
    Field::new("ipRanges", |l| {
        set(l
            .ip_ranges
            .iter()
            .flatten()
            .filter_map(|r| r.cidr_address.as_ref())
            .map(|c| c.to_lowercase()))
    }),
    Field::new("isTrusted", |l| json!(l.is_trusted.unwrap_or(false))),
    Field::new("countriesAndRegions", |l| {
        set(l
            .countries_and_regions
            .iter()
            .flatten()
            .map(|c| c.to_uppercase()))
    }),
    // Graph's default for a country location (`countrynamedlocation.md`); none for others.
    Field::new("countryLookupMethod", |l| {
        if is_country(l) {
            json!(
                l.country_lookup_method
                    .as_ref()
                    .map_or("clientIpAddress", |m| m.as_str())
            )
        } else {
            Value::Null
        }
    }),
    Field::new("includeUnknownCountriesAndRegions", |l| {
        json!(l.include_unknown_countries_and_regions.unwrap_or(false))
    }),
];

/// Why a NamedLocation cannot be planned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    /// Several tenant locations share the display name.
    #[error("{count} named locations are named {display_name:?} in the tenant ({}): rename or delete all but one", .ids.join(", "))]
    DuplicateInTenant {
        /// The name.
        display_name: String,
        /// How many.
        count: usize,
        /// Their ids.
        ids: Vec<String>,
    },
    /// The tenant's location is of another type (ip ↔ country), which Graph cannot change.
    #[error(
        "named location {id} has type {found} and the spec asks for {wanted}; Graph cannot change a location's type: delete it or rename the spec's location"
    )]
    TypeChanged {
        /// The tenant location.
        id: String,
        /// Its type.
        found: String,
        /// The spec's type.
        wanted: String,
    },
}

impl From<LocationError> for Failure {
    fn from(error: LocationError) -> Failure {
        let reason = match error {
            LocationError::DuplicateInTenant { .. } | LocationError::TypeChanged { .. } => {
                Reason::Conflict
            }
        };
        Failure::refused(reason, error.to_string())
    }
}

/// `ip`, `country` or the derived type as Graph names it.
fn type_word(location: &NamedLocation) -> String {
    match location.odata_type.as_deref() {
        Some(IP_NAMED_LOCATION_TYPE) => "ip".to_owned(),
        Some(COUNTRY_NAMED_LOCATION_TYPE) => "country".to_owned(),
        Some(other) => other.trim_start_matches("#microsoft.graph.").to_owned(),
        None => "untyped".to_owned(),
    }
}

/// The plan for `desired` given the tenant's locations (active and soft-deleted).
pub fn plan(
    desired: &NamedLocation,
    recorded_id: Option<&str>,
    active: &[NamedLocation],
    deleted: &[NamedLocation],
) -> Result<Plan, LocationError> {
    let found =
        tenant_object::find_with_deleted(recorded_id, &desired.display_name, active, deleted)
            .map_err(|d| LocationError::DuplicateInTenant {
                display_name: d.display_name,
                count: d.count,
                ids: d.ids,
            })?;
    if let Found::ById(observed) | Found::ByName(observed) | Found::Deleted(observed) = found
        && observed.odata_type != desired.odata_type
    {
        return Err(LocationError::TypeChanged {
            id: observed.id.clone().unwrap_or_default(),
            found: type_word(observed),
            wanted: type_word(desired),
        });
    }
    // Named locations are the same in v1.0 and beta; the deleted-items calls choose beta
    // themselves.
    Ok(tenant_object::plan(
        FIELDS,
        desired,
        ApiVersion::V1,
        found,
        false,
    ))
}

#[cfg(test)]
mod tests;
