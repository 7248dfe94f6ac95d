//! The tamper-evident audit journal: every decision and every exchange, recorded durably
//! before anything is sent, kept at least 10 years.
//!
//! [`Journal`] is the seam the client's call path uses. The file journal (segments, hash
//! chain, group commit, recovery) is the embedded default; the PostgreSQL journal
//! ([`pg`]) serves many application instances at once. A [`JournalLocation`] names
//! either (a directory or a `postgres://` URL), and [`AnyJournal`] opens either.
//!
//! - [`FileJournal`]: the writer ([`FileJournal::open`], [`Journal::append`],
//!   [`FileJournal::close`]).
//! - [`verify()`]: framing, checksums, the chain, the genesis record, checkpoint
//!   signatures, prunes, quarantined bytes, and the anchors outside the journal: a
//!   [`Witness`], a trusted head.
//! - [`query()`] and [`show()`]: the security advisor's questions, intents joined with their
//!   outcomes and classifications, through the sidecar index the writer keeps
//!   ([`reindex()`] rebuilds it); every record returned is read back and checked against
//!   the chain.
//! - [`record_read()`] and [`query_reads()`]: reading is accountable; reads go to the
//!   journal's reads chain before anything is shown.
//! - [`prune()`]: removes whole segments older than both a date and 10 years, recording it
//!   in the chain first.
//!
//! Shared by every backend: the record [`codec`], the [`chain`], and the checks of
//! [`verify()`] beyond the storage format. The file journal's on-disk format is described
//! in [`format`](mod@format).

mod any;
pub mod chain;
pub mod codec;
mod file_journal;
pub mod format;
mod index;
mod location;
mod locator;
mod lock;
pub mod pg;
mod progress;
mod prune;
mod quarantine;
mod query;
mod readback;
mod reads;
pub mod record;
mod scan;
mod signing;
mod verify;
mod walk;
mod witness;
mod writer;

pub use any::{AnyJournal, AnyJournalConfig};
pub use file_journal::{FileJournal, FileJournalConfig, JournalStats};
pub use index::{INDEX_DIR, IndexReport, reindex};
pub use location::JournalLocation;
pub use lock::{DEFAULT_LOCK_WAIT, LOCK_WAIT_TARGET};
pub use progress::Progress;
pub use prune::{PruneReport, RETENTION_MONTHS, prune, prune_at, prune_with_progress};
pub use query::{Exchange, QueryFilter, QueryPlan, QueryResult, query, query_ticket, scan, show};
/// Whether a writer with `key` (its public half, when a signing key is configured) may append to a journal
/// whose last anchor (checkpoint, or genesis) was signed by `signed_by` (the public key in
/// hex, `None` when unsigned): the reason it may not, when so.
pub(crate) fn key_problem(
    signed_by: Option<&str>,
    key: Option<&ed25519_dalek::VerifyingKey>,
) -> Option<String> {
    let signed_by = signed_by?;
    match key {
        None => Some(UNSIGNED_WRITER.to_string()),
        Some(key) => {
            let ours = hex::encode(key.to_bytes());
            // The recorded key is the journal's bytes: shown by characters, never sliced
            // at a byte that may not be a character boundary.
            let short = |k: &str| k.chars().take(16).collect::<String>();
            (!ours.eq_ignore_ascii_case(signed_by)).then(|| {
                format!(
                    "this journal is signed by another key (public key {}...) than the one given ({}...): give the journal's signing key; checkpoints signed with this one would fail verify with the journal's public key",
                    short(signed_by),
                    short(&ours)
                )
            })
        }
    }
}

/// Why a process not given the signing key of a signed journal may not append to it
/// (file and PostgreSQL journals, and a file journal's reads chain alike).
pub(crate) const UNSIGNED_WRITER: &str = "this journal is signed (its last checkpoint, or its genesis record, carries a signature) but no signing key was given: give it ([journal] signing_key in bcss.toml; for bcss audit, --config bcss.toml or --signing-key FILE); a checkpoint written without it would be unsigned, and verify would report it as stripped or forged";

pub use reads::{
    READS_DIR, ReadChain, ReadEntry, query_reads, query_reads_planned, record_read,
    start_reads_witness,
};
pub use record::{
    Attempt, Bcss, CallRecord, CheckpointRecord, ClassificationRecord, DenialRecord, GenesisRecord,
    How, IntentRecord, ManifestLoadRecord, ManifestRef, OutcomeRecord, Payload, PruneRecord,
    PrunedSegment, ReadRecord, Record, TruncationRecord, What, Who,
};
pub use scan::TailKind;
pub use signing::{load_signing_key, load_verifying_key};
pub use verify::{
    PendingIntent, Problem, Quarantined, TrustedHead, UnapprovedDecision, VerifyOptions,
    VerifyReport, verify,
};
pub use witness::{FileWitness, Witness, WitnessedHead};

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

/// The suffix of a PostgreSQL journal's records table as problems name it
/// (`schema.records`): a table has no byte offsets.
pub(crate) const TABLE_SUFFIX: &str = ".records";

