//! Access tokens: JWTs signed with HS256 under a key that exists only in this process. Clients
//! treat them as opaque but may read the claims real Graph tokens carry (`roles`, `exp`, `tid`,
//! `appid`) to learn their permissions and when to refresh.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::GraphError;
use crate::ids;

/// Audience of Graph access tokens.
pub(crate) const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";
/// Graph's application id, also accepted as audience (v1 tokens carry it).
pub(crate) const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// Claims of an issued token, named as in Entra app-only tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AccessClaims {
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub tid: String,
    pub appid: String,
    pub roles: Vec<String>,
    pub oid: String,
    pub sub: String,
    pub idtyp: String,
    pub ver: String,
    pub uti: String,
}

/// Who is calling, once the bearer token checked out.
#[derive(Debug, Clone)]
pub(crate) struct Principal {
    pub roles: Vec<String>,
}

/// Issues and verifies access tokens for one tenant and app.
pub(crate) struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    tenant_id: String,
    client_id: String,
    roles: Vec<String>,
    lifetime_seconds: i64,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    /// A per-process random signing key: tokens of another simulator run never validate.
    pub(crate) fn new(
        tenant_id: &str,
        client_id: &str,
        roles: &[String],
        lifetime_seconds: i64,
    ) -> std::io::Result<TokenIssuer> {
        let mut key = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key)
            .map_err(|_| std::io::Error::other("no system randomness for the token key"))?;
        Ok(TokenIssuer {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            tenant_id: tenant_id.to_owned(),
            client_id: client_id.to_owned(),
            roles: roles.to_vec(),
            lifetime_seconds,
        })
    }

    pub(crate) fn lifetime_seconds(&self) -> i64 {
        self.lifetime_seconds
    }

    fn issuer(&self) -> String {
        format!("https://sts.windows.net/{}/", self.tenant_id)
    }

    /// A fresh token valid from `now` (unix seconds).
    pub(crate) fn issue(&self, now: i64) -> String {
        // The service principal's object id: derived, so it is stable across runs.
        let oid = ids::derive(&format!("servicePrincipal:{}", self.client_id));
        let claims = AccessClaims {
            aud: GRAPH_AUDIENCE.to_owned(),
            iss: self.issuer(),
            iat: now,
            nbf: now,
            exp: now + self.lifetime_seconds,
            tid: self.tenant_id.clone(),
            appid: self.client_id.clone(),
            roles: self.roles.clone(),
            oid: oid.clone(),
            sub: oid,
            idtyp: "app".to_owned(),
            ver: "1.0".to_owned(),
            uti: ids::random(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some("JWT".to_owned());
        jsonwebtoken::encode(&header, &claims, &self.encoding)
            .expect("HS256 encoding of plain claims cannot fail")
    }

    /// Checks an `Authorization` header value; every failure is a 401
    /// `InvalidAuthenticationToken` with the message Graph gives for that case.
    pub(crate) fn verify(
        &self,
        authorization: Option<&str>,
        now: i64,
    ) -> Result<Principal, GraphError> {
        let token = match authorization.map(str::trim) {
            None | Some("") => return Err(GraphError::invalid_token("Access token is empty.")),
            Some(value) => match value.split_once(' ') {
                Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
                _ => {
                    return Err(GraphError::invalid_token(
                        "Access token is empty. The Authorization header must use the Bearer scheme.",
                    ));
                }
            },
        };
        if token.matches('.').count() != 2 {
            return Err(GraphError::invalid_token(
                "IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or JWE Compact Serialization Format. (JWS): 'EncodedHeader.EndcodedPayload.EncodedSignature'. (JWE): 'EncodedProtectedHeader.EncodedEncryptedKey.EncodedInitializationVector.EncodedCiphertext.EncodedAuthenticationTag'.",
            ));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)
            .map_err(|_| {
                GraphError::invalid_token("Access token validation failure. Invalid signature.")
            })?
            .claims;
        if claims.aud != GRAPH_AUDIENCE && claims.aud != GRAPH_APP_ID {
            return Err(GraphError::invalid_token(
                "Access token validation failure. Invalid audience.",
            ));
        }
        if claims.tid != self.tenant_id || claims.iss != self.issuer() {
            return Err(GraphError::invalid_token(
                "Access token validation failure. Invalid issuer or tenant.",
            ));
        }
        if now >= claims.exp {
            return Err(GraphError::invalid_token(
                "Lifetime validation failed, the token is expired.",
            ));
        }
        if now < claims.nbf {
            return Err(GraphError::invalid_token(
                "Lifetime validation failed, the token is not yet valid.",
            ));
        }
        Ok(Principal {
            roles: claims.roles,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer() -> TokenIssuer {
        TokenIssuer::new("t", "c", &["User.Read.All".to_owned()], 60).unwrap()
    }

    #[test]
    fn issued_tokens_verify_until_they_expire() {
        let issuer = issuer();
        let token = issuer.issue(1000);
        let header = format!("Bearer {token}");
        let principal = issuer.verify(Some(&header), 1000).unwrap();
        assert_eq!(principal.roles, vec!["User.Read.All".to_owned()]);
        let err = issuer.verify(Some(&header), 1060).unwrap_err();
        assert_eq!(
            err.message,
            "Lifetime validation failed, the token is expired."
        );
    }

    #[test]
    fn foreign_and_missing_tokens_are_rejected() {
        let other = issuer().issue(1000);
        let err = issuer()
            .verify(Some(&format!("Bearer {other}")), 1000)
            .unwrap_err();
        assert_eq!(err.code.as_str(), "InvalidAuthenticationToken");
        assert_eq!(
            issuer().verify(None, 0).unwrap_err().message,
            "Access token is empty."
        );
        assert!(
            issuer()
                .verify(Some("Bearer abc"), 0)
                .unwrap_err()
                .message
                .starts_with("IDX14100")
        );
    }
}
