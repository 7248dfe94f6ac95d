//! The writer task: one per [`PgJournal`](super::PgJournal), owning one connection. It
//! takes every append waiting in the queue (group commit), and per batch: `BEGIN` and
//! `lock_head()` (pipelined), chains the records from the locked head, inserts them with
//! one statement and commits; then waits until that commit is durable, and only then
//! acknowledges each caller. Checkpoints are written in their own transaction, under the
//! same lock, once their head is durable and recorded in the witness.
//!
//! Durability across processes: the head row's lock serializes batches, so a batch that
//! held it through its WAL flush would keep every other process waiting for that flush
//! (measured: about 2,700 records/s with 16 processes, each batch paying its own fsync).
//! Instead the batch's transaction commits without waiting for the flush
//! (`SET LOCAL synchronous_commit = off`: the lock is released at once, the next process
//! chains from a committed head), and the batch is acknowledged only after a *durability
//! barrier*: a transaction that writes WAL and commits with `synchronous_commit = on`,
//! which returns once the WAL is flushed (and, with synchronous standbys, replicated) past
//! its own commit record, so past the batch's. PostgreSQL's
//! group commit then shares each flush between every process waiting. A crash before the
//! flush loses only batches nobody was told about, and always a suffix of the chain (the
//! WAL is replayed in order), never a link in the middle.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_postgres::Statement;
use uuid::Uuid;

use super::columns::Columns;
use super::connect::{Connection, connect};
use super::insert::{NewRow, duplicate, insert_rows, prepare_insert};
use super::journal::{PgJournalConfig, Shared};
use super::read::{check_schema, sql};
use super::{PgLocation, db_error};
use crate::audit::chain::{GENESIS_HASH, canonical_prefix, chain_hash};
use crate::audit::codec::Body;
use crate::audit::{Appended, AuditError, Head};

/// An acknowledgement channel.
pub(crate) type Ack<T> = oneshot::Sender<Result<T, AuditError>>;

/// One encoded record waiting to be written.
pub(crate) struct Pending {
    body: Bytes,
    digest: [u8; 32],
    columns: Columns,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The body holds personal data: only its size and kind.
        f.debug_struct("Pending")
            .field("kind", &self.columns.kind)
            .field("bytes", &self.body.len())
            .finish()
    }
}

impl Pending {
    /// `body` in one buffer, its digest (computed on the caller's task) and its columns.
    pub(crate) fn new(body: &Body, columns: Columns) -> Self {
        Pending {
            body: body.to_bytes(),
            digest: body.digest(),
            columns,
        }
    }
}

/// What the handle sends the writer.
pub(crate) enum Msg {
    /// Append a caller's record; no `ack` for a deferred one.
    Append {
        pending: Pending,
        ack: Option<Ack<Appended>>,
    },
    /// Append a record of the journal's own (a prune), then a checkpoint.
    Own {
        pending: Pending,
        ack: Ack<Appended>,
    },
    /// Write a checkpoint now.
    Checkpoint { ack: Ack<Option<Appended>> },
    /// Deferred records, the shutdown checkpoint, the head in the witness; then stop.
    Close { ack: Ack<()> },
}

/// The head row as `lock_head()` returns it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Locked {
    pub(super) next_sequence: u64,
    pub(super) hash: [u8; 32],
    pub(super) last_checkpoint: u64,
    pub(super) last_checkpoint_at: Option<DateTime<Utc>>,
}

/// A connection and its prepared statements.
pub(super) struct Conn {
    pub(super) connection: Connection,
    pub(super) lock: Statement,
    pub(super) insert: Statement,
}

/// What opening found.
pub(crate) struct Opened {
    pub writer: Writer,
    pub journal_id: Uuid,
    pub records_checked: u64,
    /// Opening started the witness (a `witness_started` checkpoint).
    pub witness_started: bool,
}

