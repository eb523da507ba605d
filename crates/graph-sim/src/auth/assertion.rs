//! JWT client assertions (entra-docs `v2-oauth2-client-creds-grant-flow.md`): certificate credentials, whose signature is verified
//! against the certificate registered on the app, and workload identity federation, whose
//! claims are checked against the federated credential.
//!
//! A federated assertion is signed by the cluster's service-account issuer. The simulator does
//! not have that issuer's keys (real Entra fetches them from the issuer's OIDC discovery
//! document), so for federated assertions only the claims are checked, never the signature.

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use ring::digest::{SHA1_FOR_LEGACY_USE_ONLY, SHA256, digest};
use serde_json::Value;

use crate::error::AadError;

/// Audience of a workload-identity (federated) assertion.
pub(crate) const FEDERATED_AUDIENCE: &str = "api://AzureADTokenExchange";
/// Entra's clock-skew allowance for assertion times.
const SKEW_SECONDS: i64 = 300;
/// Longest accepted assertion lifetime (`exp` − `nbf`).
const MAX_LIFETIME_SECONDS: i64 = 600;

/// The certificate registered on the app registration.
pub(crate) struct RegisteredCertificate {
    /// base64url SHA-256 of the DER (`x5t#S256`).
    sha256_thumbprint: String,
    /// base64url SHA-1 of the DER (legacy `x5t`).
    sha1_thumbprint: String,
    key: DecodingKey,
}

impl std::fmt::Debug for RegisteredCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisteredCertificate")
            .field("x5t#S256", &self.sha256_thumbprint)
            .finish_non_exhaustive()
    }
}

impl RegisteredCertificate {
    /// Reads a PEM certificate with an RSA public key.
    pub(crate) fn from_pem(pem_text: &str) -> Result<RegisteredCertificate, String> {
        let block = pem::parse(pem_text).map_err(|e| format!("not PEM: {e}"))?;
        if block.tag() != "CERTIFICATE" {
            return Err(format!(
                "expected a CERTIFICATE PEM block, found {}",
                block.tag()
            ));
        }
        let der = block.contents();
        let (_, certificate) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| format!("not an X.509 certificate: {e}"))?;
        let spki = certificate.public_key();
        match spki.parsed() {
            Ok(x509_parser::public_key::PublicKey::RSA(_)) => {}
            _ => return Err("the certificate's public key is not RSA".to_owned()),
        }
        Ok(RegisteredCertificate {
            sha256_thumbprint: URL_SAFE_NO_PAD.encode(digest(&SHA256, der)),
            sha1_thumbprint: URL_SAFE_NO_PAD.encode(digest(&SHA1_FOR_LEGACY_USE_ONLY, der)),
            // PKCS#1 RSAPublicKey, which is what the SPKI bit string holds.
            key: DecodingKey::from_rsa_der(&spki.subject_public_key.data),
        })
    }
}

/// What an assertion turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AssertionKind {
    Certificate,
    Federated,
}

/// What the token endpoint knows that an assertion is checked against.
pub(crate) struct AssertionContext<'a> {
    pub client_id: &'a str,
    /// Every audience accepted for certificate assertions
    /// (`{login}/{tenant}/oauth2/v2.0/token` for each known login host and tenant name).
    pub token_audiences: &'a [String],
    pub certificate: Option<&'a RegisteredCertificate>,
    pub federated_issuer: Option<&'a str>,
    pub federated_subject: &'a str,
    pub now: i64,
}

fn malformed(detail: &str) -> AadError {
    AadError::new(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        50027,
        format!("JWT token is invalid or malformed: {detail}"),
    )
}

fn invalid_client(code: u32, description: impl Into<String>) -> AadError {
    AadError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        code,
        description,
    )
}

/// The claims of a compact JWT, without verifying anything.
pub(crate) fn peek_claims(assertion: &str) -> Result<Value, AadError> {
    let mut parts = assertion.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("not a compact JWS"));
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| malformed("the payload is not base64url"))?;
    let claims: Value =
        serde_json::from_slice(&bytes).map_err(|_| malformed("the payload is not JSON"))?;
    if !claims.is_object() {
        return Err(malformed("the payload is not a JSON object"));
    }
    Ok(claims)
}

