//! `/directoryRoleTemplates`: the built-in Entra roles, with their real template ids (CA policies
//! name roles by template id; `conditionalaccesspolicy.md`).

use serde_json::{Value, json};

use super::Ctx;
use crate::error::GraphError;
use crate::ids;
use crate::odata;
use crate::odata::filter::{Filter, Literal};
use crate::pipeline::GraphResponse;

/// (template id, display name, description).
pub(crate) const TEMPLATES: &[(&str, &str, &str)] = &[
    (
        "62e90394-69f5-4237-9190-012177145e10",
        "Global Administrator",
        "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
    ),
    (
        "e8611ab8-c189-46e8-94e1-60213ab1f814",
        "Privileged Role Administrator",
        "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.",
    ),
    (
        "194ae4cb-b126-40b2-bd5b-6091b380977d",
        "Security Administrator",
        "Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365.",
    ),
    (
        "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
        "Conditional Access Administrator",
        "Can manage Conditional Access capabilities.",
    ),
    (
        "29232cdf-9323-42fd-ade2-1d097af3e4de",
        "Exchange Administrator",
        "Can manage all aspects of the Exchange product.",
    ),
    (
        "fe930be7-5e62-47db-91af-98c3a49a38b1",
        "User Administrator",
        "Can manage all aspects of users and groups, including resetting passwords for limited admins.",
    ),
    (
        "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
        "SharePoint Administrator",
        "Can manage all aspects of the SharePoint service.",
    ),
    (
        "729827e3-9c14-49f7-bb1b-9608f156bbb8",
        "Helpdesk Administrator",
        "Can reset passwords for non-administrators and Helpdesk Administrators.",
    ),
    (
        "c4e39bd9-1100-46d3-8c65-fb160da0071f",
        "Authentication Administrator",
        "Can access to view, set and reset authentication method information for any non-admin user.",
    ),
    (
        "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
        "Privileged Authentication Administrator",
        "Can access to view, set and reset authentication method information for any user (admin or non-admin).",
    ),
    (
        "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
        "Application Administrator",
        "Can create and manage all aspects of app registrations and enterprise apps.",
    ),
    (
        "158c047a-c907-4556-b7ef-446551a6b5f7",
        "Cloud Application Administrator",
        "Can create and manage all aspects of app registrations and enterprise apps except App Proxy.",
    ),
    (
        "7698a772-787b-4ac8-901f-60d6b08affd2",
        "Cloud Device Administrator",
        "Limited access to manage devices in Microsoft Entra ID.",
    ),
    (
        "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
        "Global Reader",
        "Can read everything that a Global Administrator can, but not update anything.",
    ),
    (
        "5d6b6bb7-de71-4623-b4af-96380a352509",
        "Security Reader",
        "Can read security information and reports in Microsoft Entra ID and Office 365.",
    ),
    (
        "3a2c62db-5318-420d-8d74-23affee5d9d5",
        "Intune Administrator",
        "Can manage all aspects of the Intune product.",
    ),
    (
        "69091246-20e8-4a56-aa4d-066075b2a7a8",
        "Teams Administrator",
        "Can manage the Microsoft Teams service.",
    ),
    (
        "b0f54661-2d74-4c50-afa3-1ec803f12efe",
        "Billing Administrator",
        "Can perform common billing related tasks like updating payment information.",
    ),
    (
        "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
        "Directory Readers",
        "Can read basic directory information. Commonly used to grant directory read access to applications and guests.",
    ),
];

/// The template id of a built-in role, by display name (case-insensitive).
pub(crate) fn template_id(display_name: &str) -> Option<&'static str> {
    TEMPLATES
        .iter()
        .find(|(_, name, _)| name.eq_ignore_ascii_case(display_name))
        .map(|(id, ..)| *id)
}

const PROPERTIES: &[&str] = &["id", "deletedDateTime", "description", "displayName"];

fn to_json((id, name, description): &(&str, &str, &str)) -> Value {
    json!({"id": id, "deletedDateTime": null, "description": description, "displayName": name})
}

/// `GET /directoryRoleTemplates`.
pub(crate) fn list(ctx: &mut Ctx<'_>) -> Result<GraphResponse, GraphError> {
    let select = ctx.query.select.as_deref();
    if let Some(select) = select {
        odata::check_select(select, PROPERTIES, "directoryRoleTemplate")?;
    }
    let values = TEMPLATES
        .iter()
        .map(|t| match select {
            Some(s) => odata::select_fields(&to_json(t), s),
            None => to_json(t),
        })
        .collect();
    Ok(GraphResponse::ok(odata::collection_body(
        odata::context(
            ctx.version(),
            &odata::collection_fragment("directoryRoleTemplates", select),
        ),
        values,
        None,
        None,
    )))
}

/// `GET /directoryRoleTemplates/{id}`.
pub(crate) fn get(ctx: &mut Ctx<'_>, id: &str) -> Result<GraphResponse, GraphError> {
    let template = TEMPLATES
        .iter()
        .find(|(template_id, ..)| template_id.eq_ignore_ascii_case(id))
        .ok_or_else(|| GraphError::not_found(id))?;
    Ok(GraphResponse::ok(odata::entity_body(
        odata::context(ctx.version(), "directoryRoleTemplates/$entity"),
        to_json(template),
    )))
}

/// `GET /roleManagement/directory/roleAssignments?$filter=principalId eq '{id}'`
/// (`rbacapplication-list-roleassignments.md`): the directory roles of one principal, the app's
/// service principal (the `oid` of its tokens) or a user. Built-in roles are assigned by
/// template id, at the directory scope `/`.
pub(crate) fn list_assignments(ctx: &mut Ctx<'_>) -> Result<GraphResponse, GraphError> {
    let principal = match &ctx.query.filter {
        Some(Filter::Eq(property, Literal::Str(id)))
            if property.eq_ignore_ascii_case("principalId") =>
        {
            id.clone()
        }
        _ => {
            return Err(GraphError::bad_request(
                "The simulator supports roleAssignments only with $filter=principalId eq '{id}'.",
            ));
        }
    };
    let service_principal = ids::derive(&format!(
        "servicePrincipal:{}",
        ctx.settings.config.client_id
    ));
    let roles: Vec<String> = if principal.eq_ignore_ascii_case(&service_principal) {
        ctx.settings
            .config
            .directory_roles
            .iter()
            .filter_map(|name| template_id(name).map(str::to_owned))
            .collect()
    } else {
        ctx.tenant
            .users
            .find(&principal)
            .map(|u| u.directory_roles.clone())
            .unwrap_or_default()
    };
    let values = roles
        .iter()
        .map(|role| {
            json!({
                "id": ids::derive(&format!("roleAssignment:{principal}:{role}")),
                "principalId": principal,
                "roleDefinitionId": role,
                "directoryScopeId": "/",
                "resourceScope": "/",
            })
        })
        .collect();
    Ok(GraphResponse::ok(odata::collection_body(
        odata::context(ctx.version(), "roleManagement/directory/roleAssignments"),
        values,
        None,
        None,
    )))
}
