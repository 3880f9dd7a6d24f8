//! Storage of verified access events, shared by the SQLite and PostgreSQL
//! back ends: the database address, the row layout, the chain rules and the
//! query filter.

use std::fmt;
use std::path::PathBuf;

use time::macros::format_description;
use time::OffsetDateTime;
use valise_core::events::VerifiedEvent;

use super::postgres::PostgresStore;
use super::sqlite::SqliteStore;
use crate::cmd::CliError;

/// Table and indexes, valid SQL for both SQLite and PostgreSQL.
///
/// `(source, id)` is the CloudEvents identity of an event, so it is the key:
/// a second copy of the same event is a duplicate, and a different event
/// under the same key is a conflict. `chain` contains a [`ChainStatus`].
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS access_events (
    source TEXT NOT NULL,
    id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    time TEXT NOT NULL,
    subject TEXT NOT NULL,
    reader_org TEXT NOT NULL,
    reader_person TEXT NOT NULL,
    kid TEXT NOT NULL,
    decision TEXT NOT NULL,
    reasons TEXT NOT NULL,
    chain TEXT NOT NULL,
    received TEXT NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (source, id)
);
CREATE INDEX IF NOT EXISTS access_events_subject ON access_events (subject, time);
CREATE INDEX IF NOT EXISTS access_events_chain ON access_events (source, seq);
";

/// Most rows one query returns.
pub(crate) const MAX_QUERY_ROWS: usize = 100_000;

/// Database location, from `--db`.
#[derive(Clone)]
pub(crate) enum Database {
    /// `sqlite:PATH`: an SQLite file, created when missing.
    Sqlite(PathBuf),
    /// `postgres://...` or `postgresql://...`: a PostgreSQL connection URL.
    Postgres(String),
}

impl Database {
    /// Parses a `--db` value.
    pub(crate) fn parse(text: &str) -> Result<Database, CliError> {
        if let Some(path) = text.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err(CliError::usage("--db sqlite: needs a file path")
                    .hint("write --db sqlite:events.db"));
            }
            return Ok(Database::Sqlite(PathBuf::from(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Database::Postgres(text.to_owned()));
        }
        Err(CliError::usage(format!(
            "--db {:?} is neither sqlite:PATH nor a postgres:// URL",
            redact_url(text)
        ))
        .hint("write --db sqlite:events.db or --db postgres://user@host/database"))
    }
}

/// Shows the database without a password, for logs and messages.
impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            Database::Postgres(url) => f.write_str(&redact_url(url)),
        }
    }
}

/// Replaces the password of a URL's user information with `***` and drops
/// the query string, which may hold a `password` parameter too.
fn redact_url(url: &str) -> String {
    let url = match url.split_once('?') {
        Some((base, _)) => format!("{base}?..."),
        None => url.to_owned(),
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        return url;
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or_default();
            let hidden = if user_info.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}{tail}")
        }
        None => url.clone(),
    }
}

/// Position of an event in its reader's chain when it is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChainStatus {
    /// Sequence number 1: the start of a chain.
    First,
    /// The previous event is stored and its hash is `prevHash`.
    Linked,
    /// The previous event is not stored (yet): lost, or still on its way.
    /// Becomes `Linked` or `Broken` when it arrives.
    Gap,
    /// The previous event is stored but its hash is not `prevHash`.
    Broken,
    /// Another event of the same source has the same sequence number.
    Fork,
}

impl ChainStatus {
    /// Returns the name stored in the `chain` column.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ChainStatus::First => "first",
            ChainStatus::Linked => "linked",
            ChainStatus::Gap => "gap",
            ChainStatus::Broken => "broken",
            ChainStatus::Fork => "fork",
        }
    }

    /// Returns whether the status needs an originator's attention.
    pub(crate) fn is_flagged(self) -> bool {
        matches!(self, ChainStatus::Gap | ChainStatus::Broken | ChainStatus::Fork)
    }

    /// Decides the status of a new event from what is already stored:
    /// `previous_hashes` are the hashes stored at `seq - 1` for the same
    /// source, and `same_seq_stored` tells whether another event has `seq`.
    pub(crate) fn decide(
        seq: u64,
        prev_hash: &str,
        previous_hashes: &[String],
        same_seq_stored: bool,
    ) -> ChainStatus {
        if same_seq_stored {
            ChainStatus::Fork
        } else if seq == 1 {
            ChainStatus::First
        } else if previous_hashes.is_empty() {
            ChainStatus::Gap
        } else if previous_hashes.iter().any(|hash| hash == prev_hash) {
            ChainStatus::Linked
        } else {
            ChainStatus::Broken
        }
    }
}

