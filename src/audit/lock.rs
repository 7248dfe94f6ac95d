//! The file journal's writer lock (`journal.lock`): an exclusive `flock`-style lock held
//! while a process writes the directory. A process that finds it held waits for it, as
//! cargo does for its build lock, saying once that it waits (a `WARN` event of target
//! [`LOCK_WAIT_TARGET`], which the `bcss` command prints on stderr), up to the configured
//! time, then fails with [`AuditError::Locked`].
//!
//! The holder writes its process id into the lock file, so that the waiting message can
//! name it. The id is informative only (the lock is the `flock`, not the file's content).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use super::AuditError;

/// The `tracing` target of the event a process emits when it starts waiting for a
/// journal's lock: `Blocking waiting for the journal lock held by another process (pid N)`.
pub const LOCK_WAIT_TARGET: &str = "bcss::journal_lock";

/// The default longest wait for a journal's lock: 30 seconds.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(30);

/// The first pause between two tries; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(10);
const MAX_PAUSE: Duration = Duration::from_millis(200);

/// Take the lock file `name` in `dir`, waiting up to `wait` while another process holds
/// it. The open file holds the lock until dropped.
///
/// Fails with [`AuditError::Locked`] (naming the holder's process id when known) once
/// `wait` has passed, and [`AuditError::Io`] when the file cannot be opened or locked.
pub(crate) fn take(dir: &Path, name: &str, wait: Duration) -> Result<File, AuditError> {
    let path = dir.join(name);
    let mut lock = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(|e| AuditError::io(&path, "open the lock file", e))?;
    let started = Instant::now();
    let mut pause = FIRST_PAUSE;
    let mut said = false;
    loop {
        match lock.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = holder_pid(&mut lock);
                let waited = started.elapsed();
                if waited >= wait {
                    return Err(AuditError::Locked {
                        dir: dir.display().to_string(),
                        holder,
                        waited_seconds: waited.as_secs(),
                    });
                }
                // A child process of another thread of this process may hold a copy of a
                // just-released lock's descriptor between its fork and its exec: say
                // nothing for the first few tries.
                if !said && waited >= Duration::from_millis(100) {
                    said = true;
                    let holder_text = match holder {
                        Some(pid) => format!(" (pid {pid})"),
                        None => String::new(),
                    };
                    tracing::warn!(
                        target: LOCK_WAIT_TARGET,
                        dir = %dir.display(),
                        holder,
                        wait_seconds = wait.as_secs(),
                        "Blocking waiting for the journal lock held by another process{holder_text}: {} (up to {} s)",
                        path.display(),
                        wait.as_secs()
                    );
                }
                std::thread::sleep(pause.min(wait.saturating_sub(waited)));
                pause = (pause * 2).min(MAX_PAUSE);
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(AuditError::io(&path, "lock", e));
            }
        }
    }
    // Informative only: a failure to write the holder's id does not matter.
    let _ = write_pid(&mut lock);
    Ok(lock)
}

/// Replace the lock file's content with this process's id.
fn write_pid(lock: &mut File) -> std::io::Result<()> {
    lock.set_len(0)?;
    lock.seek(SeekFrom::Start(0))?;
    write!(lock, "{}", std::process::id())
}

/// The process id the holder wrote, when it can be read.
fn holder_pid(lock: &mut File) -> Option<u32> {
    let mut text = String::new();
    lock.seek(SeekFrom::Start(0)).ok()?;
    lock.take(32).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_waited_for_then_refused_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let held = take(dir.path(), "journal.lock", Duration::ZERO).unwrap();
        let err = take(dir.path(), "journal.lock", Duration::from_millis(50)).unwrap_err();
        match err {
            AuditError::Locked { holder, .. } => assert_eq!(holder, Some(std::process::id())),
            other => panic!("expected Locked, got {other}"),
        }
        // Released while waiting: the waiter gets it.
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            drop(held);
        });
        take(dir.path(), "journal.lock", Duration::from_secs(30)).unwrap();
        releaser.join().unwrap();
    }
}
