//! Retention: removing whole segments older than both a date and 10 years, leaving an anchor
//! so that what remains still verifies.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use chrono::{DateTime, Months, Utc};
use serde::{Deserialize, Serialize};

use super::AuditError;
use super::format::{PRUNED_FILE, micros_to_time};
use super::scan::read_header;
use super::walk::{Start, walk};

/// How long records are kept at least: 10 years (BCSS's rule).
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
    /// Why pruning stopped where it did (the first segment kept), when segments are left.
    pub kept_because: Option<String>,
}

/// One segment named in the anchors file.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AnchorSegment {
    name: String,
    first_sequence: u64,
    prev_hash: String,
}

/// One line of `pruned.jsonl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AnchorLine {
    pruned_at: DateTime<Utc>,
    cutoff: DateTime<Utc>,
    removed: Vec<AnchorSegment>,
    first_remaining: AnchorSegment,
}

/// The largest anchors file read (each prune adds one line).
const MAX_ANCHORS_BYTES: u64 = 16 * 1024 * 1024;

/// Whether a prune recorded that the chain may start at `(first_sequence, prev_hash)`.
pub(crate) fn is_anchor(
    dir: &Path,
    first_sequence: u64,
    prev_hash: &[u8; 32],
) -> Result<bool, AuditError> {
    let path = dir.join(PRUNED_FILE);
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(AuditError::io(&path, "open", e)),
    };
    let mut text = String::new();
    file.take(MAX_ANCHORS_BYTES)
        .read_to_string(&mut text)
        .map_err(|e| AuditError::io(&path, "read", e))?;
    let wanted = hex::encode(prev_hash);
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let anchor: AnchorLine = serde_json::from_str(line)
            .map_err(|e| AuditError::Decode(format!("{} line {}: {e}", path.display(), n + 1)))?;
        let hit = anchor
            .removed
            .iter()
            .chain(std::iter::once(&anchor.first_remaining))
            .any(|s| s.first_sequence == first_sequence && s.prev_hash == wanted);
        if hit {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Remove the oldest whole segments whose every record is older than both `before` and
/// 10 years, measured from now. See [`prune_at`].
pub fn prune(dir: &Path, before: DateTime<Utc>) -> Result<PruneReport, AuditError> {
    prune_at(dir, before, Utc::now())
}

/// [`prune()`] with the current time given.
///
/// The journal must verify first (a damaged journal is kept whole, as evidence). Only a
/// prefix of segments is removed, never the last segment, and never a segment holding a
/// record (or created) at or after the cut-off. Before removing anything, a line in
/// `pruned.jsonl` records each removed segment's first sequence and previous hash, so that
/// [`verify`](super::verify()) accepts the first remaining segment as the chain's start.
pub fn prune_at(
    dir: &Path,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<PruneReport, AuditError> {
    let ten_years_ago = now
        .checked_sub_months(Months::new(RETENTION_MONTHS))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let cutoff = before.min(ten_years_ago);
    let mut newest: BTreeMap<usize, (i64, u64)> = BTreeMap::new();
    let end = walk(dir, Start::First, &mut |v| {
        let e = newest.entry(v.segment_index).or_insert((i64::MIN, 0));
        e.0 = e.0.max(v.written_at_micros);
        e.1 += 1;
        None
    })?;
    if let Some(problem) = end.problem.as_ref().filter(|p| !p.torn_tail) {
        return Err(problem.to_error());
    }
    let segments = end.segments;
    let mut report = PruneReport {
        cutoff,
        removed: Vec::new(),
        records_removed: 0,
        segments_kept: segments.len(),
        first_remaining_sequence: segments.first().map(|s| s.first_sequence),
        kept_because: None,
    };
    let mut removable = Vec::new();
    for (index, segment) in segments.iter().enumerate() {
        if index + 1 == segments.len() {
            report.kept_because = Some(format!(
                "{} is the last segment, which is never removed",
                segment.name
            ));
            break;
        }
        let header = read_header(segment)?;
        let (newest_micros, records) = newest
            .get(&index)
            .copied()
            .unwrap_or((header.created_at_micros, 0));
        let newest_at = micros_to_time(newest_micros.max(header.created_at_micros));
        if newest_at >= cutoff {
            report.kept_because = Some(format!(
                "{} holds a record written at {}, not before the cut-off {}",
                segment.name,
                newest_at.to_rfc3339(),
                cutoff.to_rfc3339()
            ));
            break;
        }
        removable.push((segment.clone(), header));
        report.records_removed += records;
    }
    if removable.is_empty() {
        report.records_removed = 0;
        return Ok(report);
    }
    let first_remaining = &segments[removable.len()];
    let remaining_header = read_header(first_remaining)?;
    let line = AnchorLine {
        pruned_at: now,
        cutoff,
        removed: removable
            .iter()
            .map(|(s, h)| AnchorSegment {
                name: s.name.clone(),
                first_sequence: h.first_sequence,
                prev_hash: hex::encode(h.prev_hash),
            })
            .collect(),
        first_remaining: AnchorSegment {
            name: first_remaining.name.clone(),
            first_sequence: remaining_header.first_sequence,
            prev_hash: hex::encode(remaining_header.prev_hash),
        },
    };
    let mut json =
        serde_json::to_vec(&line).map_err(|e| AuditError::Encode(format!("prune anchor: {e}")))?;
    json.push(b'\n');
    let anchors = dir.join(PRUNED_FILE);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(&anchors)
        .map_err(|e| AuditError::io(&anchors, "open", e))?;
    file.write_all(&json)
        .map_err(|e| AuditError::io(&anchors, "write", e))?;
    file.sync_all()
        .map_err(|e| AuditError::io(&anchors, "fsync", e))?;
    sync_dir(dir)?;
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
