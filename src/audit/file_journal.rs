//! [`FileJournal`]: the embedded journal, a directory of append-only segments written by one
//! writer thread doing group commit.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use uuid::Uuid;

use super::codec::{self, Body, MAX_META_BYTES, body_overhead};
use super::format::MAX_BODY_BYTES;
use super::writer::{self, Msg};
use super::{Appended, AuditError, CallRecord, Head, Journal, Record, TruncationRecord, Witness};
use crate::transport::BoxFuture;

/// How a [`FileJournal`] is laid out and batches its writes.
///
/// ```
/// use bcss::audit::FileJournalConfig;
/// let mut config = FileJournalConfig::new("/var/lib/myapp/bcss-journal");
/// config.signing_key = Some("/etc/myapp/journal-signing.pem".into());
/// assert_eq!(config.segment_max_bytes, 64 * 1024 * 1024);
/// // A reply of 16 MiB (the default reply limit) always fits in one record.
/// assert!(config.max_payload_bytes() >= 16 * 1024 * 1024);
/// ```
#[derive(Debug, Clone)]
pub struct FileJournalConfig {
    /// The journal directory (created mode 0700 when missing).
    pub dir: PathBuf,
    /// A segment is rotated once the next batch would take it past this size (it is also
    /// rotated when the UTC day changes). Default 64 MiB.
    pub segment_max_bytes: u64,
    /// The largest record body accepted (its JSON part and its request or reply bytes).
    /// Default 32 MiB, at most 64 MiB; see [`max_payload_bytes`](Self::max_payload_bytes).
    pub max_record_bytes: usize,
    /// The most records written with one fdatasync. Default 1024.
    pub batch_max_records: usize,
    /// The most bytes written with one fdatasync (a single larger record still goes alone).
    /// Default 16 MiB.
    pub batch_max_bytes: usize,
    /// How long the writer waits for more appends after taking the ones already queued,
    /// before writing (at most one second; the timer's resolution is about a millisecond).
    /// Zero (the default) writes at once: appends that arrive during an fdatasync already
    /// form the next batch, which measured best (see `benches/journal_append.rs`).
    pub batch_window: Duration,
    /// How many appends may wait for the writer before callers wait to enqueue. Default 4096.
    pub queue_capacity: usize,
    /// A checkpoint is written after this many records (0: never by count). Default 1000.
    pub checkpoint_every_records: u64,
    /// A checkpoint is written when records were added and this much time passed since the
    /// last one (zero: never by time). Default 5 minutes.
    pub checkpoint_every: Duration,
    /// Write a checkpoint in [`FileJournal::close`] when records were added since the last
    /// one. Default true.
    pub checkpoint_on_close: bool,
    /// A PKCS#8 PEM file with the Ed25519 key that signs the genesis record, checkpoints
    /// and witnessed heads. Default none (unsigned).
    pub signing_key: Option<PathBuf>,
    /// Where the journal's heads are kept outside it: recorded at creation, at every
    /// checkpoint (before the checkpoint is written) and at close. Opening refuses a
    /// journal whose witness holds a head it does not have. Default none.
    pub witness: Option<Arc<dyn Witness>>,
    /// The clock for write times and day rotation (UTC). Default [`Utc::now`]; tests replace
    /// it.
    pub clock: fn() -> DateTime<Utc>,
    /// How long opening waits for the journal's lock while another process holds it,
    /// before failing with [`AuditError::Locked`]. While it waits it says so once (a `WARN`
    /// event of target [`LOCK_WAIT_TARGET`](super::LOCK_WAIT_TARGET), naming the holder's
    /// process id when known). Default 30 seconds ([`DEFAULT_LOCK_WAIT`](super::DEFAULT_LOCK_WAIT));
    /// `[journal] lock_wait_seconds` in `bcss.toml`.
    pub lock_wait: Duration,
    /// Keep the sidecar index (`index/` in the directory) up to date, in a thread of its
    /// own, for [`query`](super::query()). Default true. The index is rebuilt from the
    /// segments by [`reindex`](super::reindex()); queries work without it (reading every
    /// record).
    pub index: bool,
    /// For a reads chain (`reads/` of a journal): the journal it belongs to. Its witness
    /// may then already hold that journal's heads when the reads chain is created.
    pub(crate) parent: Option<Uuid>,
}

