//! Handlers of the Graph resources, one module per resource family. Each handler is a plain
//! synchronous function of the request context; the pipeline has already authenticated,
//! authorized and admitted the request.

pub(crate) mod authentication_strengths;
pub(crate) mod collection;
pub(crate) mod conditional_access;
pub(crate) mod devices;
pub(crate) mod groups;
pub(crate) mod risky_users;
pub(crate) mod role_templates;
pub(crate) mod service_principals;
pub(crate) mod sharepoint_settings;
pub(crate) mod store;
pub(crate) mod timeout_policies;
pub(crate) mod users;

use std::time::Instant;

use axum::http::Method;
use jiff::Timestamp;

use super::auth::Principal;
use super::error::GraphError;
use super::odata::{self, QueryOptions};
use super::pipeline::{ApiVersion, GraphRequest, GraphResponse};
use super::routes::Route;
use super::state::Settings;
use super::tenant::Tenant;

/// Everything a handler may use.
pub(crate) struct Ctx<'a> {
    pub tenant: &'a mut Tenant,
    pub settings: &'a Settings,
    pub req: &'a GraphRequest,
    pub query: &'a QueryOptions,
    pub principal: &'a Principal,
    /// Wall-clock time of the request (for timestamps in the tenant).
    pub now: Timestamp,
    /// Monotonic time of the request (for lag).
    pub instant: Instant,
}

impl Ctx<'_> {
    pub(crate) fn version(&self) -> ApiVersion {
        self.req.version
    }

    /// When an object written now becomes visible to reads (eventual consistency, `--lag`).
    pub(crate) fn visible_from(&self) -> Instant {
        self.instant + self.settings.config.lag
    }
}

/// A directory collection the simulator answers from memory: `$filter` on `filterable`,
/// `$select` among `properties` (all of them by default), `$count` with advanced query,
/// `$top` paging with next links (`concepts/paging.md`).
pub(crate) struct DirectoryCollection {
    /// The entity set (`groups`), for `@odata.context`.
    pub entity_set: &'static str,
    /// The entity type (`group`), as `$select` errors name it.
    pub type_name: &'static str,
    /// The type as `$filter` errors name it (`Group`).
    pub filter_type_name: &'static str,
    /// The properties a response has.
    pub properties: &'static [&'static str],
    /// The properties `$filter` takes.
    pub filterable: &'static [&'static str],
}

impl DirectoryCollection {
    /// The properties of a response: the checked `$select`ion or every default one.
    pub(crate) fn response_properties<'a>(
        &self,
        select: Option<&'a [String]>,
    ) -> Result<Vec<&'a str>, GraphError> {
        match select {
            Some(select) => {
                odata::check_select(select, self.properties, self.type_name)?;
                Ok(select.iter().map(String::as_str).collect())
            }
            None => Ok(self.properties.to_vec()),
        }
    }

    /// `GET` of the collection: the `items` that match the filter, as `property` renders them.
    pub(crate) fn list<'a, T: 'a>(
        &self,
        ctx: &Ctx<'_>,
        items: impl Iterator<Item = &'a T>,
        property: impl Fn(&T, &str) -> serde_json::Value,
    ) -> Result<GraphResponse, GraphError> {
        let query = ctx.query;
        query.check_count()?;
        if let Some(filter) = &query.filter {
            filter.check(self.filterable, self.filter_type_name, query.advanced())?;
        }
        let properties = self.response_properties(query.select.as_deref())?;
        let size = query.page_size(odata::DIRECTORY_DEFAULT_PAGE, odata::DIRECTORY_MAX_PAGE)?;
        let matching: Vec<&T> = items
            .filter(|item| {
                query
                    .filter
                    .as_ref()
                    .is_none_or(|f| f.matches(&|p| property(item, p)))
            })
            .collect();
        let count = query.advanced().then_some(matching.len());
        let page = odata::paginate(matching, query.offset, size);
        let values = page
            .items
            .iter()
            .map(|item| {
                let object: serde_json::Map<String, serde_json::Value> = properties
                    .iter()
                    .map(|name| ((*name).to_owned(), property(item, name)))
                    .collect();
                serde_json::Value::Object(object)
            })
            .collect();
        let next = page.next_offset.map(|n| odata::next_link(ctx.req, n));
        Ok(GraphResponse::ok(odata::collection_body(
            odata::context(
                ctx.version(),
                &odata::collection_fragment(self.entity_set, query.select.as_deref()),
            ),
            values,
            next,
            count,
        )))
    }
}

