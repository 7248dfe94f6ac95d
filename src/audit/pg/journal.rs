//! [`PgJournal`]: the handle applications append through, and its configuration.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::PgLocation;
use super::columns::Columns;
use super::writer::{self, Msg, Pending};
use crate::audit::codec::{self, MAX_META_BYTES, body_overhead};
use crate::audit::file_journal::max_payload_bytes;
use crate::audit::format::MAX_BODY_BYTES;
use crate::audit::{Appended, AuditError, CallRecord, Head, Journal, Record, Witness};
use crate::transport::BoxFuture;

/// How a [`PgJournal`] connects, batches and anchors its writes.
///
/// ```
/// use bcss::audit::pg::{PgJournalConfig, PgLocation};
/// use bcss::transport::http::PasswordSource;
/// let location = PgLocation::parse(
///     "postgres://bcss_app@db.example/cpas?schema=bcss&sslmode=require",
///     Some(PasswordSource::Env("BCSS_JOURNAL_PASSWORD".into())),
/// )?;
/// let config = PgJournalConfig::new(location);
/// assert_eq!(config.checkpoint_every_records, 1000);
/// assert!(config.max_payload_bytes() >= 16 * 1024 * 1024);
/// # Ok::<(), bcss::audit::AuditError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PgJournalConfig {
    /// The database, schema and role.
    pub location: PgLocation,
    /// The largest record body accepted. Default 32 MiB, at most 64 MiB.
    pub max_record_bytes: usize,
    /// The most records in one transaction. Default 1024.
    pub batch_max_records: usize,
    /// The most body bytes in one transaction (a single larger record still goes alone).
    /// Default 16 MiB.
    pub batch_max_bytes: usize,
    /// How many appends may wait for the writer before callers wait to enqueue. Default 4096.
    pub queue_capacity: usize,
    /// A checkpoint is written once this many records follow the last one, by whichever
    /// process appends the record that makes them (0: never by count). Default 1000.
    pub checkpoint_every_records: u64,
    /// A checkpoint is written when this process appended records and the journal's last
    /// checkpoint is older than this (zero: never by time). Default 5 minutes.
    pub checkpoint_every: Duration,
    /// Write a checkpoint at [`PgJournal::close`] when records follow the last one.
    /// Default true.
    pub checkpoint_on_close: bool,
    /// A PKCS#8 PEM file with the Ed25519 key that signs the genesis record, checkpoints and
    /// witnessed heads. Every process appending to the journal should be given the same.
    pub signing_key: Option<PathBuf>,
    /// Where heads are kept outside the journal: recorded before every checkpoint is
    /// written, and at close. Every process appending must be given the same witness.
    pub witness: Option<Arc<dyn Witness>>,
    /// The clock for write times. Default [`Utc::now`]; tests replace it.
    pub clock: fn() -> DateTime<Utc>,
    /// How long an append waits for the head row's lock when another session holds it
    /// (PostgreSQL's `lock_timeout`, set per transaction); then the batch fails with
    /// [`AuditError::Database`] saying the head row was locked by another session, and
    /// its appends are refused. Default 30 seconds, as the file journal's `lock_wait`
    /// (`[journal] lock_wait_seconds`); at least 1 ms.
    pub lock_wait: Duration,
    /// How long the database may take to answer a batch's (or a checkpoint's) statements,
    /// beyond [`lock_wait`](Self::lock_wait): past it the connection is given up (a server
    /// that stopped answering mid-session, a cut network, which TCP alone notices only
    /// after hours) and the batch's appends are refused with [`AuditError::Database`]; the
    /// next batch connects again. Default 30 seconds.
    pub reply_wait: Duration,
    /// Start `witness` on an existing journal that has none (`bcss audit start-witness`):
    /// opening writes a checkpoint with reason `witness_started`, its head recorded in the
    /// witness first, so the chain says from where the witness anchors it. Without it, a
    /// writer given a witness that holds no head of a journal with records refuses to
    /// open. Default false.
    pub start_witness: bool,
}

impl PgJournalConfig {
    /// The defaults, for the journal at `location`.
    pub fn new(location: PgLocation) -> Self {
        PgJournalConfig {
            location,
            max_record_bytes: 32 * 1024 * 1024,
            batch_max_records: 1024,
            batch_max_bytes: 16 * 1024 * 1024,
            queue_capacity: 4096,
            checkpoint_every_records: 1000,
            checkpoint_every: Duration::from_secs(300),
            checkpoint_on_close: true,
            signing_key: None,
            witness: None,
            clock: Utc::now,
            lock_wait: crate::audit::DEFAULT_LOCK_WAIT,
            reply_wait: Duration::from_secs(30),
            start_witness: false,
        }
    }

