//! The command line as a script drives it: one exit code per kind of outcome (success, no
//! data, a BCSS refusal, a denial, a failed exchange, a usage error), `--error-format
//! json`, errors in the words of the flags, and a reader that goes away early (`| head`)
//! ending the process quietly, never with a panic.

use std::process::{Command, Output, Stdio};

use bcss::mock::{MockConfig, MockServer};

mod cli_support;

use cli_support::{BIN, bcss, fixtures, text, ti_args, write_setup};

/// `bcss call RetrieveTIGroups retrieveTI` for this person, language and purpose.
fn ti(config: &str, ssin: &str, language: &str, purpose: &str, extra: &[&str]) -> Output {
    let mut args = ti_args(config, ssin, language, purpose);
    args.extend_from_slice(extra);
    bcss(&args)
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited, not killed")
}

/// The one failure object `--error-format json` writes on stderr (the one with an
/// `exit`; warnings are JSON lines too).
fn json_error(out: &Output) -> serde_json::Value {
    let err = text(&out.stderr);
    err.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v.get("exit").is_some())
        .unwrap_or_else(|| panic!("no JSON failure object on stderr: {err}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_outcome_has_its_exit_code_and_json_error() {
    let mock = MockServer::start(
        MockConfig::from_dir(fixtures())
            .unwrap()
            .simulate_delays(false),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_setup(dir.path(), &mock.base_url());
    let config = config.to_str().unwrap().to_string();
    let purpose = "PCSA:SOCIAL_INQUIRY";

    let outs = tokio::task::spawn_blocking(move || {
        let c = config.as_str();
        let identify_nobody = bcss(&[
            "call",
            "IdentifyPerson",
            "identifyPerson",
            "--config",
            c,
            "--user",
            "agent-042",
            "--purpose",
            purpose,
            "--last-name",
            "NIEMAND",
            "--birth-date",
            "1990-00-00",
            "--tolerance",
            "1",
        ]);
        let no_groups = bcss(&[
            "call",
            "PerformInvestigation",
            "performInvestigation",
            "--config",
            c,
            "--user",
            "agent-042",
            "--purpose",
            purpose,
            "--ssin",
            "68070100188",
        ]);
        vec![
            ti(c, "68070100188", "fr", purpose, &[]),
            ti(c, "75411205787", "fr", purpose, &[]),
            identify_nobody,
            ti(c, "68070100188", "de", purpose, &[]),
            ti(c, "05031512367", "fr", purpose, &[]),
            ti(c, "68070100188", "fr", "MARKETING", &[]),
            ti(c, "85031204246", "fr", purpose, &[]),
            ti(c, "68070100188", "fr", purpose, &["--history"]),
            no_groups,
            ti(c, "68070100188", "de", purpose, &["--error-format", "json"]),
            ti(
                c,
                "68070100188",
                "fr",
                "MARKETING",
                &["--error-format", "json"],
            ),
            ti(
                c,
                "68070100188",
                "fr",
                purpose,
                &["--error-format=json", "--history"],
            ),
        ]
    })
    .await
    .unwrap();
    mock.shutdown().await;
    let [
        ok,
        v3_no_data,
        ssdn_no_data,
        refused,
        unavailable,
        denied,
        fault,
        no_fixture,
        no_groups,
        refused_json,
        denied_json,
        no_fixture_json,
    ] = outs.try_into().unwrap();

    assert_eq!(code(&ok), 0, "{}", text(&ok.stderr));
    serde_json::from_slice::<serde_json::Value>(&ok.stdout).unwrap();

    // No data: exit 3, and the same words in both families.
    for out in [&v3_no_data, &ssdn_no_data] {
        assert_eq!(code(out), 3, "{}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(
            err.contains("no data: BCSS has no data for this request"),
            "{err}"
        );
        assert!(!err.contains("refused"), "{err}");
    }
    assert!(text(&ssdn_no_data.stderr).contains("32007004"));

    // A BCSS refusal (CBSS fault MSG00013): exit 4.
    assert_eq!(code(&refused), 4, "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("MSG00013"));
    // MSG00001 is a refusal too, and says "retry later" once.
    assert_eq!(code(&unavailable), 4, "{}", text(&unavailable.stderr));
    let err = text(&unavailable.stderr);
    assert_eq!(err.matches("retry later").count(), 1, "{err}");

    // The guard's denial: exit 5.
    assert_eq!(code(&denied), 5, "{}", text(&denied.stderr));
    // A SOAP fault and the mock's "no fixture matches": exit 6.
    assert_eq!(code(&fault), 6, "{}", text(&fault.stderr));
    assert_eq!(code(&no_fixture), 6, "{}", text(&no_fixture.stderr));
    assert!(text(&no_fixture.stderr).contains("no fixture"));

    // A usage error, in the words of the flags: exit 2.
    assert_eq!(code(&no_groups), 2, "{}", text(&no_groups.stderr));
    let err = text(&no_groups.stderr);
    assert!(
        err.contains("--groups") && !err.contains("all_groups()"),
        "{err}"
    );

    // --error-format json: one object with the exit's name, the code, our ticket and
    // whether anything was sent.
    assert_eq!(code(&refused_json), 4);
    let e = json_error(&refused_json);
    assert_eq!(e["exit"], "refused");
    assert_eq!(e["exit_code"], 4);
    assert_eq!(e["code"], "MSG00013");
    assert_eq!(e["sent"], true);
    assert!(e["message"].as_str().unwrap().contains("MSG00013"));
    uuid::Uuid::parse_str(e["ticket"].as_str().unwrap()).unwrap();

    assert_eq!(code(&denied_json), 5);
    let e = json_error(&denied_json);
    assert_eq!(e["exit"], "denied");
    assert_eq!(e["sent"], false);
    assert!(e["code"].is_string(), "{e}");
    assert!(e["ticket"].is_string(), "{e}");

    let e = json_error(&no_fixture_json);
    assert_eq!(
        (e["exit"].as_str(), e["exit_code"].as_u64()),
        (Some("failed"), Some(6))
    );

    // In JSON every stderr line is a JSON object: the unsigned manifest's warning too,
    // without an "exit" key, so a script tells it from the failure.
    for out in [&refused_json, &denied_json, &no_fixture_json] {
        let err = text(&out.stderr);
        let lines: Vec<serde_json::Value> = err
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?} in {err}")))
            .collect();
        let warnings: Vec<_> = lines
            .iter()
            .filter(|l| l.get("warning").is_some())
            .collect();
        assert_eq!(warnings.len(), 1, "{err}");
        assert!(warnings[0].get("exit").is_none(), "{err}");
        assert!(
            warnings[0]["warning"]
                .as_str()
                .unwrap()
                .contains("loaded unsigned"),
            "{err}"
        );
        assert_eq!(lines.iter().filter(|l| l.get("exit").is_some()).count(), 1);
    }
}

#[test]
fn usage_errors_are_exit_2_in_both_formats() {
    let missing = bcss(&[
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
        "--error-format",
        "json",
    ]);
    assert_eq!(code(&missing), 2);
    let e = json_error(&missing);
    assert_eq!(e["exit"], "usage");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/bcss.toml")
    );

    // An argument clap refuses is a usage error too, in JSON when asked.
    let unknown = bcss(&["call", "--no-such-flag", "--error-format", "json"]);
    assert_eq!(code(&unknown), 2);
    assert_eq!(json_error(&unknown)["exit"], "usage");
    let unknown = bcss(&["call", "--no-such-flag"]);
    assert_eq!(code(&unknown), 2);
    // A missing argument is named, on one JSON line.
    let missing = bcss(&["--error-format", "json", "call", "RetrieveTIGroups"]);
    assert_eq!(code(&missing), 2);
    assert_eq!(text(&missing.stderr).lines().count(), 1);
    let message = json_error(&missing)["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("not provided") && message.contains("<OPERATION>"),
        "{message}"
    );

    // WSDL files that cannot be read or imported are unusable inputs too.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.wsdl");
    std::fs::write(&bad, "this is not a WSDL").unwrap();
    let missing = dir.path().join("nonexistent.wsdl");
    for wsdl in [&bad, &missing] {
        let out = bcss(&[
            "services",
            "import",
            wsdl.to_str().unwrap(),
            "--error-format",
            "json",
        ]);
        assert_eq!(code(&out), 2, "{}", text(&out.stderr));
        assert_eq!(json_error(&out)["exit"], "usage");
    }
}

#[test]
fn help_documents_the_exit_codes() {
    for args in [&["--help"][..], &["call", "--help"][..]] {
        let out = bcss(args);
        assert!(out.status.success());
        let help = text(&out.stdout);
        assert!(help.contains("EXIT CODES"), "{help}");
        for line in [
            "0  ok",
            "2  usage",
            "3  no_data",
            "4  refused",
            "5  denied",
            "6  failed",
        ] {
            assert!(help.contains(line), "{line} missing: {help}");
        }
    }
}

/// Run `bcss` with its standard output closed before it writes anything (the reader of
/// `| true` went away): it must end quietly, with its own exit code, never a panic.
fn with_stdout_closed(args: &[&str]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

fn assert_quiet(out: &Output) {
    let err = text(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(out.status.code(), Some(101), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_pipe_ends_the_process_quietly() {
    let mock = MockServer::start(MockConfig::from_dir(fixtures()).unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_setup(dir.path(), &mock.base_url());
    let journal = dir.path().join("journal");
    let (call, query, list, mock_list) = tokio::task::spawn_blocking(move || {
        let config = config.to_str().unwrap();
        let call = with_stdout_closed(&ti_args(config, "68070100188", "fr", "PCSA:SOCIAL_INQUIRY"));
        let query = with_stdout_closed(&[
            "audit",
            "query",
            journal.to_str().unwrap(),
            "--reader",
            "advisor-1",
        ]);
        let list = with_stdout_closed(&["services", "list"]);
        let fixtures = fixtures();
        let mock_list =
            with_stdout_closed(&["mock", "--list", "--fixtures", fixtures.to_str().unwrap()]);
        (call, query, list, mock_list)
    })
    .await
    .unwrap();
    mock.shutdown().await;
    for out in [&call, &query, &list, &mock_list] {
        assert_quiet(out);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
}

/// `bcss mock | head -1`: the reader takes the address and goes away; the mock keeps
/// serving (it stops on Ctrl-C or SIGTERM, not when its banner has no reader), without a
/// panic.
#[test]
fn the_mock_keeps_serving_when_its_reader_goes_away() {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut child = Command::new(BIN)
        .args(["mock", "--listen", "127.0.0.1:0", "--fixtures"])
        .arg(fixtures())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is gone now; the rest of the banner meets a closed pipe.
    let addr = first
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    assert!(answer.starts_with("HTTP/1.1 "), "{answer}");
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn flags_that_do_not_apply_are_refused() {
    // Refused before anything is sent: no server listens there.
    let dir = tempfile::tempdir().unwrap();
    let config = write_setup(dir.path(), "http://127.0.0.1:9");
    let c = config.to_str().unwrap();
    let purpose = "PCSA:SOCIAL_INQUIRY";

    // retrieveTI reads no --groups (PerformInvestigation's).
    let out = ti(c, "68070100188", "fr", purpose, &["--groups", "all"]);
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("--groups does not apply to RetrieveTIGroups retrieveTI"),
        "{err}"
    );

    // --body is the whole business part: a typed flag beside it is a conflict.
    let body = dir.path().join("criteria.xml");
    std::fs::write(&body, "<criteria/>").unwrap();
    let out = ti(
        c,
        "68070100188",
        "fr",
        purpose,
        &["--body", body.to_str().unwrap()],
    );
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("--body conflicts with --ssin, --language"),
        "{err}"
    );

    // A body that is not well-formed is located in its file, in its own words.
    std::fs::write(&body, "<criteria>\n  <ssin>68070100188</ssin>\n").unwrap();
    let out = bcss(&[
        "call",
        "RetrieveTIGroups",
        "retrieveTI",
        "--config",
        c,
        "--user",
        "agent-042",
        "--purpose",
        purpose,
        "--body",
        body.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    let err = text(&out.stderr);
    let at = format!("{}:3:1: ", body.display());
    assert!(err.contains(&at), "{err}");
    assert!(err.contains("`</criteria>`"), "{err}");
    assert!(
        !err.contains("bcss-business-part") && !err.contains("byte"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_call_says_how_many_attempts_it_made() {
    let mock = MockServer::start(
        MockConfig::from_dir(fixtures())
            .unwrap()
            .simulate_delays(false),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_setup(dir.path(), &mock.base_url());
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml.push_str("\n[retry]\nmax_attempts = 3\nbase_delay_ms = 1\njitter = 0.0\n");
    std::fs::write(&config, toml).unwrap();
    let config = config.to_str().unwrap().to_string();
    // BCSS temporarily unavailable (MSG00001) every time: three attempts, then the last
    // attempt's refusal, naming the first attempt's ticket.
    let (text_out, json_out) = tokio::task::spawn_blocking(move || {
        let c = config.as_str();
        (
            ti(c, "05031512367", "fr", "PCSA:SOCIAL_INQUIRY", &[]),
            ti(
                c,
                "05031512367",
                "fr",
                "PCSA:SOCIAL_INQUIRY",
                &["--error-format", "json"],
            ),
        )
    })
    .await
    .unwrap();
    mock.shutdown().await;
    assert_eq!(code(&text_out), 4, "{}", text(&text_out.stderr));
    let err = text(&text_out.stderr);
    assert!(
        err.contains("(the last of 3 attempts; the first had ticket "),
        "{err}"
    );
    let e = json_error(&json_out);
    assert_eq!(e["attempts"], 3, "{e}");
    let first = uuid::Uuid::parse_str(e["first_ticket"].as_str().unwrap()).unwrap();
    let last = uuid::Uuid::parse_str(e["ticket"].as_str().unwrap()).unwrap();
    assert!(
        first < last,
        "tickets are UUID v7, the first attempt's first: {e}"
    );
}

/// A journal that cannot close cleanly (its witness gone when the shutdown checkpoint is
/// due) is a warning: the call's own result still decides the exit and is printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_that_does_not_close_cleanly_never_hides_the_calls_result() {
    let dir = tempfile::tempdir().unwrap();
    // Marc FICTIF in Dutch, answered after 3 s: time to take the witness away mid-call.
    let fixtures = dir.path().join("fixtures/RetrieveTIGroups");
    std::fs::create_dir_all(&fixtures).unwrap();
    let slow =
        std::fs::read_to_string(cli_support::fixtures().join("RetrieveTIGroups/marc-nl-slow.toml"))
            .unwrap()
            .replace("delay_ms = 300", "delay_ms = 3000");
    std::fs::write(fixtures.join("marc-nl-slow.toml"), slow).unwrap();
    let mock = MockServer::start(MockConfig::from_dir(dir.path().join("fixtures")).unwrap())
        .await
        .unwrap();
    let config = write_setup(dir.path(), &mock.base_url());
    let toml = std::fs::read_to_string(&config).unwrap().replace(
        "dir = \"journal\"",
        "dir = \"journal\"\nwitness = \"witness/heads\"",
    );
    std::fs::write(&config, toml).unwrap();
    std::fs::create_dir(dir.path().join("witness")).unwrap();
    let args: Vec<String> = ti_args(
        config.to_str().unwrap(),
        "68070100188",
        "nl",
        "PCSA:SOCIAL_INQUIRY",
    )
    .into_iter()
    .map(str::to_string)
    .collect();
    let child = Command::new(BIN)
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once the intent is durable (the request is on its way), the witness becomes a folder.
    let journal = dir.path().join("journal");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let intents = bcss::audit::query(&journal, &bcss::audit::QueryFilter::default())
            .map(|r| r.len())
            .unwrap_or(0);
        if intents == 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no intent journaled");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let witness = dir.path().join("witness/heads");
    std::fs::remove_file(&witness).unwrap();
    std::fs::create_dir(&witness).unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    mock.shutdown().await;
    let err = text(&out.stderr);
    assert_eq!(code(&out), 0, "{err}");
    assert!(
        err.contains("warning: the journal did not close cleanly")
            && err.contains("the exchange itself was recorded"),
        "{err}"
    );
    let reply: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(reply.to_string().contains("68070100188"), "{reply}");
}
