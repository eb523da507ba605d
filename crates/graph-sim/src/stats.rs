//! Request counters for `/_sim/stats`: how a client behaved, for tests and benchmarks.

use std::collections::{BTreeMap, VecDeque};

use serde_json::{Value, json};

/// How many CA request instants are kept.
const CA_TIMES_KEPT: usize = 10_000;

#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// "METHOD /route/template" → status → count.
    routes: BTreeMap<String, BTreeMap<u16, u64>>,
    requests: u64,
    throttled: u64,
    writes: u64,
    faults: u64,
    /// Unix milliseconds of Conditional Access / named location / Identity Protection requests,
    /// throttled ones included, so a test can check a client's pacing.
    ca_request_times: VecDeque<i64>,
    /// The last [`JOURNAL_LENGTH`] requests as received (`GET /_sim/requests`).
    journal: VecDeque<Value>,
}

/// A request as the simulator received it, for the journal.
pub(crate) struct Received<'a> {
    pub method: &'a str,
    pub version: &'a str,
    pub path: &'a str,
    pub query: &'a [(String, String)],
    pub headers: &'a axum::http::HeaderMap,
    pub body: Option<&'a Value>,
    /// An item of a `$batch`.
    pub batch_item: bool,
}

/// Replaces every `password` value, at any depth (a `$batch` envelope holds its items' bodies),
/// so the journal never shows a temporary password.
fn redact_passwords(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if key.eq_ignore_ascii_case("password") && !value.is_null() {
                    *value = json!("<redacted>");
                } else {
                    redact_passwords(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_passwords),
        _ => {}
    }
}

/// How many requests the journal keeps.
pub(crate) const JOURNAL_LENGTH: usize = 2000;

/// Request headers the journal keeps: the ones that change what Graph does. Never
/// `Authorization`.
const JOURNALED_HEADERS: &[&str] = &["content-type", "consistencylevel", "prefer"];

impl Stats {
    /// Records a request as received, for tests that compare requests with Microsoft's
    /// documented ones: method, version, path, query, the headers that matter and the body,
    /// with passwords redacted. `batch` marks an item of a `$batch`.
    pub(crate) fn journal(&mut self, received: Received<'_>) {
        let Received {
            method,
            version,
            path,
            query,
            headers,
            body,
            batch_item: batch,
        } = received;
        let mut kept = serde_json::Map::new();
        for (name, value) in headers {
            if JOURNALED_HEADERS.contains(&name.as_str())
                && let Ok(value) = value.to_str()
            {
                kept.insert(name.as_str().to_owned(), json!(value));
            }
        }
        let mut body = body.cloned();
        if let Some(body) = body.as_mut() {
            redact_passwords(body);
        }
        if self.journal.len() == JOURNAL_LENGTH {
            self.journal.pop_front();
        }
        self.journal.push_back(json!({
            "method": method,
            "version": version,
            "path": path,
            "query": query.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "headers": kept,
            "body": body,
            "batchItem": batch,
        }));
    }

    /// The journal, oldest first.
    pub(crate) fn journal_json(&self) -> Value {
        json!({ "requests": self.journal })
    }

    /// Counts one answered operation (a request, a `$batch` item or envelope, a token request).
    pub(crate) fn record(&mut self, key: &str, status: u16) {
        *self
            .routes
            .entry(key.to_owned())
            .or_default()
            .entry(status)
            .or_default() += 1;
        self.requests += 1;
        if status == 429 {
            self.throttled += 1;
        }
    }

    /// Counts a write admitted past throttling.
    pub(crate) fn record_write(&mut self) {
        self.writes += 1;
    }

    /// Counts an injected fault.
    pub(crate) fn record_fault(&mut self) {
        self.faults += 1;
    }

    pub(crate) fn record_ca_request(&mut self, unix_ms: i64) {
        if self.ca_request_times.len() == CA_TIMES_KEPT {
            self.ca_request_times.pop_front();
        }
        self.ca_request_times.push_back(unix_ms);
    }

    pub(crate) fn reset(&mut self) {
        *self = Stats::default();
    }

    pub(crate) fn to_json(&self) -> Value {
        let routes: serde_json::Map<String, Value> = self
            .routes
            .iter()
            .map(|(route, statuses)| {
                let statuses: serde_json::Map<String, Value> = statuses
                    .iter()
                    .map(|(status, count)| (status.to_string(), json!(count)))
                    .collect();
                (route.clone(), Value::Object(statuses))
            })
            .collect();
        json!({
            "routes": routes,
            "totals": {
                "requests": self.requests,
                "throttled": self.throttled,
                "writes": self.writes,
                "faults": self.faults,
            },
            "caRequestTimes": self.ca_request_times,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_never_shows_a_password_at_any_depth() {
        let mut stats = Stats::default();
        let envelope = json!({"requests": [{"id": "1", "method": "PATCH", "url": "/users/u",
            "headers": {"Content-Type": "application/json"},
            "body": {"passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "Secr3t!Pass"}}}]});
        stats.journal(Received {
            method: "POST",
            version: "v1.0",
            path: "/$batch",
            query: &[],
            headers: &axum::http::HeaderMap::new(),
            body: Some(&envelope),
            batch_item: false,
        });
        let text = stats.journal_json().to_string();
        assert!(!text.contains("Secr3t!Pass"), "{text}");
        assert!(text.contains("<redacted>") && text.contains("forceChangePasswordNextSignIn"));
    }

    #[test]
    fn counts_by_route_and_status() {
        let mut stats = Stats::default();
        stats.record("GET /users", 200);
        stats.record("GET /users", 200);
        stats.record("PATCH /users/{id}", 429);
        stats.record_write();
        let json = stats.to_json();
        assert_eq!(json["routes"]["GET /users"]["200"], 2);
        assert_eq!(json["routes"]["PATCH /users/{id}"]["429"], 1);
        assert_eq!(
            json["totals"],
            json!({"requests": 3, "throttled": 1, "writes": 1, "faults": 0})
        );
        stats.reset();
        assert_eq!(stats.to_json()["totals"]["requests"], 0);
    }

    #[test]
    fn keeps_the_last_ca_times() {
        let mut stats = Stats::default();
        for i in 0..(CA_TIMES_KEPT as i64 + 5) {
            stats.record_ca_request(i);
        }
        let json = stats.to_json();
        let times = json["caRequestTimes"].as_array().unwrap();
        assert_eq!(times.len(), CA_TIMES_KEPT);
        assert_eq!(times[0], 5);
    }
}