    /// The largest total of request and reply bytes one record can always hold (as for the
    /// file journal: the record limit less the JSON part's limit and the body's framing).
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
        Ok(())
    }
}

/// Counters of a [`PgJournal`]'s writer (this process only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PgJournalStats {
    /// Records appended by callers.
    pub records: u64,
    /// Transactions committed holding callers' records (group commits).
    pub batches: u64,
    /// Checkpoints this process wrote.
    pub checkpoints: u64,
    /// Connections made again after a failure.
    pub reconnects: u64,
}

/// State the writer task shares with the handle.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub closed: AtomicBool,
    head: Mutex<Option<Head>>,
    deferred: Mutex<Vec<Pending>>,
    pub records: AtomicU64,
    pub batches: AtomicU64,
    pub checkpoints: AtomicU64,
    pub reconnects: AtomicU64,
}

impl Shared {
    pub(crate) fn set_head(&self, head: Head) {
        let mut h = self.head.lock().unwrap_or_else(PoisonError::into_inner);
        if h.is_none_or(|old| old.sequence < head.sequence) {
            *h = Some(head);
        }
    }

    fn head(&self) -> Option<Head> {
        *self.head.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn defer(&self, pending: Pending) {
        self.deferred
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(pending);
    }

    pub(crate) fn take_deferred(&self) -> Vec<Pending> {
        std::mem::take(&mut *self.deferred.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The PostgreSQL journal: many processes, on many machines, append to one chain.
///
/// [`append`](Journal::append) resolves once the transaction holding the record committed
/// and that commit is durable (a synchronous commit after it returned: WAL flushed, and
/// replicated to synchronous standbys when there are). A failed transaction (a lost connection, a database that is
/// down) fails every append it held; the next batch connects again. Records are ordered by
/// the head row's lock, taken once per batch: no gaps, no forks, whatever the number of
/// processes. See the [module](super) for the schema and what each role may do.
///
/// Open it with [`PgJournal::open`] inside a tokio runtime; shut it down with
/// [`close`](PgJournal::close) (writes a checkpoint and records the head in the witness).
pub struct PgJournal {
    location: PgLocation,
    tx: mpsc::Sender<Msg>,
    shared: Arc<Shared>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    max_record_bytes: usize,
    journal_id: Uuid,
    records_checked_at_open: u64,
    witness_started: bool,
}

impl std::fmt::Debug for PgJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgJournal")
            .field("location", &self.location)
            .field("journal_id", &self.journal_id)
            .field("head", &self.shared.head())
            .field("closed", &self.shared.closed.load(Ordering::SeqCst))
            .finish_non_exhaustive()
    }
}

impl PgJournal {
    /// Open the journal at `config.location`: connect, check the schema (made by
    /// [`init`](super::init)), start the chain with a (signed) genesis record when the
    /// journal is new, check the last checkpoint in place and the records after it (and
    /// the witness's last head), and start the writer task on the current tokio runtime.
    ///
    /// Fails with [`AuditError::Config`] when the schema is missing or of another format,
    /// [`AuditError::Database`] when the database cannot be reached or refuses,
    /// [`AuditError::Damaged`] when the records after the last checkpoint do not check, and
    /// [`AuditError::WitnessMismatch`] when the witness holds a head the journal does not.
    pub async fn open(config: PgJournalConfig) -> Result<PgJournal, AuditError> {
        config.validate()?;
        let location = config.location.clone();
        let max_record_bytes = config.max_record_bytes;
        let (tx, rx) = mpsc::channel(config.queue_capacity);
        let shared = Arc::new(Shared::default());
        let opened = writer::Writer::open(config, Arc::clone(&shared)).await?;
        let journal_id = opened.journal_id;
        let records_checked_at_open = opened.records_checked;
        let witness_started = opened.witness_started;
        let task = tokio::spawn(opened.writer.serve(rx));
        Ok(PgJournal {
            location,
            tx,
            shared,
            task: Mutex::new(Some(task)),
            max_record_bytes,
            journal_id,
            records_checked_at_open,
            witness_started,
        })
    }

    /// Where the journal is.
    pub fn location(&self) -> &PgLocation {
        &self.location
    }

    /// The journal's id (its genesis record's).
    pub fn journal_id(&self) -> Uuid {
        self.journal_id
    }

    /// The last position this process appended or saw while appending (`None` before).
    pub fn head(&self) -> Option<Head> {
        self.shared.head()
    }

    /// How many records opening checked (those after the last checkpoint).
    pub fn records_checked_at_open(&self) -> u64 {
        self.records_checked_at_open
    }

    /// Whether opening started the witness ([`PgJournalConfig::start_witness`]): its head
    /// recorded there, and a `witness_started` checkpoint in the chain. False when the
    /// witness already held heads of this journal (nothing to start).
    pub fn witness_started(&self) -> bool {
        self.witness_started
    }

    /// This process's counters.
    pub fn stats(&self) -> PgJournalStats {
        let s = &self.shared;
        PgJournalStats {
            records: s.records.load(Ordering::Relaxed),
            batches: s.batches.load(Ordering::Relaxed),
            checkpoints: s.checkpoints.load(Ordering::Relaxed),
            reconnects: s.reconnects.load(Ordering::Relaxed),
        }
    }

    fn closed_error(&self) -> AuditError {
        AuditError::Closed("the PostgreSQL journal was closed".to_string())
    }

    /// Encode `record`, refusing it when it is over the record limit.
    fn encode(&self, record: Record) -> Result<Pending, AuditError> {
        let body = codec::encode(&record)?;
        if body.len() > self.max_record_bytes {
            return Err(AuditError::TooLarge {
                kind: record.kind(),
                bytes: body.len(),
                limit: self.max_record_bytes,
                limit_name: "the journal's max_record_bytes",
            });
        }
        Ok(Pending::new(&body, Columns::of(&record)))
    }

    async fn send(&self, msg: Msg) -> Result<(), AuditError> {
        self.tx.send(msg).await.map_err(|_| self.closed_error())
    }

    /// Append `record`; resolves once the transaction holding it committed and that commit
    /// is durable. This is [`Journal::append`].
    pub async fn append_record(&self, record: CallRecord) -> Result<Appended, AuditError> {
        let pending = self.encode(Record::from(record))?;
        let (ack, rx) = oneshot::channel();
        self.send(Msg::Append {
            pending,
            ack: Some(ack),
        })
        .await?;
        rx.await.map_err(|_| self.closed_error())?
    }

    /// Queue `record` for the next batch without waiting. This is
    /// [`Journal::append_deferred`].
    pub fn append_record_deferred(&self, record: CallRecord) -> Result<(), AuditError> {
        if self.shared.closed.load(Ordering::SeqCst) {
            return Err(self.closed_error());
        }
        let pending = self.encode(Record::from(record))?;
        match self.tx.try_send(Msg::Append { pending, ack: None }) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(Msg::Append { pending, .. })) => {
                self.shared.defer(pending);
                Ok(())
            }
            Err(_) => Err(self.closed_error()),
        }
    }

