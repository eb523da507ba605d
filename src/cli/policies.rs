//! SessionPolicies alone through the generic runner of [`super::objects`] (the demo and the
//! tests that exercise only policies).

use sessionops_api::SessionPolicy;
use sessionops_api::manifest::ManifestSet;
use sessionops_core::connection::config::Environment;
use sessionops_graph::GraphConfig;

use super::objects::{self, Report};

/// The outcome for one SessionPolicy.
pub type PolicyReport = Report<SessionPolicy>;

/// Plans every SessionPolicy of `set`; with `apply`, applies the plans too.
pub async fn run(
    set: &ManifestSet,
    env: &dyn Environment,
    apply: bool,
    configure: &dyn Fn(&mut GraphConfig),
) -> Vec<PolicyReport> {
    objects::run::<SessionPolicy>(set, env, apply, configure, &Default::default()).await
}
