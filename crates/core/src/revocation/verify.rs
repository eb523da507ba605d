//! Reading back `signInSessionsValidFromDateTime` to confirm that revocation took effect.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use sessionops_graph::Method;

use super::targets::Target;
use super::{RevocationError, RunOptions};
use sessionops_graph::{ApiVersion, BatchItem, BatchItemResponse, GraphClient, GraphError};

/// The ids among `targets` whose sessions were revoked at or after `since`.
pub(super) async fn revoked_since(
    client: &GraphClient,
    targets: &[&Target],
    since: jiff::Timestamp,
    concurrency: usize,
) -> Result<BTreeSet<String>, GraphError> {
    // Graph reports the instant to the second: compare at that precision.
    let since = jiff::Timestamp::from_second(since.as_second()).unwrap_or(since);
    let items: Vec<BatchItem> = targets
        .iter()
        .map(|t| {
            BatchItem::new(
                t.id.clone(),
                Method::GET,
                format!("/users/{}?$select=id,signInSessionsValidFromDateTime", t.id),
            )
        })
        .collect();
    let responses = client.batch(ApiVersion::V1, items, concurrency).await?;
    Ok(targets
        .iter()
        .zip(responses)
        .filter(|(_, r)| r.is_success() && valid_from(r).is_some_and(|v| v >= since))
        .map(|(t, _)| t.id.clone())
        .collect())
}

fn valid_from(response: &BatchItemResponse) -> Option<jiff::Timestamp> {
    response
        .body
        .as_ref()
        .and_then(|b| b["signInSessionsValidFromDateTime"].as_str())
        .and_then(|t| t.parse().ok())
}

/// Reads back `signInSessionsValidFromDateTime` for `targets` until each is at or after
/// `threshold`, re-polling with backoff until the timeout. Returns the unverified.
pub(super) async fn verify(
    client: &GraphClient,
    targets: &[Target],
    threshold: jiff::Timestamp,
    options: &RunOptions,
) -> Result<Vec<Target>, RevocationError> {
    let deadline = Instant::now() + options.verify_timeout;
    let mut pending: Vec<Target> = targets.to_vec();
    let mut delay = options.verify_poll;
    loop {
        let targets: Vec<&Target> = pending.iter().collect();
        let done = revoked_since(client, &targets, threshold, options.concurrency).await?;
        pending.retain(|t| !done.contains(&t.id));
        if pending.is_empty() || Instant::now() + delay > deadline {
            return Ok(pending);
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(30));
    }
}
