//! The checkpoint locator, `head.json`: where the last checkpoint is, so that opening the
//! journal checks that checkpoint in place and walks only what follows it. It is a hint:
//! opening trusts nothing it says before checking it, and walks the whole journal when it
//! is missing or does not check.

use std::os::unix::fs::{FileExt, OpenOptionsExt};
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
    serde_json::from_slice(text.trim_ascii_end()).map_err(|e| format!("{}: {e}", path.display()))
}

/// The locator's length on disk: its JSON padded with spaces, so that each update is one
/// write in place.
const LOCATOR_LEN: usize = 512;

/// Replace the locator of `dir`. One write in place, not fsync'd: a stale, torn or missing
/// locator only makes the next open check more (it trusts nothing the locator says before
/// checking it).
pub(crate) fn write(dir: &Path, locator: &Locator) -> Result<(), AuditError> {
    let path = dir.join(HEAD_FILE);
    let mut json = serde_json::to_vec(locator).map_err(|e| AuditError::Encode(e.to_string()))?;
    if json.len() > LOCATOR_LEN {
        return Err(AuditError::Encode(
            "the checkpoint locator is too long".into(),
        ));
    }
    json.resize(LOCATOR_LEN, b' ');
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(|e| AuditError::io(&path, "open", e))?;
    file.write_all_at(&json, 0)
        .map_err(|e| AuditError::io(&path, "write", e))
}
