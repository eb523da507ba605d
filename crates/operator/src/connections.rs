//! From a `tenantRef` to a Graph client: the connection object (from the watch cache), the
//! namespace check (before anything else, so a namespace that may not use a connection causes
//! no Secret read and no Graph call), the credential from its Secret, and one cached client
//! per connection, rebuilt when the connection or its Secret changes (credential rotation
//! without a restart).

use sessionops_core::failure::Failure;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::api::core::v1::Secret as KubeSecret;
use kube::Api;
use kube::ResourceExt;
use kube::core::DeserializeGuard;
use kube::runtime::reflector::ObjectRef;

use super::metrics::Metrics;
use super::settings::{Settings, Stores};
use sessionops_api::{ClusterTenantConnection, TenantConnection, TenantRef};
use sessionops_core::connection::config::config_for;
use sessionops_core::connection::{self, ConnectionSource, Found};
use sessionops_core::status::Reason;
use sessionops_graph::auth::CertificateCredential;
use sessionops_graph::{Credential, GraphClient, Secret};

/// A tenant connection of either kind, from the watch cache.
pub type Connection = Found<Arc<ClusterTenantConnection>, Arc<TenantConnection>>;

/// Where its Secrets are: the namespace its secretRef names (cluster-scoped) or its own.
fn secret_namespace(connection: &Connection, named: Option<&String>) -> String {
    match connection {
        Connection::Cluster(_) => named.cloned().unwrap_or_default(),
        Connection::Namespaced(c) => c.namespace().unwrap_or_default(),
    }
}

impl ConnectionSource for Stores {
    type Cluster = Arc<ClusterTenantConnection>;
    type Namespaced = Arc<TenantConnection>;

    fn cluster_connection(&self, name: &str) -> Option<Result<Self::Cluster, String>> {
        let found = self.cluster_connections.get(&ObjectRef::new(name))?;
        Some(valid(&found))
    }

    fn tenant_connection(
        &self,
        namespace: &str,
        name: &str,
    ) -> Option<Result<Self::Namespaced, String>> {
        let found = self
            .connections
            .get(&ObjectRef::new(name).within(namespace))?;
        Some(valid(&found))
    }

    fn looked_in(&self) -> &'static str {
        ""
    }
}

fn valid<K: Clone>(found: &DeserializeGuard<K>) -> Result<Arc<K>, String> {
    found
        .0
        .clone()
        .map(Arc::new)
        .map_err(|invalid| invalid.error.clone())
}

/// The connection `reference` names, if objects of `namespace` may use it. Reads the watch
/// cache only: no API or Graph call.
pub fn find(
    stores: &Stores,
    reference: &TenantRef,
    namespace: &str,
) -> Result<Connection, Failure> {
    connection::find(stores, reference, namespace)
}

struct Entry {
    /// Digest of the connection's spec.
    spec: Vec<u8>,
    /// Digest of the spec and the credential.
    fingerprint: Vec<u8>,
    checked: Instant,
    graph: GraphClient,
}

/// One Graph client per connection.
pub struct Connections {
    client: kube::Client,
    entries: tokio::sync::Mutex<HashMap<String, Entry>>,
}

impl Connections {
    /// An empty cache.
    pub fn new(client: kube::Client) -> Self {
        Connections {
            client,
            entries: Default::default(),
        }
    }

    /// The Graph client of `connection`. Its Secret is read again when the cached client is
    /// older than the resync interval or `recheck` is set; a changed connection or credential
    /// gives a new client (the pacing of the tenant is shared across clients, so nothing
    /// about Graph's limits is lost).
    pub async fn graph(
        &self,
        connection: &Connection,
        settings: &Settings,
        metrics: &Arc<Metrics>,
        recheck: bool,
    ) -> Result<GraphClient, Failure> {
        let key = connection.key();
        {
            let entries = self.entries.lock().await;
            if let Some(entry) = entries.get(&key)
                && !recheck
                && entry.checked.elapsed() < settings.resync
                && entry.spec == fingerprint(connection, None)
            {
                return Ok(entry.graph.clone());
            }
        }
        let (credential, material) = self.credential(connection, settings).await?;
        let digest = fingerprint(connection, Some(&material));
        let mut entries = self.entries.lock().await;
        if let Some(entry) = entries.get_mut(&key)
            && entry.fingerprint == digest
        {
            entry.checked = Instant::now();
            return Ok(entry.graph.clone());
        }
        let mut config = config_for(connection.settings(), credential);
        config.observer = Some(metrics.clone());
        (settings.configure)(&mut config);
        let graph = GraphClient::new(config)?;
        if entries.contains_key(&key) {
            tracing::info!(connection = %key, "tenant connection or its credential changed: using the new one");
        }
        entries.insert(
            key,
            Entry {
                spec: fingerprint(connection, None),
                fingerprint: digest,
                checked: Instant::now(),
                graph: graph.clone(),
            },
        );
        Ok(graph)
    }

    /// Forgets the client of a connection (its credential was rejected: the next use reads
    /// the Secret again).
    pub async fn forget(&self, key: &str) {
        self.entries.lock().await.remove(key);
    }

