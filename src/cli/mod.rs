//! The `sessionops` command line: argument parsing and dispatch. Commands are thin: they load
//! inputs, call the core and print; no reconcile logic lives here.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub mod export;
pub mod kubectl_view;
pub mod policies;
pub mod render;
pub mod revocations;

use crate::manifest::{self, ManifestErrors, ManifestSet};

/// Microsoft 365 / Entra ID session control as code: Conditional Access session policies and
/// session revocation, reconciled from Kubernetes objects or from files.
#[derive(Debug, Parser)]
#[command(name = "sessionops", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Output format of plan, apply, validate and export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    /// For people: readable, colored on a terminal.
    #[default]
    Text,
    /// For machines: stable JSON on stdout.
    Json,
}

/// Manifest inputs shared by plan, apply and validate.
#[derive(Debug, Args)]
pub struct ManifestArgs {
    /// A manifest file or a directory of them (.yaml, .yml, .json); repeatable.
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Also read the subdirectories of directories given with -f.
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// The commands of README.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process; boxing buys nothing
pub enum Command {
    /// Run the controllers in a Kubernetes cluster.
    Operator(OperatorArgs),
    /// Show what applying the manifests would change in the tenant; writes nothing.
    /// Exit code 0: no changes, 2: changes pending, 1: error.
    Plan(ApplyArgs),
    /// Reconcile the manifests against the tenant without a cluster and print each object's
    /// resulting status. Exit code 0: every object Ready, 1: an error or an object not Ready.
    Apply(ApplyArgs),
    /// Check manifests offline (schema and validation rules, as the API server would);
    /// needs no credentials. Exit code 0: valid, 1: invalid.
    Validate(ManifestArgs),
    /// Write a SessionPolicy manifest for every Conditional Access policy in the tenant.
    Export(ExportArgs),
    /// Print the CustomResourceDefinitions (the files in crds/ and the Helm chart are this output).
    Crds(CrdsArgs),
    /// Run the Microsoft Graph simulator.
    Sim(SimArgs),
    /// Start the simulator in-process and show plan, apply, status and drift correction on
    /// the examples.
    Demo,
}

/// Flags of `sessionops operator`.
#[derive(Clone, Debug, Args)]
pub struct OperatorArgs {
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

/// Flags of `sessionops crds`.
#[derive(Debug, Args)]
pub struct CrdsArgs {
    /// Write one file per CRD (`<plural>.<group>.yaml`) into this directory instead of printing.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Flags of `sessionops apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Manifests to apply.
    #[command(flatten)]
    pub manifests: ManifestArgs,
    /// Where completed RevocationRequests are recorded so that they never run twice
    /// (default: .sessionops/state.json next to the first -f path).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
}

/// Flags of `sessionops export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Manifest with the tenant connection to export from.
    #[arg(long, value_name = "FILE")]
    pub tenant: PathBuf,
    /// Directory to write one file per policy into (default: stdout).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Namespace of the exported SessionPolicies (default: the connection's namespace, or the
    /// first of a ClusterTenantConnection's allowedNamespaces).
    #[arg(long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Flags of `sessionops sim`. Values are plain strings checked by `sim::cli`, so that a bad
/// value is a clear message and exit code 1.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Address to listen on; port 0 picks a free port. The bound address is the first line
    /// printed on stdout.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8700")]
    pub listen: String,
    /// Tenant id the simulator answers for (default: a fixed GUID, printed at start).
    #[arg(long, value_name = "GUID")]
    pub tenant_id: Option<String>,
    /// Client id of the one app registration it accepts (default: a fixed GUID, printed).
    #[arg(long, value_name = "GUID")]
    pub client_id: Option<String>,
    /// Client secret of that app registration (default: a fixed value, printed).
    #[arg(long, value_name = "SECRET")]
    pub client_secret: Option<String>,
    /// PEM certificate registered on the app, for certificate client assertions.
    #[arg(long, value_name = "FILE")]
    pub client_certificate: Option<PathBuf>,
    /// Issuer the federated credential (workload identity) accepts (default: any).
    #[arg(long, value_name = "URL")]
    pub federated_issuer: Option<String>,
    /// Subject the federated credential accepts
    /// (default: system:serviceaccount:sessionops-system:sessionops).
    #[arg(long, value_name = "SUBJECT")]
    pub federated_subject: Option<String>,
    /// Application permissions granted to the app, comma-separated (default: every permission
    /// sessionops uses).
    #[arg(long, value_name = "A,B,C")]
    pub roles: Option<String>,
    /// Lifetime of issued access tokens, in seconds (default 3599).
    #[arg(long, value_name = "SECONDS")]
    pub token_lifetime: Option<String>,
    /// Primary domain of the tenant (default contoso.onmicrosoft.com).
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,
    /// Number of generated users: user0001@DOMAIN ...
    #[arg(long, value_name = "N")]
    pub users: Option<String>,
    /// Generated groups of the first N generated users, e.g. `incident=2000,staff=500`.
    #[arg(long, value_name = "SPEC")]
    pub groups: Option<String>,
    /// Seed file (YAML or JSON) with users, groups, devices, named locations and policies
    /// (see docs/simulator.md).
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
    /// Throttling: `realistic` (Graph's documented limits) or `off`.
    #[arg(long, value_name = "MODE", default_value = "realistic")]
    pub throttle: String,
    /// Write quota per app and tenant, e.g. `3000/150` (the default).
    #[arg(long, value_name = "N/SECONDS")]
    pub write_quota: Option<String>,
    /// Conditional Access requests per second per tenant (default 1).
    #[arg(long, value_name = "N")]
    pub ca_rps: Option<String>,
    /// Added latency per HTTP request, in milliseconds.
    #[arg(long, value_name = "MS")]
    pub latency: Option<String>,
    /// Probability of a transient 503/504 per request or batch item (0 to 1).
    #[arg(long, value_name = "P")]
    pub fault_rate: Option<String>,
    /// Eventual-consistency lag of new objects and revocations, in milliseconds.
    #[arg(long, value_name = "MS")]
    pub lag: Option<String>,
    /// National cloud: `Global` (default), `USGov`, `USGovDoD` or `China`. Outside Global there
    /// are no Conditional Access deleted items; China has no Identity Protection.
    #[arg(long, value_name = "CLOUD")]
    pub cloud: Option<String>,
    /// Entra directory roles assigned to the app, comma-separated display names (default:
    /// `Cloud Device Administrator,User Administrator`; empty for none).
    #[arg(long, value_name = "A,B")]
    pub directory_roles: Option<String>,
    /// Keep a journal of the last 2,000 requests at `GET /_sim/requests` (passwords redacted).
    #[arg(long)]
    pub journal: bool,
}

/// Runs the parsed command and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Crds(args) => crds(&args),
        Command::Validate(args) => validate(&args),
        Command::Plan(args) => match load(&args.manifests) {
            Ok(set) => plan(
                &set,
                args.manifests.output,
                args.state.as_deref(),
                &args.manifests.paths[0],
            ),
            Err(code) => code,
        },
        Command::Apply(args) => match load(&args.manifests) {
            Ok(set) => apply(
                &set,
                args.manifests.output,
                args.state.as_deref(),
                &args.manifests.paths[0],
            ),
            Err(code) => code,
        },
        Command::Export(args) => export_command(&args),
        Command::Operator(args) => operator(args),
        Command::Sim(args) => crate::sim::cli::run(args),
        Command::Demo => crate::demo::run(),
    }
}