pub(crate) struct Writer {
    pub(super) config: PgJournalConfig,
    pub(super) shared: Arc<Shared>,
    pub(super) signing: Option<SigningKey>,
    pub(super) journal_id: Uuid,
    pub(super) conn: Option<Conn>,
    /// This process appended since it last looked at checkpoints by time.
    pub(super) appended_since_interval: bool,
    pub(super) last_interval_check: Instant,
}

/// The durability barrier: a transaction that writes WAL (a transactional logical message,
/// empty, under the prefix `bcss-durable`) and commits with the session's
/// `synchronous_commit = on`, so returns once the WAL is flushed past its commit record,
/// and so past every commit this session made before it. (A transaction that writes no
/// WAL, even one holding a transaction id, commits without waiting for the flush: measured,
/// its commit leaves the flush position behind.) `pg_logical_emit_message` is executable by
/// every role unless an administrator revoked it; then appends fail, closed.
const DURABLE: &str = "BEGIN; SELECT pg_logical_emit_message(true, 'bcss-durable', ''); COMMIT";

const LOCK: &str = "SELECT next_sequence, hash, last_checkpoint_sequence, last_checkpoint_at, journal_id FROM __S__.lock_head()";

impl Writer {
    pub(super) fn location(&self) -> &PgLocation {
        &self.config.location
    }

    /// Connect, check the schema, start the chain when new, check the tail.
    pub(crate) async fn open(
        config: PgJournalConfig,
        shared: Arc<Shared>,
    ) -> Result<Opened, AuditError> {
        let signing = match &config.signing_key {
            Some(path) => Some(crate::audit::load_signing_key(path)?),
            None => None,
        };
        let mut writer = Writer {
            config,
            shared,
            signing,
            journal_id: Uuid::nil(),
            conn: None,
            appended_since_interval: false,
            last_interval_check: Instant::now(),
        };
        // Opening is bounded as a batch is (connecting has its own connect_timeout inside
        // it): a server that stops answering, or a lock held on the journal's tables,
        // fails it instead of hanging.
        let bound = writer.answer_bound();
        let connecting = bound.saturating_add(writer.location().connect_timeout());
        match tokio::time::timeout(connecting, writer.connection()).await {
            Ok(connected) => {
                connected?;
            }
            Err(_) => return Err(writer.give_up(connecting, "open the journal")),
        }
        let location = writer.location().clone();
        let key = writer.signing.as_ref().map(SigningKey::verifying_key);
        let witness = writer.config.witness.clone();
        let client = &writer.conn_ref()?.connection.client;
        let start = writer.config.start_witness;
        let checked = tokio::time::timeout(bound, async {
            let journal_id: Uuid = client
                .query_one(
                    &sql(&location, "SELECT __S__.start_journal($1, 1, $2)"),
                    &[&Uuid::now_v7(), &&GENESIS_HASH[..]],
                )
                .await
                .map_err(|e| db_error(&location, "start the journal", &e))?
                .get(0);
            let tail =
                super::verify::check_tail(client, &location, journal_id, key, witness, start)
                    .await?;
            Ok::<_, AuditError>((journal_id, tail))
        })
        .await;
        let (journal_id, tail) = match checked {
            Ok(checked) => checked?,
            Err(_) => return Err(writer.give_up(bound, "open the journal")),
        };
        writer.journal_id = journal_id;
        match tokio::time::timeout(bound, writer.write_genesis()).await {
            Ok(written) => written?,
            Err(_) => return Err(writer.give_up(bound, "write the genesis record")),
        }
        if tail.start_witness {
            writer.checkpoint("witness_started").await?;
        }
        Ok(Opened {
            writer,
            journal_id,
            records_checked: tail.checked,
            witness_started: tail.start_witness,
        })
    }

    pub(super) fn conn_ref(&self) -> Result<&Conn, AuditError> {
        self.conn
            .as_ref()
            .ok_or_else(|| AuditError::Closed("no connection".to_string()))
    }

