//! The collector's HTTP API: `POST /events`, `GET /events`, `GET /healthz`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body};
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::OffsetDateTime;
use tokio::sync::Semaphore;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use valise_core::events::{parse_batch, verify_event_value, EventError, ReaderDirectory, VerifiedEvent, BATCH_MEDIA_TYPE, EVENT_MEDIA_TYPE};

use super::host::{check_host, AllowedHosts};
use super::quota::ReaderQuota;
use super::store::{EventFilter, EventRow, InsertOutcome, Store, MAX_QUERY_ROWS};

/// Media types `POST /events` accepts. `text/plain` is there because a
/// browser's `navigator.sendBeacon` can send only CORS-safelisted types
/// without a preflight; the body is the same JSON.
const ACCEPTED_MEDIA_TYPES: [&str; 4] = [BATCH_MEDIA_TYPE, EVENT_MEDIA_TYPE, "application/json", "text/plain"];

/// How long browsers may cache a CORS preflight response.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// Request bounds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Largest request body, in bytes.
    pub(crate) max_body_bytes: usize,
    /// Maximum number of events in one batch.
    pub(crate) max_batch: usize,
    /// Time allowed to receive a request body once its headers arrived.
    pub(crate) body_timeout: Duration,
    /// Maximum number of requests handled at once; more wait for a slot.
    pub(crate) max_concurrent_requests: usize,
    /// Events each reader key may send per hour.
    pub(crate) max_events_per_reader_hour: u64,
}

/// Counts since the collector started, shown by `GET /healthz`.
#[derive(Default)]
pub(crate) struct Counters {
    batches: AtomicU64,
    stored: AtomicU64,
    duplicates: AtomicU64,
    flagged: AtomicU64,
    rejected: AtomicU64,
    refused_batches: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> Value {
        json!({
            "batches": self.batches.load(Ordering::Relaxed),
            "stored": self.stored.load(Ordering::Relaxed),
            "duplicates": self.duplicates.load(Ordering::Relaxed),
            "flagged": self.flagged.load(Ordering::Relaxed),
            "rejected": self.rejected.load(Ordering::Relaxed),
            "refusedBatches": self.refused_batches.load(Ordering::Relaxed),
        })
    }
}

/// What every request handler shares.
pub(crate) struct Collector {
    pub(crate) store: Store,
    pub(crate) directory: Arc<dyn ReaderDirectory + Send + Sync>,
    pub(crate) limits: Limits,
    pub(crate) counters: Counters,
    pub(crate) quota: ReaderQuota,
}

/// The request slots of `--max-concurrent-requests`, which `GET /healthz`
/// reports without taking one.
struct RequestSlots {
    semaphore: Arc<Semaphore>,
    max: usize,
    /// Requests to the limited routes that hold a slot or wait for one.
    entered: AtomicUsize,
}

impl RequestSlots {
    fn snapshot(&self) -> Value {
        let active = self.max.saturating_sub(self.semaphore.available_permits());
        let waiting = self.entered.load(Ordering::Relaxed).saturating_sub(active);
        json!({ "active": active, "waiting": waiting, "maxConcurrent": self.max })
    }
}

/// Counts a request in [`RequestSlots::entered`] from when it arrives until
/// its response is ready or the client leaves.
async fn count_entered(State(slots): State<Arc<RequestSlots>>, request: Request, next: Next) -> Response {
    struct Entered(Arc<RequestSlots>);
    impl Drop for Entered {
        fn drop(&mut self) {
            self.0.entered.fetch_sub(1, Ordering::Relaxed);
        }
    }
    slots.entered.fetch_add(1, Ordering::Relaxed);
    let _entered = Entered(Arc::clone(&slots));
    next.run(request).await
}

