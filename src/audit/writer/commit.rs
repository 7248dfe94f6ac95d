//! Writing one batch: rotation, hashing, framing, the chain and one vectored `write`; the
//! batch then goes to the sync thread. A failure is kept for every later append.

use std::fs::{File, OpenOptions};
use std::io::{IoSlice, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::sync::{Written, complete};
use super::{Ack, Active, Entry, Failure, HASH_GROUP, Writer, record_failure};
use crate::audit::format::{
    FRAME_HEADER_LEN, SEGMENT_HEADER_LEN, SegmentHeader, frame_header, segment_file_name, sha256,
};
use crate::audit::multi_sha256::sha256_many;
use crate::audit::{Appended, AuditError, CheckpointRecord, Head, Record, checkpoint};

/// One frame, ready to write: its header, body and trailer (the body's CRC32C).
struct Frame {
    header: [u8; FRAME_HEADER_LEN],
    body: Vec<u8>,
    trailer: [u8; 4],
}

impl Writer {
    /// Frame `entries` (plus a checkpoint when one is due), write them, and hand them to the
    /// sync thread, which acknowledges each once durable. `true` to go on; `false` after a
    /// failure (every entry then got its error), which tells the caller to stop.
    pub(super) fn commit(&mut self, entries: Vec<Entry>) -> bool {
        if let Some(reason) = self.shared.failure() {
            for entry in entries {
                entry.fail(AuditError::Closed(reason.clone()));
            }
            return false;
        }
        let now = (self.config.clock)();
        let micros = now.timestamp_micros();
        let estimate: usize = entries.iter().map(Entry::estimated_len).sum();
        if let Err(failure) = self.ensure_segment(now, estimate as u64) {
            return self.fail(entries, failure);
        }
        // The bodies the callers did not hash, hashed together (several per vector
        // instruction).
        let digests = {
            let bodies: Vec<&[u8]> = entries
                .iter()
                .filter_map(|entry| match entry {
                    Entry::Record {
                        body, digest: None, ..
                    } => Some(body.as_slice()),
                    _ => None,
                })
                .collect();
            sha256_many(&bodies)
        };
        let mut digests = digests.into_iter();
        let mut sequence = self.next_sequence;
        let mut head = self.head;
        let mut since = self.since_checkpoint;
        let mut frames = Vec::with_capacity(entries.len() + 1);
        let mut acks = Vec::with_capacity(entries.len() + 1);
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
            let (body, body_crc, digest, ack, is_checkpoint) = match entry {
                Entry::Record {
                    body,
                    body_crc,
                    digest,
                    ack,
                } => {
                    // sha256_many returns one digest per body it was given; hashing again
                    // is only a guard against a miscount.
                    let digest = digest
                        .or_else(|| digests.next())
                        .unwrap_or_else(|| sha256(&body));
                    (body, body_crc, digest, ack, false)
                }
                Entry::Checkpoint { reason, ack } => {
                    match self.checkpoint_body(now, sequence.saturating_sub(1), &head, reason) {
                        Ok(body) => {
                            let (crc, digest) = (crc32c::crc32c(&body), sha256(&body));
                            (body, crc, digest, ack, true)
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
            let (header, hash) = frame_header(&head, sequence, micros, body.len(), &digest);
            head = hash;
            frames.push(Frame {
                header,
                body,
                trailer: body_crc.to_le_bytes(),
            });
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
        let bytes = match write_frames(&active.file, &frames) {
            Ok(bytes) => bytes,
            Err(e) => {
                let failure = Failure::new(&active.path, "write", &e);
                return self.fail_acks(acks, failure);
            }
        };
        active.size += bytes;
        let written = Written {
            file: Arc::clone(&active.file),
            path: active.path.clone(),
            acks,
            head: Head {
                sequence: sequence - 1,
                hash: head,
            },
            records,
            bytes,
        };
        drop(frames);
        if wrote_checkpoint {
            self.last_checkpoint = Instant::now();
        }
        self.next_sequence = sequence;
        self.head = head;
        self.since_checkpoint = since;
        self.shared.stats.writes.fetch_add(1, Ordering::Relaxed);
        if self.syncer.busy() || written.acks.len() >= HASH_GROUP {
            self.syncer.submit(written);
            true
        } else {
            // Few appends in flight: nothing to overlap, so sync here (see `sync`).
            complete(&self.shared, vec![written]);
            self.shared.failure().is_none()
        }
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
        // The current segment is complete on disk before the next one exists: recovery
        // cuts an incomplete record only at the very end of the journal.
        if self.active.is_some() && !self.syncer.flush() {
            let e = std::io::Error::other("an earlier fdatasync failed");
            return Err(Failure::new(&self.config.dir, "fdatasync", &e));
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
            file: Arc::new(file),
            path,
            size: SEGMENT_HEADER_LEN as u64,
            day: today,
        });
        Ok(())
    }

    fn fail(&mut self, entries: Vec<Entry>, failure: Failure) -> bool {
        record_failure(&self.shared, &failure);
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
        record_failure(&self.shared, &failure);
        for (ack, _) in acks {
            if let Some(ack) = ack {
                let _ = ack.send(Err(failure.error()));
            }
        }
        false
    }
}

fn no_segment() -> std::io::Error {
    std::io::Error::other("no segment is open")
}

/// Write every frame with vectored writes (no copy into one buffer); the total length.
fn write_frames(file: &File, frames: &[Frame]) -> std::io::Result<u64> {
    let mut slices: Vec<IoSlice<'_>> = frames
        .iter()
        .flat_map(|f| {
            [
                IoSlice::new(&f.header),
                IoSlice::new(&f.body),
                IoSlice::new(&f.trailer),
            ]
        })
        .collect();
    let total: usize = slices.iter().map(|s| s.len()).sum();
    let mut rest = slices.as_mut_slice();
    let mut writer = file;
    while !rest.is_empty() {
        match writer.write_vectored(rest) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(total as u64)
}
