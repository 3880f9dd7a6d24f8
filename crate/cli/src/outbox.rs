//! The CLI as a reader: signs access events, queues them on disk and
//! delivers them to the collector named in the package's rights.
//!
//! Layout under the Valise home (`$VALISE_HOME`, else `~/.valise`):
//!
//! - `events-chain.json`: this installation's agent id and one chain state
//!   per reader (`{"agent", "readers": {READER: {"seq", "prevHash"}}}`, where
//!   READER is the JSON array `[community, org, person]`), because the
//!   collector chains events per source, and a source names the reader;
//! - `outbox/SEQ-ID.json`: one queued event each, `{"url", "event"}`, named so
//!   that file-name order is chain order;
//! - `outbox/rejected/`: events a collector rejected with a 4xx other than
//!   413 and 429, kept for the person to read.
//!
//! An event is written to the outbox before the chain state moves on, so a
//! crash between the two can make the next event reuse a sequence number,
//! which the collector flags as a fork, but never loses an event.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use p256::ecdsa::SigningKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use valise_core::assertions::EventsPolicy;
use valise_core::credential::VerifiedCredential;
use valise_core::events::{event_id_from_random, sign_event, ChainState, EventDraft, ReaderIdentity, BATCH_MEDIA_TYPE};

use crate::cmd::CliError;
use crate::key_files::write_atomically;
use crate::terminal::errln;

/// Most events the outbox holds. When it is full, nothing more is queued, so
/// a package whose rights require events does not open.
pub(crate) const MAX_QUEUED: usize = 10_000;

/// Maximum number of events per request.
const BATCH_SIZE: usize = 100;

/// Time limit of one delivery request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A lock file older than this is left over from a crashed run.
const STALE_LOCK: Duration = Duration::from_secs(30);

/// Most bytes of a queued event file or the chain file.
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// Folder of the Valise home: `$VALISE_HOME`, else `~/.valise`.
pub(crate) fn valise_home() -> Result<PathBuf, CliError> {
    let state = crate::state::state_path()?;
    Ok(state.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf))
}

/// The chain file's content.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ChainFile {
    agent: String,
    /// Chain state per reader, keyed by [`reader_key`].
    readers: BTreeMap<String, ReaderChain>,
}

/// One reader's position in its chain.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ReaderChain {
    seq: u64,
    prev_hash: String,
}

/// The chain file of earlier versions: one chain for every reader of the
/// installation.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SharedChainFile {
    #[serde(rename = "agent")]
    _agent: String,
    #[serde(rename = "seq")]
    _seq: u64,
    #[serde(rename = "prevHash")]
    _prev_hash: String,
}

/// Returns the chain file key of a reader: the JSON array
/// `[community, org, person]`, which no two readers share.
fn reader_key(identity: &ReaderIdentity) -> String {
    serde_json::json!([identity.community, identity.org, identity.person]).to_string()
}

/// One queued event.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueuedEvent {
    url: String,
    event: Value,
}

/// Outcome of one delivery run.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Delivery {
    /// Events a collector acknowledged.
    pub(crate) sent: usize,
    /// Events a collector refused for good (moved to `outbox/rejected/`).
    pub(crate) rejected: usize,
    /// Events still queued.
    pub(crate) queued: usize,
    /// The last failure, for the person.
    pub(crate) last_error: Option<String>,
}

/// Signs events as one reader and queues them.
pub(crate) struct Reporter {
    home: PathBuf,
    identity: ReaderIdentity,
}

impl Reporter {
    /// Makes a reporter for the person of a verified credential, signing with
    /// `signing_key` (the key the credential names).
    ///
    /// # Errors
    ///
    /// When the key is not the credential's signing key, or the chain file
    /// cannot be read or created.
    pub(crate) fn new(home: &Path, signing_key: &p256::SecretKey, credential: &VerifiedCredential) -> Result<Reporter, CliError> {
        let (public, kid) = credential.signing_key();
        if signing_key.public_key() != *public {
            return Err(CliError::usage(format!("the signing key is not the one the credential of {} names (kid {kid})", credential.person()))
                .hint("pass the identity's NAME.sign.key.pem"));
        }
        let identity = ReaderIdentity {
            signing_key: SigningKey::from(signing_key),
            kid: kid.to_owned(),
            community: credential.community().to_owned(),
            org: credential.org().to_owned(),
            person: credential.person().to_owned(),
            agent: String::new(),
            credential: Some(credential.token().to_owned()),
        };
        Reporter::with_identity(home, identity)
    }

