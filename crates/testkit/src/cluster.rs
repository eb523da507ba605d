//! The Kubernetes API as the operator sees it, without a cluster: kube-rs's mock service
//! (tower-test) answers every call the controllers make and records it, so tests assert the
//! exact method, path and body of each; watch caches are filled as after their initial list.

use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use kube::client::Body;
use kube::core::DeserializeGuard;
use kube::runtime::reflector::Store;
use kube::runtime::reflector::store::Writer;
use kube::runtime::watcher;
use serde_json::{Value, json};
use sessionops_api::{
    ClusterTenantConnection, IdleTimeoutPolicy, NamedLocation, RevocationRequest, SessionPolicy,
    TenantConnection,
};
use sessionops_operator::metrics::Metrics;
use sessionops_operator::{Context, Settings, Stores};
use tower_test::mock::Handle;

/// A watch cache holding `objects` after its initial list, as the operator's caches are
/// before the first reconcile.
pub fn store<K>(objects: Vec<K>) -> Store<DeserializeGuard<K>>
where
    K: kube::Resource<DynamicType = ()> + Clone + 'static,
{
    let mut writer = Writer::<DeserializeGuard<K>>::default();
    writer.apply_watcher_event(&watcher::Event::Init);
    for object in objects {
        writer.apply_watcher_event(&watcher::Event::InitApply(DeserializeGuard(Ok(object))));
    }
    writer.apply_watcher_event(&watcher::Event::InitDone);
    writer.as_reader()
}

/// One call the operator made to the API server.
#[derive(Clone, Debug)]
pub struct Call {
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// JSON body (`null` without one).
    pub body: Value,
}

impl Call {
    /// Whether this is `method path`.
    pub fn is(&self, method: &str, path: &str) -> bool {
        self.method == method && self.path == path
    }
}

/// The Kubernetes API as the operator sees it: a tower-test mock answering every call, and
/// the objects its watch caches hold.
pub struct Cluster {
    handle: Handle<Request<Body>, Response<Body>>,
    /// What the controllers share (its client talks to the mock).
    pub ctx: Arc<Context>,
    /// Objects as the API server would return them from PATCH (echoed back), by path.
    pub objects: serde_json::Map<String, Value>,
    /// Secrets a GET returns, by path.
    pub secrets: serde_json::Map<String, Value>,
}

impl Cluster {
    /// A cluster holding `connections`, `policies` and `revocations` in its watch caches
    /// (and answering PATCHes of them), with the controllers' `settings`.
    pub fn new(
        settings: Settings,
        connections: Vec<ClusterTenantConnection>,
        policies: Vec<SessionPolicy>,
        revocations: Vec<RevocationRequest>,
    ) -> Cluster {
        Cluster::with_locations(settings, connections, policies, Vec::new(), revocations)
    }

    /// [`Cluster::new`] with NamedLocations too.
    pub fn with_locations(
        settings: Settings,
        connections: Vec<ClusterTenantConnection>,
        policies: Vec<SessionPolicy>,
        locations: Vec<NamedLocation>,
        revocations: Vec<RevocationRequest>,
    ) -> Cluster {
        Cluster::build(
            settings,
            connections,
            policies,
            locations,
            Vec::new(),
            revocations,
        )
    }

    /// A cluster holding `connections` and `idle_timeouts` (and answering PATCHes of them).
    pub fn with_idle_timeouts(
        settings: Settings,
        connections: Vec<ClusterTenantConnection>,
        idle_timeouts: Vec<IdleTimeoutPolicy>,
    ) -> Cluster {
        Cluster::build(
            settings,
            connections,
            Vec::new(),
            Vec::new(),
            idle_timeouts,
            Vec::new(),
        )
    }

    fn build(
        settings: Settings,
        connections: Vec<ClusterTenantConnection>,
        policies: Vec<SessionPolicy>,
        locations: Vec<NamedLocation>,
        idle_timeouts: Vec<IdleTimeoutPolicy>,
        revocations: Vec<RevocationRequest>,
    ) -> Cluster {
        let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let client = kube::Client::new(service, "default");
        let mut objects = serde_json::Map::new();
        for p in &policies {
            objects.insert(policy_path(p), serde_json::to_value(p).unwrap());
        }
        for l in &locations {
            objects.insert(location_path(l), serde_json::to_value(l).unwrap());
        }
        for t in &idle_timeouts {
            objects.insert(idle_timeout_path(t), serde_json::to_value(t).unwrap());
        }
        for r in &revocations {
            objects.insert(
                format!(
                    "/apis/sessionops.io/v1alpha1/namespaces/{}/revocationrequests/{}",
                    r.metadata.namespace.as_deref().unwrap(),
                    r.metadata.name.as_deref().unwrap()
                ),
                serde_json::to_value(r).unwrap(),
            );
        }
        let stores = Stores {
            cluster_connections: store(connections),
            connections: store(Vec::<TenantConnection>::new()),
            policies: store(policies),
            locations: store(locations),
            strengths: store(Vec::<sessionops_api::AuthenticationStrength>::new()),
            idle_timeouts: store(idle_timeouts),
            revocations: store(revocations),
        };
        let ctx = Arc::new(Context::new(
            client,
            stores,
            Arc::new(Metrics::new()),
            settings,
            Some("test".into()),
        ));
        Cluster {
            handle,
            ctx,
            objects,
            secrets: serde_json::Map::new(),
        }
    }

