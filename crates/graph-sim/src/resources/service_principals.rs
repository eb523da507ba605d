//! Service principals (`serviceprincipal-list.md`): listed, filtered on `id`, `appId` or
//! `displayName` (`eq`, `in`), `$select`ed and paged, for resolving the applications and
//! workload identities a Conditional Access policy names. Read-only: they come from the seed.

use serde_json::{Map, Value, json};

use super::Ctx;
use crate::error::GraphError;
use crate::odata::{self, DIRECTORY_DEFAULT_PAGE, DIRECTORY_MAX_PAGE};
use crate::pipeline::GraphResponse;

const PROPERTIES: &[&str] = &[
    "id",
    "accountEnabled",
    "appId",
    "displayName",
    "publisherName",
    "servicePrincipalType",
    "signInAudience",
];
const FILTERABLE: &[&str] = &["id", "appId", "displayName", "servicePrincipalType"];

/// One service principal.
#[derive(Clone, Debug)]
pub(crate) struct ServicePrincipal {
    pub id: String,
    pub app_id: String,
    pub display_name: String,
}

impl ServicePrincipal {
    fn property(&self, name: &str) -> Value {
        match name {
            "id" => json!(self.id),
            "accountEnabled" => json!(true),
            "appId" => json!(self.app_id),
            "displayName" => json!(self.display_name),
            "servicePrincipalType" => json!("Application"),
            _ => Value::Null,
        }
    }

    fn to_json(&self, properties: &[&str]) -> Value {
        let mut object = Map::new();
        for name in properties {
            object.insert((*name).to_owned(), self.property(name));
        }
        Value::Object(object)
    }
}

/// `GET /servicePrincipals`.
pub(crate) fn list(ctx: &mut Ctx<'_>) -> Result<GraphResponse, GraphError> {
    let query = ctx.query;
    query.check_count()?;
    if let Some(filter) = &query.filter {
        filter.check(FILTERABLE, "ServicePrincipal", query.advanced())?;
    }
    let properties: Vec<&str> = match query.select.as_deref() {
        Some(select) => {
            odata::check_select(select, PROPERTIES, "servicePrincipal")?;
            select.iter().map(String::as_str).collect()
        }
        None => PROPERTIES.to_vec(),
    };
    let size = query.page_size(DIRECTORY_DEFAULT_PAGE, DIRECTORY_MAX_PAGE)?;
    let matching: Vec<&ServicePrincipal> = ctx
        .tenant
        .service_principals
        .iter()
        .filter(|sp| {
            query
                .filter
                .as_ref()
                .is_none_or(|f| f.matches(&|p| sp.property(p)))
        })
        .collect();
    let count = query.advanced().then_some(matching.len());
    let page = odata::paginate(matching, query.offset, size);
    let values = page
        .items
        .iter()
        .map(|sp| sp.to_json(&properties))
        .collect();
    let next = page.next_offset.map(|n| odata::next_link(ctx.req, n));
    Ok(GraphResponse::ok(odata::collection_body(
        odata::context(
            ctx.version(),
            &odata::collection_fragment("servicePrincipals", query.select.as_deref()),
        ),
        values,
        next,
        count,
    )))
}
