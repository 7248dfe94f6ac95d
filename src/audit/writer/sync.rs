//! The writer's second stage: a thread that `fdatasync`s what the first stage wrote, then
//! acknowledges the callers. The writer hashes, frames and writes the next batch while this
//! thread syncs the previous one; a caller is acknowledged only after an `fdatasync` that
//! began once its record was written.
//!
//! With the sync thread idle and a small batch (few appends in flight, nothing to overlap),
//! the writer syncs in place instead, through the same [`complete`], which saves a thread
//! hand-off per batch.
//!
//! After a failure nothing is acknowledged again (after a failed `fdatasync` Linux may have
//! dropped the dirty pages, so a later one proves nothing): the failed records and every
//! later one get an error until the journal is reopened.

use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

use tokio::sync::Notify;

use super::{Ack, Failure, record_failure};
use crate::audit::file_journal::Shared;
use crate::audit::{Appended, AuditError, Head};

/// One batch, written to its segment and waiting for the `fdatasync` that covers it.
pub(super) struct Written {
    /// The segment the batch was written to.
    pub file: Arc<File>,
    pub path: std::path::PathBuf,
    /// Each frame's acknowledgement (none for the writer's own checkpoints).
    pub acks: Vec<(Option<Ack<Appended>>, Appended)>,
    /// The chain's head after the batch.
    pub head: Head,
    /// Caller records in the batch (checkpoints excluded).
    pub records: u64,
    /// Bytes written.
    pub bytes: u64,
}

enum Job {
    Written(Written),
    /// Reply once every batch handed over before is synced: `true` when all were.
    Flush(SyncSender<bool>),
}

/// The writer's handle on the sync thread.
pub(super) struct Syncer {
    tx: Option<Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    /// Batches handed over and not yet acknowledged (or failed).
    pending: Arc<AtomicUsize>,
    /// Notified when `pending` drops to zero.
    idle: Arc<Notify>,
}

impl Syncer {
    /// Start the sync thread.
    pub(super) fn spawn(shared: Arc<Shared>) -> std::io::Result<Syncer> {
        let (tx, rx) = std::sync::mpsc::channel();
        let pending = Arc::new(AtomicUsize::new(0));
        let idle = Arc::new(Notify::new());
        let thread = {
            let (pending, idle) = (Arc::clone(&pending), Arc::clone(&idle));
            std::thread::Builder::new()
                .name("bcss-journal-sync".to_string())
                .spawn(move || run(&rx, &shared, &pending, &idle))?
        };
        Ok(Syncer {
            tx: Some(tx),
            thread: Some(thread),
            pending,
            idle,
        })
    }

    /// Hand a written batch over. When the thread is gone (it never stops before the
    /// writer drops this handle), the batch's callers get an error.
    pub(super) fn submit(&self, written: Written) {
        self.pending.fetch_add(1, Ordering::SeqCst);
        let Some(tx) = &self.tx else {
            fail_closed(written);
            return;
        };
        if let Err(returned) = tx.send(Job::Written(written)) {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            if let Job::Written(written) = returned.0 {
                fail_closed(written);
            }
        }
    }

    /// Wait until every batch handed over is synced and acknowledged; `false` when one of
    /// them could not be synced.
    pub(super) fn flush(&self) -> bool {
        let (reply, done) = std::sync::mpsc::sync_channel(1);
        let sent = self
            .tx
            .as_ref()
            .is_some_and(|tx| tx.send(Job::Flush(reply)).is_ok());
        sent && done.recv().unwrap_or(false)
    }

    /// Whether a batch is being synced or waits to be.
    pub(super) fn busy(&self) -> bool {
        self.pending.load(Ordering::SeqCst) > 0
    }

    /// Notified (`notify_waiters`) each time the thread has no batch left.
    pub(super) fn idle(&self) -> &Notify {
        &self.idle
    }

    /// Sync and acknowledge everything handed over, then stop the thread.
    pub(super) fn finish(&mut self) {
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.finish();
    }
}

fn run(rx: &Receiver<Job>, shared: &Shared, pending: &AtomicUsize, idle: &Notify) {
    while let Ok(first) = rx.recv() {
        let mut written = Vec::new();
        let mut flushes = Vec::new();
        for job in std::iter::once(first).chain(rx.try_iter()) {
            match job {
                Job::Written(w) => written.push(w),
                Job::Flush(reply) => flushes.push(reply),
            }
        }
        let batches = written.len();
        complete(shared, written);
        pending.fetch_sub(batches, Ordering::SeqCst);
        for reply in flushes {
            let _ = reply.send(shared.failure().is_none());
        }
        if pending.load(Ordering::SeqCst) == 0 {
            idle.notify_waiters();
        }
    }
}

/// Sync `written` with one `fdatasync` per segment, then acknowledge every caller; or,
/// when that fails or the journal failed before, give each the error.
pub(super) fn complete(shared: &Shared, written: Vec<Written>) {
    if written.is_empty() {
        return;
    }
    if let Some(reason) = shared.failure() {
        for w in written {
            fail_all(w.acks, || AuditError::Closed(reason.clone()));
        }
        return;
    }
    if let Some(failure) = sync_files(&written) {
        record_failure(shared, &failure);
        for w in written {
            fail_all(w.acks, || failure.error());
        }
        return;
    }
    shared.stats.batches.fetch_add(1, Ordering::Relaxed);
    for w in written {
        acknowledge(shared, w);
    }
}

/// `fdatasync` each segment written to, once, in order.
fn sync_files(written: &[Written]) -> Option<Failure> {
    let mut last: Option<&Arc<File>> = None;
    for w in written {
        if last.is_some_and(|f| Arc::ptr_eq(f, &w.file)) {
            continue;
        }
        if let Err(e) = w.file.sync_data() {
            return Some(Failure::new(&w.path, "fdatasync", &e));
        }
        last = Some(&w.file);
    }
    None
}

fn acknowledge(shared: &Shared, written: Written) {
    let stats = &shared.stats;
    stats.records.fetch_add(written.records, Ordering::Relaxed);
    stats
        .frames
        .fetch_add(written.acks.len() as u64, Ordering::Relaxed);
    stats.bytes.fetch_add(written.bytes, Ordering::Relaxed);
    shared.set_head(written.head);
    for (ack, appended) in written.acks {
        if let Some(ack) = ack {
            let _ = ack.send(Ok(appended));
        }
    }
}

fn fail_all(acks: Vec<(Option<Ack<Appended>>, Appended)>, error: impl Fn() -> AuditError) {
    for (ack, _) in acks {
        if let Some(ack) = ack {
            let _ = ack.send(Err(error()));
        }
    }
}

fn fail_closed(written: Written) {
    fail_all(written.acks, || {
        AuditError::Closed("the journal's sync thread has stopped".to_string())
    });
}
