//! OData query options, paging and the `@odata.*` annotations of responses.

pub(crate) mod filter;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::error::GraphError;
use super::pipeline::{ApiVersion, GraphRequest};
pub(crate) use filter::Filter;

/// `@odata.context` is informational and always names Graph's own host, as Graph does.
const GRAPH_METADATA: &str = "https://graph.microsoft.com";

/// Directory collections: default and maximum page sizes (the v1.0 CSDL enum order and `concepts/paging.md`).
pub(crate) const DIRECTORY_DEFAULT_PAGE: usize = 100;
pub(crate) const DIRECTORY_MAX_PAGE: usize = 999;

/// The query options of one request.
#[derive(Debug, Default)]
pub(crate) struct QueryOptions {
    pub select: Option<Vec<String>>,
    pub filter: Option<Filter>,
    pub top: Option<usize>,
    /// Where the page starts (decoded from `$skiptoken`).
    pub offset: usize,
    pub count: bool,
    pub expand: Option<String>,
    /// The request carries `ConsistencyLevel: eventual`.
    pub eventual: bool,
}

impl QueryOptions {
    /// Reads the `$`-options of a request. Options Graph would reject outright are rejected here;
    /// whether an option makes sense for a resource is up to its handler.
    pub(crate) fn parse(req: &GraphRequest) -> Result<QueryOptions, GraphError> {
        let mut options = QueryOptions {
            eventual: req
                .header("consistencylevel")
                .is_some_and(|v| v.eq_ignore_ascii_case("eventual")),
            ..QueryOptions::default()
        };
        for (key, value) in &req.query {
            match key.as_str() {
                "$select" => {
                    let fields: Vec<String> = value
                        .split(',')
                        .map(|f| f.trim().to_owned())
                        .filter(|f| !f.is_empty())
                        .collect();
                    if fields.is_empty() {
                        return Err(GraphError::bad_request(
                            "$select needs at least one property.",
                        ));
                    }
                    options.select = Some(fields);
                }
                "$filter" => options.filter = Some(Filter::parse(value)?),
                "$top" => {
                    let top = value.trim().parse::<usize>().map_err(|_| {
                        GraphError::bad_request(format!(
                            "Invalid value '{value}' for query option '$top'."
                        ))
                    })?;
                    options.top = Some(top);
                }
                "$skiptoken" => options.offset = decode_skip_token(value)?,
                "$count" => {
                    options.count = match value.as_str() {
                        "true" => true,
                        "false" => false,
                        _ => {
                            return Err(GraphError::bad_request(format!(
                                "Invalid value '{value}' for query option '$count'."
                            )));
                        }
                    }
                }
                "$expand" => options.expand = Some(value.clone()),
                // Accepted and ignored: ordering is stable (creation order) in the simulator.
                "$orderby" => {}
                other if other.starts_with('$') => {
                    return Err(GraphError::bad_request(format!(
                        "Query option '{other}' is not allowed. Make sure the option is supported for this resource."
                    )));
                }
                _ => {}
            }
        }
        Ok(options)
    }

    /// `ConsistencyLevel: eventual` together with `$count=true`.
    pub(crate) fn advanced(&self) -> bool {
        self.eventual && self.count
    }

    /// Directory rule: `$count=true` needs `ConsistencyLevel: eventual`.
    pub(crate) fn check_count(&self) -> Result<(), GraphError> {
        if self.count && !self.eventual {
            return Err(GraphError::request_bad_request(
                "$count is not currently supported. Send the header 'ConsistencyLevel: eventual' to use $count.",
            ));
        }
        Ok(())
    }

    /// Page size of a collection: `$top` if given (1..=max), else the default.
    pub(crate) fn page_size(&self, default: usize, max: usize) -> Result<usize, GraphError> {
        match self.top {
            None => Ok(default),
            Some(top) if (1..=max).contains(&top) => Ok(top),
            Some(top) => Err(GraphError::request_bad_request(format!(
                "Invalid page size specified: '{top}'. Must be between 1 and {max} inclusive."
            ))),
        }
    }

    /// The RU cost modifiers of `concepts/throttling.md`, `concepts/throttling-limits.md`: `$select` −1, `$expand` +1, `$top` < 20 −1.
    pub(crate) fn cost_modifier(&self) -> i32 {
        let mut modifier = 0;
        if self.select.is_some() {
            modifier -= 1;
        }
        if self.expand.is_some() {
            modifier += 1;
        }
        if self.top.is_some_and(|t| t < 20) {
            modifier -= 1;
        }
        modifier
    }
}

/// One page cut from a collection.
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    pub next_offset: Option<usize>,
}

