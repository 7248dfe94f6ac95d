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
        .map_err(read_refused)
}

/// A read that could not be journaled: nothing is shown. Exit 1 when the journal cannot
/// be taken now (its lock held past the wait, the database unreachable), as for a call;
/// else 2.
pub(super) fn read_refused(e: bcss::audit::AuditError) -> Failure {
    use bcss::audit::AuditError as A;
    let exit = match e {
        A::Locked { .. } | A::Database { .. } => Exit::Error,
        _ => Exit::Usage,
    };
    Failure(
        exit,
        format!("the read could not be journaled, so nothing is shown: {e}"),
    )
}
