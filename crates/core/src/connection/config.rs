//! From a tenant connection to a [`GraphConfig`]: hosts of the national cloud, overrides, and,
//! outside a cluster, credentials from the Azure SDK environment variables (so GitHub and
//! GitLab OIDC federation works in CI without a secret).

use std::path::PathBuf;
use std::sync::Arc;

use sessionops_api::ConnectionSettings;
use sessionops_graph::GraphConfig;
use sessionops_graph::GraphError;
use sessionops_graph::auth::{CertificateCredential, Credential, Secret};

/// Environment variables, abstracted so tests need not mutate the process environment.
pub trait Environment {
    /// The variable's value, when set and not empty.
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl Environment for std::collections::HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.is_empty()).cloned()
    }
}

/// Graph and login base URLs of a connection: its overrides, else its cloud's hosts.
pub fn endpoints(settings: &dyn ConnectionSettings) -> (String, String) {
    let overrides = settings.endpoints();
    let graph = overrides
        .and_then(|e| e.graph.clone())
        .unwrap_or_else(|| settings.cloud().graph_endpoint().to_owned());
    let login = overrides
        .and_then(|e| e.login.clone())
        .unwrap_or_else(|| settings.cloud().login_endpoint().to_owned());
    (graph, login)
}

/// A config for a connection whose credential the caller already resolved (in a cluster, from
/// the referenced Secret).
pub fn config_for(settings: &dyn ConnectionSettings, credential: Credential) -> GraphConfig {
    let (graph, login) = endpoints(settings);
    GraphConfig::new(
        settings.tenant_id(),
        settings.client_id(),
        credential,
        &graph,
        &login,
    )
}

/// A config for a connection outside a cluster: `secretRef`s cannot be read, so the
/// credential of the kind the manifest names comes from the Azure SDK variables, and
/// `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_AUTHORITY_HOST` override the manifest.
pub fn config_from_environment(
    settings: &dyn ConnectionSettings,
    env: &dyn Environment,
) -> Result<GraphConfig, GraphError> {
    let credentials = settings.credentials();
    let credential = if credentials.client_secret.is_some() {
        let secret = env
            .var("AZURE_CLIENT_SECRET")
            .ok_or_else(|| missing("clientSecret", "AZURE_CLIENT_SECRET"))?;
        Credential::ClientSecret(Secret::new(secret))
    } else if credentials.certificate.is_some() {
        let path = env
            .var("AZURE_CLIENT_CERTIFICATE_PATH")
            .ok_or_else(|| missing("certificate", "AZURE_CLIENT_CERTIFICATE_PATH"))?;
        let pem = std::fs::read(&path).map_err(|e| {
            GraphError::Credentials(format!(
                "cannot read AZURE_CLIENT_CERTIFICATE_PATH {path}: {e}"
            ))
        })?;
        if !pem.starts_with(b"-----") && !String::from_utf8_lossy(&pem).contains("-----BEGIN") {
            return Err(GraphError::Credentials(format!(
                "AZURE_CLIENT_CERTIFICATE_PATH {path} is not PEM (PFX is not supported): provide the certificate and its unencrypted private key in one PEM file"
            )));
        }
        Credential::Certificate(Arc::new(CertificateCredential::from_pem(&pem, &pem)?))
    } else {
        let token_file = env
            .var("AZURE_FEDERATED_TOKEN_FILE")
            .ok_or_else(|| missing("workloadIdentity", "AZURE_FEDERATED_TOKEN_FILE"))?;
        Credential::WorkloadIdentity {
            token_file: PathBuf::from(token_file),
        }
    };
    let mut config = config_for(settings, credential);
    if let Some(tenant) = env.var("AZURE_TENANT_ID") {
        config.tenant_id = tenant;
    }
    if let Some(client) = env.var("AZURE_CLIENT_ID") {
        config.client_id = client;
    }
    if let Some(authority) = env.var("AZURE_AUTHORITY_HOST") {
        config.login_endpoint = authority.trim_end_matches('/').to_owned();
    }
    Ok(config)
}

fn missing(kind: &str, variable: &str) -> GraphError {
    GraphError::Credentials(format!(
        "spec.credentials.{kind}: outside a cluster the credential comes from {variable}, which is not set"
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use sessionops_api::{Cloud, TenantConnectionSpec};

    fn spec(credentials: serde_json::Value, cloud: &str) -> TenantConnectionSpec {
        serde_json::from_value(serde_json::json!({
            "tenantId": "contoso.onmicrosoft.com",
            "clientId": "9a2b3c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d",
            "cloud": cloud,
            "credentials": credentials,
        }))
        .unwrap()
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn national_clouds_set_both_hosts() {
        let settings = spec(serde_json::json!({"workloadIdentity": {}}), "USGovDoD");
        assert_eq!(
            endpoints(&settings),
            (
                "https://dod-graph.microsoft.us".into(),
                "https://login.microsoftonline.us".into()
            )
        );
        assert_eq!(
            Cloud::China.graph_endpoint(),
            "https://microsoftgraph.chinacloudapi.cn"
        );
    }

    #[test]
    fn the_manifest_names_the_kind_and_the_environment_supplies_it() {
        let settings = spec(
            serde_json::json!({"clientSecret": {"secretRef": {"name": "x"}}}),
            "Global",
        );
        let error = config_from_environment(&settings, &env(&[])).unwrap_err();
        assert!(error.to_string().contains("AZURE_CLIENT_SECRET"), "{error}");
        let config = config_from_environment(
            &settings,
            &env(&[
                ("AZURE_CLIENT_SECRET", "s3cret"),
                ("AZURE_TENANT_ID", "other-tenant"),
                ("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com/"),
            ]),
        )
        .unwrap();
        assert!(matches!(config.credential, Credential::ClientSecret(_)));
        assert_eq!(config.tenant_id, "other-tenant");
        assert_eq!(config.client_id, "9a2b3c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d");
        assert_eq!(config.login_endpoint, "https://login.microsoftonline.com");
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn workload_identity_reads_the_federated_token_file_variable() {
        let settings = spec(serde_json::json!({"workloadIdentity": {}}), "Global");
        let config = config_from_environment(
            &settings,
            &env(&[("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token")]),
        )
        .unwrap();
        assert!(
            matches!(config.credential, Credential::WorkloadIdentity { ref token_file } if token_file == &PathBuf::from("/var/run/token"))
        );
    }

    #[test]
    fn certificate_from_a_pem_file_with_certificate_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let fixtures =
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures"));
        let mut pem = std::fs::read(fixtures.join("test-app.cert.pem")).unwrap();
        pem.extend(std::fs::read(fixtures.join("test-app.key.pem")).unwrap());
        let path = dir.path().join("app.pem");
        std::fs::write(&path, pem).unwrap();
        let settings = spec(
            serde_json::json!({"certificate": {"secretRef": {"name": "x"}}}),
            "Global",
        );
        let config = config_from_environment(
            &settings,
            &env(&[("AZURE_CLIENT_CERTIFICATE_PATH", path.to_str().unwrap())]),
        )
        .unwrap();
        assert!(matches!(config.credential, Credential::Certificate(_)));
        std::fs::write(&path, b"\x30\x82binary-pfx").unwrap();
        let error = config_from_environment(
            &settings,
            &env(&[("AZURE_CLIENT_CERTIFICATE_PATH", path.to_str().unwrap())]),
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("PFX is not supported"),
            "{error}"
        );
    }
}
