//! Retention: removing whole segments older than both a date and 10 years. The removal is
//! itself a record in the chain (what was removed, its range and hashes, the 10-year
//! check), followed by a signed checkpoint recorded in the witness, written before any
//! segment is removed; `verify` accepts a journal whose oldest records are gone only when
//! such a record attests it.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Months, Utc};

use super::format::micros_to_time;
use super::progress::{Progress, segments_bytes};
use super::scan::{list_segments, read_header};
use super::walk::{Start, walk};
use super::{
    AuditError, FileJournal, FileJournalConfig, PruneRecord, PrunedSegment, Record, codec,
};

/// How long records are kept at least, in months: 10 years (BCSS's rule).
pub const RETENTION_MONTHS: u32 = 120;

/// What [`prune()`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneReport {
    /// The effective cut-off: the earlier of `before` and 10 years before now.
    pub cutoff: DateTime<Utc>,
    /// The segment files removed, oldest first.
    pub removed: Vec<String>,
    /// The records they held.
    pub records_removed: u64,
    /// The segment files left.
    pub segments_kept: usize,
    /// The first sequence number left.
    pub first_remaining_sequence: Option<u64>,
    /// The sequence number of the prune record, when segments were removed.
    pub prune_record: Option<u64>,
    /// Why pruning stopped where it did (the first segment kept), when segments are left.
    pub kept_because: Option<String>,
}

/// Open the journal described by `config` (its signing key and witness sign and witness
/// the prune's checkpoint), remove the oldest whole segments whose every record is older
/// than both `before` and 10 years, and close it. See [`FileJournal::prune`].
pub async fn prune(
    config: FileJournalConfig,
    before: DateTime<Utc>,
) -> Result<PruneReport, AuditError> {
    prune_at(config, before, Utc::now()).await
}

/// [`prune()`] with the current time given.
pub async fn prune_at(
    config: FileJournalConfig,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<PruneReport, AuditError> {
    prune_with_progress(config, before, now, None).await
}

/// [`prune_at()`], telling `progress` how far reading the journal (before anything is
/// removed) has gone.
pub async fn prune_with_progress(
    config: FileJournalConfig,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
    progress: Option<&dyn Progress>,
) -> Result<PruneReport, AuditError> {
    let journal = FileJournal::open(config).await?;
    let report = prune_reading(&journal, before, now, progress).await;
    let closed = journal.close().await;
    let report = report?;
    closed?;
    Ok(report)
}

/// Prune a journal open for writing. The chain must check first (a damaged journal is kept
/// whole, as evidence). Only a prefix of segments is removed, never the last segment, and
/// never a segment holding a record (or created) at or after the cut-off. The prune record
/// and the checkpoint after it are durable (and witnessed) before anything is removed.
pub(crate) async fn prune_open(
    journal: &FileJournal,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<PruneReport, AuditError> {
    prune_reading(journal, before, now, None).await
}

async fn prune_reading(
    journal: &FileJournal,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
    progress: Option<&dyn Progress>,
) -> Result<PruneReport, AuditError> {
    let dir = journal.dir();
    let ten_years_ago = now
        .checked_sub_months(Months::new(RETENTION_MONTHS))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let cutoff = before.min(ten_years_ago);
    // Per segment: the oldest and newest write time, and the record count.
    let mut seen: BTreeMap<usize, (i64, i64, u64)> = BTreeMap::new();
    if let Some(p) = progress {
        p.start("prune", Some(segments_bytes(&list_segments(dir)?)));
    }
    let end = walk(dir, Start::First, &mut |v| {
        if let Some(p) = progress {
            p.advance(1, v.len);
        }
        let e = seen.entry(v.at.segment).or_insert((i64::MAX, i64::MIN, 0));
        e.0 = e.0.min(v.written_at_micros);
        e.1 = e.1.max(v.written_at_micros);
        e.2 += 1;
        None
    })?;
    if let Some(p) = progress {
        p.finish();
    }
    let segments = end.segments.clone();
    if let Some(problem) = &end.problem {
        // The writer may be appending to the last segment while it is read.
        let in_last = segments.last().is_some_and(|s| s.name == problem.segment);
        if !(in_last && problem.final_record) {
            return Err(problem.to_error());
        }
    }
    let mut report = PruneReport {
        cutoff,
        removed: Vec::new(),
        records_removed: 0,
        segments_kept: segments.len(),
        first_remaining_sequence: segments.first().map(|s| s.first_sequence),
        prune_record: None,
        kept_because: None,
    };
    let mut removable = Vec::new();
    let (mut oldest, mut newest) = (i64::MAX, i64::MIN);
    for (index, segment) in segments.iter().enumerate() {
        if index + 1 == segments.len() {
            report.kept_because = Some(format!(
                "{} is the last segment, which is never removed",
                segment.name
            ));
            break;
        }
        let header = read_header(segment)?;
        let (first_at, last_at, records) = seen.get(&index).copied().unwrap_or((
            header.created_at_micros,
            header.created_at_micros,
            0,
        ));
        let newest_at = micros_to_time(last_at.max(header.created_at_micros));
        if newest_at >= cutoff {
            report.kept_because = Some(format!(
                "{} holds a record written at {}, not before the cut-off {}",
                segment.name,
                newest_at.to_rfc3339(),
                cutoff.to_rfc3339()
            ));
            break;
        }
        oldest = oldest.min(first_at.min(header.created_at_micros));
        newest = newest.max(last_at.max(header.created_at_micros));
        removable.push((segment.clone(), header));
        report.records_removed += records;
    }
    let (Some((first_removed, first_header)), Some(first_remaining)) =
        (removable.first(), segments.get(removable.len()))
    else {
        report.records_removed = 0;
        return Ok(report);
    };
    let remaining_header = read_header(first_remaining)?;
    let record = PruneRecord {
        at: now,
        journal_id: journal.journal_id(),
        cutoff,
        segments: removable
            .iter()
            .map(|(s, h)| PrunedSegment {
                name: s.name.clone(),
                first_sequence: h.first_sequence,
                prev_hash: hex::encode(h.prev_hash),
            })
            .collect(),
        first_sequence: first_header
            .first_sequence
            .max(first_removed.first_sequence),
        last_sequence: remaining_header.first_sequence.saturating_sub(1),
        last_hash: hex::encode(remaining_header.prev_hash),
        oldest_at: micros_to_time(oldest),
        newest_at: micros_to_time(newest),
        retention_months: RETENTION_MONTHS,
    };
    let prune_sequence = journal
        .append_prune(codec::encode(&Record::Prune(record))?)
        .await?
        .sequence
        .saturating_sub(1);
    report.prune_record = Some(prune_sequence);
    for (segment, _) in &removable {
        std::fs::remove_file(&segment.path)
            .map_err(|e| AuditError::io(&segment.path, "remove", e))?;
        report.removed.push(segment.name.clone());
    }
    sync_dir(dir)?;
    report.segments_kept = segments.len() - removable.len();
    report.first_remaining_sequence = Some(remaining_header.first_sequence);
    Ok(report)
}

/// fsync a directory, so that created, renamed and removed entries are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), AuditError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| AuditError::io(dir, "fsync directory", e))
}
