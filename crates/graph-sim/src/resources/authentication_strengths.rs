//! Authentication strength policies (`authenticationstrengthpolicy.md`): the three built-ins and custom ones, under
//! `/policies/authenticationStrengthPolicies` and
//! `/identity/conditionalAccess/authenticationStrength/policies`.

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

/// A custom strength's writable document, checked.
pub(crate) fn custom_document(
    display_name: &str,
    description: Option<&str>,
    combinations: &[String],
) -> Result<Map<String, Value>, GraphError> {
    if display_name.trim().is_empty() {
        return Err(GraphError::bad_request(
            "The property 'displayName' is required and cannot be null or missing.",
        ));
    }
    if combinations.is_empty() {
        return Err(GraphError::bad_request(
            "The property 'allowedCombinations' must name at least one combination.",
        ));
    }
    for combination in combinations {
        for mode in combination.split(',') {
            if !METHOD_MODES.contains(&mode.trim()) {
                return Err(GraphError::bad_request(format!(
                    "Cannot convert the literal '{mode}' to the expected type 'microsoft.graph.authenticationMethodModes'."
                )));
            }
        }
    }
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

/// `POST`: a custom strength; 201.
pub(crate) fn create(ctx: &mut Ctx<'_>) -> Result<GraphResponse, GraphError> {
    let body = ctx.req.json_object()?;
    for key in body.keys() {
        match key.as_str() {
            "displayName" | "description" | "allowedCombinations" | "@odata.type" => {}
            "id"
            | "createdDateTime"
            | "modifiedDateTime"
            | "policyType"
            | "requirementsSatisfied" => {
                return Err(GraphError::bad_request(format!(
                    "The property '{key}' is read-only and cannot be set."
                )));
            }
            other => {
                return Err(GraphError::bad_request(format!(
                    "The property '{other}' does not exist on type 'microsoft.graph.authenticationStrengthPolicy'. Make sure to only use property names that are defined by the type or mark the type as open type."
                )));
            }
        }
    }
    let combinations: Vec<String> = match body.get("allowedCombinations") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| GraphError::bad_request("allowedCombinations must be strings."))?,
        _ => Vec::new(),
    };
    let doc = custom_document(
        body.get("displayName")
            .and_then(Value::as_str)
            .unwrap_or(""),
        body.get("description").and_then(Value::as_str),
        &combinations,
    )?;
    let id = ctx.tenant.ids.next("authenticationStrengthPolicy");
    let record = Record::new(id, doc, ctx.now, ctx.visible_from());
    let response = COLLECTION.created(ctx, &record);
    ctx.tenant.authentication_strengths.insert(record);
    Ok(response)
}
