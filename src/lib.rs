//! sessionops: Microsoft 365 / Entra ID session control as code.
//!
//! Layers (see README, Development): [`api`] (custom resource types), [`manifest`] (loading and
//! validating manifests from files), [`sim`] (the Microsoft Graph simulator).

pub mod api;
pub mod cli;
pub mod controller;
pub mod demo;
pub mod graph;
pub mod manifest;
pub mod reconcile;
pub mod sim;
pub mod tls;
pub mod util;
