//! The `sessionops` program: the command line over the workspace's crates (see
//! `docs/architecture.md`), the state file of CLI runs and, with the default `sim` feature,
//! the in-process demo.

pub mod cli;
#[cfg(feature = "sim")]
pub mod demo;
pub mod util;
