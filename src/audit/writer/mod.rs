//! The file journal's single writer: a dedicated thread that opens (and recovers) the
//! journal, then does group commit in two stages. This thread takes every append waiting
//! in the queue (bounded by count, bytes and an optional window), hashes the bodies
//! together, chains and frames them, and writes the batch with one vectored `write`; the
//! sync thread `fdatasync`s and only then acknowledges each caller, while this thread
//! prepares the next batch.
//!
//! Opening and recovery are in `open`, writing a batch in `commit`, syncing in `sync`.

mod commit;
mod open;
mod sync;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::NaiveDate;
use ed25519_dalek::SigningKey;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::file_journal::{FileJournalConfig, Shared};
use super::format::{FRAME_HEADER_LEN, FRAME_TRAILER_LEN};
use super::{Appended, AuditError, Record, TruncationRecord};

/// An acknowledgement channel.
pub(crate) type Ack<T> = oneshot::Sender<Result<T, AuditError>>;

/// What callers send the writer.
pub(crate) enum Msg {
    /// Append one encoded record; `body_crc` is its CRC32C and `digest` its SHA-256 when
    /// the caller computed it (else the writer does).
    Append {
        body: Vec<u8>,
        body_crc: u32,
        digest: Option<[u8; 32]>,
        ack: Ack<Appended>,
    },
    /// Write a checkpoint now.
    Checkpoint { ack: Ack<Appended> },
    /// Write the shutdown checkpoint and stop.
    Close { ack: Ack<()> },
}

/// What the writer reports once the journal is open.
#[derive(Debug)]
pub(crate) struct Opened {
    pub truncation: Option<TruncationRecord>,
}

/// Resolves once the writer has opened (and recovered) the journal, or failed to.
pub(crate) type Ready = oneshot::Receiver<Result<Opened, AuditError>>;

/// Start the writer thread for `config`.
pub(crate) fn spawn(
    config: FileJournalConfig,
    shared: Arc<Shared>,
    rx: mpsc::Receiver<Msg>,
) -> Result<(std::thread::JoinHandle<()>, Ready), AuditError> {
    let (ready_tx, ready_rx) = oneshot::channel();
    let dir = config.dir.clone();
    let handle = std::thread::Builder::new()
        .name("bcss-journal-writer".to_string())
        .spawn(move || run(config, shared, rx, ready_tx))
        .map_err(|e| AuditError::io(&dir, "start the journal writer thread", e))?;
    Ok((handle, ready_rx))
}

fn run(
    config: FileJournalConfig,
    shared: Arc<Shared>,
    rx: mpsc::Receiver<Msg>,
    ready: oneshot::Sender<Result<Opened, AuditError>>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(AuditError::io(
                &config.dir,
                "start the journal writer's runtime",
                e,
            )));
            return;
        }
    };
    let (mut writer, opened) = match Writer::open(config, shared) {
        Ok(ok) => ok,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    if let Some(truncation) = &opened.truncation {
        let body = match serde_json::to_vec(&Record::Truncation(truncation.clone())) {
            Ok(body) => body,
            Err(e) => {
                let _ = ready.send(Err(AuditError::Encode(e.to_string())));
                return;
            }
        };
        let (ack, mut result) = oneshot::channel();
        writer.commit(vec![Entry::Record {
            body_crc: crc32c::crc32c(&body),
            digest: None,
            body,
            ack: Some(ack),
        }]);
        writer.syncer.flush();
        match result.try_recv() {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                let _ = ready.send(Err(e));
                return;
            }
            Err(_) => {
                let _ = ready.send(Err(AuditError::Closed(
                    "the truncation record could not be written".to_string(),
                )));
                return;
            }
        }
    }
    if ready.send(Ok(opened)).is_err() {
        return;
    }
    runtime.block_on(writer.serve(rx));
}

/// One entry of a batch.
enum Entry {
    Record {
        body: Vec<u8>,
        body_crc: u32,
        digest: Option<[u8; 32]>,
        ack: Option<Ack<Appended>>,
    },
    Checkpoint {
        reason: &'static str,
        ack: Option<Ack<Appended>>,
    },
}

impl Entry {
    fn estimated_len(&self) -> usize {
        let body = match self {
            Entry::Record { body, .. } => body.len(),
            Entry::Checkpoint { .. } => 512,
        };
        body + FRAME_HEADER_LEN + FRAME_TRAILER_LEN
    }

    fn fail(self, error: AuditError) {
        match self {
            Entry::Record { ack: Some(ack), .. } | Entry::Checkpoint { ack: Some(ack), .. } => {
                let _ = ack.send(Err(error));
            }
            _ => {}
        }
    }
}

