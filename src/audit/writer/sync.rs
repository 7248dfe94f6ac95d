//! The writer's second stage: sync threads that `fdatasync` what the first stage wrote,
//! then acknowledge the callers. The writer hashes, frames and writes the next batch while
//! they sync; a caller is acknowledged only after an `fdatasync` that began once its
//! record was written.
//!
//! [`LANES`] syncs may be in flight at once: a batch written while one `fdatasync` runs
//! starts its own at once instead of waiting for the first to end, so a record waits for
//! about one flush rather than one and a half. Each sync covers every batch written
//! before it began; results are taken in the order the syncs were issued, so that the
//! head advances in order and a batch is acknowledged only when its own sync, and every
//! earlier one, succeeded.
//!
//! With nothing pending and a small batch (few appends in flight, nothing to overlap),
//! the writer syncs in place instead, through the same [`complete`], which saves a thread
//! hand-off per batch.
//!
//! After a failure nothing is acknowledged again (after a failed `fdatasync` Linux may have
//! dropped the dirty pages, so a later one proves nothing): the failed records and every
//! later one get an error until the journal is reopened. A later sync that happens to
//! succeed does not acknowledge anything either: its result is taken after the failed one.

use std::collections::VecDeque;
use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use tokio::sync::Notify;

use super::{Ack, Failure, record_failure};
use crate::audit::file_journal::Shared;
use crate::audit::{Appended, AuditError, Head};

/// How many `fdatasync`s may be in flight at once (one per sync thread).
pub(super) const LANES: usize = 2;

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

/// The batches one `fdatasync` covers, and once it ended, its result.
struct Slot {
    batches: Vec<Written>,
    /// `None` while syncing; then `Some(None)` when it succeeded.
    done: Option<Option<Failure>>,
}

#[derive(Default)]
struct State {
    /// Written and not yet covered by a sync.
    queue: Vec<Written>,
    /// Syncs issued and not yet settled, oldest first; `base` is the number of the first.
    issued: VecDeque<Slot>,
    base: u64,
    /// Set by `finish`: the threads sync what is queued, then stop.
    stop: bool,
}

/// How the sync threads make files durable: [`sync_files`], or a stand-in in tests.
type SyncFn = Arc<dyn Fn(&[(Arc<File>, PathBuf)]) -> Option<Failure> + Send + Sync>;

struct Lanes {
    shared: Arc<Shared>,
    sync: SyncFn,
    state: Mutex<State>,
    /// Signalled when a batch is queued or the threads must stop.
    work: Condvar,
    /// Signalled when a sync is settled.
    settled: Condvar,
    /// Batches handed over and not yet acknowledged (or failed).
    pending: AtomicUsize,
    /// `fdatasync`s running now.
    syncing: AtomicUsize,
    /// Notified (`notify_waiters`) each time a sync ends.
    freed: Notify,
}

impl Lanes {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The writer's handle on the sync threads.
pub(super) struct Syncer {
    lanes: Arc<Lanes>,
    threads: Vec<JoinHandle<()>>,
}

impl Syncer {
    /// Start the sync threads.
    pub(super) fn spawn(shared: Arc<Shared>) -> std::io::Result<Syncer> {
        Syncer::spawn_with(shared, Arc::new(sync_files))
    }

    fn spawn_with(shared: Arc<Shared>, sync: SyncFn) -> std::io::Result<Syncer> {
        let lanes = Arc::new(Lanes {
            shared,
            sync,
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            settled: Condvar::new(),
            pending: AtomicUsize::new(0),
            syncing: AtomicUsize::new(0),
            freed: Notify::new(),
        });
        let mut syncer = Syncer {
            lanes,
            threads: Vec::with_capacity(LANES),
        };
        for _ in 0..LANES {
            let lanes = Arc::clone(&syncer.lanes);
            // On an error the threads already started are stopped by `Drop`.
            let thread = std::thread::Builder::new()
                .name("bcss-journal-sync".to_string())
                .spawn(move || run(&lanes))?;
            syncer.threads.push(thread);
        }
        Ok(syncer)
    }

    /// Hand a written batch over. After `finish` (the threads are gone), the batch's
    /// callers get an error.
    pub(super) fn submit(&self, written: Written) {
        let mut state = self.lanes.lock();
        if state.stop {
            drop(state);
            fail_closed(written);
            return;
        }
        self.lanes.pending.fetch_add(1, Ordering::SeqCst);
        state.queue.push(written);
        drop(state);
        self.lanes.work.notify_one();
    }