    /// Makes a reporter from an identity whose `agent` is filled in from the
    /// chain file.
    fn with_identity(home: &Path, mut identity: ReaderIdentity) -> Result<Reporter, CliError> {
        fs::create_dir_all(home.join("outbox")).map_err(|e| CliError::usage(format!("cannot create {}: {e}", home.join("outbox").display())))?;
        let _lock = Lock::acquire(home)?;
        identity.agent = load_chain(home)?.agent;
        Ok(Reporter { home: home.to_owned(), identity })
    }

    /// Signs an event for `url` and queues it; returns the event id.
    ///
    /// # Errors
    ///
    /// When the outbox is full or cannot be written. The caller refuses to
    /// open a package whose rights require events.
    pub(crate) fn record(&self, url: &str, draft: &EventDraft) -> Result<String, CliError> {
        let _lock = Lock::acquire(&self.home)?;
        let outbox = self.home.join("outbox");
        let queued = queued_files(&outbox)?.len();
        if queued >= MAX_QUEUED {
            return Err(CliError::refused(format!("the access-event outbox {} is full ({queued} events)", outbox.display()))
                .hint("run `valise events send` when the collector is reachable"));
        }

        let mut chain_file = load_chain(&self.home)?;
        let key = reader_key(&self.identity);
        let mut chain = match chain_file.readers.get(&key) {
            Some(stored) => ChainState { seq: stored.seq, prev_hash: stored.prev_hash.clone() },
            None => ChainState::default(),
        };
        let id = event_id_from_random(uuid::Uuid::new_v4().into_bytes());
        let signed = sign_event(draft, &self.identity, &mut chain, &id, OffsetDateTime::now_utc())
            .map_err(|e| CliError::usage(format!("cannot sign the access event: {e}")))?;
        let event: Value = serde_json::from_str(&signed.json).map_err(|e| CliError::usage(format!("cannot queue the access event: {e}")))?;
        let entry =
            serde_json::to_vec(&QueuedEvent { url: url.to_owned(), event }).map_err(|e| CliError::usage(format!("cannot queue the access event: {e}")))?;
        write_atomically(&outbox.join(format!("{:016}-{id}.json", signed.seq)), &entry)?;

        chain_file.readers.insert(key, ReaderChain { seq: chain.seq, prev_hash: chain.prev_hash });
        save_chain(&self.home, &chain_file)?;
        Ok(id)
    }
}

/// Reports a decision of `valise open`: signs the event with the signing
/// key of the identity `prefix` (`PREFIX.sign.key.pem`) whose credential the
/// decision used, queues it and sends the outbox.
///
/// # Errors
///
/// When the rights require events and the event cannot be signed or queued:
/// the caller must not release the plaintext.
pub(crate) fn report_decision(signer: Option<(&Path, &VerifiedCredential)>, policy: Option<&EventsPolicy>, draft: &EventDraft) -> Result<Delivery, CliError> {
    let Some(policy) = policy else {
        return Ok(Delivery::default());
    };
    if policy.url.is_none() && !policy.required {
        return Ok(Delivery::default());
    }
    let Some((prefix, credential)) = signer else {
        if policy.required {
            return Err(CliError::refused("the package requires access events, and no credential of yours was accepted to sign them")
                .hint("pass --identity NAME with a valid credential of the package's community"));
        }
        return Ok(Delivery::default());
    };
    let sign_key_path = crate::cmd::credential::identity_file(prefix, ".sign.key.pem");
    let reporter = crate::key_files::read_p256_key(&sign_key_path).and_then(|key| Reporter::new(&valise_home()?, &key, credential));
    match reporter {
        Ok(reporter) => report_access(&reporter, policy, draft),
        Err(error) if policy.required => Err(error),
        Err(error) => {
            errln!("warning: no access event was sent: {}", error.message);
            Ok(Delivery::default())
        }
    }
}