/// The segment being appended to.
struct Active {
    /// Shared with the sync thread, which syncs the batches written to it.
    file: Arc<File>,
    path: PathBuf,
    size: u64,
    day: NaiveDate,
}

/// An I/O failure, kept so that every caller of the failed batch gets its own error.
#[derive(Debug, Clone)]
struct Failure {
    path: PathBuf,
    operation: &'static str,
    kind: std::io::ErrorKind,
    message: String,
}

impl Failure {
    fn new(path: &Path, operation: &'static str, e: &std::io::Error) -> Self {
        Failure {
            path: path.to_path_buf(),
            operation,
            kind: e.kind(),
            message: e.to_string(),
        }
    }

    fn error(&self) -> AuditError {
        AuditError::io(
            &self.path,
            self.operation,
            std::io::Error::new(self.kind, self.message.clone()),
        )
    }
}

/// Log `failure` and keep it: the journal refuses every later append until reopened.
fn record_failure(shared: &Shared, failure: &Failure) {
    tracing::error!(
        path = %failure.path.display(),
        operation = failure.operation,
        error = %failure.message,
        "audit journal write failed; the journal refuses appends until reopened"
    );
    shared.set_failure(format!(
        "an earlier {} of {} failed ({}); no later record is accepted until the journal is reopened",
        failure.operation,
        failure.path.display(),
        failure.message
    ));
}

struct Writer {
    config: FileJournalConfig,
    shared: Arc<Shared>,
    signing: Option<SigningKey>,
    /// Held (locked) for the writer's lifetime.
    _lock: File,
    active: Option<Active>,
    next_sequence: u64,
    head: [u8; 32],
    since_checkpoint: u64,
    last_checkpoint: Instant,
    syncer: sync::Syncer,
}

impl Writer {
    /// Serve callers until closed, disconnected, or an I/O failure.
    async fn serve(mut self, mut rx: mpsc::Receiver<Msg>) {
        let mut carry: Option<Msg> = None;
        // Records gathered but held back for the next write (see `gather`).
        let mut held: Vec<Entry> = Vec::new();
        loop {
            let event = match carry.take() {
                Some(msg) => Event::Msg(msg),
                None if !held.is_empty() => Event::Held,
                None => self.next_event(&mut rx).await,
            };
            // Held records are written before anything else happens (a checkpoint then
            // covers them, a close does not lose them).
            let appends = matches!(event, Event::Held | Event::Msg(Msg::Append { .. }));
            if !appends && !held.is_empty() && !self.commit(std::mem::take(&mut held)) {
                if let Event::Msg(msg) = event {
                    carry = Some(msg);
                }
                break;
            }
            match event {
                Event::Disconnected => break,
                Event::CheckpointDue => {
                    if !self.commit(vec![Entry::Checkpoint {
                        reason: "interval",
                        ack: None,
                    }]) {
                        break;
                    }
                }
                Event::Msg(Msg::Close { ack }) => {
                    let result = if self.config.checkpoint_on_close && self.since_checkpoint > 0 {
                        let (cp_ack, mut cp) = oneshot::channel();
                        self.commit(vec![Entry::Checkpoint {
                            reason: "shutdown",
                            ack: Some(cp_ack),
                        }]);
                        self.syncer.flush();
                        match cp.try_recv() {
                            Ok(Ok(_)) => Ok(()),
                            Ok(Err(e)) => Err(e),
                            Err(_) => Err(AuditError::Closed(
                                "the shutdown checkpoint was not written".to_string(),
                            )),
                        }
                    } else {
                        Ok(())
                    };
                    let _ = ack.send(result);
                    break;
                }
                Event::Msg(Msg::Checkpoint { ack }) => {
                    if !self.commit(vec![Entry::Checkpoint {
                        reason: "manual",
                        ack: Some(ack),
                    }]) {
                        break;
                    }
                }
                Event::Held => {
                    let mut batch = std::mem::take(&mut held);
                    carry = self.gather(&mut rx, &mut batch, &mut held).await;
                    if !self.commit(batch) {
                        break;
                    }
                }
                Event::Msg(Msg::Append {
                    body,
                    body_crc,
                    digest,
                    ack,
                }) => {
                    let mut batch = vec![Entry::Record {
                        body,
                        body_crc,
                        digest,
                        ack: Some(ack),
                    }];
                    carry = self.gather(&mut rx, &mut batch, &mut held).await;
                    if !self.commit(batch) {
                        break;
                    }
                }
            }
        }
        // Every batch written is synced and acknowledged (or failed) before the queue is
        // drained with errors.
        self.syncer.finish();
        self.shared.closed.store(true, Ordering::SeqCst);
        rx.close();
        let reason = self
            .shared
            .failure()
            .unwrap_or_else(|| "the journal was closed".to_string());
        for entry in held {
            entry.fail(AuditError::Closed(reason.clone()));
        }
        let pending = carry
            .into_iter()
            .chain(std::iter::from_fn(|| rx.try_recv().ok()));
        for msg in pending {
            let error = AuditError::Closed(reason.clone());
            match msg {
                Msg::Append { ack, .. } | Msg::Checkpoint { ack } => {
                    let _ = ack.send(Err(error));
                }
                Msg::Close { ack } => {
                    let _ = ack.send(if self.shared.failure().is_some() {
                        Err(error)
                    } else {
                        Ok(())
                    });
                }
            }
        }
    }