/// Builds the routes, with CORS for `origins` when any are given, behind
/// the `Host` check, which runs first so a rejected request reaches no
/// handler. At most `max_concurrent_requests` requests run in the `/events`
/// handlers at once, and the others wait for a slot. `GET /healthz` takes
/// no slot, so monitoring gets a response while slow uploads hold every slot.
pub(crate) fn router(collector: Arc<Collector>, origins: Vec<HeaderValue>, hosts: AllowedHosts) -> Router {
    let max = collector.limits.max_concurrent_requests;
    let slots = Arc::new(RequestSlots { semaphore: Arc::new(Semaphore::new(max)), max, entered: AtomicUsize::new(0) });
    let limited = Router::new()
        .route("/events", get(query_events).post(post_events))
        .layer(GlobalConcurrencyLimitLayer::with_semaphore(Arc::clone(&slots.semaphore)))
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&slots), count_entered));
    let mut router = Router::new().route("/healthz", get(health)).layer(Extension(slots)).merge(limited).with_state(collector);
    if !origins.is_empty() {
        let cors = CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE])
            .max_age(PREFLIGHT_MAX_AGE);
        router = router.layer(cors);
    }
    router.layer(axum::middleware::from_fn_with_state(Arc::new(hosts), check_host))
}

/// One rejected event in a batch response.
#[derive(Serialize)]
struct Rejection {
    index: usize,
    id: Option<String>,
    code: &'static str,
    message: String,
}

fn error_response(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = json!({ "error": code, "message": message.into() });
    (status, Json(body)).into_response()
}

/// A request `POST /events` does not store, with the response it gets.
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// The limit the request exceeded, as a JSON member such as
    /// `("maxEvents", 250)`, so a client can size its next request.
    maximum: Option<(&'static str, usize)>,
}

impl Refusal {
    fn new(status: StatusCode, code: &'static str, message: String) -> Refusal {
        Refusal { status, code, message, maximum: None }
    }

    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.code, "message": self.message });
        if let Some((name, value)) = self.maximum {
            body[name] = json!(value);
        }
        (self.status, Json(body)).into_response()
    }
}

/// Accepts one event or a batch: verifies each event, stores the valid ones,
/// and answers 200 when all were valid, 422 listing the rejected ones
/// otherwise. Storage failures answer 503 so the client retries.
async fn post_events(State(collector): State<Arc<Collector>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, headers: HeaderMap, body: Body) -> Response {
    match receive_batch(&collector, &headers, body).await {
        Ok(response) => response,
        Err(refusal) => {
            collector.counters.refused_batches.fetch_add(1, Ordering::Relaxed);
            let Refusal { code, message, .. } = &refusal;
            if refusal.status.is_server_error() {
                tracing::error!(%peer, %code, %message, "batch not stored");
            } else {
                tracing::warn!(%peer, %code, %message, "batch refused");
            }
            refusal.into_response()
        }
    }
}

