//! `bcss audit ...`: output and exit codes.

#[path = "audit_support/mod.rs"]
mod support;

mod cli_support;
use cli_support::{bcss, p, stderr, stdout};
use std::path::Path;

use bcss::audit::{self, FileJournal, Journal, Record};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
use support::*;
use uuid::Uuid;

/// A journal with one call (intent + outcome), one pending intent and one denial.
async fn journal(dir: &Path, key: Option<&Path>) -> (Uuid, Uuid) {
    let mut c = config(dir);
    c.signing_key = key.map(Path::to_path_buf);
    let j = FileJournal::open(c).await.unwrap();
    let call = Uuid::now_v7();
    j.append(intent(call, "alice", "IdentifyPerson", &ssin(1), 50))
        .await
        .unwrap();
    j.append(outcome(
        call,
        "ok",
        Some(b"<reply>line1\nline2, \"quoted\"</reply>"),
    ))
    .await
    .unwrap();
    j.append(intent(
        Uuid::now_v7(),
        "bob",
        "HealthCareInsurance",
        &ssin(2),
        50,
    ))
    .await
    .unwrap();
    let denied = Uuid::now_v7();
    j.append(denial(denied, "carol", "IdentifyPerson", &ssin(1)))
        .await
        .unwrap();
    j.close().await.unwrap();
    (call, denied)
}

#[tokio::test]
async fn verify_ok_and_damaged() {
    let tmp = tempdir();
    journal(tmp.path(), None).await;
    let out = bcss(&["audit", "verify", p(tmp.path())]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let head = audit::verify(tmp.path(), &plain()).unwrap().head.unwrap();
    let mut lines = text.lines();
    assert!(
        lines.next().unwrap().starts_with("WARNING: unanchored: truncation at a record boundary, deleted trailing segments, a replaced journal, and records edited, added or pruned with the chain recomputed after them (after the last signed checkpoint, with a key) cannot be detected (configure [journal] witness, or pass --witness)"),
        "{text}"
    );
    // The genesis record, four records, the shutdown checkpoint.
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with(&format!("ok: 6 records, head {}", hex::encode(head.hash))),
        "{text}"
    );
    assert!(text.contains("intents without outcome: 1"), "{text}");

    let seg = segments(tmp.path()).pop().unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    let f = frames(&bytes)[1].clone();
    bytes[f.offset + 80] ^= 4;
    std::fs::write(&seg, &bytes).unwrap();
    let out = bcss(&["audit", "verify", p(tmp.path())]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "FAILED: segment {} byte {} sequence 2",
            name(&seg),
            f.offset
        )),
        "{text}"
    );
}

