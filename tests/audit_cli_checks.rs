//! `bcss audit` on what a new-user trial edited or deleted: an index with a run removed
//! from its manifest, a deleted reads chain, an empty folder.

#[path = "audit_support/mod.rs"]
mod support;

mod cli_support;
use cli_support::{bcss, p, stderr, stdout};

use std::sync::Arc;

use bcss::audit::{self, FileJournal, FileWitness, INDEX_DIR, Journal, READS_DIR, ReadRecord};
use serde_json::Value;
use support::*;
use uuid::Uuid;

/// Two writer sessions of `calls` calls about one subject each: two runs at least.
async fn journal(config: &audit::FileJournalConfig, calls: usize) {
    for _ in 0..2 {
        let j = FileJournal::open(config.clone()).await.unwrap();
        for _ in 0..calls {
            let ticket = Uuid::now_v7();
            j.append(intent(ticket, "alice", "IdentifyPerson", &ssin(1), 40))
                .await
                .unwrap();
            j.append(outcome(ticket, "ok", Some(b"<reply/>")))
                .await
                .unwrap();
        }
        j.close().await.unwrap();
    }
}

#[tokio::test]
async fn a_run_removed_from_the_index_manifest_does_not_hide_records() {
    let tmp = tempdir();
    let dir = tmp.path();
    journal(&config(dir), 10).await;
    let query = || {
        bcss(&[
            "audit",
            "query",
            p(dir),
            "--reader",
            "advisor",
            "--subject",
            &ssin(1),
            "--format",
            "csv",
        ])
    };
    let out = query();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 21, "{}", stdout(&out));
    assert!(!stderr(&out).contains("note"), "{}", stderr(&out));

    // The trial's edit: the first run removed, `through` kept.
    let manifest = dir.join(INDEX_DIR).join("manifest.json");
    let mut m: Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    m["runs"].as_array_mut().unwrap().remove(0);
    std::fs::write(&manifest, serde_json::to_vec(&m).unwrap()).unwrap();
    let out = query();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 21, "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("note: the index was not used"), "{err}");
    assert!(err.contains("do not cover"), "{err}");
    assert!(err.contains("bcss audit reindex"), "{err}");

    // positions.bin edited (two records' positions swapped): all the same, and not
    // reported as damage of the journal.
    let out = bcss(&["audit", "reindex", p(dir)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let positions = dir.join(INDEX_DIR).join("positions.bin");
    let mut bytes = std::fs::read(&positions).unwrap();
    let (a, b) = (16 + 2 * 8, 16 + 7 * 8);
    let (x, y) = (bytes[a..a + 8].to_vec(), bytes[b..b + 8].to_vec());
    bytes[a..a + 8].copy_from_slice(&y);
    bytes[b..b + 8].copy_from_slice(&x);
    std::fs::write(&positions, &bytes).unwrap();
    let out = query();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 21, "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("do not lead to record"), "{err}");
    assert!(!err.contains("damaged"), "{err}");
    // `show` of the exchange whose outcome (sequence 3) was moved.
    let ticket = stdout(&out)
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(1)
        .unwrap()
        .to_string();
    let out = bcss(&["audit", "show", p(dir), &ticket, "--reader", "advisor"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("<reply/>"), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("do not lead to record"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn a_deleted_reads_chain_is_reported_with_a_witness_and_visible_without() {
    let tmp = tempdir();
    let dir = tmp.path().join("journal");
    let witness_dir = tempdir();
    let witness = witness_dir.path().join("journal.witness");
    let mut c = config(&dir);
    c.witness = Some(Arc::new(FileWitness::new(&witness)));
    journal(&c, 2).await;
    let verify = |with_witness: bool| {
        let mut args = vec!["audit", "verify", p(&dir)];
        if with_witness {
            args.extend(["--witness", p(&witness)]);
        }
        bcss(&args)
    };
    // No read yet: said so.
    let out = verify(false);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("reads: none"), "{}", stdout(&out));
    let out = verify(true);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("reads: none"), "{}", stdout(&out));

    let read = ReadRecord::new("advisor", "query", vec![]).with_subjects(vec![ssin(1)]);
    audit::record_read(&c, read).await.unwrap();
    let out = verify(true);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("reads: ok"), "{}", stdout(&out));

    // The trial's deletion: the witness holds the reads chain's heads.
    std::fs::remove_dir_all(dir.join(READS_DIR)).unwrap();
    let out = verify(true);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.starts_with("reads: FAILED: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("reads chain was deleted"), "{line}");
    assert!(line.contains("holds no reads chain"), "{line}");
    // Emptied rather than removed: the same.
    std::fs::create_dir(dir.join(READS_DIR)).unwrap();
    let out = verify(true);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("reads: FAILED: "), "{}", stdout(&out));
    // Without a witness nothing shows it was there, but its absence is said.
    let out = verify(false);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("reads: none"), "{}", stdout(&out));
}

#[test]
fn verify_and_query_of_an_empty_folder_say_it_holds_no_journal() {
    let tmp = tempdir();
    let out = bcss(&["audit", "verify", p(tmp.path())]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(!stdout(&out).contains("ok:"), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("holds no journal"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains(p(tmp.path())), "{}", stderr(&out));
    let out = bcss(&["audit", "query", p(tmp.path()), "--reader", "advisor"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("holds no journal"),
        "{}",
        stderr(&out)
    );
}

/// Starting a witness on a journal that has been read starts it on its reads chain too:
/// reads and verify go on with the witness (the third trial found every read refused).
#[tokio::test]
async fn start_witness_starts_the_reads_chain_too() {
    let tmp = tempdir();
    let dir = tmp.path().join("j");
    journal(&config(&dir), 3).await;
    let read = |reader: &str, witness: Option<&str>| {
        let mut args = vec!["audit", "query", p(&dir), "--reader", reader];
        if let Some(w) = witness {
            args.extend(["--witness", w]);
        }
        bcss(&args)
    };
    let first = read("r1", None);
    assert!(first.status.success(), "{}", stderr(&first));
    let witness = tmp.path().join("w.witness");
    let w = p(&witness);
    let started = bcss(&["audit", "start-witness", p(&dir), "--witness", w]);
    assert!(started.status.success(), "{}", stderr(&started));
    assert!(
        stdout(&started).contains("and on its reads chain"),
        "{}",
        stdout(&started)
    );
    let second = read("r2", Some(w));
    assert!(second.status.success(), "{}", stderr(&second));
    let verify = bcss(&["audit", "verify", p(&dir), "--witness", w]);
    assert!(verify.status.success(), "{}", stdout(&verify));
    assert!(stdout(&verify).contains("reads: ok"), "{}", stdout(&verify));
    // Again: nothing to start on either.
    let again = bcss(&["audit", "start-witness", p(&dir), "--witness", w]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        !stdout(&again).contains("and on its reads chain"),
        "{}",
        stdout(&again)
    );
}
