//! Service principals (`serviceprincipal-list.md`): listed, filtered on `id`, `appId` or
//! `displayName` (`eq`, `in`), `$select`ed and paged, for resolving the applications and
//! workload identities a Conditional Access policy names. Read-only: they come from the seed.

use serde_json::{Value, json};

use super::{Ctx, DirectoryCollection};
use crate::error::GraphError;
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
}

/// `GET /servicePrincipals`.
pub(crate) fn list(ctx: &mut Ctx<'_>) -> Result<GraphResponse, GraphError> {
    DirectoryCollection {
        entity_set: "servicePrincipals",
        type_name: "servicePrincipal",
        filter_type_name: "ServicePrincipal",
        properties: PROPERTIES,
        filterable: FILTERABLE,
    }
    .list(
        ctx,
        ctx.tenant.service_principals.iter(),
        ServicePrincipal::property,
    )
}
