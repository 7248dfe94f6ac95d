//! Journaling a read before anything is shown: who read, with which command and filters,
//! the journal's head the read covered, how many exchanges, about whom.

use std::path::Path;

use bcss::audit::{self, Head, ReadRecord};

use super::{Exit, Failure, JournalKeys, journal_config, runtime, usage};

/// What a read showed.
#[derive(Debug, Default)]
pub(super) struct Shown {
    /// The journal's last record the read covered.
    pub head: Option<Head>,
    /// Exchanges (or reads) shown.
    pub count: Option<u64>,
    /// Whom they were about.
    pub subjects: Vec<String>,
}

/// Record the read of the journal in `dir` by `reader` in its reads chain; refuse (nothing
/// is shown) when it cannot be.
pub(super) fn journal_read(
    dir: &Path,
    reader: &str,
    keys: &JournalKeys,
    command: &str,
    arguments: Vec<String>,
    shown: Shown,
) -> Result<(), Failure> {
    if reader.trim().is_empty() {
        return Err(usage("--reader must name who reads".to_string()));
    }
    if !dir.is_dir() {
        return Err(usage(format!(
            "{} is not a journal directory, so the read cannot be journaled",
            dir.display()
        )));
    }
    let config = journal_config(dir, keys)?;
    let mut read = ReadRecord::new(reader, command, arguments).with_subjects(shown.subjects);
    read.head = shown.head.map(|h| h.to_string());
    read.exchanges = shown.count;
    runtime()?
        .block_on(audit::record_read(&config, read))
        .map(|_| ())
        .map_err(|e| {
            Failure(
                Exit::Usage,
                format!("the read could not be journaled, so nothing is shown: {e}"),
            )
        })
}
