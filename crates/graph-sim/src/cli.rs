//! `sessionops sim`: runs the simulator until Ctrl-C. Flag values are parsed here rather than by
//! clap so that every bad value is a clear message and exit code 1.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use super::config::{SimCloud, SimConfig};
use super::resources::role_templates;
use super::seed::Seed;
use super::server::Simulator;
use clap::Args as ClapArgs;

/// Flags of `sessionops sim`. Values are plain strings checked by [`run`], so that a bad
/// value is a clear message and exit code 1.
#[derive(Debug, ClapArgs)]
pub struct Args {
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

/// Runs `sessionops sim`.
pub fn run(args: Args) -> ExitCode {
    let (config, listen) = match config_from_args(&args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(config, listen))
}

async fn serve(config: SimConfig, listen: SocketAddr) -> ExitCode {
    let users = config.users;
    let simulator = match Simulator::start(config, listen).await {
        Ok(simulator) => simulator,
        Err(err) => {
            eprintln!("error: cannot start the simulator on {listen}: {err}");
            return ExitCode::FAILURE;
        }
    };
    // The first line is the address, for scripts: `url=$(sessionops sim --listen 127.0.0.1:0 | head -1)`.
    println!("{}", simulator.base_url());
    println!("tenant-id: {}", simulator.tenant_id());
    println!("client-id: {}", simulator.client_id());
    println!("client-secret: {}", simulator.client_secret());
    use std::io::Write;
    let _ = std::io::stdout().flush();
    eprintln!(
        "Graph simulator ready ({users} generated users); Graph and login base: {}. Ctrl-C stops it.",
        simulator.base_url()
    );
    if let Err(err) = tokio::signal::ctrl_c().await {
        eprintln!("error: cannot wait for Ctrl-C: {err}");
    }
    simulator.shutdown().await;
    ExitCode::SUCCESS
}

fn parse<T: std::str::FromStr>(flag: &str, value: &str, what: &str) -> Result<T, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("--{flag}: '{value}' is not {what}"))
}

/// `incident=2000,staff=500`.
pub fn parse_groups(spec: &str) -> Result<Vec<(String, u32)>, String> {
    spec.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            let (name, count) = part.split_once('=').ok_or_else(|| {
                format!("--groups: '{part}' is not NAME=N (e.g. incident=2000,staff=500)")
            })?;
            let name = name.trim();
            if name.is_empty() {
                return Err(format!("--groups: '{part}' has no group name"));
            }
            Ok((
                name.to_owned(),
                parse("groups", count, "a number of users")?,
            ))
        })
        .collect()
}

/// `3000/150`: writes per window of seconds.
pub fn parse_write_quota(spec: &str) -> Result<(u32, Duration), String> {
    let (writes, seconds) = spec
        .split_once('/')
        .ok_or_else(|| format!("--write-quota: '{spec}' is not N/SECONDS (e.g. 3000/150)"))?;
    let writes: u32 = parse("write-quota", writes, "a number of writes")?;
    let seconds: f64 = parse("write-quota", seconds, "a number of seconds")?;
    if writes == 0 || !(seconds > 0.0 && seconds.is_finite()) {
        return Err(format!(
            "--write-quota: '{spec}' needs at least 1 write in a window longer than 0 seconds"
        ));
    }
    Ok((writes, Duration::from_secs_f64(seconds)))
}

