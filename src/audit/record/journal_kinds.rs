//! The records only the journal writes: genesis, checkpoints, truncations and prunes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The first record of every journal (sequence 1). Signed with Ed25519 when the journal has
/// a signing key, over `bcss-journal-genesis-v1\0 || journal_id (16 bytes) || at
/// (microseconds since the epoch, 8 bytes big-endian)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisRecord {
    /// When the journal was created.
    pub at: DateTime<Utc>,
    /// The journal's identity, named by every checkpoint, prune and witnessed head.
    pub journal_id: Uuid,
    /// The Ed25519 public key that signed it, hex (absent when unsigned).
    #[serde(default)]
    pub public_key: Option<String>,
    /// The signature, hex (absent when unsigned).
    #[serde(default)]
    pub signature: Option<String>,
    /// The journal was created with a witness: a writer given none refuses to open it
    /// (the checkpoints it would write are not in the witness, so verify would call them
    /// forged).
    #[serde(default)]
    pub witnessed: bool,
}

/// The journal's head at one point, written every N records or minutes and at clean
/// shutdown, and recorded in the witness. Signed with Ed25519 when the configuration
/// provides a key, over `bcss-journal-checkpoint-v2\0 || journal_id (16 bytes) || sequence
/// (8 bytes big-endian) || head (32 bytes)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointRecord {
    /// When the checkpoint was written.
    pub at: DateTime<Utc>,
    /// The journal (its genesis record's id).
    pub journal_id: Uuid,
    /// The sequence number of the last record it covers (the record just before it).
    pub sequence: u64,
    /// The chain hash after that record, lowercase hex.
    pub head: String,
    /// Why it was written: `records`, `interval`, `shutdown`, `manual` or `prune`.
    pub reason: String,
    /// The Ed25519 public key that signed it, hex (absent when unsigned).
    #[serde(default)]
    pub public_key: Option<String>,
    /// The signature, hex (absent when unsigned).
    #[serde(default)]
    pub signature: Option<String>,
    /// Its head was recorded in the journal's witness first. A writer given no witness
    /// refuses to open a journal whose last checkpoint says so (its own checkpoints would
    /// not be in the witness, so verify would call them forged).
    #[serde(default)]
    pub witnessed: bool,
}

/// What opening the journal cut off the end of its last segment: an incomplete final
/// record left by an interrupted write (`torn`), or a complete final record that does not
/// check (`damaged`). The bytes cut are kept in a quarantine file first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruncationRecord {
    /// When the truncation was done.
    pub at: DateTime<Utc>,
    /// The segment file that was cut.
    pub segment: String,
    /// The byte offset it was cut at (its new length).
    pub offset: u64,
    /// How many bytes were cut.
    pub bytes_cut: u64,
    /// SHA-256 of the bytes cut (and of the quarantine file), hex.
    pub cut_sha256: String,
    /// The sequence number the cut bytes would have had.
    pub sequence: u64,
    /// What was wrong with them.
    pub reason: String,
    /// `torn` (fewer bytes than the record's header announces, a partial header, or
    /// unwritten zeros) or `damaged` (anything else wrong with a final record).
    #[serde(default)]
    pub kind: String,
    /// The quarantine file holding the bytes cut, relative to the journal directory
    /// (`quarantine/<segment>-<offset>.bin`).
    #[serde(default)]
    pub quarantine: Option<String>,
    /// The sequence number and chain hash (`SEQUENCE:HEX`) the cut bytes give when read as
    /// one record chained from the record before them, whatever their checksums say: when
    /// a witness recorded that head, the cut record is the witnessed one, kept whole in
    /// quarantine (so opening and `verify` accept the truncation instead of reporting
    /// records removed from the end). Absent when the bytes do not hold a whole record.
    #[serde(default)]
    pub cut_head: Option<String>,
}

/// One segment a prune removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrunedSegment {
    /// Its file name.
    pub name: String,
    /// Its first sequence number.
    pub first_sequence: u64,
    /// The chain hash its first record chained from (its header's previous hash), hex.
    pub prev_hash: String,
}

/// Old segments were removed (written before they are). `verify` accepts a journal whose
/// oldest records are gone only when such a record attests exactly that range and the
/// 10-year rule holds against the prune record's own write time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneRecord {
    /// When the prune was decided.
    pub at: DateTime<Utc>,
    /// The journal (its genesis record's id).
    pub journal_id: Uuid,
    /// The cut-off: the earlier of the date asked for and 10 years before `at`.
    pub cutoff: DateTime<Utc>,
    /// The segments removed, oldest first.
    pub segments: Vec<PrunedSegment>,
    /// The first sequence number removed.
    pub first_sequence: u64,
    /// The last sequence number removed.
    pub last_sequence: u64,
    /// The chain hash after the last record removed (the first remaining segment's
    /// previous hash), hex.
    pub last_hash: String,
    /// The write time of the oldest record removed.
    pub oldest_at: DateTime<Utc>,
    /// The write time of the newest record removed (and the newest segment creation time).
    pub newest_at: DateTime<Utc>,
    /// How long records are kept at least, in months (120: BCSS's 10 years).
    pub retention_months: u32,
}