    /// The credential and the bytes it was made from (for the fingerprint; never logged).
    async fn credential(
        &self,
        connection: &Connection,
        settings: &Settings,
    ) -> Result<(Credential, Vec<u8>), Failure> {
        let credentials = connection.settings().credentials();
        if let Some(secret) = &credentials.client_secret {
            let reference = &secret.secret_ref;
            let namespace = secret_namespace(connection, reference.namespace.as_ref());
            let data = self
                .secret_data(&namespace, &reference.name, "spec.credentials.clientSecret")
                .await?;
            let value = data.get(&reference.key).ok_or_else(|| {
                invalid_secret(
                    &namespace,
                    &reference.name,
                    &format!("has no key {:?}", reference.key),
                )
            })?;
            let text = String::from_utf8(value.clone()).map_err(|_| {
                invalid_secret(
                    &namespace,
                    &reference.name,
                    &format!("key {:?} is not UTF-8 text", reference.key),
                )
            })?;
            let text = text.trim().to_owned();
            Ok((
                Credential::ClientSecret(Secret::new(text.clone())),
                text.into_bytes(),
            ))
        } else if let Some(certificate) = &credentials.certificate {
            let reference = &certificate.secret_ref;
            let namespace = secret_namespace(connection, reference.namespace.as_ref());
            let data = self
                .secret_data(&namespace, &reference.name, "spec.credentials.certificate")
                .await?;
            let crt = data.get("tls.crt").ok_or_else(|| {
                invalid_secret(&namespace, &reference.name, "has no key \"tls.crt\"")
            })?;
            let key = data.get("tls.key").ok_or_else(|| {
                invalid_secret(&namespace, &reference.name, "has no key \"tls.key\"")
            })?;
            let credential = CertificateCredential::from_pem(crt, key).map_err(|e| {
                invalid_secret(
                    &namespace,
                    &reference.name,
                    &format!("does not hold a usable certificate and key: {e}"),
                )
            })?;
            let mut material = crt.clone();
            material.extend_from_slice(key);
            Ok((Credential::Certificate(Arc::new(credential)), material))
        } else {
            if let Connection::Namespaced(_) = connection {
                // The projected token is the operator's own identity: a namespace that could
                // use it through its own TenantConnection would bypass the allowedNamespaces
                // of every ClusterTenantConnection using that app.
                return Err(Failure::Refused {
                    reason: Reason::CredentialsNotAllowed,
                    message: "spec.credentials.workloadIdentity: workload identity is the operator's own identity, so only a ClusterTenantConnection may use it; a TenantConnection uses clientSecret or certificate".to_owned(),
                });
            }
            let token_file = settings.federated_token_file.clone().ok_or_else(|| Failure::Refused {
                reason: Reason::CredentialsNotFound,
                message: "spec.credentials.workloadIdentity: AZURE_FEDERATED_TOKEN_FILE is not set in the operator's pod; enable workload identity (Helm value workloadIdentity.enabled) so the webhook projects the token".to_owned(),
            })?;
            let material = token_file.to_string_lossy().into_owned().into_bytes();
            // The file is re-read on every token request: the kubelet rotates it.
            Ok((Credential::WorkloadIdentity { token_file }, material))
        }
    }

    async fn secret_data(
        &self,
        namespace: &str,
        name: &str,
        field: &str,
    ) -> Result<HashMap<String, Vec<u8>>, Failure> {
        let api: Api<KubeSecret> = Api::namespaced(self.client.clone(), namespace);
        match api.get(name).await {
            Ok(secret) => Ok(secret
                .data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect()),
            Err(kube::Error::Api(status)) if status.code == 404 => Err(Failure::Refused {
                reason: Reason::CredentialsNotFound,
                message: format!("{field}.secretRef: Secret {namespace}/{name} does not exist"),
            }),
            Err(kube::Error::Api(status)) if status.code == 403 => Err(Failure::Refused {
                reason: Reason::CredentialsNotFound,
                message: format!(
                    "{field}.secretRef: the operator may not read Secret {namespace}/{name}: {}",
                    status.message
                ),
            }),
            Err(error) => Err(Failure::Refused {
                reason: Reason::KubernetesUnavailable,
                message: format!("reading Secret {namespace}/{name}: {error}"),
            }),
        }
    }
}

fn invalid_secret(namespace: &str, name: &str, why: &str) -> Failure {
    Failure::Refused {
        reason: Reason::InvalidCredentials,
        message: format!("Secret {namespace}/{name} {why}"),
    }
}

/// A digest of the connection's spec and credential material: equal digests, same client.
fn fingerprint(connection: &Connection, material: Option<&[u8]>) -> Vec<u8> {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    let spec = match connection {
        Connection::Cluster(c) => serde_json::to_vec(&c.spec),
        Connection::Namespaced(c) => serde_json::to_vec(&c.spec),
    }
    .unwrap_or_default();
    context.update(&spec);
    if let Some(material) = material {
        context.update(&[0]);
        context.update(material);
    }
    context.finish().as_ref().to_vec()
}