impl FileJournalConfig {
    /// The defaults, for a journal in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileJournalConfig {
            dir: dir.into(),
            segment_max_bytes: 64 * 1024 * 1024,
            max_record_bytes: 32 * 1024 * 1024,
            batch_max_records: 1024,
            batch_max_bytes: 16 * 1024 * 1024,
            batch_window: Duration::ZERO,
            queue_capacity: 4096,
            checkpoint_every_records: 1000,
            checkpoint_every: Duration::from_secs(300),
            checkpoint_on_close: true,
            signing_key: None,
            witness: None,
            clock: Utc::now,
            lock_wait: super::DEFAULT_LOCK_WAIT,
            index: true,
            parent: None,
        }
    }

    /// The largest total of request and reply bytes one record can always hold: the
    /// record limit less the JSON part's limit ([`MAX_META_BYTES`]) and the body's framing.
    pub fn max_payload_bytes(&self) -> usize {
        max_payload_bytes(self.max_record_bytes)
    }

    pub(crate) fn validate(&self) -> Result<(), AuditError> {
        let bad = |what: &str| Err(AuditError::Config(what.to_string()));
        if self.max_record_bytes <= MAX_META_BYTES + body_overhead(2)
            || self.max_record_bytes > MAX_BODY_BYTES
        {
            return bad(
                "max_record_bytes must be above 1 MiB (the JSON part's limit) and at most 64 MiB",
            );
        }
        if self.batch_max_records == 0 || self.batch_max_bytes == 0 || self.queue_capacity == 0 {
            return bad("batch_max_records, batch_max_bytes and queue_capacity must be positive");
        }
        if self.segment_max_bytes < 4096 {
            return bad("segment_max_bytes must be at least 4096");
        }
        if self.batch_window > Duration::from_secs(1) {
            return bad("batch_window must be at most one second");
        }
        Ok(())
    }
}

/// The payload bytes a record of at most `max_record_bytes` can always hold (see
/// [`FileJournalConfig::max_payload_bytes`]): room is kept for a JSON part at its limit and
/// the framing of two payloads (a request and a reply).
pub(crate) fn max_payload_bytes(max_record_bytes: usize) -> usize {
    max_record_bytes.saturating_sub(MAX_META_BYTES + body_overhead(2))
}

/// Counters of a [`FileJournal`]'s writer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JournalStats {
    /// Records appended by callers (checkpoints and truncations excluded).
    pub records: u64,
    /// Frames written (records, checkpoints, truncations).
    pub frames: u64,
    /// Group commits: each one `fdatasync` covering one or more writes.
    pub batches: u64,
    /// Writes, each of one batch of frames.
    pub writes: u64,
    /// Bytes written in frames.
    pub bytes: u64,
    /// Segments created.
    pub segments_created: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub records: AtomicU64,
    pub frames: AtomicU64,
    pub batches: AtomicU64,
    pub writes: AtomicU64,
    pub bytes: AtomicU64,
    pub segments_created: AtomicU64,
}

/// State the writer shares with the handle.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    failure: Mutex<Option<String>>,
    head: Mutex<Option<Head>>,
    pub closed: AtomicBool,
    pub stats: Counters,
    /// Appends between encoding and acknowledgement.
    pub in_flight: AtomicUsize,
    /// Deferred records that did not fit in the queue: written with the next batch.
    deferred: Mutex<Vec<(Body, u32)>>,
}

/// Up to this many appends in flight, each caller hashes its own body (in parallel, and
/// while the writer waits for the previous `fdatasync`); above it, the writer hashes whole
/// batches together, which costs far less CPU per record.
const CALLER_HASHES_UP_TO: usize = 16;