    /// Adds a Secret that GETs of `namespace/name` return, with `data` base64-encoded.
    pub fn with_secret(mut self, namespace: &str, name: &str, data: &[(&str, &str)]) -> Cluster {
        use base64::Engine;
        let encoded: serde_json::Map<String, Value> = data
            .iter()
            .map(|(k, v)| {
                let v = base64::engine::general_purpose::STANDARD.encode(v);
                ((*k).to_owned(), Value::String(v))
            })
            .collect();
        self.secrets.insert(
            format!("/api/v1/namespaces/{namespace}/secrets/{name}"),
            json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": name, "namespace": namespace},
                "data": encoded
            }),
        );
        self
    }

    /// Runs `reconcile` to its end while answering its API calls; returns the result and the
    /// calls in order. Fails if a call is still pending afterwards.
    pub async fn run<F, T>(
        &mut self,
        reconcile: F,
        mut on_call: impl FnMut(&Call),
    ) -> (T, Vec<Call>)
    where
        F: std::future::Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let mut task = tokio::spawn(reconcile);
        let mut calls = Vec::new();
        let result = loop {
            tokio::select! {
                request = self.handle.next_request() => {
                    let (request, respond) = request.expect("the client is alive");
                    let method = request.method().to_string();
                    let path = request.uri().path().to_owned();
                    let bytes = request.into_body().collect_bytes().await.unwrap();
                    let body: Value = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() };
                    let call = Call { method, path, body };
                    on_call(&call);
                    let answer = self.answer(&call);
                    calls.push(call);
                    respond.send_response(answer);
                }
                result = &mut task => break result.expect("the reconcile does not panic"),
            }
        };
        let pending =
            tokio::time::timeout(Duration::from_millis(50), self.handle.next_request()).await;
        assert!(
            pending.is_err(),
            "a call was left unanswered after the reconcile returned"
        );
        (result, calls)
    }

    fn answer(&self, call: &Call) -> Response<Body> {
        let ok = |value: &Value| {
            Response::builder()
                .status(if call.method == "POST" { 201 } else { 200 })
                .body(Body::from(serde_json::to_vec(value).unwrap()))
                .unwrap()
        };
        if call.method == "GET"
            && let Some(secret) = self.secrets.get(&call.path)
        {
            return ok(secret);
        }
        if call.method == "POST" {
            // Creations (events, password Secrets) echo the object back.
            return ok(&call.body);
        }
        let object_path = call.path.trim_end_matches("/status");
        match self.objects.get(object_path) {
            Some(object) => ok(object),
            None => Response::builder()
                .status(404)
                .body(Body::from(
                    serde_json::to_vec(&json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404, "message": "not found"})).unwrap(),
                ))
                .unwrap(),
        }
    }
}

/// The calls as (method, path), for exact-sequence assertions.
pub fn call_shapes(calls: &[Call]) -> Vec<(&str, &str)> {
    calls
        .iter()
        .map(|c| (c.method.as_str(), c.path.as_str()))
        .collect()
}

/// The API path of a NamedLocation.
pub fn location_path(l: &NamedLocation) -> String {
    format!(
        "/apis/sessionops.io/v1alpha1/namespaces/{}/namedlocations/{}",
        l.metadata.namespace.as_deref().unwrap(),
        l.metadata.name.as_deref().unwrap()
    )
}

/// The API path of an IdleTimeoutPolicy.
pub fn idle_timeout_path(t: &IdleTimeoutPolicy) -> String {
    format!(
        "/apis/sessionops.io/v1alpha1/namespaces/{}/idletimeoutpolicies/{}",
        t.metadata.namespace.as_deref().unwrap(),
        t.metadata.name.as_deref().unwrap()
    )
}

/// The API path of a SessionPolicy.
pub fn policy_path(p: &SessionPolicy) -> String {
    format!(
        "/apis/sessionops.io/v1alpha1/namespaces/{}/sessionpolicies/{}",
        p.metadata.namespace.as_deref().unwrap(),
        p.metadata.name.as_deref().unwrap()
    )
}
