//! Quarantine: the bytes of a bad final record are copied to a file beside the journal
//! (`quarantine/<segment>-<offset>.bin`, mode 0600, fsync'd) before the segment is cut, so
//! that recovery never destroys them; the truncation record names the file, its length and
//! its SHA-256, and the head those bytes give when read as one record ([`recomputed_head`]):
//! when a witness recorded that head, the quarantined record is the witnessed one.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use super::chain::{canonical_prefix, chain_hash, sha256};
use super::format::{FRAME_HEADER_LEN, QUARANTINE_DIR};
use super::prune::sync_dir;
use super::{AuditError, Head, TruncationRecord};

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
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(segment)
        .map_err(|e| AuditError::io(segment, "open to cut its final record", e))?;
    let cut = read_from(&file, segment, offset)?;
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

/// The bytes of `segment` from `offset` to its end (a bad final record).
pub(crate) fn read_tail(segment: &Path, offset: u64) -> Result<Vec<u8>, AuditError> {
    let file = std::fs::File::open(segment).map_err(|e| AuditError::io(segment, "open", e))?;
    read_from(&file, segment, offset)
}

fn read_from(mut file: &std::fs::File, segment: &Path, offset: u64) -> Result<Vec<u8>, AuditError> {
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| AuditError::io(segment, "seek", e))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| AuditError::io(segment, "read", e))?;
    Ok(bytes)
}

/// The head `bytes` give when read as one whole record (frame header, body) chained from
/// `prev`, whatever their checksums say; `None` when they are too short to hold the record
/// their header announces. A head equal to one a witness recorded proves the bytes are
/// that record: only its checksums (or bytes after it) are damaged.
pub(crate) fn recomputed_head(bytes: &[u8], prev: &[u8; 32]) -> Option<Head> {
    let header = bytes.get(..FRAME_HEADER_LEN)?;
    let body_len = usize::try_from(u32::from_le_bytes(header[0..4].try_into().ok()?)).ok()?;
    let sequence = u64::from_le_bytes(header[8..16].try_into().ok()?);
    let written_at = i64::from_le_bytes(header[16..24].try_into().ok()?);
    let body = bytes.get(FRAME_HEADER_LEN..FRAME_HEADER_LEN.checked_add(body_len)?)?;
    let hash = chain_hash(prev, &canonical_prefix(sequence, written_at), &sha256(body));
    Some(Head { sequence, hash })
}

/// The head a truncation record's `cut_head` claims (`SEQUENCE:HEX`).
pub(crate) fn claimed_cut_head(t: &TruncationRecord) -> Option<Head> {
    let (sequence, hash) = t.cut_head.as_deref()?.split_once(':')?;
    Some(Head {
        sequence: sequence.parse().ok()?,
        hash: super::signing::parse_hash(hash)?,
    })
}

/// The quarantine file a truncation record names, when it is a plain file of
/// `quarantine/` (an error message otherwise).
pub(crate) fn quarantine_path(
    dir: &Path,
    t: &TruncationRecord,
) -> Result<Option<std::path::PathBuf>, String> {
    let Some(file) = &t.quarantine else {
        return Ok(None);
    };
    let valid = file
        .strip_prefix(&format!("{QUARANTINE_DIR}/"))
        .is_some_and(|n| !n.is_empty() && !n.contains('/') && n != "..");
    if valid {
        Ok(Some(dir.join(file)))
    } else {
        Err(format!(
            "the truncation record names {file:?}, not a file in {QUARANTINE_DIR}/"
        ))
    }
}

/// Whether the truncation record `t` (chained from `prev`) accounts for the witnessed head
/// `witnessed`: it claims that head for the bytes it cut, and its quarantine file holds
/// bytes with its SHA-256 that give that head.
pub(crate) fn accounts_for(
    dir: &Path,
    t: &TruncationRecord,
    prev: &[u8; 32],
    witnessed: &Head,
) -> Result<bool, AuditError> {
    if claimed_cut_head(t).as_ref() != Some(witnessed) || t.sequence != witnessed.sequence {
        return Ok(false);
    }
    let Ok(Some(path)) = quarantine_path(dir, t) else {
        return Ok(false);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(AuditError::io(&path, "read", e)),
    };
    Ok(
        hex::encode(sha256(&bytes)).eq_ignore_ascii_case(&t.cut_sha256)
            && recomputed_head(&bytes, prev).as_ref() == Some(witnessed),
    )
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
