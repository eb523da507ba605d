//! Flags of `sessionops operator`.

use std::net::SocketAddr;

/// Flags of `sessionops operator`.
#[derive(Clone, Debug, clap::Args)]
pub struct Args {
    /// Address of the /metrics, /healthz and /readyz endpoints.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8080")]
    pub metrics_addr: SocketAddr,
    /// Reconcile only while holding a Lease, so that several replicas are safe (one leads,
    /// the others wait and take over within the lease duration).
    #[arg(long)]
    pub leader_election: bool,
    /// Name of the leader-election Lease.
    #[arg(long, value_name = "NAME", default_value = "sessionops-operator")]
    pub lease_name: String,
    /// Namespace of the leader-election Lease (default: $POD_NAMESPACE, else the namespace
    /// of the in-cluster service account, else "default").
    #[arg(long, value_name = "NAMESPACE", env = "POD_NAMESPACE")]
    pub lease_namespace: Option<String>,
    /// Identity written into the Lease (default: $POD_NAME, else the host name).
    #[arg(long, value_name = "ID", env = "POD_NAME")]
    pub lease_identity: Option<String>,
    /// Watch SessionPolicies, RevocationRequests and TenantConnections in one namespace only
    /// (default: all namespaces). ClusterTenantConnections are always watched.
    #[arg(long, value_name = "NAMESPACE")]
    pub watch_namespace: Option<String>,
    /// How often every SessionPolicy is compared with the tenant (one Conditional Access LIST
    /// per tenant per interval) and tenant connections re-check their token and Secret.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub resync_interval: std::time::Duration,
    /// Log format on stderr: json (one object per line) or text.
    #[arg(long, value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
}

/// Log line format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line (for log collectors).
    #[default]
    Json,
    /// Human-readable lines.
    Text,
}

/// Parses `90s`, `5m`, `1h 30m` (jiff's friendly format) or plain seconds.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(seconds));
    }
    let span: jiff::SignedDuration = text
        .parse()
        .map_err(|e| format!("{text:?} is not a duration like 90s, 5m or 1h: {e}"))?;
    std::time::Duration::try_from(span).map_err(|_| format!("{text:?} is negative"))
}
