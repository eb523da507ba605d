//! Prometheus metrics of the operator (served at `/metrics` by [`super::server`]). Label values
//! are bounded: kinds, stable CamelCase reasons, templated Graph routes, HTTP statuses, and
//! the namespace/name of RevocationRequests (few, and removed when the object is deleted).

use std::sync::atomic::{AtomicBool, Ordering};

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use sessionops_api::{Kind, RevocationRequestStatus};
use sessionops_core::status::Reason;
use sessionops_graph::GraphObserver;

/// A label value that is one of the core's typed words (a kind, a reason), so a label can
/// only take the values the type has.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
struct Word<T>(T);

impl EncodeLabelValue for Word<Kind> {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        self.0.as_str().encode(encoder)
    }
}

impl EncodeLabelValue for Word<Reason> {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        self.0.as_str().encode(encoder)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: Word<Kind>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReconcileLabels {
    kind: Word<Kind>,
    /// `Ready` condition reason after the reconcile (`Synced`, `Forbidden` …).
    reason: Word<Reason>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GraphLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WriteLabels {
    kind: Word<Kind>,
    action: TenantWrite,
}

/// The `action` label of `sessionops_tenant_writes_total`: typed, so the values emitted are the
/// ones its help text and the README name (a string label once drifted to `Create`).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
pub enum TenantWrite {
    /// A policy created.
    Created,
    /// A policy updated to match its spec.
    Updated,
    /// A policy restored from deleted items.
    Restored,
    /// A policy deleted with its object (`deletionPolicy: Delete`).
    Deleted,
    /// A portal edit or delete reverted at a resync.
    DriftCorrected,
}

impl TenantWrite {
    /// Every value, in the order the help text lists them.
    pub const ALL: [TenantWrite; 5] = [
        TenantWrite::Created,
        TenantWrite::Updated,
        TenantWrite::Restored,
        TenantWrite::Deleted,
        TenantWrite::DriftCorrected,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            TenantWrite::Created => "Created",
            TenantWrite::Updated => "Updated",
            TenantWrite::Restored => "Restored",
            TenantWrite::Deleted => "Deleted",
            TenantWrite::DriftCorrected => "DriftCorrected",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RevocationLabels {
    namespace: String,
    name: String,
    count: &'static str,
}

/// Every metric the operator exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    reconciles: Family<ReconcileLabels, Counter>,
    failures: Family<ReconcileLabels, Counter>,
    duration: Family<KindLabels, Histogram>,
    graph_requests: Family<GraphLabels, Counter>,
    throttled: Family<RouteLabels, Counter>,
    tenant_writes: Family<WriteLabels, Counter>,
    revocation: Family<RevocationLabels, Gauge>,
    leader: Gauge,
    ready: AtomicBool,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric registered under the `sessionops_` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("sessionops");
        let reconciles = Family::<ReconcileLabels, Counter>::default();
        registry.register(
            "reconciles",
            "Reconciles by kind and the Ready reason they ended with",
            reconciles.clone(),
        );
        let failures = Family::<ReconcileLabels, Counter>::default();
        registry.register(
            "reconcile_failures",
            "Reconciles that ended not Ready, by kind and reason",
            failures.clone(),
        );
        let duration = Family::<KindLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0])
        });
        registry.register(
            "reconcile_duration_seconds",
            "How long reconciles take, by kind",
            duration.clone(),
        );
        let graph_requests = Family::<GraphLabels, Counter>::default();
        registry.register(
            "graph_requests",
            "Microsoft Graph answers by method, templated route and HTTP status ($batch items included; status 0 = no answer)",
            graph_requests.clone(),
        );
        let throttled = Family::<RouteLabels, Counter>::default();
        registry.register(
            "graph_throttled",
            "Microsoft Graph answers with status 429, by templated route",
            throttled.clone(),
        );
        let tenant_writes = Family::<WriteLabels, Counter>::default();
        registry.register(
            "tenant_writes",
            "Writes to the tenant by kind and action (Created, Updated, Restored, Deleted, DriftCorrected)",
            tenant_writes.clone(),
        );
        let revocation = Family::<RevocationLabels, Gauge>::default();
        registry.register(
            "revocation_targets",
            "Progress of each RevocationRequest: resolved, succeeded, verified, failed, skipped, skippedProtected",
            revocation.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this replica holds the leader Lease (or runs without leader election)",
            leader.clone(),
        );
        Metrics {
            registry,
            reconciles,
            failures,
            duration,
            graph_requests,
            throttled,
            tenant_writes,
            revocation,
            leader,
            ready: AtomicBool::new(false),
        }
    }

    /// One finished reconcile of `kind` whose Ready condition has `reason`.
    pub fn reconciled(&self, kind: Kind, reason: Reason, ready: bool, seconds: f64) {
        let labels = ReconcileLabels {
            kind: Word(kind),
            reason: Word(reason),
        };
        self.reconciles.get_or_create(&labels).inc();
        if !ready {
            self.failures.get_or_create(&labels).inc();
        }
        self.duration
            .get_or_create(&KindLabels { kind: Word(kind) })
            .observe(seconds);
    }

    /// One write to the tenant.
    pub fn tenant_write(&self, kind: Kind, action: TenantWrite) {
        self.tenant_writes
            .get_or_create(&WriteLabels {
                kind: Word(kind),
                action,
            })
            .inc();
    }

    /// The counts of a RevocationRequest's status.
    pub fn revocation_progress(
        &self,
        namespace: &str,
        name: &str,
        status: &RevocationRequestStatus,
    ) {
        let c = &status.counts;
        for (count, value) in [
            ("resolved", c.resolved),
            ("succeeded", c.succeeded),
            ("verified", c.verified),
            ("failed", c.failed),
            ("skipped", c.skipped),
            ("skippedProtected", c.skipped_protected),
        ] {
            self.revocation
                .get_or_create(&RevocationLabels {
                    namespace: namespace.to_owned(),
                    name: name.to_owned(),
                    count,
                })
                .set(value);
        }
    }

    /// Drops the series of a deleted RevocationRequest.
    pub fn forget_revocation(&self, namespace: &str, name: &str) {
        for count in [
            "resolved",
            "succeeded",
            "verified",
            "failed",
            "skipped",
            "skippedProtected",
        ] {
            self.revocation.remove(&RevocationLabels {
                namespace: namespace.to_owned(),
                name: name.to_owned(),
                count,
            });
        }
    }

    /// Whether this replica leads (or runs without leader election).
    pub fn set_leader(&self, leading: bool) {
        self.leader.set(i64::from(leading));
    }

    /// Ready to serve (`/readyz`): the API server answered and the controllers started.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    /// See [`Metrics::set_ready`].
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

