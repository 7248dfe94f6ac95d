//! The tester's command line end to end: `bcss call` and `bcss test-connection` against the
//! mock BCSS on loopback, through the guard and the journal, then `bcss audit verify`, and
//! `bcss mock` printing the address it serves.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use bcss::mock::{MockConfig, MockServer};

mod cli_support;

use cli_support::{BIN, bcss, fixtures, text, write_setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_and_test_connection_through_the_mock_then_verify_the_journal() {
    let mock = MockServer::start(MockConfig::from_dir(fixtures()).unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_setup(dir.path(), &mock.base_url());
    let config = config.to_str().unwrap().to_string();

    let calls = tokio::task::spawn_blocking(move || {
        let ok = bcss(&[
            "call",
            "RetrieveTIGroups",
            "retrieveTI",
            "--config",
            &config,
            "--user",
            "agent-042",
            "--purpose",
            "PCSA:SOCIAL_INQUIRY",
            "--ssin",
            "68070100188",
            "--language",
            "fr",
        ]);
        let denied = bcss(&[
            "call",
            "RetrieveTIGroups",
            "retrieveTI",
            "--config",
            &config,
            "--user",
            "agent-042",
            "--purpose",
            "MARKETING",
            "--ssin",
            "68070100188",
            "--language",
            "fr",
        ]);
        let echo = bcss(&[
            "test-connection",
            "--config",
            &config,
            "--user",
            "agent-042",
        ]);
        (ok, denied, echo)
    })
    .await
    .unwrap();
    let (ok, denied, echo) = calls;

    assert!(ok.status.success(), "stderr: {}", text(&ok.stderr));
    let json: serde_json::Value = serde_json::from_slice(&ok.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", text(&ok.stdout)));
    assert!(
        text(&ok.stdout).contains("68070100188"),
        "the typed reply names the person: {json}"
    );

    assert!(!denied.status.success());
    assert!(denied.stdout.is_empty(), "{}", text(&denied.stdout));
    let why = text(&denied.stderr);
    assert!(why.contains("purpose_not_authorized"), "{why}");

    assert!(echo.status.success(), "stderr: {}", text(&echo.stderr));
    // The manifest is not signed (test environment, no signers): each load says so once.
    for o in [&ok, &denied, &echo] {
        let err = text(&o.stderr);
        assert_eq!(err.matches("bcss: warning: manifest ").count(), 1, "{err}");
        assert!(err.contains("loaded unsigned (SHA-256 "), "{err}");
    }

    mock.shutdown().await;

    // The journal holds the three calls (the denial too) and its chain verifies.
    let journal = dir.path().join("journal");
    let verify = bcss(&["audit", "verify", journal.to_str().unwrap()]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    // No witness is configured: the first line says so, then the verdict.
    let shown = text(&verify.stdout);
    let mut lines = shown.lines();
    assert!(
        lines
            .next()
            .is_some_and(|l| l.starts_with("WARNING: unanchored")),
        "{shown}"
    );
    assert!(
        lines.next().is_some_and(|l| l.starts_with("ok: ")),
        "{shown}"
    );
    let query = bcss(&[
        "audit",
        "query",
        journal.to_str().unwrap(),
        "--subject",
        "68070100188",
        "--format",
        "json",
        "--reader",
        "advisor-1",
    ]);
    assert!(query.status.success(), "{}", text(&query.stderr));
    let lines: Vec<serde_json::Value> = text(&query.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", text(&query.stdout));
}

#[test]
fn mock_prints_the_address_it_serves() {
    let mut child = Command::new(BIN)
        .args(["mock", "--fixtures"])
        .arg(fixtures())
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(first.contains("http://127.0.0.1:"), "{first}");
}

#[test]
fn a_missing_configuration_is_a_clear_error() {
    let out = bcss(&[
        "call",
        "RetrieveTIGroups",
        "retrieveTI",
        "--config",
        "/nonexistent/bcss.toml",
        "--user",
        "agent-042",
        "--purpose",
        "PCSA:SOCIAL_INQUIRY",
        "--ssin",
        "68070100188",
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("/nonexistent/bcss.toml"),
        "{}",
        text(&out.stderr)
    );
}

fn call_args(config: &str) -> Vec<String> {
    [
        "call",
        "RetrieveTIGroups",
        "retrieveTI",
        "--config",
        config,
        "--user",
        "agent-042",
        "--purpose",
        "PCSA:SOCIAL_INQUIRY",
        "--ssin",
        "68070100188",
        "--language",
        "fr",
    ]
    .map(String::from)
    .to_vec()
}

/// A production configuration pointed at the mock: refused unless it says it is a drill;
/// then `bcss call` says so once on stderr and every journal record says `drill`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_reaches_the_mock_only_in_a_drill_and_says_so() {
    let mock = MockServer::start(MockConfig::from_dir(fixtures()).unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_setup(dir.path(), &mock.base_url());
    let manifest = dir.path().join("authorizations.toml");
    let production = std::fs::read_to_string(&manifest).unwrap().replace(
        "environment = \"test\"",
        "environment = \"production\"\ndeliberation = \"13/084\"",
    );
    std::fs::write(&manifest, production).unwrap();
    let text_of = std::fs::read_to_string(&config).unwrap().replace(
        "environment = \"test\"\nmanifest = \"authorizations.toml\"",
        "environment = \"production\"\n[manifest]\nfile = \"authorizations.toml\"\nrequire_signature = false",
    );
    let without = dir.path().join("production.toml");
    std::fs::write(&without, &text_of).unwrap();
    let drill = dir.path().join("drill.toml");
    std::fs::write(&drill, format!("{text_of}drill = true\n")).unwrap();
    let (refused, drilled) = tokio::task::spawn_blocking(move || {
        let call = |config: &Path| {
            let args = call_args(config.to_str().unwrap());
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            bcss(&args)
        };
        (call(&without), call(&drill))
    })
    .await
    .unwrap();
    mock.shutdown().await;

    assert!(!refused.status.success());
    let why = text(&refused.stderr);
    assert!(why.contains("production") && why.contains("drill"), "{why}");

    assert!(drilled.status.success(), "{}", text(&drilled.stderr));
    let err = text(&drilled.stderr);
    assert_eq!(err.matches("DRILL").count(), 1, "{err}");
    let journal = dir.path().join("journal");
    let query = bcss(&[
        "audit",
        "query",
        journal.to_str().unwrap(),
        "--reader",
        "advisor-1",
        "--format",
        "json",
    ]);
    let lines: Vec<serde_json::Value> = text(&query.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{}", text(&query.stdout));
    assert_eq!(lines[0]["how"]["drill"], true);
    assert_eq!(lines[0]["how"]["environment"], "production");
    assert_eq!(lines[0]["status"], "ok");
}

/// Four `bcss call` at once against one file journal: each waits its turn for the
/// journal's lock, and all four succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_calls_at_once_share_one_journal() {
    let mock = MockServer::start(MockConfig::from_dir(fixtures()).unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_setup(dir.path(), &mock.base_url());
    let args = call_args(config.to_str().unwrap());
    let outputs = tokio::task::spawn_blocking(move || {
        let children: Vec<_> = (0..4)
            .map(|_| {
                Command::new(BIN)
                    .args(&args)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    mock.shutdown().await;
    for out in &outputs {
        assert!(out.status.success(), "stderr: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("68070100188"));
    }
    let journal = dir.path().join("journal");
    let report = bcss::audit::verify(&journal, &Default::default()).unwrap();
    assert!(report.is_ok(), "{:?}", report.problem);
    assert!(report.intents_without_outcome.is_empty());
    let filter = bcss::audit::QueryFilter {
        subject: Some("68070100188".into()),
        ..Default::default()
    };
    assert_eq!(bcss::audit::query(&journal, &filter).unwrap().len(), 4);
}

/// A call that finds the journal held says on stderr that it waits (naming the holder's
/// process id), and goes on once the lock is released.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_waits_for_the_journal_lock_and_says_so() {
    let mock = MockServer::start(MockConfig::from_dir(fixtures()).unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_setup(dir.path(), &mock.base_url());
    let journal_dir = dir.path().join("journal");
    let holder = bcss::audit::FileJournal::open(bcss::audit::FileJournalConfig::new(&journal_dir))
        .await
        .unwrap();
    let mut child = Command::new(BIN)
        .args(call_args(config.to_str().unwrap()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let said = tokio::task::spawn_blocking(move || {
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            if stderr.read_line(&mut line).unwrap() == 0 {
                return (seen, stderr);
            }
            seen.push_str(&line);
            if line.contains("Blocking waiting") {
                return (seen, stderr);
            }
        }
    })
    .await
    .unwrap();
    let (said, _stderr) = said;
    assert!(
        said.contains(&format!(
            "bcss: Blocking waiting for the journal lock held by another process (pid {})",
            std::process::id()
        )),
        "{said}"
    );
    holder.close().await.unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    mock.shutdown().await;
    assert!(out.status.success(), "{said}");
    assert!(text(&out.stdout).contains("68070100188"));
}

/// With `lock_wait_seconds = 0` a held journal refuses at once, naming the holder.
#[test]
fn a_held_journal_refuses_after_the_configured_wait() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_setup(dir.path(), "http://127.0.0.1:9");
    let text_config = std::fs::read_to_string(&config).unwrap().replace(
        "dir = \"journal\"",
        "dir = \"journal\"\nlock_wait_seconds = 0",
    );
    std::fs::write(&config, text_config).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let holder = rt
        .block_on(bcss::audit::FileJournal::open(
            bcss::audit::FileJournalConfig::new(dir.path().join("journal")),
        ))
        .unwrap();
    let out = Command::new(BIN)
        .args(call_args(config.to_str().unwrap()))
        .output()
        .unwrap();
    // A journal that cannot be taken now is a failure to try again later (1), not a usage
    // error (2).
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "is open for writing by another process (pid {})",
            std::process::id()
        )),
        "{err}"
    );
    assert!(err.contains("lock_wait_seconds"), "{err}");
    // In JSON, the wait (a second, now) and the failure are JSON lines, as every line is.
    let one_second = std::fs::read_to_string(&config)
        .unwrap()
        .replace("lock_wait_seconds = 0", "lock_wait_seconds = 1");
    std::fs::write(&config, one_second).unwrap();
    let mut json_args = vec!["--error-format".to_string(), "json".to_string()];
    json_args.extend(call_args(config.to_str().unwrap()));
    let out = Command::new(BIN).args(&json_args).output().unwrap();
    let err = text(&out.stderr);
    let lines: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?} in {err}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["command"] == "bcss call"
            && l["waiting"]
                .as_str()
                .is_some_and(|w| w.starts_with("Blocking waiting for the journal lock"))),
        "{err}"
    );
    let failure = lines
        .iter()
        .find(|v| v.get("exit").is_some())
        .unwrap_or_else(|| panic!("{err}"));
    assert_eq!(
        (failure["exit"].as_str(), failure["exit_code"].as_u64()),
        (Some("error"), Some(1))
    );
    rt.block_on(holder.close()).unwrap();
}
