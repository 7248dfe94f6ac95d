//! Building the index: walk the chain from where the index stops, gather each record's
//! keys and position, and every so often write them as a new run, append the positions
//! and replace the manifest; merge the newest runs when there are [`FAN_IN`] of a size.
//! Used by the writer's indexing thread (following the durable head) and by
//! [`reindex`](super::reindex) (from the first record).

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::key::{self, Decision, Kind};
use super::run::{RunReader, RunWriter};
use super::store::{
    FORMAT, INDEX_DIR, MANIFEST, Manifest, POSITIONS, POSITIONS_HEADER, Positions, RunMeta,
    Through, check_coverage, check_through, create_positions, open_runs, read_manifest,
    write_manifest,
};
use crate::audit::chain::Chain;
use crate::audit::progress::Progress;
use crate::audit::scan::list_segments;
use crate::audit::verify::Problem;
use crate::audit::walk::{Start, Visit, walk_listed};
use crate::audit::{AuditError, Record};

/// A run is written once this many records wait (or [`FLUSH_EVERY`] passed).
pub(crate) const FLUSH_RECORDS: usize = 4096;
/// A run is written at least this often while records wait.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// How many runs of one size are merged into one.
const FAN_IN: usize = 8;
/// Runs are not merged past this level (about 16 million records each): merges stay
/// bounded, and a journal of ten years has a few dozen runs.
const MAX_LEVEL: u32 = 5;
/// Decisions remembered to link their outcomes without a lookup.
const JOIN_MAX: usize = 200_000;

/// Why the walk stopped on purpose.
const STOP: &str = "\u{0}index: stop";

/// A run's size class: 0 below [`FLUSH_RECORDS`] records, then one more per factor of
/// [`FAN_IN`].
fn level(meta: &RunMeta) -> u32 {
    let records = meta.last_sequence.saturating_sub(meta.first_sequence) + 1;
    let mut level = 0;
    let mut size = FLUSH_RECORDS as u64;
    while records >= size && level < MAX_LEVEL {
        level += 1;
        size = size.saturating_mul(FAN_IN as u64);
    }
    level
}

/// How a catch-up ended.
#[derive(Debug, Default)]
pub(crate) struct CatchUp {
    /// Records indexed.
    pub records: u64,
    /// Damage met on the way (the index stops before it); a torn final record is not.
    pub problem: Option<Problem>,
}

/// The index of one journal, being extended.
pub(crate) struct Indexer {
    journal: PathBuf,
    idx: PathBuf,
    manifest: Manifest,
    runs: Vec<RunReader>,
    positions: File,
    /// The sequence number the next position appended is for.
    next_position: u64,
    keys: Vec<Vec<u8>>,
    pending_positions: Vec<u64>,
    pending_through: Option<Through>,
    first_pending: Option<u64>,
    /// Where the walk goes on: a segment's name, a byte offset, the chain there.
    next: Option<(String, u64, Chain)>,
    join: HashMap<Uuid, Decision>,
    last_flush: Instant,
}

impl Indexer {
    /// Go on with the index of the journal in `dir` (whose id is `journal_id`), or start it
    /// over when it is missing, another journal's, or does not check.
    pub(crate) fn open(dir: &Path, journal_id: Uuid) -> Result<Indexer, AuditError> {
        let idx = dir.join(INDEX_DIR);
        if !idx.is_dir() {
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(&idx)
                .map_err(|e| AuditError::io(&idx, "create the index folder", e))?;
        }
        match Self::resume(dir, &idx, journal_id) {
            Ok(indexer) => Ok(indexer),
            Err(why) => {
                tracing::info!(reason = %why, "audit journal index: starting it over");
                Self::fresh(dir, &idx, journal_id)
            }
        }
    }

    /// An empty index (every file of the folder removed first).
    pub(crate) fn fresh(dir: &Path, idx: &Path, journal_id: Uuid) -> Result<Indexer, AuditError> {
        remove_files(idx, |_| true)?;
        let base = list_segments(dir)?.first().map_or(1, |s| s.first_sequence);
        let positions = create_positions(idx, base)?;
        let manifest = Manifest {
            format: FORMAT,
            journal_id,
            runs: Vec::new(),
            through: None,
        };
        write_manifest(idx, &manifest)?;
        Ok(Indexer {
            journal: dir.to_path_buf(),
            idx: idx.to_path_buf(),
            manifest,
            runs: Vec::new(),
            positions,
            next_position: base,
            keys: Vec::new(),
            pending_positions: Vec::new(),
            pending_through: None,
            first_pending: None,
            next: None,
            join: HashMap::new(),
            last_flush: Instant::now(),
        })
    }

