//! The checkpoint locator, `head.json`: where the last checkpoint is, so that opening the
//! journal checks that checkpoint in place and walks only what follows it. It is a hint:
//! opening trusts nothing it says before checking it, and walks the whole journal when it
//! is missing or does not check.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::AuditError;
use super::format::HEAD_FILE;

/// The last checkpoint's position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Locator {
    /// Its segment's file name.
    pub segment: String,
    /// The byte offset of its frame in that segment.
    pub offset: u64,
    /// Its sequence number.
    pub sequence: u64,
    /// The chain hash after it, hex.
    pub hash: String,
}

/// The locator of `dir`, or `None` (with the reason) when there is none or it cannot be
/// read.
pub(crate) fn read(dir: &Path) -> Result<Locator, String> {
    let path = dir.join(HEAD_FILE);
    let text = match std::fs::read(&path) {
        Ok(text) if text.len() <= 4096 => text,
        Ok(_) => return Err(format!("{} is too long", path.display())),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Replace the locator of `dir`: a temporary file, fsync'd, renamed into place.
pub(crate) fn write(dir: &Path, locator: &Locator) -> Result<(), AuditError> {
    let path = dir.join(HEAD_FILE);
    let tmp = dir.join(format!("{HEAD_FILE}.tmp"));
    let json = serde_json::to_vec(locator).map_err(|e| AuditError::Encode(e.to_string()))?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| AuditError::io(&tmp, "create", e))?;
    file.write_all(&json)
        .and_then(|()| file.sync_data())
        .map_err(|e| AuditError::io(&tmp, "write", e))?;
    std::fs::rename(&tmp, &path).map_err(|e| AuditError::io(&path, "rename", e))
}
