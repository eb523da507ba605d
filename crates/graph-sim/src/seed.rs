//! The seed file (`--seed FILE`, YAML or JSON): the users, groups, devices and policies a
//! simulated tenant starts with. The format is documented with a full example in
//! `docs/simulator.md`.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Contents of a seed file.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    /// Users (members, guests, synced accounts), with their devices.
    #[serde(default)]
    pub users: Vec<SeedUser>,
    /// Security groups, members by UPN or nested group name.
    #[serde(default)]
    pub groups: Vec<SeedGroup>,
    /// Raw Graph JSON of `ipNamedLocation` / `countryNamedLocation` objects (`@odata.type`
    /// required), or the one `compliantNetworkNamedLocation` Global Secure Access creates.
    #[serde(default)]
    pub named_locations: Vec<Value>,
    /// Service principals (enterprise applications), for names in Conditional Access policies.
    #[serde(default)]
    pub service_principals: Vec<SeedServicePrincipal>,
    /// Custom authentication strengths (the three built-ins always exist).
    #[serde(default)]
    pub authentication_strength_policies: Vec<SeedAuthenticationStrength>,
    /// Raw Graph JSON of Conditional Access policies, as a POST to the beta endpoint would carry
    /// them; `id` may be given.
    #[serde(default)]
    pub conditional_access_policies: Vec<Value>,
    /// Raw Graph JSON of activity-based timeout policies.
    #[serde(default)]
    pub activity_based_timeout_policies: Vec<Value>,
    /// SharePoint tenant settings to set over the defaults, as a PATCH of
    /// `/admin/sharepoint/settings` would carry them (`{"idleSessionSignOut": {...}}`).
    #[serde(default)]
    pub share_point_settings: Option<Value>,
}

/// Member or guest (B2B).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum UserType {
    /// A member of the tenant.
    #[default]
    Member,
    /// A guest (B2B collaboration user).
    Guest,
}

impl UserType {
    /// The `userType` value Graph returns.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "Member",
            Self::Guest => "Guest",
        }
    }
}

/// One user.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedUser {
    /// Sign-in name, e.g. `jdoe@contoso.onmicrosoft.com`.
    pub user_principal_name: String,
    /// Display name (default: the UPN's local part).
    #[serde(default)]
    pub display_name: Option<String>,
    /// Object id; derived from the UPN when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// `Member` (default) or `Guest`.
    #[serde(default)]
    pub user_type: UserType,
    /// Signs in at another tenant (a B2B invitation): `creationType` Invitation and an
    /// `externalUserState`. Defaults to true for `userType: Guest`; set `false` for an internal
    /// guest (a local account with userType Guest), whose sessions live here.
    #[serde(default)]
    pub external: Option<bool>,
    /// Directory roles the user holds (display names, e.g. `Global Administrator`): changing an
    /// admin's password or accountEnabled needs Privileged Authentication Administrator.
    #[serde(default)]
    pub directory_roles: Vec<String>,
    /// Synced from on-premises AD: cloud changes of accountEnabled/password are refused.
    #[serde(default)]
    pub on_premises_sync_enabled: bool,
    /// Whether the account may sign in (default true).
    #[serde(default = "yes")]
    pub account_enabled: bool,
    /// Mail address.
    #[serde(default)]
    pub mail: Option<String>,
    /// Given name.
    #[serde(default)]
    pub given_name: Option<String>,
    /// Surname.
    #[serde(default)]
    pub surname: Option<String>,
    /// Job title.
    #[serde(default)]
    pub job_title: Option<String>,
    /// Identity Protection state: `low|medium|high|hidden|none`.
    #[serde(default)]
    pub risk_level: Option<String>,
    /// `atRisk|confirmedCompromised|dismissed|remediated|confirmedSafe|none`.
    #[serde(default)]
    pub risk_state: Option<String>,
    /// Devices registered to (and owned by) the user.
    #[serde(default)]
    pub devices: Vec<SeedDevice>,
}

/// A device registered to a user.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedDevice {
    /// Device name, e.g. `JDOE-LAPTOP`.
    pub display_name: String,
    /// Object id; derived when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// The device's own id (`deviceId`); derived when absent.
    #[serde(default)]
    pub device_id: Option<String>,
    /// `Windows` (default), `iOS`, `Android`, `MacMDM`, `Linux` ...
    #[serde(default = "windows")]
    pub operating_system: String,
    /// Operating system version.
    #[serde(default)]
    pub operating_system_version: Option<String>,
    /// `AzureAd` (joined), `Workplace` (registered) or `ServerAd` (hybrid joined: synced, so
    /// cloud changes of accountEnabled are refused).
    #[serde(default = "azure_ad")]
    pub trust_type: String,
    /// Whether the device may be used to sign in (default true).
    #[serde(default = "yes")]
    pub account_enabled: bool,
    /// Compliant with Intune policy, when managed.
    #[serde(default)]
    pub is_compliant: Option<bool>,
    /// Managed by an MDM.
    #[serde(default)]
    pub is_managed: Option<bool>,
}

