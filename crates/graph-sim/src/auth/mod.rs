//! The identity platform side: the token endpoint (`/{tenant}/oauth2/v2.0/token`), the access
//! tokens it issues, and the bearer check every Graph call goes through.

pub(crate) mod access_token;
pub(crate) mod assertion;
pub(crate) mod token_endpoint;

pub(crate) use access_token::{Principal, TokenIssuer};
pub(crate) use assertion::RegisteredCertificate;
