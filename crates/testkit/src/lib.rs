//! Test harnesses of sessionops (`publish = false`; a dev-dependency only): the simulator
//! helpers ([`sim`], re-exported at the root), the mock Kubernetes API ([`cluster`]), the
//! repository's fixtures ([`fixtures`]) and the Helm chart checks ([`chart`]).

pub mod chart;
pub mod cluster;
pub mod fixtures;
pub mod sim;

pub use cluster::store;
pub use sim::*;