/// Counts an append in flight until dropped (also when the caller stops waiting).
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn enter(counter: &'a AtomicUsize) -> (Self, usize) {
        let now = counter.fetch_add(1, Ordering::Relaxed) + 1;
        (InFlight(counter), now)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Shared {
    pub(crate) fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set_failure(&self, reason: String) {
        *self.failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(reason);
    }

    pub(crate) fn set_head(&self, head: Head) {
        *self.head.lock().unwrap_or_else(PoisonError::into_inner) = Some(head);
    }

    fn head(&self) -> Option<Head> {
        *self.head.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The last record known durable (fdatasync'd), for the indexing thread.
    pub(crate) fn durable_head(&self) -> Option<Head> {
        self.head()
    }

    fn defer(&self, body: Body, crc: u32) {
        self.deferred
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((body, crc));
    }

    pub(crate) fn take_deferred(&self) -> Vec<(Body, u32)> {
        std::mem::take(&mut *self.deferred.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The embedded journal: a directory of append-only segment files with a SHA-256 chain,
/// written by one writer thread doing group commit. See [`format`](super::format) for the
/// layout.
///
/// [`append`](Journal::append) resolves only after the fdatasync that covers the record.
/// After a write or fsync failure, the failed appends get [`AuditError::Io`] and every later
/// one [`AuditError::Closed`], until the journal is reopened (which recovers it). Only one
/// process may have a directory open (a lock file): opening it from another waits up to
/// [`FileJournalConfig::lock_wait`] for it to be released, then fails with
/// [`AuditError::Locked`].
///
/// Shut it down with [`close`](FileJournal::close) (writes a checkpoint). Dropping it stops
/// the writer too, after it finished the batch in hand; every acknowledged record is
/// already durable either way.
///
/// ```
/// use std::sync::Arc;
/// use bcss::audit::{CallRecord, FileJournal, FileJournalConfig, FileWitness, Journal};
/// use bcss::audit::{ReadRecord, VerifyOptions};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let tmp = tempfile::tempdir()?;
/// # let (dir, other_volume) = (tmp.path().join("journal"), tmp.path());
/// let witness = Arc::new(FileWitness::new(other_volume.join("journal.witness")));
/// let mut config = FileJournalConfig::new(&dir);
/// config.witness = Some(witness.clone());
/// let journal = FileJournal::open(config).await?;
/// let appended = journal
///     .append(CallRecord::Read(ReadRecord::new("advisor-1", "query", vec![])))
///     .await?;
/// assert_eq!(appended.sequence, 2); // after the genesis record
/// journal.close().await?;
/// let options = VerifyOptions { witness: Some(witness), ..VerifyOptions::default() };
/// let report = bcss::audit::verify(&dir, &options)?;
/// assert!(report.is_ok() && report.unanchored.is_none());
/// assert_eq!(report.records, 3); // genesis, the record, the shutdown checkpoint
/// # Ok(())
/// # }
/// ```
pub struct FileJournal {
    dir: PathBuf,
    tx: mpsc::Sender<Msg>,
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    max_record_bytes: usize,
    truncation: Option<TruncationRecord>,
    journal_id: Uuid,
    opened_from_checkpoint: bool,
    records_read_at_open: u64,
}

impl std::fmt::Debug for FileJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileJournal")
            .field("dir", &self.dir)
            .field("head", &self.shared.head())
            .field("closed", &self.shared.closed.load(Ordering::SeqCst))
            .finish_non_exhaustive()
    }
}

impl FileJournal {
    /// Open (or create) the journal in `config.dir`: take the writer's lock; for a new
    /// journal write its (signed) genesis record and record it in the witness; for an
    /// existing one check the last checkpoint in place (through `head.json`: its frame, its
    /// chain hash, its signature when a key is configured, the witness's last head) and the
    /// chain only from there (the whole chain when that checkpoint does not check), move a
    /// bad final record to quarantine and cut it off (recorded in a [`TruncationRecord`]),
    /// and start the writer thread. Opening costs what follows the last checkpoint, not
    /// the whole history; [`verify`](super::verify()) checks everything.
    ///
    /// Fails with [`AuditError::Damaged`] (naming segment, byte offset and sequence) when
    /// the journal is damaged anywhere but its final record, with
    /// [`AuditError::WitnessMismatch`] when the witness recorded a head the journal does
    /// not have (cut, rewritten, replaced or deleted), with [`AuditError::Locked`] when
    /// another process kept it open longer than [`FileJournalConfig::lock_wait`], and with [`AuditError::Io`] when it cannot be created,
    /// read or written.
    pub async fn open(config: FileJournalConfig) -> Result<FileJournal, AuditError> {
        config.validate()?;
        let dir = config.dir.clone();
        let max_record_bytes = config.max_record_bytes;
        let (tx, rx) = mpsc::channel(config.queue_capacity);
        let shared = Arc::new(Shared::default());
        let (thread, ready) = writer::spawn(config, Arc::clone(&shared), rx)?;
        let opened = ready.await;
        match opened {
            Ok(Ok(opened)) => Ok(FileJournal {
                dir,
                tx,
                shared,
                thread: Mutex::new(Some(thread)),
                max_record_bytes,
                truncation: opened.truncation,
                journal_id: opened.journal_id,
                opened_from_checkpoint: opened.from_checkpoint,
                records_read_at_open: opened.records_read,
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(AuditError::Closed(
                    "the journal writer stopped while opening".to_string(),
                ))
            }
        }
    }

    /// The journal directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The last durable record's position (`None` for an empty journal).
    pub fn head(&self) -> Option<Head> {
        self.shared.head()
    }

    /// What opening cut off (and kept in quarantine), when the journal was recovered.
    pub fn recovered_truncation(&self) -> Option<&TruncationRecord> {
        self.truncation.as_ref()
    }

    /// The journal's id (its genesis record's).
    pub fn journal_id(&self) -> Uuid {
        self.journal_id
    }

    /// How opening went: whether it started from a confirmed checkpoint (rather than
    /// checking the whole journal), and how many records it read.
    pub fn open_stats(&self) -> (bool, u64) {
        (self.opened_from_checkpoint, self.records_read_at_open)
    }

    /// The writer's counters.
    pub fn stats(&self) -> JournalStats {
        let c = &self.shared.stats;
        JournalStats {
            records: c.records.load(Ordering::Relaxed),
            frames: c.frames.load(Ordering::Relaxed),
            batches: c.batches.load(Ordering::Relaxed),
            writes: c.writes.load(Ordering::Relaxed),
            bytes: c.bytes.load(Ordering::Relaxed),
            segments_created: c.segments_created.load(Ordering::Relaxed),
        }
    }

    /// Write a checkpoint now (signed when a key is configured); resolves once durable.
    pub async fn checkpoint(&self) -> Result<Appended, AuditError> {
        let (ack, rx) = oneshot::channel();
        self.tx
            .send(Msg::Checkpoint { ack })
            .await
            .map_err(|_| self.closed_error())?;
        rx.await.map_err(|_| self.closed_error())?
    }

    /// Encode `record`, refusing it when it is over the record limit.
    fn encode(&self, record: CallRecord) -> Result<Body, AuditError> {
        let record = Record::from(record);
        let body = codec::encode(&record)?;
        if body.len() > self.max_record_bytes {
            return Err(AuditError::TooLarge {
                kind: record.kind(),
                bytes: body.len(),
                limit: self.max_record_bytes,
                limit_name: "the journal's max_record_bytes",
            });
        }
        Ok(body)
    }

    /// Append `record`; resolves once it is durable. This is [`Journal::append`].
    pub async fn append_record(&self, record: CallRecord) -> Result<Appended, AuditError> {
        let body = self.encode(record)?;
        let (_in_flight, in_flight) = InFlight::enter(&self.shared.in_flight);
        // The checksum, and with few appends in flight the digest, are computed here on the
        // caller's task, to keep the writer's sequential work short.
        let body_crc = body.crc32c();
        let digest = (in_flight <= CALLER_HASHES_UP_TO).then(|| body.digest());
        let (ack, rx) = oneshot::channel();
        self.tx
            .send(Msg::Append {
                body,
                body_crc,
                digest,
                ack: Some(ack),
            })
            .await
            .map_err(|_| self.closed_error())?;
        rx.await.map_err(|_| self.closed_error())?
    }

    /// Queue `record` for the next batch without waiting. This is
    /// [`Journal::append_deferred`].
    pub fn append_record_deferred(&self, record: CallRecord) -> Result<(), AuditError> {
        if self.shared.closed.load(Ordering::SeqCst) || self.shared.failure().is_some() {
            return Err(self.closed_error());
        }
        let body = self.encode(record)?;
        let body_crc = body.crc32c();
        let msg = Msg::Append {
            body,
            body_crc,
            digest: None,
            ack: None,
        };
        match self.tx.try_send(msg) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(Msg::Append { body, body_crc, .. })) => {
                // The writer is busy with a full queue: it takes these with its next batch.
                self.shared.defer(body, body_crc);
                Ok(())
            }
            Err(_) => Err(self.closed_error()),
        }
    }

    /// Remove old segments (see [`prune`](super::prune())): the prune record and a
    /// checkpoint are written (and witnessed) first.
    pub async fn prune(&self, before: DateTime<Utc>) -> Result<super::PruneReport, AuditError> {
        super::prune::prune_open(self, before, Utc::now()).await
    }

    /// [`prune`](Self::prune) with the current time given.
    pub async fn prune_at(
        &self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<super::PruneReport, AuditError> {
        super::prune::prune_open(self, before, now).await
    }

    /// Append a prune record and a checkpoint after it; the checkpoint's position.
    pub(crate) async fn append_prune(&self, body: Body) -> Result<Appended, AuditError> {
        let (ack, rx) = oneshot::channel();
        self.tx
            .send(Msg::Prune { body, ack })
            .await
            .map_err(|_| self.closed_error())?;
        rx.await.map_err(|_| self.closed_error())?
    }

    /// Shut down: write a checkpoint (when configured and records were added), stop the
    /// writer and release the lock. Appends after this fail with [`AuditError::Closed`].
    /// Fails when the checkpoint cannot be written or the writer had failed earlier.
    pub async fn close(&self) -> Result<(), AuditError> {
        let (ack, rx) = oneshot::channel();
        let result = match self.tx.send(Msg::Close { ack }).await {
            Ok(()) => rx.await.unwrap_or_else(|_| Err(self.closed_error())),
            Err(_) => match self.shared.failure() {
                Some(reason) => Err(AuditError::Closed(reason)),
                None => Ok(()),
            },
        };
        self.join_writer();
        result
    }

    fn join_writer(&self) {
        let handle = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = handle {
            // The writer has acknowledged the close (or its queue is disconnected): it only
            // drops its files and lock before returning.
            let _ = handle.join();
        }
    }

    fn closed_error(&self) -> AuditError {
        AuditError::Closed(
            self.shared
                .failure()
                .unwrap_or_else(|| "the journal was closed".to_string()),
        )
    }
}

impl Journal for FileJournal {
    fn append(&self, record: CallRecord) -> BoxFuture<'_, Result<Appended, AuditError>> {
        Box::pin(self.append_record(record))
    }

    fn append_deferred(&self, record: CallRecord) -> Result<(), AuditError> {
        self.append_record_deferred(record)
    }

    fn max_payload_bytes(&self) -> usize {
        max_payload_bytes(self.max_record_bytes)
    }
}

impl Drop for FileJournal {
    fn drop(&mut self) {
        // Disconnect the queue: the writer finishes what is queued (every acknowledged record
        // is already durable), then stops and releases the lock.
        let (closed, _) = mpsc::channel(1);
        drop(std::mem::replace(&mut self.tx, closed));
        self.join_writer();
    }
}