/// Outcome of storing one event of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InsertOutcome {
    /// Stored, with its chain status.
    Stored(ChainStatus),
    /// The same event (same source, id and hash) was already stored.
    Duplicate,
    /// Another event with the same source and id but different content was
    /// already stored; this one is rejected.
    Conflict,
}

/// One event as a row.
pub(crate) struct EventRow {
    pub(crate) source: String,
    pub(crate) id: String,
    pub(crate) seq: i64,
    pub(crate) prev_hash: String,
    pub(crate) hash: String,
    pub(crate) kind: String,
    pub(crate) time: String,
    pub(crate) subject: String,
    pub(crate) reader_org: String,
    pub(crate) reader_person: String,
    pub(crate) kid: String,
    pub(crate) decision: String,
    /// Reason codes joined with spaces (codes are snake_case).
    pub(crate) reasons: String,
    pub(crate) received: String,
    pub(crate) event: String,
}

impl EventRow {
    /// Builds the row of a verified event received at `received`.
    pub(crate) fn new(event: &VerifiedEvent, received: OffsetDateTime) -> EventRow {
        EventRow {
            source: event.source.clone(),
            id: event.id.clone(),
            // The core bounds seq to 2^53 - 1, so it fits an i64.
            seq: i64::try_from(event.data.seq).unwrap_or(i64::MAX),
            prev_hash: event.data.prev_hash.clone(),
            hash: hex::encode(event.hash),
            kind: event.kind.as_str().to_owned(),
            time: timestamp(event.time),
            subject: event.subject.clone(),
            reader_org: event.reader.org.clone(),
            reader_person: event.reader.person.clone(),
            kid: event.kid.clone(),
            decision: event.data.decision.as_str().to_owned(),
            reasons: event.data.reasons.join(" "),
            received: timestamp(received),
            event: event.canonical.clone(),
        }
    }
}

/// One stored event, as queries return it.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StoredEvent {
    pub(crate) id: String,
    pub(crate) source: String,
    pub(crate) seq: i64,
    pub(crate) kind: String,
    pub(crate) time: String,
    pub(crate) subject: String,
    pub(crate) reader_org: String,
    pub(crate) reader_person: String,
    pub(crate) decision: String,
    pub(crate) reasons: Vec<String>,
    pub(crate) chain: String,
    pub(crate) received: String,
    /// The event as received, canonical JSON, signature included.
    pub(crate) event: serde_json::Value,
}

/// Filter of an event query; results are ordered by event time.
#[derive(Clone, Debug, Default)]
pub(crate) struct EventFilter {
    /// Only events about this package.
    pub(crate) package: Option<String>,
    /// Only events from this source.
    pub(crate) source: Option<String>,
    /// At most this many rows (capped at [`MAX_QUERY_ROWS`]).
    pub(crate) limit: Option<usize>,
}

impl EventFilter {
    /// Returns the row limit to apply.
    pub(crate) fn row_limit(&self) -> i64 {
        let limit = self.limit.unwrap_or(MAX_QUERY_ROWS).min(MAX_QUERY_ROWS);
        i64::try_from(limit).unwrap_or(i64::MAX)
    }
}

/// Formats a time as stored: UTC with microseconds, so text order is time
/// order.
pub(crate) fn timestamp(time: OffsetDateTime) -> String {
    let format = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    time.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_else(|_| time.unix_timestamp().to_string())
}

/// A storage failure. Requests that meet one get a 503, so clients retry.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// The SQLite database failed.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The PostgreSQL server failed or could not be reached.
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// A stored row does not hold what this collector writes.
    #[error("stored row is invalid: {0}")]
    InvalidRow(String),
    /// The blocking storage task panicked or was cancelled.
    #[error("storage task failed: {0}")]
    Task(String),
}