    fn resume(dir: &Path, idx: &Path, journal_id: Uuid) -> Result<Indexer, String> {
        let manifest = read_manifest(idx)?;
        if manifest.journal_id != journal_id {
            return Err("the index is another journal's".into());
        }
        let runs = open_runs(idx, &manifest).map_err(|e| e.to_string())?;
        let positions = Positions::open(idx)?;
        let base = positions.base;
        let held = positions.len()?;
        let segments = list_segments(dir).map_err(|e| e.to_string())?;
        // An index whose runs do not account for every record is started over, like one
        // that does not check against the chain (queries would not use it).
        check_coverage(&manifest, &runs, &positions, &segments)?;
        let (next, next_position) = match &manifest.through {
            None => (None, base),
            Some(through) => {
                let Start::At { offset, chain, .. } = check_through(&segments, through)? else {
                    return Err("unexpected start".into());
                };
                let next_position = through.sequence + 1;
                if next_position > base + held {
                    return Err("the positions end before the last record indexed".into());
                }
                (
                    Some((through.segment.clone(), offset, chain)),
                    next_position,
                )
            }
        };
        // Keys and positions written after the manifest are not in force: drop them.
        let path = idx.join(POSITIONS);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        file.set_len(POSITIONS_HEADER + (next_position - base) * 8)
            .map_err(|e| e.to_string())?;
        let named: Vec<&str> = manifest.runs.iter().map(|m| m.file.as_str()).collect();
        remove_files(idx, |name| {
            name.starts_with("run-") && !named.contains(&name) || name.ends_with(".tmp")
        })
        .map_err(|e| e.to_string())?;
        let mut file = file;
        use std::io::Seek;
        file.seek(std::io::SeekFrom::End(0))
            .map_err(|e| e.to_string())?;
        Ok(Indexer {
            journal: dir.to_path_buf(),
            idx: idx.to_path_buf(),
            manifest,
            runs,
            positions: file,
            next_position,
            keys: Vec::new(),
            pending_positions: Vec::new(),
            pending_through: None,
            first_pending: None,
            next,
            join: HashMap::new(),
            last_flush: Instant::now(),
        })
    }

    /// The last record the index holds (written to its files).
    pub(crate) fn through(&self) -> Option<u64> {
        self.manifest.through.as_ref().map(|t| t.sequence)
    }

    /// The last record read into the index, written to its files or not yet.
    pub(crate) fn read_through(&self) -> Option<u64> {
        self.next
            .as_ref()
            .and_then(|(_, _, chain)| chain.next_sequence.checked_sub(1))
            .or_else(|| self.through())
    }

    /// The entries in force.
    pub(crate) fn entries(&self) -> u64 {
        self.manifest.runs.iter().map(|r| r.entries).sum()
    }

    /// The runs in force.
    pub(crate) fn runs(&self) -> usize {
        self.manifest.runs.len()
    }

    /// Index the records after the last one indexed, up to `until` (all when `None`),
    /// writing runs as they fill up. Stops early when `stop` is set.
    pub(crate) fn catch_up(
        &mut self,
        until: Option<u64>,
        stop: Option<&AtomicBool>,
        progress: Option<&dyn Progress>,
    ) -> Result<CatchUp, AuditError> {
        let segments = list_segments(&self.journal)?;
        let start = match &self.next {
            None => Start::First,
            Some((name, offset, chain)) => match segments.iter().position(|s| &s.name == name) {
                Some(segment) => Start::At {
                    segment,
                    offset: *offset,
                    chain: *chain,
                },
                None => {
                    return Err(AuditError::Decode(format!(
                        "the index goes on in segment {name}, which is gone: run `bcss audit reindex`"
                    )));
                }
            },
        };
        if until.is_some_and(|u| self.next.as_ref().is_some_and(|n| n.2.next_sequence > u)) {
            return Ok(CatchUp::default());
        }
        let names: Vec<String> = segments.iter().map(|s| s.name.clone()).collect();
        let mut done = CatchUp::default();
        let mut failure: Option<AuditError> = None;
        let end = walk_listed(segments, start, &mut |v| {
            if until.is_some_and(|u| v.sequence > u)
                || stop.is_some_and(|s| s.load(Ordering::Relaxed))
            {
                return Some(STOP.to_string());
            }
            let name = names.get(v.at.segment).cloned().unwrap_or_default();
            if let Err(e) = self.add(v, name) {
                failure = Some(e);
                return Some(STOP.to_string());
            }
            done.records += 1;
            if let Some(p) = progress {
                p.advance(1, v.len);
            }
            if self.keys_due()
                && let Err(e) = self.flush()
            {
                failure = Some(e);
                return Some(STOP.to_string());
            }
            None
        })?;
        if let Some(e) = failure {
            return Err(e);
        }
        if let Some(problem) = end.problem
            && problem.reason != STOP
            && !problem.final_record
        {
            done.problem = Some(problem);
        }
        Ok(done)
    }

