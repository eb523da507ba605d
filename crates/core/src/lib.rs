//! The reconcile core shared by the operator and the CLI: pure planning (no IO) plus the
//! steps that apply a plan through the Graph client. Drivers (kube controllers, CLI commands)
//! only load objects, call into here and report.

pub mod connection;
pub mod directory;
pub mod failure;
pub mod revocation;
pub mod session_policy;
pub mod status;
