//! The file journal's single writer: a dedicated thread that opens (and recovers) the
//! journal, then does group commit: it takes every append waiting in the queue (bounded by
//! count, bytes and a short window), writes them with one `write`, `fdatasync`s, and only
//! then acknowledges each caller.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, NaiveDate, Utc};
use ed25519_dalek::SigningKey;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::file_journal::{FileJournalConfig, Shared};
use super::format::{
    FRAME_HEADER_LEN, FRAME_TRAILER_LEN, LOCK_FILE, SEGMENT_HEADER_LEN, SegmentHeader,
    encode_frame, micros_to_time, segment_file_name, sha256,
};
use super::prune::sync_dir;
use super::walk::{Start, walk};
use super::{Appended, AuditError, CheckpointRecord, Head, Record, TruncationRecord, checkpoint};

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
    /// Open the journal: create the directory, take the lock, check the chain, cut off an
    /// incomplete final record.
    fn open(
        config: FileJournalConfig,
        shared: Arc<Shared>,
    ) -> Result<(Writer, Opened), AuditError> {
        config.validate()?;
        let dir = config.dir.clone();
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(|e| AuditError::io(&dir, "create the journal directory", e))?;
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                sync_dir(parent)?;
            }
        }
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&lock_path)
            .map_err(|e| AuditError::io(&lock_path, "open the lock file", e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(AuditError::Locked {
                    dir: dir.display().to_string(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(AuditError::io(&lock_path, "lock", e));
            }
        }
        let signing = match &config.signing_key {
            Some(path) => Some(checkpoint::load_signing_key(path)?),
            None => None,
        };
        remove_temporary_files(&dir)?;
        let start = if config.full_check_on_open {
            Start::First
        } else {
            Start::LastSegment
        };
        let mut since_checkpoint = 0u64;
        let end = walk(&dir, start, &mut |v| {
            if matches!(v.record, Record::Checkpoint(_)) {
                since_checkpoint = 0;
            } else {
                since_checkpoint += 1;
            }
            None
        })?;
        let now = (config.clock)();
        let mut truncation = None;
        if let Some(problem) = &end.problem {
            let last = end.last.as_ref().filter(|_| problem.torn_tail);
            let Some(last) = last else {
                return Err(problem.to_error());
            };
            let (bytes_cut, cut_sha256) = cut_tail(&last.file.path, problem.offset)?;
            tracing::warn!(
                segment = %last.file.name,
                offset = problem.offset,
                bytes_cut,
                "audit journal: cut an incomplete final record left by an interrupted write"
            );
            truncation = Some(TruncationRecord {
                at: now,
                segment: last.file.name.clone(),
                offset: problem.offset,
                bytes_cut,
                cut_sha256,
                sequence: problem.sequence,
                reason: problem.reason.clone(),
            });
        }
        let active = match &end.last {
            Some(last) => {
                let file = OpenOptions::new()
                    .append(true)
                    .open(&last.file.path)
                    .map_err(|e| AuditError::io(&last.file.path, "open for appending", e))?;
                Some(Active {
                    file,
                    path: last.file.path.clone(),
                    size: last.valid_len,
                    day: micros_to_time(last.header.created_at_micros).date_naive(),
                })
            }
            None => None,
        };
        if let Some(head) = end.head {
            shared.set_head(head);
        }
        let writer = Writer {
            buf: Vec::with_capacity(config.batch_max_bytes.min(16 << 20)),
            config,
            shared,
            signing,
            _lock: lock,
            active,
            next_sequence: end.next_sequence,
            head: end.chain_hash,
            since_checkpoint,
            last_checkpoint: Instant::now(),
        };
        Ok((writer, Opened { truncation }))
    }

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

    /// Write `entries` (plus a checkpoint when one is due by count) with one write and one
    /// fdatasync, then acknowledge them. On failure every entry fails, the failure is kept,
    /// and `false` tells the caller to stop.
    fn commit(&mut self, entries: Vec<Entry>) -> bool {
        let now = (self.config.clock)();
        let micros = now.timestamp_micros();
        let estimate: usize = entries.iter().map(Entry::estimated_len).sum();
        if let Err(failure) = self.ensure_segment(now, estimate as u64) {
            return self.fail(entries, failure);
        }
        self.buf.clear();
        let mut sequence = self.next_sequence;
        let mut head = self.head;
        let mut since = self.since_checkpoint;
        let mut acks = Vec::with_capacity(entries.len());
        let mut records = 0u64;
        let every = self.config.checkpoint_every_records;
        let mut entries = entries.into_iter();
        let mut auto_checkpoint_written = false;
        let mut wrote_checkpoint = false;
        loop {
            let entry = match entries.next() {
                Some(entry) => entry,
                None if every > 0 && since >= every && !auto_checkpoint_written => {
                    auto_checkpoint_written = true;
                    Entry::Checkpoint {
                        reason: "records",
                        ack: None,
                    }
                }
                None => break,
            };
            let (body, digest, ack, is_checkpoint) = match entry {
                Entry::Record { body, digest, ack } => (body, digest, ack, false),
                Entry::Checkpoint { reason, ack } => {
                    match self.checkpoint_body(now, sequence.saturating_sub(1), &head, reason) {
                        Ok(body) => {
                            let digest = sha256(&body);
                            (body, digest, ack, true)
                        }
                        Err(e) => {
                            if let Some(ack) = ack {
                                let _ = ack.send(Err(e));
                            }
                            continue;
                        }
                    }
                }
            };
            head = encode_frame(&mut self.buf, &head, sequence, micros, &body, &digest);
            acks.push((
                ack,
                Appended {
                    sequence,
                    hash: head,
                },
            ));
            if is_checkpoint {
                since = 0;
                wrote_checkpoint = true;
            } else {
                since += 1;
                records += 1;
            }
            sequence += 1;
        }
        if acks.is_empty() {
            return true;
        }
        let Some(active) = self.active.as_mut() else {
            let failure = Failure::new(&self.config.dir, "write", &no_segment());
            return self.fail_acks(acks, failure);
        };
        if let Err(e) = active.file.write_all(&self.buf) {
            let failure = Failure::new(&active.path, "write", &e);
            return self.fail_acks(acks, failure);
        }
        if let Err(e) = active.file.sync_data() {
            let failure = Failure::new(&active.path, "fdatasync", &e);
            return self.fail_acks(acks, failure);
        }
        active.size += self.buf.len() as u64;
        if wrote_checkpoint {
            self.last_checkpoint = Instant::now();
        }
        self.next_sequence = sequence;
        self.head = head;
        self.since_checkpoint = since;
        let stats = &self.shared.stats;
        stats.records.fetch_add(records, Ordering::Relaxed);
        stats.frames.fetch_add(acks.len() as u64, Ordering::Relaxed);
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats
            .bytes
            .fetch_add(self.buf.len() as u64, Ordering::Relaxed);
        self.shared.set_head(Head {
            sequence: sequence - 1,
            hash: head,
        });
        for (ack, appended) in acks {
            if let Some(ack) = ack {
                let _ = ack.send(Ok(appended));
            }
        }
        true
    }

    fn checkpoint_body(
        &self,
        now: DateTime<Utc>,
        sequence: u64,
        head: &[u8; 32],
        reason: &str,
    ) -> Result<Vec<u8>, AuditError> {
        let (public_key, signature) = match &self.signing {
            Some(key) => {
                let (p, s) = checkpoint::sign(key, sequence, head);
                (Some(p), Some(s))
            }
            None => (None, None),
        };
        serde_json::to_vec(&Record::Checkpoint(CheckpointRecord {
            at: now,
            sequence,
            head: hex::encode(head),
            reason: reason.to_string(),
            public_key,
            signature,
        }))
        .map_err(|e| AuditError::Encode(e.to_string()))
    }

    /// Rotate to a new segment when there is none yet, the UTC day changed, or the batch
    /// would take the current one past its size limit.
    fn ensure_segment(&mut self, now: DateTime<Utc>, batch_bytes: u64) -> Result<(), Failure> {
        let today = now.date_naive();
        let rotate = match &self.active {
            None => true,
            Some(a) => {
                a.day != today
                    || (a.size > SEGMENT_HEADER_LEN as u64
                        && a.size + batch_bytes > self.config.segment_max_bytes)
            }
        };
        if !rotate {
            return Ok(());
        }
        let dir = &self.config.dir;
        let name = segment_file_name(self.next_sequence, today);
        let path = dir.join(&name);
        let tmp = dir.join(format!("{name}.tmp"));
        if path.exists() {
            let e = std::io::Error::new(std::io::ErrorKind::AlreadyExists, "segment exists");
            return Err(Failure::new(&path, "create segment", &e));
        }
        let header = SegmentHeader {
            first_sequence: self.next_sequence,
            created_at_micros: now.timestamp_micros(),
            prev_hash: self.head,
        };
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| Failure::new(&tmp, "create segment", &e))?;
        file.write_all(&header.encode())
            .map_err(|e| Failure::new(&tmp, "write segment header", &e))?;
        file.sync_all()
            .map_err(|e| Failure::new(&tmp, "fsync segment header", &e))?;
        std::fs::rename(&tmp, &path).map_err(|e| Failure::new(&path, "rename segment", &e))?;
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Failure::new(dir, "fsync directory", &e))?;
        self.shared
            .stats
            .segments_created
            .fetch_add(1, Ordering::Relaxed);
        self.active = Some(Active {
            file,
            path,
            size: SEGMENT_HEADER_LEN as u64,
            day: today,
        });
        Ok(())
    }

    fn fail(&mut self, entries: Vec<Entry>, failure: Failure) -> bool {
        self.record_failure(&failure);
        for entry in entries {
            entry.fail(failure.error());
        }
        false
    }

    fn fail_acks(
        &mut self,
        acks: Vec<(Option<Ack<Appended>>, Appended)>,
        failure: Failure,
    ) -> bool {
        self.record_failure(&failure);
        for (ack, _) in acks {
            if let Some(ack) = ack {
                let _ = ack.send(Err(failure.error()));
            }
        }
        false
    }

    fn record_failure(&self, failure: &Failure) {
        tracing::error!(
            path = %failure.path.display(),
            operation = failure.operation,
            error = %failure.message,
            "audit journal write failed; the journal refuses appends until reopened"
        );
        self.shared.set_failure(format!(
            "an earlier {} of {} failed ({}); no later record is accepted until the journal is reopened",
            failure.operation,
            failure.path.display(),
            failure.message
        ));
    }
}

