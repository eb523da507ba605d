//! The reconcile core shared by the operator and the CLI: pure planning (no IO) plus the
//! steps that apply a plan through the Graph client. Drivers (kube controllers, CLI commands)
//! only load objects, call into here and report.
//!
//! - [`status`]: condition types, the [`status::Reason`] enum (the one definition of
//!   transient), condition handling; [`failure`]: why an object is not Ready.
//! - [`connection`]: which tenant connection an object may use, its Graph config;
//!   [`directory`]: names ↔ directory ids.
//! - [`tenant_object`]: the seam of every kind that manages one tenant object (identity,
//!   managed-field table, diff, PATCH bodies, plan).
//! - One folder per kind: [`session_policy`], [`named_location`],
//!   [`authentication_strength`], [`revocation`].

pub mod authentication_strength;
pub mod connection;
pub mod directory;
pub mod failure;
pub mod idle_timeout;
pub mod named_location;
pub mod revocation;
pub mod session_policy;
pub mod status;
pub mod tenant_object;
