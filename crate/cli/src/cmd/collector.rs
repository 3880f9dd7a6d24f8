//! `valise collector serve`: runs the access-event collector.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::HeaderValue;
use axum::Extension;
use clap::{Args, Subcommand};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use time::OffsetDateTime;
use tower::Layer;
use valise_core::events::ReaderDirectory;

use crate::cmd::trust::load_trust;
use crate::cmd::CliError;
use crate::collector::bench::BenchPlan;
use crate::collector::directory::{StaticDirectory, TrustDirectory};
use crate::collector::host::AllowedHosts;
use crate::collector::quota::ReaderQuota;
use crate::collector::server::{router, Collector, Counters, Limits};
use crate::collector::store::{Database, Store};
use crate::state::State;
use crate::terminal::outln;

/// Arguments of `valise collector`.
#[derive(Args)]
pub(crate) struct CollectorArgs {
    #[command(subcommand)]
    command: CollectorCommand,
}

#[derive(Subcommand)]
enum CollectorCommand {
    /// Serve POST /events, GET /events and GET /healthz until stopped (Ctrl-C or SIGTERM).
    Serve(ServeArgs),
    /// Measure the ingest rate: sign events in memory, then send them to an
    /// in-process collector on 127.0.0.1 and time verification and storage.
    Bench(BenchArgs),
}

#[derive(Args)]
struct BenchArgs {
    /// Database to store into: sqlite:PATH or a postgres:// URL.
    #[arg(long, value_name = "DATABASE")]
    db: String,

    /// Number of events.
    #[arg(long, value_name = "COUNT", default_value_t = 20_000)]
    events: usize,

    /// Number of readers, each with its own key and chain.
    #[arg(long, value_name = "COUNT", default_value_t = 10)]
    readers: usize,

    /// Events per request.
    #[arg(long, value_name = "COUNT", default_value_t = 100)]
    batch: usize,

    /// Concurrent HTTP clients.
    #[arg(long, value_name = "COUNT", default_value_t = 4)]
    clients: usize,
}

#[derive(Args)]
struct ServeArgs {
    /// Community trust list (signed JSON) to verify readers' credentials against.
    #[arg(long, value_name = "FILE", required_unless_present = "readers")]
    trust: Option<PathBuf>,

    /// Expected RFC 7638 fingerprint of the community root key; by default
    /// the fingerprint pinned in the state file, or the list's own on first use.
    #[arg(long, value_name = "FINGERPRINT", requires = "trust", allow_hyphen_values = true)]
    root_fingerprint: Option<String>,

    /// Fixed list of reader signing keys (JSON) instead of a trust list.
    #[arg(long, value_name = "FILE", conflicts_with = "trust")]
    readers: Option<PathBuf>,

    /// Database: sqlite:PATH (created when missing) or a postgres:// URL.
    #[arg(long, value_name = "DATABASE", env = "VALISE_COLLECTOR_DB")]
    db: String,

    /// Address and port to listen on; port 0 picks a free port.
    #[arg(long, value_name = "ADDRESS", default_value = "127.0.0.1:8787")]
    listen: SocketAddr,

    /// Web origin allowed to send events from a browser (CORS), e.g.
    /// https://portal.example; repeat for several.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    allow_origin: Vec<String>,

    /// Extra Host header value to serve, NAME or NAME:PORT (any port when
    /// none is given), e.g. the public name of a reverse proxy in front of
    /// the collector; repeat for several. The listening address, and for a
    /// loopback listener localhost, 127.0.0.1 and [::1], with the listening
    /// port, are always served; other requests get 421.
    #[arg(long = "allow-host", value_name = "NAME[:PORT]")]
    allow_host: Vec<String>,

    /// Largest request body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024)]
    max_body_bytes: usize,

    /// Maximum number of events in one batch, at least 1; a longer batch
    /// gets 413 and the client splits it. Each event carries the reader's
    /// credential, about 2 KB, so a full batch of the default size fits in
    /// the default --max-body-bytes.
    #[arg(long, value_name = "COUNT", default_value_t = 250)]
    max_batch: usize,

    /// Seconds allowed to receive a request's headers, from the connection's
    /// start or the previous response. A slower or idle client is disconnected.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    header_timeout: u64,

    /// Seconds allowed to receive a request body once its headers arrived;
    /// a slower client gets 408 and its connection is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    body_timeout: u64,

    /// Maximum number of requests handled at once; further requests wait.
    #[arg(long, value_name = "COUNT", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    max_concurrent_requests: u64,

    /// Events each reader key may send per hour. A batch beyond it gets 429
    /// and is sent again later. The default equals the most events the
    /// portal's outbox holds, so a reader back online delivers a full outbox
    /// in one hour.
    #[arg(long, value_name = "COUNT", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    max_events_per_reader_hour: u64,
}

/// Runs `valise collector`.
pub(crate) fn run(args: CollectorArgs) -> Result<(), CliError> {
    match args.command {
        CollectorCommand::Serve(args) => serve(args),
        CollectorCommand::Bench(args) => crate::collector::bench::run(&BenchPlan {
            database: Database::parse(&args.db)?,
            events: args.events,
            readers: args.readers,
            batch: args.batch,
            clients: args.clients,
        }),
    }
}

