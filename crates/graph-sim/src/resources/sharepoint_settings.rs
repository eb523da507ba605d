//! `/admin/sharepoint/settings` (`sharepointsettings.md`, `sharepointsettings-get.md`,
//! `sharepointsettings-update.md`): the tenant's one SharePoint and OneDrive settings object.
//! GET returns it; PATCH merges the given properties (a complex property such as
//! `idleSessionSignOut` by its members) and answers 200 with the whole object.
//!
//! What the pages leave open (marked as assumptions in `docs/simulator.md`): the GET example
//! wraps the object in `"value"`, which a single-valued navigation property does not do
//! (the PATCH example returns it bare); the simulator answers bare. Graph's checks of
//! `idleSessionSignOut` are undocumented: the simulator refuses negative or non-integer
//! seconds and, when enabled, a warning that is not before the sign-out.

use serde_json::{Map, Value, json};

use super::Ctx;
use crate::error::GraphError;
use crate::pipeline::GraphResponse;

/// Properties of `sharepointSettings` that are read-only (absent from the update page's
/// request body table).
const READ_ONLY: &[&str] = &["availableManagedPathsForSiteCreation"];

/// Writable properties (`sharepointsettings-update.md`, request body).
const WRITABLE: &[&str] = &[
    "allowedDomainGuidsForSyncApp",
    "deletedUserPersonalSiteRetentionPeriodInDays",
    "excludedFileExtensionsForSyncApp",
    "idleSessionSignOut",
    "imageTaggingOption",
    "isCommentingOnSitePagesEnabled",
    "isFileActivityNotificationEnabled",
    "isLegacyAuthProtocolsEnabled",
    "isLoopEnabled",
    "isMacSyncAppEnabled",
    "isRequireAcceptingUserToMatchInvitedUserEnabled",
    "isResharingByExternalUsersEnabled",
    "isSharePointMobileNotificationEnabled",
    "isSharePointNewsfeedEnabled",
    "isSiteCreationEnabled",
    "isSiteCreationUIEnabled",
    "isSitePagesCreationEnabled",
    "isSitesStorageLimitAutomatic",
    "isSyncButtonHiddenOnPersonalSite",
    "isUnmanagedSyncAppForTenantRestricted",
    "personalSiteDefaultStorageLimitInMB",
    "sharingAllowedDomainList",
    "sharingBlockedDomainList",
    "sharingCapability",
    "sharingDomainRestrictionMode",
    "siteCreationDefaultManagedPath",
    "siteCreationDefaultStorageLimitInMB",
    "tenantDefaultTimezone",
];

/// Members of `idleSessionSignOut` (`idlesessionsignout.md`).
const IDLE_MEMBERS: &[&str] = &["isEnabled", "signOutAfterInSeconds", "warnAfterInSeconds"];

/// A new tenant's settings: the values of the pages' examples, idle sign-out off (the
/// SharePoint admin center's default).
pub(crate) fn defaults() -> Map<String, Value> {
    let Value::Object(map) = json!({
        "allowedDomainGuidsForSyncApp": [],
        "availableManagedPathsForSiteCreation": ["/sites/", "/teams/"],
        "deletedUserPersonalSiteRetentionPeriodInDays": 30,
        "excludedFileExtensionsForSyncApp": [],
        "idleSessionSignOut": {"isEnabled": false, "warnAfterInSeconds": 0, "signOutAfterInSeconds": 0},
        "imageTaggingOption": "basic",
        "isCommentingOnSitePagesEnabled": true,
        "isFileActivityNotificationEnabled": true,
        "isLegacyAuthProtocolsEnabled": true,
        "isLoopEnabled": true,
        "isMacSyncAppEnabled": true,
        "isRequireAcceptingUserToMatchInvitedUserEnabled": false,
        "isResharingByExternalUsersEnabled": false,
        "isSharePointMobileNotificationEnabled": true,
        "isSharePointNewsfeedEnabled": true,
        "isSiteCreationEnabled": true,
        "isSiteCreationUIEnabled": true,
        "isSitePagesCreationEnabled": true,
        "isSitesStorageLimitAutomatic": true,
        "isSyncButtonHiddenOnPersonalSite": false,
        "isUnmanagedSyncAppForTenantRestricted": false,
        "personalSiteDefaultStorageLimitInMB": 1048576,
        "sharingAllowedDomainList": [],
        "sharingBlockedDomainList": [],
        "sharingCapability": "externalUserAndGuestSharing",
        "sharingDomainRestrictionMode": "none",
        "siteCreationDefaultManagedPath": "/sites/",
        "siteCreationDefaultStorageLimitInMB": 25600,
        "tenantDefaultTimezone": "(UTC) Coordinated Universal Time"
    }) else {
        unreachable!("an object literal")
    };
    map
}

fn bad(message: impl Into<String>) -> GraphError {
    GraphError::bad_request(message)
}

