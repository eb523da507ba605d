//! Resolving names against the tenant (the IO half of [`crate::directory::resolve`]): users by UPN,
//! groups by display name, role templates, named locations and authentication strengths by
//! display name. Lookups are
//! grouped (`$filter ... in (...)` in `$batch`es, one list for roles and one for locations)
//! so that resolving a hundred policies costs a handful of requests.

pub mod resolve;

use std::collections::BTreeMap;

use futures::TryStreamExt;
use sessionops_graph::{Method, paths};

use crate::directory::resolve::{NameKind, NameRequests, Resolution, Resolutions, is_object_id};
use sessionops_graph::models::{
    AuthenticationStrengthPolicy, ConditionalAccessPolicy, DirectoryRoleTemplate, Group,
    NamedLocation, Page, ServicePrincipal, User,
};
use sessionops_graph::{ApiVersion, BatchItem, GraphClient, GraphError, GraphRequest};

/// Values per `in (...)` filter: Graph caps the number of expressions in one `$filter`.
const FILTER_VALUES: usize = 15;

/// Resolves every requested name. Names that match nothing are recorded as missing; names
/// shared by several objects as ambiguous. Errors are Graph failures only.
pub async fn resolve(
    client: &GraphClient,
    requests: &NameRequests,
) -> Result<Resolutions, GraphError> {
    let mut resolutions = Resolutions::default();
    let users: Vec<&str> = requests.of(NameKind::User).collect();
    let found = filter_in::<User>(
        client,
        paths::USERS,
        "userPrincipalName",
        &users,
        "id,userPrincipalName",
    )
    .await?;
    record(
        &mut resolutions,
        NameKind::User,
        &users,
        found.iter().map(|u| {
            (
                u.user_principal_name.clone().unwrap_or_default(),
                u.id.clone(),
            )
        }),
    );

    let groups: Vec<&str> = requests.of(NameKind::Group).collect();
    let found = filter_in::<Group>(
        client,
        paths::GROUPS,
        "displayName",
        &groups,
        "id,displayName",
    )
    .await?;
    record(
        &mut resolutions,
        NameKind::Group,
        &groups,
        found
            .iter()
            .map(|g| (g.display_name.clone().unwrap_or_default(), g.id.clone())),
    );

    let roles: Vec<&str> = requests.of(NameKind::Role).collect();
    if !roles.is_empty() {
        let templates: Vec<DirectoryRoleTemplate> = client.list_all(role_templates()).await?;
        record(
            &mut resolutions,
            NameKind::Role,
            &roles,
            templates.into_iter().map(|t| (t.display_name, t.id)),
        );
    }

    // One lookup for both: an application is named by its service principal's display name.
    let mut principals: Vec<&str> = requests
        .of(NameKind::Application)
        .chain(requests.of(NameKind::ServicePrincipal))
        .collect();
    principals.sort_unstable();
    principals.dedup();
    let found = filter_in::<ServicePrincipal>(
        client,
        paths::SERVICE_PRINCIPALS,
        "displayName",
        &principals,
        "id,appId,displayName",
    )
    .await?;
    let apps: Vec<&str> = requests.of(NameKind::Application).collect();
    record(
        &mut resolutions,
        NameKind::Application,
        &apps,
        found
            .iter()
            .filter_map(|sp| Some((sp.display_name.clone()?, sp.app_id.clone()?.to_lowercase()))),
    );
    let workloads: Vec<&str> = requests.of(NameKind::ServicePrincipal).collect();
    record(
        &mut resolutions,
        NameKind::ServicePrincipal,
        &workloads,
        found
            .iter()
            .filter_map(|sp| Some((sp.display_name.clone()?, sp.id.to_lowercase()))),
    );

    let strengths: Vec<&str> = requests.of(NameKind::AuthenticationStrength).collect();
    if !strengths.is_empty() {
        let all: Vec<AuthenticationStrengthPolicy> = client
            .list_all(GraphRequest::get(paths::AUTHENTICATION_STRENGTH_POLICIES))
            .await?;
        record(
            &mut resolutions,
            NameKind::AuthenticationStrength,
            &strengths,
            all.into_iter().map(|s| (s.display_name, s.id)),
        );
    }

    let locations: Vec<&str> = requests.of(NameKind::Location).collect();
    if !locations.is_empty() {
        let named: Vec<NamedLocation> = client
            .list_all(GraphRequest::get(paths::NAMED_LOCATIONS))
            .await?;
        record(
            &mut resolutions,
            NameKind::Location,
            &locations,
            named
                .into_iter()
                .filter_map(|l| l.id.map(|id| (l.display_name, id))),
        );
    }
    Ok(resolutions)
}

