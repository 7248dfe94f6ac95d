//! The index directory's files, and a consistent view of them for a query.
//!
//! - `manifest.json`: the runs in force, oldest first, and how far the index goes
//!   (`through`: the segment, byte offset, sequence number and chain hash of the last
//!   record indexed). Replaced whole (temporary file, fsync, rename), after the files it
//!   names are durable: a reader sees the old index or the new one.
//! - `run-FIRST-LAST-ID.idx`: immutable runs (see [`run`](super::run)) of the keys of
//!   records `FIRST..=LAST`.
//! - `positions.bin`: `BCSSIDXP`, the first sequence number it holds (u64 LE), then each
//!   record's byte offset in its segment (u64 LE), one per sequence number: where a key's
//!   record is, and the record before it (whose stored hash the record chains from).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::key::sequence_of;
use super::run::{RunError, RunReader};
use crate::audit::AuditError;
use crate::audit::chain::Chain;
use crate::audit::format::SEGMENT_HEADER_LEN;
use crate::audit::scan::{SegmentFile, read_frame_at, read_header};
use crate::audit::signing::parse_hash;
use crate::audit::walk::Start;

/// The index's folder inside the journal directory.
pub const INDEX_DIR: &str = "index";
pub(crate) const MANIFEST: &str = "manifest.json";
pub(crate) const POSITIONS: &str = "positions.bin";
const POSITIONS_MAGIC: [u8; 8] = *b"BCSSIDXP";
pub(crate) const POSITIONS_HEADER: u64 = 16;
pub(crate) const FORMAT: u32 = 1;

/// The runs in force and how far they go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Manifest {
    pub format: u32,
    pub journal_id: Uuid,
    pub runs: Vec<RunMeta>,
    pub through: Option<Through>,
}

/// One run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunMeta {
    pub file: String,
    pub first_sequence: u64,
    pub last_sequence: u64,
    pub entries: u64,
}

/// The last record indexed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Through {
    pub segment: String,
    pub offset: u64,
    pub sequence: u64,
    pub hash: String,
}

/// Read `dir/manifest.json`; the reason when it cannot be used.
pub(crate) fn read_manifest(idx: &Path) -> Result<Manifest, String> {
    let path = idx.join(MANIFEST);
    let text = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let manifest: Manifest =
        serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if manifest.format != FORMAT {
        return Err(format!(
            "{}: index format {} (this bcss reads {FORMAT})",
            path.display(),
            manifest.format
        ));
    }
    Ok(manifest)
}

/// Replace `dir/manifest.json`: temporary file, fsync, rename, fsync of the folder.
pub(crate) fn write_manifest(idx: &Path, manifest: &Manifest) -> Result<(), AuditError> {
    let path = idx.join(MANIFEST);
    let tmp = idx.join(format!("{MANIFEST}.tmp"));
    let json = serde_json::to_vec(manifest).map_err(|e| AuditError::Encode(e.to_string()))?;
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| AuditError::io(&tmp, "create", e))?;
    file.write_all(&json)
        .and_then(|()| file.sync_all())
        .map_err(|e| AuditError::io(&tmp, "write", e))?;
    std::fs::rename(&tmp, &path).map_err(|e| AuditError::io(&path, "rename", e))?;
    crate::audit::prune::sync_dir(idx)
}

/// `positions.bin`, for reading.
#[derive(Debug)]
pub(crate) struct Positions {
    file: File,
    pub base: u64,
}

impl Positions {
    pub(crate) fn open(idx: &Path) -> Result<Positions, String> {
        let path = idx.join(POSITIONS);
        let file = File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut h = [0u8; POSITIONS_HEADER as usize];
        file.read_exact_at(&mut h, 0)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if h[0..8] != POSITIONS_MAGIC {
            return Err(format!("{}: not an index positions file", path.display()));
        }
        let mut base = [0u8; 8];
        base.copy_from_slice(&h[8..16]);
        Ok(Positions {
            file,
            base: u64::from_le_bytes(base),
        })
    }