    /// The connection, made again when there is none or it was lost.
    async fn connection(&mut self) -> Result<&Conn, AuditError> {
        if self
            .conn
            .as_ref()
            .is_some_and(|c| c.connection.client.is_closed())
        {
            self.conn = None;
        }
        if self.conn.is_none() {
            let location = self.location().clone();
            let connection = connect(&location).await?;
            check_schema(&connection.client, &location).await?;
            let lock = connection
                .client
                .prepare(&sql(&location, LOCK))
                .await
                .map_err(|e| db_error(&location, "prepare lock_head", &e))?;
            let insert = prepare_insert(&connection.client, &location).await?;
            if !self.journal_id.is_nil() {
                self.shared.reconnects.fetch_add(1, Ordering::Relaxed);
                tracing::info!(location = %location, "PostgreSQL journal: connected again");
            }
            self.conn = Some(Conn {
                connection,
                lock,
                insert,
            });
        }
        self.conn_ref()
    }

    /// After a failed statement: end the transaction, or drop a lost connection.
    pub(super) async fn abandon(&mut self) {
        let lost = match &self.conn {
            Some(c) if !c.connection.client.is_closed() => {
                c.connection.client.batch_execute("ROLLBACK").await.is_err()
            }
            _ => true,
        };
        if lost {
            self.conn = None;
        }
    }

    /// `BEGIN` and `lock_head()`, pipelined.
    pub(super) async fn begin_locked(&mut self) -> Result<Locked, AuditError> {
        let location = self.location().clone();
        let journal_id = self.journal_id;
        let wait = self.config.lock_wait;
        let conn = self.connection().await?;
        let client = &conn.connection.client;
        let begin = format!(
            "BEGIN; SET LOCAL synchronous_commit = off; SET LOCAL lock_timeout = {}",
            wait.as_millis().clamp(1, i32::MAX as u128)
        );
        let (begin, row) = tokio::join!(
            client.batch_execute(&begin),
            client.query_one(&conn.lock, &[])
        );
        begin.map_err(|e| db_error(&location, "begin", &e))?;
        let row = row.map_err(|e| lock_error(&location, wait, &e))?;
        let id: Uuid = row.get(4);
        if !journal_id.is_nil() && id != journal_id {
            return Err(AuditError::WitnessMismatch {
                dir: location.to_string(),
                reason: format!(
                    "the journal's id changed from {journal_id} to {id} while it was open: it was replaced"
                ),
            });
        }
        let next: i64 = row.get(0);
        let hash: Vec<u8> = row.get(1);
        let last: i64 = row.get(2);
        Ok(Locked {
            next_sequence: u64::try_from(next).unwrap_or(0),
            hash: hash
                .try_into()
                .map_err(|_| AuditError::Decode("the head row's hash is not 32 bytes".into()))?,
            last_checkpoint: u64::try_from(last).unwrap_or(0),
            last_checkpoint_at: row.get(3),
        })
    }

    /// Chain `entries` after `head`, insert them and commit (pipelined). Each record's
    /// position, in order.
    pub(super) async fn insert_commit(
        &mut self,
        head: Locked,
        entries: &[&Pending],
    ) -> Result<Vec<Appended>, AuditError> {
        let location = self.location().clone();
        let micros = (self.config.clock)().timestamp_micros();
        let mut prev = head.hash;
        let mut rows = Vec::with_capacity(entries.len());
        let mut appended = Vec::with_capacity(entries.len());
        for (i, p) in entries.iter().enumerate() {
            let sequence = head.next_sequence + i as u64;
            let hash = chain_hash(&prev, &canonical_prefix(sequence, micros), &p.digest);
            rows.push(NewRow {
                sequence,
                written_at_micros: micros,
                hash,
                body: &p.body,
                columns: &p.columns,
            });
            appended.push(Appended { sequence, hash });
            prev = hash;
        }
        let conn = self.conn_ref()?;
        let client = &conn.connection.client;
        let (inserted, committed, durable) = tokio::join!(
            insert_rows(client, &conn.insert, &rows),
            client.batch_execute("COMMIT"),
            client.batch_execute(DURABLE)
        );
        inserted.map_err(|e| db_error(&location, "insert records", &e))?;
        committed.map_err(|e| db_error(&location, "commit", &e))?;
        durable.map_err(|e| db_error(&location, "wait until the commit is durable", &e))?;
        if let Some(last) = appended.last() {
            self.shared.set_head(Head {
                sequence: last.sequence,
                hash: last.hash,
            });
        }
        Ok(appended)
    }

