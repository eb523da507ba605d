//! sessionops: Microsoft 365 / Entra ID session control as code.
//!
//! Layers (see DESIGN.md): [`api`] (custom resource types), [`manifest`] (loading and
//! validating manifests from files), [`sim`] (the Microsoft Graph simulator).

pub mod api;
pub mod cli;
pub mod manifest;
pub mod sim;
pub mod util;