fn rendered(settings: &Map<String, Value>) -> Value {
    let mut object = Map::new();
    object.insert(
        "@odata.context".into(),
        json!("https://graph.microsoft.com/v1.0/$metadata#admin/sharepoint/settings/$entity"),
    );
    object.insert(
        "@odata.type".into(),
        json!("#microsoft.graph.sharepointSettings"),
    );
    object.extend(settings.clone());
    Value::Object(object)
}

/// `GET`: 200 with the settings.
pub(crate) fn get(ctx: &mut Ctx<'_>) -> Result<GraphResponse, GraphError> {
    Ok(GraphResponse::ok(rendered(
        &ctx.tenant.share_point_settings,
    )))
}

/// Checks and merges a PATCH (or a seed) into `settings`.
pub(crate) fn merge(
    settings: &mut Map<String, Value>,
    patch: &Map<String, Value>,
) -> Result<(), GraphError> {
    let mut merged = settings.clone();
    for (key, value) in patch {
        if key == "@odata.type" {
            continue;
        }
        if READ_ONLY.contains(&key.as_str()) {
            return Err(bad(format!(
                "Property '{key}' is read-only and cannot be set."
            )));
        }
        if !WRITABLE.contains(&key.as_str()) {
            return Err(bad(format!(
                "Property '{key}' does not exist as a declared property or extension property."
            )));
        }
        if key == "idleSessionSignOut" {
            let Value::Object(members) = value else {
                return Err(bad("'idleSessionSignOut' must be an object."));
            };
            let target = merged
                .entry(key.clone())
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .ok_or_else(|| bad("'idleSessionSignOut' is not an object."))?;
            for (member, v) in members {
                if !IDLE_MEMBERS.contains(&member.as_str()) {
                    return Err(bad(format!(
                        "Property '{member}' does not exist on type 'microsoft.graph.idleSessionSignOut'."
                    )));
                }
                target.insert(member.clone(), v.clone());
            }
            check_idle(target)?;
        } else {
            merged.insert(key.clone(), value.clone());
        }
    }
    *settings = merged;
    Ok(())
}

fn check_idle(idle: &Map<String, Value>) -> Result<(), GraphError> {
    let enabled = match idle.get("isEnabled") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("'isEnabled' must be a Boolean.")),
    };
    let seconds = |name: &str| match idle.get(name) {
        None | Some(Value::Null) => Ok(0),
        Some(v) => v
            .as_i64()
            .filter(|s| *s >= 0)
            .ok_or_else(|| bad(format!("'{name}' must be a non-negative Int64."))),
    };
    let (warn, sign_out) = (
        seconds("warnAfterInSeconds")?,
        seconds("signOutAfterInSeconds")?,
    );
    if enabled && !(0 < warn && warn < sign_out) {
        return Err(bad(
            "idleSessionSignOut: warnAfterInSeconds must be greater than 0 and less than signOutAfterInSeconds.",
        ));
    }
    Ok(())
}

/// `PATCH`: 200 with the updated settings (`sharepointsettings-update.md`).
pub(crate) fn update(ctx: &mut Ctx<'_>) -> Result<GraphResponse, GraphError> {
    let patch = ctx.req.json_object()?.clone();
    merge(&mut ctx.tenant.share_point_settings, &patch)?;
    Ok(GraphResponse::ok(rendered(
        &ctx.tenant.share_point_settings,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_sign_out_merges_by_member_and_must_warn_before_it_signs_out() {
        let mut settings = defaults();
        let on = json!({"idleSessionSignOut": {"isEnabled": true, "warnAfterInSeconds": 2700, "signOutAfterInSeconds": 3600}});
        merge(&mut settings, on.as_object().unwrap()).unwrap();
        let only_warning = json!({"idleSessionSignOut": {"warnAfterInSeconds": 600}});
        merge(&mut settings, only_warning.as_object().unwrap()).unwrap();
        assert_eq!(
            settings["idleSessionSignOut"],
            json!({"isEnabled": true, "warnAfterInSeconds": 600, "signOutAfterInSeconds": 3600})
        );
        for bad in [
            json!({"idleSessionSignOut": {"warnAfterInSeconds": 3600}}),
            json!({"idleSessionSignOut": {"warnAfterInSeconds": -1}}),
            json!({"idleSessionSignOut": {"graceSeconds": 5}}),
            json!({"availableManagedPathsForSiteCreation": []}),
            json!({"noSuchSetting": true}),
        ] {
            let before = settings.clone();
            assert!(
                merge(&mut settings, bad.as_object().unwrap()).is_err(),
                "{bad}"
            );
            assert_eq!(settings, before, "a refused PATCH changes nothing");
        }
        // Off, the numbers are not checked.
        let off = json!({"idleSessionSignOut": {"isEnabled": false, "warnAfterInSeconds": 0}});
        merge(&mut settings, off.as_object().unwrap()).unwrap();
    }
}