enum Event {
    Msg(Msg),
    CheckpointDue,
    Disconnected,
}

fn no_segment() -> std::io::Error {
    std::io::Error::other("no segment is open")
}

/// Remove `*.bcj.tmp` files left by a crash while creating a segment (they hold only a
/// header, never a record).
fn remove_temporary_files(dir: &Path) -> Result<(), AuditError> {
    let entries = std::fs::read_dir(dir).map_err(|e| AuditError::io(dir, "list directory", e))?;
    for entry in entries {
        let entry = entry.map_err(|e| AuditError::io(dir, "list directory", e))?;
        let name = entry.file_name();
        if name
            .to_str()
            .is_some_and(|n| n.starts_with("seg-") && n.ends_with(".bcj.tmp"))
        {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(|e| AuditError::io(&path, "remove", e))?;
        }
    }
    Ok(())
}

/// Cut `path` at `offset`; returns how many bytes were cut and their SHA-256.
fn cut_tail(path: &Path, offset: u64) -> Result<(u64, String), AuditError> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| AuditError::io(path, "open to cut the incomplete final record", e))?;
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| AuditError::io(path, "seek", e))?;
    let mut hasher = ring::digest::Context::new(&ring::digest::SHA256);
    let mut cut = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| AuditError::io(path, "read", e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        cut += n as u64;
    }
    file.set_len(offset)
        .map_err(|e| AuditError::io(path, "truncate", e))?;
    file.sync_all()
        .map_err(|e| AuditError::io(path, "fsync", e))?;
    Ok((cut, hex::encode(hasher.finish().as_ref())))
}