/// An open store.
pub(crate) enum Store {
    /// SQLite.
    Sqlite(SqliteStore),
    /// PostgreSQL.
    Postgres(Box<PostgresStore>),
}

impl Store {
    /// Opens the database and creates the table when missing.
    pub(crate) async fn open(database: &Database) -> Result<Store, StoreError> {
        match database {
            Database::Sqlite(path) => Ok(Store::Sqlite(SqliteStore::open(path.clone()).await?)),
            Database::Postgres(url) => Ok(Store::Postgres(Box::new(PostgresStore::open(url).await?))),
        }
    }

    /// Stores a batch in one transaction and returns one outcome per row.
    pub(crate) async fn insert(&self, rows: Vec<EventRow>) -> Result<Vec<InsertOutcome>, StoreError> {
        match self {
            Store::Sqlite(store) => store.insert(rows).await,
            Store::Postgres(store) => store.insert(rows).await,
        }
    }

    /// Returns the stored events that match `filter`, by event time.
    pub(crate) async fn query(&self, filter: &EventFilter) -> Result<Vec<StoredEvent>, StoreError> {
        match self {
            Store::Sqlite(store) => store.query(filter.clone()).await,
            Store::Postgres(store) => store.query(filter).await,
        }
    }
}

/// Builds a [`StoredEvent`] from column values.
#[expect(clippy::too_many_arguments, reason = "one argument per column")]
pub(crate) fn stored_event(
    id: String,
    source: String,
    seq: i64,
    kind: String,
    time: String,
    subject: String,
    reader_org: String,
    reader_person: String,
    decision: String,
    reasons: String,
    chain: String,
    received: String,
    event: String,
) -> Result<StoredEvent, StoreError> {
    let event = serde_json::from_str(&event)
        .map_err(|e| StoreError::InvalidRow(format!("event {id}: {e}")))?;
    Ok(StoredEvent {
        id,
        source,
        seq,
        kind,
        time,
        subject,
        reader_org,
        reader_person,
        decision,
        reasons: reasons.split_whitespace().map(str::to_owned).collect(),
        chain,
        received,
        event,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_status_rules() {
        let prev = "ab".repeat(32);
        assert_eq!(ChainStatus::decide(1, &"0".repeat(64), &[], false), ChainStatus::First);
        assert_eq!(ChainStatus::decide(2, &prev, &[], false), ChainStatus::Gap);
        assert_eq!(ChainStatus::decide(2, &prev, std::slice::from_ref(&prev), false), ChainStatus::Linked);
        assert_eq!(ChainStatus::decide(2, &prev, &["cd".repeat(32)], false), ChainStatus::Broken);
        assert_eq!(ChainStatus::decide(2, &prev, std::slice::from_ref(&prev), true), ChainStatus::Fork);
        assert_eq!(ChainStatus::decide(1, &"0".repeat(64), &[], true), ChainStatus::Fork);
    }

    #[test]
    fn database_parsing() {
        assert!(matches!(Database::parse("sqlite:a.db"), Ok(Database::Sqlite(_))));
        assert!(matches!(Database::parse("postgres://u@h/d"), Ok(Database::Postgres(_))));
        assert!(matches!(Database::parse("postgresql://u@h/d"), Ok(Database::Postgres(_))));
        assert!(Database::parse("sqlite:").is_err());
        assert!(Database::parse("mysql://h/d").is_err());
    }

    #[test]
    fn url_password_redacted() {
        let database = Database::Postgres("postgres://valise:s3cret@127.0.0.1:5432/events".into());
        assert_eq!(database.to_string(), "postgres://valise:***@127.0.0.1:5432/events");
        assert_eq!(redact_url("postgres://u@h/d"), "postgres://u@h/d");
        assert_eq!(redact_url("postgres://h/d?password=x"), "postgres://h/d?...");
    }

    #[test]
    fn timestamp_is_fixed_width() {
        let time = time::macros::datetime!(2026-12-04 20:15:00 +01:00);
        assert_eq!(timestamp(time), "2026-12-04T19:15:00.000000Z");
    }
}
