//! Authentication strength policies (`authenticationstrengthpolicy.md`): the three built-ins and custom ones, under
//! `/policies/authenticationStrengthPolicies` and
//! `/identity/conditionalAccess/authenticationStrength/policies`.
//!
//! The write surface of a custom strength, each from its page (microsoftgraph/microsoft-graph-docs-contrib,
//! `api-reference/v1.0/api/`): create (`authenticationstrengthroot-post-policies.md`), update of the name and
//! description (`authenticationstrengthpolicy-update.md`), `updateAllowedCombinations`
//! (`authenticationstrengthpolicy-updateallowedcombinations.md`), delete
//! (`authenticationstrengthroot-delete-policies.md`) and the `combinationConfigurations` sub-collection
//! (`authenticationstrengthpolicy-list-combinationconfigurations.md`,
//! `authenticationstrengthpolicy-post-combinationconfigurations.md`, `authenticationcombinationconfiguration-get.md`,
//! `authenticationcombinationconfiguration-update.md`, `authenticationstrengthpolicy-delete-combinationconfigurations.md`).
//! The configurations are kept inside the strength's document, so a GET of the strength and the strength
//! expanded inside a Conditional Access policy show them.

use std::collections::BTreeSet;
use std::time::Instant;

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::Ctx;
use super::collection::Collection;
use super::store::{Record, RecordStore};
use crate::error::GraphError;
use crate::odata;
use crate::pipeline::{ApiVersion, GraphResponse};
use crate::tenant::Tenant;
use crate::time;

/// `authenticationMethodModes` members.
const METHOD_MODES: &[&str] = &[
    "password",
    "voice",
    "hardwareOath",
    "softwareOath",
    "sms",
    "fido2",
    "windowsHelloForBusiness",
    "microsoftAuthenticatorPush",
    "deviceBasedPush",
    "temporaryAccessPassOneTime",
    "temporaryAccessPassMultiUse",
    "email",
    "x509CertificateSingleFactor",
    "x509CertificateMultiFactor",
    "federatedSingleFactor",
    "federatedMultiFactor",
    "qrCodePin",
];

const PHISHING_RESISTANT: &[&str] = &[
    "windowsHelloForBusiness",
    "fido2",
    "x509CertificateMultiFactor",
];

const PASSWORDLESS: &[&str] = &[
    "windowsHelloForBusiness",
    "fido2",
    "x509CertificateMultiFactor",
    "deviceBasedPush",
];

const MULTIFACTOR: &[&str] = &[
    "windowsHelloForBusiness",
    "fido2",
    "x509CertificateMultiFactor",
    "deviceBasedPush",
    "temporaryAccessPassOneTime",
    "temporaryAccessPassMultiUse",
    "password,microsoftAuthenticatorPush",
    "password,softwareOath",
    "password,hardwareOath",
    "password,sms",
    "password,voice",
    "federatedMultiFactor",
    "microsoftAuthenticatorPush,federatedSingleFactor",
    "softwareOath,federatedSingleFactor",
    "hardwareOath,federatedSingleFactor",
    "sms,federatedSingleFactor",
    "voice,federatedSingleFactor",
];

/// The built-ins: (id, display name, description, combinations).
const BUILT_IN: &[(&str, &str, &str, &[&str])] = &[
    (
        "00000000-0000-0000-0000-000000000002",
        "Multifactor authentication",
        "Combinations of methods that satisfy strong authentication, such as a password + SMS",
        MULTIFACTOR,
    ),
    (
        "00000000-0000-0000-0000-000000000003",
        "Passwordless MFA",
        "Passwordless methods that satisfy strong authentication, such as Passwordless sign-in with the Microsoft Authenticator",
        PASSWORDLESS,
    ),
    (
        "00000000-0000-0000-0000-000000000004",
        "Phishing-resistant MFA",
        "Phishing-resistant, Passwordless methods for the strongest authentication, such as a FIDO2 security key",
        PHISHING_RESISTANT,
    ),
];

const PROPERTIES: &[&str] = &[
    "id",
    "createdDateTime",
    "modifiedDateTime",
    "displayName",
    "description",
    "policyType",
    "requirementsSatisfied",
    "allowedCombinations",
];

fn store(tenant: &Tenant) -> &RecordStore {
    &tenant.authentication_strengths
}

fn store_mut(tenant: &mut Tenant) -> &mut RecordStore {
    &mut tenant.authentication_strengths
}

/// As `authenticationstrengthroot-list-policies.md` shows a strength: its combination
/// configurations (a navigation) with their context annotation.
fn render(_: &Tenant, record: &Record, version: ApiVersion, _: bool) -> Value {
    let mut object = to_json(record);
    object["combinationConfigurations@odata.context"] = json!(odata::context(
        version,
        &format!(
            "policies/authenticationStrengthPolicies('{}')/combinationConfigurations",
            record.id
        )
    ));
    object
}

pub(crate) const COLLECTION: Collection = Collection {
    entity_set: "policies/authenticationStrengthPolicies",
    deleted_set: "policies/authenticationStrengthPolicies",
    type_name: "authenticationStrengthPolicy",
    properties: PROPERTIES,
    store,
    store_mut,
    render,
};

/// The strength as Graph returns it (also inside an expanded CA grant control).
pub(crate) fn to_json(record: &Record) -> Value {
    let mut object = record.doc.clone();
    // authenticationstrengthpolicy-get.md: the entity names its type and carries its
    // combinationConfigurations.
    object.insert(
        "@odata.type".into(),
        json!("#microsoft.graph.authenticationStrengthPolicy"),
    );
    object
        .entry("combinationConfigurations")
        .or_insert_with(|| json!([]));
    object.insert("id".into(), json!(record.id));
    object.insert("createdDateTime".into(), json!(time::ticks(record.created)));
    object.insert(
        "modifiedDateTime".into(),
        json!(time::ticks(record.modified)),
    );
    Value::Object(object)
}

/// The three built-in strengths, created "at the beginning of time" of the tenant.
pub(crate) fn built_ins(at: Instant) -> Vec<Record> {
    let created: Timestamp = "2021-12-01T00:00:00Z"
        .parse()
        .expect("a valid constant timestamp");
    BUILT_IN
        .iter()
        .map(|(id, name, description, combinations)| {
            let doc = json!({
                "displayName": name,
                "description": description,
                "policyType": "builtIn",
                "requirementsSatisfied": "mfa",
                "allowedCombinations": combinations,
            });
            let Value::Object(doc) = doc else {
                unreachable!("json! of an object literal")
            };
            Record::new((*id).to_owned(), doc, created, at)
        })
        .collect()
}

/// At most this many custom strengths per tenant. MicrosoftDocs/entra-docs
/// `docs/identity/authentication/concept-authentication-strength-advanced-options.md` (revision
/// e9a88ccf): "Administrators can also create up to 15 of their own custom authentication
/// strengths" (ms.date 09/15/2025: "you can create up to 15 custom authentication strengths");
/// the built-ins do not count.
pub(crate) const MAX_CUSTOM: usize = 15;

/// entra-docs `concept-authentication-strength-advanced-options.md`: "We allow a max of 5 issuers
/// and 5 OIDs to be configured in authentication strengths configuration" (the newer revision:
/// "a maximum of five issuers and five OIDs for an authentication strength"), so the limits
/// count over all the certificate configurations of one strength.
const MAX_ISSUER_SKIS: usize = 5;
const MAX_POLICY_OIDS: usize = 5;