async fn receive_batch(collector: &Arc<Collector>, headers: &HeaderMap, body: Body) -> Result<Response, Refusal> {
    check_media_type(headers)?;
    let limit = collector.limits.max_body_bytes;
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let too_large = |declared: Option<u64>| {
        let size = declared.map(|size| format!(" of {size} bytes")).unwrap_or_default();
        Refusal {
            maximum: Some(("maxBytes", limit)),
            ..Refusal::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("the request body{size} exceeds the maximum of {}; send smaller batches", byte_size(limit)),
            )
        }
    };
    if let Some(size) = declared.filter(|size| *size > limit as u64) {
        return Err(too_large(Some(size)));
    }
    let timeout = collector.limits.body_timeout;
    let bytes = tokio::time::timeout(timeout, to_bytes(body, limit))
        .await
        .map_err(|_| {
            Refusal::new(
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                format!("reading the request body timed out after {} seconds; send the batch again", timeout.as_secs()),
            )
        })?
        .map_err(|_| too_large(None))?;
    // A batch counts once its whole body arrived, so stalled or cut-off
    // requests never show in `batches`.
    collector.counters.batches.fetch_add(1, Ordering::Relaxed);
    // The count is checked here rather than by `parse_batch`, so a batch
    // that is only too long gets 413 and the client splits it.
    let events = parse_batch(&bytes, usize::MAX).map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, e.code(), e.to_string()))?;
    let count = events.len();
    let max_batch = collector.limits.max_batch;
    if count > max_batch {
        return Err(Refusal {
            maximum: Some(("maxEvents", max_batch)),
            ..Refusal::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "batch_too_large",
                format!("the batch contains {count} events, more than the maximum of {max_batch}; send at most {max_batch} events per request"),
            )
        });
    }

    let directory = Arc::clone(&collector.directory);
    let results = tokio::task::spawn_blocking(move || {
        events
            .into_iter()
            .map(|event| {
                let id = event.get("id").and_then(Value::as_str).map(str::to_owned);
                verify_event_value(event, directory.as_ref()).map_err(|e| (id, e))
            })
            .collect::<Vec<Result<VerifiedEvent, (Option<String>, EventError)>>>()
    })
    .await
    .map_err(|e| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;

    let received = OffsetDateTime::now_utc();
    let mut rows = Vec::with_capacity(count);
    let mut row_index = Vec::with_capacity(count);
    let mut rejected = Vec::new();
    let mut per_reader: BTreeMap<String, u64> = BTreeMap::new();
    for (index, result) in results.into_iter().enumerate() {
        match result {
            Ok(event) => {
                *per_reader.entry(event.kid.clone()).or_default() += 1;
                rows.push(EventRow::new(&event, received));
                row_index.push((index, event.id));
            }
            Err((id, error)) => rejected.push(Rejection { index, id, code: error.code(), message: error.to_string() }),
        }
    }

    // The whole batch waits when one reader in it is over its quota, so a
    // client keeps the batch and sends it again later, and loses nothing.
    if let Err(over) = collector.quota.take(&per_reader, Instant::now()) {
        collector.counters.refused_batches.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(reader_kid = %over.kid, events = count, "batch rejected: the reader is over its hourly quota");
        let message = format!(
            "the reader key {} sent more than {} events this hour; send the batch again in {} seconds",
            over.kid, collector.limits.max_events_per_reader_hour, over.retry_after_seconds
        );
        let mut response = error_response(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message);
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(over.retry_after_seconds));
        return Ok(response);
    }

    let outcomes = if rows.is_empty() {
        Vec::new()
    } else {
        collector.store.insert(rows).await.map_err(|e| Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable", e.to_string()))?
    };
    let (mut stored, mut duplicates, mut flagged) = (0u64, 0u64, 0u64);
    for (outcome, (index, id)) in outcomes.into_iter().zip(row_index) {
        match outcome {
            InsertOutcome::Stored(status) => {
                stored += 1;
                if status.is_flagged() {
                    flagged += 1;
                    tracing::warn!(event = %id, chain = status.as_str(), "event stored with a chain flag");
                }
            }
            InsertOutcome::Duplicate => duplicates += 1,
            InsertOutcome::Conflict => {
                rejected.push(Rejection { index, id: Some(id), code: "id_conflict", message: "another event with this source and id is already stored".into() })
            }
        }
    }
    let counters = &collector.counters;
    counters.stored.fetch_add(stored, Ordering::Relaxed);
    counters.duplicates.fetch_add(duplicates, Ordering::Relaxed);
    counters.flagged.fetch_add(flagged, Ordering::Relaxed);
    counters.rejected.fetch_add(rejected.len() as u64, Ordering::Relaxed);

    let mut body = json!({ "stored": stored, "duplicates": duplicates, "flagged": flagged });
    if rejected.is_empty() {
        return Ok((StatusCode::OK, Json(body)).into_response());
    }
    rejected.sort_by_key(|r| r.index);
    let mut codes: BTreeMap<&str, usize> = BTreeMap::new();
    for rejection in &rejected {
        *codes.entry(rejection.code).or_default() += 1;
    }
    counters.refused_batches.fetch_add(1, Ordering::Relaxed);
    tracing::warn!(
        events = count,
        stored,
        rejected = rejected.len(),
        codes = ?codes,
        "events rejected in batch"
    );
    body["error"] = json!("rejected");
    body["message"] = json!(format!("{} of {count} events were rejected", rejected.len()));
    body["rejected"] = json!(rejected);
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response())
}