/// Routes an admitted request to its handler.
pub(crate) fn dispatch(ctx: &mut Ctx<'_>, route: &Route) -> Result<GraphResponse, GraphError> {
    let method = ctx.req.method.clone();
    use conditional_access::{named_locations, policies};
    match (route, method) {
        (Route::Users, _) => users::list(ctx),
        (Route::User(key), Method::GET) => users::get(ctx, key),
        (Route::User(key), _) => users::patch(ctx, key),
        (Route::UserRevokeSignInSessions(key), _) => users::revoke_sign_in_sessions(ctx, key),
        (Route::UserRegisteredDevices(key), _) => devices::list_registered(ctx, key),
        (Route::Device(key), Method::GET) => devices::get(ctx, key),
        (Route::Device(key), _) => devices::patch(ctx, key),
        (Route::Groups, _) => groups::list(ctx),
        (Route::Group(key), _) => groups::get(ctx, key),
        (Route::GroupTransitiveMembers(key, cast), _) => {
            groups::transitive_members(ctx, key, *cast)
        }
        (Route::CaPolicies, Method::GET) => policies::COLLECTION.list(ctx),
        (Route::CaPolicies, _) => policies::create(ctx),
        (Route::CaPolicy(id), Method::GET) => policies::COLLECTION.get(ctx, id),
        (Route::CaPolicy(id), Method::PATCH) => policies::update(ctx, id),
        (Route::CaPolicy(id), _) => policies::COLLECTION.delete(ctx, id),
        (Route::CaDeletedPolicies, _) => policies::COLLECTION.list_deleted(ctx),
        (Route::CaDeletedPolicy(id), Method::GET) => policies::COLLECTION.get_deleted(ctx, id),
        (Route::CaDeletedPolicy(id), _) => policies::COLLECTION.purge(ctx, id),
        (Route::CaDeletedPolicyRestore(id), _) => policies::COLLECTION.restore(ctx, id),
        (Route::NamedLocations, Method::GET) => named_locations::COLLECTION.list(ctx),
        (Route::NamedLocations, _) => named_locations::create(ctx),
        (Route::NamedLocation(id), Method::GET) => named_locations::COLLECTION.get(ctx, id),
        (Route::NamedLocation(id), Method::PATCH) => named_locations::update(ctx, id),
        (Route::NamedLocation(id), _) => named_locations::delete(ctx, id),
        (Route::DeletedNamedLocations, _) => named_locations::COLLECTION.list_deleted(ctx),
        (Route::DeletedNamedLocation(id), Method::GET) => {
            named_locations::COLLECTION.get_deleted(ctx, id)
        }
        (Route::DeletedNamedLocation(id), _) => named_locations::COLLECTION.purge(ctx, id),
        (Route::DeletedNamedLocationRestore(id), _) => named_locations::COLLECTION.restore(ctx, id),
        (Route::RoleTemplates, _) => role_templates::list(ctx),
        (Route::ServicePrincipals, _) => service_principals::list(ctx),
        (Route::RoleTemplate(id), _) => role_templates::get(ctx, id),
        (Route::RoleAssignments, _) => role_templates::list_assignments(ctx),
        (Route::AuthenticationStrengths, Method::GET) => {
            authentication_strengths::COLLECTION.list(ctx)
        }
        (Route::AuthenticationStrengths, _) => authentication_strengths::create(ctx),
        (Route::AuthenticationStrength(id), Method::GET) => {
            authentication_strengths::COLLECTION.get(ctx, id)
        }
        (Route::AuthenticationStrength(id), Method::PATCH) => {
            authentication_strengths::update(ctx, id)
        }
        (Route::AuthenticationStrength(id), _) => authentication_strengths::delete(ctx, id),
        (Route::AuthenticationStrengthUpdateAllowedCombinations(id), _) => {
            authentication_strengths::update_allowed_combinations(ctx, id)
        }
        (Route::CombinationConfigurations(id), Method::GET) => {
            authentication_strengths::list_configurations(ctx, id)
        }
        (Route::CombinationConfigurations(id), _) => {
            authentication_strengths::create_configuration(ctx, id)
        }
        (Route::CombinationConfiguration(id, configuration), Method::GET) => {
            authentication_strengths::get_configuration(ctx, id, configuration)
        }
        (Route::CombinationConfiguration(id, configuration), Method::PATCH) => {
            authentication_strengths::update_configuration(ctx, id, configuration)
        }
        (Route::CombinationConfiguration(id, configuration), _) => {
            authentication_strengths::delete_configuration(ctx, id, configuration)
        }
        (Route::TimeoutPolicies, Method::GET) => timeout_policies::COLLECTION.list(ctx),
        (Route::TimeoutPolicies, _) => timeout_policies::create(ctx),
        (Route::TimeoutPolicy(id), Method::GET) => timeout_policies::COLLECTION.get(ctx, id),
        (Route::TimeoutPolicy(id), Method::PATCH) => timeout_policies::update(ctx, id),
        (Route::TimeoutPolicy(id), _) => timeout_policies::COLLECTION.delete_permanently(ctx, id),
        (Route::SharePointSettings, Method::GET) => sharepoint_settings::get(ctx),
        (Route::SharePointSettings, _) => sharepoint_settings::update(ctx),
        (Route::RiskyUsers, _) => risky_users::list(ctx),
        (Route::RiskyUser(id), _) => risky_users::get(ctx, id),
        (Route::RiskyUsersConfirmCompromised, _) => risky_users::confirm_compromised(ctx),
        (Route::RiskyUsersDismiss, _) => risky_users::dismiss(ctx),
        // The pipeline answers nested batches before dispatch.
        (Route::Batch, _) => Err(GraphError::bad_request(
            "A $batch request cannot contain another $batch request.",
        )),
    }
}
