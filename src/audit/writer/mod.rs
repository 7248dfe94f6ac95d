//! The file journal's single writer: a dedicated thread that opens (and recovers) the
//! journal, then does group commit: it takes every append waiting in the queue (bounded by
//! count, bytes and a short window), writes them with one `write`, `fdatasync`s, and only
//! then acknowledges each caller.
//!
//! Opening and recovery are in `open`, writing a batch in `commit`.

mod commit;
mod open;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::NaiveDate;
use ed25519_dalek::SigningKey;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::file_journal::{FileJournalConfig, Shared};
use super::format::{FRAME_HEADER_LEN, FRAME_TRAILER_LEN, sha256};
use super::{Appended, AuditError, Record, TruncationRecord};

/// An acknowledgement channel.
pub(crate) type Ack<T> = oneshot::Sender<Result<T, AuditError>>;

/// What callers send the writer.
pub(crate) enum Msg {
    /// Append one encoded record; `digest` is the body's SHA-256, computed by the caller.
    Append {
        body: Vec<u8>,
        digest: [u8; 32],
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
            digest: sha256(&body),
            body,
            ack: Some(ack),
        }]);
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
        digest: [u8; 32],
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
    file: File,
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
    buf: Vec<u8>,
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
                Event::Msg(Msg::Append { body, digest, ack }) => {
                    let mut bytes = body.len();
                    let mut batch = vec![Entry::Record {
                        body,
                        digest,
                        ack: Some(ack),
                    }];
                    carry = self.fill(&mut rx, &mut batch, &mut bytes).await;
                    if !self.commit(batch) {
                        break;
                    }
                }
            }
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
            Msg::Append { body, digest, ack } => {
                *bytes += body.len();
                batch.push(Entry::Record {
                    body,
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

enum Event {
    Msg(Msg),
    CheckpointDue,
    Disconnected,
}
