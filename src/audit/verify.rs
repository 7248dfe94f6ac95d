//! Verifying a journal: framing, checksums, the chain across segments, checkpoints and their
//! signatures, and that the journal still extends a head trusted from elsewhere.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use ed25519_dalek::VerifyingKey;
use uuid::Uuid;

use super::walk::{Start, walk};
use super::{AuditError, Head, Record, checkpoint};

/// The first thing wrong with a journal, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The segment file's name.
    pub segment: String,
    /// The byte offset in that segment of the bad record (or header).
    pub offset: u64,
    /// The sequence number of the bad record, or the one expected there.
    pub sequence: u64,
    /// What is wrong.
    pub reason: String,
    /// The problem is an incomplete final record left by an interrupted write: opening the
    /// journal for writing cuts it off and records the truncation.
    pub torn_tail: bool,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "segment {} at byte {} (sequence {}): {}",
            self.segment, self.offset, self.sequence, self.reason
        )
    }
}

impl Problem {
    /// The problem as an [`AuditError::Damaged`].
    pub fn to_error(&self) -> AuditError {
        AuditError::Damaged {
            segment: self.segment.clone(),
            offset: self.offset,
            sequence: self.sequence,
            reason: self.reason.clone(),
        }
    }
}

/// A head stored outside the journal (from `bcss audit checkpoint`): verify proves the
/// journal still extends it.
///
/// ```
/// use bcss::audit::TrustedHead;
/// let hex = "ab".repeat(32);
/// let head: TrustedHead = format!("12:{hex}").parse().unwrap();
/// assert_eq!(head.sequence, Some(12));
/// let anywhere: TrustedHead = hex.parse().unwrap();
/// assert_eq!(anywhere.sequence, None);
/// assert!("12:zz".parse::<TrustedHead>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedHead {
    /// The sequence number, when known; without it the hash may match any record.
    pub sequence: Option<u64>,
    /// The chain hash after that record.
    pub hash: [u8; 32],
}

impl From<Head> for TrustedHead {
    fn from(head: Head) -> Self {
        TrustedHead {
            sequence: Some(head.sequence),
            hash: head.hash,
        }
    }
}

impl FromStr for TrustedHead {
    type Err = AuditError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            AuditError::Decode(format!(
                "trusted head {s:?} is not SEQUENCE:HEX or HEX (64 hex digits)"
            ))
        };
        let (sequence, hash) = match s.trim().split_once(':') {
            Some((seq, hash)) => (Some(seq.parse::<u64>().map_err(|_| bad())?), hash),
            None => (None, s.trim()),
        };
        let hash: [u8; 32] = hex::decode(hash)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(bad)?;
        Ok(TrustedHead { sequence, hash })
    }
}

/// An intent with no outcome: the process stopped (or the outcome could not be written)
/// between sending and recording the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingIntent {
    /// The intent record's sequence number.
    pub sequence: u64,
    /// Its ticket.
    pub ticket: Uuid,
}

/// What [`verify()`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Good records, before any problem.
    pub records: u64,
    /// Segment files present.
    pub segments: usize,
    /// The first record's sequence number (1, or later after a prune).
    pub first_sequence: Option<u64>,
    /// The chain starts at this sequence thanks to a prune anchor.
    pub anchored_at: Option<u64>,
    /// The last good record.
    pub head: Option<Head>,
    /// Checkpoint records seen.
    pub checkpoints: u64,
    /// Checkpoints whose signature was checked against the given public key.
    pub signed_checkpoints: u64,
    /// The sequence number of the last checkpoint whose signature was checked.
    pub last_signed_checkpoint: Option<u64>,
    /// The trusted head was found in the chain.
    pub trusted_head_confirmed: bool,
    /// Truncation records seen (crash recoveries).
    pub truncations: u64,
    /// Intents without an outcome, in journal order.
    pub intents_without_outcome: Vec<PendingIntent>,
    /// The first problem; `None` when the journal verifies.
    pub problem: Option<Problem>,
}