    /// Wait until every batch handed over is synced and acknowledged; `false` when one of
    /// them could not be synced.
    pub(super) fn flush(&self) -> bool {
        let mut state = self.lanes.lock();
        while !self.threads.is_empty() && (!state.queue.is_empty() || !state.issued.is_empty()) {
            state = self
                .lanes
                .settled
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        self.lanes.shared.failure().is_none()
    }

    /// Whether a batch is being synced or waits to be.
    pub(super) fn busy(&self) -> bool {
        self.lanes.pending.load(Ordering::SeqCst) > 0
    }

    /// Whether every sync thread is in an `fdatasync`: a batch written now would wait for
    /// one of them to end.
    pub(super) fn saturated(&self) -> bool {
        self.lanes.syncing.load(Ordering::SeqCst) >= LANES
    }

    /// Notified (`notify_waiters`) each time an `fdatasync` ends.
    pub(super) fn freed(&self) -> &Notify {
        &self.lanes.freed
    }

    /// Sync and acknowledge everything handed over, then stop the threads.
    pub(super) fn finish(&mut self) {
        self.lanes.lock().stop = true;
        self.lanes.work.notify_all();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.finish();
    }
}

/// One sync thread: take everything queued, `fdatasync` it, settle in issue order.
fn run(lanes: &Lanes) {
    let mut state = lanes.lock();
    loop {
        if state.queue.is_empty() {
            if state.stop {
                return;
            }
            state = lanes
                .work
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            continue;
        }
        let batches = std::mem::take(&mut state.queue);
        let files = files_of(&batches);
        let number = state.base + state.issued.len() as u64;
        state.issued.push_back(Slot {
            batches,
            done: None,
        });
        lanes.syncing.fetch_add(1, Ordering::SeqCst);
        drop(state);

        // After a failure nothing is synced again: the batches get the error when settled.
        let result = match lanes.shared.failure() {
            Some(_) => None,
            None => (lanes.sync)(&files),
        };

        state = lanes.lock();
        lanes.syncing.fetch_sub(1, Ordering::SeqCst);
        let index = usize::try_from(number - state.base).unwrap_or(usize::MAX);
        if let Some(slot) = state.issued.get_mut(index) {
            slot.done = Some(result);
        }
        while state.issued.front().is_some_and(|s| s.done.is_some()) {
            let Some(slot) = state.issued.pop_front() else {
                break;
            };
            state.base += 1;
            let batches = slot.batches.len();
            match slot.done.flatten() {
                Some(failure) => {
                    record_failure(&lanes.shared, &failure);
                    for w in slot.batches {
                        fail_all(w.acks, || failure.error());
                    }
                }
                None => complete_synced(&lanes.shared, slot.batches),
            }
            lanes.pending.fetch_sub(batches, Ordering::SeqCst);
        }
        lanes.settled.notify_all();
        lanes.freed.notify_waiters();
    }
}

/// Each segment that `written` went to, once, in order.
fn files_of(written: &[Written]) -> Vec<(Arc<File>, PathBuf)> {
    let mut files: Vec<(Arc<File>, PathBuf)> = Vec::new();
    for w in written {
        if files.last().is_some_and(|(f, _)| Arc::ptr_eq(f, &w.file)) {
            continue;
        }
        files.push((Arc::clone(&w.file), w.path.clone()));
    }
    files
}

/// Sync `written` with one `fdatasync` per segment, then acknowledge every caller; or,
/// when that fails or the journal failed before, give each the error.
pub(super) fn complete(shared: &Shared, written: Vec<Written>) {
    if written.is_empty() {
        return;
    }
    if shared.failure().is_none()
        && let Some(failure) = sync_files(&files_of(&written))
    {
        record_failure(shared, &failure);
        for w in written {
            fail_all(w.acks, || failure.error());
        }
        return;
    }
    complete_synced(shared, written);
}

/// Acknowledge batches whose `fdatasync` succeeded, unless the journal failed before.
fn complete_synced(shared: &Shared, written: Vec<Written>) {
    if let Some(reason) = shared.failure() {
        for w in written {
            fail_all(w.acks, || AuditError::Closed(reason.clone()));
        }
        return;
    }
    shared.stats.batches.fetch_add(1, Ordering::Relaxed);
    for w in written {
        acknowledge(shared, w);
    }
}

/// `fdatasync` each file, in order.
fn sync_files(files: &[(Arc<File>, PathBuf)]) -> Option<Failure> {
    for (file, path) in files {
        if let Err(e) = file.sync_data() {
            return Some(Failure::new(path, "fdatasync", &e));
        }
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::mpsc;
    use std::time::Duration;

    use tokio::sync::oneshot;

    use super::*;

    type Gates = Arc<Mutex<HashMap<PathBuf, mpsc::Receiver<Option<Failure>>>>>;

    /// A stand-in for `fdatasync` that blocks on each file until the test releases it
    /// with a result.
    fn gated() -> (SyncFn, Gates) {
        let gates: Gates = Arc::default();
        let taken = Arc::clone(&gates);
        let sync: SyncFn = Arc::new(move |files: &[(Arc<File>, PathBuf)]| {
            for (_, path) in files {
                let gate = taken
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(path)?;
                if let Some(failure) = gate.recv().ok().flatten() {
                    return Some(failure);
                }
            }
            None
        });
        (sync, gates)
    }

    type Reply = oneshot::Receiver<Result<Appended, AuditError>>;

    /// A one-record batch written to `name` in `dir`, its gate and its caller's receiver.
    fn batch(
        dir: &std::path::Path,
        name: &str,
        sequence: u64,
        gates: &Gates,
    ) -> (Written, mpsc::Sender<Option<Failure>>, Reply) {
        let path = dir.join(name);
        let file = Arc::new(File::create(&path).unwrap());
        let (release, gate) = mpsc::channel();
        gates.lock().unwrap().insert(path.clone(), gate);
        let (ack, reply) = oneshot::channel();
        let appended = Appended {
            sequence,
            hash: [sequence as u8; 32],
        };
        let written = Written {
            file,
            path,
            acks: vec![(Some(ack), appended)],
            head: Head {
                sequence,
                hash: appended.hash,
            },
            records: 1,
            bytes: 10,
        };
        (written, release, reply)
    }

    fn wait_until(what: &str, cond: impl Fn() -> bool) {
        for _ in 0..2000 {
            if cond() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("timed out waiting until {what}");
    }

    /// A batch's gate (send its sync's result) and its caller's receiver.
    type Handles = (mpsc::Sender<Option<Failure>>, Reply);

    /// Two batches, each under its own fdatasync, both running at once.
    fn two_in_flight(dir: &std::path::Path) -> (Syncer, Arc<Shared>, [Handles; 2]) {
        let shared = Arc::new(Shared::default());
        let (sync, gates) = gated();
        let syncer = Syncer::spawn_with(Arc::clone(&shared), sync).unwrap();
        let (w1, release1, reply1) = batch(dir, "first", 1, &gates);
        let (w2, release2, reply2) = batch(dir, "second", 2, &gates);
        syncer.submit(w1);
        wait_until("the first sync runs", || {
            syncer.lanes.syncing.load(Ordering::SeqCst) == 1
        });
        syncer.submit(w2);
        wait_until("both syncs run", || syncer.saturated());
        (syncer, shared, [(release1, reply1), (release2, reply2)])
    }

    #[test]
    fn a_later_sync_that_ends_first_acknowledges_nothing_before_the_earlier_one() {
        let dir = tempfile::tempdir().unwrap();
        let (syncer, shared, [(release1, reply1), (release2, mut reply2)]) =
            two_in_flight(dir.path());
        release2.send(None).unwrap();
        wait_until("the second sync ends", || !syncer.saturated());
        assert!(
            matches!(reply2.try_recv(), Err(oneshot::error::TryRecvError::Empty)),
            "the second batch waits for the first sync"
        );
        release1.send(None).unwrap();
        assert_eq!(reply1.blocking_recv().unwrap().unwrap().sequence, 1);
        assert_eq!(reply2.blocking_recv().unwrap().unwrap().sequence, 2);
        assert!(syncer.flush());
        assert!(!syncer.busy());
        assert_eq!(shared.stats.records.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn a_failed_earlier_sync_fails_a_later_batch_whose_own_sync_succeeded() {
        let dir = tempfile::tempdir().unwrap();
        let (mut syncer, shared, [(release1, reply1), (release2, reply2)]) =
            two_in_flight(dir.path());
        release2.send(None).unwrap();
        wait_until("the second sync ends", || !syncer.saturated());
        let eio = std::io::Error::from_raw_os_error(5);
        release1
            .send(Some(Failure::new(
                &dir.path().join("first"),
                "fdatasync",
                &eio,
            )))
            .unwrap();
        let first = reply1.blocking_recv().unwrap().unwrap_err().to_string();
        assert!(first.contains("fdatasync"), "{first}");
        let second = reply2.blocking_recv().unwrap().unwrap_err().to_string();
        assert!(second.contains("fdatasync"), "{second}");
        assert!(!syncer.flush(), "the journal has failed");
        assert!(shared.failure().is_some());
        assert_eq!(shared.stats.records.load(Ordering::Relaxed), 0);

        // After the failure a batch is refused without being synced.
        let (sync, gates) = gated();
        drop(sync);
        let (w3, _release3, reply3) = batch(dir.path(), "third", 3, &gates);
        syncer.submit(w3);
        assert!(reply3.blocking_recv().unwrap().is_err());
        syncer.finish();
    }

    #[test]
    fn finish_syncs_what_was_queued_then_refuses_more() {
        let dir = tempfile::tempdir().unwrap();
        let shared = Arc::new(Shared::default());
        let mut syncer = Syncer::spawn(Arc::clone(&shared)).unwrap();
        let (sync, gates) = gated();
        drop(sync);
        let (w1, _, reply1) = batch(dir.path(), "first", 1, &gates);
        syncer.submit(w1);
        syncer.finish();
        assert_eq!(reply1.blocking_recv().unwrap().unwrap().sequence, 1);
        let (w2, _, reply2) = batch(dir.path(), "second", 2, &gates);
        syncer.submit(w2);
        assert!(reply2.blocking_recv().unwrap().is_err());
    }
}
