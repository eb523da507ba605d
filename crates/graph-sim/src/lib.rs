//! The Microsoft Graph simulator (`sessionops sim`): a real HTTP server speaking Graph's wire
//! format, limits and errors for one tenant and one app registration, so that every test and
//! `sessionops demo` run against something that behaves like Graph. Fidelity is measured
//! against Microsoft's documented examples (`tests/graph-docs/`); `docs/simulator.md` says what
//! is modelled and what is not.
//!
//! Layout:
//! - [`server`]: axum wiring, [`Simulator`]; [`control`]: the `/_sim/` surface.
//! - [`auth`]: token endpoint, client assertions, access tokens.
//! - [`pipeline`]: one Graph operation (route → permission → throttling → faults → handler →
//!   statistics), shared by top-level requests and [`batch`] items.
//! - [`routes`], [`throttle`], [`stats`], [`odata`], [`error`]: the cross-cutting rules.
//! - [`resources`]: the handlers; [`tenant`] and [`seed`]: what the tenant contains.

mod auth;
mod batch;
pub mod cli;
pub mod config;
mod control;
mod error;
pub mod ids;
mod odata;
mod pipeline;
mod resources;
mod routes;
pub mod seed;
mod server;
mod state;
mod stats;
mod tenant;
mod throttle;
mod time;

pub use config::{ConfigError, DEFAULT_DIRECTORY_ROLES, DEFAULT_ROLES, SimCloud, SimConfig};
pub use seed::Seed;
pub use server::Simulator;