/// A security group.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedGroup {
    /// Group name; policies and RevocationRequests refer to it.
    pub display_name: String,
    /// Object id; derived from the display name when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// User principal names, or display names of other seeded groups (nesting).
    #[serde(default)]
    pub members: Vec<String>,
}

/// A service principal.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedServicePrincipal {
    /// Its name, e.g. `Office 365 Exchange Online`.
    pub display_name: String,
    /// The application (client) id Conditional Access policies name it by.
    pub app_id: String,
    /// Object id (the one workload-identity policies name it by); derived from the app id
    /// when absent.
    #[serde(default)]
    pub id: Option<String>,
}

/// A custom authentication strength.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedAuthenticationStrength {
    /// Strength name; SessionPolicies refer to it.
    pub display_name: String,
    /// Object id; derived from the display name when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// authenticationMethodModes combinations, e.g. `fido2`, `password,sms`.
    pub allowed_combinations: Vec<String>,
}

fn yes() -> bool {
    true
}
fn windows() -> String {
    "Windows".to_owned()
}
fn azure_ad() -> String {
    "AzureAd".to_owned()
}

/// Why a seed file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The seed file.
        path: String,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// The file is not valid YAML or JSON.
    #[error("invalid {format}: {message}")]
    Syntax {
        /// `YAML` or `JSON`.
        format: &'static str,
        /// The parser's message.
        message: String,
    },
    /// A field has the wrong type or an unknown name.
    #[error("{path}: {message}")]
    Field {
        /// Path of the field, e.g. `users[3].userType`.
        path: String,
        /// What is wrong with it.
        message: String,
    },
}

impl Seed {
    /// Reads a seed file: `.json` as JSON, anything else as YAML.
    pub fn load(path: &Path) -> Result<Seed, SeedError> {
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let is_json = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if is_json {
            Self::from_json(&text)
        } else {
            Self::from_yaml(&text)
        }
    }

    /// Parses a seed from YAML text.
    pub fn from_yaml(text: &str) -> Result<Seed, SeedError> {
        let value: Value = serde_saphyr::from_str(text).map_err(|e| SeedError::Syntax {
            format: "YAML",
            message: e.to_string(),
        })?;
        Self::from_value(value)
    }

    /// Parses a seed from JSON text.
    pub fn from_json(text: &str) -> Result<Seed, SeedError> {
        let value: Value = serde_json::from_str(text).map_err(|e| SeedError::Syntax {
            format: "JSON",
            message: e.to_string(),
        })?;
        Self::from_value(value)
    }

    /// Both formats go through a JSON value so errors name the field path the same way.
    fn from_value(value: Value) -> Result<Seed, SeedError> {
        let value = if value.is_null() {
            Value::Object(Default::default())
        } else {
            value
        };
        serde_path_to_error::deserialize(value).map_err(|e| SeedError::Field {
            path: e.path().to_string(),
            message: e.inner().to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_and_json_agree() {
        let yaml = "users:\n  - userPrincipalName: a@x.com\n    userType: Guest\n    devices:\n      - displayName: D1\ngroups:\n  - displayName: g\n    members: [a@x.com]\n";
        let json = r#"{"users":[{"userPrincipalName":"a@x.com","userType":"Guest","devices":[{"displayName":"D1"}]}],"groups":[{"displayName":"g","members":["a@x.com"]}]}"#;
        let a = Seed::from_yaml(yaml).unwrap();
        assert_eq!(a, Seed::from_json(json).unwrap());
        assert_eq!(a.users[0].user_type, UserType::Guest);
        assert!(a.users[0].account_enabled);
        assert_eq!(a.users[0].devices[0].trust_type, "AzureAd");
    }

    #[test]
    fn unknown_fields_are_reported_with_their_path() {
        let err =
            Seed::from_yaml("users:\n  - userPrincipalName: a@x.com\n    accountEnable: true\n")
                .unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("users[0]"), "{text}");
        assert!(text.contains("accountEnable"), "{text}");
    }

    #[test]
    fn empty_file_is_an_empty_seed() {
        assert_eq!(Seed::from_yaml("").unwrap(), Seed::default());
    }
}
