//! Verifying a journal: framing, checksums, the chain across segments, the genesis
//! record, checkpoints and their signatures, prunes and the 10-year rule, quarantined
//! bytes, and the anchors kept outside the journal (a witness, a trusted head).
//!
//! The checks beyond the file format are in `check`, written over records in order so
//! that every backend shares them.

mod check;
mod reads;

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use ed25519_dalek::VerifyingKey;
use uuid::Uuid;

use super::format::QUARANTINE_DIR;
use super::quarantine::{claimed_cut_head, quarantine_path, recomputed_head};
use super::walk::{Location, Start, Visit, walk};
use super::{AuditError, Head, Witness};
pub(crate) use check::Checker;

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
    /// The problem is an incomplete final record left by an interrupted write.
    pub torn_tail: bool,
    /// The problem is the journal's final record (torn, or complete but damaged): opening
    /// the journal for writing moves its bytes to quarantine, cuts it off and records the
    /// truncation. Damage anywhere else refuses to open.
    pub final_record: bool,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segment.ends_with(super::TABLE_SUFFIX) {
            return write!(
                f,
                "table {} (sequence {}): {}",
                self.segment, self.sequence, self.reason
            );
        }
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

/// What [`verify()`] checks against, beside the journal itself.
///
/// Without a witness (holding heads of this journal) or a trusted head, the journal is
/// *unanchored*: everything inside it is checked, but a cut at a record boundary, deleted
/// trailing segments, a journal replaced by a fresh one, and records edited, added or
/// pruned with the chain recomputed after them (after the last signed checkpoint, with a
/// public key) cannot be detected ([`VerifyReport::unanchored`]).
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// A head stored elsewhere that the journal must still pass through.
    pub trusted_head: Option<TrustedHead>,
    /// The Ed25519 public key of the journal's signing key: every signature is checked,
    /// and at least one anchor (the genesis record or a checkpoint) must be signed.
    pub public_key: Option<VerifyingKey>,
    /// The journal's witness: every head it recorded must be in the chain, every
    /// checkpoint after its first head must be in it, and a prune must be covered by it.
    pub witness: Option<Arc<dyn Witness>>,
    /// Fail ([`VerifyReport::problem`]) when the journal is unanchored.
    pub require_anchor: bool,
    /// The time write times are checked against (default: the system clock): a record
    /// written more than an hour after it fails, as forged or written with a wrong clock.
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// The fingerprints ([`crate::keys::fingerprint`], `SHA256:…`) of the keys allowed to
    /// sign the authorisation manifest. When not empty, every decision (denial, intent)
    /// taken under a manifest that none of them signed (unsigned, signed by another key,
    /// or not named) is listed in [`VerifyReport::unapproved_decisions`].
    pub manifest_signers: Vec<String>,
    /// Told how far verification has gone (records and bytes), when given.
    pub progress: Option<Arc<dyn super::Progress>>,
}

/// A decision taken under a manifest that none of the [`VerifyOptions::manifest_signers`]
/// signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnapprovedDecision {
    /// The decision record's sequence number.
    pub sequence: u64,
    /// `denial` or `intent`.
    pub kind: &'static str,
    /// The call's ticket.
    pub ticket: Uuid,
    /// The manifest the record names (`None`: the record names none).
    pub manifest: Option<crate::audit::ManifestRef>,
}