/// Queues the event of an open (or a refusal) when the rights name a
/// collector, then sends the outbox.
///
/// # Errors
///
/// When the rights require events and the event cannot be queued, or
/// require them but name no collector: the caller must not release the
/// plaintext. Delivery failures are not errors: the events stay queued and
/// go out on the next run.
pub(crate) fn report_access(reporter: &Reporter, policy: &EventsPolicy, draft: &EventDraft) -> Result<Delivery, CliError> {
    let Some(url) = policy.url.as_deref() else {
        if policy.required {
            return Err(CliError::refused("the package requires access events but names no collector")
                .hint("ask the sender for a package with a collector URL in its rights"));
        }
        return Ok(Delivery::default());
    };
    match reporter.record(url, draft) {
        Ok(_) => {}
        Err(error) if policy.required => return Err(error),
        Err(error) => errln!("warning: the access event was not queued: {}", error.message),
    }
    let delivery = deliver(&reporter.home);
    if delivery.queued > 0 {
        errln!(
            "note: {} access events are queued in {} and will be sent on the next run{}",
            delivery.queued,
            reporter.home.join("outbox").display(),
            delivery.last_error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
        );
    }
    Ok(delivery)
}

/// Sends every queued event, in chain order, in batches per collector URL.
/// A 2xx response removes the batch, and a 4xx response moves it to
/// `outbox/rejected/`. A 413 response splits the batch and sends the parts
/// again: each part contains the `maxEvents` the collector names, else half
/// the batch. A single event that still gets 413 stays queued. A 5xx response or
/// a network failure keeps the batch queued and stops sending to that URL
/// for this run.
pub(crate) fn deliver(home: &Path) -> Delivery {
    let mut delivery = Delivery::default();
    let outbox = home.join("outbox");
    let files = match queued_files(&outbox) {
        Ok(files) => files,
        Err(error) => {
            delivery.last_error = Some(error.message);
            return delivery;
        }
    };
    let mut by_url: BTreeMap<String, Vec<(PathBuf, Value)>> = BTreeMap::new();
    for path in files {
        match read_queued(&path) {
            Ok(entry) => by_url.entry(entry.url).or_default().push((path, entry.event)),
            Err(message) => {
                delivery.last_error = Some(message);
                delivery.queued += 1;
            }
        }
    }

    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(REQUEST_TIMEOUT)).build().into();
    for (url, events) in by_url {
        deliver_to(&agent, &outbox, &url, &events, &mut delivery);
    }
    delivery
}

/// Sends the queued `events` of one collector URL, in order, and adds the
/// outcome to `delivery`.
fn deliver_to(agent: &ureq::Agent, outbox: &Path, url: &str, events: &[(PathBuf, Value)], delivery: &mut Delivery) {
    let mut batch_size = BATCH_SIZE;
    let mut start = 0;
    while start < events.len() {
        let batch = &events[start..events.len().min(start + batch_size)];
        let body = Value::Array(batch.iter().map(|(_, event)| event.clone()).collect());
        match send_batch(agent, url, &body) {
            Sent::Stored => {
                delivery.sent += batch.len();
                remove_files(batch.iter().map(|(path, _)| path.as_path()));
            }
            Sent::Rejected(message) => {
                delivery.rejected += batch.len();
                errln!(
                    "warning: the collector {url} rejected {} access events: {message}; they were moved to {}",
                    batch.len(),
                    outbox.join("rejected").display()
                );
                move_to_rejected(outbox, batch.iter().map(|(path, _)| path.as_path()));
                delivery.last_error = Some(message);
            }
            Sent::TooLarge { max_events, .. } if batch.len() > 1 => {
                // The batches after this one keep the smaller size.
                batch_size = max_events.filter(|max| (1..batch.len()).contains(max)).unwrap_or(batch.len() / 2);
                continue;
            }
            Sent::TooLarge { message, .. } => {
                let path = batch[0].0.display();
                errln!(
                    "warning: the collector {url} rejects the access event {path} as too large even on its own: {message}; \
                     it stays queued until the collector accepts larger requests (--max-body-bytes)"
                );
                delivery.queued += 1;
                delivery.last_error = Some(format!("{url}: {message}"));
            }
            Sent::Retry(message) => {
                delivery.last_error = Some(format!("{url}: {message}"));
                delivery.queued += events.len() - start;
                return;
            }
        }
        start += batch.len();
    }
}

enum Sent {
    Stored,
    Rejected(String),
    /// 413: the batch has more events or bytes than the collector takes.
    /// `max_events` is the collector's `maxEvents`, when it names one.
    TooLarge {
        max_events: Option<usize>,
        message: String,
    },
    Retry(String),
}