/// Formats a byte count with thousands separators, plus its size in KiB or
/// MiB when it is a whole number of them: "1,048,576 bytes (1 MiB)".
fn byte_size(bytes: usize) -> String {
    let digits = bytes.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes % MIB == 0 {
        format!("{grouped} bytes ({} MiB)", bytes / MIB)
    } else if bytes >= KIB && bytes % KIB == 0 {
        format!("{grouped} bytes ({} KiB)", bytes / KIB)
    } else {
        format!("{grouped} bytes")
    }
}

fn check_media_type(headers: &HeaderMap) -> Result<(), Refusal> {
    let value = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if ACCEPTED_MEDIA_TYPES.contains(&essence.as_str()) {
        return Ok(());
    }
    Err(Refusal::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        format!("content type {value:?} is not one of {}", ACCEPTED_MEDIA_TYPES.join(", ")),
    ))
}

/// Query string of `GET /events`. `limit` is text so that an invalid
/// value gets a message that names the allowed range.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryParams {
    package: Option<String>,
    source: Option<String>,
    limit: Option<String>,
}

/// Names the parameters of `GET /events` and their values, for errors.
const QUERY_PARAMETERS: &str = "package (a package id), source (an event source) and limit (1 to 100,000)";
// The messages spell out MAX_QUERY_ROWS; this stops the build when it changes.
const _: () = assert!(MAX_QUERY_ROWS == 100_000);

/// Lists stored events, optionally for one package or one source.
async fn query_events(State(collector): State<Arc<Collector>>, params: Result<Query<QueryParams>, QueryRejection>) -> Response {
    let filter = match query_filter(params) {
        Ok(filter) => filter,
        Err(message) => {
            tracing::warn!(%message, "query rejected");
            return error_response(StatusCode::BAD_REQUEST, "invalid_query", message);
        }
    };
    match collector.store.query(&filter).await {
        Ok(events) => Json(json!({ "events": events })).into_response(),
        Err(error) => {
            tracing::error!(%error, "query failed");
            error_response(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable", error.to_string())
        }
    }
}

/// Checks the query string of `GET /events`.
fn query_filter(params: Result<Query<QueryParams>, QueryRejection>) -> Result<EventFilter, String> {
    let Query(params) = params.map_err(|rejection| format!("{}; the parameters are {QUERY_PARAMETERS}", rejection.body_text()))?;
    let limit = match params.limit {
        None => None,
        Some(text) => match text.parse::<usize>() {
            Ok(limit) if (1..=MAX_QUERY_ROWS).contains(&limit) => Some(limit),
            _ => return Err(format!("the parameter limit must be a whole number from 1 to 100,000, not {text:?}")),
        },
    };
    Ok(EventFilter { package: params.package, source: params.source, limit })
}

async fn health(State(collector): State<Arc<Collector>>, Extension(slots): Extension<Arc<RequestSlots>>) -> Response {
    let body = json!({ "status": "ok", "requests": slots.snapshot(), "counters": collector.counters.snapshot() });
    Json(body).into_response()
}

#[cfg(test)]
mod tests {
    use super::byte_size;

    #[test]
    fn byte_sizes_read_plainly() {
        assert_eq!(byte_size(1_048_576), "1,048,576 bytes (1 MiB)");
        assert_eq!(byte_size(65_536), "65,536 bytes (64 KiB)");
        assert_eq!(byte_size(2_000_000), "2,000,000 bytes");
        assert_eq!(byte_size(999), "999 bytes");
        assert_eq!(byte_size(0), "0 bytes");
    }
}