    async fn next_event(&self, rx: &mut mpsc::Receiver<Msg>) -> Event {
        let every = self.config.checkpoint_every;
        let due = (!every.is_zero() && self.since_checkpoint > 0)
            .then(|| self.last_checkpoint.checked_add(every))
            .flatten();
        let received = match due {
            Some(deadline) => match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(received) => received,
                Err(_) => return Event::CheckpointDue,
            },
            None => rx.recv().await,
        };
        match received {
            Some(msg) => Event::Msg(msg),
            None => Event::Disconnected,
        }
    }

    /// Complete `batch` (see `fill`), then move to `held` what the next write should take:
    /// while the sync thread is busy, a write takes whole hashing groups only, since the
    /// records it leaves wait for the same `fdatasync` either way and a partial group costs
    /// as much to hash as a full one. Returns a control message met on the way.
    async fn gather(
        &self,
        rx: &mut mpsc::Receiver<Msg>,
        batch: &mut Vec<Entry>,
        held: &mut Vec<Entry>,
    ) -> Option<Msg> {
        let mut bytes = batch.iter().map(Entry::estimated_len).sum();
        let control = self.fill(rx, batch, &mut bytes).await;
        if control.is_none() && batch.len() > HASH_GROUP && self.syncer.busy() {
            *held = batch.split_off(batch.len() - batch.len() % HASH_GROUP);
        }
        control
    }

    /// Add to `batch` every append already waiting, then those arriving within the batch
    /// window, up to the batch limits. Returns a control message met on the way.
    async fn fill(
        &self,
        rx: &mut mpsc::Receiver<Msg>,
        batch: &mut Vec<Entry>,
        bytes: &mut usize,
    ) -> Option<Msg> {
        let max_records = self.config.batch_max_records;
        let max_bytes = self.config.batch_max_bytes;
        let take = |msg: Msg, batch: &mut Vec<Entry>, bytes: &mut usize| match msg {
            Msg::Append {
                body,
                body_crc,
                digest,
                ack,
            } => {
                *bytes += body.len();
                batch.push(Entry::Record {
                    body,
                    body_crc,
                    digest,
                    ack: Some(ack),
                });
                None
            }
            other => Some(other),
        };
        while batch.len() < max_records && *bytes < max_bytes {
            match rx.try_recv() {
                Ok(msg) => {
                    if let Some(control) = take(msg, batch, bytes) {
                        return Some(control);
                    }
                }
                Err(_) => break,
            }
        }
        // While the sync thread is busy, records written now would wait for its current
        // fdatasync anyway: gather at least one full hashing group (or until it is idle),
        // which costs the writer far less CPU per record than small batches.
        let idle = self.syncer.idle();
        let wanted = HASH_GROUP.min(max_records);
        while batch.len() < wanted && *bytes < max_bytes {
            // Registered before `busy` is read, so that the sync thread's wake-up cannot
            // fall between the two.
            let notified = idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if !self.syncer.busy() {
                break;
            }
            tokio::select! {
                received = rx.recv() => match received {
                    Some(msg) => {
                        if let Some(control) = take(msg, batch, bytes) {
                            return Some(control);
                        }
                    }
                    None => break,
                },
                () = &mut notified => break,
            }
        }
        let window = self.config.batch_window;
        if window.is_zero() {
            return None;
        }
        let deadline = Instant::now() + window;
        while batch.len() < max_records && *bytes < max_bytes {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(msg)) => {
                    if let Some(control) = take(msg, batch, bytes) {
                        return Some(control);
                    }
                }
                Ok(None) | Err(_) => break,
            }
        }
        None
    }
}

/// The number of bodies hashed together (see `multi_sha256`).
const HASH_GROUP: usize = super::multi_sha256::MAX_GROUP;

enum Event {
    Msg(Msg),
    /// Records were held back from the last write.
    Held,
    CheckpointDue,
    Disconnected,
}
