//! The command line on a PostgreSQL journal: `bcss audit init`, `bcss call` with
//! `[journal] url`, then `verify`, `query`, `show` and `checkpoint` on the URL, and
//! `export` of a file journal to the same head. Against a throwaway local cluster (see
//! `pg_support`), or `SKIP:`.

mod audit_support;
mod pg_support;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use audit_support::{intent, outcome, ssin};
use bcss::audit::{FileJournal, FileJournalConfig, Journal, Record};
use pg_support::{APP, OWNER, shared};
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_bcss");

fn bcss(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("PGPASSWORD")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn setup(dir: &Path, url: &str, password_file: &Path) -> String {
    std::fs::write(
        dir.join("authorizations.toml"),
        r#"
[organization]
cbe = "0212344876"
name = "CPAS de Fictiveville"
sector = 17

[[authorization]]
id = "ti-groups-test"
environment = "test"
service = "RetrieveTIGroups"
purpose = "PCSA:SOCIAL_INQUIRY"
program = "00912345673"
valid_from = 2025-01-01
valid_until = 2099-12-31
granted_by = "security-advisor"
"#,
    )
    .unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/exchanges");
    let config = dir.join("bcss.toml");
    std::fs::write(
        &config,
        format!(
            r#"
environment = "test"
manifest = "authorizations.toml"

[journal]
url = "{url}"
password_file = "{}"

[application]
name = "cli-test"
version = "1.0.0"

[organization]
cbe = "0212344876"
contact_email = "it@cpas-fictiveville.example"

[transport]
kind = "replay"
fixtures = "{}"
"#,
            password_file.display(),
            fixtures.display()
        ),
    )
    .unwrap();
    config.display().to_string()
}

#[test]
fn init_call_then_verify_query_show_and_checkpoint_on_the_url() {
    let Some(cluster) = shared("pg cli") else {
        return;
    };
    let db = cluster.database();
    let password = db.password_file().display().to_string();
    let owner_url = db.url(OWNER, "bcss");
    let init = bcss(&[
        "audit",
        "init",
        &owner_url,
        "--role",
        APP,
        "--password-file",
        &password,
    ]);
    assert!(init.status.success(), "{}", text(&init.stderr));
    assert!(
        text(&init.stdout).contains("created the journal in schema bcss"),
        "{}",
        text(&init.stdout)
    );
    // Again: the schema exists, only grants are given.
    let again = bcss(&[
        "audit",
        "init",
        &owner_url,
        "--role",
        APP,
        "--password-file",
        &password,
    ]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("exists"),
        "{}",
        text(&again.stdout)
    );
    // A schema that exists without a journal (public) is named as such, not "create it
    // with init" (the command just run).
    let public = bcss(&[
        "audit",
        "init",
        &db.url(OWNER, "public"),
        "--role",
        APP,
        "--password-file",
        &password,
    ]);
    assert_eq!(public.status.code(), Some(2), "{}", text(&public.stderr));
    assert!(
        text(&public.stderr).contains("schema public exists and holds no bcss journal"),
        "{}",
        text(&public.stderr)
    );
    // A witness schema that holds a journal is refused.
    let shared_witness = bcss(&[
        "audit",
        "init",
        &db.url(OWNER, "other"),
        "--role",
        APP,
        "--witness-schema",
        "bcss",
        "--password-file",
        &password,
    ]);
    assert_eq!(
        shared_witness.status.code(),
        Some(2),
        "{}",
        text(&shared_witness.stderr)
    );
    assert!(
        text(&shared_witness.stderr).contains("--witness-schema bcss holds a journal"),
        "{}",
        text(&shared_witness.stderr)
    );

    let dir = tempfile::tempdir().unwrap();
    let url = db.url(APP, "bcss");
    let config = setup(dir.path(), &url, db.password_file());
    let call = |purpose: &str| {
        bcss(&[
            "call",
            "RetrieveTIGroups",
            "retrieveTI",
            "--config",
            &config,
            "--user",
            "agent-042",
            "--purpose",
            purpose,
            "--ssin",
            "68070100188",
            "--language",
            "fr",
        ])
    };
    let ok = call("PCSA:SOCIAL_INQUIRY");
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let denied = call("MARKETING");
    assert!(!denied.status.success());
    assert!(text(&denied.stderr).contains("purpose_not_authorized"));

    let verify = bcss(&["audit", "verify", &url, "--password-file", &password]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    let shown = text(&verify.stdout);
    assert!(shown.starts_with("WARNING: unanchored"), "{shown}");
    assert!(shown.contains("\nok: "), "{shown}");

    let query = bcss(&[
        "audit",
        "query",
        &url,
        "--subject",
        "68070100188",
        "--format",
        "json",
        "--reader",
        "advisor-1",
        "--password-file",
        &password,
    ]);
    assert!(query.status.success(), "{}", text(&query.stderr));
    let lines: Vec<serde_json::Value> = text(&query.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", text(&query.stdout));
    assert_eq!(lines[1]["status"], "denied");
    let ticket = lines[0]["ticket"].as_str().unwrap().to_string();
    // The read itself is in the journal.
    let location = db.location(APP, "bcss");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let head = runtime
        .block_on(bcss::audit::pg::head(&location))
        .unwrap()
        .unwrap();
    let all = runtime
        .block_on(bcss::audit::pg::records(&location, 1..=head.next_sequence))
        .unwrap();
    assert!(
        all.iter().any(
            |(_, r)| matches!(r, Record::Read(r) if r.reader == "advisor-1" && r.command == "query")
        ),
        "{all:?}"
    );

    let show = bcss(&[
        "audit",
        "show",
        &url,
        &ticket,
        "--reader",
        "advisor-1",
        "--password-file",
        &password,
    ]);
    assert!(show.status.success(), "{}", text(&show.stderr));
    assert!(text(&show.stdout).contains("--- request (text) ---"));

    // Exit codes and --error-format json hold on the PostgreSQL paths: an unknown ticket is
    // exit 1 (after its read is journaled).
    let missing = bcss(&[
        "--error-format",
        "json",
        "audit",
        "show",
        &url,
        &Uuid::now_v7().to_string(),
        "--reader",
        "advisor-1",
        "--password-file",
        &password,
    ]);
    assert_eq!(missing.status.code(), Some(1), "{}", text(&missing.stderr));
    let error: serde_json::Value = serde_json::from_str(
        text(&missing.stderr)
            .lines()
            .find(|l| l.starts_with('{'))
            .unwrap(),
    )
    .unwrap();
    assert!(
        error.to_string().contains("no exchange with ticket"),
        "{error}"
    );
    // The reads themselves, by index: who read about this SSIN, and what.
    let reads = |extra: &[&str]| {
        let mut args = vec![
            "audit",
            "query",
            &url,
            "--reads",
            "--format",
            "json",
            "--reader",
            "advisor-2",
            "--password-file",
            &password,
        ];
        args.extend_from_slice(extra);
        let out = bcss(&args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .collect::<Vec<_>>()
    };
    let about = reads(&["--subject", "68.07.01-001.88"]);
    assert_eq!(
        about.len(),
        2,
        "the query and the show of its ticket: {about:?}"
    );
    assert_eq!(about[0]["reader"], "advisor-1");
    assert_eq!(about[0]["command"], "query");
    assert_eq!(about[0]["chain"], "journal");
    assert_eq!(about[1]["command"], "show");
    assert!(
        about[1]["head"].as_str().is_some_and(|h| h.contains(':')),
        "a show records the head it covered: {about:?}"
    );
    let by_advisor = reads(&["--who", "advisor-1"]);
    assert_eq!(
        by_advisor.len(),
        3,
        "query, show, show of a missing ticket: {by_advisor:?}"
    );
    assert!(reads(&["--who", "nobody"]).is_empty());
    assert!(reads(&["--since", "2999-01-01"]).is_empty());
    // The listing is a read too: advisor-2's three listings above are journaled.
    assert_eq!(reads(&["--who", "advisor-2"]).len(), 4);
    let all = runtime
        .block_on(bcss::audit::pg::records(&location, 1..=u64::MAX))
        .unwrap();
    assert!(
        all.iter().any(
            |(_, r)| matches!(r, Record::Read(r) if r.command == "show" && r.exchanges == Some(0))
        ),
        "the read of a missing ticket is journaled too"
    );

    let checkpoint = bcss(&["audit", "checkpoint", &url, "--password-file", &password]);
    assert!(checkpoint.status.success(), "{}", text(&checkpoint.stderr));
    let printed = text(&checkpoint.stdout);
    assert!(printed.trim().contains(':'), "{printed}");

    // A changed body: verify fails, naming the table and the sequence.
    cluster
        .psql(
            &db.name,
            "SET session_replication_role = replica; UPDATE bcss.records SET body = body || '\\x00'::bytea WHERE sequence = 2",
        )
        .unwrap();
    let verify = bcss(&["audit", "verify", &url, "--password-file", &password]);
    assert_eq!(verify.status.code(), Some(1), "{}", text(&verify.stdout));
    assert!(
        text(&verify.stdout).contains("FAILED: table bcss.records sequence 2:"),
        "{}",
        text(&verify.stdout)
    );

    // A read's indexed reader rewritten: the index is not trusted, the listing fails
    // naming the row instead of showing a read that is not nobody's.
    cluster
        .psql(
            &db.name,
            "SET session_replication_role = replica; UPDATE bcss.records SET user_id = 'nobody' WHERE sequence = (SELECT min(sequence) FROM bcss.records WHERE kind = 'read')",
        )
        .unwrap();
    let forged = bcss(&[
        "audit",
        "query",
        &url,
        "--reads",
        "--who",
        "nobody",
        "--reader",
        "advisor-2",
        "--password-file",
        &password,
    ]);
    assert_eq!(forged.status.code(), Some(1), "{}", text(&forged.stdout));
    assert!(
        text(&forged.stderr).contains("do not match its body"),
        "{}",
        text(&forged.stderr)
    );
    assert!(text(&forged.stdout).is_empty(), "{}", text(&forged.stdout));
}

#[test]
fn export_moves_a_file_journal_to_the_same_head() {
    let Some(cluster) = shared("pg export") else {
        return;
    };
    let db = cluster.database();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(db.init("bcss"));
    let dir = tempfile::tempdir().unwrap();
    let journal_dir = dir.path().join("journal");
    runtime.block_on(async {
        let mut config = FileJournalConfig::new(&journal_dir);
        config.checkpoint_every_records = 7;
        let journal = FileJournal::open(config).await.unwrap();
        for i in 0..20u16 {
            let ticket = Uuid::now_v7();
            journal
                .append(intent(
                    ticket,
                    "agent-1",
                    "IdentifyPerson",
                    &ssin(i + 1),
                    500,
                ))
                .await
                .unwrap();
            journal
                .append(outcome(ticket, "ok", Some(b"<reply/>")))
                .await
                .unwrap();
        }
        journal.close().await.unwrap();
    });
    let password = db.password_file().display().to_string();
    let url = db.url(APP, "bcss");
    let export = bcss(&[
        "audit",
        "export",
        journal_dir.to_str().unwrap(),
        "--to",
        &url,
        "--reader",
        "dpo-1",
        "--password-file",
        &password,
    ]);
    assert!(export.status.success(), "{}", text(&export.stderr));
    assert!(text(&export.stdout).contains("both journals verify to head"));
    // stderr is not a terminal here: no progress bar.
    assert_eq!(text(&export.stderr), "");
    // The export read the file journal: the read is in its reads chain.
    let reads =
        bcss::audit::query_reads(&journal_dir, &bcss::audit::QueryFilter::default()).unwrap();
    assert!(
        reads
            .iter()
            .any(|r| r.record.reader == "dpo-1" && r.record.command == "export"),
        "{reads:?}"
    );
    let file_head = bcss(&["audit", "checkpoint", journal_dir.to_str().unwrap()]);
    let pg_head = bcss(&["audit", "checkpoint", &url, "--password-file", &password]);
    assert!(pg_head.status.success(), "{}", text(&pg_head.stderr));
    assert_eq!(text(&file_head.stdout), text(&pg_head.stdout));
    // A second export into the same journal is refused.
    let again = bcss(&[
        "audit",
        "export",
        journal_dir.to_str().unwrap(),
        "--to",
        &url,
        "--reader",
        "dpo-1",
        "--password-file",
        &password,
    ]);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("already holds journal"));
    // The application goes on appending to the exported journal.
    runtime.block_on(async {
        let journal = bcss::audit::pg::PgJournal::open(bcss::audit::pg::PgJournalConfig::new(
            db.location(APP, "bcss"),
        ))
        .await
        .unwrap();
        journal
            .append(intent(
                Uuid::now_v7(),
                "agent-2",
                "IdentifyPerson",
                &ssin(99),
                50,
            ))
            .await
            .unwrap();
        journal.close().await.unwrap();
    });
    let verify = bcss(&["audit", "verify", &url, "--password-file", &password]);
    assert!(verify.status.success(), "{}", text(&verify.stdout));

    // Through the library, with progress: every record and frame byte copied is counted,
    // against the segments' total size, and the progress ends once.
    let counted = Arc::new(Counted::default());
    let report = runtime.block_on(async {
        let to = db.init("bcss_progress").await;
        bcss::audit::pg::export(
            &journal_dir,
            &to,
            &bcss::audit::VerifyOptions::default(),
            std::time::Duration::ZERO,
            Some(&*counted),
        )
        .await
        .unwrap()
    });
    let segments: u64 = std::fs::read_dir(&journal_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x == bcss::audit::format::SEGMENT_EXTENSION)
        })
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    let c = counted.0.lock().unwrap();
    assert_eq!(c.started, vec![("export".to_string(), Some(segments))]);
    assert_eq!(c.records, report.records);
    assert!(
        c.bytes > 0 && c.bytes < segments,
        "{} of {segments}",
        c.bytes
    );
    assert_eq!(c.finished, 1);
    drop(c);
    // Verifying the copy counts every record's bytes against the bodies' total: the bar
    // fills.
    let counted = Arc::new(Counted::default());
    let progress: Arc<dyn bcss::audit::Progress> = counted.clone();
    let verified = runtime.block_on(bcss::audit::pg::verify(
        &db.location(APP, "bcss_progress"),
        &bcss::audit::VerifyOptions {
            progress: Some(progress),
            ..bcss::audit::VerifyOptions::default()
        },
    ));
    assert!(verified.unwrap().is_ok());
    let c = counted.0.lock().unwrap();
    let [(what, Some(total))] = &c.started[..] else {
        panic!("{:?}", c.started);
    };
    assert_eq!((what.as_str(), c.bytes), ("verify", *total));
    assert_eq!(c.records, report.records);
    drop(c);

    // While an application writes the file journal, export waits for its lock (saying
    // so, as a writer does), then copies everything, up to what was written before the
    // application closed it: nothing is written during the copy.
    runtime.block_on(db.init("bcss_locked"));
    let holder = runtime
        .block_on(FileJournal::open(FileJournalConfig::new(&journal_dir)))
        .unwrap();
    let url = db.url(APP, "bcss_locked");
    let mut child = Command::new(BIN)
        .args([
            "audit",
            "export",
            journal_dir.to_str().unwrap(),
            "--to",
            &url,
            "--reader",
            "dpo-1",
            "--password-file",
            &password,
        ])
        .env_remove("PGPASSWORD")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    loop {
        let mut line = String::new();
        if std::io::BufRead::read_line(&mut stderr, &mut line).unwrap() == 0 {
            break;
        }
        said.push_str(&line);
        if line.contains("Blocking waiting") {
            break;
        }
    }
    assert!(
        said.contains(&format!(
            "Blocking waiting for the journal lock held by another process (pid {})",
            std::process::id()
        )),
        "{said}"
    );
    let last = runtime.block_on(async {
        let appended = holder
            .append(intent(
                Uuid::now_v7(),
                "agent-3",
                "IdentifyPerson",
                &ssin(77),
                50,
            ))
            .await
            .unwrap();
        holder.close().await.unwrap();
        appended.sequence
    });
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{said}{}", text(&out.stderr));
    let copied = bcss::audit::verify(&journal_dir, &bcss::audit::VerifyOptions::default())
        .unwrap()
        .records;
    assert!(copied > last, "{copied} {last}");
    assert!(
        text(&out.stdout).contains(&format!("{copied} record(s) copied")),
        "{}",
        text(&out.stdout)
    );
    let file_head = bcss(&["audit", "checkpoint", journal_dir.to_str().unwrap()]);
    let pg_head = bcss(&["audit", "checkpoint", &url, "--password-file", &password]);
    assert!(pg_head.status.success(), "{}", text(&pg_head.stderr));
    assert_eq!(text(&file_head.stdout), text(&pg_head.stdout));
}

#[derive(Debug, Default)]
struct Counts {
    started: Vec<(String, Option<u64>)>,
    records: u64,
    bytes: u64,
    finished: u32,
}

#[derive(Debug, Default)]
struct Counted(std::sync::Mutex<Counts>);

impl bcss::audit::Progress for Counted {
    fn start(&self, what: &str, total_bytes: Option<u64>) {
        self.0
            .lock()
            .unwrap()
            .started
            .push((what.to_string(), total_bytes));
    }
    fn advance(&self, records: u64, bytes: u64) {
        let mut c = self.0.lock().unwrap();
        c.records += records;
        c.bytes += bytes;
    }
    fn finish(&self) {
        self.0.lock().unwrap().finished += 1;
    }
}

#[test]
fn init_prints_its_sql_for_review() {
    let out = bcss(&[
        "audit",
        "init",
        "postgres://owner@db.example/cpas?schema=cpas_a",
        "--role",
        "cpas_app",
        "--sql",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let sql = text(&out.stdout);
    assert!(sql.contains("CREATE TRIGGER records_append_only"), "{sql}");
    assert!(
        sql.contains("GRANT SELECT, INSERT ON cpas_a.records TO cpas_app"),
        "{sql}"
    );
    assert!(sql.contains("cpas_a_witness.heads"), "{sql}");
    let refused = bcss(&[
        "audit",
        "verify",
        "postgres://owner:hunter2-secret@db.example/cpas",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(!text(&refused.stderr).contains("hunter2-secret"));
    assert!(text(&refused.stderr).contains("password"));
}

#[test]
fn start_witness_on_a_url_is_the_explicit_act_that_adds_one() {
    let Some(cluster) = shared("pg start-witness") else {
        return;
    };
    let db = cluster.database();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let location = runtime.block_on(db.init("bcss"));
    runtime.block_on(async {
        let journal = bcss::audit::pg::PgJournal::open(bcss::audit::pg::PgJournalConfig::new(
            location.clone(),
        ))
        .await
        .unwrap();
        journal
            .append(intent(
                Uuid::now_v7(),
                "agent-1",
                "IdentifyPerson",
                &ssin(4),
                80,
            ))
            .await
            .unwrap();
        journal.close().await.unwrap();
    });
    let password = db.password_file().display().to_string();
    let url = db.url(APP, "bcss");
    let witness = db.url(APP, "bcss_witness");
    let start = || {
        bcss(&[
            "audit",
            "start-witness",
            &url,
            "--witness",
            &witness,
            "--password-file",
            &password,
        ])
    };
    let out = start();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("started: it holds the head at sequence "),
        "{}",
        text(&out.stdout)
    );
    let again = start();
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(text(&again.stdout).contains("nothing to start"));
    let verify = bcss(&[
        "audit",
        "verify",
        &url,
        "--witness",
        &witness,
        "--require-anchor",
        "--password-file",
        &password,
    ]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
}

#[test]
fn init_refuses_the_owner_as_application_role_and_says_when_none_is_granted() {
    let Some(cluster) = shared("pg init roles") else {
        return;
    };
    let db = cluster.database();
    let password = db.password_file().display().to_string();
    let owner_url = db.url(OWNER, "bcss");
    let init = |extra: &[&str]| {
        let mut args = vec!["audit", "init", &owner_url, "--password-file", &password];
        args.extend_from_slice(extra);
        bcss(&args)
    };
    // The owner itself, by name (checked before connecting too, with --sql).
    let out = init(&["--role", OWNER]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(err.contains("is the journal's owner"), "{err}");
    assert!(err.contains("a role of its own"), "{err}");
    // The superuser, a member of every role.
    let out = init(&["--role", pg_support::SUPERUSER]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("is the journal's owner"));
    // No role: created, and the output says none was granted and how to add one.
    let out = init(&[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("no application role was granted"), "{said}");
    assert!(said.contains("--role bcss_app"), "{said}");
    // Added afterwards.
    let out = init(&["--role", APP]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("granted bcss_app"));
}
