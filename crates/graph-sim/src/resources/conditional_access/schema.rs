//! The `conditionalAccessPolicy` type tree (`conditionalaccesspolicy.md`) and what Graph does with it:
//! checking a request body (unknown and read-only properties, enum literals, beta-only
//! properties on v1.0, evolvable enum members), filling the defaults Graph returns (`[]` for
//! collections, `null` otherwise), merging a PATCH into nested objects, and rendering for a
//! version and a `Prefer` header.
//!
//! Every property of the v1.0 CSDL (`msgraph-metadata` `clean_v10_metadata/cleanMetadata.xml`)
//! and of the beta type mappings (`schemas/type-mappings/beta-complex-types.json`) is typed.
//! `Opaque` is left for the two beta keys that real responses carry but no metadata describes
//! (`times`, `partialEnablementStrategy`): accepted as any JSON and returned untouched.

use serde_json::{Map, Value};

use crate::error::GraphError;
use crate::pipeline::ApiVersion;

/// An OData enum type. `evolvable` members come after `unknownFutureValue` in the CSDL: Graph
/// accepts and returns them only with `Prefer: include-unknown-enum-members` (the v1.0 CSDL enum order and `concepts/paging.md`).
pub(crate) struct EnumType {
    pub name: &'static str,
    pub members: &'static [&'static str],
    pub evolvable: &'static [&'static str],
}