/// Cuts the page that starts at `offset`.
pub(crate) fn paginate<T>(all: Vec<T>, offset: usize, size: usize) -> Page<T> {
    let total = all.len();
    let items: Vec<T> = all.into_iter().skip(offset).take(size).collect();
    let end = offset + items.len();
    Page {
        items,
        next_offset: (end < total).then_some(end),
    }
}

fn encode_skip_token(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("sessionops-sim:skip:{offset}"))
}

fn decode_skip_token(token: &str) -> Result<usize, GraphError> {
    URL_SAFE_NO_PAD
        .decode(token.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| {
            text.strip_prefix("sessionops-sim:skip:")
                .and_then(|n| n.parse().ok())
        })
        .ok_or_else(|| GraphError::request_bad_request("Invalid $skiptoken."))
}

/// The absolute `@odata.nextLink`: the same request with a `$skiptoken`, on the host the client
/// used. Clients must follow it verbatim.
pub(crate) fn next_link(req: &GraphRequest, next_offset: usize) -> String {
    let mut query: Vec<String> = req
        .query
        .iter()
        .filter(|(k, _)| k != "$skiptoken")
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect();
    query.push(format!("$skiptoken={}", encode_skip_token(next_offset)));
    format!(
        "{}/{}{}?{}",
        req.origin,
        req.version.as_str(),
        req.path,
        query.join("&")
    )
}

/// Percent-encodes a query component, keeping the characters OData queries are usually written
/// with (`$`, `'`, `(`, `)`, `,`) readable.
fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'$'
            | b'\''
            | b'('
            | b')'
            | b','
            | b'@'
            | b':'
            | b'/' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// `https://graph.microsoft.com/{version}/$metadata#{fragment}`.
pub(crate) fn context(version: ApiVersion, fragment: &str) -> String {
    format!("{GRAPH_METADATA}/{}/$metadata#{fragment}", version.as_str())
}

/// Context fragment of a collection, with the selected properties when `$select` was used:
/// `users(id,displayName)`.
pub(crate) fn collection_fragment(entity_set: &str, select: Option<&[String]>) -> String {
    match select {
        Some(fields) => format!("{entity_set}({})", fields.join(",")),
        None => entity_set.to_owned(),
    }
}

/// Context fragment of a single entity: `users/$entity` or `users(id)/$entity`.
pub(crate) fn entity_fragment(entity_set: &str, select: Option<&[String]>) -> String {
    format!("{}/$entity", collection_fragment(entity_set, select))
}

/// The body of a collection response.
pub(crate) fn collection_body(
    context: String,
    values: Vec<Value>,
    next_link: Option<String>,
    count: Option<usize>,
) -> Value {
    let mut body = Map::new();
    body.insert("@odata.context".into(), json!(context));
    if let Some(count) = count {
        body.insert("@odata.count".into(), json!(count));
    }
    if let Some(link) = next_link {
        body.insert("@odata.nextLink".into(), json!(link));
    }
    body.insert("value".into(), Value::Array(values));
    Value::Object(body)
}

/// A single-entity body: the object with `@odata.context` first.
pub(crate) fn entity_body(context: String, object: Value) -> Value {
    let mut body = Map::new();
    body.insert("@odata.context".into(), json!(context));
    if let Value::Object(fields) = object {
        body.extend(fields);
    }
    Value::Object(body)
}

/// Keeps the selected properties of an object (and its `@odata.type`, which Graph keeps on
/// directoryObject collections). Unknown names are checked by the caller.
pub(crate) fn select_fields(object: &Value, select: &[String]) -> Value {
    let Value::Object(fields) = object else {
        return object.clone();
    };
    let kept = fields
        .iter()
        .filter(|(key, _)| key.as_str() == "@odata.type" || select.iter().any(|s| s == *key))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(kept)
}

/// Rejects selected names that are not properties of the type, with Graph's message.
pub(crate) fn check_select(
    select: &[String],
    known: &[&str],
    type_name: &str,
) -> Result<(), GraphError> {
    for field in select {
        if !known.contains(&field.as_str()) {
            return Err(GraphError::request_bad_request(format!(
                "Could not find a property named '{field}' on type 'microsoft.graph.{type_name}'."
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_tokens_round_trip_and_reject_garbage() {
        assert_eq!(decode_skip_token(&encode_skip_token(300)).unwrap(), 300);
        assert!(decode_skip_token("garbage").is_err());
    }

    #[test]
    fn pages_cover_everything_once() {
        let page = paginate((0..250).collect(), 200, 100);
        assert_eq!(page.items.len(), 50);
        assert_eq!(page.next_offset, None);
        let page = paginate((0..250).collect(), 0, 100);
        assert_eq!(page.next_offset, Some(100));
    }

    #[test]
    fn query_components_keep_odata_punctuation() {
        assert_eq!(
            encode_component("startsWith(displayName,'a b')&x"),
            "startsWith(displayName,'a%20b')%26x"
        );
    }
}
