//! PostgreSQL back end: one connection, reconnected when it drops.

use tokio::sync::Mutex;
use tokio_postgres::{Client, NoTls, Transaction};

use super::store::{
    stored_event, ChainStatus, EventFilter, EventRow, InsertOutcome, StoreError, StoredEvent,
    SCHEMA,
};

/// A PostgreSQL database of access events.
///
/// One connection serves the collector, and each batch is one transaction.
///
/// NOTE: the chain status is decided by reading then inserting inside a
/// READ COMMITTED transaction. Several collectors writing the same reader's
/// events at the same instant can flag an event as a gap that is linked;
/// the events themselves are still stored exactly once (the primary key).
pub(crate) struct PostgresStore {
    url: String,
    client: Mutex<Client>,
}

impl PostgresStore {
    /// Connects and creates the table when missing.
    pub(crate) async fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let client = connect(url).await?;
        client.batch_execute(SCHEMA).await?;
        Ok(PostgresStore {
            url: url.to_owned(),
            client: Mutex::new(client),
        })
    }

    /// Stores a batch in one transaction.
    pub(crate) async fn insert(&self, rows: Vec<EventRow>) -> Result<Vec<InsertOutcome>, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let mut outcomes = Vec::with_capacity(rows.len());
        for row in &rows {
            outcomes.push(insert_row(&transaction, row).await?);
        }
        transaction.commit().await?;
        Ok(outcomes)
    }

    /// Returns the events that match `filter`, by event time.
    pub(crate) async fn query(&self, filter: &EventFilter) -> Result<Vec<StoredEvent>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id, source, seq, kind, time, subject, reader_org, reader_person,
                        decision, reasons, chain, received, event
                 FROM access_events
                 WHERE ($1::TEXT IS NULL OR subject = $1) AND ($2::TEXT IS NULL OR source = $2)
                 ORDER BY time, source, seq
                 LIMIT $3",
                &[&filter.package, &filter.source, &filter.row_limit()],
            )
            .await?;
        let mut events = Vec::with_capacity(rows.len());
        for row in rows {
            events.push(stored_event(
                row.try_get(0)?,
                row.try_get(1)?,
                row.try_get(2)?,
                row.try_get(3)?,
                row.try_get(4)?,
                row.try_get(5)?,
                row.try_get(6)?,
                row.try_get(7)?,
                row.try_get(8)?,
                row.try_get(9)?,
                row.try_get(10)?,
                row.try_get(11)?,
                row.try_get(12)?,
            )?);
        }
        Ok(events)
    }

    /// Returns the connection, reconnecting first when the server closed it.
    async fn client(&self) -> Result<tokio::sync::MutexGuard<'_, Client>, StoreError> {
        let mut client = self.client.lock().await;
        if client.is_closed() {
            tracing::warn!("PostgreSQL connection closed; reconnecting");
            *client = connect(&self.url).await?;
        }
        Ok(client)
    }
}

async fn connect(url: &str) -> Result<Client, StoreError> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(%error, "PostgreSQL connection ended");
        }
    });
    Ok(client)
}

/// Stores one event inside the batch's transaction (see [`ChainStatus`]).
async fn insert_row(transaction: &Transaction<'_>, row: &EventRow) -> Result<InsertOutcome, StoreError> {
    let existing = transaction
        .query_opt(
            "SELECT hash FROM access_events WHERE source = $1 AND id = $2",
            &[&row.source, &row.id],
        )
        .await?;
    if let Some(existing) = existing {
        let hash: String = existing.try_get(0)?;
        return Ok(if hash == row.hash {
            InsertOutcome::Duplicate
        } else {
            InsertOutcome::Conflict
        });
    }

    let same_seq: i64 = transaction
        .query_one(
            "SELECT COUNT(*) FROM access_events WHERE source = $1 AND seq = $2",
            &[&row.source, &row.seq],
        )
        .await?
        .try_get(0)?;
    let previous_hashes = transaction
        .query(
            "SELECT hash FROM access_events WHERE source = $1 AND seq = $2",
            &[&row.source, &(row.seq - 1)],
        )
        .await?
        .iter()
        .map(|r| r.try_get::<_, String>(0))
        .collect::<Result<Vec<_>, _>>()?;
    let seq = u64::try_from(row.seq).unwrap_or(0);
    let status = ChainStatus::decide(seq, &row.prev_hash, &previous_hashes, same_seq > 0);

    let inserted = transaction
        .execute(
            "INSERT INTO access_events (source, id, seq, prev_hash, hash, kind, time, subject,
                 reader_org, reader_person, kid, decision, reasons, chain, received, event)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
             ON CONFLICT (source, id) DO NOTHING",
            &[
                &row.source,
                &row.id,
                &row.seq,
                &row.prev_hash,
                &row.hash,
                &row.kind,
                &row.time,
                &row.subject,
                &row.reader_org,
                &row.reader_person,
                &row.kid,
                &row.decision,
                &row.reasons,
                &status.as_str(),
                &row.received,
                &row.event,
            ],
        )
        .await?;
    if inserted == 0 {
        // Another collector stored the same key since the first check.
        return Ok(InsertOutcome::Duplicate);
    }
    if status == ChainStatus::Fork {
        transaction
            .execute(
                "UPDATE access_events SET chain = 'fork' WHERE source = $1 AND seq = $2",
                &[&row.source, &row.seq],
            )
            .await?;
    }
    transaction
        .execute(
            "UPDATE access_events
             SET chain = CASE WHEN prev_hash = $3 THEN 'linked' ELSE 'broken' END
             WHERE source = $1 AND seq = $2 AND chain = 'gap'",
            &[&row.source, &(row.seq + 1), &row.hash],
        )
        .await?;
    Ok(InsertOutcome::Stored(status))
}