    /// How many sequence numbers it holds.
    pub(crate) fn len(&self) -> Result<u64, String> {
        let len = self.file.metadata().map_err(|e| e.to_string())?.len();
        Ok(len.saturating_sub(POSITIONS_HEADER) / 8)
    }

    /// The byte offset of record `sequence`.
    pub(crate) fn get(&self, sequence: u64) -> Result<u64, String> {
        let index = sequence
            .checked_sub(self.base)
            .ok_or_else(|| format!("sequence {sequence} is before the index's first"))?;
        let mut b = [0u8; 8];
        self.file
            .read_exact_at(&mut b, POSITIONS_HEADER + index * 8)
            .map_err(|e| format!("the position of sequence {sequence}: {e}"))?;
        Ok(u64::from_le_bytes(b))
    }
}

/// Create `positions.bin` starting at `base` (replacing any).
pub(crate) fn create_positions(idx: &Path, base: u64) -> Result<File, AuditError> {
    let path = idx.join(POSITIONS);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| AuditError::io(&path, "create", e))?;
    file.write_all(&POSITIONS_MAGIC)
        .and_then(|()| file.write_all(&base.to_le_bytes()))
        .map_err(|e| AuditError::io(&path, "write", e))?;
    Ok(file)
}

/// Where one record is: its segment (an index in the query's segment list), its byte
/// offset, its sequence number, and the offset of the frame before it in the same segment
/// (`None` for a segment's first frame: its header holds the hash it chains from).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Loc {
    pub segment: usize,
    pub offset: u64,
    pub sequence: u64,
    pub prev: Option<u64>,
}

/// A consistent view of the index for one query.
#[derive(Debug)]
pub(crate) struct Snapshot {
    runs: Vec<RunReader>,
    positions: Positions,
    /// The last record indexed: where the query's own walk starts.
    pub through: u64,
    /// Where that record is: its segment (in the query's list) and byte offset.
    through_at: (usize, u64),
    tail: Start,
}