    /// Lock, insert `entries`, commit; on failure end the transaction. Bounded by
    /// [`Writer::answer_bound`]: past it the connection is given up.
    pub(super) async fn append_batch(
        &mut self,
        entries: &[&Pending],
    ) -> Result<(Locked, Vec<Appended>), AuditError> {
        let bound = self.answer_bound();
        let result = tokio::time::timeout(bound, async {
            let head = self.begin_locked().await?;
            let appended = self.insert_commit(head, entries).await?;
            Ok((head, appended))
        })
        .await
        .unwrap_or_else(|_| Err(self.give_up(bound, "append a batch")));
        if result.is_err() {
            self.abandon().await;
        }
        result
    }

    /// The longest a batch's or a checkpoint's round trips may take: the head row's lock
    /// wait and the reply wait.
    pub(super) fn answer_bound(&self) -> std::time::Duration {
        self.config.lock_wait.saturating_add(self.config.reply_wait)
    }

    /// The database did not answer within `bound`: drop the connection (its transaction,
    /// and the head row's lock if it held it, end when the server notices) and say so.
    pub(super) fn give_up(
        &mut self,
        bound: std::time::Duration,
        operation: &'static str,
    ) -> AuditError {
        self.conn = None;
        tracing::error!(location = %self.location(), seconds = bound.as_secs_f64(), "PostgreSQL journal: the database did not answer; the connection is given up");
        AuditError::Database {
            location: self.location().to_string(),
            operation,
            message: format!(
                "the database did not answer within {:.1} s (lock_wait and reply_wait): the connection was given up, and the records of this batch may or may not have been committed; the next batch connects again",
                bound.as_secs_f64()
            ),
        }
    }

    /// Commit a batch of callers' records (with the deferred ones), acknowledge each, and
    /// write a checkpoint when the batch made one due.
    async fn commit(&mut self, batch: Vec<(Pending, Option<Ack<Appended>>)>) {
        let mut batch = batch;
        batch.extend(self.shared.take_deferred().into_iter().map(|p| (p, None)));
        if batch.is_empty() {
            return;
        }
        let entries: Vec<&Pending> = batch.iter().map(|(p, _)| p).collect();
        let result = self.append_batch(&entries).await;
        let count = batch.len() as u64;
        match result {
            Ok((head, appended)) => {
                self.shared.records.fetch_add(count, Ordering::Relaxed);
                self.shared.batches.fetch_add(1, Ordering::Relaxed);
                self.appended_since_interval = true;
                for ((_, ack), position) in batch.into_iter().zip(appended.iter()) {
                    if let Some(ack) = ack {
                        let _ = ack.send(Ok(*position));
                    }
                }
                let last = appended.last().map_or(0, |a| a.sequence);
                let every = self.config.checkpoint_every_records;
                if every > 0 && last.saturating_sub(head.last_checkpoint) >= every {
                    self.checkpoint_logged("records").await;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, records = count, "PostgreSQL journal: a batch was not committed; its appends are refused");
                for (_, ack) in batch {
                    if let Some(ack) = ack {
                        let _ = ack.send(Err(duplicate(&e)));
                    }
                }
            }
        }
    }

    /// A checkpoint nobody waits for: a failure is logged (and retried when next due).
    async fn checkpoint_logged(&mut self, reason: &'static str) {
        if let Err(e) = self.checkpoint(reason).await {
            tracing::error!(error = %e, reason, "PostgreSQL journal: the checkpoint (or its witness) could not be written; retried when next due");
        }
    }

