//! Witnesses: signed heads of the journal kept outside it, so that a journal cut at a
//! record boundary, stripped of its last segments, replaced by a fresh one or rewritten
//! with a recomputed chain no longer matches what the witness saw.
//!
//! The file journal records its head in its witness when it is created (its genesis), at
//! every checkpoint (before the checkpoint record is written) and at close. A witness only
//! helps when whoever can write the journal's directory cannot rewrite the witness: put a
//! [`FileWitness`] on another volume, owned by another account, or use a shared store.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::signing::parse_hash;
use super::{AuditError, Head};

/// One head as a witness keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessedHead {
    /// The journal (its genesis record's id).
    pub journal_id: Uuid,
    /// The sequence number of the head record.
    pub sequence: u64,
    /// The chain hash after it, lowercase hex.
    pub hash: String,
    /// When it was recorded.
    pub at: DateTime<Utc>,
    /// Why: `genesis`, a checkpoint's reason (`records`, `interval`, `manual`, `shutdown`,
    /// `prune`), or `close`.
    pub reason: String,
    /// The Ed25519 public key that signed it, hex (when the journal has a signing key).
    #[serde(default)]
    pub public_key: Option<String>,
    /// The signature over the same message as a checkpoint's, hex.
    #[serde(default)]
    pub signature: Option<String>,
}

impl WitnessedHead {
    /// The head's position, or `None` when its hash is not 64 hex digits.
    pub fn head(&self) -> Option<Head> {
        Some(Head {
            sequence: self.sequence,
            hash: parse_hash(&self.hash)?,
        })
    }
}

/// Keeps a journal's heads outside the journal.
///
/// `record` must be durable when it returns `Ok` (the journal fails the checkpoint, or the
/// close, when it is not); `heads` returns every head recorded, oldest first.
pub trait Witness: Send + Sync + fmt::Debug {
    /// Record `head` durably.
    fn record(&self, head: &WitnessedHead) -> Result<(), AuditError>;
    /// Every head recorded, oldest first.
    fn heads(&self) -> Result<Vec<WitnessedHead>, AuditError>;
    /// The last head recorded for `journal_id`. The default reads every head; a witness
    /// that holds many should do better (opening the journal asks for it).
    fn last_head(&self, journal_id: Uuid) -> Result<Option<WitnessedHead>, AuditError> {
        Ok(self
            .heads()?
            .into_iter()
            .rev()
            .find(|h| h.journal_id == journal_id))
    }
    /// Where the witness keeps its heads, for messages (a file's path, a database's
    /// table). The default is its `Debug` form.
    fn location(&self) -> String {
        format!("{self:?}")
    }
}

/// A witness in a JSON-lines file: one [`WitnessedHead`] per line, appended and fsync'd
/// (the file is created mode 0600). Meant for another volume than the journal's.
///
/// A final line without its newline (a write interrupted by a crash) is ignored when read
/// and completed before the next head is appended; any other line that is not a head is an
/// error.
///
/// ```
/// use bcss::audit::{FileWitness, Witness, WitnessedHead};
/// # let dir = tempfile::tempdir()?;
/// let witness = FileWitness::new(dir.path().join("journal.witness"));
/// let head = WitnessedHead {
///     journal_id: uuid::Uuid::now_v7(),
///     sequence: 1,
///     hash: "ab".repeat(32),
///     at: chrono::Utc::now(),
///     reason: "genesis".into(),
///     public_key: None,
///     signature: None,
/// };
/// witness.record(&head)?;
/// assert_eq!(witness.heads()?, vec![head.clone()]);
/// assert_eq!(witness.last_head(head.journal_id)?, Some(head));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FileWitness {
    path: PathBuf,
    /// Serializes appends from this process.
    append: Mutex<()>,
}

/// The longest line read back (a head is about 400 bytes).
const MAX_LINE: usize = 64 * 1024;

