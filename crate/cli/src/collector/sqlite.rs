//! SQLite back end: one connection behind a mutex, used from blocking tasks.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::store::{
    stored_event, ChainStatus, EventFilter, EventRow, InsertOutcome, StoreError, StoredEvent,
    SCHEMA,
};

/// An SQLite database of access events.
///
/// Writes are serialised by the mutex, and each batch is one transaction.
/// The journal is in WAL mode with `synchronous = FULL`, so a batch the
/// collector acknowledged survives a crash of the process or of the machine.
#[derive(Clone)]
pub(crate) struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens or creates the database file and its table.
    pub(crate) async fn open(path: PathBuf) -> Result<SqliteStore, StoreError> {
        let connection = blocking(move || {
            let connection = Connection::open(&path)?;
            connection.busy_timeout(std::time::Duration::from_secs(5))?;
            connection.pragma_update(None, "journal_mode", "WAL")?;
            connection.pragma_update(None, "synchronous", "FULL")?;
            connection.execute_batch(SCHEMA)?;
            Ok(connection)
        })
        .await?;
        Ok(SqliteStore {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// Stores a batch in one transaction.
    pub(crate) async fn insert(&self, rows: Vec<EventRow>) -> Result<Vec<InsertOutcome>, StoreError> {
        let connection = Arc::clone(&self.connection);
        blocking(move || {
            let mut connection = lock(&connection)?;
            let transaction = connection.transaction()?;
            let mut outcomes = Vec::with_capacity(rows.len());
            for row in &rows {
                outcomes.push(insert_row(&transaction, row)?);
            }
            transaction.commit()?;
            Ok(outcomes)
        })
        .await
    }

    /// Returns the events that match `filter`, by event time.
    pub(crate) async fn query(&self, filter: EventFilter) -> Result<Vec<StoredEvent>, StoreError> {
        let connection = Arc::clone(&self.connection);
        blocking(move || {
            let connection = lock(&connection)?;
            let mut statement = connection.prepare(
                "SELECT id, source, seq, kind, time, subject, reader_org, reader_person,
                        decision, reasons, chain, received, event
                 FROM access_events
                 WHERE (?1 IS NULL OR subject = ?1) AND (?2 IS NULL OR source = ?2)
                 ORDER BY time, source, seq
                 LIMIT ?3",
            )?;
            let rows = statement.query_map(
                params![filter.package, filter.source, filter.row_limit()],
                |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                        row.get(5)?,
                        row.get(6)?,
                        row.get(7)?,
                        row.get(8)?,
                        row.get(9)?,
                        row.get(10)?,
                        row.get(11)?,
                        row.get(12)?,
                    ))
                },
            )?;
            let mut events = Vec::new();
            for row in rows {
                let (id, source, seq, kind, time, subject, org, person, decision, reasons, chain, received, event) =
                    row?;
                events.push(stored_event(
                    id, source, seq, kind, time, subject, org, person, decision, reasons, chain,
                    received, event,
                )?);
            }
            Ok(events)
        })
        .await
    }
}

/// Stores one event inside the batch's transaction (see [`ChainStatus`]).
fn insert_row(transaction: &Transaction<'_>, row: &EventRow) -> Result<InsertOutcome, StoreError> {
    let existing: Option<String> = transaction
        .query_row(
            "SELECT hash FROM access_events WHERE source = ?1 AND id = ?2",
            params![row.source, row.id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(hash) = existing {
        return Ok(if hash == row.hash {
            InsertOutcome::Duplicate
        } else {
            InsertOutcome::Conflict
        });
    }

    let same_seq: i64 = transaction.query_row(
        "SELECT COUNT(*) FROM access_events WHERE source = ?1 AND seq = ?2",
        params![row.source, row.seq],
        |r| r.get(0),
    )?;
    let mut previous = transaction
        .prepare_cached("SELECT hash FROM access_events WHERE source = ?1 AND seq = ?2")?;
    let previous_hashes = previous
        .query_map(params![row.source, row.seq - 1], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let seq = u64::try_from(row.seq).unwrap_or(0);
    let status = ChainStatus::decide(seq, &row.prev_hash, &previous_hashes, same_seq > 0);

    transaction.execute(
        "INSERT INTO access_events (source, id, seq, prev_hash, hash, kind, time, subject,
             reader_org, reader_person, kid, decision, reasons, chain, received, event)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        params![
            row.source,
            row.id,
            row.seq,
            row.prev_hash,
            row.hash,
            row.kind,
            row.time,
            row.subject,
            row.reader_org,
            row.reader_person,
            row.kid,
            row.decision,
            row.reasons,
            status.as_str(),
            row.received,
            row.event,
        ],
    )?;
    if status == ChainStatus::Fork {
        transaction.execute(
            "UPDATE access_events SET chain = 'fork' WHERE source = ?1 AND seq = ?2",
            params![row.source, row.seq],
        )?;
    }
    // A successor that arrived first was stored as a gap: link it now.
    transaction.execute(
        "UPDATE access_events
         SET chain = CASE WHEN prev_hash = ?3 THEN 'linked' ELSE 'broken' END
         WHERE source = ?1 AND seq = ?2 AND chain = 'gap'",
        params![row.source, row.seq + 1, row.hash],
    )?;
    Ok(InsertOutcome::Stored(status))
}

fn lock(connection: &Mutex<Connection>) -> Result<MutexGuard<'_, Connection>, StoreError> {
    connection
        .lock()
        .map_err(|_| StoreError::Task("an earlier SQLite task panicked".into()))
}

/// Runs blocking database work off the async runtime.
async fn blocking<T, F>(work: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
}