impl GraphObserver for Metrics {
    fn observe(&self, method: &str, route: &str, status: u16) {
        self.graph_requests
            .get_or_create(&GraphLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status: status.to_string(),
            })
            .inc();
        if status == 429 {
            self.throttled
                .get_or_create(&RouteLabels {
                    route: route.to_owned(),
                })
                .inc();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_routes_are_templated_so_labels_stay_few() {
        use sessionops_graph::route_template;
        assert_eq!(
            route_template("/users/jdoe@contoso.com/revokeSignInSessions?$select=id"),
            "/users/{id}/revokeSignInSessions"
        );
        assert_eq!(
            route_template(
                "identity/conditionalAccess/policies/6d993162-5f6c-41e9-aebe-d9d1c66359cb"
            ),
            "/identity/conditionalAccess/policies/{id}"
        );
        assert_eq!(route_template("/$batch"), "/$batch");
    }

    #[test]
    fn exposition_carries_the_recorded_series() {
        let metrics = Metrics::new();
        metrics.reconciled(Kind::SessionPolicy, Reason::Synced, true, 0.2);
        metrics.reconciled(Kind::SessionPolicy, Reason::Forbidden, false, 0.1);
        metrics.observe("POST", "/users/{id}/revokeSignInSessions", 429);
        metrics.tenant_write(Kind::SessionPolicy, TenantWrite::Created);
        let text = metrics.encode();
        assert!(
            text.contains(r#"sessionops_reconciles_total{kind="SessionPolicy",reason="Synced"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"sessionops_reconcile_failures_total{kind="SessionPolicy",reason="Forbidden"} 1"#
            ),
            "{text}"
        );
        assert!(
            !text.contains(
                r#"sessionops_reconcile_failures_total{kind="SessionPolicy",reason="Synced"}"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"sessionops_graph_throttled_total{route="/users/{id}/revokeSignInSessions"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"sessionops_tenant_writes_total{kind="SessionPolicy",action="Created"} 1"#
            ),
            "{text}"
        );
    }

    #[test]
    fn tenant_write_labels_are_the_documented_ones() {
        let metrics = Metrics::new();
        for action in TenantWrite::ALL {
            metrics.tenant_write(Kind::SessionPolicy, action);
        }
        let text = metrics.encode();
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
                .unwrap();
        let documented = TenantWrite::ALL
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        assert!(
            text.contains(&format!("({documented})")),
            "help text: {text}"
        );
        for action in TenantWrite::ALL {
            let series = format!(
                r#"sessionops_tenant_writes_total{{kind="SessionPolicy",action="{}"}} 1"#,
                action.as_str()
            );
            assert!(text.contains(&series), "{series} in {text}");
            assert!(
                readme.contains(action.as_str()),
                "README names {}",
                action.as_str()
            );
        }
    }
}