impl FileWitness {
    /// A witness in the file at `path` (created on the first `record`).
    pub fn new(path: impl Into<PathBuf>) -> FileWitness {
        FileWitness {
            path: path.into(),
            append: Mutex::new(()),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn parse(&self, line_no: usize, line: &[u8]) -> Result<WitnessedHead, AuditError> {
        serde_json::from_slice(line).map_err(|e| {
            AuditError::Decode(format!(
                "witness {} line {line_no}: not a witnessed head: {e}",
                self.path.display()
            ))
        })
    }
}

impl Witness for FileWitness {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn record(&self, head: &WitnessedHead) -> Result<(), AuditError> {
        let _one = self.append.lock().unwrap_or_else(PoisonError::into_inner);
        let path = &self.path;
        let existed = path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| AuditError::io(path, "open the witness", e))?;
        let mut line = serde_json::to_vec(head)
            .map_err(|e| AuditError::Encode(format!("witnessed head: {e}")))?;
        line.push(b'\n');
        let len = file
            .metadata()
            .map_err(|e| AuditError::io(path, "stat the witness", e))?
            .len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1))
                .and_then(|_| file.read_exact(&mut last))
                .map_err(|e| AuditError::io(path, "read the witness", e))?;
            if last[0] != b'\n' {
                line.insert(0, b'\n');
            }
        }
        file.write_all(&line)
            .map_err(|e| AuditError::io(path, "append to the witness", e))?;
        file.sync_data()
            .map_err(|e| AuditError::io(path, "fsync the witness", e))?;
        if !existed && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            File::open(parent)
                .and_then(|d| d.sync_all())
                .map_err(|e| AuditError::io(parent, "fsync the witness's directory", e))?;
        }
        Ok(())
    }

    fn heads(&self) -> Result<Vec<WitnessedHead>, AuditError> {
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(AuditError::io(&self.path, "open the witness", e)),
        };
        let mut reader = BufReader::new(file);
        let mut heads = Vec::new();
        let mut line = Vec::new();
        for line_no in 1.. {
            line.clear();
            let n = (&mut reader)
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut line)
                .map_err(|e| AuditError::io(&self.path, "read the witness", e))?;
            if n == 0 {
                break;
            }
            if line.last() != Some(&b'\n') {
                if line.len() > MAX_LINE {
                    return Err(AuditError::Decode(format!(
                        "witness {} line {line_no} is longer than {MAX_LINE} bytes",
                        self.path.display()
                    )));
                }
                // An append interrupted by a crash: never acknowledged.
                break;
            }
            let text = line.trim_ascii();
            if !text.is_empty() {
                heads.push(self.parse(line_no, text)?);
            }
        }
        Ok(heads)
    }

    fn last_head(&self, journal_id: Uuid) -> Result<Option<WitnessedHead>, AuditError> {
        let mut file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(AuditError::io(&self.path, "open the witness", e)),
        };
        let io = |e| AuditError::io(&self.path, "read the witness", e);
        let len = file.metadata().map_err(io)?.len();
        // Read backwards in chunks; `carry` holds the start of a line cut by a chunk.
        let mut end = len;
        let mut carry: Vec<u8> = Vec::new();
        let mut complete_tail = false;
        while end > 0 {
            let start = end.saturating_sub(MAX_LINE as u64);
            let mut chunk = vec![0u8; (end - start) as usize];
            file.seek(SeekFrom::Start(start)).map_err(io)?;
            file.read_exact(&mut chunk).map_err(io)?;
            chunk.extend_from_slice(&carry);
            if !complete_tail {
                // Drop a final line without its newline (an interrupted append).
                match chunk.iter().rposition(|b| *b == b'\n') {
                    Some(i) => chunk.truncate(i + 1),
                    None if start == 0 => return Ok(None),
                    None => {
                        carry = Vec::new();
                        end = start;
                        continue;
                    }
                }
                complete_tail = true;
            }
            let mut lines: Vec<&[u8]> = chunk.split(|b| *b == b'\n').collect();
            // The first piece may be cut by the chunk's start: keep it for the next round.
            let first = if start > 0 {
                lines.remove(0).to_vec()
            } else {
                Vec::new()
            };
            for line in lines.iter().rev() {
                let text = line.trim_ascii();
                if text.is_empty() {
                    continue;
                }
                let head = self.parse(0, text)?;
                if head.journal_id == journal_id {
                    return Ok(Some(head));
                }
            }
            if first.len() > MAX_LINE {
                return Err(AuditError::Decode(format!(
                    "witness {} holds a line longer than {MAX_LINE} bytes",
                    self.path.display()
                )));
            }
            carry = first;
            end = start;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(journal: u8, sequence: u64) -> WitnessedHead {
        WitnessedHead {
            journal_id: Uuid::from_bytes([journal; 16]),
            sequence,
            hash: format!("{sequence:064x}"),
            at: DateTime::UNIX_EPOCH,
            reason: "records".into(),
            public_key: None,
            signature: None,
        }
    }

    #[test]
    fn appends_read_back_and_last_head_by_journal() {
        let dir = tempfile::tempdir().unwrap();
        let w = FileWitness::new(dir.path().join("w.jsonl"));
        assert_eq!(w.heads().unwrap(), vec![]);
        assert_eq!(w.last_head(Uuid::nil()).unwrap(), None);
        // Enough heads that last_head reads several chunks.
        for s in 1..=400 {
            w.record(&head(1, s)).unwrap();
        }
        w.record(&head(2, 1)).unwrap();
        assert_eq!(w.heads().unwrap().len(), 401);
        assert_eq!(
            w.last_head(head(1, 0).journal_id).unwrap(),
            Some(head(1, 400))
        );
        assert_eq!(
            w.last_head(head(2, 0).journal_id).unwrap(),
            Some(head(2, 1))
        );
        assert_eq!(w.last_head(head(3, 0).journal_id).unwrap(), None);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(w.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn an_interrupted_append_is_ignored_then_completed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.jsonl");
        let w = FileWitness::new(&path);
        w.record(&head(1, 1)).unwrap();
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"journal_id":"#).unwrap();
        assert_eq!(w.heads().unwrap(), vec![head(1, 1)]);
        assert_eq!(
            w.last_head(head(1, 0).journal_id).unwrap(),
            Some(head(1, 1))
        );
        w.record(&head(1, 2)).unwrap();
        // The torn line is now a line of its own: an error, not a silent skip.
        assert!(w.heads().unwrap_err().to_string().contains("line 2"));
        assert_eq!(
            w.last_head(head(1, 0).journal_id).unwrap(),
            Some(head(1, 2))
        );
    }
}
