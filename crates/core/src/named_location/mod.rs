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

use crate::directory::resolve::NameKind;
use crate::failure::Failure;
use crate::session_policy::sync::refuse_while_used;
use crate::status::Reason;
use crate::tenant_object::io::{self, Applied, DeletedItems, Endpoints, TenantObjects};
use crate::tenant_object::kind::{Managed, ManagedNames, SeamKind};
use crate::tenant_object::{self, Field, Found, Plan, TenantObject};
use sessionops_api::{
    CountryLookup, DeletionPolicy, Kind, NamedLocationSpec, ProtectedPrincipals, TenantRef,
};
use sessionops_graph::models::{
    COUNTRY_NAMED_LOCATION_TYPE, CountryLookupMethod, IP_NAMED_LOCATION_TYPE, IPV4_CIDR_RANGE_TYPE,
    IPV6_CIDR_RANGE_TYPE, IpRange, NamedLocation,
};
use sessionops_graph::{ApiVersion, GraphClient, GraphError, GraphRequest, paths};

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
    /// Another NamedLocation manages the same display name.
    #[error(
        "displayName {display_name:?} is also claimed by {other}; one named location per displayName"
    )]
    Conflict {
        /// The contested name.
        display_name: String,
        /// The other object (`namespace/name`).
        other: String,
    },
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
            LocationError::Conflict { .. }
            | LocationError::DuplicateInTenant { .. }
            | LocationError::TypeChanged { .. } => Reason::Conflict,
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

pub mod export;
#[cfg(test)]
mod tests;

crate::seam_status!(sessionops_api::NamedLocationStatus, location_id);

/// The tenant's named locations as one LIST returned them.
pub type TenantLocations = TenantObjects<NamedLocation>;

/// What planning the NamedLocations of one tenant needs: one LIST of the locations, and the
/// soft-deleted ones when a managed location is missing.
#[derive(Clone, Debug, Default)]
pub struct LocationRead {
    /// The tenant's locations.
    pub locations: TenantLocations,
    /// Whether deleted items were read.
    pub deleted_read: bool,
}

fn is_missing(m: &Managed<sessionops_api::NamedLocation>, tenant: &TenantLocations) -> bool {
    matches!(
        tenant_object::find(m.recorded_id(), &m.display_name(), &tenant.active),
        Ok(Found::Missing)
    )
}

impl SeamKind for sessionops_api::NamedLocation {
    type Spec = NamedLocationSpec;
    type Status = sessionops_api::NamedLocationStatus;
    type Desired = NamedLocation;
    type Error = LocationError;
    type Read = LocationRead;

    const KIND: Kind = Kind::NamedLocation;
    const NOUN: &'static str = "named location";
    const FINALIZER: &'static str = "sessionops.io/tenant-named-location";

    fn spec(&self) -> &NamedLocationSpec {
        &self.spec
    }

    fn status(&self) -> Option<&sessionops_api::NamedLocationStatus> {
        self.status.as_ref()
    }

    fn tenant_ref(spec: &NamedLocationSpec) -> &TenantRef {
        &spec.tenant_ref
    }

    fn deletion_policy(spec: &NamedLocationSpec) -> DeletionPolicy {
        spec.deletion_policy
    }

    fn display_name(spec: &NamedLocationSpec, namespace: &str, name: &str) -> String {
        spec.display_name
            .clone()
            .unwrap_or_else(|| default_display_name(namespace, name))
    }

    fn referred_as() -> Option<NameKind> {
        Some(NameKind::Location)
    }

    fn conflict(display_name: String, other: String) -> LocationError {
        LocationError::Conflict {
            display_name,
            other,
        }
    }

    async fn read(
        client: &GraphClient,
        _: &ProtectedPrincipals,
        managed: &[Managed<Self>],
    ) -> Result<LocationRead, Failure> {
        let mut locations = io::read(client, &ENDPOINTS, false).await?;
        let deleted_read = managed.iter().any(|m| is_missing(m, &locations));
        if deleted_read {
            io::read_deleted(client, &ENDPOINTS, &mut locations).await?;
        }
        Ok(LocationRead {
            locations,
            deleted_read,
        })
    }

    fn serves(read: &LocationRead, _: &ProtectedPrincipals, target: &Managed<Self>) -> bool {
        read.deleted_read || !is_missing(target, &read.locations)
    }

    fn plan(
        read: &LocationRead,
        target: &Managed<Self>,
        _: &ManagedNames,
    ) -> (Option<NamedLocation>, Result<Plan, LocationError>) {
        let desired = desired_location(&target.spec, &target.namespace, &target.name);
        let plan = plan(
            &desired,
            target.recorded_id(),
            &read.locations.active,
            &read.locations.deleted,
        );
        (Some(desired), plan)
    }

    async fn apply(client: &GraphClient, plan: &Plan) -> Result<Applied, GraphError> {
        io::apply(client, &ENDPOINTS, plan).await
    }

    fn record(read: &mut LocationRead, plan: &Plan, applied: &Applied) -> bool {
        read.locations.record(plan, applied)
    }

    /// Refused while a Conditional Access policy still names the location (Graph refuses it
    /// too, see [`refuse_while_used`]). A
    /// trusted location is marked untrusted first: entra-docs
    /// `identity/conditional-access/concept-assignment-network.md` says a trusted location
    /// cannot be deleted until it is no longer trusted.
    async fn delete(client: &GraphClient, id: &str) -> Result<(), Failure> {
        refuse_while_used(
            client,
            |p| {
                p.conditions.locations.as_ref().is_some_and(|l| {
                    l.include_locations
                        .iter()
                        .chain(&l.exclude_locations)
                        .any(|l| l.eq_ignore_ascii_case(id))
                })
            },
            |users| {
                format!(
                    "named location {id} is still used by Conditional Access {users}: remove it from them first (it is deleted once no policy names it)"
                )
            },
        )
        .await?;
        let current: NamedLocation = match client
            .send_json(GraphRequest::get(&paths::named_location(id)))
            .await
        {
            Ok(location) => location,
            Err(GraphError::NotFound { .. }) => return Ok(()),
            Err(error) => return Err(error.into()),
        };
        if current.is_trusted == Some(true) {
            let mut untrust = current.patch_header();
            untrust.insert("isTrusted".to_owned(), json!(false));
            client
                .send(GraphRequest::patch(
                    &paths::named_location(id),
                    Value::Object(untrust),
                ))
                .await?;
        }
        Ok(io::delete(client, &ENDPOINTS, id).await?)
    }

    fn forget(read: &mut LocationRead, id: &str) {
        read.locations.forget(id);
    }
}
