//! The integration tests: one binary, one module per area.

mod authentication_strength;
mod ca_corpus;
mod chart;
mod crds;
mod examples;
mod export_round_trip;
mod graph_client;
mod graph_docs;
mod idle_timeout;
mod manifest_loading;
mod named_location;
mod operator;
mod policy_sync;
mod revocation;
mod sim_conformance;
mod tenant_connection;
mod validation_rules;
mod workspace;
