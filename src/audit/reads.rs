//! Reading personal data is accountable: who read what about whom, when.
//!
//! A file journal's reads are recorded in its *reads chain*, `DIR/reads/`: a file journal of
//! its own (same format, chain, signatures and witness), whose lock is held only for the
//! time of one append. So a security advisor's read is journaled, durably, before anything
//! is shown, also while an application holds the journal itself open for writing (its lock
//! held for hours): the two never wait for each other.
//!
//! Why a side chain rather than a pending-read file the writer ingests: a read must be
//! durable and tamper-evident at once, before anything is shown; a pending file would sit
//! outside any chain (deletable without a trace) until a writer ingested it, and a
//! journal no process writes would never ingest it. The reads chain is tied to its
//! journal both ways a verifier can check: each read names the journal's id and the head
//! it covered (`SEQUENCE:HEX`), which [`verify`](super::verify()) finds in the journal's
//! own chain (so a journal rewritten or cut after it was read is detected), and it is
//! signed and witnessed like the journal when a key and a witness are configured.

use std::path::Path;

use uuid::Uuid;

use super::index::key::Kind;
use super::index::store::Snapshot;
use super::query::filter::digits;
use super::query::not_there;
use super::readback::{ReadError, Reader};
use super::scan::{list_segments, read_header};
use super::walk::{Start, walk, walk_listed};
use super::{
    Appended, AuditError, CallRecord, FileJournal, FileJournalConfig, Journal, QueryFilter,
    QueryPlan, ReadRecord, Record,
};

/// The reads chain's folder inside a journal directory.
pub const READS_DIR: &str = "reads";

/// The id of the journal in `dir` (from a segment header); an error when `dir` holds no
/// journal.
pub(crate) fn journal_id(dir: &Path) -> Result<Uuid, AuditError> {
    let segments = list_segments(dir)?;
    let last = segments
        .last()
        .ok_or_else(|| AuditError::Config(format!("{} holds no journal", dir.display())))?;
    Ok(read_header(last)?.journal_id)
}

/// Record `read` of the journal `journal` describes in its reads chain (created when
/// missing), with the journal's signing key and witness, waiting up to its `lock_wait`
/// for another reader; resolves once the read is durable. The read's `journal_id` is set.
///
/// A checkpoint (signed, witnessed) follows the read when a key or a witness is
/// configured. Fails with [`AuditError::Config`] when the directory holds no journal, and
/// as [`FileJournal::open`] and [`Journal::append`] do.
pub async fn record_read(
    journal: &FileJournalConfig,
    mut read: ReadRecord,
) -> Result<Appended, AuditError> {
    let parent = journal_id(&journal.dir)?;
    let (witnessed, signed_by) = anchors(&journal.dir)?;
    // A reads chain of a signed journal is signed with its key, from its first read: an
    // unsigned one would fail verify with the journal's public key.
    let key = match &journal.signing_key {
        Some(path) => Some(super::load_signing_key(path)?.verifying_key()),
        None => None,
    };
    if let Some(why) = super::key_problem(signed_by.as_deref(), key.as_ref()) {
        return Err(AuditError::Config(format!(
            "audit journal at {}: {why}",
            journal.dir.display()
        )));
    }
    if journal.witness.is_none() && witnessed {
        return Err(AuditError::WitnessMismatch {
            dir: journal.dir.display().to_string(),
            reason: "this journal has a witness (its last checkpoint, or its genesis record, was recorded in one) but none was given: give it ([journal] witness, or --witness FILE); the reads chain's checkpoints would not be in the witness, and verify would report them as forged".to_string(),
        });
    }
    read.journal_id = Some(parent);
    let reads = FileJournal::open(reads_config(journal, parent)).await?;
    let appended = reads.append(CallRecord::Read(read)).await;
    let closed = reads.close().await;
    let appended = appended?;
    closed?;
    Ok(appended)
}

