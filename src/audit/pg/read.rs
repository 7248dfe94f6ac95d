//! Reading the journal's rows back: the head row, and records in chain order (by pages of
//! sequence numbers), each with its stored columns.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use uuid::Uuid;

use super::columns::Columns;
use super::connect::{Connection, connect};
use super::{PgLocation, SCHEMA_FORMAT, db_error};
use crate::audit::chain::StoredRecord;
use crate::audit::{AuditError, Record, codec};

/// `template` with `__S__` replaced by the location's schema (a checked identifier).
pub(crate) fn sql(location: &PgLocation, template: &str) -> String {
    template.replace("__S__", location.schema())
}

/// The head row: where the journal's chain starts and ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgHead {
    /// The journal's id (its genesis record's).
    pub journal_id: Uuid,
    /// The sequence number the next record will carry.
    pub next_sequence: u64,
    /// The chain hash after the last record (32 zero bytes before the first).
    pub hash: [u8; 32],
    /// The first record kept (1, or later after a prune).
    pub first_sequence: u64,
    /// The hash the first kept record chains from.
    pub first_prev_hash: [u8; 32],
    /// The last checkpoint's sequence number (0: none yet).
    pub last_checkpoint_sequence: u64,
}

fn hash32(bytes: &[u8], what: &str) -> Result<[u8; 32], AuditError> {
    bytes
        .try_into()
        .map_err(|_| AuditError::Decode(format!("{what} is {} bytes, not 32", bytes.len())))
}

fn u64_of(v: i64, what: &str) -> Result<u64, AuditError> {
    u64::try_from(v).map_err(|_| AuditError::Decode(format!("{what} {v} is negative")))
}

/// Check the schema holds a journal of this format. A missing schema says to run init.
pub(crate) async fn check_schema(
    client: &tokio_postgres::Client,
    location: &PgLocation,
) -> Result<(), AuditError> {
    let row = match client
        .query_opt(&sql(location, "SELECT format_version FROM __S__.meta"), &[])
        .await
    {
        Ok(row) => row,
        Err(e)
            if e.code() == Some(&SqlState::UNDEFINED_TABLE)
                || e.code() == Some(&SqlState::INVALID_SCHEMA_NAME) =>
        {
            return Err(AuditError::Config(format!(
                "{location} holds no bcss journal in schema {}: `bcss audit init` creates one, in a schema of its own (as the role that will own it)",
                location.schema()
            )));
        }
        Err(e) => return Err(db_error(location, "read the journal's format", &e)),
    };
    let version: i32 = row.map(|r| r.get(0)).unwrap_or(0);
    if version != SCHEMA_FORMAT {
        return Err(AuditError::Config(format!(
            "{location}: the journal in schema {} has format {version}, this bcss reads format {SCHEMA_FORMAT}",
            location.schema()
        )));
    }
    Ok(())
}

const HEAD: &str = "SELECT journal_id, next_sequence, hash, first_sequence, first_prev_hash, last_checkpoint_sequence FROM __S__.head";

pub(crate) fn head_of(row: &Row) -> Result<PgHead, AuditError> {
    Ok(PgHead {
        journal_id: row.get(0),
        next_sequence: u64_of(row.get(1), "next_sequence")?,
        hash: hash32(row.get(2), "the head's hash")?,
        first_sequence: u64_of(row.get(3), "first_sequence")?,
        first_prev_hash: hash32(row.get(4), "first_prev_hash")?,
        last_checkpoint_sequence: u64_of(row.get(5), "last_checkpoint_sequence")?,
    })
}

/// The head row, `None` before the journal started.
pub(crate) async fn fetch_head(
    client: &tokio_postgres::Client,
    location: &PgLocation,
) -> Result<Option<PgHead>, AuditError> {
    let row = client
        .query_opt(&sql(location, HEAD), &[])
        .await
        .map_err(|e| db_error(location, "read the head row", &e))?;
    row.as_ref().map(head_of).transpose()
}

/// One stored row.
#[derive(Debug, Clone)]
pub(crate) struct StoredRow {
    pub sequence: u64,
    pub written_at_micros: i64,
    pub hash: [u8; 32],
    pub body: Bytes,
    pub columns: Columns,
}

impl StoredRow {
    pub(crate) fn stored(&self) -> StoredRecord {
        StoredRecord {
            sequence: self.sequence,
            written_at_micros: self.written_at_micros,
            hash: self.hash,
            body: self.body.clone(),
        }
    }
}

/// The columns a [`StoredRow`] is read from, in order.
pub(crate) const ROW_COLUMNS: &str = "sequence, written_at_micros, hash, body, kind, ticket, user_id, service, decided_at, outcome, subjects, covers_to";

pub(crate) fn row_of(row: &Row) -> Result<StoredRow, AuditError> {
    let sequence = u64_of(row.get(0), "sequence")?;
    let body: Vec<u8> = row.get(3);
    let decided_at: Option<DateTime<Utc>> = row.get(8);
    Ok(StoredRow {
        sequence,
        written_at_micros: row.get(1),
        hash: hash32(row.get(2), &format!("record {sequence}'s hash"))?,
        body: Bytes::from(body),
        columns: Columns {
            kind: row.get(4),
            ticket: row.get(5),
            user_id: row.get(6),
            service: row.get(7),
            decided_at: decided_at.map(|t| t.timestamp_micros()),
            outcome: row.get(9),
            subjects: row.get(10),
            covers_to: row.get(11),
        },
    })
}

/// Up to `limit` rows from sequence `from` on, in order.
pub(crate) async fn fetch_rows(
    client: &tokio_postgres::Client,
    location: &PgLocation,
    from: u64,
    limit: i64,
) -> Result<Vec<StoredRow>, AuditError> {
    let from = i64::try_from(from).unwrap_or(i64::MAX);
    let rows = client
        .query(
            &sql(
                location,
                &format!(
                    "SELECT {ROW_COLUMNS} FROM __S__.records WHERE sequence >= $1 ORDER BY sequence LIMIT $2"
                ),
            ),
            &[&from, &limit],
        )
        .await
        .map_err(|e| db_error(location, "read records", &e))?;
    rows.iter().map(row_of).collect()
}

/// Connect and check the schema: a read-only view of the journal.
pub(crate) async fn open_reader(location: &PgLocation) -> Result<Connection, AuditError> {
    let connection = connect(location).await?;
    check_schema(&connection.client, location).await?;
    Ok(connection)
}

/// The journal's head row (`None` before its first record).
pub async fn head(location: &PgLocation) -> Result<Option<PgHead>, AuditError> {
    let connection = open_reader(location).await?;
    fetch_head(&connection.client, location).await
}

/// The records with sequence numbers in `range`, decoded, in order. Nothing is checked
/// against the chain: use [`verify`](super::verify) for that.
pub async fn records(
    location: &PgLocation,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Vec<(u64, Record)>, AuditError> {
    let connection = open_reader(location).await?;
    let mut out = Vec::new();
    let mut from = *range.start();
    loop {
        let rows = fetch_rows(&connection.client, location, from, 1000).await?;
        let Some(last) = rows.last().map(|r| r.sequence) else {
            break;
        };
        for row in rows {
            if row.sequence > *range.end() {
                return Ok(out);
            }
            out.push((row.sequence, codec::decode(row.body)?));
        }
        from = last + 1;
    }
    Ok(out)
}
