//! Microsoft Graph: the client (tokens, pacing, retries, `$batch`, paging, typed errors) and
//! the typed resources sessionops reads and writes. Nothing above this module sees HTTP.

pub mod auth;
pub mod batch;
pub mod client;
pub mod error;
pub mod models;
pub mod pacing;
pub mod paths;
pub mod permissions;
pub mod tls;

pub use auth::{Credential, Secret};
pub use batch::{BatchItem, BatchItemResponse, MAX_BATCH_SIZE};
pub use client::{
    ApiVersion, GraphClient, GraphConfig, GraphObserver, GraphRequest, GraphResponse, RetryPolicy,
    WriteQuota, route_template,
};
pub use error::{GraphError, RequestIds};
/// HTTP methods of [`GraphRequest`]s and [`BatchItem`]s.
pub use reqwest::Method;
