//! The `sessionops` command line: argument parsing and dispatch. Commands are thin: they load
//! inputs, call the core and print; no reconcile logic lives here.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub mod export;
pub mod kubectl_view;
pub mod objects;
pub mod policies;
pub mod render;
pub mod revocations;

use sessionops_api::manifest::{self, ManifestErrors, ManifestSet};

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
    Operator(sessionops_operator::Args),
    /// Show what applying the manifests would change in the tenant; writes nothing.
    /// Exit code 0: no changes, 2: changes pending, 1: error.
    Plan(ApplyArgs),
    /// Reconcile the manifests against the tenant without a cluster and print each object's
    /// resulting status. Exit code 0: every object Ready, 1: an error or an object not Ready.
    Apply(ApplyArgs),
    /// Check manifests offline (schema and validation rules, as the API server would);
    /// needs no credentials. Exit code 0: valid, 1: invalid.
    Validate(ManifestArgs),
    /// Write the tenant's Conditional Access as manifests: named locations, custom
    /// authentication strengths and policies, one file each under DIR/<plural>/.
    /// Exit code 0: everything exported, 1: an object could not be (named on stderr).
    Export(ExportArgs),
    /// Print the CustomResourceDefinitions (the files in crds/ and the Helm chart are this output).
    Crds(CrdsArgs),
    /// Run the Microsoft Graph simulator.
    #[cfg(feature = "sim")]
    Sim(graph_sim::cli::Args),
    #[cfg(feature = "sim")]
    /// Start the simulator in-process and show plan, apply, status and drift correction on
    /// the examples.
    Demo,
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
    /// Directory to write the tree into, `<plural>/<name>.yaml` (default: stdout).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Namespace of the exported objects (default: the connection's namespace, or the
    /// first of a ClusterTenantConnection's allowedNamespaces).
    #[arg(long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Runs the parsed command and returns the process exit code. `demo` runs `sessionops demo`:
/// the demo drives this module's commands, so `main` passes it in instead of this module
/// depending on it.
pub fn run(cli: Cli, #[cfg(feature = "sim")] demo: fn() -> ExitCode) -> ExitCode {
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
        #[cfg(feature = "sim")]
        Command::Sim(args) => graph_sim::cli::run(args),
        #[cfg(feature = "sim")]
        Command::Demo => demo(),
    }
}

fn crds(args: &CrdsArgs) -> ExitCode {
    let result = match &args.out {
        None => sessionops_api::crds::all_yaml()
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
    for crd in sessionops_api::crds::all() {
        let path = dir.join(sessionops_api::crds::file_name(&crd));
        let yaml = sessionops_api::crds::to_yaml(&crd).map_err(|e| e.to_string())?;
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

/// Reconciles (or only plans) every object of `set`: named locations, SessionPolicies, then
/// RevocationRequests (recorded in the state file).
fn reconcile_all(
    set: &ManifestSet,
    state: Option<&std::path::Path>,
    first: &std::path::Path,
    apply: bool,
) -> Result<(objects::Reports, Vec<revocations::RevocationReport>), ExitCode> {
    let env = sessionops_core::connection::config::ProcessEnvironment;
    let state_path = state
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| revocations::default_state_path(first));
    let runtime = runtime();
    let reports = runtime.block_on(objects::run_all(set, &env, apply, &|_| {}));
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
    reports: &objects::Reports,
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
    let summary = render::Summary::of_all(&reports);
    let runs = revocation_reports.iter().filter(|r| r.would_run).count();
    let revocation_errors = revocation_reports
        .iter()
        .filter(|r| r.error.is_some())
        .count();
    match output {
        OutputFormat::Json => println!("{}", reports_json(&reports, &revocation_reports)),
        OutputFormat::Text => {
            print!("{}", render::plan_text_all(&reports));
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
            print!("{}", render::plan_text_all(&reports));
            println!();
            print!("{}", render::status_text_all(&reports));
            print!("{}", revocations::text(&revocation_reports));
        }
    }
    let policies_ready = reports.all_ready();
    // A request that already ran is judged by its recorded outcome.
    let revocations_ready = revocation_reports.iter().all(revocations::is_ready);
    if policies_ready && revocations_ready {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `sessionops export`: exit 0 when every object was exported, 1 otherwise (skipped ones are
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
        &sessionops_core::connection::config::ProcessEnvironment,
        &|_| {},
    )) {
        Ok(result) => result,
        Err(error) => {
            eprintln!(
                "error: export failed ({}): {error}",
                sessionops_core::status::Reason::from(&error)
            );
            return ExitCode::FAILURE;
        }
    };
    for skipped in &result.skipped {
        eprintln!(
            "not exported: {} {} (\"{}\") holds what the kind cannot represent: {}",
            skipped.kind,
            render::printable(&skipped.id),
            render::printable(&skipped.display_name),
            render::printable(&skipped.reasons.join(", "))
        );
    }
    for partial in &result.partial {
        eprintln!(
            "warning: {} {} (\"{}\") exported without what this build does not model, left as it is in the tenant: {}",
            partial.kind,
            render::printable(&partial.id),
            render::printable(&partial.display_name),
            render::printable(&partial.unmodelled.join(", "))
        );
    }
    for left_out in &result.left_out {
        eprintln!(
            "left out: {} {} (\"{}\"): {}",
            left_out.kind,
            render::printable(&left_out.id),
            render::printable(&left_out.display_name),
            left_out.why
        );
    }
    match (&args.out, args.output) {
        (_, OutputFormat::Json) => {
            let exported: Vec<serde_json::Value> = result
                .exported
                .iter()
                .map(|e| serde_json::json!({"kind": e.kind.as_str(), "file": e.file_name, "id": e.id, "manifest": e.yaml}))
                .collect();
            let skipped: Vec<serde_json::Value> = result
                .skipped
                .iter()
                .map(|s| serde_json::json!({"kind": s.kind.as_str(), "id": s.id, "displayName": s.display_name, "reasons": s.reasons}))
                .collect();
            let left_out: Vec<serde_json::Value> = result
                .left_out
                .iter()
                .map(|l| serde_json::json!({"kind": l.kind.as_str(), "id": l.id, "displayName": l.display_name, "why": l.why}))
                .collect();
            let partial: Vec<serde_json::Value> = result
                .partial
                .iter()
                .map(|p| serde_json::json!({"kind": p.kind.as_str(), "id": p.id, "displayName": p.display_name, "unmodelled": p.unmodelled}))
                .collect();
            println!(
                "{}",
                serde_json::json!({"exported": exported, "skipped": skipped, "leftOut": left_out, "partial": partial})
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
fn operator(args: sessionops_operator::Args) -> ExitCode {
    match runtime().block_on(sessionops_operator::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line, in the log format chosen (JSON for collectors by default).
            tracing::error!(error = %error, "operator stopped");
            ExitCode::FAILURE
        }
    }
}
