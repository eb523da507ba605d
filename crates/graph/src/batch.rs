//! JSON batching (`POST /$batch`): up to 20 requests per batch, relative URLs, per-item status,
//! items answered in any order (matched back by id). Throttled and transient items are retried
//! in a new batch after the longest Retry-After, a bounded number of times. Every item counts
//! against the limits on its own, so batches draw their writes from the write quota.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use futures::StreamExt;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::client::{
    ApiVersion, GraphClient, GraphRequest, LIMIT_PERCENTAGE, parse_limit_percentage,
    parse_retry_after,
};
use super::error::{GraphError, RequestIds};
use super::permissions;

/// Graph's limit of requests per batch.
pub const MAX_BATCH_SIZE: usize = 20;

/// One request inside a batch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BatchItem {
    /// Unique within the batch; results are matched back by it.
    pub id: String,
    /// HTTP method.
    #[serde(serialize_with = "serialize_method")]
    pub method: Method,
    /// URL relative to the version root, e.g. `/users/{id}/revokeSignInSessions`.
    pub url: String,
    /// Headers (`Content-Type` is set whenever there is a body).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// JSON body: always present on POST, PATCH and PUT (see [`BatchItem::new`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

fn serialize_method<S: serde::Serializer>(
    method: &Method,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(method.as_str())
}

impl BatchItem {
    /// An item without content of its own. Write items (POST, PATCH, PUT) still carry an empty
    /// JSON body and its Content-Type: concepts/json-batching.md, "While the target URL doesn't
    /// require a request body, you must still specify the headers and body parameters where
    /// only body can be an empty object." Without them Graph refuses the whole batch with 400
    /// "Write request id : 1 does not contain Content-Type header or body."
    pub fn new(id: impl Into<String>, method: Method, url: impl Into<String>) -> Self {
        let item = BatchItem {
            id: id.into(),
            url: url.into(),
            headers: BTreeMap::new(),
            body: None,
            method,
        };
        if item.needs_body() {
            item.with_body(json!({}))
        } else {
            item
        }
    }

    /// POST, PATCH and PUT items must carry `headers` and `body` inside a `$batch`.
    fn needs_body(&self) -> bool {
        [Method::POST, Method::PATCH, Method::PUT].contains(&self.method)
    }

    /// With a JSON body (and its Content-Type, which Graph requires with a body).
    pub fn with_body(mut self, body: Value) -> Self {
        self.headers
            .insert("Content-Type".into(), "application/json".into());
        self.body = Some(body);
        self
    }

    fn is_write(&self) -> bool {
        self.method != Method::GET
    }
}

/// Graph's answer to one item.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct BatchItemResponse {
    /// The item's id.
    pub id: String,
    /// Its HTTP status.
    pub status: u16,
    /// Its headers (`Retry-After` on 429).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Its body.
    #[serde(default)]
    pub body: Option<Value>,
    /// How many batches carried this item.
    #[serde(skip)]
    pub attempts: u32,
    /// Request ids of the batch that answered it.
    #[serde(skip)]
    pub batch_ids: RequestIds,
}

impl BatchItemResponse {
    /// 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn is_retryable(&self) -> bool {
        matches!(self.status, 429 | 500 | 502 | 503 | 504)
    }

    /// The item's `Retry-After`, if any (header names are case-insensitive).
    pub fn retry_after(&self) -> Option<Duration> {
        self.headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("retry-after"))
            .and_then(|(_, value)| parse_retry_after(value))
    }

    /// The item's `x-ms-throttle-limit-percentage`, if Graph warned that the limit is near.
    pub fn limit_percentage(&self) -> Option<f64> {
        self.headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(LIMIT_PERCENTAGE))
            .and_then(|(_, value)| parse_limit_percentage(value))
    }

    /// The item's failure as a typed error (`None` on success).
    pub fn error(&self, item: &BatchItem) -> Option<GraphError> {
        if self.is_success() {
            return None;
        }
        if self.status == 429 {
            return Some(GraphError::Throttled {
                attempts: self.attempts,
                retry_after: self.retry_after(),
                ids: self.batch_ids.clone(),
            });
        }
        let body = self
            .body
            .as_ref()
            .map(|b| serde_json::to_vec(b).unwrap_or_default())
            .unwrap_or_default();
        let permission = permissions::required_for(&item.method, &item.url, item.body.as_ref());
        Some(
            match GraphError::from_response(
                self.status,
                &body,
                self.batch_ids.clone(),
                permission.as_deref(),
            ) {
                GraphError::Transient { detail, ids, .. } => GraphError::Transient {
                    attempts: self.attempts,
                    detail,
                    ids,
                },
                other => other,
            },
        )
    }
}

