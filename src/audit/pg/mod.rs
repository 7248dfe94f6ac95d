//! The PostgreSQL journal: one journal (one hash chain) per schema, written by many
//! processes on many machines at once, with the same record bytes, chain, checkpoints,
//! signatures, witness and retention rule as the file journal.
//!
//! - Appends are ordered by a row lock on the journal's head row, taken once per batch
//!   (`lock_head()`); inside a process one task batches every waiting append into one
//!   `INSERT` (group commit). An append is acknowledged once the transaction holding it
//!   committed and that commit is durable: a transaction committed after it with
//!   `synchronous_commit = on` has returned (see the writer: the lock is not held through
//!   the WAL flush, so processes share flushes). Any failure refuses it.
//! - The database checks every inserted statement continues the chain (next sequence
//!   numbers, each hash from the previous one and the body) before the head row moves.
//! - The application's role can read and insert, not update or delete; a trigger refuses
//!   UPDATE, DELETE and TRUNCATE to the owner as well, except old records removed by the
//!   prune function for a prune record in the chain.
//! - Verification, queries and exports go through the store-independent chain and checks
//!   ([`chain`](super::chain), the checks of [`verify()`](super::verify())): a file journal
//!   exported here verifies to the same head.
//!
//! Set up a database with [`init`] (`bcss audit init postgres://...`).

mod anchors;
mod columns;
mod connect;
mod export;
mod init;
mod insert;
mod journal;
mod location;
mod prune;
mod query;
mod read;
mod verify;
mod witness;
mod writer;

pub use export::{ExportReport, export};
pub use init::{InitOptions, InitReport, init, init_sql};
pub use journal::{PgJournal, PgJournalConfig, PgJournalStats};
pub use location::{DEFAULT_SCHEMA, PgLocation};
pub use prune::{PgPruneReport, prune, prune_at};
pub use query::{PgQueryResult, query, query_reads, show};
pub use read::{PgHead, head, records};
pub use verify::verify;
pub use witness::PgWitness;

use super::AuditError;

/// The format this code writes and reads (`meta.format_version`).
pub(crate) const SCHEMA_FORMAT: i32 = 2;

/// A driver error as one line: what the driver says and why (the server's message, detail
/// and hint, or the underlying I/O error). Never holds the password: the driver has none
/// to show, and the URL holds none.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!("{}: {}", db.severity(), db.message());
        if let Some(detail) = db.detail() {
            s.push_str(&format!(" ({detail})"));
        }
        if let Some(hint) = db.hint() {
            s.push_str(&format!("; hint: {hint}"));
        }
        return s;
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        s.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    s
}

/// An [`AuditError::Database`] for `operation` on `location`.
pub(crate) fn db_error(
    location: &PgLocation,
    operation: &'static str,
    e: &tokio_postgres::Error,
) -> AuditError {
    AuditError::Database {
        location: location.to_string(),
        operation,
        message: describe(e),
    }
}

/// The table of a schema's records, as problems name it.
pub(crate) fn records_table(location: &PgLocation) -> String {
    format!("{}{}", location.schema(), super::TABLE_SUFFIX)
}
