//! Groups (`group-list-transitivemembers.md`, `concepts/aad-advanced-queries.md`): list by `$filter`, get, and `transitiveMembers` with the OData cast
//! segments, which require advanced query.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::users;
use super::{Ctx, DirectoryCollection};
use crate::error::GraphError;
use crate::odata::{self, DIRECTORY_DEFAULT_PAGE, DIRECTORY_MAX_PAGE};
use crate::pipeline::GraphResponse;
use crate::routes::Cast;
use crate::time;

pub(crate) const PROPERTIES: &[&str] = &[
    "id",
    "createdDateTime",
    "deletedDateTime",
    "description",
    "displayName",
    "groupTypes",
    "mail",
    "mailEnabled",
    "mailNickname",
    "securityEnabled",
    "visibility",
];

const FILTERABLE: &[&str] = &[
    "id",
    "displayName",
    "mailNickname",
    "mailEnabled",
    "securityEnabled",
];

/// A direct member.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Member {
    User(String),
    Group(String),
}

#[derive(Clone, Debug)]
pub(crate) struct Group {
    pub id: String,
    pub display_name: String,
    pub description: Option<String>,
    pub created: Timestamp,
    pub members: Vec<Member>,
}

impl Group {
    fn mail_nickname(&self) -> String {
        self.display_name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }

    pub(crate) fn property(&self, name: &str) -> Value {
        match name {
            "id" => json!(self.id),
            "createdDateTime" => json!(time::seconds(self.created)),
            "description" => json!(self.description),
            "displayName" => json!(self.display_name),
            "groupTypes" => json!([]),
            "mailEnabled" => json!(false),
            "mailNickname" => json!(self.mail_nickname()),
            "securityEnabled" => json!(true),
            _ => Value::Null,
        }
    }

