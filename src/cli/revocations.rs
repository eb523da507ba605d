//! RevocationRequests outside a cluster. A RevocationRequest runs once: its status is kept in
//! the `--state` file (written atomically after every chunk), so re-applying the same manifest
//! never runs it again and a killed `apply` resumes where it stopped. Temporary passwords go to
//! a mode-0600 file whose path is printed, never to the terminal or the state.

use super::render::printable;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use kube::ResourceExt;
use serde::{Deserialize, Serialize};

use super::objects::connection_for;
use sessionops_api::manifest::{ManifestSet, Object};
use sessionops_api::{RevocationPhase, RevocationRequest, RevocationRequestStatus};
use sessionops_core::connection::config::{Environment, config_from_environment};
use sessionops_core::revocation::{self, ProgressSink, RunOptions};
use sessionops_core::status::{self, ConditionType, Reason};
use sessionops_graph::GraphClient;
use sessionops_graph::GraphConfig;

/// The CLI's record of RevocationRequests (README: `--state FILE`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateFile {
    /// `namespace/name` → the request's status (with its spec hash and resume cursor).
    #[serde(default)]
    pub revocations: BTreeMap<String, RevocationRequestStatus>,
}

impl StateFile {
    /// Reads the state, or an empty one when the file does not exist yet.
    pub fn load(path: &Path) -> Result<StateFile, String> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("{}: not a sessionops state file: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(StateFile::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Writes the state atomically (temp file + rename).
    pub fn save(&self, path: &Path) -> Result<(), String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let json = serde_json::to_vec_pretty(self).expect("state serializes");
        crate::util::write_atomic(path, &json).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// The default state file: `.sessionops/state.json` next to the first -f path.
pub fn default_state_path(first: &Path) -> PathBuf {
    let dir = if first.is_dir() {
        first.to_path_buf()
    } else {
        first.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    dir.join(".sessionops").join("state.json")
}

/// The outcome for one RevocationRequest.
#[derive(Clone, Debug)]
pub struct RevocationReport {
    /// `namespace/name`.
    pub key: String,
    /// Its status (terminal after apply; as recorded for plan).
    pub status: Option<RevocationRequestStatus>,
    /// What plan would do, or why it cannot run.
    pub summary: String,
    /// Whether applying would run it.
    pub would_run: bool,
    /// Whether it cannot run (connection or namespace refused).
    pub error: Option<(String, String)>,
    /// Where temporary passwords were written.
    pub password_file: Option<PathBuf>,
}

struct FileSink<'a> {
    state_path: &'a Path,
    state: &'a mut StateFile,
    key: String,
    password_file: PathBuf,
    wrote_password: bool,
    /// A progress bar on a terminal, shown once a run has lasted a few seconds.
    progress: Progress,
}

/// indicatif's bar; drawn only when stderr is a terminal, and only for runs long enough to
/// need one.
struct Progress {
    terminal: bool,
    started: std::time::Instant,
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            terminal: std::io::stderr().is_terminal(),
            started: std::time::Instant::now(),
            bar: None,
        }
    }

    fn update(&mut self, key: &str, status: &RevocationRequestStatus) {
        if !self.terminal || self.started.elapsed() < std::time::Duration::from_secs(2) {
            return;
        }
        let c = &status.counts;
        let bar = self.bar.get_or_insert_with(|| {
            let bar = indicatif::ProgressBar::new(c.resolved.max(0) as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} [{bar:40}] {pos}/{len} users, {per_sec}, eta {eta}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            bar.set_message(key.to_owned());
            bar
        });
        bar.set_position((c.succeeded + c.failed + c.skipped).max(0) as u64);
        if status.phase.is_terminal() {
            bar.finish_and_clear();
        }
    }
}

#[async_trait::async_trait]
impl ProgressSink for FileSink<'_> {
    async fn save(&mut self, status: &RevocationRequestStatus) -> Result<(), String> {
        self.state
            .revocations
            .insert(self.key.clone(), status.clone());
        self.progress.update(&self.key, status);
        self.state.save(self.state_path)
    }

    async fn store_password(&mut self, upn: &str, password: &str) -> Result<String, String> {
        use std::os::unix::fs::OpenOptionsExt;
        if let Some(dir) = self.password_file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        // 0600 from creation: the password is never readable by others, even briefly.
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&self.password_file)
            .map_err(|e| format!("{}: {e}", self.password_file.display()))?;
        writeln!(file, "{upn}\t{password}")
            .map_err(|e| format!("{}: {e}", self.password_file.display()))?;
        self.wrote_password = true;
        Ok(self.password_file.display().to_string())
    }
}

/// Plans (`apply == false`: reports what would run) or runs every RevocationRequest of `set`.
pub async fn run(
    set: &ManifestSet,
    env: &dyn Environment,
    state_path: &Path,
    apply: bool,
    options: &RunOptions,
    configure: &dyn Fn(&mut GraphConfig),
) -> Result<Vec<RevocationReport>, String> {
    let mut state = StateFile::load(state_path)?;
    let mut reports = Vec::new();
    for loaded in &set.objects {
        let Object::RevocationRequest(request) = &loaded.object else {
            continue;
        };
        reports.push(
            run_one(
                set, request, env, state_path, &mut state, apply, options, configure,
            )
            .await,
        );
    }
    Ok(reports)
}