impl VerifyReport {
    /// Whether the journal verified without any problem.
    pub fn is_ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// Verify the journal in `dir`: every segment header and frame, every CRC32C, the SHA-256
/// chain across segments, every checkpoint's head, and
/// - with `public_key`: every checkpoint's signature (checkpoints after the first signed
///   one must all be signed, and at least one must be);
/// - with `trusted`: that the chain still passes through the trusted head.
///
/// `Err` only for I/O failures; damage is reported in [`VerifyReport::problem`], at the
/// first bad record.
pub fn verify(
    dir: &Path,
    trusted: Option<&TrustedHead>,
    public_key: Option<&VerifyingKey>,
) -> Result<VerifyReport, AuditError> {
    let mut checkpoints = 0u64;
    let mut signed = 0u64;
    let mut last_signed = None;
    let mut truncations = 0u64;
    let mut confirmed = false;
    let mut pending: HashMap<Uuid, u64> = HashMap::new();
    let mut visit = |v: &super::walk::Visit| -> Option<String> {
        if let Some(t) = trusted {
            let at_sequence = t.sequence.is_none_or(|s| s == v.sequence);
            if at_sequence && v.hash == t.hash {
                confirmed = true;
            } else if t.sequence == Some(v.sequence) {
                return Some(format!(
                    "the chain hash after this record is {}, not the trusted head's {}: the journal was rewritten at or before this record",
                    hex::encode(v.hash),
                    hex::encode(t.hash)
                ));
            }
        }
        match &v.record {
            Record::Intent(r) => {
                pending.insert(r.ticket, v.sequence);
            }
            Record::Outcome(r) => {
                pending.remove(&r.ticket);
            }
            Record::Truncation(_) => truncations += 1,
            Record::Checkpoint(c) => {
                checkpoints += 1;
                let expected = v.sequence.saturating_sub(1);
                if c.sequence != expected || !c.head.eq_ignore_ascii_case(&hex::encode(v.prev_hash))
                {
                    return Some(format!(
                        "the checkpoint claims head {}:{} but the chain has {}:{} there",
                        c.sequence,
                        c.head,
                        expected,
                        hex::encode(v.prev_hash)
                    ));
                }
                if let Some(key) = public_key {
                    match checkpoint::check(c, key) {
                        Ok(true) => {
                            signed += 1;
                            last_signed = Some(v.sequence);
                        }
                        Ok(false) if signed > 0 => {
                            return Some(
                                "the checkpoint is not signed, but earlier ones are: its signature was stripped".to_string(),
                            );
                        }
                        Ok(false) => {}
                        Err(reason) => return Some(reason),
                    }
                }
            }
            Record::Denial(_) | Record::Read(_) => {}
        }
        None
    };
    let end = walk(dir, Start::First, &mut visit)?;
    let mut problem = end.problem;
    let end_position = |reason: String| match &end.last {
        Some(last) => Problem {
            segment: last.file.name.clone(),
            offset: last.valid_len,
            sequence: end.next_sequence,
            reason,
            torn_tail: false,
        },
        None => Problem {
            segment: "(none)".to_string(),
            offset: 0,
            sequence: end.next_sequence,
            reason,
            torn_tail: false,
        },
    };
    if let Some(t) = trusted
        && problem.is_none()
        && !confirmed
    {
        let reason = match (t.sequence, end.first_sequence) {
            (Some(s), Some(first)) if s < first => format!(
                "the trusted head {s} precedes the first remaining record ({first}): it cannot be confirmed"
            ),
            (Some(s), _) => format!(
                "the journal ends at sequence {} before the trusted head {s}: records were removed from its end",
                end.next_sequence.saturating_sub(1)
            ),
            (None, _) => {
                "the trusted head's hash occurs nowhere in the chain: the journal was rewritten"
                    .to_string()
            }
        };
        problem = Some(end_position(reason));
    }
    if problem.is_none() && public_key.is_some() && signed == 0 {
        problem = Some(end_position(
            "a public key was given but no checkpoint is signed by it".to_string(),
        ));
    }
    let mut intents_without_outcome: Vec<PendingIntent> = pending
        .into_iter()
        .map(|(ticket, sequence)| PendingIntent { sequence, ticket })
        .collect();
    intents_without_outcome.sort_by_key(|p| p.sequence);
    Ok(VerifyReport {
        records: end.records,
        segments: end.segments.len(),
        first_sequence: end.first_sequence,
        anchored_at: end.anchored_at,
        head: end.head,
        checkpoints,
        signed_checkpoints: signed,
        last_signed_checkpoint: last_signed,
        trusted_head_confirmed: confirmed,
        truncations,
        intents_without_outcome,
        problem,
    })
}