/// The reads chain's configuration: the journal's key, witness, lock wait and clock; no
/// index; a checkpoint at close when anchored.
fn reads_config(journal: &FileJournalConfig, parent: Uuid) -> FileJournalConfig {
    let mut config = FileJournalConfig::new(journal.dir.join(READS_DIR));
    config.signing_key = journal.signing_key.clone();
    config.witness = journal.witness.clone();
    config.lock_wait = journal.lock_wait;
    config.clock = journal.clock;
    config.index = false;
    config.checkpoint_every = std::time::Duration::ZERO;
    config.checkpoint_on_close = journal.signing_key.is_some() || journal.witness.is_some();
    config.parent = Some(parent);
    config
}

/// Start `journal.witness` on the journal's reads chain too, when it has one (what
/// `bcss audit start-witness DIR` does after starting it on the journal): the chain is
/// opened with [`FileJournalConfig::start_witness`], which writes its `witness_started`
/// checkpoint. `Ok(false)` when there is no reads chain, or the witness already holds its
/// heads. Fails as [`FileJournal::open`] does.
pub async fn start_reads_witness(journal: &FileJournalConfig) -> Result<bool, AuditError> {
    let dir = journal.dir.join(READS_DIR);
    if !dir.is_dir() || list_segments(&dir)?.is_empty() {
        return Ok(false);
    }
    let mut config = reads_config(journal, journal_id(&journal.dir)?);
    config.start_witness = true;
    let reads = FileJournal::open(config).await?;
    let started = reads.witness_started();
    reads.close().await?;
    Ok(started)
}

/// Whether the journal in `dir` says it has a witness, and the public key (hex) it says
/// it is signed with: the checkpoint its locator names (`head.json`), else its genesis
/// record.
fn anchors(dir: &Path) -> Result<(bool, Option<String>), AuditError> {
    if let Ok(loc) = super::locator::read(dir)
        && let Ok(frame) = super::scan::read_frame_at(&dir.join(&loc.segment), loc.offset)
        && let Ok(Record::Checkpoint(c)) = super::codec::decode(frame.body)
    {
        return Ok((c.witnessed, c.public_key));
    }
    let Some(first) = list_segments(dir)?.into_iter().next() else {
        return Ok((false, None));
    };
    let genesis = super::scan::read_frame_at(&first.path, super::format::SEGMENT_HEADER_LEN as u64)
        .ok()
        .and_then(|f| super::codec::decode(f.body).ok());
    Ok(match genesis {
        Some(Record::Genesis(g)) => (g.witnessed, g.public_key),
        _ => (false, None),
    })
}

/// Which chain a read is recorded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadChain {
    /// The reads chain, `reads/` (where `bcss audit` records reads).
    Reads,
    /// The journal itself (an application appended the read there).
    Journal,
}

/// A read, as [`query_reads`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadEntry {
    /// The chain it is in.
    pub chain: ReadChain,
    /// Its sequence number there.
    pub sequence: u64,
    /// The read.
    pub record: ReadRecord,
}

impl QueryFilter {
    /// Whether a read matches: `who` is the reader, `subject` one of the subjects it
    /// showed or an argument it was given, `ticket` an argument, `since` and `until` its
    /// time. The other criteria do not apply to reads.
    pub fn matches_read(&self, read: &ReadRecord) -> bool {
        let argument = |wanted: &str| read.arguments.iter().any(|a| a.contains(wanted));
        self.who.as_ref().is_none_or(|w| *w == read.reader)
            && self.since.is_none_or(|t| read.at >= t)
            && self.until.is_none_or(|t| read.at <= t)
            && self.ticket.is_none_or(|t| argument(&t.to_string()))
            && self.subject.as_ref().is_none_or(|s| {
                let wanted = digits(s);
                read.subjects.iter().any(|x| digits(x) == wanted)
                    || read
                        .arguments
                        .iter()
                        .any(|a| a.starts_with("--subject") && digits(a) == wanted)
            })
    }
}

/// The reads of the journal in `dir` matching `filter` (see
/// [`QueryFilter::matches_read`]): its reads chain's, then those in the journal itself, each
/// in chain order. Records of the journal are found through its index when it can be
/// used (each read back and checked against the chain), else by reading every record;
/// the reads chain is read whole (it holds reads only). Stops at damage in either chain,
/// with [`AuditError::Damaged`].
pub fn query_reads(dir: &Path, filter: &QueryFilter) -> Result<Vec<ReadEntry>, AuditError> {
    query_reads_planned(dir, filter).map(|(reads, _)| reads)
}

