//! The journal's own records: the genesis record of a new journal, checkpoints (written
//! under the head row's lock, once their head is durable and recorded in the witness), and
//! the witness itself.

use std::sync::atomic::Ordering;

use super::columns::Columns;
use super::db_error;
use super::read::sql;
use super::writer::{Pending, Writer};
use crate::audit::codec;
use crate::audit::signing::{genesis_message, sign, sign_head};
use crate::audit::{
    Appended, AuditError, CheckpointRecord, GenesisRecord, Head, Record, WitnessedHead,
};

impl Writer {
    /// A new journal's genesis record, then its head in the witness. With a witness, under
    /// the journal's genesis lock (see [`super::verify::genesis_lock`]), held until the
    /// head is in the witness: a process opening the journal meanwhile never sees records
    /// whose genesis the witness has not recorded yet.
    pub(super) async fn write_genesis(&mut self) -> Result<(), AuditError> {
        if self.config.witness.is_none() {
            return self.write_genesis_locked().await;
        }
        let location = self.location().clone();
        let key = super::verify::genesis_lock(&location);
        self.conn_ref()?
            .connection
            .client
            .execute("SELECT pg_advisory_lock($1)", &[&key])
            .await
            .map_err(|e| db_error(&location, "take the genesis lock", &e))?;
        let written = self.write_genesis_locked().await;
        // Released with the session too, when the connection was lost.
        if let Ok(conn) = self.conn_ref() {
            let _ = conn
                .connection
                .client
                .execute("SELECT pg_advisory_unlock($1)", &[&key])
                .await;
        }
        written
    }

    async fn write_genesis_locked(&mut self) -> Result<(), AuditError> {
        let head = self.begin_locked().await?;
        let location = self.location().clone();
        let client = &self.conn_ref()?.connection.client;
        let first: i64 = client
            .query_one(
                &sql(&location, "SELECT first_sequence FROM __S__.head"),
                &[],
            )
            .await
            .map_err(|e| db_error(&location, "read the head row", &e))?
            .get(0);
        if head.next_sequence != 1 || first != 1 {
            client
                .batch_execute("COMMIT")
                .await
                .map_err(|e| db_error(&location, "commit", &e))?;
            return Ok(());
        }
        let at = (self.config.clock)();
        let (public_key, signature) = match &self.signing {
            Some(key) => {
                let (p, s) = sign(
                    key,
                    &genesis_message(&self.journal_id, at.timestamp_micros()),
                );
                (Some(p), Some(s))
            }
            None => (None, None),
        };
        let record = Record::Genesis(GenesisRecord {
            at,
            journal_id: self.journal_id,
            public_key,
            signature,
            witnessed: self.config.witness.is_some(),
        });
        let body = codec::encode(&record)?;
        let pending = Pending::new(&body, Columns::of(&record));
        let appended = match self.insert_commit(head, &[&pending]).await {
            Ok(a) => a,
            Err(e) => {
                self.abandon().await;
                return Err(e);
            }
        };
        if let Some(a) = appended.first() {
            self.witness(
                Head {
                    sequence: a.sequence,
                    hash: a.hash,
                },
                "genesis",
            )
            .await?;
        }
        Ok(())
    }

    /// Record `head` (durable) in the witness, when one is configured.
    pub(super) async fn witness(&self, head: Head, reason: &str) -> Result<(), AuditError> {
        let Some(witness) = self.config.witness.clone() else {
            return Ok(());
        };
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
        tokio::task::spawn_blocking(move || witness.record(&witnessed))
            .await
            .map_err(|_| AuditError::Closed("the witness task stopped".to_string()))?
    }

    /// Write a checkpoint of the head, in its own transaction under the lock, when one is
    /// due for `reason`: its head is durable (committed) and recorded in the witness first.
    pub(super) async fn checkpoint(
        &mut self,
        reason: &'static str,
    ) -> Result<Option<Appended>, AuditError> {
        let bound = self.answer_bound();
        let result = tokio::time::timeout(bound, self.checkpoint_locked(reason))
            .await
            .unwrap_or_else(|_| Err(self.give_up(bound, "write a checkpoint")));
        if result.is_err() {
            self.abandon().await;
        }
        result
    }

    pub(super) async fn checkpoint_locked(
        &mut self,
        reason: &'static str,
    ) -> Result<Option<Appended>, AuditError> {
        let head = self.begin_locked().await?;
        let current = head.next_sequence.saturating_sub(1);
        let since = current.saturating_sub(head.last_checkpoint);
        let every = self.config.checkpoint_every_records;
        // Starting the witness always writes its checkpoint (recorded in the witness), even
        // right after another one: the chain says from where the witness anchors it.
        let due = current > 0
            && (since > 0 || reason == "witness_started")
            && match reason {
                "records" => every > 0 && since >= every,
                "interval" => head.last_checkpoint_at.is_none_or(|at| {
                    let age = (self.config.clock)() - at;
                    age.to_std()
                        .is_ok_and(|age| age >= self.config.checkpoint_every)
                }),
                _ => true,
            };
        if !due {
            let location = self.location().clone();
            self.conn_ref()?
                .connection
                .client
                .batch_execute("COMMIT")
                .await
                .map_err(|e| db_error(&location, "commit", &e))?;
            return Ok(None);
        }
        let covered = Head {
            sequence: current,
            hash: head.hash,
        };
        self.witness(covered, reason).await?;
        let (public_key, signature) = sign_head(
            self.signing.as_ref(),
            &self.journal_id,
            covered.sequence,
            &covered.hash,
        );
        let record = Record::Checkpoint(CheckpointRecord {
            at: (self.config.clock)(),
            journal_id: self.journal_id,
            sequence: covered.sequence,
            head: hex::encode(covered.hash),
            reason: reason.to_string(),
            public_key,
            signature,
            witnessed: self.config.witness.is_some(),
        });
        let body = codec::encode(&record)?;
        let pending = Pending::new(&body, Columns::of(&record));
        let appended = self.insert_commit(head, &[&pending]).await?;
        self.shared.checkpoints.fetch_add(1, Ordering::Relaxed);
        Ok(appended.first().copied())
    }
}