/// The refusal of every write to a built-in strength. `authenticationstrengthpolicy.md`
/// (Methods): "You can't update a built-in authenticationStrengthPolicy object", "You can't
/// delete a built-in authenticationStrengthPolicy object"; Graph's error for it is not
/// documented: the 400 and its text are the simulator's assumption.
const BUILT_IN_REFUSED: &str =
    "Built-in authentication strength policies can't be updated or deleted.";

/// The refusal of combination configuration writes on a built-in strength.
/// `authenticationstrengthpolicy-list-combinationconfigurations.md`: "authenticationCombinationConfiguration objects
/// are supported only for custom authentication strengths"; `authenticationstrengthpolicy-post-combinationconfigurations.md`:
/// they "may only be created for custom authentication strength policies". The 400 and its
/// text are the simulator's assumption.
const CONFIGURATIONS_CUSTOM_ONLY: &str =
    "Combination configurations are supported only for custom authentication strength policies.";

/// `authenticationstrengthpolicy-update.md`: "You cannot update the allowed auth method
/// combinations using this request. To do so, use the Update allowed combinations action." The
/// 400 and its text are the simulator's assumption.
const PATCH_ALLOWED_COMBINATIONS: &str = "The property 'allowedCombinations' cannot be updated with PATCH: use the updateAllowedCombinations action.";

/// The sentences of the documented `updateAllowedCombinationsResult` example
/// (`authenticationstrengthpolicy-updateallowedcombinations.md`) about Conditional Access policies that use the
/// strength.
const REFERENCED_INFORMATION: &str = "This Authentication Strength is referenced by one or more Conditional Access policies. Review conditionalAccessReferences to understand which Conditional Access policies were impacted by this change. To reverse your changes back, use updateAllowedCombinations action with the previousCombinations values.";

fn bad(message: impl Into<String>) -> GraphError {
    GraphError::bad_request(message)
}

/// A collection-of-strings property of a request body; `None` when absent or null.
fn string_list(body: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, GraphError> {
    let not_strings = || {
        bad(format!(
            "The property '{key}' must be a collection of strings."
        ))
    };
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(not_strings),
        Some(_) => Err(not_strings()),
    }
}

/// Checks `authenticationMethodModes` combinations (`authenticationstrengthpolicy-updateallowedcombinations.md`
/// lists the members): at least one, each a comma-separated set of known modes.
fn check_combinations(combinations: &[String], property: &str) -> Result<(), GraphError> {
    if combinations.is_empty() {
        return Err(bad(format!(
            "The property '{property}' must name at least one combination."
        )));
    }
    for combination in combinations {
        for mode in combination.split(',') {
            if !METHOD_MODES.contains(&mode.trim()) {
                return Err(bad(format!(
                    "Cannot convert the literal '{mode}' to the expected type 'microsoft.graph.authenticationMethodModes'."
                )));
            }
        }
    }
    Ok(())
}

/// A combination as its set of modes. `authenticationMethodModes` is a flags enum: `"password, sms"`
/// and `"sms,password"` are one combination (`authenticationstrengthroot-list-policies.md` example 2
/// finds the built-in's `password,sms` with `has 'sms, password'`).
fn modes(combination: &str) -> BTreeSet<&str> {
    combination.split(',').map(str::trim).collect()
}

fn same_combination(a: &str, b: &str) -> bool {
    modes(a) == modes(b)
}

/// A custom strength's writable document, checked.
pub(crate) fn custom_document(
    display_name: &str,
    description: Option<&str>,
    combinations: &[String],
) -> Result<Map<String, Value>, GraphError> {
    if display_name.trim().is_empty() {
        return Err(bad(
            "The property 'displayName' is required and cannot be null or missing.",
        ));
    }
    check_combinations(combinations, "allowedCombinations")?;
    let Value::Object(doc) = json!({
        "displayName": display_name,
        "description": description,
        "policyType": "custom",
        "requirementsSatisfied": "mfa",
        "allowedCombinations": combinations,
    }) else {
        unreachable!("json! of an object literal")
    };
    Ok(doc)
}

fn is_built_in(record: &Record) -> bool {
    record.doc.get("policyType").and_then(Value::as_str) == Some("builtIn")
}

fn allowed_combinations(record: &Record) -> Vec<String> {
    record
        .doc
        .get("allowedCombinations")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn configurations(record: &Record) -> Vec<Map<String, Value>> {
    record
        .doc
        .get("combinationConfigurations")
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_object).cloned().collect())
        .unwrap_or_default()
}

fn set_configurations(record: &mut Record, configurations: Vec<Map<String, Value>>) {
    record.doc.insert(
        "combinationConfigurations".into(),
        Value::Array(configurations.into_iter().map(Value::Object).collect()),
    );
}

/// Ids of the Conditional Access policies whose `grantControls.authenticationStrength` is the
/// strength (`updateallowedcombinationsresult.md`: "References to existing Conditional Access
/// policies that use this authentication strength"). Policies in the deleted items are not
/// existing ones and are left out; policies still inside the `--lag` window are counted.
fn conditional_access_references(tenant: &Tenant, id: &str) -> Vec<String> {
    tenant
        .policies
        .all()
        .filter(|policy| policy.deleted.is_none())
        .filter(|policy| {
            policy
                .doc
                .get("grantControls")
                .and_then(|grant| grant["authenticationStrength"]["id"].as_str())
                .is_some_and(|strength| strength.eq_ignore_ascii_case(id))
        })
        .map(|policy| policy.id.clone())
        .collect()
}

/// The live strength `id`, or 404.
fn strength<'t>(ctx: &'t Ctx<'_>, id: &str) -> Result<&'t Record, GraphError> {
    ctx.tenant
        .authentication_strengths
        .get_active(id, ctx.instant)
        .ok_or_else(|| GraphError::not_found(id))
}

/// The live custom strength `id` to change: 404 when there is none, 400 `refusal` for a built-in.
fn custom_strength_mut<'t>(
    ctx: &'t mut Ctx<'_>,
    id: &str,
    refusal: &str,
) -> Result<&'t mut Record, GraphError> {
    let at = ctx.instant;
    let record = ctx
        .tenant
        .authentication_strengths
        .get_active_mut(id, at)
        .ok_or_else(|| GraphError::not_found(id))?;
    if is_built_in(record) {
        return Err(bad(refusal));
    }
    Ok(record)
}

/// Why a property a strength's POST or PATCH does not take is refused: read-only, or not a
/// property of the type (Graph's wording for both).
fn not_writable(key: &str) -> GraphError {
    match key {
        "id" | "createdDateTime" | "modifiedDateTime" | "policyType" | "requirementsSatisfied" => {
            bad(format!(
                "The property '{key}' is read-only and cannot be set."
            ))
        }
        other => bad(format!(
            "The property '{other}' does not exist on type 'microsoft.graph.authenticationStrengthPolicy'. Make sure to only use property names that are defined by the type or mark the type as open type."
        )),
    }
}

