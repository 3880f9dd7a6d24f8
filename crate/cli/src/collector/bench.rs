//! `valise collector bench`: measures how many events per second the
//! collector verifies and stores, with the real server, store and
//! verification, over HTTP on 127.0.0.1.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use p256::ecdsa::SigningKey;
use serde_json::Value;
use time::OffsetDateTime;
use valise_core::events::{
    event_id_from_random, sign_event, ChainState, EventDraft, EventKind, Outcome, ReaderIdentity,
    ReaderKey, RightsInForce, BATCH_MEDIA_TYPE,
};

use super::directory::StaticDirectory;
use super::host::AllowedHosts;
use super::quota::ReaderQuota;
use super::server::{router, Collector, Counters, Limits};
use super::store::{Database, Store};
use crate::cmd::CliError;

/// Parameters of one run.
pub(crate) struct BenchPlan {
    pub(crate) database: Database,
    pub(crate) events: usize,
    pub(crate) readers: usize,
    pub(crate) batch: usize,
    pub(crate) clients: usize,
}

/// Runs the benchmark and prints its figures.
pub(crate) fn run(plan: &BenchPlan) -> Result<(), CliError> {
    if plan.events == 0 || plan.readers == 0 || plan.batch == 0 || plan.clients == 0 {
        return Err(CliError::usage("--events, --readers, --batch and --clients must be at least 1"));
    }
    let (directory, mut readers) = make_readers(plan.readers);

    let signing_started = Instant::now();
    let batches = sign_batches(plan, &mut readers)?;
    let signing = signing_started.elapsed();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::refused(format!("cannot start the async runtime: {e}")))?;
    let address = runtime.block_on(start_server(plan, directory))?;
    let url = format!("http://{address}/events");

    let started = Instant::now();
    let stored = post_all(&url, batches, plan.clients)?;
    let ingest = started.elapsed();
    runtime.shutdown_timeout(Duration::from_secs(5));

    if stored != plan.events {
        return Err(CliError::refused(format!(
            "the collector stored {stored} of {} events",
            plan.events
        )));
    }
    println!(
        "database      {}\nevents        {} from {} readers, batches of {}, {} concurrent clients",
        plan.database, plan.events, plan.readers, plan.batch, plan.clients
    );
    println!(
        "signing       {:.2} s ({:.0} events/s, in this process before the run)",
        signing.as_secs_f64(),
        rate(plan.events, signing)
    );
    println!(
        "ingest        {:.2} s: {:.0} events/s verified and stored",
        ingest.as_secs_f64(),
        rate(plan.events, ingest)
    );
    Ok(())
}

fn rate(events: usize, elapsed: Duration) -> f64 {
    events as f64 / elapsed.as_secs_f64().max(f64::EPSILON)
}

fn make_readers(count: usize) -> (StaticDirectory, Vec<(ReaderIdentity, ChainState)>) {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let mut keys = HashMap::new();
    let mut readers = Vec::with_capacity(count);
    for n in 0..count {
        let signing_key = SigningKey::random(&mut rand_core::OsRng);
        let identity = ReaderIdentity {
            kid: format!("bench-{n}"),
            community: "bench".into(),
            org: "bench-org".into(),
            person: format!("reader{n}"),
            agent: format!("bench-{}", &run[..12]),
            credential: None,
            signing_key,
        };
        keys.insert(
            identity.kid.clone(),
            ReaderKey {
                key: *identity.signing_key.verifying_key(),
                community: identity.community.clone(),
                org: identity.org.clone(),
                person: identity.person.clone(),
            },
        );
        readers.push((identity, ChainState::default()));
    }
    (StaticDirectory::from_keys(keys), readers)
}

