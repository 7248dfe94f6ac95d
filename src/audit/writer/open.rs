//! Opening the journal for writing: the directory, the lock, the chain check, and cutting
//! off an incomplete final record.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::sync::Arc;

use tokio::time::Instant;

use super::sync::Syncer;
use super::{Active, Opened, Writer};
use crate::audit::file_journal::{FileJournalConfig, Shared};
use crate::audit::format::{LOCK_FILE, micros_to_time};
use crate::audit::prune::sync_dir;
use crate::audit::walk::{Start, walk};
use crate::audit::{AuditError, Record, TruncationRecord, checkpoint};

impl Writer {
    /// Open the journal: create the directory, take the lock, check the chain, cut off an
    /// incomplete final record.
    pub(super) fn open(
        config: FileJournalConfig,
        shared: Arc<Shared>,
    ) -> Result<(Writer, Opened), AuditError> {
        config.validate()?;
        let dir = config.dir.clone();
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(|e| AuditError::io(&dir, "create the journal directory", e))?;
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                sync_dir(parent)?;
            }
        }
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&lock_path)
            .map_err(|e| AuditError::io(&lock_path, "open the lock file", e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(AuditError::Locked {
                    dir: dir.display().to_string(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(AuditError::io(&lock_path, "lock", e));
            }
        }
        let signing = match &config.signing_key {
            Some(path) => Some(checkpoint::load_signing_key(path)?),
            None => None,
        };
        remove_temporary_files(&dir)?;
        let start = if config.full_check_on_open {
            Start::First
        } else {
            Start::LastSegment
        };
        let mut since_checkpoint = 0u64;
        let end = walk(&dir, start, &mut |v| {
            if matches!(v.record, Record::Checkpoint(_)) {
                since_checkpoint = 0;
            } else {
                since_checkpoint += 1;
            }
            None
        })?;
        let now = (config.clock)();
        let mut truncation = None;
        if let Some(problem) = &end.problem {
            let last = end.last.as_ref().filter(|_| problem.torn_tail);
            let Some(last) = last else {
                return Err(problem.to_error());
            };
            let (bytes_cut, cut_sha256) = cut_tail(&last.file.path, problem.offset)?;
            tracing::warn!(
                segment = %last.file.name,
                offset = problem.offset,
                bytes_cut,
                "audit journal: cut an incomplete final record left by an interrupted write"
            );
            truncation = Some(TruncationRecord {
                at: now,
                segment: last.file.name.clone(),
                offset: problem.offset,
                bytes_cut,
                cut_sha256,
                sequence: problem.sequence,
                reason: problem.reason.clone(),
            });
        }
        let active = match &end.last {
            Some(last) => {
                let file = OpenOptions::new()
                    .append(true)
                    .open(&last.file.path)
                    .map_err(|e| AuditError::io(&last.file.path, "open for appending", e))?;
                Some(Active {
                    file: Arc::new(file),
                    path: last.file.path.clone(),
                    size: last.valid_len,
                    day: micros_to_time(last.header.created_at_micros).date_naive(),
                })
            }
            None => None,
        };
        if let Some(head) = end.head {
            shared.set_head(head);
        }
        let syncer = Syncer::spawn(Arc::clone(&shared))
            .map_err(|e| AuditError::io(&dir, "start the journal's sync thread", e))?;
        let writer = Writer {
            syncer,
            config,
            shared,
            signing,
            _lock: lock,
            active,
            next_sequence: end.next_sequence,
            head: end.chain_hash,
            since_checkpoint,
            last_checkpoint: Instant::now(),
        };
        Ok((writer, Opened { truncation }))
    }
}

/// Remove `*.bcj.tmp` files left by a crash while creating a segment (they hold only a
/// header, never a record).
fn remove_temporary_files(dir: &Path) -> Result<(), AuditError> {
    let entries = std::fs::read_dir(dir).map_err(|e| AuditError::io(dir, "list directory", e))?;
    for entry in entries {
        let entry = entry.map_err(|e| AuditError::io(dir, "list directory", e))?;
        let name = entry.file_name();
        if name
            .to_str()
            .is_some_and(|n| n.starts_with("seg-") && n.ends_with(".bcj.tmp"))
        {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(|e| AuditError::io(&path, "remove", e))?;
        }
    }
    Ok(())
}

/// Cut `path` at `offset`; returns how many bytes were cut and their SHA-256.
fn cut_tail(path: &Path, offset: u64) -> Result<(u64, String), AuditError> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| AuditError::io(path, "open to cut the incomplete final record", e))?;
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| AuditError::io(path, "seek", e))?;
    let mut hasher = ring::digest::Context::new(&ring::digest::SHA256);
    let mut cut = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| AuditError::io(path, "read", e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        cut += n as u64;
    }
    file.set_len(offset)
        .map_err(|e| AuditError::io(path, "truncate", e))?;
    file.sync_all()
        .map_err(|e| AuditError::io(path, "fsync", e))?;
    Ok((cut, hex::encode(hasher.finish().as_ref())))
}