fn serve(args: ServeArgs) -> Result<(), CliError> {
    init_logging();
    if args.max_batch == 0 {
        return Err(CliError::usage("--max-batch 0 would reject every batch; it must be at least 1")
            .hint("leave it out for the default of 250; the portal and the CLI send at most 100 events per request"));
    }
    let database = Database::parse(&args.db)?;
    let origins = parse_origins(&args.allow_origin)?;
    // Checked before anything starts, and built again once the port is known.
    AllowedHosts::new(args.listen, &args.allow_host)
        .map_err(|e| CliError::usage(e.to_string()).hint("write a DNS name or IP literal with an optional port, e.g. events.example:8443"))?;
    let directory = load_directory(&args)?;
    let limits = Limits {
        max_body_bytes: args.max_body_bytes,
        max_batch: args.max_batch,
        body_timeout: Duration::from_secs(args.body_timeout),
        max_concurrent_requests: usize::try_from(args.max_concurrent_requests).unwrap_or(usize::MAX),
        max_events_per_reader_hour: args.max_events_per_reader_hour,
    };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| CliError::refused(format!("cannot start the async runtime: {e}")))?;
    let options = ServeOptions {
        listen: args.listen,
        database,
        directory,
        origins,
        allow_host: args.allow_host,
        limits,
        header_timeout: Duration::from_secs(args.header_timeout),
    };
    runtime.block_on(serve_async(options))
}

/// The checked arguments of `valise collector serve`.
struct ServeOptions {
    listen: SocketAddr,
    database: Database,
    directory: Arc<dyn ReaderDirectory + Send + Sync>,
    origins: Vec<HeaderValue>,
    allow_host: Vec<String>,
    limits: Limits,
    header_timeout: Duration,
}

async fn serve_async(options: ServeOptions) -> Result<(), CliError> {
    let ServeOptions { listen, database, directory, origins, allow_host, limits, header_timeout } = options;
    let store = Store::open(&database).await.map_err(|e| {
        CliError::refused(format!("cannot open the database {database}: {e}")).hint("check the --db value and that the database server is running")
    })?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| CliError::refused(format!("cannot listen on {listen}: {e}")).hint("choose another --listen port, or 0 for any free port"))?;
    let address = listener.local_addr().map_err(|e| CliError::refused(format!("cannot read the listening address: {e}")))?;
    let collector = Arc::new(Collector { store, directory, limits, counters: Counters::default(), quota: ReaderQuota::new(limits.max_events_per_reader_hour) });
    let hosts = AllowedHosts::new(address, &allow_host).map_err(|e| CliError::usage(e.to_string()))?;
    let app = router(collector, origins.clone(), hosts);

    tracing::info!(
        %address,
        %database,
        origins = origins.len(),
        allowed_hosts = allow_host.len(),
        max_body_bytes = limits.max_body_bytes,
        max_batch = limits.max_batch,
        header_timeout_seconds = header_timeout.as_secs(),
        body_timeout_seconds = limits.body_timeout.as_secs(),
        max_concurrent_requests = limits.max_concurrent_requests,
        max_events_per_reader_hour = limits.max_events_per_reader_hour,
        "collector started"
    );
    // Scripts and tests read the bound address (useful with port 0) here.
    outln!("listening on http://{address}");

    accept_loop(listener, app, header_timeout).await;
    tracing::info!(%address, "collector stopped");
    Ok(())
}

/// How long a graceful shutdown waits for open connections to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves HTTP/1.1 connections until a shutdown signal, then lets open
/// connections finish for up to [`SHUTDOWN_GRACE`].
///
/// This replaces `axum::serve`, which sets no hyper timer and so no header
/// read timeout: a client that never finished its headers kept its
/// connection, and a task, for as long as it liked.
async fn accept_loop(listener: tokio::net::TcpListener, app: axum::Router, header_timeout: Duration) {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown_signal());
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(error) => {
                    // File descriptors running out is one cause. Pausing keeps
                    // the loop from spinning while connections close.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // What `into_make_service_with_connect_info` does: handlers read the peer from ConnectInfo.
        let service = Layer::layer(&Extension(ConnectInfo(peer)), app.clone());
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                // Header timeouts and clients that hang up end here.
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!(seconds = SHUTDOWN_GRACE.as_secs(), "connections still open after the grace period; stopping anyway");
    }
}

fn load_directory(args: &ServeArgs) -> Result<Arc<dyn ReaderDirectory + Send + Sync>, CliError> {
    if let Some(path) = &args.readers {
        return Ok(Arc::new(StaticDirectory::load(path)?));
    }
    let Some(path) = &args.trust else {
        return Err(CliError::usage("pass --trust FILE or --readers FILE"));
    };
    // The state file supplies the pinned root fingerprint; the collector
    // does not write it back.
    let mut state = State::load()?;
    let trust = load_trust(path, args.root_fingerprint.as_deref(), &mut state)?;
    if trust.is_stale(OffsetDateTime::now_utc()) {
        tracing::warn!(
            community = trust.community(),
            version = trust.version(),
            "the trust list is past its next update; events are still verified against it"
        );
    }
    tracing::info!(community = trust.community(), version = trust.version(), root = trust.root_fingerprint(), "trust list loaded");
    Ok(Arc::new(TrustDirectory::new(trust)))
}

/// Checks each `--allow-origin` is a bare web origin (scheme, host, port).
fn parse_origins(origins: &[String]) -> Result<Vec<HeaderValue>, CliError> {
    origins
        .iter()
        .map(|origin| {
            let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
            let valid = rest.is_some_and(|host| !host.is_empty() && !host.contains(['/', '?', '#', '*']));
            let value = HeaderValue::from_str(origin).ok().filter(|_| valid);
            value.ok_or_else(|| {
                CliError::usage(format!("--allow-origin {origin:?} is not a web origin"))
                    .hint("write the scheme, host and port only, e.g. https://portal.example:8443")
            })
        })
        .collect()
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("VALISE_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Another command may have installed a subscriber already; keep it.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("interrupted; stopping"),
        () = terminate => tracing::info!("terminated; stopping"),
    }
}
