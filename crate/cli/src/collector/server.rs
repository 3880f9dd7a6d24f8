//! The collector's HTTP API: `POST /events`, `GET /events`, `GET /healthz`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::OffsetDateTime;
use tower_http::cors::{AllowOrigin, CorsLayer};
use valise_core::events::{
    parse_batch, verify_event_value, EventError, ReaderDirectory, VerifiedEvent, BATCH_MEDIA_TYPE,
    EVENT_MEDIA_TYPE,
};

use super::host::{check_host, AllowedHosts};
use super::store::{EventFilter, EventRow, InsertOutcome, Store};

/// Media types `POST /events` accepts. `text/plain` is there because a
/// browser's `navigator.sendBeacon` can send only CORS-safelisted types
/// without a preflight; the body is the same JSON.
const ACCEPTED_MEDIA_TYPES: [&str; 4] = [
    BATCH_MEDIA_TYPE,
    EVENT_MEDIA_TYPE,
    "application/json",
    "text/plain",
];

/// How long browsers may cache a CORS preflight response.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// Request bounds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Largest request body, in bytes.
    pub(crate) max_body_bytes: usize,
    /// Maximum number of events in one batch.
    pub(crate) max_batch: usize,
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
}

/// Builds the routes, with CORS for `origins` when any are given, behind
/// the `Host` check, which runs first so a rejected request reaches no
/// handler.
pub(crate) fn router(collector: Arc<Collector>, origins: Vec<HeaderValue>, hosts: AllowedHosts) -> Router {
    let mut router = Router::new()
        .route("/events", get(query_events).post(post_events))
        .route("/healthz", get(health))
        .with_state(collector);
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

/// Accepts one event or a batch: verifies each event, stores the valid ones,
/// and answers 200 when all were valid, 422 listing the rejected ones
/// otherwise. Storage failures answer 503 so the client retries.
async fn post_events(
    State(collector): State<Arc<Collector>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    collector.counters.batches.fetch_add(1, Ordering::Relaxed);
    match receive_batch(&collector, &headers, body).await {
        Ok(response) => response,
        Err((status, code, message)) => {
            collector.counters.refused_batches.fetch_add(1, Ordering::Relaxed);
            if status.is_server_error() {
                tracing::error!(%peer, %code, %message, "batch not stored");
            } else {
                tracing::warn!(%peer, %code, %message, "batch refused");
            }
            error_response(status, code, message)
        }
    }
}

type Refusal = (StatusCode, &'static str, String);

async fn receive_batch(
    collector: &Arc<Collector>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Refusal> {
    check_media_type(headers)?;
    let limit = collector.limits.max_body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = |size: &str| {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request body is {size}, more than the maximum of {limit} bytes"),
        )
    };
    if let Some(size) = declared.filter(|size| *size > limit as u64) {
        return Err(too_large(&format!("{size} bytes")));
    }
    let bytes = to_bytes(body, limit)
        .await
        .map_err(|_| too_large("larger"))?;
    let events = parse_batch(&bytes, collector.limits.max_batch)
        .map_err(|e| (StatusCode::BAD_REQUEST, e.code(), e.to_string()))?;
    let count = events.len();

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
    .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;

    let received = OffsetDateTime::now_utc();
    let mut rows = Vec::with_capacity(count);
    let mut row_index = Vec::with_capacity(count);
    let mut rejected = Vec::new();
    for (index, result) in results.into_iter().enumerate() {
        match result {
            Ok(event) => {
                rows.push(EventRow::new(&event, received));
                row_index.push((index, event.id));
            }
            Err((id, error)) => rejected.push(Rejection {
                index,
                id,
                code: error.code(),
                message: error.to_string(),
            }),
        }
    }

    let outcomes = if rows.is_empty() {
        Vec::new()
    } else {
        collector
            .store
            .insert(rows)
            .await
            .map_err(|e| (StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable", e.to_string()))?
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
            InsertOutcome::Conflict => rejected.push(Rejection {
                index,
                id: Some(id),
                code: "id_conflict",
                message: "another event with this source and id is already stored".into(),
            }),
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

fn check_media_type(headers: &HeaderMap) -> Result<(), Refusal> {
    let value = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if ACCEPTED_MEDIA_TYPES.contains(&essence.as_str()) {
        return Ok(());
    }
    Err((
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        format!("content type {value:?} is not one of {}", ACCEPTED_MEDIA_TYPES.join(", ")),
    ))
}

/// Query string of `GET /events`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryParams {
    package: Option<String>,
    source: Option<String>,
    limit: Option<usize>,
}

/// Lists stored events, optionally for one package or one source.
async fn query_events(
    State(collector): State<Arc<Collector>>,
    Query(params): Query<QueryParams>,
) -> Response {
    let filter = EventFilter {
        package: params.package,
        source: params.source,
        limit: params.limit,
    };
    match collector.store.query(&filter).await {
        Ok(events) => Json(json!({ "events": events })).into_response(),
        Err(error) => {
            tracing::error!(%error, "query failed");
            error_response(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable", error.to_string())
        }
    }
}

async fn health(State(collector): State<Arc<Collector>>) -> Response {
    Json(json!({ "status": "ok", "counters": collector.counters.snapshot() })).into_response()
}