fn crds(args: &CrdsArgs) -> ExitCode {
    let result = match &args.out {
        None => crate::api::crds::all_yaml()
            .map(|yaml| print!("{yaml}"))
            .map_err(|err| err.to_string()),
        Some(dir) => write_crds(dir),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: cannot write the CRDs: {err}");
            ExitCode::FAILURE
        }
    }
}

fn write_crds(dir: &std::path::Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for crd in crate::api::crds::all() {
        let path = dir.join(crate::api::crds::file_name(&crd));
        let yaml = crate::api::crds::to_yaml(&crd).map_err(|e| e.to_string())?;
        crate::util::write_atomic(&path, yaml.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn validate(args: &ManifestArgs) -> ExitCode {
    let Ok(set) = load(args) else {
        return ExitCode::FAILURE;
    };
    match args.output {
        OutputFormat::Json => {
            let objects: Vec<serde_json::Value> = set
                .objects
                .iter()
                .map(|o| {
                    serde_json::json!({
                        "file": o.source.file.display().to_string(),
                        "document": o.source.document,
                        "kind": o.object.kind(),
                        "name": o.object.key(),
                    })
                })
                .collect();
            println!("{}", serde_json::json!({"valid": true, "objects": objects}));
        }
        OutputFormat::Text => {
            for loaded in &set.objects {
                println!("valid  {}  ({})", loaded.object, loaded.source);
            }
            println!("{} valid object(s)", set.objects.len());
        }
    }
    ExitCode::SUCCESS
}

/// Loads manifests, printing errors (text on stderr, or JSON on stdout with `-o json`).
fn load(args: &ManifestArgs) -> Result<ManifestSet, ExitCode> {
    match manifest::load(&args.paths, args.recursive) {
        Ok(set) => {
            for skipped in &set.skipped {
                eprintln!(
                    "note: {}: {} {} is not a sessionops object; skipped",
                    skipped.source, skipped.api_version, skipped.kind
                );
            }
            Ok(set)
        }
        Err(errors) => {
            report_manifest_errors(&errors, args.output);
            Err(ExitCode::FAILURE)
        }
    }
}

fn report_manifest_errors(errors: &ManifestErrors, output: OutputFormat) {
    match output {
        OutputFormat::Json => {
            let body = serde_json::json!({"valid": false, "reason": manifest::ManifestError::REASON, "errors": errors});
            println!("{body}");
        }
        OutputFormat::Text => {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "error: {errors}");
            let _ = writeln!(stderr, "nothing was sent to the tenant");
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
}

/// Reconciles (or only plans) every object of `set`: SessionPolicies, then RevocationRequests
/// (recorded in the state file).
fn reconcile_all(
    set: &ManifestSet,
    state: Option<&std::path::Path>,
    first: &std::path::Path,
    apply: bool,
) -> Result<
    (
        Vec<policies::PolicyReport>,
        Vec<revocations::RevocationReport>,
    ),
    ExitCode,
> {
    let env = crate::graph::config::ProcessEnvironment;
    let state_path = state
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| revocations::default_state_path(first));
    let runtime = runtime();
    let reports = runtime.block_on(policies::run(set, &env, apply, &|_| {}));
    match runtime.block_on(revocations::run(
        set,
        &env,
        &state_path,
        apply,
        &Default::default(),
        &|_| {},
    )) {
        Ok(revocation_reports) => Ok((reports, revocation_reports)),
        Err(message) => {
            eprintln!("error: {message}");
            Err(ExitCode::FAILURE)
        }
    }
}

/// Policy reports and revocation reports as one JSON document.
fn reports_json(
    reports: &[policies::PolicyReport],
    revocation_reports: &[revocations::RevocationReport],
) -> serde_json::Value {
    let mut body = render::reports_json(reports);
    body["revocations"] = revocation_reports
        .iter()
        .map(|r| {
            serde_json::json!({
                "name": r.key, "wouldRun": r.would_run, "summary": r.summary,
                "reason": r.error.as_ref().map(|e| &e.0), "message": r.error.as_ref().map(|e| &e.1),
                "status": r.status, "passwordFile": r.password_file,
            })
        })
        .collect();
    body
}

/// `sessionops plan`: exit 0 no changes, 2 changes pending, 1 error.
fn plan(
    set: &ManifestSet,
    output: OutputFormat,
    state: Option<&std::path::Path>,
    first: &std::path::Path,
) -> ExitCode {
    let (reports, revocation_reports) = match reconcile_all(set, state, first, false) {
        Ok(reports) => reports,
        Err(code) => return code,
    };
    let summary = render::Summary::of(&reports);
    let runs = revocation_reports.iter().filter(|r| r.would_run).count();
    let revocation_errors = revocation_reports
        .iter()
        .filter(|r| r.error.is_some())
        .count();
    match output {
        OutputFormat::Json => println!("{}", reports_json(&reports, &revocation_reports)),
        OutputFormat::Text => {
            print!("{}", render::plan_text(&reports));
            print!("{}", revocations::text(&revocation_reports));
            let revocations = if revocation_reports.is_empty() {
                String::new()
            } else {
                format!("; {runs} revocation(s) to run")
            };
            println!("\nPlan: {}{revocations}.", summary.line());
        }
    }
    if summary.errors > 0 || revocation_errors > 0 {
        ExitCode::FAILURE
    } else if summary.has_changes() || runs > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// `sessionops apply`: exit 0 when every object is Ready, else 1.
fn apply(
    set: &ManifestSet,
    output: OutputFormat,
    state: Option<&std::path::Path>,
    first: &std::path::Path,
) -> ExitCode {
    let (reports, revocation_reports) = match reconcile_all(set, state, first, true) {
        Ok(reports) => reports,
        Err(code) => return code,
    };
    match output {
        OutputFormat::Json => println!("{}", reports_json(&reports, &revocation_reports)),
        OutputFormat::Text => {
            print!("{}", render::plan_text(&reports));
            println!();
            print!("{}", render::status_text(&reports));
            print!("{}", revocations::text(&revocation_reports));
        }
    }
    let policies_ready = reports.iter().all(policies::PolicyReport::is_ready);
    // A request that already ran is judged by its recorded outcome.
    let revocations_ready = revocation_reports.iter().all(revocations::is_ready);
    if policies_ready && revocations_ready {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `sessionops export`: exit 0 when every policy was exported, 1 otherwise (skipped ones are
/// named on stderr).
fn export_command(args: &ExportArgs) -> ExitCode {
    let set = match manifest::load(std::slice::from_ref(&args.tenant), false) {
        Ok(set) => set,
        Err(errors) => {
            report_manifest_errors(&errors, args.output);
            return ExitCode::FAILURE;
        }
    };
    let (settings, tenant_ref, default_namespace) = match export::connection(&set) {
        Ok(found) => found,
        Err(message) => {
            eprintln!("error: {}: {message}", args.tenant.display());
            return ExitCode::FAILURE;
        }
    };
    let namespace = args.namespace.clone().unwrap_or(default_namespace);
    let started = std::time::Instant::now();
    let result = match runtime().block_on(export::export(
        settings,
        &tenant_ref,
        &namespace,
        &crate::graph::config::ProcessEnvironment,
        &|_| {},
    )) {
        Ok(result) => result,
        Err(error) => {
            eprintln!("error: export failed ({}): {error}", error.reason());
            return ExitCode::FAILURE;
        }
    };
    for skipped in &result.skipped {
        eprintln!(
            "not exported: policy {} ({:?}) uses what SessionPolicy cannot represent: {}",
            skipped.id,
            skipped.display_name,
            skipped.reasons.join(", ")
        );
    }
    match (&args.out, args.output) {
        (_, OutputFormat::Json) => {
            let exported: Vec<serde_json::Value> = result
                .exported
                .iter()
                .map(|e| serde_json::json!({"file": e.file_name, "policyId": e.policy_id, "manifest": e.yaml}))
                .collect();
            let skipped: Vec<serde_json::Value> = result
                .skipped
                .iter()
                .map(|s| serde_json::json!({"policyId": s.id, "displayName": s.display_name, "reasons": s.reasons}))
                .collect();
            println!(
                "{}",
                serde_json::json!({"exported": exported, "skipped": skipped})
            );
        }
        (Some(dir), OutputFormat::Text) => {
            if let Err(error) = export::write(&result, dir) {
                eprintln!("error: cannot write into {}: {error}", dir.display());
                return ExitCode::FAILURE;
            }
            eprintln!(
                "wrote {} manifest(s) into {} in {:.2}s",
                result.exported.len(),
                dir.display(),
                started.elapsed().as_secs_f64()
            );
        }
        (None, OutputFormat::Text) => {
            for exported in &result.exported {
                print!("---\n{}", exported.yaml);
            }
        }
    }
    if result.skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Commands whose implementation lands with a later issue say so instead of pretending.
fn operator(args: OperatorArgs) -> ExitCode {
    match runtime().block_on(crate::controller::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line, in the log format chosen (JSON for collectors by default).
            tracing::error!(error = %error, "operator stopped");
            ExitCode::FAILURE
        }
    }
}
