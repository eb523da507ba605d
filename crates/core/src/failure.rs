//! [`Failure`]: why an object of any kind is not Ready, as both drivers report it (status
//! condition, Event, metric label, CLI output).

use sessionops_graph::GraphError;

use crate::status::Reason;

/// Why an object is not Ready.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Failure {
    /// Graph refused or failed.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// Refused before any Graph write: the spec cannot be planned, the namespace may not use
    /// the connection, the connection or its credential is missing ...
    #[error("{message}")]
    Refused {
        /// Stable reason.
        reason: Reason,
        /// Details for people.
        message: String,
    },
}

impl Failure {
    /// A refusal with `reason`.
    pub fn refused(reason: Reason, message: impl Into<String>) -> Failure {
        Failure::Refused {
            reason,
            message: message.into(),
        }
    }

    /// Stable reason.
    pub fn reason(&self) -> Reason {
        match self {
            Failure::Graph(error) => Reason::from(error),
            Failure::Refused { reason, .. } => *reason,
        }
    }

    /// Whether trying again later can succeed (see [`Reason::is_transient`]).
    pub fn is_transient(&self) -> bool {
        self.reason().is_transient()
    }
}
