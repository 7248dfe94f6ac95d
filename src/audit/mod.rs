//! The tamper-evident audit journal: every decision and every exchange, recorded durably
//! before anything is sent, kept at least 10 years.
//!
//! [`Journal`] is the seam the client's call path uses. The file journal (segments, hash
//! chain, group commit, recovery) is the embedded default; a shared store for many
//! application instances can implement the same trait later.
//!
//! - [`FileJournal`]: the writer ([`FileJournal::open`], [`Journal::append`],
//!   [`FileJournal::close`]).
//! - [`verify()`]: framing, checksums, the chain, checkpoint signatures, a trusted head.
//! - [`query()`] and [`show()`]: the security advisor's questions, intents joined with their
//!   outcomes.
//! - [`prune()`]: removes whole segments older than both a date and 10 years.
//!
//! The on-disk format is described in [`format`](mod@format).

mod checkpoint;
mod file_journal;
pub mod format;
mod multi_sha256;
mod prune;
mod query;
pub mod record;
mod scan;
mod verify;
mod walk;
mod writer;

pub use checkpoint::{load_signing_key, load_verifying_key};
pub use file_journal::{FileJournal, FileJournalConfig, JournalStats};
pub use prune::{PruneReport, prune, prune_at};
pub use query::{Exchange, QueryFilter, QueryResult, query, show};
pub use record::{
    Bcss, CheckpointRecord, DenialRecord, How, IntentRecord, OutcomeRecord, Payload, ReadRecord,
    Record, TruncationRecord, What, Who,
};
pub use verify::{PendingIntent, Problem, TrustedHead, VerifyReport, verify};

/// A position in the chain: a sequence number and the chain hash after that record.
///
/// Displayed (and parsed by [`TrustedHead`]) as `SEQUENCE:HEX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// The record's sequence number.
    pub sequence: u64,
    /// The chain hash after it.
    pub hash: [u8; 32],
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.sequence, hex::encode(self.hash))
    }
}

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
    #[error("audit journal at {path}: {operation} failed: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// What was being done.
        operation: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The journal is closed (shut down, or its writer stopped after an earlier failure).
    #[error("audit journal is closed: {0}")]
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
    /// Stored data could not be decoded.
    #[error("audit journal data could not be decoded: {0}")]
    Decode(String),
    /// Another process has the journal open for writing.
    #[error(
        "audit journal at {dir} is open for writing by another process (its lock file is held)"
    )]
    Locked {
        /// The journal directory.
        dir: String,
    },
    /// The journal's configuration is unusable (a bad limit, an unreadable signing key).
    #[error("audit journal configuration: {0}")]
    Config(String),
}

impl AuditError {
    /// An [`AuditError::Io`] for `path`.
    pub(crate) fn io(
        path: &std::path::Path,
        operation: &'static str,
        source: std::io::Error,
    ) -> Self {
        AuditError::Io {
            path: path.display().to_string(),
            operation,
            source,
        }
    }
}

/// An append-only, durable journal.
pub trait Journal: Send + Sync + std::fmt::Debug {
    /// Append one record. Resolves only once the record is durable (fsync'd); an error
    /// means it may not be, and the caller must refuse the call.
    fn append(&self, record: Record) -> BoxFuture<'_, Result<Appended, AuditError>>;
}
