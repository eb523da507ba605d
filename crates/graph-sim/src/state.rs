//! What the server shares between requests: immutable settings and the mutable tenant state
//! behind one lock. Handlers are synchronous and never hold the lock across an await.

use std::sync::{Mutex, MutexGuard};

use super::auth::{RegisteredCertificate, TokenIssuer};
use super::config::SimConfig;
use super::stats::Stats;
use super::tenant::Tenant;
use super::throttle::Throttle;

/// Fixed for the life of the server.
#[derive(Debug)]
pub(crate) struct Settings {
    pub config: SimConfig,
    /// `http://127.0.0.1:PORT`: the Graph base and the login base.
    pub base_url: String,
    pub tokens: TokenIssuer,
    pub certificate: Option<RegisteredCertificate>,
}

/// Changes with every request.
#[derive(Debug)]
pub(crate) struct State {
    pub tenant: Tenant,
    pub throttle: Throttle,
    pub stats: Stats,
    /// Adjustable at run time through `PUT /_sim/faults`.
    pub fault_rate: f64,
    pub rng: fastrand::Rng,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub settings: Settings,
    state: Mutex<State>,
}

impl Shared {
    pub(crate) fn new(settings: Settings, state: State) -> Shared {
        Shared {
            settings,
            state: Mutex::new(state),
        }
    }

    /// Locks the state. A panic inside a handler must not take the whole simulator down with
    /// a poisoned lock, so poisoning is ignored: handlers keep the state consistent per step.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