fn audiences(claims: &Value) -> Vec<&str> {
    match &claims["aud"] {
        Value::String(aud) => vec![aud.as_str()],
        Value::Array(auds) => auds.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Classifies an assertion by its audience.
pub(crate) fn kind(claims: &Value) -> AssertionKind {
    if audiences(claims).contains(&FEDERATED_AUDIENCE) {
        AssertionKind::Federated
    } else {
        AssertionKind::Certificate
    }
}

fn time_claim(claims: &Value, name: &str) -> Option<i64> {
    claims[name]
        .as_i64()
        .or_else(|| claims[name].as_f64().map(|f| f as i64))
}

fn check_times(claims: &Value, now: i64) -> Result<(), AadError> {
    let exp = time_claim(claims, "exp");
    let nbf = time_claim(claims, "nbf").or_else(|| time_claim(claims, "iat"));
    let invalid_time = |why: &str| {
        invalid_client(
            700024,
            format!(
                "Client assertion is not within its valid time range. {why} Current time: {now}, assertion valid from {}, expiry time of assertion {}.",
                nbf.map_or("(none)".to_owned(), |t| t.to_string()),
                exp.map_or("(none)".to_owned(), |t| t.to_string())
            ),
        )
    };
    let Some(exp) = exp else {
        return Err(invalid_time("The assertion has no 'exp' claim."));
    };
    if exp <= now {
        return Err(invalid_time("The assertion has expired."));
    }
    if let Some(nbf) = nbf {
        if nbf > now + SKEW_SECONDS {
            return Err(invalid_time("The assertion is not valid yet."));
        }
        if exp - nbf > MAX_LIFETIME_SECONDS {
            return Err(invalid_time(
                "The assertion lifetime ('exp' - 'nbf') must not exceed 10 minutes.",
            ));
        }
    }
    Ok(())
}

/// Verifies a certificate client assertion: thumbprint header, PS256/RS256 signature, then
/// `aud`, `iss` = `sub` = client id, `exp`/`nbf`, `jti`.
pub(crate) fn verify_certificate(
    assertion: &str,
    claims: &Value,
    ctx: &AssertionContext<'_>,
) -> Result<(), AadError> {
    let header = jsonwebtoken::decode_header(assertion)
        .map_err(|_| malformed("the header is not a JOSE header"))?;
    let not_registered = || {
        invalid_client(
            700027,
            format!(
                "Client assertion failed signature validation. The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '{}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{}'.]",
                header
                    .x5t_s256
                    .as_deref()
                    .or(header.x5t.as_deref())
                    .unwrap_or("(none)"),
                ctx.client_id
            ),
        )
    };
    let Some(certificate) = ctx.certificate else {
        return Err(not_registered());
    };
    let thumbprint_matches = header.x5t_s256.as_deref() == Some(&certificate.sha256_thumbprint)
        || header.x5t.as_deref() == Some(&certificate.sha1_thumbprint);
    if !thumbprint_matches {
        return Err(not_registered());
    }
    if !matches!(header.alg, Algorithm::PS256 | Algorithm::RS256) {
        return Err(invalid_client(
            700027,
            format!(
                "Client assertion failed signature validation. Algorithm {:?} is not supported; use PS256 (or RS256).",
                header.alg
            ),
        ));
    }
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(assertion, &certificate.key, &validation).map_err(|_| {
        invalid_client(
            700027,
            "Client assertion failed signature validation. [Reason - The provided signature value did not match the expected signature value.]",
        )
    })?;

    if !audiences(claims).iter().any(|aud| {
        ctx.token_audiences
            .iter()
            .any(|known| known.eq_ignore_ascii_case(aud))
    }) {
        return Err(invalid_client(
            700023,
            format!(
                "Client assertion audience claim does not match Realm issuer. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials. Expected audience: {}.",
                ctx.token_audiences.first().map_or("", String::as_str)
            ),
        ));
    }
    let iss = claims["iss"].as_str();
    let sub = claims["sub"].as_str();
    if iss != Some(ctx.client_id) || sub != Some(ctx.client_id) {
        return Err(invalid_client(
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials.",
        ));
    }
    check_times(claims, ctx.now)?;
    if claims["jti"].as_str().is_none_or(str::is_empty) {
        return Err(malformed("the 'jti' claim is missing"));
    }
    Ok(())
}

/// Checks a workload-identity assertion against the federated credential: audience, issuer
/// (when configured), subject and lifetime. The signature is not verified (module docs).
pub(crate) fn verify_federated(claims: &Value, ctx: &AssertionContext<'_>) -> Result<(), AadError> {
    let presented = |name: &str| claims[name].as_str().unwrap_or("").to_owned();
    let guidance = "Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation";
    if let Some(issuer) = ctx.federated_issuer
        && presented("iss") != issuer
    {
        return Err(AadError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            700211,
            format!(
                "No matching federated identity record found for presented assertion issuer '{}'. {guidance}",
                presented("iss")
            ),
        ));
    }
    if presented("sub") != ctx.federated_subject {
        return Err(AadError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            700213,
            format!(
                "No matching federated identity record found for presented assertion subject '{}'. {guidance}",
                presented("sub")
            ),
        ));
    }
    let exp = time_claim(claims, "exp");
    if exp.is_none_or(|exp| exp <= ctx.now) {
        return Err(invalid_client(
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, expiry time of assertion {}.",
                ctx.now,
                exp.map_or("(none)".to_owned(), |t| t.to_string())
            ),
        ));
    }
    Ok(())
}