    /// Shut down: deferred records, the shutdown checkpoint, the head in the witness.
    async fn close(&mut self) -> Result<(), AuditError> {
        self.commit(Vec::new()).await;
        if !self.config.checkpoint_on_close {
            return Ok(());
        }
        if let Some(appended) = self.checkpoint("shutdown").await? {
            self.witness(
                Head {
                    sequence: appended.sequence,
                    hash: appended.hash,
                },
                "close",
            )
            .await?;
        }
        Ok(())
    }

    /// Serve the handle until closed or disconnected.
    pub(crate) async fn serve(mut self, mut rx: mpsc::Receiver<Msg>) {
        let mut carry: Option<Msg> = None;
        loop {
            let msg = match carry.take() {
                Some(msg) => Some(msg),
                None => match self.interval_deadline() {
                    Some(deadline) => match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Ok(msg) => msg,
                        Err(_) => {
                            self.appended_since_interval = false;
                            self.last_interval_check = Instant::now();
                            self.checkpoint_logged("interval").await;
                            continue;
                        }
                    },
                    None => rx.recv().await,
                },
            };
            match msg {
                None => {
                    self.commit(Vec::new()).await;
                    break;
                }
                Some(Msg::Append { pending, ack }) => {
                    let mut batch = vec![(pending, ack)];
                    let mut bytes = batch[0].0.body.len();
                    while batch.len() < self.config.batch_max_records
                        && bytes < self.config.batch_max_bytes
                    {
                        match rx.try_recv() {
                            Ok(Msg::Append { pending, ack }) => {
                                bytes += pending.body.len();
                                batch.push((pending, ack));
                            }
                            Ok(other) => {
                                carry = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    self.commit(batch).await;
                }
                Some(Msg::Own { pending, ack }) => {
                    self.commit(Vec::new()).await;
                    let result = match self.append_batch(&[&pending]).await {
                        Ok((_, appended)) => match self.checkpoint("prune").await {
                            Ok(_) => Ok(appended[0]),
                            Err(e) => Err(e),
                        },
                        Err(e) => Err(e),
                    };
                    let _ = ack.send(result);
                }
                Some(Msg::Checkpoint { ack }) => {
                    self.commit(Vec::new()).await;
                    let _ = ack.send(self.checkpoint("manual").await);
                }
                Some(Msg::Close { ack }) => {
                    let _ = ack.send(self.close().await);
                    break;
                }
            }
        }
        self.shared.closed.store(true, Ordering::SeqCst);
        rx.close();
        let pending = carry
            .into_iter()
            .chain(std::iter::from_fn(|| rx.try_recv().ok()));
        for msg in pending {
            let closed = || AuditError::Closed("the PostgreSQL journal was closed".to_string());
            match msg {
                Msg::Append { ack: Some(ack), .. } | Msg::Own { ack, .. } => {
                    let _ = ack.send(Err(closed()));
                }
                Msg::Checkpoint { ack } => {
                    let _ = ack.send(Err(closed()));
                }
                Msg::Close { ack } => {
                    let _ = ack.send(Ok(()));
                }
                Msg::Append { ack: None, .. } => {}
            }
        }
        self.conn = None;
    }

    fn interval_deadline(&self) -> Option<Instant> {
        let every = self.config.checkpoint_every;
        (!every.is_zero() && self.appended_since_interval)
            .then(|| self.last_interval_check.checked_add(every))
            .flatten()
    }
}

/// A failure to lock the head row: when the wait ran out (`lock_timeout`), says another
/// session held it for `wait`.
fn lock_error(
    location: &PgLocation,
    wait: std::time::Duration,
    e: &tokio_postgres::Error,
) -> AuditError {
    if e.code() != Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) {
        return db_error(location, "lock the head row", e);
    }
    AuditError::Database {
        location: location.to_string(),
        operation: "lock the head row",
        message: format!(
            "the head row was locked by another session for {} s, the most an append waits ([journal] lock_wait_seconds, PgJournalConfig::lock_wait): nothing was written; a session holding it (SELECT ... FROM {}.head FOR UPDATE, or a transaction left open) must end, see pg_stat_activity",
            wait.as_secs_f64(),
            location.schema()
        ),
    }
}