/// A quarantine file, as verify found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    /// Its path relative to the journal directory.
    pub file: String,
    /// Its length in bytes.
    pub bytes: u64,
    /// The sequence number of the truncation record that names it, if one does (a crash
    /// between quarantining and recording the truncation leaves it unnamed).
    pub truncation: Option<u64>,
    /// `torn` or `damaged`, from the truncation record.
    pub kind: Option<String>,
    /// The head the witness recorded for the cut record, when the quarantined bytes are
    /// that very record (a witnessed final record whose checksum was damaged): the cut
    /// removed nothing the witness saw.
    pub witnessed_head: Option<Head>,
    /// Verification walked the whole chain, so a file with no `truncation` is named by no
    /// truncation record; `false` when it stopped at a problem before the end (the record
    /// naming the file may come after it).
    pub reached: bool,
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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Good records, before any problem.
    pub records: u64,
    /// Segment files present.
    pub segments: usize,
    /// The journal's id (from its segment headers).
    pub journal_id: Option<Uuid>,
    /// The first record's sequence number (1, or later after a prune).
    pub first_sequence: Option<u64>,
    /// The chain starts at this sequence, records before it removed by a prune.
    pub anchored_at: Option<u64>,
    /// The sequence number of the prune record attesting that removal.
    pub attested_by_prune: Option<u64>,
    /// The last good record.
    pub head: Option<Head>,
    /// The genesis record was signed by the given public key.
    pub genesis_signed: bool,
    /// Checkpoint records seen.
    pub checkpoints: u64,
    /// Checkpoints whose signature was checked against the given public key.
    pub signed_checkpoints: u64,
    /// The sequence number of the last checkpoint whose signature was checked.
    pub last_signed_checkpoint: Option<u64>,
    /// The trusted head was found in the chain.
    pub trusted_head_confirmed: bool,
    /// Heads of the witness found in the chain.
    pub witnessed_heads_confirmed: u64,
    /// The last of them.
    pub last_witnessed_head: Option<Head>,
    /// The first of them: records before it are anchored by the chain alone (a witness
    /// started late, by `start-witness`, or its first heads pruned).
    pub first_witnessed_head: Option<Head>,
    /// Why the journal is not anchored, when it is not: then a cut at a record boundary,
    /// deleted trailing segments, a replaced journal, and records edited, added or pruned
    /// with the chain recomputed after them (after the last signed checkpoint, with a
    /// public key) cannot be detected.
    pub unanchored: Option<String>,
    /// Prune records seen.
    pub prunes: u64,
    /// Truncation records seen (crash recoveries).
    pub truncations: u64,
    /// The quarantine files (bytes cut off the journal's end, kept).
    pub quarantined: Vec<Quarantined>,
    /// Intents without an outcome, in journal order.
    pub intents_without_outcome: Vec<PendingIntent>,
    /// With [`VerifyOptions::manifest_signers`]: the decisions taken under a manifest none
    /// of those keys signed, in journal order (the journal may verify all the same).
    pub unapproved_decisions: Vec<UnapprovedDecision>,
    /// The journal's reads chain (`reads/`), when it has one: verified with the same
    /// options, and each read's claim (the journal's id and the head it covered) checked
    /// against this journal's chain; a claim that does not hold is the reads report's
    /// problem. When `reads/` is missing (or holds no segment) but the witness recorded
    /// heads of a reads chain, a report with no segment and that problem: the reads
    /// chain was deleted. `None` when there is no reads chain and nothing says there was.
    pub reads: Option<Box<VerifyReport>>,
    /// The first problem; `None` when the journal verifies.
    pub problem: Option<Problem>,
}

impl VerifyReport {
    /// Whether the journal, and its reads chain when it has one, verified without any
    /// problem.
    pub fn is_ok(&self) -> bool {
        self.problem.is_none() && self.reads.as_ref().is_none_or(|r| r.is_ok())
    }
}

/// Verify the journal in `dir`: every segment header and frame, every CRC32C, the SHA-256
/// chain across segments, the genesis record, every checkpoint's head, every prune (a
/// missing prefix must be attested by one, under the 10-year rule), every quarantine file
/// against its truncation record, and with `options` the signatures, the witness's heads
/// and a trusted head (see [`VerifyOptions`]).
///
/// `Err` only when the journal or the witness cannot be read; damage is reported in
/// [`VerifyReport::problem`], at the first bad record.
///
/// ```
/// use bcss::audit::{VerifyOptions, verify};
/// # let dir = tempfile::tempdir()?;
/// let report = verify(dir.path(), &VerifyOptions::default())?;
/// assert!(report.is_ok());
/// assert_eq!(report.unanchored.as_deref(), Some("no witness and no trusted head"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn verify(dir: &Path, options: &VerifyOptions) -> Result<VerifyReport, AuditError> {
    reads::verify_with_reads(dir, options)
}