/// `POST`: a custom strength; 201 (`authenticationstrengthroot-post-policies.md`). The body may carry
/// `combinationConfigurations` to create with it, as entra-docs
/// `concept-authentication-strength-advanced-options.md` ("To create a new Conditional Access authentication
/// strength policy with certificate combinationConfiguration") shows; they are checked as a POST to
/// the sub-collection would check them.
pub(crate) fn create(ctx: &mut Ctx<'_>) -> Result<GraphResponse, GraphError> {
    let req = ctx.req;
    let body = req.json_object()?;
    for key in body.keys() {
        match key.as_str() {
            "displayName"
            | "description"
            | "allowedCombinations"
            | "combinationConfigurations"
            | "@odata.type" => {}
            other => return Err(not_writable(other)),
        }
    }
    let combinations = string_list(body, "allowedCombinations")?.unwrap_or_default();
    let mut doc = custom_document(
        body.get("displayName")
            .and_then(Value::as_str)
            .unwrap_or(""),
        body.get("description").and_then(Value::as_str),
        &combinations,
    )?;
    // The limit counts every custom strength the tenant has, the ones still inside the
    // `--lag` window included.
    let custom = ctx
        .tenant
        .authentication_strengths
        .all()
        .filter(|r| r.deleted.is_none() && !is_built_in(r))
        .count();
    if custom >= MAX_CUSTOM {
        // The error Graph answers is not documented: the 400 and its text are the simulator's
        // assumption.
        return Err(bad(format!(
            "The tenant already has {MAX_CUSTOM} custom authentication strength policies, the maximum."
        )));
    }
    let mut created = Vec::new();
    match body.get("combinationConfigurations") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                let Value::Object(item) = item else {
                    return Err(bad(
                        "The property 'combinationConfigurations' must be a collection of combination configurations.",
                    ));
                };
                let mut configuration = configuration_from(item, None, &combinations, &created)?;
                configuration.insert(
                    "id".into(),
                    json!(
                        ctx.tenant
                            .ids
                            .next("authenticationCombinationConfiguration")
                    ),
                );
                created.push(configuration);
            }
        }
        Some(_) => {
            return Err(bad(
                "The property 'combinationConfigurations' must be a collection of combination configurations.",
            ));
        }
    }
    doc.insert(
        "combinationConfigurations".into(),
        Value::Array(created.into_iter().map(Value::Object).collect()),
    );
    let id = ctx.tenant.ids.next("authenticationStrengthPolicy");
    let record = Record::new(id, doc, ctx.now, ctx.visible_from());
    let response = COLLECTION.created(ctx, &record);
    ctx.tenant.authentication_strengths.insert(record);
    Ok(response)
}

/// `PATCH`: 204 (`authenticationstrengthpolicy-update.md`). Only `displayName` and `description` change;
/// `allowedCombinations` is refused (the page sends it to `updateAllowedCombinations`), and so is
/// any write to a built-in (`authenticationstrengthpolicy.md`).
pub(crate) fn update(ctx: &mut Ctx<'_>, id: &str) -> Result<GraphResponse, GraphError> {
    let req = ctx.req;
    let body = req.json_object()?;
    let now = ctx.now;
    let record = custom_strength_mut(ctx, id, BUILT_IN_REFUSED)?;
    let mut doc = record.doc.clone();
    for (key, value) in body {
        match key.as_str() {
            // The page's own example sends the type.
            "@odata.type" => {}
            "displayName" => match value.as_str() {
                Some(name) if !name.trim().is_empty() => {
                    doc.insert(key.clone(), value.clone());
                }
                _ => {
                    return Err(bad(
                        "The property 'displayName' is required and cannot be null or empty.",
                    ));
                }
            },
            "description" => match value {
                Value::String(_) | Value::Null => {
                    doc.insert(key.clone(), value.clone());
                }
                _ => return Err(bad("The property 'description' must be a string.")),
            },
            "allowedCombinations" => return Err(bad(PATCH_ALLOWED_COMBINATIONS)),
            "combinationConfigurations" => {
                return Err(bad(
                    "The navigation property 'combinationConfigurations' cannot be updated with PATCH: use the policy's combinationConfigurations collection.",
                ));
            }
            other => return Err(not_writable(other)),
        }
    }
    record.doc = doc;
    record.modified = now;
    Ok(GraphResponse::no_content())
}

/// `POST …/updateAllowedCombinations` with `{"allowedCombinations": […]}`: 200 with an
/// `updateAllowedCombinationsResult` (`authenticationstrengthpolicy-updateallowedcombinations.md`,
/// `updateallowedcombinationsresult.md`). The combinations are checked as a create checks them.
///
/// A combination configuration must apply to combinations of the strength
/// (`authenticationcombinationconfiguration.md`: `appliesToCombinations` "Must be an allowedCombinations
/// object that's defined for the authenticationStrengthPolicy"), so removing a combination a
/// configuration applies to is refused; Graph's error for it is not documented (the 400 and its
/// text are the simulator's assumption).
pub(crate) fn update_allowed_combinations(
    ctx: &mut Ctx<'_>,
    id: &str,
) -> Result<GraphResponse, GraphError> {
    let req = ctx.req;
    let body = req.json_object()?;
    if let Some(key) = body.keys().find(|k| k.as_str() != "allowedCombinations") {
        return Err(bad(format!(
            "The parameter '{key}' in the request payload is not a valid parameter for the operation 'updateAllowedCombinations'."
        )));
    }
    let combinations = string_list(body, "allowedCombinations")?.unwrap_or_default();
    check_combinations(&combinations, "allowedCombinations")?;
    let references = conditional_access_references(ctx.tenant, id);
    let (now, version) = (ctx.now, ctx.version());
    let record = custom_strength_mut(ctx, id, BUILT_IN_REFUSED)?;
    for configuration in configurations(record) {
        for applies in string_list(&configuration, "appliesToCombinations")?.unwrap_or_default() {
            if !combinations.iter().any(|c| same_combination(c, &applies)) {
                return Err(bad(format!(
                    "The combination '{applies}' has a combination configuration ('{}'): update or delete the configuration before removing the combination from allowedCombinations.",
                    configuration["id"].as_str().unwrap_or_default()
                )));
            }
        }
    }
    let previous = allowed_combinations(record);
    record
        .doc
        .insert("allowedCombinations".into(), json!(combinations));
    record.modified = now;
    // `updateallowedcombinationsresult.md`: additionalInformation is "Information about why the
    // updateAllowedCombinations action was successful or failed". When Graph writes it is not
    // documented; the simulator writes the documented example's sentences about references when
    // Conditional Access policies use the strength, and null otherwise.
    let additional = (!references.is_empty()).then_some(REFERENCED_INFORMATION);
    Ok(GraphResponse::ok(json!({
        "@odata.context": odata::context(version, "microsoft.graph.updateAllowedCombinationsResult"),
        "@odata.type": "#microsoft.graph.updateAllowedCombinationsResult",
        "previousCombinations": previous,
        "currentCombinations": combinations,
        "conditionalAccessReferences": references,
        "additionalInformation": additional,
    })))
}