#[allow(clippy::too_many_arguments)] // one call site; the arguments are the run's context
async fn run_one(
    set: &ManifestSet,
    request: &RevocationRequest,
    env: &dyn Environment,
    state_path: &Path,
    state: &mut StateFile,
    apply: bool,
    options: &RunOptions,
    configure: &dyn Fn(&mut GraphConfig),
) -> RevocationReport {
    let namespace = request.namespace().unwrap_or_default();
    let key = format!("{namespace}/{}", request.name_any());
    let recorded = state.revocations.get(&key).cloned();
    let hash = revocation::spec_hash(&request.spec);
    let mut report = RevocationReport {
        key: key.clone(),
        status: recorded.clone(),
        summary: String::new(),
        would_run: false,
        error: None,
        password_file: None,
    };
    if let Some(recorded) = &recorded {
        if recorded.spec_hash.as_deref() != Some(hash.as_str()) {
            report.error = Some((
                "SpecChanged".into(),
                format!("{key} already ran with another spec (spec is immutable): use a new name"),
            ));
            return report;
        }
        if recorded.phase.is_terminal() {
            report.summary = format!(
                "already ran: {:?} ({} succeeded, {} failed); not run again",
                recorded.phase, recorded.counts.succeeded, recorded.counts.failed
            );
            return report;
        }
    }
    let (_, settings) = match connection_for(set, &request.spec.tenant_ref, &namespace) {
        Ok(found) => found,
        Err(failure) => {
            report.error = Some((failure.reason().into(), failure.to_string()));
            return report;
        }
    };
    report.would_run = true;
    let resume = recorded
        .as_ref()
        .is_some_and(|r| r.phase != RevocationPhase::Pending);
    report.summary = format!(
        "{} {:?} for {}{} (reason: {})",
        if resume { "resume" } else { "run once:" },
        request.spec.actions,
        describe_targets(request),
        if request.spec.dry_run {
            ", dry run"
        } else {
            ""
        },
        request.spec.reason
    );
    if !apply {
        return report;
    }
    let client = match config_from_environment(settings, env).and_then(|mut config| {
        configure(&mut config);
        GraphClient::new(config)
    }) {
        Ok(client) => client,
        Err(error) => {
            report.error = Some((Reason::from(&error).into(), error.to_string()));
            return report;
        }
    };
    let password_file = state_path
        .parent()
        .unwrap_or(Path::new("."))
        .join("passwords")
        .join(format!("{namespace}-{}.tsv", request.name_any()));
    let mut sink = FileSink {
        state_path,
        state,
        key: key.clone(),
        password_file: password_file.clone(),
        wrote_password: false,
        progress: Progress::new(),
    };
    let status = revocation::run(
        &client,
        &request.spec,
        settings.protected(),
        None,
        recorded.unwrap_or_default(),
        &mut sink,
        options,
    )
    .await;
    if let Some(bar) = &sink.progress.bar {
        bar.finish_and_clear();
    }
    if sink.wrote_password {
        report.password_file = Some(password_file);
    }
    report.status = Some(status);
    report
}

fn describe_targets(request: &RevocationRequest) -> String {
    let t = &request.spec.targets;
    let mut parts = Vec::new();
    if t.all_users {
        parts.push("all users".to_owned());
    }
    if !t.users.is_empty() {
        parts.push(format!("users {}", t.users.join(", ")));
    }
    if !t.groups.is_empty() {
        parts.push(format!("members of {}", t.groups.join(", ")));
    }
    parts.join("; ")
}

/// Reports as text; names and Graph messages printed through [`printable`].
pub fn text(reports: &[RevocationReport]) -> String {
    let mut out = String::new();
    for report in reports {
        out.push_str(&format!("RevocationRequest {}\n", report.key));
        if let Some((reason, message)) = &report.error {
            out.push_str(&format!("    {reason}: {}\n", printable(message)));
            continue;
        }
        match &report.status {
            Some(status) if status.phase.is_terminal() => {
                if !report.would_run {
                    out.push_str("    already ran (recorded in the state file); not run again\n");
                }
                let c = &status.counts;
                out.push_str(&format!(
                    "    {:?}: {} resolved, {} succeeded, {} verified, {} failed, {} skipped, {} protected left alone\n",
                    status.phase, c.resolved, c.succeeded, c.verified, c.failed, c.skipped, c.skipped_protected
                ));
                if let Some(ready) = status::get(&status.conditions, ConditionType::Failed)
                    .filter(|c| status::holds(c))
                {
                    out.push_str(&format!(
                        "    {}: {}\n",
                        ready.reason,
                        printable(&ready.message)
                    ));
                }
                for failure in &status.failures {
                    out.push_str(&format!(
                        "    failed: {} {}: {}: {}\n",
                        printable(&failure.target),
                        failure.action,
                        failure.reason,
                        printable(&failure.message)
                    ));
                }
                if (status.failures.len() as i64) < c.failed {
                    out.push_str(&format!(
                        "    ... and {} more failures (counts are exact)\n",
                        c.failed - status.failures.len() as i64
                    ));
                }
            }
            _ => out.push_str(&format!("    {}\n", printable(&report.summary))),
        }
        if let Some(file) = &report.password_file {
            out.push_str(&format!(
                "    temporary passwords written to {} (mode 0600)\n",
                file.display()
            ));
        }
    }
    out
}

/// Whether a report counts as done and healthy for `apply`'s exit code.
pub fn is_ready(report: &RevocationReport) -> bool {
    report.error.is_none()
        && report
            .status
            .as_ref()
            .is_some_and(|s| s.phase == RevocationPhase::Succeeded)
}
