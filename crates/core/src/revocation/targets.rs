//! Who a RevocationRequest acts on: users by UPN or id, groups (transitive members) or every
//! user, de-duplicated, sorted by id (the order the schedule relies on), protected users removed.

use std::collections::BTreeSet;

use futures::TryStreamExt;

use super::RevocationError;
use crate::directory;
use crate::directory::resolve::{NameKind, NameRequests, Resolution, is_object_id};
use sessionops_api::{ProtectedPrincipals, RevocationTargets};
use sessionops_graph::models::{Page, User};
use sessionops_graph::{GraphClient, GraphError, GraphRequest, paths};

const SELECT: &str =
    "id,userPrincipalName,userType,onPremisesSyncEnabled,creationType,externalUserState";

/// One user to act on.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Target {
    /// Object id (the sort key).
    pub id: String,
    /// UPN, for reports.
    pub upn: String,
    /// An external user: signs in at a home tenant elsewhere (B2B), so revoking here does not
    /// reach their sessions. Internal guests (local accounts with userType Guest) are not.
    pub external: bool,
    /// Synced from on-premises AD.
    pub synced: bool,
}

impl Target {
    fn from_user(user: &User) -> Target {
        Target {
            upn: user
                .user_principal_name
                .clone()
                .unwrap_or_else(|| user.id.clone()),
            id: user.id.to_lowercase(),
            external: user.is_external(),
            synced: user.is_synced(),
        }
    }
}

/// The resolved target set.
#[derive(Clone, Debug, Default)]
pub struct Resolved {
    /// Targets sorted by id, protected ones removed.
    pub targets: Vec<Target>,
    /// Distinct users left alone because the connection protects them.
    pub skipped_protected: i64,
}

/// Where the users of a run come from: a RevocationRequest's `targets` today; risky users or
/// sign-in logs (a standing response to risk) can be other sources of the same engine.
#[async_trait::async_trait]
pub trait TargetSource: Sync {
    /// Every user the source names, in any order and possibly twice (the engine sorts and
    /// de-duplicates). Names that match nothing go to `missing`: they fail the run before
    /// anything is written.
    async fn users(
        &self,
        client: &GraphClient,
        missing: &mut Vec<String>,
    ) -> Result<Vec<Target>, GraphError>;
}

/// Users by UPN or id, groups by name or id (transitive user members), or all users.
#[async_trait::async_trait]
impl TargetSource for RevocationTargets {
    async fn users(
        &self,
        client: &GraphClient,
        missing: &mut Vec<String>,
    ) -> Result<Vec<Target>, GraphError> {
        // A Vec, sorted and de-duplicated once at the end: for 100,000 members it needs about
        // half the memory of a map keyed by id (the operator memory benchmark measures this).
        let mut found: Vec<Target> = Vec::new();
        if self.all_users {
            collect(
                &mut found,
                client.pages::<User>(
                    GraphRequest::get(paths::USERS)
                        .query("$select", SELECT)
                        .query("$top", "999"),
                ),
            )
            .await?;
        }
        found.extend(lookup_users(client, &self.users, missing).await?);
        for group in group_ids(client, &self.groups, missing).await? {
            collect_members(&mut found, client, &group).await?;
        }
        Ok(found)
    }
}