/// Verify one chain (a journal, or its reads chain); `extra` sees every record linked and
/// decoded.
pub(crate) fn verify_chain(
    dir: &Path,
    options: &VerifyOptions,
    extra: &mut dyn FnMut(&Visit),
) -> Result<VerifyReport, AuditError> {
    let witness_heads = match &options.witness {
        Some(w) => w.heads()?,
        None => Vec::new(),
    };
    let segments = super::scan::list_segments(dir)?;
    let journal_id = match segments.first() {
        Some(first) => super::scan::read_header(first).ok().map(|h| h.journal_id),
        None => None,
    };
    let mut checker = Checker::new(options, &witness_heads, journal_id.unwrap_or_default());
    let mut started = false;
    let progress = options.progress.as_deref();
    if let Some(p) = progress {
        p.start("verify", Some(super::progress::segments_bytes(&segments)));
    }
    let end = walk(dir, Start::First, &mut |v| {
        if let Some(p) = progress {
            p.advance(1, v.len);
        }
        extra(v);
        if !started {
            started = true;
            let segment_start = Location {
                segment: v.at.segment,
                offset: 0,
            };
            checker.start(segment_start, v.sequence, v.prev_hash);
        }
        checker.record(v).err()
    })?;
    if let Some(p) = progress {
        p.finish();
    }
    if !started && let Some((first, prev)) = end.start {
        checker.start(Location::default(), first, prev);
    }
    let names: Vec<String> = end.segments.iter().map(|s| s.name.clone()).collect();
    let position = |at: Location, sequence: u64, reason: String| Problem {
        segment: names
            .get(at.segment)
            .cloned()
            .unwrap_or_else(|| "(none)".to_string()),
        offset: at.offset,
        sequence,
        reason,
        torn_tail: false,
        final_record: false,
    };
    let mut problem = end.problem.clone();
    let (gathered, found) = checker.finish(end.end, end.chain.next_sequence);
    if problem.is_none()
        && let Some(f) = found
    {
        problem = Some(position(f.at, f.sequence, f.reason));
    }
    if problem.is_none()
        && segments.is_empty()
        && let Some(last) = witness_heads.last()
    {
        problem = Some(position(
            Location::default(),
            1,
            format!(
                "the journal is empty but the witness recorded heads of journal {} (its last {}:{}): the journal was deleted",
                last.journal_id, last.sequence, last.hash
            ),
        ));
    }
    let (quarantined, quarantine_problem) = check_quarantine(
        dir,
        &gathered.truncations,
        &gathered.witnessed_cuts,
        end.problem.is_none(),
    )?;
    if problem.is_none()
        && let Some((at, sequence, reason)) = quarantine_problem
    {
        problem = Some(position(at, sequence, reason));
    }
    if problem.is_none()
        && options.require_anchor
        && let Some(why) = &gathered.unanchored
    {
        problem = Some(position(
            end.end,
            end.chain.next_sequence,
            format!("the journal is not anchored ({why}), and an anchor is required"),
        ));
    }
    Ok(VerifyReport {
        records: end.records,
        segments: end.segments.len(),
        journal_id,
        first_sequence: end.start.map(|(first, _)| first),
        anchored_at: gathered
            .attested_by_prune
            .and(end.start.map(|(first, _)| first)),
        attested_by_prune: gathered.attested_by_prune,
        head: end.head,
        genesis_signed: gathered.genesis_signed,
        checkpoints: gathered.checkpoints,
        signed_checkpoints: gathered.signed_checkpoints,
        last_signed_checkpoint: gathered.last_signed_checkpoint,
        trusted_head_confirmed: gathered.trusted_head_confirmed,
        witnessed_heads_confirmed: gathered.witnessed_heads_confirmed,
        last_witnessed_head: gathered.last_witnessed,
        first_witnessed_head: gathered.first_witnessed,
        unanchored: gathered.unanchored,
        prunes: gathered.prunes,
        truncations: gathered.truncations.len() as u64,
        quarantined,
        intents_without_outcome: gathered.intents_without_outcome,
        unapproved_decisions: gathered.unapproved_decisions,
        reads: None,
        problem,
    })
}