/// Indexes of a chunk's items and their responses.
type ChunkAnswer = (Vec<usize>, Vec<BatchItemResponse>);

#[derive(Deserialize)]
struct BatchResponseBody {
    responses: Vec<BatchItemResponse>,
}

impl GraphClient {
    /// One `$batch` round trip of at most 20 items. The batch request itself is retried like
    /// any request; the items' own statuses are returned as Graph gave them, in input order.
    pub async fn send_batch(
        &self,
        version: ApiVersion,
        items: &[BatchItem],
    ) -> Result<Vec<BatchItemResponse>, GraphError> {
        check_batch(items)?;
        let writes = items.iter().filter(|i| i.is_write()).count() as u32;
        let body = json!({ "requests": items });
        let response = self
            .send(GraphRequest::batch(version, body, writes))
            .await?;
        let parsed: BatchResponseBody = response.json()?;
        let mut by_id: HashMap<String, BatchItemResponse> = parsed
            .responses
            .into_iter()
            .map(|r| (r.id.to_ascii_lowercase(), r))
            .collect();
        items
            .iter()
            .map(|item| {
                by_id
                    .remove(&item.id.to_ascii_lowercase())
                    .map(|mut r| {
                        self.observe(item.method.as_str(), &item.url, r.status);
                        r.attempts = 1;
                        r.batch_ids = response.ids.clone();
                        r
                    })
                    .ok_or_else(|| GraphError::Protocol {
                        detail: format!("$batch answered no response for item {:?}", item.id),
                        ids: response.ids.clone(),
                    })
            })
            .collect()
    }

    /// Runs every item, 20 per batch with up to `concurrency` batches in flight, retrying
    /// throttled and transient items in new batches after the longest Retry-After (bounded by
    /// the retry policy). Returns one response per item, in input order: the caller decides
    /// per item (a permanent 4xx is an answer, not an error of the whole call).
    pub async fn batch(
        &self,
        version: ApiVersion,
        items: Vec<BatchItem>,
        concurrency: usize,
    ) -> Result<Vec<BatchItemResponse>, GraphError> {
        let retry = self.retry_policy();
        let mut results: Vec<Option<BatchItemResponse>> = vec![None; items.len()];
        let mut pending: Vec<usize> = (0..items.len()).collect();
        let mut round = 0;
        while !pending.is_empty() {
            round += 1;
            let chunks: Vec<Vec<usize>> = pending
                .chunks(MAX_BATCH_SIZE)
                .map(<[usize]>::to_vec)
                .collect();
            let answers: Vec<Result<ChunkAnswer, GraphError>> = futures::stream::iter(chunks)
                .map(|chunk| {
                    let batch: Vec<BatchItem> = chunk.iter().map(|&i| items[i].clone()).collect();
                    async move { self.send_batch(version, &batch).await.map(|r| (chunk, r)) }
                })
                .buffer_unordered(concurrency.max(1))
                .collect()
                .await;
            let mut retry_later = Vec::new();
            let mut longest_retry_after: Option<Duration> = None;
            let (mut throttled, mut written) = (false, 0);
            let mut most_used: Option<f64> = None;
            for answer in answers {
                let (chunk, responses) = answer?;
                for (index, mut response) in chunk.into_iter().zip(responses) {
                    response.attempts = round;
                    throttled |= response.status == 429;
                    if let Some(used) = response.limit_percentage() {
                        most_used = Some(most_used.map_or(used, |m: f64| m.max(used)));
                    }
                    if response.is_success() && items[index].is_write() {
                        written += 1;
                    }
                    if response.is_retryable() && round < retry.max_attempts {
                        longest_retry_after = longest_retry_after.max(response.retry_after());
                        retry_later.push(index);
                    }
                    results[index] = Some(response);
                }
            }
            // Items count against the quota one by one: a throttled item slows the write lane
            // like a throttled request would.
            if throttled {
                self.write_lane_throttled(longest_retry_after);
            } else if let Some(used) = most_used {
                self.write_lane_near_limit(used);
            } else if written > 0 {
                self.write_lane_succeeded(written);
            }
            if !retry_later.is_empty() {
                let delay = longest_retry_after
                    .unwrap_or_else(|| retry.backoff(round))
                    .min(retry.max_delay);
                tracing::debug!(
                    items = retry_later.len(),
                    delay_ms = delay.as_millis() as u64,
                    "retrying $batch items"
                );
                tokio::time::sleep(delay).await;
            }
            retry_later.sort_unstable();
            pending = retry_later;
        }
        Ok(results
            .into_iter()
            .map(|r| r.expect("every item answered"))
            .collect())
    }
}