/// `DELETE`: 204 for a custom strength (`authenticationstrengthroot-delete-policies.md`; its example
/// appends `/$ref`, which the routes accept too). A built-in is refused (`authenticationstrengthpolicy.md`:
/// "You can't delete a built-in authenticationStrengthPolicy object"), and so is a strength a
/// Conditional Access policy's `grantControls.authenticationStrength` names: entra-docs
/// `docs/identity/authentication/concept-authentication-strength-advanced-options.md` ("Update and delete
/// custom authentication strengths"): "If it's referenced by a Conditional Access policy, it
/// can't be deleted". Graph's error for either is not documented: the 400s and their texts are
/// the simulator's assumption. Strengths have no deleted items: the delete is permanent.
pub(crate) fn delete(ctx: &mut Ctx<'_>, id: &str) -> Result<GraphResponse, GraphError> {
    let record = strength(ctx, id)?;
    if is_built_in(record) {
        return Err(bad(BUILT_IN_REFUSED));
    }
    let references = conditional_access_references(ctx.tenant, id);
    if !references.is_empty() {
        return Err(bad(format!(
            "The authentication strength policy '{id}' is referenced by Conditional Access policies ({}) and can't be deleted: remove it from their grant controls first.",
            references.join(", ")
        )));
    }
    COLLECTION.delete_permanently(ctx, id)
}

/// The two derived types of `authenticationCombinationConfiguration` (an abstract type,
/// `authenticationcombinationconfiguration.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ConfigurationKind {
    /// `fido2combinationconfiguration.md`: `allowedAAGUIDs`, applies only to `fido2`.
    Fido2,
    /// `x509certificatecombinationconfiguration.md`: `allowedIssuerSkis` and `allowedPolicyOIDs`,
    /// applies only to `x509CertificateSingleFactor` or `x509CertificateMultiFactor`.
    X509Certificate,
}

impl ConfigurationKind {
    /// The kind an `@odata.type` names, with or without its `#`.
    fn parse(odata_type: &str) -> Option<ConfigurationKind> {
        match odata_type.trim_start_matches('#') {
            "microsoft.graph.fido2CombinationConfiguration" => Some(ConfigurationKind::Fido2),
            "microsoft.graph.x509CertificateCombinationConfiguration" => {
                Some(ConfigurationKind::X509Certificate)
            }
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            ConfigurationKind::Fido2 => "fido2CombinationConfiguration",
            ConfigurationKind::X509Certificate => "x509CertificateCombinationConfiguration",
        }
    }

    /// The type's own string-collection properties.
    fn lists(self) -> &'static [&'static str] {
        match self {
            ConfigurationKind::Fido2 => &["allowedAAGUIDs"],
            ConfigurationKind::X509Certificate => &["allowedIssuerSkis", "allowedPolicyOIDs"],
        }
    }

    /// The combinations a configuration of this type may apply to.
    fn applies_to(self) -> &'static [&'static str] {
        match self {
            ConfigurationKind::Fido2 => &["fido2"],
            ConfigurationKind::X509Certificate => {
                &["x509CertificateSingleFactor", "x509CertificateMultiFactor"]
            }
        }
    }
}