fn send_batch(agent: &ureq::Agent, url: &str, body: &Value) -> Sent {
    let response = agent.post(url).header("Content-Type", BATCH_MEDIA_TYPE).send(body.to_string().as_str());
    match response {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let text = response.body_mut().with_config().limit(64 * 1024).read_to_string().unwrap_or_default();
            let answer = serde_json::from_str::<Value>(&text).unwrap_or_default();
            let message = answer["message"].as_str().map_or_else(|| format!("HTTP {status}"), str::to_owned);
            match status {
                200..=299 => Sent::Stored,
                413 => Sent::TooLarge { max_events: answer["maxEvents"].as_u64().and_then(|max| usize::try_from(max).ok()), message },
                // 429: the reader is over the collector's hourly quota,
                // so the batch waits for a later delivery.
                429 => Sent::Retry(message),
                400..=499 => Sent::Rejected(message),
                _ => Sent::Retry(format!("HTTP {status}")),
            }
        }
        Err(error) => Sent::Retry(error.to_string()),
    }
}

/// Returns the queued event files in chain order.
fn queued_files(outbox: &Path) -> Result<Vec<PathBuf>, CliError> {
    let entries = match fs::read_dir(outbox) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(CliError::usage(format!("cannot read {}: {error}", outbox.display()))),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json") && path.file_name().is_some_and(|name| !name.to_string_lossy().starts_with('.')))
        .collect();
    files.sort();
    Ok(files)
}

fn read_queued(path: &Path) -> Result<QueuedEvent, String> {
    let text = read_bounded(path)?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not a queued event: {e}", path.display()))
}

fn read_bounded(path: &Path) -> Result<String, String> {
    let size = fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?.len();
    if size > MAX_FILE_BYTES {
        return Err(format!("{} is {size} bytes, more than the maximum of {MAX_FILE_BYTES}", path.display()));
    }
    fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn remove_files<'a>(paths: impl Iterator<Item = &'a Path>) {
    for path in paths {
        if let Err(error) = fs::remove_file(path) {
            // The collector drops the duplicate when it is sent again.
            tracing::warn!(path = %path.display(), %error, "cannot remove a delivered event");
        }
    }
}

fn move_to_rejected<'a>(outbox: &Path, paths: impl Iterator<Item = &'a Path>) {
    let rejected = outbox.join("rejected");
    if let Err(error) = fs::create_dir_all(&rejected) {
        tracing::warn!(path = %rejected.display(), %error, "cannot create the rejected folder");
        return;
    }
    for path in paths {
        if let Some(name) = path.file_name() {
            if let Err(error) = fs::rename(path, rejected.join(name)) {
                tracing::warn!(path = %path.display(), %error, "cannot move a rejected event");
            }
        }
    }
}

fn load_chain(home: &Path) -> Result<ChainFile, CliError> {
    let path = home.join("events-chain.json");
    if !path.exists() {
        return new_chain_file(home);
    }
    let text = read_bounded(&path).map_err(CliError::usage)?;
    // The shared chain of an earlier version belongs to whichever reader
    // used it, so no reader can continue it. A new agent id starts a new
    // source, and so a new chain at seq 1, for every reader, which the
    // collector neither flags as a gap nor as a fork.
    if serde_json::from_str::<SharedChainFile>(&text).is_ok() {
        tracing::info!(path = %path.display(), "replacing the shared event chain with per-reader chains under a new agent id");
        return new_chain_file(home);
    }
    serde_json::from_str(&text).map_err(|e| {
        CliError::usage(format!("{} is invalid: {e}", path.display()))
            .hint("restore it from a backup; deleting it starts a new chain that collectors show as such")
    })
}

fn new_chain_file(home: &Path) -> Result<ChainFile, CliError> {
    let random = uuid::Uuid::new_v4().simple().to_string();
    let chain = ChainFile { agent: format!("cli-{}", &random[..12]), readers: BTreeMap::new() };
    save_chain(home, &chain)?;
    Ok(chain)
}

fn save_chain(home: &Path, chain: &ChainFile) -> Result<(), CliError> {
    let bytes = serde_json::to_vec_pretty(chain).map_err(|e| CliError::usage(format!("cannot write the chain file: {e}")))?;
    write_atomically(&home.join("events-chain.json"), &bytes)
}

/// An exclusive lock on the chain and the outbox, held by creating a file;
/// two `valise` processes signing at once would otherwise fork the chain.
struct Lock {
    path: PathBuf,
}