type QuarantineProblem = Option<(Location, u64, String)>;

/// Every quarantine file, each checked against the truncation record naming it (and
/// against the head the record claims for the bytes it cut).
fn check_quarantine(
    dir: &Path,
    truncations: &[check::TruncationSeen],
    witnessed_cuts: &[Head],
    walked_to_end: bool,
) -> Result<(Vec<Quarantined>, QuarantineProblem), AuditError> {
    let mut found = Vec::new();
    let mut problem = None;
    let mut named = std::collections::HashSet::new();
    for seen in truncations {
        let t = &seen.record;
        let Some(file) = &t.quarantine else { continue };
        named.insert(file.clone());
        let checked = match quarantine_path(dir, t) {
            Ok(Some(path)) => check_quarantine_file(&path, seen)?,
            Ok(None) => continue,
            Err(reason) => Err(reason),
        };
        match checked {
            Ok((bytes, cut_head)) => found.push(Quarantined {
                file: file.clone(),
                bytes,
                truncation: Some(seen.sequence),
                kind: Some(t.kind.clone()),
                witnessed_head: cut_head.filter(|h| witnessed_cuts.contains(h)),
                reached: true,
            }),
            Err(reason) => {
                problem.get_or_insert((seen.at, seen.sequence, reason));
            }
        }
    }
    let qdir = dir.join(QUARANTINE_DIR);
    if qdir.is_dir() {
        let entries =
            std::fs::read_dir(&qdir).map_err(|e| AuditError::io(&qdir, "list directory", e))?;
        let mut unnamed = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| AuditError::io(&qdir, "list directory", e))?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            let file = format!("{QUARANTINE_DIR}/{name}");
            if named.contains(&file) || name.ends_with(".tmp") {
                continue;
            }
            let bytes = entry.metadata().map(|m| m.len()).unwrap_or(0);
            unnamed.push(Quarantined {
                file,
                bytes,
                truncation: None,
                kind: None,
                witnessed_head: None,
                reached: walked_to_end,
            });
        }
        unnamed.sort_by(|a, b| a.file.cmp(&b.file));
        found.extend(unnamed);
    }
    Ok((found, problem))
}

/// The file's length and the head its bytes give, when it matches the truncation record
/// (and gives the head the record claims, if it claims one); why not, otherwise.
fn check_quarantine_file(
    path: &Path,
    seen: &check::TruncationSeen,
) -> Result<Result<(u64, Option<Head>), String>, AuditError> {
    let t = &seen.record;
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Err(format!(
                "the quarantine file {} named by this truncation record is missing: the quarantined bytes were deleted",
                path.display()
            )));
        }
        Err(e) => return Err(AuditError::io(path, "read", e)),
    };
    if bytes.len() as u64 != t.bytes_cut
        || !hex::encode(super::chain::sha256(&bytes)).eq_ignore_ascii_case(&t.cut_sha256)
    {
        return Ok(Err(format!(
            "the quarantine file {} ({} bytes) does not match this truncation record ({} bytes, SHA-256 {}): the quarantined bytes were altered",
            path.display(),
            bytes.len(),
            t.bytes_cut,
            t.cut_sha256
        )));
    }
    let head = recomputed_head(&bytes, &seen.prev_hash);
    if let Some(claimed) = claimed_cut_head(t)
        && head != Some(claimed)
    {
        return Ok(Err(format!(
            "the truncation record says the record it cut had head {claimed}, but the quarantine file {} gives {}: the truncation record was forged",
            path.display(),
            head.map_or_else(|| "no whole record".to_string(), |h| h.to_string())
        )));
    }
    Ok(Ok((bytes.len() as u64, head)))
}