    /// Whether enough records wait to write a run.
    fn keys_due(&self) -> bool {
        self.pending_positions.len() >= FLUSH_RECORDS
    }

    /// Whether records have waited long enough to write a run.
    pub(crate) fn flush_due(&self) -> bool {
        !self.pending_positions.is_empty()
            && (self.keys_due() || self.last_flush.elapsed() >= FLUSH_EVERY)
    }

    fn add(&mut self, v: &Visit, segment: String) -> Result<(), AuditError> {
        if v.sequence != self.next_position {
            return Err(AuditError::Decode(format!(
                "the index expected record {} next but the walk gave {}",
                self.next_position, v.sequence
            )));
        }
        let decision = match &v.record {
            Record::Outcome(o) => self.decision(o.ticket, o.outcome != "received")?,
            Record::Classification(c) => self.decision(c.ticket, true)?,
            _ => None,
        };
        key::keys_of(v.sequence, &v.record, decision, &mut self.keys);
        match &v.record {
            Record::Intent(i) => {
                if self.join.len() >= JOIN_MAX {
                    let keep_from = v.sequence.saturating_sub(JOIN_MAX as u64 / 2);
                    self.join.retain(|_, d| d.sequence >= keep_from);
                }
                self.join.insert(
                    i.ticket,
                    Decision {
                        sequence: v.sequence,
                        decided_at_micros: i.decided_at.timestamp_micros(),
                    },
                );
            }
            Record::Denial(_) => {}
            _ => {}
        }
        self.first_pending.get_or_insert(v.sequence);
        self.pending_positions.push(v.at.offset);
        self.next_position = v.sequence + 1;
        self.pending_through = Some(Through {
            segment: segment.clone(),
            offset: v.at.offset,
            sequence: v.sequence,
            hash: hex::encode(v.hash),
        });
        self.next = Some((
            segment,
            v.at.offset + v.len,
            Chain {
                next_sequence: v.sequence + 1,
                hash: v.hash,
            },
        ));
        Ok(())
    }

    /// The decision an outcome or classification of `ticket` follows: remembered, else
    /// looked up in the runs. `done`: no record of this exchange follows (forget it).
    fn decision(&mut self, ticket: Uuid, done: bool) -> Result<Option<Decision>, AuditError> {
        let known = if done {
            self.join.remove(&ticket)
        } else {
            self.join.get(&ticket).copied()
        };
        if known.is_some() {
            return Ok(known);
        }
        let (low, high) = key::range(Kind::Ticket, ticket.as_bytes(), i64::MIN, i64::MAX);
        let mut found = Vec::new();
        for run in &self.runs {
            run.range(&low, &high, &mut found)
                .map_err(|e| AuditError::Decode(e.to_string()))?;
        }
        // Not yet in a run: among the keys waiting.
        if found.is_empty() {
            found.extend(
                self.keys
                    .iter()
                    .filter(|k| k.as_slice() >= low.as_slice() && k.as_slice() < high.as_slice())
                    .cloned(),
            );
        }
        Ok(found.first().and_then(|k| {
            Some(Decision {
                sequence: key::sequence_of(k)?,
                decided_at_micros: key::time_of(k)?,
            })
        }))
    }