/// Signs every event and groups them into request bodies; each reader's
/// events stay in chain order.
fn sign_batches(
    plan: &BenchPlan,
    readers: &mut [(ReaderIdentity, ChainState)],
) -> Result<Vec<String>, CliError> {
    let kinds = [EventKind::Opened, EventKind::PrintBlocked, EventKind::Printed];
    let package = uuid::Uuid::new_v4().hyphenated().to_string();
    let mut per_reader: Vec<Vec<Value>> = vec![Vec::new(); readers.len()];
    for n in 0..plan.events {
        let index = n % readers.len();
        let (identity, chain) = &mut readers[index];
        let kind = kinds[n % kinds.len()];
        let draft = EventDraft {
            kind,
            package_id: package.clone(),
            decision: if kind == EventKind::PrintBlocked { Outcome::Deny } else { Outcome::Permit },
            reasons: Vec::new(),
            rights: Some(RightsInForce { view: true, ..RightsInForce::default() }),
            label: None,
            originator: None,
        };
        let id = event_id_from_random(uuid::Uuid::new_v4().into_bytes());
        let signed = sign_event(&draft, identity, chain, &id, OffsetDateTime::now_utc())
            .map_err(|e| CliError::usage(format!("cannot sign a benchmark event: {e}")))?;
        let value = serde_json::from_str(&signed.json)
            .map_err(|e| CliError::usage(format!("cannot read a signed event: {e}")))?;
        per_reader[index].push(value);
    }
    let mut batches = Vec::new();
    for events in per_reader {
        for chunk in events.chunks(plan.batch) {
            batches.push(Value::Array(chunk.to_vec()).to_string());
        }
    }
    Ok(batches)
}

async fn start_server(plan: &BenchPlan, directory: StaticDirectory) -> Result<SocketAddr, CliError> {
    let store = Store::open(&plan.database)
        .await
        .map_err(|e| CliError::refused(format!("cannot open the database {}: {e}", plan.database)))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| CliError::refused(format!("cannot listen on 127.0.0.1: {e}")))?;
    let address = listener
        .local_addr()
        .map_err(|e| CliError::refused(format!("cannot read the listening address: {e}")))?;
    let collector = Arc::new(Collector {
        store,
        directory: Arc::new(directory),
        limits: Limits {
            max_body_bytes: 64 * 1024 * 1024,
            max_batch: plan.batch.max(1),
            body_timeout: std::time::Duration::from_secs(30),
            // The benchmark's clients are the only ones, so no request waits.
            max_concurrent_requests: plan.clients.max(1),
            max_events_per_reader_hour: u64::MAX,
        },
        counters: Counters::default(),
        // The benchmark sends as fast as it can, so no quota applies.
        quota: ReaderQuota::new(u64::MAX),
    });
    let hosts = AllowedHosts::new(address, &[])
        .map_err(|e| CliError::refused(format!("cannot build the allowed hosts: {e}")))?;
    let app = router(collector, Vec::new(), hosts);
    tokio::spawn(async move {
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(error) = axum::serve(listener, service).await {
            tracing::error!(%error, "benchmark server failed");
        }
    });
    Ok(address)
}

/// Posts the batches from `clients` threads and returns how many events the
/// collector reported stored.
fn post_all(url: &str, batches: Vec<String>, clients: usize) -> Result<usize, CliError> {
    let mut shares: Vec<Vec<String>> = vec![Vec::new(); clients];
    for (index, batch) in batches.into_iter().enumerate() {
        shares[index % clients].push(batch);
    }
    let threads: Vec<_> = shares
        .into_iter()
        .map(|share| {
            let url = url.to_owned();
            std::thread::spawn(move || -> Result<usize, String> {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(120)))
                    .build()
                    .into();
                let mut stored = 0;
                for body in share {
                    let mut response = agent
                        .post(&url)
                        .header("Content-Type", BATCH_MEDIA_TYPE)
                        .send(body.as_str())
                        .map_err(|e| e.to_string())?;
                    let text = response.body_mut().read_to_string().map_err(|e| e.to_string())?;
                    if response.status().as_u16() != 200 {
                        return Err(format!("HTTP {}: {text}", response.status().as_u16()));
                    }
                    let answer: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                    stored += answer["stored"].as_u64().unwrap_or(0) as usize;
                }
                Ok(stored)
            })
        })
        .collect();
    let mut stored = 0;
    for thread in threads {
        let result = thread
            .join()
            .map_err(|_| CliError::refused("a benchmark client thread panicked"))?;
        stored += result.map_err(|e| CliError::refused(format!("a batch failed: {e}")))?;
    }
    Ok(stored)
}
