//! A journal of either backend, opened from its [`JournalLocation`]: what
//! `Client::from_config` and the command line use, so that naming a directory or a
//! `postgres://` URL is the only difference.

use std::path::PathBuf;
use std::sync::Arc;

use super::pg::{PgJournal, PgJournalConfig};
use super::{
    Appended, AuditError, CallRecord, FileJournal, FileJournalConfig, Journal, JournalLocation,
    Witness,
};
use crate::transport::BoxFuture;

/// The configuration of a journal of either backend.
#[derive(Debug, Clone)]
pub enum AnyJournalConfig {
    /// A file journal.
    File(FileJournalConfig),
    /// A PostgreSQL journal.
    Postgres(PgJournalConfig),
}

impl AnyJournalConfig {
    /// The defaults for the journal at `location`.
    pub fn new(location: JournalLocation) -> Self {
        match location {
            JournalLocation::Dir(dir) => AnyJournalConfig::File(FileJournalConfig::new(dir)),
            JournalLocation::Postgres(pg) => AnyJournalConfig::Postgres(PgJournalConfig::new(pg)),
        }
    }

    /// Where the journal is.
    pub fn location(&self) -> JournalLocation {
        match self {
            AnyJournalConfig::File(c) => JournalLocation::Dir(c.dir.clone()),
            AnyJournalConfig::Postgres(c) => JournalLocation::Postgres(c.location.clone()),
        }
    }

    /// Sign the genesis record, checkpoints and witnessed heads with this key file.
    pub fn set_signing_key(&mut self, key: Option<PathBuf>) {
        match self {
            AnyJournalConfig::File(c) => c.signing_key = key,
            AnyJournalConfig::Postgres(c) => c.signing_key = key,
        }
    }

    /// Keep heads in this witness.
    pub fn set_witness(&mut self, witness: Option<Arc<dyn Witness>>) {
        match self {
            AnyJournalConfig::File(c) => c.witness = witness,
            AnyJournalConfig::Postgres(c) => c.witness = witness,
        }
    }

    /// Write a checkpoint at close (when records follow the last one).
    pub fn set_checkpoint_on_close(&mut self, on: bool) {
        match self {
            AnyJournalConfig::File(c) => c.checkpoint_on_close = on,
            AnyJournalConfig::Postgres(c) => c.checkpoint_on_close = on,
        }
    }

    /// How long a writer waits for another's lock: a file journal's writer lock file
    /// ([`FileJournalConfig::lock_wait`]), a PostgreSQL journal's head row, per append
    /// batch ([`PgJournalConfig::lock_wait`]).
    pub fn set_lock_wait(&mut self, wait: std::time::Duration) {
        match self {
            AnyJournalConfig::File(c) => c.lock_wait = wait,
            AnyJournalConfig::Postgres(c) => c.lock_wait = wait,
        }
    }

    /// The largest record body accepted.
    pub fn set_max_record_bytes(&mut self, bytes: usize) {
        match self {
            AnyJournalConfig::File(c) => c.max_record_bytes = bytes,
            AnyJournalConfig::Postgres(c) => c.max_record_bytes = bytes,
        }
    }

    /// The largest record body accepted.
    pub fn max_record_bytes(&self) -> usize {
        match self {
            AnyJournalConfig::File(c) => c.max_record_bytes,
            AnyJournalConfig::Postgres(c) => c.max_record_bytes,
        }
    }

    /// The payload bytes one record can always hold.
    pub fn max_payload_bytes(&self) -> usize {
        match self {
            AnyJournalConfig::File(c) => c.max_payload_bytes(),
            AnyJournalConfig::Postgres(c) => c.max_payload_bytes(),
        }
    }

    /// Check the limits.
    pub fn validate(&self) -> Result<(), AuditError> {
        match self {
            AnyJournalConfig::File(c) => c.validate(),
            AnyJournalConfig::Postgres(c) => c.validate(),
        }
    }
}

/// An open journal of either backend.
#[derive(Debug)]
pub enum AnyJournal {
    /// A file journal.
    File(FileJournal),
    /// A PostgreSQL journal.
    Postgres(PgJournal),
}

impl AnyJournal {
    /// Open the journal `config` describes (see [`FileJournal::open`] and
    /// [`PgJournal::open`]).
    pub async fn open(config: AnyJournalConfig) -> Result<AnyJournal, AuditError> {
        Ok(match config {
            AnyJournalConfig::File(c) => AnyJournal::File(FileJournal::open(c).await?),
            AnyJournalConfig::Postgres(c) => AnyJournal::Postgres(PgJournal::open(c).await?),
        })
    }

    /// Shut down, writing the closing checkpoint (see [`FileJournal::close`] and
    /// [`PgJournal::close`]).
    pub async fn close(&self) -> Result<(), AuditError> {
        match self {
            AnyJournal::File(j) => j.close().await,
            AnyJournal::Postgres(j) => j.close().await,
        }
    }
}

impl Journal for AnyJournal {
    fn append(&self, record: CallRecord) -> BoxFuture<'_, Result<Appended, AuditError>> {
        match self {
            AnyJournal::File(j) => j.append(record),
            AnyJournal::Postgres(j) => j.append(record),
        }
    }

    fn append_deferred(&self, record: CallRecord) -> Result<(), AuditError> {
        match self {
            AnyJournal::File(j) => j.append_deferred(record),
            AnyJournal::Postgres(j) => j.append_deferred(record),
        }
    }

    fn max_payload_bytes(&self) -> usize {
        match self {
            AnyJournal::File(j) => j.max_payload_bytes(),
            AnyJournal::Postgres(j) => j.max_payload_bytes(),
        }
    }
}
