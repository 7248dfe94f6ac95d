//! A journal that cannot be written fails closed with a clear error: a read-only
//! directory, and a full file system (a small tmpfs, when running as root).

#[path = "audit_support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use bcss::audit::{self, AuditError, FileJournal, Journal};
use support::*;
use uuid::Uuid;

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A tmpfs mounted for the test, unmounted on drop.
struct Tmpfs {
    path: PathBuf,
    _parent: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Result<Tmpfs, String> {
        let parent = tempdir();
        let path = parent.path().join("mnt");
        std::fs::create_dir(&path).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs {
            path,
            _parent: parent,
        })
    }

    fn remount_read_only(&self) {
        let out = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "remount ro: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
    }
}

/// A small tmpfs to fill up, or `None` (saying why the test is skipped) when not root or
/// when mounting fails.
fn small_tmpfs(size: &str) -> Option<Tmpfs> {
    if !is_root() {
        println!("skipped: mounting a small tmpfs needs root");
        return None;
    }
    Tmpfs::mount(size)
        .map_err(|reason| println!("skipped: {reason}"))
        .ok()
}

fn assert_io(err: &AuditError) {
    assert!(
        matches!(err, AuditError::Io { .. }),
        "expected Io, got {err}"
    );
    let text = err.to_string();
    assert!(text.starts_with("audit journal at /"), "{text}");
    assert!(text.contains("failed: "), "{text}");
}

async fn fill(dir: &Path, records: usize) {
    let journal = FileJournal::open(config(dir)).await.unwrap();
    for _ in 0..records {
        journal
            .append(intent(Uuid::now_v7(), "u", "S", &ssin(3), 200))
            .await
            .unwrap();
    }
    journal.close().await.unwrap();
}

#[tokio::test]
async fn read_only_directory_refuses_to_open() {
    if is_root() {
        // Root ignores permission bits: use a read-only mount instead.
        let fs = match Tmpfs::mount("1m") {
            Ok(fs) => fs,
            Err(reason) => {
                println!("skipped: {reason}");
                return;
            }
        };
        let dir = fs.path.join("journal");
        fill(&dir, 3).await;
        fs.remount_read_only();
        let err = FileJournal::open(config(&dir)).await.unwrap_err();
        assert_io(&err);
        assert!(err.to_string().contains("Read-only"), "{err}");
        // A new journal cannot be created there either.
        let err = FileJournal::open(config(&fs.path.join("new")))
            .await
            .unwrap_err();
        assert_io(&err);
        // Reading still works.
        assert!(audit::verify(&dir, &plain()).unwrap().is_ok());
    } else {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempdir();
        let dir = tmp.path().join("journal");
        fill(&dir, 3).await;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o500)).unwrap();
        std::fs::set_permissions(
            dir.join("journal.lock"),
            std::fs::Permissions::from_mode(0o400),
        )
        .unwrap();
        let err = FileJournal::open(config(&dir)).await.unwrap_err();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_io(&err);
    }
}

#[tokio::test]
async fn full_file_system_fails_appends_and_then_refuses_all() {
    let Some(fs) = small_tmpfs("64k") else {
        return;
    };
    let dir = fs.path.join("journal");
    let journal = FileJournal::open(config(&dir)).await.unwrap();
    let mut acked = Vec::new();
    let err = loop {
        match journal
            .append(intent(Uuid::now_v7(), "u", "S", &ssin(4), 4096))
            .await
        {
            Ok(a) => acked.push(a),
            Err(e) => break e,
        }
        assert!(acked.len() < 1000, "a 64 KiB file system never filled up");
    };
    assert_io(&err);
    match &err {
        AuditError::Io { source, .. } => {
            assert_eq!(source.kind(), std::io::ErrorKind::StorageFull, "{err}");
        }
        other => panic!("{other}"),
    }
    // The journal now refuses everything, even a small record that would fit.
    let later = journal
        .append(intent(Uuid::now_v7(), "u", "S", &ssin(4), 10))
        .await
        .unwrap_err();
    assert!(matches!(later, AuditError::Closed(_)), "{later}");
    assert!(later.to_string().contains("reopened"), "{later}");
    assert!(journal.close().await.is_err());
    drop(journal);
    // Every acknowledged record is intact; at most an incomplete final record follows.
    let last = acked
        .last()
        .expect("some appends fit before the file system filled up");
    let trusted = audit::TrustedHead {
        sequence: Some(last.sequence),
        hash: last.hash,
    };
    let report = audit::verify(&dir, &trusting(&trusted)).unwrap();
    assert!(report.trusted_head_confirmed, "{:?}", report.problem);
    if let Some(p) = &report.problem {
        assert!(p.torn_tail, "{p}");
    }
}

/// Many appenders when the file system fills up: batches are in flight in both stages of
/// the writer. Every caller gets an answer (no hang), every failure is the full disk or the
/// refusal that follows it, and every acknowledged record is intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_file_system_with_many_appenders_fails_closed_for_all() {
    let Some(fs) = small_tmpfs("512k") else {
        return;
    };
    let dir = fs.path.join("journal");
    let journal = std::sync::Arc::new(FileJournal::open(config(&dir)).await.unwrap());
    let mut tasks = Vec::new();
    for task in 0..48 {
        let journal = std::sync::Arc::clone(&journal);
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            loop {
                let user = format!("u{task}");
                match journal
                    .append(intent(Uuid::now_v7(), &user, "S", &ssin(4), 4096))
                    .await
                {
                    Ok(a) => acked.push(a),
                    Err(e) => return (acked, e),
                }
                assert!(acked.len() < 1000, "a 512 KiB file system never filled up");
            }
        }));
    }
    let mut acked = Vec::new();
    let mut full = 0;
    for t in tasks {
        let (a, err) = tokio::time::timeout(std::time::Duration::from_secs(60), t)
            .await
            .expect("every appender gets an answer")
            .unwrap();
        acked.extend(a);
        match &err {
            AuditError::Io { source, .. } => {
                assert_eq!(source.kind(), std::io::ErrorKind::StorageFull, "{err}");
                full += 1;
            }
            AuditError::Closed(reason) => assert!(reason.contains("reopened"), "{err}"),
            other => panic!("{other}"),
        }
    }
    assert!(
        full >= 1,
        "at least the batch that hit the full disk saw it"
    );
    assert!(journal.close().await.is_err());
    drop(journal);
    let last = acked
        .iter()
        .max_by_key(|a| a.sequence)
        .expect("some appends fit before the file system filled up");
    let trusted = audit::TrustedHead {
        sequence: Some(last.sequence),
        hash: last.hash,
    };
    let report = audit::verify(&dir, &trusting(&trusted)).unwrap();
    assert!(report.trusted_head_confirmed, "{:?}", report.problem);
    if let Some(p) = &report.problem {
        assert!(p.torn_tail, "{p}");
    }
    let sequences: std::collections::HashSet<u64> = acked.iter().map(|a| a.sequence).collect();
    assert_eq!(sequences.len(), acked.len());
    let head = report.head.expect("the acknowledged records are there");
    assert!(acked.iter().all(|a| a.sequence <= head.sequence));
}
