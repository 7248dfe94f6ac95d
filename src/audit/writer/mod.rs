//! The file journal's single writer: a dedicated thread that opens (and recovers) the
//! journal, then does group commit in two stages. This thread takes every append waiting
//! in the queue (bounded by count, bytes and an optional window), hashes the bodies
//! together, chains and frames them, and writes the batch with one vectored `write`; the
//! sync threads `fdatasync` (up to two at once) and only then acknowledge each caller,
//! while this thread prepares the next batch.
//!
//! Opening and recovery are in `open`, writing a batch in `commit` (checkpoints, and the
//! witness, in `checkpoint`), syncing in `sync`.

mod checkpoint;
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

use uuid::Uuid;

use super::codec::{self, Body};
use super::file_journal::{FileJournalConfig, Shared};
use super::format::{FRAME_HEADER_LEN, FRAME_TRAILER_LEN};
use super::{Appended, AuditError, Head, Record, TruncationRecord};

/// An acknowledgement channel.
pub(crate) type Ack<T> = oneshot::Sender<Result<T, AuditError>>;

/// What callers send the writer.
pub(crate) enum Msg {
    /// Append one encoded record; `body_crc` is its CRC32C and `digest` its SHA-256 when
    /// the caller computed it (else the writer does). No `ack` for a deferred record.
    Append {
        body: Body,
        body_crc: u32,
        digest: Option<[u8; 32]>,
        ack: Option<Ack<Appended>>,
    },
    /// Write a checkpoint now.
    Checkpoint { ack: Ack<Appended> },
    /// Append a prune record, then a checkpoint; the checkpoint's position is acknowledged.
    Prune { body: Body, ack: Ack<Appended> },
    /// Write the shutdown checkpoint and stop.
    Close { ack: Ack<()> },
}

/// What the writer reports once the journal is open.
#[derive(Debug)]
pub(crate) struct Opened {
    pub truncation: Option<TruncationRecord>,
    pub journal_id: Uuid,
    /// Whether only the part after the last checkpoint was checked.
    pub from_checkpoint: bool,
    /// Records read while opening.
    pub records_read: u64,
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
    let mut first = Vec::new();
    if let Some(genesis) = opened_genesis(&mut writer) {
        first.push(genesis);
    }
    if let Some(truncation) = &opened.truncation {
        first.push(Record::Truncation(truncation.clone()));
    }
    if let Err(e) = writer.write_own(first) {
        let _ = ready.send(Err(e));
        return;
    }
    if writer.config.index {
        writer.indexer = super::index::IndexThread::spawn(
            &writer.config.dir,
            writer.journal_id,
            Arc::clone(&writer.shared),
        );
    }
    if ready.send(Ok(opened)).is_err() {
        return;
    }
    runtime.block_on(writer.serve(rx));
}

/// The genesis record a new journal starts with, when it needs one.
fn opened_genesis(writer: &mut Writer) -> Option<Record> {
    writer.genesis.take().map(Record::Genesis)
}

/// Who wrote a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// A caller, through `append`.
    Caller,
    /// The journal itself (genesis, truncation, prune).
    Journal,
    /// A checkpoint.
    Checkpoint,
}

/// One entry of a batch.
enum Entry {
    Record {
        body: Body,
        body_crc: u32,
        digest: Option<[u8; 32]>,
        ack: Option<Ack<Appended>>,
        origin: Origin,
    },
    Checkpoint {
        reason: &'static str,
        ack: Option<Ack<Appended>>,
    },
}