pub(crate) enum Kind {
    Str,
    Bool,
    Int,
    Enum(&'static EnumType),
    /// A flags enum, serialized as a comma-separated string.
    Flags(&'static EnumType),
    Strings,
    Enums(&'static EnumType),
    Object(&'static ObjectType),
    /// Any JSON, kept as sent.
    Opaque,
    /// A navigation property written as `{"id": "…"}` (`authenticationStrength`).
    Navigation,
    /// A value of an abstract type: its `@odata.type` names one of the derived types, whose
    /// properties it then has (`conditionalAccessExternalTenants`, `Abstract="true"` in the
    /// v1.0 CSDL).
    Derived(&'static [(&'static str, &'static ObjectType)]),
}

pub(crate) struct Prop {
    pub name: &'static str,
    pub kind: Kind,
    pub beta_only: bool,
    pub required: bool,
    pub read_only: bool,
}

impl Prop {
    const fn new(name: &'static str, kind: Kind) -> Prop {
        Prop {
            name,
            kind,
            beta_only: false,
            required: false,
            read_only: false,
        }
    }
    const fn beta(self) -> Prop {
        Prop {
            beta_only: true,
            ..self
        }
    }
    const fn required(self) -> Prop {
        Prop {
            required: true,
            ..self
        }
    }
    const fn read_only(self) -> Prop {
        Prop {
            read_only: true,
            ..self
        }
    }

    fn is_collection(&self) -> bool {
        matches!(self.kind, Kind::Strings | Kind::Enums(_))
    }
}

pub(crate) struct ObjectType {
    pub name: &'static str,
    pub props: &'static [Prop],
}

impl ObjectType {
    fn prop(&self, name: &str) -> Option<&Prop> {
        self.props.iter().find(|p| p.name == name)
    }
}

const POLICY_STATE: EnumType = EnumType {
    name: "conditionalAccessPolicyState",
    members: &["enabled", "disabled", "enabledForReportingButNotEnforced"],
    evolvable: &[],
};
/// The v1.0 CSDL's `conditionalAccessClientApp` (`msgraph-metadata`
/// `clean_v10_metadata/cleanMetadata.xml`): `easUnsupported` is not a member.
const CLIENT_APP: EnumType = EnumType {
    name: "conditionalAccessClientApp",
    members: &[
        "all",
        "browser",
        "mobileAppsAndDesktopClients",
        "exchangeActiveSync",
        "easSupported",
        "other",
        "unknownFutureValue",
    ],
    evolvable: &[],
};
const PLATFORM: EnumType = EnumType {
    name: "conditionalAccessDevicePlatform",
    members: &[
        "android",
        "iOS",
        "windows",
        "windowsPhone",
        "macOS",
        "all",
        "unknownFutureValue",
    ],
    evolvable: &["linux"],
};
const RISK_LEVEL: EnumType = EnumType {
    name: "riskLevel",
    members: &[
        "low",
        "medium",
        "high",
        "hidden",
        "none",
        "unknownFutureValue",
    ],
    evolvable: &[],
};
const SERVICE_PRINCIPAL_RISK_LEVEL: EnumType = EnumType {
    name: "riskLevel",
    members: &["low", "medium", "high", "none", "unknownFutureValue"],
    evolvable: &[],
};
const INSIDER_RISK_LEVELS: EnumType = EnumType {
    name: "conditionalAccessInsiderRiskLevels",
    members: &["minor", "moderate", "elevated", "unknownFutureValue"],
    evolvable: &[],
};
const GUEST_TYPES: EnumType = EnumType {
    name: "conditionalAccessGuestOrExternalUserTypes",
    members: &[
        "none",
        "internalGuest",
        "b2bCollaborationGuest",
        "b2bCollaborationMember",
        "b2bDirectConnectUser",
        "otherExternalUser",
        "serviceProvider",
        "unknownFutureValue",
    ],
    evolvable: &[],
};
const GRANT_CONTROL: EnumType = EnumType {
    name: "conditionalAccessGrantControl",
    members: &[
        "block",
        "mfa",
        "compliantDevice",
        "domainJoinedDevice",
        "approvedApplication",
        "compliantApplication",
        "passwordChange",
        "unknownFutureValue",
    ],
    evolvable: &["riskRemediation"],
};
const CLOUD_APP_SECURITY_TYPE: EnumType = EnumType {
    name: "cloudAppSecuritySessionControlType",
    members: &[
        "mcasConfigured",
        "monitorOnly",
        "blockDownloads",
        "unknownFutureValue",
    ],
    evolvable: &[],
};
const FREQUENCY_TYPE: EnumType = EnumType {
    name: "signinFrequencyType",
    members: &["days", "hours"],
    evolvable: &[],
};
const FREQUENCY_AUTHENTICATION_TYPE: EnumType = EnumType {
    name: "signInFrequencyAuthenticationType",
    members: &[
        "primaryAndSecondaryAuthentication",
        "secondaryAuthentication",
        "unknownFutureValue",
    ],
    evolvable: &[],
};
const FREQUENCY_INTERVAL: EnumType = EnumType {
    name: "signInFrequencyInterval",
    members: &["timeBased", "everyTime", "unknownFutureValue"],
    evolvable: &[],
};
const PERSISTENT_BROWSER_MODE: EnumType = EnumType {
    name: "persistentBrowserSessionMode",
    members: &["always", "never"],
    evolvable: &[],
};
const FILTER_MODE: EnumType = EnumType {
    name: "filterMode",
    members: &["include", "exclude"],
    evolvable: &[],
};
const MEMBERSHIP_KIND: EnumType = EnumType {
    name: "conditionalAccessExternalTenantsMembershipKind",
    members: &["all", "enumerated", "unknownFutureValue"],
    evolvable: &[],
};
const TRANSFER_METHODS: EnumType = EnumType {
    name: "conditionalAccessTransferMethods",
    members: &[
        "none",
        "deviceCodeFlow",
        "authenticationTransfer",
        "unknownFutureValue",
    ],
    evolvable: &[],
};
/// Beta only; a flags type (`conditionalaccessconditionset.md` beta: "This enumeration is
/// multivalued").
const AGENT_ID_RISK_LEVELS: EnumType = EnumType {
    name: "conditionalAccessAgentIdRiskLevels",
    members: &["low", "medium", "high", "unknownFutureValue"],
    evolvable: &[],
};
const CAE_MODE: EnumType = EnumType {
    name: "continuousAccessEvaluationMode",
    members: &["disabled", "strictEnforcement", "unknownFutureValue"],
    evolvable: &["strictLocation"],
};

const FILTER: ObjectType = ObjectType {
    name: "conditionalAccessFilter",
    props: &[
        Prop::new("mode", Kind::Enum(&FILTER_MODE)),
        Prop::new("rule", Kind::Str),
    ],
};
const ALL_EXTERNAL_TENANTS: ObjectType = ObjectType {
    name: "conditionalAccessAllExternalTenants",
    props: &[Prop::new("membershipKind", Kind::Enum(&MEMBERSHIP_KIND))],
};
const ENUMERATED_EXTERNAL_TENANTS: ObjectType = ObjectType {
    name: "conditionalAccessEnumeratedExternalTenants",
    props: &[
        Prop::new("membershipKind", Kind::Enum(&MEMBERSHIP_KIND)),
        Prop::new("members", Kind::Strings),
    ],
};
const GUESTS_OR_EXTERNAL_USERS: ObjectType = ObjectType {
    name: "conditionalAccessGuestsOrExternalUsers",
    props: &[
        Prop::new("guestOrExternalUserTypes", Kind::Flags(&GUEST_TYPES)),
        Prop::new(
            "externalTenants",
            Kind::Derived(&[
                (
                    "#microsoft.graph.conditionalAccessAllExternalTenants",
                    &ALL_EXTERNAL_TENANTS,
                ),
                (
                    "#microsoft.graph.conditionalAccessEnumeratedExternalTenants",
                    &ENUMERATED_EXTERNAL_TENANTS,
                ),
            ]),
        ),
    ],
};
const USERS: ObjectType = ObjectType {
    name: "conditionalAccessUsers",
    props: &[
        Prop::new("includeUsers", Kind::Strings),
        Prop::new("excludeUsers", Kind::Strings),
        Prop::new("includeGroups", Kind::Strings),
        Prop::new("excludeGroups", Kind::Strings),
        Prop::new("includeRoles", Kind::Strings),
        Prop::new("excludeRoles", Kind::Strings),
        Prop::new(
            "includeGuestsOrExternalUsers",
            Kind::Object(&GUESTS_OR_EXTERNAL_USERS),
        ),
        Prop::new(
            "excludeGuestsOrExternalUsers",
            Kind::Object(&GUESTS_OR_EXTERNAL_USERS),
        ),
    ],
};
const APPLICATIONS: ObjectType = ObjectType {
    name: "conditionalAccessApplications",
    props: &[
        Prop::new("includeApplications", Kind::Strings),
        Prop::new("excludeApplications", Kind::Strings),
        Prop::new("includeUserActions", Kind::Strings),
        Prop::new("includeAuthenticationContextClassReferences", Kind::Strings),
        Prop::new("applicationFilter", Kind::Object(&FILTER)),
        Prop::new("globalSecureAccess", Kind::Object(&GLOBAL_SECURE_ACCESS)).beta(),
        Prop::new("networkAccess", Kind::Object(&NETWORK_ACCESS)).beta(),
    ],
};
/// Beta types without properties (`conditionalaccessglobalsecureaccess.md`,
/// `conditionalaccessnetworkaccess.md`).
const GLOBAL_SECURE_ACCESS: ObjectType = ObjectType {
    name: "conditionalAccessGlobalSecureAccess",
    props: &[],
};
const NETWORK_ACCESS: ObjectType = ObjectType {
    name: "conditionalAccessNetworkAccess",
    props: &[],
};
const CLIENT_APPLICATIONS: ObjectType = ObjectType {
    name: "conditionalAccessClientApplications",
    props: &[
        Prop::new("includeServicePrincipals", Kind::Strings),
        Prop::new("excludeServicePrincipals", Kind::Strings),
        Prop::new("servicePrincipalFilter", Kind::Object(&FILTER)),
        Prop::new("includeAgentIdServicePrincipals", Kind::Strings).beta(),
        Prop::new("excludeAgentIdServicePrincipals", Kind::Strings).beta(),
        Prop::new("agentIdServicePrincipalFilter", Kind::Object(&FILTER)).beta(),
    ],
};
const DEVICES: ObjectType = ObjectType {
    name: "conditionalAccessDevices",
    props: &[
        Prop::new("deviceFilter", Kind::Object(&FILTER)),
        Prop::new("includeDevices", Kind::Strings).beta(),
        Prop::new("excludeDevices", Kind::Strings).beta(),
        Prop::new("includeDeviceStates", Kind::Strings).beta(),
        Prop::new("excludeDeviceStates", Kind::Strings).beta(),
    ],
};
const DEVICE_STATES: ObjectType = ObjectType {
    name: "conditionalAccessDeviceStates",
    props: &[
        Prop::new("includeStates", Kind::Strings),
        Prop::new("excludeStates", Kind::Strings),
    ],
};
const AUTHENTICATION_FLOWS: ObjectType = ObjectType {
    name: "conditionalAccessAuthenticationFlows",
    props: &[Prop::new("transferMethods", Kind::Flags(&TRANSFER_METHODS))],
};
const PLATFORMS: ObjectType = ObjectType {
    name: "conditionalAccessPlatforms",
    props: &[
        Prop::new("includePlatforms", Kind::Enums(&PLATFORM)),
        Prop::new("excludePlatforms", Kind::Enums(&PLATFORM)),
    ],
};
const LOCATIONS: ObjectType = ObjectType {
    name: "conditionalAccessLocations",
    props: &[
        Prop::new("includeLocations", Kind::Strings),
        Prop::new("excludeLocations", Kind::Strings),
    ],
};
const CONDITIONS: ObjectType = ObjectType {
    name: "conditionalAccessConditionSet",
    props: &[
        Prop::new("applications", Kind::Object(&APPLICATIONS)),
        Prop::new("users", Kind::Object(&USERS)),
        Prop::new("clientApplications", Kind::Object(&CLIENT_APPLICATIONS)),
        Prop::new("clientAppTypes", Kind::Enums(&CLIENT_APP)),
        Prop::new("platforms", Kind::Object(&PLATFORMS)),
        Prop::new("locations", Kind::Object(&LOCATIONS)),
        Prop::new("devices", Kind::Object(&DEVICES)),
        Prop::new("signInRiskLevels", Kind::Enums(&RISK_LEVEL)),
        Prop::new("userRiskLevels", Kind::Enums(&RISK_LEVEL)),
        Prop::new(
            "servicePrincipalRiskLevels",
            Kind::Enums(&SERVICE_PRINCIPAL_RISK_LEVEL),
        ),
        Prop::new("insiderRiskLevels", Kind::Flags(&INSIDER_RISK_LEVELS)),
        Prop::new("authenticationFlows", Kind::Object(&AUTHENTICATION_FLOWS)),
        Prop::new("deviceStates", Kind::Object(&DEVICE_STATES)).beta(),
        // Beta condition sets carry `times` (beta `policydeletableitem-list.md` example 3),
        // which no metadata describes.
        Prop::new("times", Kind::Opaque).beta(),
        Prop::new("agentIdRiskLevels", Kind::Flags(&AGENT_ID_RISK_LEVELS)).beta(),
    ],
};
const GRANT_CONTROLS: ObjectType = ObjectType {
    name: "conditionalAccessGrantControls",
    props: &[
        Prop::new("operator", Kind::Str),
        Prop::new("builtInControls", Kind::Enums(&GRANT_CONTROL)),
        Prop::new("customAuthenticationFactors", Kind::Strings),
        Prop::new("termsOfUse", Kind::Strings),
        Prop::new("authenticationStrength", Kind::Navigation),
    ],
};
const APPLICATION_ENFORCED_RESTRICTIONS: ObjectType = ObjectType {
    name: "applicationEnforcedRestrictionsSessionControl",
    props: &[Prop::new("isEnabled", Kind::Bool)],
};
const CLOUD_APP_SECURITY: ObjectType = ObjectType {
    name: "cloudAppSecuritySessionControl",
    props: &[
        Prop::new("isEnabled", Kind::Bool),
        Prop::new("cloudAppSecurityType", Kind::Enum(&CLOUD_APP_SECURITY_TYPE)),
    ],
};
const SIGN_IN_FREQUENCY: ObjectType = ObjectType {
    name: "signInFrequencySessionControl",
    props: &[
        Prop::new("isEnabled", Kind::Bool),
        Prop::new("value", Kind::Int),
        Prop::new("type", Kind::Enum(&FREQUENCY_TYPE)),
        Prop::new(
            "authenticationType",
            Kind::Enum(&FREQUENCY_AUTHENTICATION_TYPE),
        ),
        Prop::new("frequencyInterval", Kind::Enum(&FREQUENCY_INTERVAL)),
    ],
};
const PERSISTENT_BROWSER: ObjectType = ObjectType {
    name: "persistentBrowserSessionControl",
    props: &[
        Prop::new("isEnabled", Kind::Bool),
        Prop::new("mode", Kind::Enum(&PERSISTENT_BROWSER_MODE)),
    ],
};
const SECURE_SIGN_IN_SESSION: ObjectType = ObjectType {
    name: "secureSignInSessionControl",
    props: &[Prop::new("isEnabled", Kind::Bool)],
};
const CONTINUOUS_ACCESS_EVALUATION: ObjectType = ObjectType {
    name: "continuousAccessEvaluationSessionControl",
    props: &[Prop::new("mode", Kind::Enum(&CAE_MODE))],
};
/// `globalSecureAccessFilteringProfileSessionControl` (beta): `profileId` and the inherited
/// `isEnabled`.
const FILTERING_PROFILE: ObjectType = ObjectType {
    name: "globalSecureAccessFilteringProfileSessionControl",
    props: &[
        Prop::new("isEnabled", Kind::Bool),
        Prop::new("profileId", Kind::Str),
    ],
};
const SESSION_CONTROLS: ObjectType = ObjectType {
    name: "conditionalAccessSessionControls",
    props: &[
        Prop::new(
            "applicationEnforcedRestrictions",
            Kind::Object(&APPLICATION_ENFORCED_RESTRICTIONS),
        ),
        Prop::new("cloudAppSecurity", Kind::Object(&CLOUD_APP_SECURITY)),
        Prop::new("signInFrequency", Kind::Object(&SIGN_IN_FREQUENCY)),
        Prop::new("persistentBrowser", Kind::Object(&PERSISTENT_BROWSER)),
        Prop::new("disableResilienceDefaults", Kind::Bool),
        Prop::new("secureSignInSession", Kind::Object(&SECURE_SIGN_IN_SESSION)),
        Prop::new(
            "continuousAccessEvaluation",
            Kind::Object(&CONTINUOUS_ACCESS_EVALUATION),
        )
        .beta(),
        Prop::new(
            "globalSecureAccessFilteringProfile",
            Kind::Object(&FILTERING_PROFILE),
        )
        .beta(),
    ],
};

/// `conditionalAccessPolicy`. The read-only properties are kept outside the stored document.
pub(crate) const POLICY: ObjectType = ObjectType {
    name: "conditionalAccessPolicy",
    props: &[
        Prop::new("id", Kind::Str).read_only(),
        Prop::new("templateId", Kind::Str).read_only(),
        Prop::new("displayName", Kind::Str).required(),
        Prop::new("description", Kind::Str),
        Prop::new("state", Kind::Enum(&POLICY_STATE)).required(),
        Prop::new("createdDateTime", Kind::Str).read_only(),
        Prop::new("modifiedDateTime", Kind::Str).read_only(),
        Prop::new("deletedDateTime", Kind::Str).read_only(),
        Prop::new("conditions", Kind::Object(&CONDITIONS)).required(),
        Prop::new("grantControls", Kind::Object(&GRANT_CONTROLS)),
        Prop::new("sessionControls", Kind::Object(&SESSION_CONTROLS)),
        Prop::new("partialEnablementStrategy", Kind::Opaque).beta(),
    ],
};

/// How a request body is checked.
#[derive(Clone, Copy)]
pub(crate) struct CheckOptions {
    pub version: ApiVersion,
    pub include_unknown_enum_members: bool,
    /// POST: required properties must be present and non-null.
    pub creating: bool,
}

fn bad(message: String) -> GraphError {
    GraphError::bad_request(message)
}

fn check_member(
    enum_type: &EnumType,
    value: &str,
    options: CheckOptions,
) -> Result<(), GraphError> {
    let known = value != "unknownFutureValue" && enum_type.members.contains(&value);
    let evolvable = options.include_unknown_enum_members && enum_type.evolvable.contains(&value);
    if known || evolvable {
        Ok(())
    } else {
        Err(bad(format!(
            "Cannot convert the literal '{value}' to the expected type 'microsoft.graph.{}'.",
            enum_type.name
        )))
    }
}

fn type_error(path: &str, expected: &str) -> GraphError {
    bad(format!(
        "Cannot convert the value of property '{path}' to the expected type '{expected}'."
    ))
}

/// Checks a request body against `object_type`.
pub(crate) fn check(
    value: &Value,
    object_type: &ObjectType,
    path: &str,
    options: CheckOptions,
) -> Result<(), GraphError> {
    let Value::Object(fields) = value else {
        return Err(type_error(
            path,
            &format!("microsoft.graph.{}", object_type.name),
        ));
    };
    for (key, value) in fields {
        if key.starts_with("@odata.") {
            continue;
        }
        let child = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        let prop = object_type
            .prop(key)
            .filter(|p| !(p.beta_only && options.version == ApiVersion::V1))
            .ok_or_else(|| {
                bad(format!(
                    "The property '{key}' does not exist on type 'microsoft.graph.{}'. Make sure to only use property names that are defined by the type or mark the type as open type.",
                    object_type.name
                ))
            })?;
        if prop.read_only {
            return Err(bad(format!(
                "The property '{key}' is read-only and cannot be set."
            )));
        }
        check_value(prop, value, &child, object_type, options)?;
    }
    if options.creating {
        for prop in object_type.props.iter().filter(|p| p.required) {
            if fields.get(prop.name).is_none_or(Value::is_null) {
                let child = if path.is_empty() {
                    prop.name.to_owned()
                } else {
                    format!("{path}.{}", prop.name)
                };
                return Err(bad(format!(
                    "The property '{child}' is required and cannot be null or missing."
                )));
            }
        }
    }
    Ok(())
}

fn check_value(
    prop: &Prop,
    value: &Value,
    path: &str,
    parent: &ObjectType,
    options: CheckOptions,
) -> Result<(), GraphError> {
    if value.is_null() {
        if prop.is_collection() {
            let expected = collection_type_name(prop);
            return Err(bad(format!(
                "A null value was found for the property named '{}', which has the expected type '{expected}'. The expected type '{expected}' does not allow null values.",
                prop.name
            )));
        }
        if prop.required {
            return Err(bad(format!(
                "The property '{path}' is required and cannot be null or missing."
            )));
        }
        return Ok(());
    }
    match &prop.kind {
        Kind::Str => {
            if !value.is_string() {
                return Err(type_error(path, "Edm.String"));
            }
        }
        Kind::Bool => {
            if !value.is_boolean() {
                return Err(type_error(path, "Edm.Boolean"));
            }
        }
        Kind::Int => {
            if value.as_i64().is_none_or(|n| i32::try_from(n).is_err()) {
                return Err(type_error(path, "Edm.Int32"));
            }
        }
        Kind::Enum(enum_type) => {
            let text = value
                .as_str()
                .ok_or_else(|| type_error(path, &format!("microsoft.graph.{}", enum_type.name)))?;
            check_member(enum_type, text, options)?;
            // Known issue (`conditionalaccesspolicy.md`, msgraph-metadata #647): v1.0 refused everyTime.
            if parent.name == SIGN_IN_FREQUENCY.name
                && prop.name == "frequencyInterval"
                && text == "everyTime"
                && options.version == ApiVersion::V1
            {
                return Err(bad(
                    "signInFrequency with frequencyInterval 'everyTime' is not supported on the v1.0 endpoint. Use the beta endpoint (https://graph.microsoft.com/beta) for this policy.".to_owned(),
                ));
            }
        }
        Kind::Flags(enum_type) => {
            let text = value
                .as_str()
                .ok_or_else(|| type_error(path, &format!("microsoft.graph.{}", enum_type.name)))?;
            for member in text.split(',') {
                check_member(enum_type, member.trim(), options)?;
            }
        }
        Kind::Strings => {
            let ok = value
                .as_array()
                .is_some_and(|items| items.iter().all(Value::is_string));
            if !ok {
                return Err(type_error(path, "Collection(Edm.String)"));
            }
        }
        Kind::Enums(enum_type) => {
            let expected = collection_type_name(prop);
            let items = value
                .as_array()
                .ok_or_else(|| type_error(path, &expected))?;
            for item in items {
                let text = item.as_str().ok_or_else(|| type_error(path, &expected))?;
                check_member(enum_type, text, options)?;
            }
        }
        Kind::Object(object_type) => {
            check(
                value,
                object_type,
                path,
                CheckOptions {
                    creating: false,
                    ..options
                },
            )?;
        }
        Kind::Derived(types) => {
            let object_type = derived_type(types, value).ok_or_else(|| {
                let names: Vec<&str> = types.iter().map(|(name, _)| *name).collect();
                bad(format!(
                    "The property '{path}' is of an abstract type: its '@odata.type' must be one of {}.",
                    names.join(", ")
                ))
            })?;
            check(
                value,
                object_type,
                path,
                CheckOptions {
                    creating: false,
                    ..options
                },
            )?;
        }
        Kind::Opaque => {}
        Kind::Navigation => {
            if !value.get("id").is_some_and(Value::is_string) {
                return Err(bad(format!(
                    "The navigation property '{path}' must be written as {{\"id\": \"<id>\"}}."
                )));
            }
        }
    }
    Ok(())
}

/// The derived type a value's `@odata.type` names (with or without the leading `#`).
fn derived_type(
    types: &[(&'static str, &'static ObjectType)],
    value: &Value,
) -> Option<&'static ObjectType> {
    let named = value.get("@odata.type")?.as_str()?;
    let named = named.strip_prefix('#').unwrap_or(named);
    types
        .iter()
        .find(|(name, _)| name.strip_prefix('#') == Some(named))
        .map(|(_, object_type)| *object_type)
}

fn collection_type_name(prop: &Prop) -> String {
    match &prop.kind {
        Kind::Enums(enum_type) => format!("Collection(microsoft.graph.{})", enum_type.name),
        _ => "Collection(Edm.String)".to_owned(),
    }
}

/// Fills what Graph fills (`[]` for collections, `null` for everything else), recursively, and
/// drops instance annotations and the expanded form of navigation properties.
pub(crate) fn normalize(fields: &mut Map<String, Value>, object_type: &ObjectType) {
    fields.retain(|key, _| !key.starts_with("@odata."));
    for prop in object_type.props {
        if prop.read_only {
            // Never filled: `check` keeps them out of request bodies, and the few a seed may
            // carry (`templateId`) are kept.
            continue;
        }
        let value = fields.entry(prop.name).or_insert_with(|| {
            if prop.is_collection() {
                Value::Array(Vec::new())
            } else {
                Value::Null
            }
        });
        match (&prop.kind, value) {
            (Kind::Object(nested), Value::Object(nested_fields)) => {
                normalize(nested_fields, nested)
            }
            (Kind::Derived(types), Value::Object(derived)) => {
                // Stored as Graph returns it: the derived type's properties filled and its
                // `@odata.type` kept, with the `#` of a payload annotation.
                let named = derived
                    .get("@odata.type")
                    .and_then(Value::as_str)
                    .map(|n| n.strip_prefix('#').unwrap_or(n).to_owned());
                if let Some((name, nested)) = types
                    .iter()
                    .find(|(name, _)| named.as_deref() == name.strip_prefix('#'))
                {
                    normalize(derived, nested);
                    derived.insert("@odata.type".into(), Value::String((*name).to_owned()));
                }
            }
            (Kind::Navigation, Value::Object(navigation)) => {
                navigation.retain(|key, _| key == "id");
            }
            _ => {}
        }
    }
}

/// Applies a PATCH body the way Graph does: properties not sent keep their values, also inside
/// nested complex objects; collections and scalars are replaced.
pub(crate) fn merge(
    target: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    object_type: &ObjectType,
) {
    for (key, value) in patch {
        if key.starts_with("@odata.") {
            continue;
        }
        let Some(prop) = object_type.prop(key) else {
            continue;
        };
        let merged = match (&prop.kind, target.get_mut(key.as_str()), value) {
            (Kind::Object(nested), Some(Value::Object(existing)), Value::Object(update)) => {
                merge(existing, update, nested);
                true
            }
            (
                Kind::Opaque | Kind::Derived(_),
                Some(existing @ Value::Object(_)),
                Value::Object(_),
            ) => {
                merge_opaque(existing, value);
                true
            }
            _ => false,
        };
        if !merged {
            target.insert(key.clone(), value.clone());
        }
    }
    normalize(target, object_type);
}

/// Merge of an uninterpreted complex value: objects merge property by property unless the
/// patch switches the derived type (`@odata.type`), in which case it replaces.
fn merge_opaque(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(existing), Value::Object(update))
            if update.get("@odata.type").is_none()
                || update.get("@odata.type") == existing.get("@odata.type") =>
        {
            for (key, value) in update {
                match existing.get_mut(key) {
                    Some(slot @ Value::Object(_)) if value.is_object() => merge_opaque(slot, value),
                    _ => {
                        existing.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

/// Renders a stored document for a reader: beta-only properties are dropped on v1.0, and
/// evolvable enum members read back as `unknownFutureValue` without the `Prefer` header.
/// `expand` turns a navigation value (`{"id"}`) into what Graph returns for it.
pub(crate) fn render(
    fields: &Map<String, Value>,
    object_type: &ObjectType,
    version: ApiVersion,
    include_unknown_enum_members: bool,
    expand: &dyn Fn(&Value) -> Value,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in fields {
        let Some(prop) = object_type.prop(key) else {
            out.insert(key.clone(), value.clone());
            continue;
        };
        if prop.beta_only && version == ApiVersion::V1 {
            continue;
        }
        let hide = |member: &str, enum_type: &EnumType| {
            if !include_unknown_enum_members && enum_type.evolvable.contains(&member) {
                "unknownFutureValue".to_owned()
            } else {
                member.to_owned()
            }
        };
        let rendered = match (&prop.kind, value) {
            (Kind::Object(nested), Value::Object(nested_fields)) => Value::Object(render(
                nested_fields,
                nested,
                version,
                include_unknown_enum_members,
                expand,
            )),
            (Kind::Enum(enum_type), Value::String(member)) => {
                Value::String(hide(member, enum_type))
            }
            (Kind::Enums(enum_type), Value::Array(members)) => {
                let mut hidden: Vec<Value> = Vec::new();
                for member in members.iter().filter_map(Value::as_str) {
                    let member = Value::String(hide(member, enum_type));
                    if !hidden.contains(&member) {
                        hidden.push(member);
                    }
                }
                Value::Array(hidden)
            }
            (Kind::Flags(enum_type), Value::String(flags)) => {
                let mut hidden: Vec<String> = Vec::new();
                for member in flags.split(',') {
                    let member = hide(member.trim(), enum_type);
                    if !hidden.contains(&member) {
                        hidden.push(member);
                    }
                }
                Value::String(hidden.join(","))
            }
            (Kind::Navigation, value @ Value::Object(_)) => expand(value),
            (_, value) => value.clone(),
        };
        out.insert(key.clone(), rendered);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const V1: CheckOptions = CheckOptions {
        version: ApiVersion::V1,
        include_unknown_enum_members: false,
        creating: true,
    };
    const BETA: CheckOptions = CheckOptions {
        version: ApiVersion::Beta,
        include_unknown_enum_members: false,
        creating: true,
    };

    fn policy() -> Value {
        json!({
            "displayName": "p",
            "state": "enabled",
            "conditions": {
                "users": {"includeUsers": ["All"]},
                "applications": {"includeApplications": ["All"]},
                "clientAppTypes": ["all"],
                "devices": {"deviceFilter": {"mode": "exclude", "rule": "device.isCompliant -eq True"}}
            },
            "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}
        })
    }

    #[test]
    fn accepts_a_documented_policy_and_fills_defaults() {
        let body = policy();
        check(&body, &POLICY, "", V1).unwrap();
        let mut fields = body.as_object().unwrap().clone();
        normalize(&mut fields, &POLICY);
        assert_eq!(fields["conditions"]["users"]["excludeUsers"], json!([]));
        assert_eq!(
            fields["conditions"]["users"]["includeGuestsOrExternalUsers"],
            Value::Null
        );
        assert_eq!(fields["conditions"]["signInRiskLevels"], json!([]));
        assert_eq!(fields["conditions"]["platforms"], Value::Null);
        assert_eq!(fields["sessionControls"], Value::Null);
        assert_eq!(
            fields["grantControls"]["authenticationStrength"],
            Value::Null
        );
        assert_eq!(
            fields["conditions"]["devices"]["deviceFilter"],
            json!({"mode": "exclude", "rule": "device.isCompliant -eq True"})
        );
        // Filled like every collection; a v1.0 reader never sees these beta-only ones.
        assert_eq!(fields["conditions"]["devices"]["includeDevices"], json!([]));
        let v1 = render(&fields, &POLICY, ApiVersion::V1, true, &|v| v.clone());
        assert!(v1["conditions"]["devices"].get("includeDevices").is_none());
    }

    #[test]
    fn rejects_unknown_read_only_null_and_bad_enum_values() {
        let mut body = policy();
        body["conditions"]["users"]["includeUser"] = json!([]);
        assert!(
            check(&body, &POLICY, "", V1)
                .unwrap_err()
                .message
                .contains("'includeUser' does not exist")
        );
        let mut body = policy();
        body["id"] = json!("x");
        assert!(
            check(&body, &POLICY, "", V1)
                .unwrap_err()
                .message
                .contains("read-only")
        );
        let mut body = policy();
        body["conditions"]["userRiskLevels"] = Value::Null;
        assert!(
            check(&body, &POLICY, "", V1)
                .unwrap_err()
                .message
                .contains("does not allow null")
        );
        let mut body = policy();
        body["grantControls"]["builtInControls"] = json!(["mfaa"]);
        assert_eq!(
            check(&body, &POLICY, "", V1).unwrap_err().message,
            "Cannot convert the literal 'mfaa' to the expected type 'microsoft.graph.conditionalAccessGrantControl'."
        );
        let mut body = policy();
        body.as_object_mut().unwrap().remove("state");
        assert!(
            check(&body, &POLICY, "", V1)
                .unwrap_err()
                .message
                .contains("'state' is required")
        );
    }

    #[test]
    fn beta_only_and_evolvable_members() {
        let mut body = policy();
        body["sessionControls"] =
            json!({"continuousAccessEvaluation": {"mode": "strictEnforcement"}});
        assert!(check(&body, &POLICY, "", V1).is_err());
        check(&body, &POLICY, "", BETA).unwrap();
        body["sessionControls"]["continuousAccessEvaluation"]["mode"] = json!("strictLocation");
        assert!(check(&body, &POLICY, "", BETA).is_err());
        let with_header = CheckOptions {
            include_unknown_enum_members: true,
            ..BETA
        };
        check(&body, &POLICY, "", with_header).unwrap();

        let mut fields = body.as_object().unwrap().clone();
        normalize(&mut fields, &POLICY);
        let hidden = render(&fields, &POLICY, ApiVersion::Beta, false, &|v| v.clone());
        assert_eq!(
            hidden["sessionControls"]["continuousAccessEvaluation"]["mode"],
            "unknownFutureValue"
        );
        let shown = render(&fields, &POLICY, ApiVersion::Beta, true, &|v| v.clone());
        assert_eq!(
            shown["sessionControls"]["continuousAccessEvaluation"]["mode"],
            "strictLocation"
        );
        let v1 = render(&fields, &POLICY, ApiVersion::V1, true, &|v| v.clone());
        assert!(
            v1["sessionControls"]
                .get("continuousAccessEvaluation")
                .is_none()
        );
    }

    /// `externalTenants` is of an abstract type: a write names the derived type, and has only
    /// that type's properties.
    #[test]
    fn external_tenants_name_their_derived_type() {
        let mut body = policy();
        let guests = |tenants: Value| json!({"includeGuestsOrExternalUsers": {"guestOrExternalUserTypes": "b2bCollaborationGuest", "externalTenants": tenants}});
        body["conditions"]["users"] = guests(json!({"membershipKind": "all"}));
        let message = check(&body, &POLICY, "", V1).unwrap_err().message;
        assert!(message.contains("abstract type"), "{message}");
        body["conditions"]["users"] = guests(json!({
            "@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants",
            "membershipKind": "all", "members": ["t1"]
        }));
        let message = check(&body, &POLICY, "", V1).unwrap_err().message;
        assert!(message.contains("'members' does not exist on type 'microsoft.graph.conditionalAccessAllExternalTenants'"), "{message}");
        body["conditions"]["users"] = guests(json!({
            "@odata.type": "microsoft.graph.conditionalAccessEnumeratedExternalTenants",
            "membershipKind": "enumerated", "members": ["t1"]
        }));
        check(&body, &POLICY, "", V1).unwrap();
        let mut fields = body.as_object().unwrap().clone();
        normalize(&mut fields, &POLICY);
        assert_eq!(
            fields["conditions"]["users"]["includeGuestsOrExternalUsers"]["externalTenants"]["@odata.type"],
            "#microsoft.graph.conditionalAccessEnumeratedExternalTenants",
            "kept, as Graph returns it"
        );
    }

    #[test]
    fn every_time_is_refused_on_v1_only() {
        let mut body = policy();
        body["sessionControls"] = json!({"signInFrequency": {
            "isEnabled": true, "value": null, "type": null,
            "authenticationType": "primaryAndSecondaryAuthentication", "frequencyInterval": "everyTime"}});
        assert!(
            check(&body, &POLICY, "", V1)
                .unwrap_err()
                .message
                .contains("beta")
        );
        check(&body, &POLICY, "", BETA).unwrap();
    }

    #[test]
    fn merge_keeps_omitted_nested_properties() {
        let mut fields = policy().as_object().unwrap().clone();
        normalize(&mut fields, &POLICY);
        let patch = json!({
            "grantControls": {"authenticationStrength": {"id": "00000000-0000-0000-0000-000000000004"}},
            "conditions": {"users": {"excludeUsers": ["u1"]}, "devices": {"deviceFilter": {"rule": "r2"}}}
        });
        merge(&mut fields, patch.as_object().unwrap(), &POLICY);
        assert_eq!(fields["grantControls"]["builtInControls"], json!(["mfa"]));
        assert_eq!(fields["grantControls"]["operator"], "OR");
        assert_eq!(
            fields["conditions"]["users"]["includeUsers"],
            json!(["All"])
        );
        assert_eq!(fields["conditions"]["users"]["excludeUsers"], json!(["u1"]));
        assert_eq!(
            fields["conditions"]["devices"]["deviceFilter"],
            json!({"mode": "exclude", "rule": "r2"})
        );
    }
}