/// Looks up `values` of `property` with `$filter=property in (...)`, 15 values per filter,
/// the filters sent together in `$batch`es.
pub(crate) async fn filter_in<T>(
    client: &GraphClient,
    collection: &str,
    property: &str,
    values: &[&str],
    select: &str,
) -> Result<Vec<T>, GraphError>
where
    T: serde::de::DeserializeOwned + Send + 'static,
{
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let items: Vec<BatchItem> = values
        .chunks(FILTER_VALUES)
        .enumerate()
        .map(|(index, chunk)| {
            let quoted: Vec<String> = chunk
                .iter()
                .map(|v| format!("'{}'", v.replace('\'', "''")))
                .collect();
            let filter = format!("{property} in ({})", quoted.join(","));
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("$filter", &filter)
                .append_pair("$select", select)
                .append_pair("$top", "999")
                .finish();
            BatchItem::new(
                index.to_string(),
                Method::GET,
                format!("{collection}?{query}"),
            )
        })
        .collect();
    let mut found = Vec::new();
    for (item, response) in items
        .iter()
        .zip(client.batch(ApiVersion::V1, items.clone(), 4).await?)
    {
        if let Some(error) = response.error(item) {
            return Err(error);
        }
        let page: Page<T> = serde_json::from_value(response.body.clone().unwrap_or_default())
            .map_err(|e| GraphError::Protocol {
                detail: format!("{collection} lookup: {e}"),
                ids: response.batch_ids.clone(),
            })?;
        found.extend(page.value);
        // 15 values never fill a 999-item page, except for display names shared by hundreds
        // of groups: follow the link then.
        if let Some(link) = page.next_link {
            let rest: Vec<Page<T>> = client
                .pages(GraphRequest::next_link(&link, ApiVersion::V1))
                .try_collect()
                .await?;
            found.extend(rest.into_iter().flat_map(|p| p.value));
        }
    }
    Ok(found)
}

fn record(
    resolutions: &mut Resolutions,
    kind: NameKind,
    wanted: &[&str],
    found: impl Iterator<Item = (String, String)>,
) {
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, id) in found {
        by_name.entry(name.to_lowercase()).or_default().push(id);
    }
    for name in wanted {
        let resolution = match by_name.get(&name.to_lowercase()).map(Vec::as_slice) {
            None | Some([]) => Resolution::Missing,
            Some([id]) => Resolution::Id(id.clone()),
            Some(ids) => Resolution::Ambiguous(ids.to_vec()),
        };
        resolutions.insert(kind, name, resolution);
    }
}

/// Ids found in exported policies, by kind, that need a lookup to be named (named locations
/// and strengths are named from the export's own LISTs).
#[derive(Clone, Debug, Default)]
pub struct IdRequests {
    /// User ids.
    pub users: std::collections::BTreeSet<String>,
    /// Group ids.
    pub groups: std::collections::BTreeSet<String>,
    /// Role template ids.
    pub roles: std::collections::BTreeSet<String>,
    /// Application (client) ids of included and excluded apps.
    pub applications: std::collections::BTreeSet<String>,
    /// Service principal object ids of workload-identity conditions.
    pub service_principals: std::collections::BTreeSet<String>,
}

impl IdRequests {
    /// The ids `policies` refer to that an export should name.
    pub fn of_policies(policies: &[ConditionalAccessPolicy]) -> IdRequests {
        let mut ids = IdRequests::default();
        for policy in policies {
            if let Some(users) = &policy.conditions.users {
                let user_ids = users.include_users.iter().chain(&users.exclude_users);
                ids.users
                    .extend(user_ids.filter(|u| is_object_id(u)).cloned());
                let groups = users.include_groups.iter().chain(&users.exclude_groups);
                ids.groups.extend(groups.cloned());
                let roles = users.include_roles.iter().chain(&users.exclude_roles);
                ids.roles.extend(roles.cloned());
            }
            if let Some(apps) = &policy.conditions.applications {
                let app_ids = apps
                    .include_applications
                    .iter()
                    .chain(&apps.exclude_applications);
                ids.applications.extend(
                    app_ids
                        .filter(|a| is_object_id(a))
                        .map(|a| a.to_lowercase()),
                );
            }
            if let Some(clients) = &policy.conditions.client_applications {
                let principal_ids = clients
                    .include_service_principals
                    .iter()
                    .chain(&clients.exclude_service_principals);
                ids.service_principals.extend(
                    principal_ids
                        .filter(|p| is_object_id(p))
                        .map(|p| p.to_lowercase()),
                );
            }
        }
        ids
    }
}