impl Entry {
    /// A record the journal writes itself.
    fn own(record: &Record, ack: Option<Ack<Appended>>) -> Result<Entry, AuditError> {
        let body = codec::encode(record)?;
        Ok(Entry::Record {
            body_crc: body.crc32c(),
            digest: None,
            body,
            ack,
            origin: Origin::Journal,
        })
    }

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
    /// Shared with the sync threads, which sync the batches written to it.
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
    journal_id: Uuid,
    /// The genesis record still to write (a new journal).
    genesis: Option<super::GenesisRecord>,
    active: Option<Active>,
    next_sequence: u64,
    head: [u8; 32],
    since_checkpoint: u64,
    last_checkpoint: Instant,
    /// The last head recorded in the witness.
    last_witnessed: Option<Head>,
    /// Where the last frame written starts: its segment and offset.
    last_frame: Option<(PathBuf, u64)>,
    syncer: sync::Syncer,
    /// Keeps the sidecar index up to date (stopped after the last sync).
    indexer: Option<super::index::IndexThread>,
}

impl Writer {
    /// Serve callers until closed, disconnected, or an I/O failure.
    async fn serve(mut self, mut rx: mpsc::Receiver<Msg>) {
        let mut carry: Option<Msg> = None;
        loop {
            let event = match carry.take() {
                Some(msg) => Event::Msg(msg),
                None => self.next_event(&mut rx).await,
            };
            let go_on = match event {
                Event::Disconnected => {
                    // Dropped without close: deferred records still go to disk.
                    self.commit(Vec::new());
                    false
                }
                Event::CheckpointDue => self.commit(vec![Entry::Checkpoint {
                    reason: "interval",
                    ack: None,
                }]),
                Event::Msg(Msg::Close { ack }) => {
                    let _ = ack.send(self.close());
                    false
                }
                Event::Msg(Msg::Prune { body, ack }) => self.commit(vec![
                    Entry::Record {
                        body_crc: body.crc32c(),
                        digest: None,
                        body,
                        ack: None,
                        origin: Origin::Journal,
                    },
                    Entry::Checkpoint {
                        reason: "prune",
                        ack: Some(ack),
                    },
                ]),
                Event::Msg(Msg::Checkpoint { ack }) => self.commit(vec![Entry::Checkpoint {
                    reason: "manual",
                    ack: Some(ack),
                }]),
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
                        ack,
                        origin: Origin::Caller,
                    }];
                    let mut bytes = batch.iter().map(Entry::estimated_len).sum();
                    carry = self.fill(&mut rx, &mut batch, &mut bytes).await;
                    self.commit(batch)
                }
            };
            if !go_on {
                break;
            }
        }
        // Every batch written is synced and acknowledged (or failed) before the queue is
        // drained with errors.
        self.syncer.finish();
        if let Some(mut indexer) = self.indexer.take() {
            indexer.finish();
        }
        self.shared.closed.store(true, Ordering::SeqCst);
        rx.close();
        let reason = self
            .shared
            .failure()
            .unwrap_or_else(|| "the journal was closed".to_string());
        let pending = carry
            .into_iter()
            .chain(std::iter::from_fn(|| rx.try_recv().ok()));
        for msg in pending {
            let error = AuditError::Closed(reason.clone());
            match msg {
                Msg::Append { ack: None, .. } => {}
                Msg::Append { ack: Some(ack), .. }
                | Msg::Checkpoint { ack }
                | Msg::Prune { ack, .. } => {
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
                    ack,
                    origin: Origin::Caller,
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
        // While every sync thread is busy, records written now would wait for an fdatasync
        // to end anyway: gather at least HASH_GROUP of them (or until a sync ends), which
        // costs the writer less CPU per record than small writes.
        let freed = self.syncer.freed();
        let wanted = HASH_GROUP.min(max_records);
        while batch.len() < wanted && *bytes < max_bytes {
            // Registered before `saturated` is read, so that a sync thread's wake-up cannot
            // fall between the two.
            let notified = freed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if !self.syncer.saturated() {
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

/// While every sync thread is busy, a write gathers at least this many appends (they wait
/// for the same `fdatasync` either way, and larger writes cost less per record).
const HASH_GROUP: usize = 16;

enum Event {
    Msg(Msg),
    CheckpointDue,
    Disconnected,
}
