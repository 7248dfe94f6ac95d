//! Writing one batch: rotation, framing, the chain, one write and one fdatasync, then the
//! acknowledgements (or the failure, kept for every later append).

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::{Ack, Active, Entry, Failure, Writer};
use crate::audit::format::{
    SEGMENT_HEADER_LEN, SegmentHeader, encode_frame, segment_file_name, sha256,
};
use crate::audit::{Appended, AuditError, CheckpointRecord, Head, Record, checkpoint};

impl Writer {
    /// and `false` tells the caller to stop.
    pub(super) fn commit(&mut self, entries: Vec<Entry>) -> bool {
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

fn no_segment() -> std::io::Error {
    std::io::Error::other("no segment is open")
}
