//! The identity platform side: the token endpoint (`/{tenant}/oauth2/v2.0/token`), the access
//! tokens it issues, and the bearer check every Graph call goes through.

pub mod access_token;
pub mod assertion;
pub mod token_endpoint;

pub use access_token::{Principal, TokenIssuer};
pub use assertion::RegisteredCertificate;