    pub(crate) fn to_json(&self, properties: &[&str]) -> Value {
        let mut object = Map::new();
        for name in properties {
            object.insert((*name).to_owned(), self.property(name));
        }
        Value::Object(object)
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Groups {
    list: Vec<Group>,
    by_id: HashMap<String, usize>,
}

impl Groups {
    pub(crate) fn insert(&mut self, group: Group) -> Result<(), String> {
        let id = group.id.to_ascii_lowercase();
        if self.by_id.contains_key(&id) {
            return Err(format!("duplicate group id {}", group.id));
        }
        self.by_id.insert(id, self.list.len());
        self.list.push(group);
        Ok(())
    }

    pub(crate) fn find(&self, id: &str) -> Option<&Group> {
        self.by_id
            .get(&id.to_ascii_lowercase())
            .map(|i| &self.list[*i])
    }

    pub(crate) fn find_by_name(&self, name: &str) -> Option<&Group> {
        self.list
            .iter()
            .find(|g| g.display_name.eq_ignore_ascii_case(name))
    }

    pub(crate) fn find_by_name_mut(&mut self, name: &str) -> Option<&mut Group> {
        self.list
            .iter_mut()
            .find(|g| g.display_name.eq_ignore_ascii_case(name))
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Group> {
        self.list.iter()
    }

    /// Every member reachable from `id`, each once, nested groups included and expanded, in
    /// depth-first order of the member lists. Borrowed: paging a 100,000-member group walks it
    /// once per page, so the walk must not copy ids.
    pub(crate) fn transitive_members(&self, id: &str) -> Vec<&Member> {
        let Some(group) = self.find(id) else {
            return Vec::new();
        };
        // Member lists hold each member once, so without nesting there is nothing to merge.
        if !group.members.iter().any(|m| matches!(m, Member::Group(_))) {
            return group.members.iter().collect();
        }
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut visited_groups = HashSet::from([group.id.as_str()]);
        self.walk(group, &mut out, &mut seen, &mut visited_groups);
        out
    }

    fn walk<'g>(
        &'g self,
        group: &'g Group,
        out: &mut Vec<&'g Member>,
        seen: &mut HashSet<&'g Member>,
        visited_groups: &mut HashSet<&'g str>,
    ) {
        for member in &group.members {
            if seen.insert(member) {
                out.push(member);
            }
            if let Member::Group(nested) = member
                && let Some(nested) = self.find(nested)
                && visited_groups.insert(nested.id.as_str())
            {
                self.walk(nested, out, seen, visited_groups);
            }
        }
    }
}

/// `/groups` as a directory collection.
const COLLECTION: DirectoryCollection = DirectoryCollection {
    entity_set: "groups",
    type_name: "group",
    filter_type_name: "Group",
    properties: PROPERTIES,
    filterable: FILTERABLE,
};

/// `GET /groups`.
pub(crate) fn list(ctx: &mut Ctx<'_>) -> Result<GraphResponse, GraphError> {
    COLLECTION.list(ctx, ctx.tenant.groups.iter(), Group::property)
}

/// `GET /groups/{id}`.
pub(crate) fn get(ctx: &mut Ctx<'_>, id: &str) -> Result<GraphResponse, GraphError> {
    let properties = COLLECTION.response_properties(ctx.query.select.as_deref())?;
    let group = ctx
        .tenant
        .groups
        .find(id)
        .ok_or_else(|| GraphError::not_found(id))?;
    Ok(GraphResponse::ok(odata::entity_body(
        odata::context(
            ctx.version(),
            &odata::entity_fragment("groups", ctx.query.select.as_deref()),
        ),
        group.to_json(&properties),
    )))
}

/// `GET /groups/{id}/transitiveMembers[/microsoft.graph.user]`.
pub(crate) fn transitive_members(
    ctx: &mut Ctx<'_>,
    id: &str,
    cast: Option<Cast>,
) -> Result<GraphResponse, GraphError> {
    let query = ctx.query;
    query.check_count()?;
    if cast.is_some() && !query.advanced() {
        // `group-list-transitivemembers.md`: the cast segment on transitive members is an advanced query.
        return Err(GraphError::request_bad_request(
            "The OData cast on transitiveMembers requires advanced query capabilities: send the header 'ConsistencyLevel: eventual' and the query option '$count=true'.",
        ));
    }
    if query.filter.is_some() && !query.advanced() {
        return Err(GraphError::unsupported_query(
            "Unsupported Query. $filter on transitiveMembers needs 'ConsistencyLevel: eventual' and '$count=true'.",
        ));
    }
    let select = query.select.as_deref();
    if let Some(select) = select {
        let known: Vec<&str> = users::PROPERTIES
            .iter()
            .chain(PROPERTIES)
            .chain(super::devices::PROPERTIES)
            .copied()
            .collect();
        odata::check_select(select, &known, "directoryObject")?;
    }
    let user_properties: Vec<&str> = match select {
        Some(s) => s
            .iter()
            .map(String::as_str)
            .filter(|p| users::PROPERTIES.contains(p))
            .collect(),
        None => users::response_properties(ctx)?,
    };
    let size = query.page_size(DIRECTORY_DEFAULT_PAGE, DIRECTORY_MAX_PAGE)?;
    let tenant = &*ctx.tenant;
    let group = tenant
        .groups
        .find(id)
        .ok_or_else(|| GraphError::not_found(id))?;
    let now = ctx.instant;
    let group_properties: Vec<&str> = match select {
        Some(s) => s
            .iter()
            .map(String::as_str)
            .filter(|p| PROPERTIES.contains(p))
            .collect(),
        None => PROPERTIES.to_vec(),
    };
    let render = |member: &&Member| -> Value {
        let (mut object, odata_type) = match *member {
            Member::User(id) => (
                tenant
                    .users
                    .find(id)
                    .map_or(Value::Null, |u| u.to_json(&user_properties, now)),
                "#microsoft.graph.user",
            ),
            Member::Group(id) => (
                tenant
                    .groups
                    .find(id)
                    .map_or(Value::Null, |g| g.to_json(&group_properties)),
                "#microsoft.graph.group",
            ),
        };
        if let Value::Object(fields) = &mut object {
            fields.insert("@odata.type".into(), json!(odata_type));
        }
        object
    };
    let members: Vec<&Member> = tenant
        .groups
        .transitive_members(&group.id)
        .into_iter()
        .filter(|member| {
            matches!(
                (member, cast),
                (_, None)
                    | (Member::User(_), Some(Cast::User))
                    | (Member::Group(_), Some(Cast::Group))
            )
        })
        .collect();
    // Only the page is rendered, unless a filter has to look at every object: paging through
    // a group of 100,000 members must not render all of them for every page.
    let (count, page) = match &query.filter {
        None => {
            let count = query.advanced().then_some(members.len());
            let page = odata::paginate(members, query.offset, size);
            let items = page.items.iter().map(render).collect();
            (
                count,
                odata::Page {
                    items,
                    next_offset: page.next_offset,
                },
            )
        }
        Some(filter) => {
            let objects: Vec<Value> = members
                .iter()
                .map(render)
                .filter(|o| filter.matches(&|p| o.get(p).cloned().unwrap_or(Value::Null)))
                .collect();
            let count = query.advanced().then_some(objects.len());
            (count, odata::paginate(objects, query.offset, size))
        }
    };
    let next = page.next_offset.map(|n| odata::next_link(ctx.req, n));
    let entity_set = match cast {
        Some(Cast::User) => "users",
        Some(Cast::Group) => "groups",
        Some(Cast::Device) => "devices",
        None => "directoryObjects",
    };
    Ok(GraphResponse::ok(odata::collection_body(
        odata::context(
            ctx.version(),
            &odata::collection_fragment(entity_set, select),
        ),
        page.items,
        next,
        count,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(id: &str, members: Vec<Member>) -> Group {
        Group {
            id: id.into(),
            display_name: id.into(),
            description: None,
            created: Timestamp::now(),
            members,
        }
    }

    #[test]
    fn transitive_members_expand_nesting_and_list_each_member_once() {
        let mut groups = Groups::default();
        groups
            .insert(group(
                "a",
                vec![
                    Member::User("u1".into()),
                    Member::Group("b".into()),
                    Member::Group("c".into()),
                ],
            ))
            .unwrap();
        groups
            .insert(group(
                "b",
                vec![Member::User("u2".into()), Member::Group("c".into())],
            ))
            .unwrap();
        groups
            .insert(group(
                "c",
                vec![Member::User("u1".into()), Member::User("u3".into())],
            ))
            .unwrap();
        let expected = [
            Member::User("u1".into()),
            Member::Group("b".into()),
            Member::User("u2".into()),
            Member::Group("c".into()),
            Member::User("u3".into()),
        ];
        assert_eq!(
            groups.transitive_members("a"),
            expected.iter().collect::<Vec<_>>()
        );
        assert_eq!(groups.transitive_members("c").len(), 2);
    }
}
