//! `POST /{tenant}/oauth2/v2.0/token`, client-credentials grant (entra-docs `v2-oauth2-client-creds-grant-flow.md`): client secret
//! (form field or HTTP Basic), certificate assertion, or federated assertion.

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::assertion::{self, AssertionContext, AssertionKind};
use crate::error::AadError;
use crate::state::Settings;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// What the token request looked like on the wire.
pub(crate) struct TokenRequest<'a> {
    /// The `{tenant}` path segment.
    pub tenant: &'a str,
    /// The `Authorization` header, for HTTP Basic client authentication.
    pub authorization: Option<&'a str>,
    pub body: &'a [u8],
    /// `http://host:port` as the client addressed the simulator.
    pub origin: &'a str,
    /// Unix seconds.
    pub now: i64,
}

fn missing(parameter: &str) -> AadError {
    AadError::new(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900144,
        format!("The request body must contain the following parameter: '{parameter}'."),
    )
}

/// Decodes HTTP Basic credentials; RFC 6749 §2.3.1 form-encodes both parts first.
fn basic_credentials(authorization: Option<&str>) -> Option<(String, String)> {
    let (scheme, encoded) = authorization?.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

/// Constant-time comparison, so response timing says nothing about the secret.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut difference = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        difference |= usize::from(a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0));
    }
    difference == 0
}

/// Issues a token or says why not, in the AADSTS shape.
pub(crate) fn issue(settings: &Settings, request: &TokenRequest<'_>) -> Result<Value, AadError> {
    let config = &settings.config;
    if !request.tenant.eq_ignore_ascii_case(&config.tenant_id)
        && !request.tenant.eq_ignore_ascii_case(&config.domain)
    {
        return Err(AadError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            format!(
                "Tenant '{}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.",
                request.tenant
            ),
        ));
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(request.body)
        .into_owned()
        .collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };

    let grant_type = field("grant_type").ok_or_else(|| missing("grant_type"))?;
    if grant_type != "client_credentials" {
        return Err(AadError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant_type}'."),
        ));
    }

    let basic = basic_credentials(request.authorization);
    let assertion = field("client_assertion");
    let assertion_claims = assertion.map(assertion::peek_claims).transpose()?;
    let client_id = field("client_id")
        .map(str::to_owned)
        .or_else(|| basic.as_ref().map(|(id, _)| id.clone()))
        .or_else(|| {
            assertion_claims
                .as_ref()
                .and_then(|c| c["sub"].as_str().map(str::to_owned))
        })
        .ok_or_else(|| missing("client_id"))?;
    if !client_id.eq_ignore_ascii_case(&config.client_id) {
        return Err(AadError::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                request.tenant
            ),
        ));
    }

    let scope = field("scope").ok_or_else(|| missing("scope"))?;
    let accepted_scopes = [
        "https://graph.microsoft.com/.default".to_owned(),
        "https://graph.microsoft.com//.default".to_owned(),
        "00000003-0000-0000-c000-000000000000/.default".to_owned(),
        format!("{}/.default", settings.base_url),
        format!("{}/.default", request.origin),
    ];
    if !accepted_scopes
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scope.trim()))
    {
        return Err(AadError::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            70011,
            format!(
                "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid. Client credential flows must request one resource with the /.default suffix, e.g. https://graph.microsoft.com/.default."
            ),
        ));
    }

    match (assertion, assertion_claims) {
        (Some(assertion), Some(claims)) => {
            match field("client_assertion_type") {
                Some(JWT_BEARER) => {}
                Some(other) => {
                    return Err(AadError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        50027,
                        format!(
                            "Invalid client_assertion_type '{other}'; expected '{JWT_BEARER}'."
                        ),
                    ));
                }
                None => return Err(missing("client_assertion_type")),
            }
            let mut audiences = Vec::new();
            for login in [
                request.origin,
                settings.base_url.as_str(),
                "https://login.microsoftonline.com",
            ] {
                for tenant in [request.tenant, &config.tenant_id, &config.domain] {
                    audiences.push(format!("{login}/{tenant}/oauth2/v2.0/token"));
                }
            }
            let ctx = AssertionContext {
                client_id: &config.client_id,
                token_audiences: &audiences,
                certificate: settings.certificate.as_ref(),
                federated_issuer: config.federated_issuer.as_deref(),
                federated_subject: &config.federated_subject,
                now: request.now,
            };
            match assertion::kind(&claims) {
                AssertionKind::Certificate => {
                    assertion::verify_certificate(assertion, &claims, &ctx)?
                }
                AssertionKind::Federated => assertion::verify_federated(&claims, &ctx)?,
            }
        }
        _ => {
            let secret = field("client_secret")
                .map(str::to_owned)
                .or_else(|| basic.map(|(_, secret)| secret));
            let Some(secret) = secret else {
                return Err(AadError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    7000218,
                    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
                ));
            };
            if !same_secret(&secret, &config.client_secret) {
                return Err(AadError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    7000215,
                    format!(
                        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                        config.client_id
                    ),
                ));
            }
        }
    }

    let lifetime = settings.tokens.lifetime_seconds();
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": settings.tokens.issue(request.now),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = format!("Basic {}", STANDARD.encode("my%20app:s%3Acret"));
        assert_eq!(
            basic_credentials(Some(&header)),
            Some(("my app".to_owned(), "s:cret".to_owned()))
        );
        assert_eq!(basic_credentials(Some("Bearer x")), None);
    }

    #[test]
    fn secret_comparison() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("", "a"));
    }
}