impl Snapshot {
    /// Open the index of the journal whose segments are `segments`, and check that it
    /// belongs to it and that the last record it indexed is in the chain where it says.
    /// The reason when it cannot be used (the query then reads every record).
    pub(crate) fn open(dir: &Path, segments: &[SegmentFile]) -> Result<Snapshot, String> {
        let idx = dir.join(INDEX_DIR);
        if !idx.is_dir() {
            return Err(format!(
                "no index ({} is missing): run `bcss audit reindex`",
                idx.display()
            ));
        }
        let first = segments.first().ok_or("the journal has no segment")?;
        let journal_id = read_header(first).map_err(|e| e.to_string())?.journal_id;
        let mut tries = 0;
        let (manifest, runs) = loop {
            let manifest = read_manifest(&idx)?;
            match open_runs(&idx, &manifest) {
                Ok(runs) => break (manifest, runs),
                // A compaction replaced a run between reading the manifest and opening it.
                Err(RunError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound && tries < 5 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => return Err(broken(e)),
            }
        };
        if manifest.journal_id != journal_id {
            return Err(format!(
                "the index belongs to journal {}, not to this journal {journal_id}",
                manifest.journal_id
            ));
        }
        let through = manifest
            .through
            .as_ref()
            .ok_or("the index is empty (it is being built)")?;
        let positions = Positions::open(&idx)?;
        let tail = check_through(segments, through)?;
        check_coverage(&manifest, &runs, &positions, segments)?;
        let Start::At { segment, .. } = tail else {
            return Err("the index's last record is not in the journal".into());
        };
        Ok(Snapshot {
            runs,
            positions,
            through: through.sequence,
            through_at: (segment, through.offset),
            tail,
        })
    }

    /// Where the last record indexed is: its segment (an index in the query's segment
    /// list) and byte offset (checked against the chain when the snapshot was opened).
    pub(crate) fn through_at(&self) -> (usize, u64) {
        self.through_at
    }

    /// Where the records the index does not hold start.
    pub(crate) fn tail_start(&self) -> Start {
        self.tail
    }

    /// The keys in `[low, high)`, from every run.
    pub(crate) fn keys(&self, low: &[u8], high: &[u8]) -> Result<Vec<Vec<u8>>, String> {
        let mut out = Vec::new();
        for run in &self.runs {
            run.range(low, high, &mut out).map_err(broken)?;
        }
        Ok(out)
    }

    /// The link keys of the decisions in `first..=last`, from the runs that may hold them.
    pub(crate) fn link_keys(&self, first: u64, last: u64) -> Result<Vec<Vec<u8>>, String> {
        let (low, _) = super::key::range(super::key::Kind::Link, &first.to_be_bytes(), 0, 0);
        let (_, high) = super::key::range(super::key::Kind::Link, &last.to_be_bytes(), 0, 0);
        let mut out = Vec::new();
        for run in &self.runs {
            let h = &run.header;
            if h.link_max < first || h.link_min > last {
                continue;
            }
            run.range(&low, &high, &mut out).map_err(broken)?;
        }
        Ok(out)
    }

    /// The outcomes and classifications the index links to decision `sequence`.
    pub(crate) fn linked(&self, sequence: u64) -> Result<Vec<u64>, String> {
        let mut seqs: Vec<u64> = self
            .link_keys(sequence, sequence)?
            .iter()
            .filter_map(|k| sequence_of(k))
            .filter(|s| *s <= self.through)
            .collect();
        seqs.sort_unstable();
        seqs.dedup();
        Ok(seqs)
    }

    /// The sequence numbers the keys in `[low, high)` lead to, sorted, without repeats.
    pub(crate) fn sequences(&self, low: &[u8], high: &[u8]) -> Result<Vec<u64>, String> {
        let mut seqs: Vec<u64> = self
            .keys(low, high)?
            .iter()
            .filter_map(|k| sequence_of(k))
            .filter(|s| *s <= self.through)
            .collect();
        seqs.sort_unstable();
        seqs.dedup();
        Ok(seqs)
    }

    /// Where record `sequence` is; `None` when it is before the journal's first remaining
    /// record (pruned).
    pub(crate) fn locate(
        &self,
        sequence: u64,
        segments: &[SegmentFile],
    ) -> Result<Option<Loc>, String> {
        let after = segments.partition_point(|s| s.first_sequence <= sequence);
        let Some(segment) = after.checked_sub(1) else {
            return Ok(None);
        };
        let offset = self.positions.get(sequence)?;
        let prev = if offset == SEGMENT_HEADER_LEN as u64 {
            None
        } else {
            Some(self.positions.get(sequence.saturating_sub(1))?)
        };
        Ok(Some(Loc {
            segment,
            offset,
            sequence,
            prev,
        }))
    }
}

/// Check that the index's runs and positions account for every record from the first the
/// index holds to its last one, `through` (checked against the chain by [`check_through`]):
/// the runs follow one another without a gap or an overlap from the first record of
/// `positions.bin` to `through`, the journal's first remaining record is not before that
/// (records a prune removed are not looked for; records the index never held would be
/// missed), each run holds as many keys as the manifest says, and `positions.bin` holds
/// every one of them, `through`'s own offset where the manifest says.
///
/// A run file rewritten whole with fewer keys and a correct checksum passes: nothing the
/// chain anchors says which keys a run must hold without reading the records themselves
/// (see the README's "The index is a hint").
pub(crate) fn check_coverage(
    manifest: &Manifest,
    runs: &[RunReader],
    positions: &Positions,
    segments: &[SegmentFile],
) -> Result<(), String> {
    let Some(through) = manifest.through.as_ref() else {
        return Ok(());
    };
    let wrong = |what: String| Err(format!("{what}: run `bcss audit reindex`"));
    let first_kept = segments.first().map_or(1, |s| s.first_sequence);
    if positions.base > first_kept {
        return wrong(format!(
            "the index starts at record {}, after the journal's first record {first_kept}",
            positions.base
        ));
    }
    let mut next = positions.base;
    for (meta, run) in manifest.runs.iter().zip(runs) {
        if meta.first_sequence != next || meta.last_sequence < meta.first_sequence {
            return wrong(format!(
                "the index's runs do not cover records {next}..={} one after the other (run {} covers {}..={})",
                through.sequence, meta.file, meta.first_sequence, meta.last_sequence
            ));
        }
        if run.header.entries != meta.entries {
            return wrong(format!(
                "index run {} holds {} keys, the manifest says {}",
                meta.file, run.header.entries, meta.entries
            ));
        }
        next = meta.last_sequence.saturating_add(1);
    }
    if next != through.sequence.saturating_add(1) {
        return wrong(format!(
            "the index's runs cover records {}..={}, not up to its last record {}",
            positions.base,
            next.saturating_sub(1),
            through.sequence
        ));
    }
    let held = positions.len()?;
    if through.sequence >= positions.base.saturating_add(held) {
        return wrong("the index's positions end before its last record".into());
    }
    if positions.get(through.sequence)? != through.offset {
        return wrong(format!(
            "the index's positions do not place its last record {} where its manifest does",
            through.sequence
        ));
    }
    Ok(())
}

/// Why a run cannot be used, and what repairs it.
fn broken(e: RunError) -> String {
    format!("{e}: run `bcss audit reindex`")
}

/// Open the runs `manifest` names, each checked to cover what the manifest says.
pub(crate) fn open_runs(idx: &Path, manifest: &Manifest) -> Result<Vec<RunReader>, RunError> {
    manifest
        .runs
        .iter()
        .map(|meta| {
            // An I/O error names the run (a missing or cut file), its kind kept.
            let run = RunReader::open(&run_path(idx, &meta.file)?).map_err(|e| match e {
                RunError::Io(io) => RunError::Io(std::io::Error::new(
                    io.kind(),
                    format!("index run {}: {io}", meta.file),
                )),
                other => other,
            })?;
            if run.header.first_sequence != meta.first_sequence
                || run.header.last_sequence != meta.last_sequence
            {
                return Err(RunError::Bad(format!(
                    "index run {} does not cover what the manifest says",
                    meta.file
                )));
            }
            Ok(run)
        })
        .collect()
}

/// A run's path; its name must be a plain file name.
pub(crate) fn run_path(idx: &Path, name: &str) -> Result<PathBuf, RunError> {
    if name.starts_with("run-") && name.ends_with(".idx") && !name.contains('/') {
        Ok(idx.join(name))
    } else {
        Err(RunError::Bad(format!(
            "the index manifest names {name:?}, not a run file"
        )))
    }
}

/// Check that the record `through` names is where it says with the hash it says; where
/// the next record starts.
pub(crate) fn check_through(segments: &[SegmentFile], through: &Through) -> Result<Start, String> {
    let index = segments
        .iter()
        .position(|s| s.name == through.segment)
        .ok_or_else(|| {
            format!(
                "the index's last record is in segment {}, which is not there",
                through.segment
            )
        })?;
    let frame = read_frame_at(&segments[index].path, through.offset).map_err(|e| e.to_string())?;
    let hash = parse_hash(&through.hash).ok_or("the index's last hash is not 64 hex digits")?;
    if frame.header.sequence != through.sequence || frame.header.hash != hash {
        return Err(format!(
            "the index's last record ({}:{}) is not in the journal: the journal was rewritten, or the index is another's; run `bcss audit reindex`",
            through.sequence, through.hash
        ));
    }
    Ok(Start::At {
        segment: index,
        offset: frame.end,
        chain: Chain {
            next_sequence: through.sequence + 1,
            hash,
        },
    })
}