    /// Write what waits: a run of the keys, the positions, then the manifest naming them;
    /// then merge runs when due.
    pub(crate) fn flush(&mut self) -> Result<(), AuditError> {
        let (Some(through), Some(first)) = (self.pending_through.take(), self.first_pending) else {
            return Ok(());
        };
        let last = through.sequence;
        let mut keys = std::mem::take(&mut self.keys);
        keys.sort_unstable();
        // A run also when no record of the batch has a key (checkpoints only, say): the
        // runs account for every record up to `through`, which queries check.
        {
            let name = run_name(first, last);
            let path = self.idx.join(&name);
            let mut writer =
                RunWriter::create(&path).map_err(|e| AuditError::io(&path, "create", e))?;
            for k in &keys {
                writer
                    .add(k)
                    .map_err(|e| AuditError::io(&path, "write", e))?;
            }
            let header = writer
                .finish(first, last)
                .map_err(|e| AuditError::io(&path, "write", e))?;
            self.runs
                .push(RunReader::open(&path).map_err(|e| AuditError::Decode(e.to_string()))?);
            self.manifest.runs.push(RunMeta {
                file: name,
                first_sequence: first,
                last_sequence: last,
                entries: header.entries,
            });
        }
        let mut bytes = Vec::with_capacity(self.pending_positions.len() * 8);
        for offset in self.pending_positions.drain(..) {
            bytes.extend_from_slice(&offset.to_le_bytes());
        }
        let path = self.idx.join(POSITIONS);
        self.positions
            .write_all(&bytes)
            .and_then(|()| self.positions.sync_data())
            .map_err(|e| AuditError::io(&path, "write", e))?;
        self.manifest.through = Some(through);
        write_manifest(&self.idx, &self.manifest)?;
        self.first_pending = None;
        self.last_flush = Instant::now();
        self.merge()
    }

    /// Merge the newest runs while [`FAN_IN`] of them share a level.
    fn merge(&mut self) -> Result<(), AuditError> {
        loop {
            let n = self.manifest.runs.len();
            if n < FAN_IN {
                return Ok(());
            }
            let group = &self.manifest.runs[n - FAN_IN..];
            let l = level(&group[0]);
            if l >= MAX_LEVEL || group.iter().any(|r| level(r) != l) {
                return Ok(());
            }
            self.merge_last(FAN_IN)?;
        }
    }

    /// Merge the last `count` runs into one.
    fn merge_last(&mut self, count: usize) -> Result<(), AuditError> {
        let n = self.manifest.runs.len();
        let group: Vec<RunMeta> = self.manifest.runs[n - count..].to_vec();
        let (first, last) = (group[0].first_sequence, group[count - 1].last_sequence);
        let name = run_name(first, last);
        let path = self.idx.join(&name);
        let header = {
            let mut writer =
                RunWriter::create(&path).map_err(|e| AuditError::io(&path, "create", e))?;
            let decode = |e: super::run::RunError| AuditError::Decode(e.to_string());
            let mut sources: Vec<_> = self.runs[n - count..].iter().map(RunReader::keys).collect();
            let mut heads: Vec<Option<Vec<u8>>> = Vec::with_capacity(count);
            for s in &mut sources {
                heads.push(s.next().transpose().map_err(decode)?);
            }
            // A k-way merge by smallest head (k is FAN_IN, small).
            while let Some((i, _)) = heads
                .iter()
                .enumerate()
                .filter_map(|(i, h)| h.as_ref().map(|h| (i, h)))
                .min_by(|a, b| a.1.cmp(b.1))
            {
                if let Some(k) = heads[i].take() {
                    writer
                        .add(&k)
                        .map_err(|e| AuditError::io(&path, "write", e))?;
                }
                heads[i] = sources[i].next().transpose().map_err(decode)?;
            }
            writer
                .finish(first, last)
                .map_err(|e| AuditError::io(&path, "write", e))?
        };
        let merged = RunReader::open(&path).map_err(|e| AuditError::Decode(e.to_string()))?;
        self.runs.truncate(n - count);
        self.runs.push(merged);
        self.manifest.runs.truncate(n - count);
        self.manifest.runs.push(RunMeta {
            file: name,
            first_sequence: first,
            last_sequence: last,
            entries: header.entries,
        });
        write_manifest(&self.idx, &self.manifest)?;
        for old in group {
            let path = self.idx.join(&old.file);
            std::fs::remove_file(&path).map_err(|e| AuditError::io(&path, "remove", e))?;
        }
        Ok(())
    }
}

/// A new run's file name: the records it covers, and a unique part (a reader may still
/// hold a run of the same range that a merge replaced).
fn run_name(first: u64, last: u64) -> String {
    format!("run-{first:020}-{last:020}-{}.idx", Uuid::now_v7().simple())
}

/// Remove the files of `idx` whose names `wanted` accepts.
fn remove_files(idx: &Path, wanted: impl Fn(&str) -> bool) -> Result<(), AuditError> {
    let entries = std::fs::read_dir(idx).map_err(|e| AuditError::io(idx, "list directory", e))?;
    for entry in entries {
        let entry = entry.map_err(|e| AuditError::io(idx, "list directory", e))?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let ours = name.starts_with("run-") || name == POSITIONS || name.starts_with(MANIFEST);
        if ours && wanted(&name) {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(|e| AuditError::io(&path, "remove", e))?;
        }
    }
    Ok(())
}