/// Resolves the users of `source`, de-duplicated and sorted by id, protected users removed and
/// counted. Unknown names (of the source or of the protected principals) fail the request.
pub async fn resolve_targets(
    client: &GraphClient,
    source: &dyn TargetSource,
    protected: &ProtectedPrincipals,
) -> Result<Resolved, RevocationError> {
    let mut missing = Vec::new();
    let mut found = source.users(client, &mut missing).await?;
    if !missing.is_empty() {
        return Err(RevocationError::TargetNotFound(missing));
    }
    // Protected principals: an unresolvable one is an error, never a silent gap.
    let mut protected_missing = Vec::new();
    let mut protected_ids: BTreeSet<String> =
        lookup_users(client, &protected.users, &mut protected_missing)
            .await?
            .into_iter()
            .map(|t| t.id)
            .collect();
    let mut protected_members = Vec::new();
    for group in group_ids(client, &protected.groups, &mut protected_missing).await? {
        collect_members(&mut protected_members, client, &group).await?;
    }
    if !protected_missing.is_empty() {
        return Err(RevocationError::TargetNotFound(
            protected_missing
                .into_iter()
                .map(|m| format!("protected {m}"))
                .collect(),
        ));
    }
    protected_ids.extend(protected_members.into_iter().map(|t| t.id));
    // Sorted by id: the resume cursor relies on this order.
    found.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    found.dedup_by(|a, b| a.id == b.id);
    let before = found.len();
    found.retain(|t| !protected_ids.contains(&t.id));
    found.shrink_to_fit();
    Ok(Resolved {
        skipped_protected: (before - found.len()) as i64,
        targets: found,
    })
}

async fn lookup_users(
    client: &GraphClient,
    names: &[String],
    missing: &mut Vec<String>,
) -> Result<Vec<Target>, GraphError> {
    let mut users = Vec::new();
    for (property, wanted) in [
        (
            "id",
            names.iter().filter(|n| is_object_id(n)).collect::<Vec<_>>(),
        ),
        (
            "userPrincipalName",
            names.iter().filter(|n| !is_object_id(n)).collect(),
        ),
    ] {
        let values: Vec<&str> = wanted.iter().map(|s| s.as_str()).collect();
        let got: Vec<User> =
            directory::filter_in(client, paths::USERS, property, &values, SELECT).await?;
        for name in wanted {
            match got.iter().find(|u| {
                if property == "id" {
                    u.id.eq_ignore_ascii_case(name)
                } else {
                    u.user_principal_name
                        .as_deref()
                        .is_some_and(|p| p.eq_ignore_ascii_case(name))
                }
            }) {
                Some(u) => users.push(Target::from_user(u)),
                None => missing.push(format!("user:{name}")),
            }
        }
    }
    Ok(users)
}

async fn group_ids(
    client: &GraphClient,
    names: &[String],
    missing: &mut Vec<String>,
) -> Result<Vec<String>, GraphError> {
    let mut requests = NameRequests::default();
    for name in names {
        requests.add(NameKind::Group, name, &[]);
    }
    let resolutions = directory::resolve(client, &requests).await?;
    let mut ids = Vec::new();
    for name in names {
        if is_object_id(name) {
            ids.push(name.to_lowercase());
            continue;
        }
        match resolutions.get(NameKind::Group, name) {
            Some(Resolution::Id(id)) => ids.push(id.clone()),
            Some(Resolution::Ambiguous(_)) => missing.push(format!(
                "group:{name} (several groups have this name: use the id)"
            )),
            _ => missing.push(format!("group:{name}")),
        }
    }
    Ok(ids)
}

async fn collect_members(
    found: &mut Vec<Target>,
    client: &GraphClient,
    group: &str,
) -> Result<(), GraphError> {
    let request = GraphRequest::get(&paths::transitive_user_members(group))
        .query("$select", SELECT)
        .query("$top", "999")
        .advanced_query();
    match collect(found, client.pages::<User>(request)).await {
        Err(GraphError::NotFound { .. }) if is_object_id(group) => Err(GraphError::NotFound {
            code: "Request_ResourceNotFound".into(),
            message: format!("group {group} does not exist"),
            ids: Default::default(),
        }),
        other => other,
    }
}

async fn collect<T, S>(found: &mut Vec<Target>, pages: S) -> Result<(), GraphError>
where
    S: futures::Stream<Item = Result<Page<T>, GraphError>>,
    T: Into<Target>,
{
    let mut pages = std::pin::pin!(pages);
    while let Some(page) = pages.try_next().await? {
        found.extend(page.value.into_iter().map(Into::into));
    }
    Ok(())
}

impl From<User> for Target {
    fn from(u: User) -> Target {
        Target::from_user(&u)
    }
}
