//! Quarantine: the bytes of a bad final record are copied to a file beside the journal
//! (`quarantine/<segment>-<offset>.bin`, mode 0600, fsync'd) before the segment is cut, so
//! that recovery never destroys them; the truncation record names the file, its length and
//! its SHA-256.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use super::AuditError;
use super::format::QUARANTINE_DIR;
use super::prune::sync_dir;

/// What was moved to quarantine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Moved {
    /// The quarantine file, relative to the journal directory.
    pub file: String,
    /// How many bytes were cut.
    pub bytes: u64,
    /// Their SHA-256, hex.
    pub sha256: String,
}

/// Copy the bytes of `segment` (in `dir`) from `offset` to its end into a quarantine file,
/// make it durable, then cut the segment at `offset`.
pub(crate) fn quarantine_and_cut(
    dir: &Path,
    segment: &Path,
    offset: u64,
) -> Result<Moved, AuditError> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(segment)
        .map_err(|e| AuditError::io(segment, "open to cut its final record", e))?;
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| AuditError::io(segment, "seek", e))?;
    let mut cut = Vec::new();
    file.read_to_end(&mut cut)
        .map_err(|e| AuditError::io(segment, "read", e))?;
    let sha256 = hex::encode(super::chain::sha256(&cut));
    let qdir = dir.join(QUARANTINE_DIR);
    if !qdir.is_dir() {
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&qdir)
            .map_err(|e| AuditError::io(&qdir, "create the quarantine directory", e))?;
        sync_dir(dir)?;
    }
    let stem = format!(
        "{}-{offset}",
        segment
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("segment")
    );
    let name = free_name(&qdir, &stem, &cut)?;
    let target = qdir.join(&name);
    if !target.exists() {
        let tmp = qdir.join(format!("{name}.tmp"));
        let mut out = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| AuditError::io(&tmp, "create a quarantine file", e))?;
        out.write_all(&cut)
            .and_then(|()| out.sync_all())
            .map_err(|e| AuditError::io(&tmp, "write a quarantine file", e))?;
        std::fs::rename(&tmp, &target).map_err(|e| AuditError::io(&target, "rename", e))?;
        sync_dir(&qdir)?;
    }
    file.set_len(offset)
        .map_err(|e| AuditError::io(segment, "truncate", e))?;
    file.sync_all()
        .map_err(|e| AuditError::io(segment, "fsync", e))?;
    Ok(Moved {
        file: format!("{QUARANTINE_DIR}/{name}"),
        bytes: cut.len() as u64,
        sha256,
    })
}

/// `<stem>.bin`, or `<stem>-N.bin` when a file of that name holds other bytes (a file
/// with the same bytes is reused: a crash after quarantining, before cutting).
fn free_name(qdir: &Path, stem: &str, bytes: &[u8]) -> Result<String, AuditError> {
    for n in 0u32.. {
        let name = if n == 0 {
            format!("{stem}.bin")
        } else {
            format!("{stem}-{n}.bin")
        };
        let path = qdir.join(&name);
        match std::fs::read(&path) {
            Ok(existing) if existing == bytes => return Ok(name),
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(name),
            Err(e) => return Err(AuditError::io(&path, "read", e)),
        }
    }
    Err(AuditError::Config(
        "no free quarantine file name".to_string(),
    ))
}