/// Builds the configuration from the flags.
pub fn config_from_args(args: &Args) -> Result<(SimConfig, SocketAddr), String> {
    let defaults = SimConfig::default();
    let listen: SocketAddr = parse("listen", &args.listen, "an address like 127.0.0.1:8700")?;
    let throttle = match args.throttle.as_str() {
        "realistic" => true,
        "off" => false,
        other => return Err(format!("--throttle: '{other}' is not realistic or off")),
    };
    let fault_rate = match &args.fault_rate {
        Some(p) => {
            let p: f64 = parse("fault-rate", p, "a probability")?;
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("--fault-rate: {p} is not between 0 and 1"));
            }
            p
        }
        None => defaults.fault_rate,
    };
    let ca_rps = match &args.ca_rps {
        Some(n) => {
            let n: f64 = parse("ca-rps", n, "a number of requests per second")?;
            if !(n > 0.0 && n.is_finite()) {
                return Err(format!("--ca-rps: {n} must be greater than 0"));
            }
            n
        }
        None => defaults.ca_rps,
    };
    let millis = |flag: &str, value: &Option<String>, default: Duration| match value {
        Some(ms) => parse::<u64>(flag, ms, "a number of milliseconds").map(Duration::from_millis),
        None => Ok(default),
    };
    let token_lifetime = match &args.token_lifetime {
        Some(s) => {
            let seconds: u64 = parse("token-lifetime", s, "a number of seconds")?;
            if seconds == 0 {
                return Err("--token-lifetime: must be at least 1 second".to_owned());
            }
            Duration::from_secs(seconds)
        }
        None => defaults.token_lifetime,
    };
    let seed = args
        .seed
        .as_deref()
        .map(|path| Seed::load(path).map_err(|e| format!("--seed {}: {e}", path.display())))
        .transpose()?;
    let client_certificate_pem = args
        .client_certificate
        .as_deref()
        .map(|path| read_text("client-certificate", path))
        .transpose()?;
    let granted_roles = comma_list(args.roles.as_deref(), &defaults.granted_roles);
    let directory_roles = comma_list(args.directory_roles.as_deref(), &defaults.directory_roles);
    if let Some(unknown) = directory_roles
        .iter()
        .find(|r| role_templates::template_id(r).is_none())
    {
        return Err(format!(
            "--directory-roles: '{unknown}' is not a built-in directory role the simulator knows (see GET /directoryRoleTemplates)"
        ));
    }
    let cloud = match &args.cloud {
        Some(name) => SimCloud::parse(name.trim())
            .ok_or_else(|| format!("--cloud: '{name}' is not Global, USGov, USGovDoD or China"))?,
        None => defaults.cloud,
    };
    let config = SimConfig {
        tenant_id: args.tenant_id.clone().unwrap_or(defaults.tenant_id),
        client_id: args.client_id.clone().unwrap_or(defaults.client_id),
        client_secret: args.client_secret.clone().unwrap_or(defaults.client_secret),
        client_certificate_pem,
        federated_issuer: args.federated_issuer.clone(),
        federated_subject: args
            .federated_subject
            .clone()
            .unwrap_or(defaults.federated_subject),
        granted_roles,
        users: match &args.users {
            Some(n) => parse("users", n, "a number of users")?,
            None => defaults.users,
        },
        groups: match &args.groups {
            Some(spec) => parse_groups(spec)?,
            None => Vec::new(),
        },
        seed,
        throttle,
        write_quota: match &args.write_quota {
            Some(spec) => parse_write_quota(spec)?,
            None => defaults.write_quota,
        },
        ca_rps,
        latency: millis("latency", &args.latency, defaults.latency)?,
        fault_rate,
        lag: millis("lag", &args.lag, defaults.lag)?,
        token_lifetime,
        domain: args.domain.clone().unwrap_or(defaults.domain),
        cloud,
        directory_roles,
        journal: args.journal,
    };
    config.validate().map_err(|e| e.to_string())?;
    Ok((config, listen))
}

/// `A,B,C` (blanks dropped, `''` for none), or the default when the flag is absent.
fn comma_list(value: Option<&str>, default: &[String]) -> Vec<String> {
    match value {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect(),
        None => default.to_vec(),
    }
}

fn read_text(flag: &str, path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("--{flag} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_and_quota_specs() {
        assert_eq!(
            parse_groups("incident=2000, staff=500").unwrap(),
            vec![("incident".to_owned(), 2000), ("staff".to_owned(), 500)]
        );
        assert!(parse_groups("incident").is_err());
        assert!(parse_groups("=3").is_err());
        assert!(parse_groups("a=x").is_err());
        assert_eq!(
            parse_write_quota("3000/150").unwrap(),
            (3000, Duration::from_secs(150))
        );
        assert_eq!(
            parse_write_quota("20/0.5").unwrap(),
            (20, Duration::from_millis(500))
        );
        for bad in ["3000", "0/150", "10/0", "x/1", "1/-1"] {
            assert!(parse_write_quota(bad).is_err(), "{bad}");
        }
    }

    fn args(extra: &[&str]) -> Args {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            sim: Args,
        }
        let mut argv = vec!["sim"];
        argv.extend_from_slice(extra);
        Wrapper::parse_from(argv).sim
    }

    #[test]
    fn cloud_and_directory_role_flags() {
        let (config, _) = config_from_args(&args(&[])).unwrap();
        assert_eq!(config.cloud, SimCloud::Global);
        assert_eq!(
            config.directory_roles,
            ["Cloud Device Administrator", "User Administrator"]
        );
        let (config, _) = config_from_args(&args(&[
            "--cloud",
            "USGov",
            "--directory-roles",
            "",
            "--journal",
        ]))
        .unwrap();
        assert_eq!(config.cloud, SimCloud::UsGov);
        assert!(config.directory_roles.is_empty() && config.journal);
        let (config, _) =
            config_from_args(&args(&["--directory-roles", "Global Administrator"])).unwrap();
        assert_eq!(config.directory_roles, ["Global Administrator"]);
        let bad_cloud = config_from_args(&args(&["--cloud", "Mars"])).unwrap_err();
        assert!(bad_cloud.contains("--cloud"), "{bad_cloud}");
        let bad_role = config_from_args(&args(&["--directory-roles", "Janitor"])).unwrap_err();
        assert!(bad_role.contains("Janitor"), "{bad_role}");
    }
}
