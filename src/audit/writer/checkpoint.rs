//! Checkpoints and the witness: with a witness, a checkpoint is written once every record
//! before it is durable and its head is recorded in the witness (so that a checkpoint the
//! witness does not hold was not written here); then the locator (`head.json`) points at
//! it. Also the records the journal writes for itself when it opens, and the close.

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::{Ack, Entry, Failure, Origin, Writer, record_failure};
use crate::audit::locator::{self, Locator};
use crate::audit::signing::sign_head;
use crate::audit::{Appended, AuditError, CheckpointRecord, Head, Record, WitnessedHead, codec};

impl Writer {
    /// The head now: the last record written.
    fn current_head(&self) -> Head {
        Head {
            sequence: self.next_sequence.saturating_sub(1),
            hash: self.head,
        }
    }

    /// Wait until everything written is durable; on failure, the error to report.
    fn durable(&self) -> Result<(), AuditError> {
        if self.syncer.flush() {
            return Ok(());
        }
        Err(AuditError::Closed(self.shared.failure().unwrap_or_else(
            || "an earlier fdatasync failed".to_string(),
        )))
    }

    /// Record the current head in the witness (when one is configured), once durable.
    fn witness(&mut self, reason: &str) -> Result<(), AuditError> {
        let Some(witness) = self.config.witness.clone() else {
            return Ok(());
        };
        let head = self.current_head();
        if self.last_witnessed == Some(head) || head.sequence == 0 {
            return Ok(());
        }
        self.durable()?;
        let (public_key, signature) = sign_head(
            self.signing.as_ref(),
            &self.journal_id,
            head.sequence,
            &head.hash,
        );
        let witnessed = WitnessedHead {
            journal_id: self.journal_id,
            sequence: head.sequence,
            hash: hex::encode(head.hash),
            at: (self.config.clock)(),
            reason: reason.to_string(),
            public_key,
            signature,
        };
        if let Err(e) = witness.record(&witnessed) {
            let failure = Failure::new(
                &self.config.dir,
                "record the head in the witness",
                &std::io::Error::other(e.to_string()),
            );
            record_failure(&self.shared, &failure);
            return Err(e);
        }
        self.last_witnessed = Some(head);
        Ok(())
    }

    /// Write a checkpoint of the current head: witnessed first, then framed, made durable,
    /// and pointed at by the locator. `false` after a failure (the ack got its error).
    pub(super) fn write_checkpoint(
        &mut self,
        reason: &'static str,
        ack: Option<Ack<Appended>>,
    ) -> bool {
        let fail = |ack: Option<Ack<Appended>>, e: AuditError| {
            if let Some(ack) = ack {
                let _ = ack.send(Err(e));
            }
            false
        };
        if let Err(e) = self.witness(reason) {
            return fail(ack, e);
        }
        let head = self.current_head();
        let body = match codec::encode(&Record::Checkpoint(self.checkpoint_record(head, reason))) {
            Ok(body) => body,
            Err(e) => return fail(ack, e),
        };
        let entry = Entry::Record {
            body_crc: body.crc32c(),
            digest: None,
            body,
            ack,
            origin: Origin::Checkpoint,
        };
        // Not waited for: the checkpoint is acknowledged once durable, and the locator is
        // checked when the journal is next opened.
        if !self.write_run(vec![entry]) {
            return false;
        }
        self.last_checkpoint = Instant::now();
        if let Some((path, offset)) = &self.last_frame {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let locator = Locator {
                segment: name,
                offset: *offset,
                sequence: self.next_sequence - 1,
                hash: hex::encode(self.head),
            };
            // The locator only spares work at the next open: without it, opening checks
            // the whole journal.
            if let Err(e) = locator::write(&self.config.dir, &locator) {
                tracing::warn!(error = %e, "audit journal: the checkpoint locator could not be written");
            }
        }
        true
    }

    fn checkpoint_record(&self, head: Head, reason: &str) -> CheckpointRecord {
        let (public_key, signature) = sign_head(
            self.signing.as_ref(),
            &self.journal_id,
            head.sequence,
            &head.hash,
        );
        CheckpointRecord {
            at: (self.config.clock)(),
            journal_id: self.journal_id,
            sequence: head.sequence,
            head: hex::encode(head.hash),
            reason: reason.to_string(),
            public_key,
            signature,
            witnessed: self.config.witness.is_some(),
        }
    }

    /// Write records of the journal's own (genesis, truncation) and make them durable; a
    /// new journal's genesis is then recorded in the witness.
    pub(super) fn write_own(&mut self, records: Vec<Record>) -> Result<(), AuditError> {
        if records.is_empty() {
            return Ok(());
        }
        let genesis = records.iter().any(|r| matches!(r, Record::Genesis(_)));
        let mut entries = Vec::new();
        let mut results = Vec::new();
        for record in &records {
            let (ack, rx) = oneshot::channel();
            entries.push(Entry::own(record, Some(ack))?);
            results.push(rx);
        }
        self.write_run(entries);
        self.durable()?;
        for mut rx in results {
            match rx.try_recv() {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    return Err(AuditError::Closed(
                        "the journal's own record was not written".to_string(),
                    ));
                }
            }
        }
        if genesis {
            self.witness("genesis")?;
        }
        Ok(())
    }

    /// Start the witness of an existing journal: a checkpoint with reason
    /// `witness_started`, its head recorded in the witness first; durable when `Ok`.
    pub(super) fn start_witness(&mut self) -> Result<(), AuditError> {
        let (ack, mut rx) = oneshot::channel();
        if !self.write_checkpoint("witness_started", Some(ack)) {
            return Err(match rx.try_recv() {
                Ok(Err(e)) => e,
                _ => AuditError::Closed(
                    self.shared
                        .failure()
                        .unwrap_or_else(|| "the witness could not be started".to_string()),
                ),
            });
        }
        self.durable()?;
        match rx.try_recv() {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(AuditError::Closed(
                "the witness_started checkpoint was not written".to_string(),
            )),
        }
    }

    /// Shut down: deferred records, the shutdown checkpoint (when configured and records
    /// were added), and the head in the witness.
    pub(super) fn close(&mut self) -> Result<(), AuditError> {
        let closed = |w: &Writer| {
            AuditError::Closed(
                w.shared
                    .failure()
                    .unwrap_or_else(|| "the journal could not be closed".to_string()),
            )
        };
        if !self.commit(Vec::new()) {
            return Err(closed(self));
        }
        if self.config.checkpoint_on_close && self.since_checkpoint > 0 {
            let (ack, mut rx) = oneshot::channel();
            if !self.write_checkpoint("shutdown", Some(ack)) {
                return Err(match rx.try_recv() {
                    Ok(Err(e)) => e,
                    _ => closed(self),
                });
            }
        }
        self.durable()?;
        self.witness("close")
    }
}