/// Builds a combination configuration from a request body: a new one (`existing` is `None`) or
/// `existing` with a PATCH merged in, checked against the strength's `allowed` combinations and
/// its `others` configurations. The result has no `id` when new.
///
/// - `@odata.type` is required on create (`authenticationstrengthpolicy-post-combinationconfigurations.md`: "you must
///   supply the @odata.type and required properties of the derived type") and cannot change.
/// - `appliesToCombinations` is required (same page) and each combination must be allowed by the
///   strength (`authenticationcombinationconfiguration.md`) and be one the type applies to
///   (`fido2combinationconfiguration.md`: "The only possible value for fido2combinationConfigurations is
///   "fido2""; `x509certificatecombinationconfiguration.md`: "x509CertificateSingleFactor" or
///   "x509CertificateMultiFactor").
/// - `allowedAAGUIDs` are Authenticator Attestation GUIDs (`fido2combinationconfiguration.md`).
/// - At most 5 issuer SKIs and 5 policy OIDs per strength (entra-docs
///   `concept-authentication-strength-advanced-options.md`).
///
/// The errors' texts are the simulator's (Graph's are not documented).
fn configuration_from(
    body: &Map<String, Value>,
    existing: Option<&Map<String, Value>>,
    allowed: &[String],
    others: &[Map<String, Value>],
) -> Result<Map<String, Value>, GraphError> {
    let existing_kind = existing
        .and_then(|c| c.get("@odata.type"))
        .and_then(Value::as_str)
        .and_then(ConfigurationKind::parse);
    let kind = match (
        body.get("@odata.type").and_then(Value::as_str),
        existing_kind,
    ) {
        (None, Some(kind)) => kind,
        (Some(named), existing) => {
            let kind = ConfigurationKind::parse(named).ok_or_else(|| bad(format!(
                "'{named}' is not a combination configuration type: use '#microsoft.graph.fido2CombinationConfiguration' or '#microsoft.graph.x509CertificateCombinationConfiguration'."
            )))?;
            if existing.is_some_and(|e| e != kind) {
                return Err(bad(
                    "The @odata.type of a combination configuration cannot be changed.",
                ));
            }
            kind
        }
        (None, None) => {
            return Err(bad(
                "A combination configuration needs its '@odata.type': '#microsoft.graph.fido2CombinationConfiguration' or '#microsoft.graph.x509CertificateCombinationConfiguration'.",
            ));
        }
    };
    let mut configuration = match existing {
        Some(existing) => existing.clone(),
        None => {
            let mut fresh = Map::new();
            for list in kind.lists() {
                fresh.insert((*list).to_owned(), json!([]));
            }
            fresh
        }
    };
    configuration.insert(
        "@odata.type".into(),
        json!(format!("#microsoft.graph.{}", kind.name())),
    );
    for key in body.keys() {
        match key.as_str() {
            "@odata.type" => {}
            "id" => {
                return Err(bad("The property 'id' is read-only and cannot be set."));
            }
            "appliesToCombinations" => {
                let combinations = string_list(body, key)?.unwrap_or_default();
                configuration.insert(key.clone(), json!(combinations));
            }
            list if kind.lists().contains(&list) => {
                let values = string_list(body, key)?.unwrap_or_default();
                configuration.insert(key.clone(), json!(values));
            }
            other => {
                return Err(bad(format!(
                    "The property '{other}' does not exist on type 'microsoft.graph.{}'. Make sure to only use property names that are defined by the type or mark the type as open type.",
                    kind.name()
                )));
            }
        }
    }
    let applies = string_list(&configuration, "appliesToCombinations")?.unwrap_or_default();
    if applies.is_empty() {
        return Err(bad(
            "The property 'appliesToCombinations' is required and must name at least one combination.",
        ));
    }
    check_combinations(&applies, "appliesToCombinations")?;
    for combination in &applies {
        if !kind
            .applies_to()
            .iter()
            .any(|c| same_combination(c, combination))
        {
            return Err(bad(format!(
                "A {} can apply only to {}; '{combination}' is not one of them.",
                kind.name(),
                kind.applies_to()
                    .iter()
                    .map(|c| format!("'{c}'"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            )));
        }
        if !allowed.iter().any(|c| same_combination(c, combination)) {
            return Err(bad(format!(
                "The combination '{combination}' is not among the allowedCombinations of the authentication strength policy."
            )));
        }
    }
    match kind {
        ConfigurationKind::Fido2 => {
            for aaguid in string_list(&configuration, "allowedAAGUIDs")?.unwrap_or_default() {
                if !crate::ids::is_guid(&aaguid) {
                    return Err(bad(format!(
                        "'{aaguid}' in allowedAAGUIDs is not an AAGUID (a GUID)."
                    )));
                }
            }
        }
        ConfigurationKind::X509Certificate => {
            let own_id = configuration.get("id").cloned();
            for (property, limit, what) in [
                ("allowedIssuerSkis", MAX_ISSUER_SKIS, "issuers"),
                ("allowedPolicyOIDs", MAX_POLICY_OIDS, "policy OIDs"),
            ] {
                let elsewhere: usize = others
                    .iter()
                    .filter(|o| own_id.is_none() || o.get("id") != own_id.as_ref())
                    .filter(|o| {
                        o.get("@odata.type")
                            .and_then(Value::as_str)
                            .and_then(ConfigurationKind::parse)
                            == Some(ConfigurationKind::X509Certificate)
                    })
                    .map(|o| {
                        o.get(property)
                            .and_then(Value::as_array)
                            .map_or(0, Vec::len)
                    })
                    .sum();
                let own = configuration
                    .get(property)
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                if own + elsewhere > limit {
                    return Err(bad(format!(
                        "An authentication strength can have at most {limit} {what} ({property}) across its certificate combination configurations."
                    )));
                }
            }
        }
    }
    Ok(configuration)
}

fn configurations_context(version: ApiVersion, strength: &str) -> String {
    odata::context(
        version,
        &format!("policies/authenticationStrengthPolicies('{strength}')/combinationConfigurations"),
    )
}

/// `GET …/combinationConfigurations`: 200 with the strength's configurations
/// (`authenticationstrengthpolicy-list-combinationconfigurations.md`; "This method does not support OData query
/// parameters", so they are ignored). A built-in has none.
pub(crate) fn list_configurations(
    ctx: &mut Ctx<'_>,
    id: &str,
) -> Result<GraphResponse, GraphError> {
    let record = strength(ctx, id)?;
    let values = configurations(record)
        .into_iter()
        .map(Value::Object)
        .collect();
    Ok(GraphResponse::ok(odata::collection_body(
        configurations_context(ctx.version(), &record.id),
        values,
        None,
        None,
    )))
}

fn find_configuration(
    record: &Record,
    configuration_id: &str,
) -> Result<Map<String, Value>, GraphError> {
    configurations(record)
        .into_iter()
        .find(|c| {
            c.get("id")
                .and_then(Value::as_str)
                .is_some_and(|id| id.eq_ignore_ascii_case(configuration_id))
        })
        .ok_or_else(|| GraphError::not_found(configuration_id))
}

/// `GET …/combinationConfigurations/{id}`: 200 (`authenticationcombinationconfiguration-get.md`).
pub(crate) fn get_configuration(
    ctx: &mut Ctx<'_>,
    id: &str,
    configuration_id: &str,
) -> Result<GraphResponse, GraphError> {
    let record = strength(ctx, id)?;
    let configuration = find_configuration(record, configuration_id)?;
    Ok(GraphResponse::ok(odata::entity_body(
        format!(
            "{}/$entity",
            configurations_context(ctx.version(), &record.id)
        ),
        Value::Object(configuration),
    )))
}

/// `POST …/combinationConfigurations`: 201 with the new configuration
/// (`authenticationstrengthpolicy-post-combinationconfigurations.md`), checked by [`configuration_from`].
pub(crate) fn create_configuration(
    ctx: &mut Ctx<'_>,
    id: &str,
) -> Result<GraphResponse, GraphError> {
    let req = ctx.req;
    let body = req.json_object()?;
    let record = strength(ctx, id)?;
    if is_built_in(record) {
        return Err(bad(CONFIGURATIONS_CUSTOM_ONLY));
    }
    let mut configuration = configuration_from(
        body,
        None,
        &allowed_combinations(record),
        &configurations(record),
    )?;
    configuration.insert(
        "id".into(),
        json!(
            ctx.tenant
                .ids
                .next("authenticationCombinationConfiguration")
        ),
    );
    let (now, version) = (ctx.now, ctx.version());
    let record = custom_strength_mut(ctx, id, CONFIGURATIONS_CUSTOM_ONLY)?;
    let mut all = configurations(record);
    all.push(configuration.clone());
    set_configurations(record, all);
    record.modified = now;
    Ok(GraphResponse::created(odata::entity_body(
        format!("{}/$entity", configurations_context(version, &record.id)),
        Value::Object(configuration),
    )))
}

/// `PATCH …/combinationConfigurations/{id}`: 204 (`authenticationcombinationconfiguration-update.md`), the
/// merged configuration checked by [`configuration_from`].
pub(crate) fn update_configuration(
    ctx: &mut Ctx<'_>,
    id: &str,
    configuration_id: &str,
) -> Result<GraphResponse, GraphError> {
    let req = ctx.req;
    let body = req.json_object()?;
    let now = ctx.now;
    let record = custom_strength_mut(ctx, id, CONFIGURATIONS_CUSTOM_ONLY)?;
    let existing = find_configuration(record, configuration_id)?;
    let mut all = configurations(record);
    let updated = configuration_from(body, Some(&existing), &allowed_combinations(record), &all)?;
    for configuration in &mut all {
        if configuration.get("id") == existing.get("id") {
            *configuration = updated.clone();
        }
    }
    set_configurations(record, all);
    record.modified = now;
    Ok(GraphResponse::no_content())
}

/// `DELETE …/combinationConfigurations/{id}`: 204 (`authenticationstrengthpolicy-delete-combinationconfigurations.md`;
/// its example appends `/$ref`, which the routes accept too).
pub(crate) fn delete_configuration(
    ctx: &mut Ctx<'_>,
    id: &str,
    configuration_id: &str,
) -> Result<GraphResponse, GraphError> {
    let now = ctx.now;
    let record = custom_strength_mut(ctx, id, CONFIGURATIONS_CUSTOM_ONLY)?;
    let existing = find_configuration(record, configuration_id)?;
    let mut all = configurations(record);
    all.retain(|c| c.get("id") != existing.get("id"));
    set_configurations(record, all);
    record.modified = now;
    Ok(GraphResponse::no_content())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Principal, TokenIssuer};
    use crate::config::SimConfig;
    use crate::odata::QueryOptions;
    use crate::pipeline::{Body, GraphRequest};
    use crate::resources::dispatch;
    use crate::routes::Route;
    use crate::state::Settings;
    use axum::http::{HeaderMap, Method, StatusCode};

    const STRENGTHS: &str = "/policies/authenticationStrengthPolicies";
    const PHISHING_RESISTANT: &str = "00000000-0000-0000-0000-000000000004";
    const AAGUID: &str = "486c3b50-889c-480a-abc5-c04ef7c873e0";

    /// A tenant and the handlers, without HTTP, tokens or throttling.
    struct Sim {
        tenant: Tenant,
        settings: Settings,
    }

    /// A handler's answer: status and body (Graph's error body for errors).
    struct Answer {
        status: StatusCode,
        body: Value,
    }

    impl Sim {
        fn new() -> Sim {
            let config = SimConfig::default();
            let tenant = Tenant::build(&config, Timestamp::now(), Instant::now()).unwrap();
            let tokens = TokenIssuer::new(&config.tenant_id, &config.client_id, &[], 3600).unwrap();
            Sim {
                tenant,
                settings: Settings {
                    config,
                    base_url: "http://127.0.0.1:1".into(),
                    tokens,
                    certificate: None,
                },
            }
        }

        fn call(&mut self, method: Method, path: &str, body: Option<Value>) -> Answer {
            let req = GraphRequest {
                method: method.clone(),
                version: ApiVersion::V1,
                path: path.to_owned(),
                query: Vec::new(),
                headers: HeaderMap::new(),
                body: body.map_or(Body::None, Body::Json),
                origin: "http://127.0.0.1:1".into(),
            };
            let result = Route::parse(&method, path).and_then(|route| {
                let query = QueryOptions::parse(&req)?;
                let principal = Principal { roles: Vec::new() };
                let mut ctx = Ctx {
                    tenant: &mut self.tenant,
                    settings: &self.settings,
                    req: &req,
                    query: &query,
                    principal: &principal,
                    now: Timestamp::now(),
                    instant: Instant::now(),
                };
                dispatch(&mut ctx, &route)
            });
            match result {
                Ok(response) => Answer {
                    status: response.status,
                    body: response.body.unwrap_or(Value::Null),
                },
                Err(error) => Answer {
                    status: error.code.status(),
                    body: error.body("r", "c"),
                },
            }
        }

        fn get(&mut self, path: &str) -> Answer {
            self.call(Method::GET, path, None)
        }

        fn post(&mut self, path: &str, body: Value) -> Answer {
            self.call(Method::POST, path, Some(body))
        }

        fn patch(&mut self, path: &str, body: Value) -> Answer {
            self.call(Method::PATCH, path, Some(body))
        }

        fn delete(&mut self, path: &str) -> Answer {
            self.call(Method::DELETE, path, None)
        }

        /// A custom strength with these combinations; its id.
        fn strength(&mut self, name: &str, combinations: &[&str]) -> String {
            let answer = self.post(
                STRENGTHS,
                json!({"displayName": name, "allowedCombinations": combinations}),
            );
            assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
            answer.body["id"].as_str().unwrap().to_owned()
        }

        /// A Conditional Access policy requiring `strength`; its id.
        fn policy_requiring(&mut self, strength: &str) -> String {
            let answer = self.post(
                "/identity/conditionalAccess/policies",
                json!({
                    "displayName": "needs the strength",
                    "state": "enabled",
                    "conditions": {
                        "users": {"includeUsers": ["All"]},
                        "applications": {"includeApplications": ["All"]},
                        "clientAppTypes": ["all"]
                    },
                    "grantControls": {"operator": "OR", "authenticationStrength": {"id": strength}}
                }),
            );
            assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
            answer.body["id"].as_str().unwrap().to_owned()
        }

        fn record(&self, id: &str) -> Option<&Record> {
            self.tenant
                .authentication_strengths
                .all()
                .find(|r| r.id == id)
        }
    }

    fn message(answer: &Answer) -> &str {
        answer.body["error"]["message"].as_str().unwrap_or_default()
    }

    fn assert_refused(answer: &Answer, contains: &str) {
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
        assert_eq!(answer.body["error"]["code"], "BadRequest");
        assert!(
            message(answer).contains(contains),
            "{:?} does not contain {contains:?}",
            message(answer)
        );
    }

    fn fido2(applies: &[&str]) -> Value {
        json!({
            "@odata.type": "#microsoft.graph.fido2CombinationConfiguration",
            "allowedAAGUIDs": [AAGUID],
            "appliesToCombinations": applies,
        })
    }

    fn x509(issuers: usize, oids: usize, applies: &str) -> Value {
        let issuers: Vec<String> = (0..issuers).map(|n| format!("9A42{n:036}")).collect();
        let oids: Vec<String> = (0..oids).map(|n| format!("1.2.3.4.{n}")).collect();
        json!({
            "@odata.type": "#microsoft.graph.x509CertificateCombinationConfiguration",
            "allowedIssuerSkis": issuers,
            "allowedPolicyOIDs": oids,
            "appliesToCombinations": [applies],
        })
    }

    #[test]
    fn patch_changes_only_the_name_and_description_of_a_custom_strength() {
        let mut sim = Sim::new();
        let id = sim.strength("Contoso", &["password, sms"]);
        let path = format!("{STRENGTHS}/{id}");
        // authenticationstrengthpolicy-update.md, with the page's body.
        let answer = sim.patch(
            &path,
            json!({"@odata.type": "#microsoft.graph.authenticationStrengthPolicy",
                   "displayName": "FIDO2 only", "description": "An auth strength allowing only FIDO2 security keys."}),
        );
        assert_eq!(answer.status, StatusCode::NO_CONTENT);
        assert_eq!(answer.body, Value::Null);
        let read = sim.get(&path);
        assert_eq!(read.body["displayName"], "FIDO2 only");
        assert_eq!(
            read.body["description"],
            "An auth strength allowing only FIDO2 security keys."
        );
        assert_eq!(read.body["allowedCombinations"], json!(["password, sms"]));
        // The other path names the same collection.
        let other = format!("/identity/conditionalAccess/authenticationStrength/policies/{id}");
        let answer = sim.patch(&other, json!({"description": null}));
        assert_eq!(answer.status, StatusCode::NO_CONTENT);
        assert_eq!(sim.record(&id).unwrap().doc["description"], Value::Null);

        for (body, refusal) in [
            (
                json!({"allowedCombinations": ["fido2"]}),
                PATCH_ALLOWED_COMBINATIONS,
            ),
            (json!({"policyType": "builtIn"}), "read-only"),
            (json!({"displayName": ""}), "displayName"),
            (json!({"displayName": 3}), "displayName"),
            (
                json!({"combinationConfigurations": []}),
                "combinationConfigurations",
            ),
            (json!({"color": "red"}), "does not exist"),
        ] {
            assert_refused(&sim.patch(&path, body), refusal);
        }
        let record = sim.record(&id).unwrap();
        assert_eq!(record.doc["displayName"], "FIDO2 only");
        assert_eq!(record.doc["allowedCombinations"], json!(["password, sms"]));
        assert_eq!(record.doc["policyType"], "custom");

        let answer = sim.patch(
            &format!("{STRENGTHS}/{PHISHING_RESISTANT}"),
            json!({"displayName": "mine"}),
        );
        assert_refused(&answer, BUILT_IN_REFUSED);
        assert_eq!(
            sim.record(PHISHING_RESISTANT).unwrap().doc["displayName"],
            "Phishing-resistant MFA"
        );
        let answer = sim.patch(
            &format!("{STRENGTHS}/11111111-2222-3333-4444-555555555555"),
            json!({"displayName": "x"}),
        );
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
    }

    #[test]
    fn update_allowed_combinations_answers_the_result_and_names_the_policies_using_it() {
        let mut sim = Sim::new();
        let id = sim.strength("Contoso", &["fido2", "password, voice"]);
        let action = format!("{STRENGTHS}/{id}/updateAllowedCombinations");
        let answer = sim.post(&action, json!({"allowedCombinations": ["password, voice"]}));
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(
            answer.body["@odata.type"],
            "#microsoft.graph.updateAllowedCombinationsResult"
        );
        assert_eq!(
            answer.body["previousCombinations"],
            json!(["fido2", "password, voice"])
        );
        assert_eq!(
            answer.body["currentCombinations"],
            json!(["password, voice"])
        );
        assert_eq!(answer.body["conditionalAccessReferences"], json!([]));
        assert_eq!(answer.body["additionalInformation"], Value::Null);
        assert_eq!(
            sim.record(&id).unwrap().doc["allowedCombinations"],
            json!(["password, voice"])
        );

        let policy = sim.policy_requiring(&id);
        let answer = sim.post(&action, json!({"allowedCombinations": ["fido2", "sms"]}));
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(answer.body["conditionalAccessReferences"], json!([policy]));
        assert!(
            answer.body["additionalInformation"]
                .as_str()
                .unwrap()
                .contains("referenced by one or more Conditional Access policies")
        );
        assert_eq!(
            answer.body["previousCombinations"],
            json!(["password, voice"])
        );

        for (body, refusal) in [
            (
                json!({"allowedCombinations": []}),
                "at least one combination",
            ),
            (json!({}), "at least one combination"),
            (json!({"allowedCombinations": ["fido3"]}), "'fido3'"),
            (json!({"allowedCombinations": [7]}), "collection of strings"),
            (
                json!({"allowedCombinations": ["fido2"], "displayName": "x"}),
                "not a valid parameter",
            ),
        ] {
            assert_refused(&sim.post(&action, body), refusal);
        }
        assert_eq!(
            sim.record(&id).unwrap().doc["allowedCombinations"],
            json!(["fido2", "sms"])
        );
        let answer = sim.post(
            &format!("{STRENGTHS}/{PHISHING_RESISTANT}/updateAllowedCombinations"),
            json!({"allowedCombinations": ["fido2"]}),
        );
        assert_refused(&answer, BUILT_IN_REFUSED);
        assert_eq!(
            sim.record(PHISHING_RESISTANT).unwrap().doc["allowedCombinations"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
    }

    #[test]
    fn delete_removes_a_custom_strength_unless_built_in_or_in_use() {
        let mut sim = Sim::new();
        let id = sim.strength("Contoso", &["fido2"]);
        let path = format!("{STRENGTHS}/{id}");
        let policy = sim.policy_requiring(&id);
        let answer = sim.delete(&path);
        assert_refused(&answer, "referenced by Conditional Access policies");
        assert!(message(&answer).contains(&policy));
        assert!(sim.record(&id).is_some());
        // A policy in the deleted items no longer uses it.
        let answer = sim.delete(&format!("/identity/conditionalAccess/policies/{policy}"));
        assert_eq!(answer.status, StatusCode::NO_CONTENT);
        let answer = sim.delete(&path);
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
        assert!(sim.record(&id).is_none());
        assert_eq!(sim.get(&path).status, StatusCode::NOT_FOUND);
        assert_eq!(sim.delete(&path).status, StatusCode::NOT_FOUND);

        // The page's example form, with `/$ref`, under the other path.
        let id = sim.strength("Other", &["fido2"]);
        let answer = sim.delete(&format!(
            "/identity/conditionalAccess/authenticationStrength/policies/{id}/$ref"
        ));
        assert_eq!(answer.status, StatusCode::NO_CONTENT);
        assert!(sim.record(&id).is_none());
        assert_eq!(
            sim.get(&format!("{STRENGTHS}/{PHISHING_RESISTANT}/$ref"))
                .status,
            StatusCode::BAD_REQUEST,
            "`$ref` is only the delete example's form"
        );

        let answer = sim.delete(&format!("{STRENGTHS}/{PHISHING_RESISTANT}"));
        assert_refused(&answer, BUILT_IN_REFUSED);
        assert!(sim.record(PHISHING_RESISTANT).is_some());
    }

    #[test]
    fn a_tenant_holds_at_most_15_custom_strengths() {
        let mut sim = Sim::new();
        let ids: Vec<String> = (1..=MAX_CUSTOM)
            .map(|n| sim.strength(&format!("custom {n}"), &["fido2"]))
            .collect();
        let answer = sim.post(
            STRENGTHS,
            json!({"displayName": "16th", "allowedCombinations": ["fido2"]}),
        );
        assert_refused(
            &answer,
            "already has 15 custom authentication strength policies",
        );
        let customs = |sim: &Sim| {
            sim.tenant
                .authentication_strengths
                .all()
                .filter(|r| !is_built_in(r))
                .count()
        };
        assert_eq!(customs(&sim), MAX_CUSTOM);
        assert_eq!(
            sim.delete(&format!("{STRENGTHS}/{}", ids[0])).status,
            StatusCode::NO_CONTENT
        );
        sim.strength("16th, once there is room", &["fido2"]);
        assert_eq!(customs(&sim), MAX_CUSTOM);
    }

    #[test]
    fn combination_configurations_are_served_and_read_back_with_their_strength() {
        let mut sim = Sim::new();
        let id = sim.strength(
            "Contoso",
            &["fido2", "x509CertificateMultiFactor", "password, sms"],
        );
        let collection = format!(
            "/identity/conditionalAccess/authenticationStrength/policies/{id}/combinationConfigurations"
        );
        // authenticationstrengthpolicy-post-combinationconfigurations.md, with the page's body.
        let answer = sim.post(
            &collection,
            json!({
                "@odata.type": "#microsoft.graph.fido2CombinationConfiguration",
                "allowedAAGUIDs": ["486c3b50-889c-480a-abc5-c04ef7c873e0", "c042882f-a621-40c8-94d3-9cde3a826fed", "ec454c08-4c77-4012-9d48-45f7f0fccdfb"],
                "appliesToCombinations": ["fido2"]
            }),
        );
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        assert_eq!(
            answer.body["@odata.type"],
            "#microsoft.graph.fido2CombinationConfiguration"
        );
        assert_eq!(answer.body["appliesToCombinations"], json!(["fido2"]));
        assert_eq!(answer.body["allowedAAGUIDs"].as_array().unwrap().len(), 3);
        let fido2_id = answer.body["id"].as_str().unwrap().to_owned();
        let answer = sim.post(&collection, x509(2, 1, "x509CertificateMultiFactor"));
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        let x509_id = answer.body["id"].as_str().unwrap().to_owned();

        let list = sim.get(&collection);
        assert_eq!(list.status, StatusCode::OK);
        assert_eq!(list.body["value"].as_array().unwrap().len(), 2);
        assert_eq!(list.body["value"][0]["id"], json!(fido2_id));
        let one = sim.get(&format!("{collection}/{x509_id}"));
        assert_eq!(one.status, StatusCode::OK);
        assert_eq!(one.body["allowedPolicyOIDs"], json!(["1.2.3.4.0"]));
        // The strength shows them, and so does a policy that expands it.
        let strength = sim.get(&format!("{STRENGTHS}/{id}"));
        assert_eq!(
            strength.body["combinationConfigurations"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        let policy = sim.policy_requiring(&id);
        let policy = sim.get(&format!("/identity/conditionalAccess/policies/{policy}"));
        assert_eq!(
            policy.body["grantControls"]["authenticationStrength"]["combinationConfigurations"][0]
                ["id"],
            json!(fido2_id)
        );

        // authenticationcombinationconfiguration-update.md.
        let answer = sim.patch(
            &format!("{collection}/{x509_id}"),
            json!({"appliesToCombinations": ["x509CertificateMultiFactor"], "allowedPolicyOIDs": ["1.2.3", "1.2.4"]}),
        );
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
        let one = sim.get(&format!("{collection}/{x509_id}"));
        assert_eq!(one.body["allowedPolicyOIDs"], json!(["1.2.3", "1.2.4"]));
        assert_eq!(one.body["allowedIssuerSkis"].as_array().unwrap().len(), 2);

        // authenticationstrengthpolicy-delete-combinationconfigurations.md, in both forms.
        let answer = sim.delete(&format!("{collection}/{x509_id}"));
        assert_eq!(answer.status, StatusCode::NO_CONTENT);
        let answer = sim.delete(&format!(
            "{STRENGTHS}/{id}/combinationConfigurations/{fido2_id}/$ref"
        ));
        assert_eq!(answer.status, StatusCode::NO_CONTENT);
        assert_eq!(sim.get(&collection).body["value"], json!([]));
        assert_eq!(
            sim.record(&id).unwrap().doc["combinationConfigurations"],
            json!([])
        );
        assert_eq!(
            sim.get(&format!("{collection}/{fido2_id}")).status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            sim.delete(&format!("{collection}/{fido2_id}")).status,
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn combination_configurations_are_checked_against_their_type_and_strength() {
        let mut sim = Sim::new();
        let id = sim.strength("Contoso", &["fido2", "x509CertificateSingleFactor"]);
        let collection = format!("{STRENGTHS}/{id}/combinationConfigurations");
        for (body, refusal) in [
            (
                json!({"allowedAAGUIDs": [AAGUID], "appliesToCombinations": ["fido2"]}),
                "needs its '@odata.type'",
            ),
            (
                json!({"@odata.type": "#microsoft.graph.authenticationCombinationConfiguration", "appliesToCombinations": ["fido2"]}),
                "is not a combination configuration type",
            ),
            (
                fido2(&["x509CertificateSingleFactor"]),
                "can apply only to 'fido2'",
            ),
            (fido2(&["password, sms"]), "can apply only to 'fido2'"),
            (
                x509(1, 0, "fido2"),
                "can apply only to 'x509CertificateSingleFactor' or 'x509CertificateMultiFactor'",
            ),
            (
                x509(1, 0, "x509CertificateMultiFactor"),
                "not among the allowedCombinations",
            ),
            (fido2(&[]), "'appliesToCombinations' is required"),
            (
                json!({"@odata.type": "#microsoft.graph.fido2CombinationConfiguration", "allowedAAGUIDs": ["yubikey"], "appliesToCombinations": ["fido2"]}),
                "not an AAGUID",
            ),
            (
                json!({"@odata.type": "#microsoft.graph.fido2CombinationConfiguration", "allowedIssuerSkis": [], "appliesToCombinations": ["fido2"]}),
                "does not exist on type 'microsoft.graph.fido2CombinationConfiguration'",
            ),
            (
                json!({"@odata.type": "#microsoft.graph.fido2CombinationConfiguration", "id": "x", "appliesToCombinations": ["fido2"]}),
                "read-only",
            ),
            (
                x509(6, 0, "x509CertificateSingleFactor"),
                "at most 5 issuers",
            ),
            (
                x509(0, 6, "x509CertificateSingleFactor"),
                "at most 5 policy OIDs",
            ),
        ] {
            assert_refused(&sim.post(&collection, body), refusal);
        }
        assert_eq!(sim.get(&collection).body["value"], json!([]));

        // The limits count over the strength's configurations, not one configuration.
        let answer = sim.post(&collection, x509(3, 4, "x509CertificateSingleFactor"));
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        let first = answer.body["id"].as_str().unwrap().to_owned();
        assert_refused(
            &sim.post(&collection, x509(3, 0, "x509CertificateSingleFactor")),
            "at most 5 issuers",
        );
        assert_refused(
            &sim.post(&collection, x509(0, 2, "x509CertificateSingleFactor")),
            "at most 5 policy OIDs",
        );
        // A PATCH counts the configuration once.
        let answer = sim.patch(
            &format!("{collection}/{first}"),
            json!({"allowedIssuerSkis": ["A", "B", "C", "D", "E"]}),
        );
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
        for (body, refusal) in [
            (
                json!({"@odata.type": "#microsoft.graph.fido2CombinationConfiguration"}),
                "cannot be changed",
            ),
            (
                json!({"appliesToCombinations": ["fido2"]}),
                "can apply only to",
            ),
            (json!({"appliesToCombinations": []}), "is required"),
            (
                json!({"allowedIssuerSkis": ["1", "2", "3", "4", "5", "6"]}),
                "at most 5 issuers",
            ),
        ] {
            assert_refused(&sim.patch(&format!("{collection}/{first}"), body), refusal);
        }
        let stored = find_configuration(sim.record(&id).unwrap(), &first).unwrap();
        assert_eq!(stored["allowedIssuerSkis"].as_array().unwrap().len(), 5);
        assert_eq!(
            stored["appliesToCombinations"],
            json!(["x509CertificateSingleFactor"])
        );

        // A combination a configuration applies to stays among the strength's combinations.
        let answer = sim.post(
            &format!("{STRENGTHS}/{id}/updateAllowedCombinations"),
            json!({"allowedCombinations": ["fido2"]}),
        );
        assert_refused(&answer, "has a combination configuration");
        let answer = sim.post(
            &format!("{STRENGTHS}/{id}/updateAllowedCombinations"),
            json!({"allowedCombinations": ["fido2", " x509CertificateSingleFactor "]}),
        );
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);

        // Built-ins take none.
        let built_in = format!("{STRENGTHS}/{PHISHING_RESISTANT}/combinationConfigurations");
        assert_refused(
            &sim.post(&built_in, fido2(&["fido2"])),
            CONFIGURATIONS_CUSTOM_ONLY,
        );
        assert_refused(
            &sim.patch(&format!("{built_in}/{first}"), json!({})),
            CONFIGURATIONS_CUSTOM_ONLY,
        );
        assert_refused(
            &sim.delete(&format!("{built_in}/{first}")),
            CONFIGURATIONS_CUSTOM_ONLY,
        );
        assert_eq!(sim.get(&built_in).body["value"], json!([]));
        assert_eq!(
            sim.get(&format!(
                "{STRENGTHS}/11111111-2222-3333-4444-555555555555/combinationConfigurations"
            ))
            .status,
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn a_create_may_carry_its_combination_configurations() {
        let mut sim = Sim::new();
        // entra-docs concept-authentication-strength-advanced-options.md, with the page's body.
        let answer = sim.post(
            STRENGTHS,
            json!({
                "displayName": "CBA Restriction",
                "description": "CBA Restriction with both IssuerSki and OIDs",
                "allowedCombinations": [" x509CertificateMultiFactor "],
                "combinationConfigurations": [{
                    "@odata.type": "#microsoft.graph.x509CertificateCombinationConfiguration",
                    "appliesToCombinations": ["x509CertificateMultiFactor"],
                    "allowedIssuerSkis": ["9A4248C6AC8C2931AB2A86537818E92E7B6C97B6"],
                    "allowedPolicyOIDs": ["1.2.3.4.6", "1.2.3.4.5.6"]
                }]
            }),
        );
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        let configurations = answer.body["combinationConfigurations"].as_array().unwrap();
        assert_eq!(configurations.len(), 1);
        assert!(crate::ids::is_guid(
            configurations[0]["id"].as_str().unwrap()
        ));
        let answer = sim.post(
            STRENGTHS,
            json!({"displayName": "x", "allowedCombinations": ["fido2"],
                   "combinationConfigurations": [x509(1, 0, "x509CertificateMultiFactor")]}),
        );
        assert_refused(&answer, "not among the allowedCombinations");
        assert_eq!(
            sim.tenant
                .authentication_strengths
                .all()
                .filter(|r| !is_built_in(r))
                .count(),
            1
        );
    }
}