fn check_batch(items: &[BatchItem]) -> Result<(), GraphError> {
    let problem = if items.is_empty() {
        Some("a $batch needs at least one item".to_owned())
    } else if items.len() > MAX_BATCH_SIZE {
        Some(format!(
            "{} items in one $batch; Graph accepts {MAX_BATCH_SIZE}",
            items.len()
        ))
    } else if let Some(item) = items.iter().find(|i| {
        (i.needs_body() && i.body.is_none())
            || (i.body.is_some()
                && !i
                    .headers
                    .keys()
                    .any(|h| h.eq_ignore_ascii_case("content-type")))
    }) {
        Some(format!(
            "item {:?} ({} {}) has no body or no Content-Type; Graph refuses the whole $batch",
            item.id, item.method, item.url
        ))
    } else {
        let mut seen = std::collections::HashSet::new();
        items
            .iter()
            .find(|i| !seen.insert(i.id.to_ascii_lowercase()))
            .map(|i| format!("item id {:?} is used twice in one $batch", i.id))
    };
    match problem {
        Some(detail) => Err(GraphError::Protocol {
            detail,
            ids: RequestIds::default(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_serialize_in_graph_batch_shape() {
        let item = BatchItem::new("7", Method::PATCH, "/users/u1")
            .with_body(json!({"accountEnabled": false}));
        assert_eq!(
            serde_json::to_value(&item).unwrap(),
            json!({"id": "7", "method": "PATCH", "url": "/users/u1", "headers": {"Content-Type": "application/json"}, "body": {"accountEnabled": false}})
        );
        // An action that takes no body still carries an empty one and its Content-Type.
        let action = BatchItem::new("1", Method::POST, "/users/u1/revokeSignInSessions");
        assert_eq!(
            serde_json::to_value(&action).unwrap(),
            json!({"id": "1", "method": "POST", "url": "/users/u1/revokeSignInSessions", "headers": {"Content-Type": "application/json"}, "body": {}})
        );
        let read = BatchItem::new("2", Method::GET, "/users/u1");
        assert_eq!(
            serde_json::to_value(&read).unwrap(),
            json!({"id": "2", "method": "GET", "url": "/users/u1"})
        );
        let delete = BatchItem::new("3", Method::DELETE, "/devices/d1");
        assert_eq!(
            serde_json::to_value(&delete).unwrap(),
            json!({"id": "3", "method": "DELETE", "url": "/devices/d1"})
        );
    }

    #[test]
    fn batches_are_checked_before_sending() {
        let item = |id: &str| BatchItem::new(id, Method::GET, "/users");
        assert!(check_batch(&[]).is_err());
        assert!(check_batch(&(0..21).map(|i| item(&i.to_string())).collect::<Vec<_>>()).is_err());
        assert!(
            check_batch(&[item("a"), item("A")]).is_err(),
            "ids are case-insensitive"
        );
        assert!(check_batch(&(0..20).map(|i| item(&i.to_string())).collect::<Vec<_>>()).is_ok());
        let mut bodiless = BatchItem::new("w", Method::POST, "/users/u1/revokeSignInSessions");
        bodiless.body = None;
        assert!(
            check_batch(&[bodiless]).is_err(),
            "a write item without a body is never sent"
        );
    }

    #[test]
    fn item_errors_are_typed_with_retry_after() {
        let item = BatchItem::new("1", Method::POST, "/users/u1/revokeSignInSessions");
        let throttled = BatchItemResponse {
            id: "1".into(),
            status: 429,
            headers: [("retry-after".to_owned(), "1.5".to_owned())].into(),
            body: None,
            attempts: 3,
            batch_ids: RequestIds::default(),
        };
        assert_eq!(throttled.retry_after(), Some(Duration::from_millis(1500)));
        assert!(matches!(
            throttled.error(&item),
            Some(GraphError::Throttled { .. })
        ));
        let forbidden = BatchItemResponse {
            status: 403,
            body: Some(
                json!({"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges"}}),
            ),
            ..throttled.clone()
        };
        let error = forbidden.error(&item).unwrap();
        assert!(
            error.to_string().contains("User.RevokeSessions.All"),
            "{error}"
        );
    }
}
