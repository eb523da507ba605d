//! The reconcile core shared by the operator and the CLI: pure planning (no IO) plus the
//! steps that apply a plan through the Graph client. Drivers (kube controllers, CLI commands)
//! only load objects, call into here and report.

pub mod conditions;
pub mod directory;
pub mod export;
pub mod policy;
pub mod policy_sync;
pub mod resolve;
pub mod revocation;
pub mod tenant;