impl Lock {
    fn acquire(home: &Path) -> Result<Lock, CliError> {
        let path = home.join("events.lock");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            match fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(_) => return Ok(Lock { path }),
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|modified| SystemTime::now().duration_since(modified).ok())
                        .is_some_and(|age| age > STALE_LOCK);
                    if stale {
                        let _ = fs::remove_file(&path);
                        continue;
                    }
                    if std::time::Instant::now() > deadline {
                        return Err(CliError::refused(format!("{} is held by another valise process", path.display()))
                            .hint("wait for it to finish, or delete the file if no valise process runs"));
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(error) => return Err(CliError::usage(format!("cannot create {}: {error}", path.display()))),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::mpsc;

    use valise_core::events::{EventKind, Outcome};

    use super::*;

    fn reporter(home: &Path) -> Reporter {
        reporter_for(home, "alice")
    }

    fn reporter_for(home: &Path, person: &str) -> Reporter {
        let identity = ReaderIdentity {
            signing_key: SigningKey::from_slice(&[7; 32]).expect("a valid scalar"),
            kid: format!("kid-{person}"),
            community: "fincert".into(),
            org: "acme".into(),
            person: person.into(),
            agent: String::new(),
            credential: None,
        };
        Reporter::with_identity(home, identity).expect("a reporter")
    }

    fn queued_events(home: &Path) -> Vec<Value> {
        queued_files(&home.join("outbox")).expect("listed").iter().map(|path| read_queued(path).expect("readable").event).collect()
    }

    #[test]
    fn chain_per_reader() {
        let home = tempfile::tempdir().expect("a temporary folder");
        let url = "http://127.0.0.1:9/events";
        reporter_for(home.path(), "alice").record(url, &draft()).expect("queued");
        reporter_for(home.path(), "alice").record(url, &draft()).expect("queued");
        reporter_for(home.path(), "bob").record(url, &draft()).expect("queued");
        reporter_for(home.path(), "alice").record(url, &draft()).expect("queued");

        let events = queued_events(home.path());
        let seqs = |person: &str| -> Vec<u64> {
            events.iter().filter(|e| e["data"]["reader"]["person"] == person).filter_map(|e| e["data"]["seq"].as_u64()).collect()
        };
        assert_eq!(seqs("alice"), vec![1, 2, 3]);
        assert_eq!(seqs("bob"), vec![1]);
        let bob = events.iter().find(|e| e["data"]["reader"]["person"] == "bob").expect("bob's event");
        assert_eq!(bob["data"]["prevHash"], "0".repeat(64), "bob starts his own chain");
        let agents: std::collections::BTreeSet<String> =
            events.iter().filter_map(|e| e["source"].as_str()).map(|source| source.rsplit('/').next().unwrap_or_default().to_owned()).collect();
        assert_eq!(agents.len(), 1, "one agent per home: {agents:?}");
    }

    #[test]
    fn shared_chain_file_replaced() {
        let home = tempfile::tempdir().expect("a temporary folder");
        let shared = serde_json::json!({ "agent": "cli-000000000000", "seq": 7, "prevHash": "ab".repeat(32) });
        fs::write(home.path().join("events-chain.json"), shared.to_string()).expect("written");
        reporter_for(home.path(), "bob").record("http://127.0.0.1:9/events", &draft()).expect("queued");
        let events = queued_events(home.path());
        assert_eq!(events[0]["data"]["seq"], 1);
        let source = events[0]["source"].as_str().expect("a source");
        assert!(!source.ends_with("cli-000000000000"), "a new agent: {source}");
    }

    fn draft() -> EventDraft {
        EventDraft {
            kind: EventKind::Opened,
            package_id: "pkg".into(),
            decision: Outcome::Permit,
            reasons: vec![],
            rights: None,
            label: None,
            originator: None,
        }
    }

    /// Serves `statuses.len()` requests on 127.0.0.1, responding to each with
    /// the next status, and sends each request body on the channel.
    fn server(statuses: Vec<u16>) -> (String, mpsc::Receiver<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let url = format!("http://{}/events", listener.local_addr().expect("an address"));
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for status in statuses {
                let Ok((mut stream, _)) = listener.accept() else { return };
                let mut reader = BufReader::new(stream.try_clone().expect("a clone"));
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let _ = sender.send(String::from_utf8_lossy(&body).into_owned());
                let answer = "{\"message\":\"refused for the test\"}";
                let _ = write!(stream, "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}", answer.len());
            }
        });
        (url, receiver)
    }

    #[test]
    fn queued_until_delivered() {
        let home = tempfile::tempdir().expect("a temporary folder");
        let reporter = reporter(home.path());
        // Nothing listens on this port: the events stay queued.
        let dead = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let dead_url = format!("http://{}/events", dead.local_addr().expect("an address"));
        drop(dead);
        for _ in 0..3 {
            reporter.record(&dead_url, &draft()).expect("queued");
        }
        let delivery = deliver(home.path());
        assert_eq!((delivery.sent, delivery.queued), (0, 3));
        assert!(delivery.last_error.is_some());

        // The collector responds with 500, then 200.
        let (url, bodies) = server(vec![500, 200]);
        for path in queued_files(&home.path().join("outbox")).expect("listed") {
            let mut entry = read_queued(&path).expect("readable");
            entry.url.clone_from(&url);
            fs::write(&path, serde_json::to_vec(&entry).expect("serialises")).expect("written");
        }
        let delivery = deliver(home.path());
        assert_eq!((delivery.sent, delivery.queued), (0, 3));
        let delivery = deliver(home.path());
        assert_eq!((delivery.sent, delivery.queued, delivery.rejected), (3, 0, 0));
        let _ = bodies.recv().expect("the first attempt");
        let sent: Value = serde_json::from_str(&bodies.recv().expect("the second")).expect("JSON");
        let seqs: Vec<u64> = sent.as_array().expect("a batch").iter().filter_map(|e| e["data"]["seq"].as_u64()).collect();
        assert_eq!(seqs, vec![1, 2, 3], "sent in chain order");
    }

    #[test]
    fn chain_continues_across_runs() {
        let home = tempfile::tempdir().expect("a temporary folder");
        reporter(home.path()).record("http://127.0.0.1:9/events", &draft()).expect("queued");
        let second = reporter(home.path());
        second.record("http://127.0.0.1:9/events", &draft()).expect("queued");
        let files = queued_files(&home.path().join("outbox")).expect("listed");
        assert_eq!(files.len(), 2);
        let first = read_queued(&files[0]).expect("readable").event;
        let next = read_queued(&files[1]).expect("readable").event;
        assert_eq!(next["data"]["seq"], 2);
        assert_eq!(first["source"], next["source"], "one agent per home");
        let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(valise_core::events::canonical_bytes(&first).expect("canonical")));
        assert_eq!(next["data"]["prevHash"], hash.as_str());
    }

    #[test]
    fn rejected_batches_set_aside() {
        let home = tempfile::tempdir().expect("a temporary folder");
        let (url, _bodies) = server(vec![422]);
        reporter(home.path()).record(&url, &draft()).expect("queued");
        let delivery = deliver(home.path());
        assert_eq!((delivery.sent, delivery.rejected, delivery.queued), (0, 1, 0));
        assert_eq!(delivery.last_error.as_deref(), Some("refused for the test"));
        let rejected = fs::read_dir(home.path().join("outbox/rejected")).expect("a folder").count();
        assert_eq!(rejected, 1);
    }

    #[test]
    fn quota_rejection_keeps_batch() {
        let home = tempfile::tempdir().expect("a temporary folder");
        let (url, _bodies) = server(vec![429, 200]);
        reporter(home.path()).record(&url, &draft()).expect("queued");
        let delivery = deliver(home.path());
        assert_eq!((delivery.sent, delivery.rejected, delivery.queued), (0, 0, 1));
        assert_eq!(delivery.last_error, Some(format!("{url}: refused for the test")));
        let delivery = deliver(home.path());
        assert_eq!((delivery.sent, delivery.rejected, delivery.queued), (1, 0, 0));
    }

    #[test]
    fn required_events_need_a_collector() {
        let home = tempfile::tempdir().expect("a temporary folder");
        let policy = EventsPolicy { url: None, required: true };
        assert!(report_access(&reporter(home.path()), &policy, &draft()).is_err());
        let optional = EventsPolicy { url: None, required: false };
        assert_eq!(report_access(&reporter(home.path()), &optional, &draft()).expect("fine"), Delivery::default());
    }

    #[test]
    fn full_outbox_refuses() {
        let home = tempfile::tempdir().expect("a temporary folder");
        let reporter = reporter(home.path());
        let outbox = home.path().join("outbox");
        for n in 0..MAX_QUEUED {
            fs::write(outbox.join(format!("{n:016}-x.json")), b"{}").expect("written");
        }
        let policy = EventsPolicy { url: Some("http://127.0.0.1:9/events".into()), required: true };
        assert!(reporter.record("http://127.0.0.1:9/events", &draft()).is_err());
        assert!(report_access(&reporter, &policy, &draft()).is_err());
    }
}
