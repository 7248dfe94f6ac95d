//! The tamper-evident audit journal: every decision and every exchange, recorded durably
//! before anything is sent, kept at least 10 years.
//!
//! [`Journal`] is the seam the client's call path uses. The file journal (segments, hash
//! chain, group commit, recovery) is the embedded default; a shared store for many
//! application instances can implement the same trait later.

pub mod record;

pub use record::{
    Bcss, DenialRecord, How, IntentRecord, OutcomeRecord, Payload, Record, What, Who,
};

use crate::transport::BoxFuture;

/// Where an appended record landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// The record's sequence number in the journal.
    pub sequence: u64,
    /// The chain hash after this record.
    pub hash: [u8; 32],
}

/// Why the journal could not record something. Any of these refuses the call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// An I/O failure (full disk, read-only directory, permissions...).
    #[error("audit journal at {path}: {operation} failed: {source}; the call was refused and nothing was sent")]
    Io {
        /// The file or directory.
        path: String,
        /// What was being done.
        operation: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The journal is closed (shut down, or its writer stopped after an earlier failure).
    #[error("audit journal is closed: {0}; the call was refused and nothing was sent")]
    Closed(String),
    /// The journal is damaged at a known position.
    #[error("audit journal damaged in {segment} at byte {offset} (sequence {sequence}): {reason}")]
    Damaged {
        /// The segment file.
        segment: String,
        /// The byte offset of the bad record.
        offset: u64,
        /// The sequence number of the bad record (or the one expected there).
        sequence: u64,
        /// What is wrong.
        reason: String,
    },
    /// A record could not be encoded.
    #[error("audit record could not be encoded: {0}")]
    Encode(String),
}

/// An append-only, durable journal.
pub trait Journal: Send + Sync + std::fmt::Debug {
    /// Append one record. Resolves only once the record is durable (fsync'd); an error
    /// means it may not be, and the caller must refuse the call.
    fn append(&self, record: Record) -> BoxFuture<'_, Result<Appended, AuditError>>;
}