/// Where a problem is: `SEGMENT at byte N` in a file journal, `table SCHEMA.records` in a
/// PostgreSQL journal (whose records have no byte offset).
pub(crate) fn damage_position(segment: &str, offset: u64) -> String {
    if segment.ends_with(TABLE_SUFFIX) {
        format!("table {segment}")
    } else {
        format!("{segment} at byte {offset}")
    }
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
    #[error("audit journal damaged in {} (sequence {sequence}): {reason}", damage_position(segment, *offset))]
    Damaged {
        /// The segment file (a PostgreSQL journal: its table, `schema.records`).
        segment: String,
        /// The byte offset of the bad record (0, and not shown, for a table).
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
    /// Another process has the journal open for writing, and kept it past the configured
    /// wait ([`FileJournalConfig::lock_wait`]).
    #[error(
        "audit journal at {dir} is open for writing by another process{} (its lock file is held; waited {waited_seconds} s): retry when it is done, or raise [journal] lock_wait_seconds",
        holder.map(|pid| format!(" (pid {pid})")).unwrap_or_default()
    )]
    Locked {
        /// The journal directory.
        dir: String,
        /// The process id the holder wrote in the lock file, when known.
        holder: Option<u32>,
        /// How long this process waited, in seconds.
        waited_seconds: u64,
    },
    /// The journal's configuration is unusable (a bad limit, an unreadable signing key).
    #[error("audit journal configuration: {0}")]
    Config(String),
    /// The record is larger than the journal accepts. Nothing was written, and the journal
    /// goes on accepting other records: this is a size limit, not a disk problem.
    #[error(
        "the {kind} record is {bytes} bytes, above {limit_name} of {limit} bytes; nothing was written (a size limit, not a disk problem): raise the journal's limit or lower [limits] max_reply_bytes"
    )]
    TooLarge {
        /// The record's kind (`intent`, `outcome`...).
        kind: &'static str,
        /// Its size, in bytes (of the part over the limit).
        bytes: usize,
        /// The limit.
        limit: usize,
        /// Which limit.
        limit_name: &'static str,
    },
    /// The journal's database refused or failed an operation (unreachable, a lost
    /// connection, a refused statement). The message is the server's or the driver's and
    /// never holds a password.
    #[error("audit journal at {location}: {operation} failed: {message}")]
    Database {
        /// The journal's location (its URL, which holds no password).
        location: String,
        /// What was being done.
        operation: &'static str,
        /// What the database or the driver said.
        message: String,
    },
    /// The witness does not confirm the journal (it recorded a head the journal does not
    /// have, or holds another journal's heads): the journal was cut, rewritten or replaced.
    #[error("audit journal at {dir} does not match its witness: {reason}")]
    WitnessMismatch {
        /// The journal directory.
        dir: String,
        /// What differs.
        reason: String,
    },
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
///
/// Callers append [`CallRecord`]s only; the journal's own records (genesis, checkpoints,
/// truncations, prunes) are written by the journal itself.
pub trait Journal: Send + Sync + std::fmt::Debug {
    /// Append one record. Resolves only once the record is durable (fsync'd); an error
    /// means it may not be, and the caller must refuse the call.
    fn append(&self, record: CallRecord) -> BoxFuture<'_, Result<Appended, AuditError>>;

    /// Queue a record for the next group commit and return at once, without waiting for
    /// it to be durable: it is durable once a later [`append`](Journal::append) is
    /// acknowledged, or at close. For records that can be derived again from durable ones
    /// (a classification, from the outcome's raw reply). Fails only when the journal is
    /// already failed or closed, or the record is over its size limit.
    fn append_deferred(&self, record: CallRecord) -> Result<(), AuditError>;

    /// The largest total of request and reply bytes (payloads) that one record can always
    /// hold, in bytes. A client refuses a reply limit above it.
    fn max_payload_bytes(&self) -> usize;
}

#[cfg(test)]
mod key_tests {
    #[test]
    fn another_key_recorded_as_any_text_is_named_without_panicking() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
        let why = super::key_problem(Some("ééééééééééééééééé"), Some(&key)).unwrap();
        assert!(why.contains("signed by another key"), "{why}");
        let ours = hex::encode(key.to_bytes());
        assert!(super::key_problem(Some(&ours.to_uppercase()), Some(&key)).is_none());
        assert!(super::key_problem(None, None).is_none());
        assert!(super::key_problem(Some(&ours), None).is_some());
    }
}

#[cfg(test)]
mod damage_tests {
    use super::AuditError;

    #[test]
    fn damage_names_a_byte_in_a_segment_and_only_the_sequence_in_a_table() {
        let at = |segment: &str| {
            AuditError::Damaged {
                segment: segment.to_string(),
                offset: 0,
                sequence: 7,
                reason: "bad".to_string(),
            }
            .to_string()
        };
        assert_eq!(
            at("seg-00000000000000000001-20250309.bcj"),
            "audit journal damaged in seg-00000000000000000001-20250309.bcj at byte 0 (sequence 7): bad"
        );
        assert_eq!(
            at("bcss.records"),
            "audit journal damaged in table bcss.records (sequence 7): bad"
        );
    }
}