/// Names for ids, kept only where the name resolves back to that same id (unique names), so an
/// exported manifest plans to exactly the policy it came from. Named locations and
/// authentication strengths come from the caller, who has read them whole to export them too.
pub async fn names_for_ids(
    client: &GraphClient,
    ids: &IdRequests,
    locations: &[NamedLocation],
    strengths: &[AuthenticationStrengthPolicy],
) -> Result<crate::session_policy::export::IdNames, GraphError> {
    let mut names = crate::session_policy::export::IdNames::default();
    let users: Vec<&str> = ids.users.iter().map(String::as_str).collect();
    for user in
        filter_in::<User>(client, paths::USERS, "id", &users, "id,userPrincipalName").await?
    {
        if let Some(upn) = user.user_principal_name {
            names.insert(NameKind::User, &user.id, &upn);
        }
    }
    let group_ids: Vec<&str> = ids.groups.iter().map(String::as_str).collect();
    let groups =
        filter_in::<Group>(client, paths::GROUPS, "id", &group_ids, "id,displayName").await?;
    let app_ids: Vec<&str> = ids.applications.iter().map(String::as_str).collect();
    let apps = filter_in::<ServicePrincipal>(
        client,
        paths::SERVICE_PRINCIPALS,
        "appId",
        &app_ids,
        "id,appId,displayName",
    )
    .await?;
    let principal_ids: Vec<&str> = ids.service_principals.iter().map(String::as_str).collect();
    let principals = filter_in::<ServicePrincipal>(
        client,
        paths::SERVICE_PRINCIPALS,
        "id",
        &principal_ids,
        "id,appId,displayName",
    )
    .await?;
    // A display name stands for an id only if it resolves back to that id (display names are
    // not unique): every candidate name is looked up in one resolution.
    let candidates = [
        (
            NameKind::Group,
            groups
                .iter()
                .map(|g| (g.id.clone(), g.display_name.clone()))
                .collect::<Vec<_>>(),
        ),
        (
            NameKind::Application,
            apps.iter()
                .filter_map(|sp| Some((sp.app_id.clone()?.to_lowercase(), sp.display_name.clone())))
                .collect(),
        ),
        (
            NameKind::ServicePrincipal,
            principals
                .iter()
                .map(|sp| (sp.id.to_lowercase(), sp.display_name.clone()))
                .collect(),
        ),
    ];
    let mut requests = NameRequests::default();
    for (kind, found) in &candidates {
        for name in found.iter().filter_map(|(_, name)| name.as_deref()) {
            requests.add(*kind, name, &[]);
        }
    }
    let back = resolve(client, &requests).await?;
    for (kind, found) in &candidates {
        for (id, name) in found {
            if let Some(name) = name
                && back.get(*kind, name) == Some(&Resolution::Id(id.clone()))
            {
                names.insert(*kind, id, name);
            }
        }
    }
    if !ids.roles.is_empty() {
        let templates: Vec<DirectoryRoleTemplate> = client.list_all(role_templates()).await?;
        unique_names(
            &mut names,
            NameKind::Role,
            templates.into_iter().map(|t| (t.id, t.display_name)),
        );
    }
    unique_names(
        &mut names,
        NameKind::AuthenticationStrength,
        strengths
            .iter()
            .map(|s| (s.id.clone(), s.display_name.clone())),
    );
    unique_names(
        &mut names,
        NameKind::Location,
        locations
            .iter()
            .filter_map(|l| Some((l.id.clone()?, l.display_name.clone()))),
    );
    Ok(names)
}

fn unique_names(
    names: &mut crate::session_policy::export::IdNames,
    kind: NameKind,
    all: impl Iterator<Item = (String, String)>,
) {
    let all: Vec<(String, String)> = all.collect();
    for (id, name) in &all {
        if all
            .iter()
            .filter(|(_, other)| other.eq_ignore_ascii_case(name))
            .count()
            == 1
        {
            names.insert(kind, id, name);
        }
    }
}

/// All directory role templates. `directoryroletemplate-list.md`: "This method does not
/// support the OData Query Parameters", so no `$select`.
fn role_templates() -> GraphRequest {
    GraphRequest::get(paths::ROLE_TEMPLATES)
}
