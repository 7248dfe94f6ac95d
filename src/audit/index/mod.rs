//! The file journal's sidecar index (`DIR/index/`): which records hold a subject, a user, a
//! service, a manifest, a status, a ticket, in time order, so that
//! [`query`](super::query()) reads the few records that match instead of the whole
//! journal.
//!
//! It is never trusted on its own. Every record a query returns is read back from its
//! segment and checked against the chain (its frame checksums, its hash recomputed from the
//! hash stored in the frame before it and its body, and the next record's hash recomputed
//! from its own: see `readback`), and matched against the filter again; the index only says where to look. Records after the last one indexed are read
//! and checked by the query itself. An index that does not check (missing, another
//! journal's, its last record not in the chain) is not used: the query reads everything.
//!
//! The writer keeps it up to date: a thread of the process that holds the journal follows
//! the durable head, and writes a run of keys at least every second (or every 4096
//! records). [`reindex()`] rebuilds it from the segments.
//!
//! Why a format of our own rather than an embedded database: the index must be read by
//! other processes (a security advisor's `bcss audit query`) while the application writes
//! it. redb's default mode locks the whole file per process, and its multi-process mode
//! is weeks old and needs a newer Rust than bcss supports; LMDB or SQLite would do it but
//! bring C code. Immutable sorted runs named by a manifest replaced atomically are safe
//! for any number of readers by construction, a few hundred lines, and easy to check.

mod build;
pub(crate) mod key;
mod run;
pub(crate) mod store;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use uuid::Uuid;

pub use store::INDEX_DIR;

use super::AuditError;
use super::file_journal::Shared;
use super::format::LOCK_FILE;
use super::progress::{Progress, segments_bytes};
use super::scan::{list_segments, read_header};
use super::verify::Problem;
use build::Indexer;

/// What [`reindex()`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexReport {
    /// Records read.
    pub records: u64,
    /// Keys in the index.
    pub entries: u64,
    /// Run files.
    pub runs: usize,
    /// The last record indexed.
    pub through: Option<u64>,
    /// Damage met: the index stops before it (a bad final record aside).
    pub problem: Option<Problem>,
}

/// Rebuild the index of the journal in `dir` from its segments. Takes the journal's lock
/// (waiting up to `lock_wait` while an application writes it, which keeps the index up to
/// date itself), so the index is not written by two processes.
///
/// Fails with [`AuditError::Locked`] when the lock is still held after `lock_wait`, and
/// [`AuditError::Io`] when the segments cannot be read or the index written.
pub fn reindex(
    dir: &Path,
    lock_wait: Duration,
    progress: Option<&dyn Progress>,
) -> Result<IndexReport, AuditError> {
    if !dir.is_dir() {
        return Err(AuditError::Config(format!(
            "{} is not a journal directory",
            dir.display()
        )));
    }
    let _lock = super::lock::take(dir, LOCK_FILE, lock_wait)?;
    let segments = list_segments(dir)?;
    let first = segments
        .first()
        .ok_or_else(|| AuditError::Config(format!("{} holds no journal segment", dir.display())))?;
    let journal_id = read_header(first)?.journal_id;
    let idx = dir.join(INDEX_DIR);
    if !idx.is_dir() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&idx)
            .map_err(|e| AuditError::io(&idx, "create the index folder", e))?;
    }
    if let Some(p) = progress {
        p.start("reindex", Some(segments_bytes(&segments)));
    }
    let result = (|| {
        let mut indexer = Indexer::fresh(dir, &idx, journal_id)?;
        let done = indexer.catch_up(None, None, progress)?;
        indexer.flush()?;
        Ok(IndexReport {
            records: done.records,
            entries: indexer.entries(),
            runs: indexer.runs(),
            through: indexer.through(),
            problem: done.problem,
        })
    })();
    if let Some(p) = progress {
        p.finish();
    }
    result
}

/// A gap past which a closing writer leaves the rest of the indexing to the next one.
const FINAL_CATCH_UP: u64 = 10_000;

/// The writer's indexing thread.
pub(crate) struct IndexThread {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl IndexThread {
    /// Follow the durable head of the journal in `dir` (`journal_id`), indexing it.
    pub(crate) fn spawn(dir: &Path, journal_id: Uuid, shared: Arc<Shared>) -> Option<IndexThread> {
        let stop = Arc::new(AtomicBool::new(false));
        let dir = dir.to_path_buf();
        let flag = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("bcss-journal-index".to_string())
            .spawn(move || {
                if let Err(e) = follow(&dir, journal_id, &shared, &flag) {
                    tracing::warn!(error = %e, "audit journal index: not kept up to date (queries read the records after it; `bcss audit reindex` rebuilds it)");
                }
            });
        match handle {
            Ok(handle) => Some(IndexThread {
                stop,
                handle: Some(handle),
            }),
            Err(e) => {
                tracing::warn!(error = %e, "audit journal index: its thread could not start");
                None
            }
        }
    }

    /// Index what is durable (up to a bound), write it, and stop.
    pub(crate) fn finish(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(handle) = self.handle.take() {
            handle.thread().unpark();
            let _ = handle.join();
        }
    }
}

impl Drop for IndexThread {
    fn drop(&mut self) {
        self.finish();
    }
}

fn follow(
    dir: &Path,
    journal_id: Uuid,
    shared: &Shared,
    stop: &AtomicBool,
) -> Result<(), AuditError> {
    let mut indexer = Indexer::open(dir, journal_id)?;
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        let durable = shared.durable_head().map(|h| h.sequence);
        if let Some(head) = durable {
            // Against what is read, not what is written: a run interrupted by the stop
            // is written below, with everything read before it.
            let behind = head.saturating_sub(indexer.read_through().unwrap_or(0));
            // While running, or closing with little left: index up to the durable head.
            let interrupt = (!stopping || behind > FINAL_CATCH_UP).then_some(stop);
            let done = indexer.catch_up(Some(head), interrupt, None)?;
            if let Some(problem) = done.problem {
                return Err(problem.to_error());
            }
        }
        if stopping {
            return indexer.flush();
        }
        if indexer.flush_due() {
            indexer.flush()?;
        }
        std::thread::park_timeout(Duration::from_millis(200));
    }
}
