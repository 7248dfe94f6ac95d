//! Decisions tied to their manifest: every load of the manifest a client decides under is
//! journaled (`CallRecord::ManifestLoad`): when the client is built (trigger `start`), by
//! [`Client::reload_manifest`] (accepted or refused), and when a decision finds that the
//! manifest in force is not the one last journaled, because someone reloaded the guard
//! directly (trigger `detected`, written before that decision's record).

use std::sync::{Mutex, PoisonError};

use chrono::Utc;

use super::Client;
use crate::audit::{CallRecord, Journal, ManifestLoadRecord, ManifestRef};
use crate::error::Error;
use crate::manifest::{Guard, ManifestError, ReloadReport};

/// What the journal last heard about the manifest.
#[derive(Debug, Default)]
pub(super) struct ManifestLog {
    /// The manifest the last manifest-load record put in force.
    last: Mutex<Option<ManifestRef>>,
    /// One manifest-load record at a time, written before any decision under it.
    writing: tokio::sync::Mutex<()>,
}

impl ManifestLog {
    fn last(&self) -> Option<ManifestRef> {
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, manifest: Option<ManifestRef>) {
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = manifest;
    }

    /// Journal the manifest a new client starts with (trigger `start`), without waiting:
    /// building a client is not async. The record is queued before any decision record
    /// and is durable with the first of them.
    pub(super) fn start(guard: &Guard, journal: &dyn Journal) -> Result<ManifestLog, Error> {
        let policy = guard.policy();
        let new = policy.as_ref().map(|p| p.manifest_ref().clone());
        let record = ManifestLoadRecord {
            at: Utc::now(),
            source: source_of(guard),
            trigger: "start".to_string(),
            accepted: new.is_some(),
            old: None,
            new: new.clone(),
            error: new.is_none().then(|| {
                "no valid authorisation manifest is loaded: every call is refused".to_string()
            }),
        };
        journal
            .append_deferred(CallRecord::ManifestLoad(record))
            .map_err(Error::journal_refused)?;
        Ok(ManifestLog {
            last: Mutex::new(new),
            writing: tokio::sync::Mutex::new(()),
        })
    }
}

/// Where the guard's manifest comes from: its file, or the name it was parsed under.
fn source_of(guard: &Guard) -> String {
    match (guard.source(), guard.policy()) {
        (Some(path), _) => path.display().to_string(),
        (None, Some(policy)) => policy.source().to_string(),
        (None, None) => "(none)".to_string(),
    }
}

impl Client {
    /// Read the manifest file again and put it in force ([`Guard::reload`]), and journal
    /// it as a `manifest_load` record naming `trigger` (what asked for it: `SIGHUP`,
    /// `file-watch`, an operator's id...): accepted, with the manifest replaced and the new
    /// one; or refused, with the error, the manifest that stays in force, and the refused
    /// file's digest when it could be read. The record is durable when this returns.
    ///
    /// Errors: the reload's [`ManifestError`] (the manifest in force stays), or
    /// [`ErrorKind::JournalRefused`](crate::ErrorKind::JournalRefused) when the record could not be written (the reload itself
    /// may have happened: decisions are journaled with the manifest they were taken
    /// under either way).
    pub async fn reload_manifest(&self, trigger: &str) -> Result<ReloadReport, Error> {
        let inner = &*self.inner;
        let _one_at_a_time = inner.manifest_log.writing.lock().await;
        let old = inner.guard.manifest_ref();
        let result = inner.guard.reload();
        let record = ManifestLoadRecord {
            at: inner.clock.now().unwrap_or_else(|_| Utc::now()),
            source: source_of(&inner.guard),
            trigger: trigger.to_string(),
            accepted: result.is_ok(),
            old: match &result {
                Ok(report) => report.previous.clone(),
                Err(_) => old,
            },
            new: match &result {
                Ok(report) => Some(report.manifest.clone()),
                Err(_) => refused_file_ref(&inner.guard),
            },
            error: result.as_ref().err().map(ManifestError::to_string),
        };
        inner.manifest_log.set(inner.guard.manifest_ref());
        inner
            .journal
            .append(CallRecord::ManifestLoad(record))
            .await
            .map_err(Error::journal_refused)?;
        result.map_err(Error::from)
    }

    /// Before a decision record: when the manifest the decision was taken under is not
    /// the one last journaled, journal it (trigger `detected`) first.
    pub(super) async fn note_manifest(&self, current: Option<&ManifestRef>) -> Result<(), Error> {
        let log = &self.inner.manifest_log;
        if log.last().as_ref() == current {
            return Ok(());
        }
        let _one_at_a_time = log.writing.lock().await;
        let old = log.last();
        if old.as_ref() == current {
            return Ok(());
        }
        let record = ManifestLoadRecord {
            at: self.inner.clock.now().unwrap_or_else(|_| Utc::now()),
            source: source_of(&self.inner.guard),
            trigger: "detected".to_string(),
            accepted: true,
            old,
            new: current.cloned(),
            error: None,
        };
        tracing::info!(
            "the manifest in force changed outside Client::reload_manifest; journaling it"
        );
        self.inner
            .journal
            .append(CallRecord::ManifestLoad(record))
            .await
            .map_err(Error::journal_refused)?;
        log.set(current.cloned());
        Ok(())
    }
}

/// The digest of the manifest file a refused reload read, when it can be read.
fn refused_file_ref(guard: &Guard) -> Option<ManifestRef> {
    let path = guard.source()?;
    std::fs::read(path)
        .ok()
        .map(|bytes| ManifestRef::unsigned(&bytes))
}