    /// Write a checkpoint now (signed when a key is configured, its head recorded in the
    /// witness first); `None` when no record follows the last checkpoint.
    pub async fn checkpoint(&self) -> Result<Option<Appended>, AuditError> {
        let (ack, rx) = oneshot::channel();
        self.send(Msg::Checkpoint { ack }).await?;
        rx.await.map_err(|_| self.closed_error())?
    }

    /// Append a journal record of its own (a prune) and a checkpoint after it; the prune
    /// record's position.
    pub(crate) async fn append_own(&self, record: Record) -> Result<Appended, AuditError> {
        let pending = self.encode(record)?;
        let (ack, rx) = oneshot::channel();
        self.send(Msg::Own { pending, ack }).await?;
        rx.await.map_err(|_| self.closed_error())?
    }

    /// Shut down: write the deferred records, a checkpoint (when configured and records
    /// follow the last one) and record the head in the witness. Appends after this fail
    /// with [`AuditError::Closed`].
    pub async fn close(&self) -> Result<(), AuditError> {
        let (ack, rx) = oneshot::channel();
        let result = match self.tx.send(Msg::Close { ack }).await {
            Ok(()) => rx.await.unwrap_or_else(|_| Err(self.closed_error())),
            Err(_) => Ok(()),
        };
        let task = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
        result
    }
}

impl Journal for PgJournal {
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

impl Drop for PgJournal {
    fn drop(&mut self) {
        // Disconnect the queue: the writer commits what is queued, then stops.
        let (closed, _) = mpsc::channel(1);
        drop(std::mem::replace(&mut self.tx, closed));
    }
}