/// [`query_reads`], and how the journal's own reads were found: through the index, or
/// by reading every record ([`QueryPlan::Scan`] with the reason the index was not used:
/// missing, or not checking, when a record it leads to is not where it says, say).
pub fn query_reads_planned(
    dir: &Path,
    filter: &QueryFilter,
) -> Result<(Vec<ReadEntry>, QueryPlan), AuditError> {
    let mut out = Vec::new();
    let reads = dir.join(READS_DIR);
    let damaged = |problem: Option<super::Problem>| match problem {
        Some(p) if !p.final_record => Err(p.to_error()),
        _ => Ok(()),
    };
    if reads.is_dir() {
        let end = walk(&reads, Start::First, &mut |v| {
            if let Record::Read(r) = &v.record
                && filter.matches_read(r)
            {
                out.push(ReadEntry {
                    chain: ReadChain::Reads,
                    sequence: v.sequence,
                    record: r.clone(),
                });
            }
            None
        })?;
        damaged(end.problem)?;
    }
    let segments = list_segments(dir)?;
    let mut own = Vec::new();
    let (start, plan) = match Snapshot::open(dir, &segments) {
        Ok(snapshot) => match indexed_reads(&snapshot, &segments, filter, &mut own) {
            Ok(candidates) => (snapshot.tail_start(), Ok((snapshot.through, candidates))),
            Err(IndexedRead::Journal(e)) => return Err(e),
            Err(IndexedRead::Index(reason)) => {
                own.clear();
                (
                    Start::First,
                    Err(format!("the index does not check: {reason}")),
                )
            }
        },
        Err(reason) => (Start::First, Err(reason)),
    };
    let end = walk_listed(segments, start, &mut |v| {
        own_read(filter, v.sequence, &v.record, &mut own);
        None
    })?;
    damaged(end.problem)?;
    let plan = match plan {
        Ok((indexed_through, candidates)) => QueryPlan::Index {
            indexed_through,
            candidates,
            tail_records: end.records,
        },
        Err(reason) => QueryPlan::Scan { reason },
    };
    out.append(&mut own);
    Ok((out, plan))
}

/// Why the reads found through the index could not be listed.
enum IndexedRead {
    /// The index is wrong (a record it leads to is not where it says, a run that does not
    /// read): read every record instead.
    Index(String),
    /// A record the index led to is there and does not check: the journal is damaged.
    Journal(AuditError),
}

/// The reads of the journal itself that the index leads to (up to its last record), each
/// read back and checked; how many records were read.
fn indexed_reads(
    snapshot: &Snapshot,
    segments: &[super::scan::SegmentFile],
    filter: &QueryFilter,
    out: &mut Vec<ReadEntry>,
) -> Result<u64, IndexedRead> {
    let low = vec![Kind::Reader as u8];
    let high = vec![Kind::Reader as u8 + 1];
    let mut reader = Reader::default();
    let sequences = snapshot
        .sequences(&low, &high)
        .map_err(IndexedRead::Index)?;
    let mut candidates = 0;
    for sequence in sequences {
        let Some(loc) = snapshot
            .locate(sequence, segments)
            .map_err(IndexedRead::Index)?
        else {
            continue;
        };
        let record = match reader.read_located(segments, &loc) {
            Ok(record) => record,
            Err(ReadError::NotThere(e)) => return Err(IndexedRead::Index(not_there(sequence, &e))),
            Err(ReadError::Journal(e)) => return Err(IndexedRead::Journal(e)),
        };
        candidates += 1;
        own_read(filter, sequence, &record, out);
    }
    Ok(candidates)
}

/// Add `record` (sequence `sequence` of the journal itself) to `out` when it is a read
/// matching `filter`.
fn own_read(filter: &QueryFilter, sequence: u64, record: &Record, out: &mut Vec<ReadEntry>) {
    if let Record::Read(r) = record
        && filter.matches_read(r)
    {
        out.push(ReadEntry {
            chain: ReadChain::Journal,
            sequence,
            record: r.clone(),
        });
    }
}