#[tokio::test]
async fn checkpoint_prints_a_head_that_verify_trusts() {
    let tmp = tempdir();
    journal(tmp.path(), None).await;
    let out = bcss(&["audit", "checkpoint", p(tmp.path())]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let head = stdout(&out).trim().to_string();
    assert!(head.starts_with("6:"), "{head}");
    let out = bcss(&["audit", "verify", p(tmp.path()), "--trusted-head", &head]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("trusted head: confirmed"));
    let wrong = format!("6:{}", "00".repeat(32));
    let out = bcss(&["audit", "verify", p(tmp.path()), "--trusted-head", &wrong]);
    assert_eq!(out.status.code(), Some(1));
    let out = bcss(&[
        "audit",
        "verify",
        p(tmp.path()),
        "--trusted-head",
        "nonsense",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let empty = tempdir();
    let out = bcss(&["audit", "checkpoint", p(empty.path())]);
    assert_eq!(out.status.code(), Some(1));
}

#[tokio::test]
async fn verify_checks_signatures_with_a_public_key() {
    let tmp = tempdir();
    let keys = tempdir();
    let key = SigningKey::from_bytes(&[5; 32]);
    let private = keys.path().join("private.pem");
    let public = keys.path().join("public.pem");
    std::fs::write(
        &private,
        key.to_pkcs8_pem(Default::default()).unwrap().as_bytes(),
    )
    .unwrap();
    std::fs::write(
        &public,
        key.verifying_key()
            .to_public_key_pem(Default::default())
            .unwrap(),
    )
    .unwrap();
    journal(tmp.path(), Some(&private)).await;
    let out = bcss(&["audit", "verify", p(tmp.path()), "--public-key", p(&public)]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("signed checkpoints: 1 verified; 0 records after"));
    let other = keys.path().join("other.hex");
    std::fs::write(
        &other,
        hex::encode(SigningKey::from_bytes(&[6; 32]).verifying_key().to_bytes()),
    )
    .unwrap();
    let out = bcss(&["audit", "verify", p(tmp.path()), "--public-key", p(&other)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("another key"));
}

#[tokio::test]
async fn query_formats() {
    let tmp = tempdir();
    let (call, denied) = journal(tmp.path(), None).await;
    let subject = ssin(1);

    // Reading personal data names who reads.
    let out = bcss(&["audit", "query", p(tmp.path()), "--subject", &subject]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--reader"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    let out = bcss(&[
        "audit",
        "query",
        p(tmp.path()),
        "--subject",
        &subject,
        "--format",
        "json",
        "--reader",
        "advisor-1",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["ticket"], call.to_string());
    assert_eq!(lines[0]["status"], "ok");
    assert_eq!(lines[0]["who"]["user_id"], "alice");
    assert!(lines[0]["request"].as_str().unwrap().contains(&subject));
    assert_eq!(lines[0]["request_encoding"], "text");
    assert_eq!(lines[0]["reply"], "<reply>line1\nline2, \"quoted\"</reply>");
    assert_eq!(lines[1]["ticket"], denied.to_string());
    assert_eq!(lines[1]["status"], "denied");
    assert_eq!(lines[1]["reason_code"], "purpose_not_authorized");

    let out = bcss(&[
        "audit",
        "query",
        p(tmp.path()),
        "--format",
        "csv",
        "--reader",
        "advisor-1",
    ]);
    let text = stdout(&out);
    let mut rows = text.lines();
    assert!(
        rows.next()
            .unwrap()
            .starts_with("decided_at,ticket,status,code,user_id")
    );
    assert_eq!(text.lines().count(), 4, "{text}");

    let out = bcss(&[
        "audit",
        "query",
        p(tmp.path()),
        "--outcome",
        "no_outcome",
        "--reader",
        "advisor-1",
    ]);
    let text = stdout(&out);
    assert!(text.lines().next().unwrap().starts_with("DECIDED"));
    assert!(
        text.contains("bob") && text.contains("no_outcome"),
        "{text}"
    );
    assert!(!text.contains("alice"), "{text}");
    assert!(text.contains("1 exchange(s)"));

    let out = bcss(&[
        "audit",
        "query",
        p(tmp.path()),
        "--since",
        "2000-01-01",
        "--until",
        "2000-12-31",
        "--reader",
        "advisor-1",
    ]);
    assert!(stdout(&out).contains("0 exchange(s)"));
    // What would silently match nothing, or be ignored, is refused (exit 2), naming why.
    for (args, said) in [
        (
            &["--outcome", "bogus"][..],
            "--outcome \"bogus\" is not a status; expected one of ok, warning",
        ),
        (
            &["--since", "2025-02-01", "--until", "2025-01-01"][..],
            "is before --since",
        ),
        (
            &["--subject", "12345"][..],
            "--subject \"12345\" is not an SSIN",
        ),
        (
            &["--reads", "--subject", "68070100189"][..],
            "is not an SSIN",
        ),
        (
            &["--reads", "--service", "X", "--outcome", "ok"][..],
            "--service and --outcome do not apply to --reads",
        ),
    ] {
        let mut all = vec!["audit", "query", p(tmp.path()), "--reader", "advisor-1"];
        all.extend_from_slice(args);
        let out = bcss(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(said), "{args:?}: {err}");
    }
    // A blank reader is refused before anything is read (nothing about the read either).
    let out = bcss(&["audit", "query", p(tmp.path()), "--reader", "  "]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--reader must name who reads"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).lines().all(|l| !l.contains("index")),
        "{}",
        stderr(&out)
    );
    // Outcomes are matched in any case.
    let out = bcss(&[
        "audit",
        "query",
        p(tmp.path()),
        "--outcome",
        " NO_OUTCOME ",
        "--reader",
        "advisor-1",
    ]);
    assert!(stdout(&out).contains("1 exchange(s)"), "{}", stdout(&out));
    let out = bcss(&[
        "audit",
        "query",
        p(tmp.path()),
        "--since",
        "yesterday",
        "--reader",
        "advisor-1",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn show_one_exchange() {
    let tmp = tempdir();
    let (call, _) = journal(tmp.path(), None).await;
    let out = bcss(&["audit", "show", p(tmp.path()), &call.to_string()]);
    assert_eq!(out.status.code(), Some(2), "--reader is required");
    assert!(stdout(&out).is_empty());
    let out = bcss(&[
        "audit",
        "show",
        p(tmp.path()),
        &call.to_string(),
        "--reader",
        "advisor-1",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("status: ok"), "{text}");
    assert!(text.contains("--- request (text) ---"));
    assert!(text.contains(&format!("<ssin>{}</ssin>", ssin(1))));
    assert!(text.contains("--- reply (text) ---"));
    assert!(text.contains("line2, \"quoted\""));
    let out = bcss(&[
        "audit",
        "show",
        p(tmp.path()),
        &Uuid::now_v7().to_string(),
        "--reader",
        "advisor-1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no exchange with ticket"));
}

#[tokio::test]
async fn reader_journals_the_read_first() {
    let tmp = tempdir();
    let (call, _) = journal(tmp.path(), None).await;
    let out = bcss(&[
        "audit",
        "show",
        p(tmp.path()),
        &call.to_string(),
        "--reader",
        "advisor-7",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = audit::verify(tmp.path(), &plain()).unwrap();
    assert!(report.is_ok(), "{:?}", report.reads);
    // The journal itself is unchanged; the read is in its reads chain, after its genesis.
    assert_eq!(report.records, 6);
    let reads_dir = tmp.path().join(audit::READS_DIR);
    let reads = report.reads.expect("a reads chain");
    assert_eq!(reads.records, 2);
    let seg = segments(&reads_dir).pop().unwrap();
    let bytes = std::fs::read(&seg).unwrap();
    let f = frames(&bytes).pop().unwrap();
    match record_at(&bytes, &f) {
        Record::Read(r) => {
            assert_eq!(r.reader, "advisor-7");
            assert_eq!(r.command, "show");
            assert_eq!(r.arguments, vec![call.to_string()]);
            // What was shown, and about whom: the journal up to its head, one exchange.
            assert_eq!(r.journal_id, report.journal_id);
            assert_eq!(r.head, report.head.map(|h| h.to_string()));
            assert_eq!(r.exchanges, Some(1));
            assert_eq!(r.subjects, vec![ssin(1)]);
        }
        other => panic!("expected a read record, got {}", other.kind()),
    }
    // While an application writes the journal, a read is journaled and shown all the same.
    let j = FileJournal::open(config(tmp.path())).await.unwrap();
    let out = bcss(&[
        "audit",
        "query",
        p(tmp.path()),
        "--reader",
        "advisor-8",
        "--subject",
        &ssin(2),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 1, "{}", stdout(&out));
    j.close().await.unwrap();
    // The reads themselves: who read what about whom, when.
    let out = bcss(&[
        "audit",
        "query",
        p(tmp.path()),
        "--reads",
        "--reader",
        "advisor-9",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", stdout(&out));
    assert_eq!(lines[0]["reader"], "advisor-7");
    assert_eq!(lines[1]["reader"], "advisor-8");
    assert_eq!(lines[1]["command"], "query");
    assert_eq!(lines[1]["subjects"][0], ssin(2));
    assert_eq!(lines[1]["chain"], "reads");
    let out = bcss(&[
        "audit",
        "query",
        p(tmp.path()),
        "--reads",
        "--who",
        "advisor-8",
        "--reader",
        "advisor-9",
    ]);
    let text = stdout(&out);
    assert!(
        text.contains("advisor-8") && text.contains("1 read(s)"),
        "{text}"
    );
    // Listing reads is a read too; verify names the reads chain.
    let out = bcss(&["audit", "verify", p(tmp.path())]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("reads: ok: 5 records"),
        "{}",
        stdout(&out)
    );
}

#[tokio::test]
async fn reindex_rebuilds_the_index_and_long_commands_draw_nothing_off_a_terminal() {
    let tmp = tempdir();
    let (call, _) = journal(tmp.path(), None).await;
    std::fs::remove_dir_all(tmp.path().join(audit::INDEX_DIR)).unwrap();
    let query = |dir: &Path| {
        bcss(&[
            "audit",
            "query",
            p(dir),
            "--subject",
            &ssin(1),
            "--reader",
            "advisor",
            "--format",
            "csv",
        ])
    };
    let out = query(tmp.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("note: the index was not used"),
        "{}",
        stderr(&out)
    );
    let without = stdout(&out);
    assert!(without.contains(&call.to_string()), "{without}");

    // stderr is a pipe here: no progress bar is drawn, by reindex or verify.
    let out = bcss(&["audit", "reindex", p(tmp.path())]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    // The genesis record, four records, the shutdown checkpoint.
    assert!(
        stdout(&out).starts_with("indexed 6 records: "),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("through sequence 6"),
        "{}",
        stdout(&out)
    );
    let out = bcss(&["audit", "verify", p(tmp.path())]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");

    let out = query(tmp.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    assert_eq!(stdout(&out), without);

    let out = bcss(&["audit", "reindex", p(&tmp.path().join("missing"))]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a journal directory"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn prune_command() {
    let tmp = tempdir();
    journal(tmp.path(), None).await;
    let out = bcss(&["audit", "prune", p(tmp.path()), "--before", "2100-01-01"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("0 segment(s) removed"), "{text}");
    assert!(text.contains("last segment"), "{text}");
    let out = bcss(&["audit", "prune", p(tmp.path()), "--before", "soon"]);
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn verify_with_a_witness_or_requiring_an_anchor() {
    let tmp = tempdir();
    let witness_dir = tempdir();
    let witness = witness_dir.path().join("journal.witness");
    let mut c = config(tmp.path());
    c.witness = Some(std::sync::Arc::new(audit::FileWitness::new(&witness)));
    let j = FileJournal::open(c).await.unwrap();
    for _ in 0..4 {
        j.append(intent(Uuid::now_v7(), "alice", "S", &ssin(1), 50))
            .await
            .unwrap();
    }
    j.close().await.unwrap();

    let out = bcss(&["audit", "verify", p(tmp.path())]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).starts_with("WARNING: unanchored"),
        "{}",
        stdout(&out)
    );
    let out = bcss(&["audit", "verify", p(tmp.path()), "--require-anchor"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert!(
        lines.next().unwrap().starts_with("WARNING: unanchored"),
        "{text}"
    );
    let failed = lines.next().unwrap();
    assert!(failed.contains("not anchored"), "{text}");
    // The cause, not a position: nothing is wrong at the journal's end.
    assert!(!failed.contains(" byte "), "{text}");
    assert!(failed.contains("records themselves verify"), "{text}");

    let out = bcss(&[
        "audit",
        "verify",
        p(tmp.path()),
        "--witness",
        p(&witness),
        "--require-anchor",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.starts_with("ok: 6 records"), "{text}");
    assert!(text.contains("witness: 3 head(s) confirmed"), "{text}");

    // The witness named by a configuration file.
    let toml = tmp.path().with_extension("toml");
    std::fs::write(
        &toml,
        format!(
            "environment = \"test\"\nmanifest = \"m.toml\"\n[journal]\ndir = \"j\"\nwitness = {:?}\n[application]\nname = \"a\"\nversion = \"1\"\n[organization]\ncbe = \"0212344876\"\ncontact_email = \"it@cpas-fictiveville.example\"\n",
            witness.to_str().unwrap()
        ),
    )
    .unwrap();
    let out = bcss(&[
        "audit",
        "verify",
        p(tmp.path()),
        "--config",
        p(&toml),
        "--require-anchor",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("witness: 3 head(s) confirmed"),
        "{}",
        stdout(&out)
    );
    std::fs::remove_file(&toml).unwrap();

    // Cut at a record boundary: only the witness shows it.
    let seg = segments(tmp.path()).pop().unwrap();
    let bytes = std::fs::read(&seg).unwrap();
    let f = frames(&bytes)[3].clone();
    std::fs::write(&seg, &bytes[..f.offset]).unwrap();
    let out = bcss(&["audit", "verify", p(tmp.path())]);
    assert_eq!(out.status.code(), Some(0));
    let out = bcss(&["audit", "verify", p(tmp.path()), "--witness", p(&witness)]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.starts_with(&format!(
            "FAILED: segment {} byte {} sequence 4: the witness recorded head",
            name(&seg),
            f.offset
        )),
        "{text}"
    );
}

#[tokio::test]
async fn verify_reports_quarantined_bytes() {
    let tmp = tempdir();
    journal(tmp.path(), None).await;
    // Damage the last complete record's body checksum: opening quarantines it.
    let seg = segments(tmp.path()).pop().unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&seg, &bytes).unwrap();
    let out = bcss(&["audit", "verify", p(tmp.path())]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("moves this final record to quarantine"),
        "{}",
        stdout(&out)
    );
    FileJournal::open(config(tmp.path()))
        .await
        .unwrap()
        .close()
        .await
        .unwrap();
    let out = bcss(&["audit", "verify", p(tmp.path())]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("crash recoveries (truncations): 1"), "{text}");
    assert!(
        text.contains(&format!("quarantined: quarantine/{}-", name(&seg))),
        "{text}"
    );
    assert!(
        text.contains("damaged), named by the truncation record at sequence 6; it matches"),
        "{text}"
    );
}
