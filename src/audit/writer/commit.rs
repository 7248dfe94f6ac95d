//! Writing one batch: rotation, hashing, framing, the chain and one vectored `write`; the
//! batch then goes to the sync threads. A failure is kept for every later append.

use std::fs::{File, OpenOptions};
use std::io::{IoSlice, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::sync::{Written, complete};
use super::{Ack, Active, Entry, Failure, Origin, Writer, record_failure};

/// The largest batch the writer syncs itself when no sync is pending (a lone caller):
/// larger ones go to the sync threads, so that the next batch can be written meanwhile.
const SYNC_IN_PLACE_UP_TO: usize = 1;
use crate::audit::format::{
    FRAME_HEADER_LEN, SEGMENT_HEADER_LEN, SegmentHeader, frame_header, segment_file_name,
};
use crate::audit::{Appended, AuditError, Head};

/// One frame, ready to write: its header, body parts and trailer (the body's CRC32C).
struct Frame {
    header: [u8; FRAME_HEADER_LEN],
    body: Vec<Bytes>,
    trailer: [u8; 4],
}

impl Writer {
    /// Write `entries` in order: runs of records framed and written together, and each
    /// checkpoint once the records before it are durable (and witnessed); then an
    /// automatic checkpoint when one is due. `true` to go on; `false` after a failure
    /// (every entry then got its error), which tells the caller to stop.
    pub(super) fn commit(&mut self, entries: Vec<Entry>) -> bool {
        let mut run = self.take_deferred();
        let mut entries = entries.into_iter();
        while let Some(entry) = entries.next() {
            let ok = match entry {
                Entry::Checkpoint { reason, ack } => {
                    self.write_run(std::mem::take(&mut run)) && self.write_checkpoint(reason, ack)
                }
                record => {
                    run.push(record);
                    true
                }
            };
            if !ok {
                self.fail_rest(entries);
                return false;
            }
        }
        if !self.write_run(run) {
            return false;
        }
        let every = self.config.checkpoint_every_records;
        if every > 0 && self.since_checkpoint >= every {
            return self.write_checkpoint("records", None);
        }
        true
    }

    /// Records queued by `append_deferred` that did not fit in the queue.
    fn take_deferred(&self) -> Vec<Entry> {
        self.shared
            .take_deferred()
            .into_iter()
            .map(|(body, body_crc)| Entry::Record {
                body,
                body_crc,
                digest: None,
                ack: None,
                origin: Origin::Caller,
            })
            .collect()
    }

    fn fail_rest(&self, rest: impl Iterator<Item = Entry>) {
        let reason = self
            .shared
            .failure()
            .unwrap_or_else(|| "an earlier write failed".to_string());
        for entry in rest {
            entry.fail(AuditError::Closed(reason.clone()));
        }
    }

    /// Frame `entries` (records only), write them, and hand them to the sync threads, which
    /// acknowledges each once durable.
    pub(super) fn write_run(&mut self, entries: Vec<Entry>) -> bool {
        if entries.is_empty() {
            return self.shared.failure().is_none();
        }
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
        let mut sequence = self.next_sequence;
        let mut head = self.head;
        let mut since = self.since_checkpoint;
        let mut frames = Vec::with_capacity(entries.len());
        let mut acks = Vec::with_capacity(entries.len());
        let mut records = 0u64;
        let mut frame_bytes = 0u64;
        let mut last_frame_offset = 0u64;
        for entry in entries {
            let Entry::Record {
                body,
                body_crc,
                digest,
                ack,
                origin,
            } = entry
            else {
                // Checkpoints are written by `write_checkpoint`, never in a run.
                continue;
            };
            let digest = digest.unwrap_or_else(|| body.digest());
            let (header, hash) = frame_header(&head, sequence, micros, body.len(), &digest);
            head = hash;
            last_frame_offset = frame_bytes;
            frame_bytes += (FRAME_HEADER_LEN + body.len() + 4) as u64;
            frames.push(Frame {
                header,
                body: body.parts().to_vec(),
                trailer: body_crc.to_le_bytes(),
            });
            acks.push((
                ack,
                Appended {
                    sequence,
                    hash: head,
                },
            ));
            match origin {
                Origin::Checkpoint => since = 0,
                Origin::Caller => {
                    since += 1;
                    records += 1;
                }
                Origin::Journal => since += 1,
            }
            sequence += 1;
        }
        let Some(active) = self.active.as_mut() else {
            let failure = Failure::new(&self.config.dir, "write", &no_segment());
            return self.fail_acks(acks, failure);
        };
        let start = active.size;
        let bytes = match write_frames(&active.file, &frames) {
            Ok(bytes) => bytes,
            Err(e) => {
                let failure = Failure::new(&active.path, "write", &e);
                return self.fail_acks(acks, failure);
            }
        };
        active.size += bytes;
        self.last_frame = Some((active.path.clone(), start + last_frame_offset));
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
        self.next_sequence = sequence;
        self.head = head;
        self.since_checkpoint = since;
        self.shared.stats.writes.fetch_add(1, Ordering::Relaxed);
        if self.syncer.busy() || written.acks.len() > SYNC_IN_PLACE_UP_TO {
            self.syncer.submit(written);
            true
        } else {
            // One append in flight and nothing pending: nothing to overlap, so sync here
            // (see `sync`). With more, the sync threads overlap their fdatasyncs while
            // this thread writes the next batch.
            complete(&self.shared, vec![written]);
            self.shared.failure().is_none()
        }
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
            journal_id: self.journal_id,
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

    pub(super) fn fail(&mut self, entries: Vec<Entry>, failure: Failure) -> bool {
        record_failure(&self.shared, &failure);
        for entry in entries {
            entry.fail(failure.error());
        }
        false
    }

    pub(super) fn fail_acks(
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
    let mut slices: Vec<IoSlice<'_>> = Vec::with_capacity(frames.len() * 4);
    for f in frames {
        slices.push(IoSlice::new(&f.header));
        slices.extend(f.body.iter().map(|p| IoSlice::new(p)));
        slices.push(IoSlice::new(&f.trailer));
    }
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
