//! `bcss mock` as a tester drives it: `--list` prints the cast (masked SSIN, name,
//! service, operation, scenario), `--environment` says which fixtures answer first, and
//! broken fixtures are all reported in one run.

mod pipeline_support;
mod replay_support;

mod cli_support;
use cli_support::bcss;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use bcss::Environment;
use bcss::fixture::format;
use replay_support::{MARC, exchanges_dir, scenario, scenarios};

const BIN: &str = env!("CARGO_BIN_EXE_bcss");

#[test]
fn list_prints_the_cast_of_the_shipped_fixtures() {
    let dir = exchanges_dir();
    let out = bcss(&["mock", "--list", "--fixtures", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with(&format!("{} fixtures in ", scenarios().len())),
        "{text}"
    );
    assert!(lines[0].contains("about 6 people"), "{text}");
    assert!(
        lines[1].starts_with("PERSON") && lines[1].ends_with("SCENARIO"),
        "{text}"
    );
    assert_eq!(lines.len(), 2 + scenarios().len(), "{text}");
    // One line per fixture: who, which service and operation, which scenario.
    let marc = lines
        .iter()
        .find(|l| l.contains("marc-by-ssin-ok"))
        .unwrap();
    for part in [
        "680701***** Marc Émile FICTIF",
        "IdentifyPerson",
        "identifyPerson",
        "test",
        "marc-by-ssin-ok [ok]: Marc FICTIF identified by SSIN",
    ] {
        assert!(marc.contains(part), "{part} missing: {marc}");
    }
    let bis = lines
        .iter()
        .find(|l| l.contains("ivan-fr-no-data"))
        .unwrap();
    assert!(bis.starts_with("754112***** Ivan BISNUMMER"), "{bis}");
    let young = lines
        .iter()
        .find(|l| l.contains("lina-nl-warning"))
        .unwrap();
    assert!(young.starts_with("050315***** Lina TESTMANS"), "{young}");
    let echo = lines
        .iter()
        .find(|l| l.contains("echo-unavailable"))
        .unwrap();
    assert!(echo.starts_with("- "), "{echo}");
    assert!(echo.contains("[business_error, MSG00001]"), "{echo}");
    // No full SSIN, and the cast agrees with itself.
    assert!(!text.contains(MARC), "{text}");
    assert!(!text.contains("warning:"), "{text}");
}

#[test]
fn environment_says_which_fixtures_answer_first() {
    let work = tempfile::tempdir().unwrap();
    let s = scenario("TestConnection/echo-ok");
    let service_dir = work.path().join("TestConnection");
    std::fs::create_dir_all(&service_dir).unwrap();
    let mut acceptance = s.fixture();
    acceptance.environment = Environment::Acceptance;
    std::fs::write(service_dir.join("a.toml"), format::to_toml(&s.fixture())).unwrap();
    std::fs::write(service_dir.join("b.toml"), format::to_toml(&acceptance)).unwrap();
    let dir = work.path().to_str().unwrap();

    let out = bcss(&[
        "mock",
        "--list",
        "--fixtures",
        dir,
        "--environment",
        "acceptance",
    ]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "serving the acceptance fixtures first (recorded 1 in test, 1 in acceptance)"
        ),
        "{text}"
    );
    let out = bcss(&["mock", "--list", "--fixtures", dir]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("serving fixtures of every environment"),
        "{text}"
    );
    assert!(text.contains("--environment ENV prefers one"), "{text}");

    // The running mock says it too, right after its address.
    let mut child = Command::new(BIN)
        .args(["mock", "--fixtures", dir, "--environment", "acceptance"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let head: Vec<String> = BufReader::new(stdout)
        .lines()
        .take(3)
        .map(Result::unwrap)
        .collect();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        head[0].starts_with("bcss mock: listening on http://127.0.0.1:"),
        "{head:?}"
    );
    assert!(
        head[2].starts_with("serving the acceptance fixtures first"),
        "{head:?}"
    );

    let out = bcss(&[
        "mock",
        "--list",
        "--fixtures",
        dir,
        "--environment",
        "staging",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

#[test]
fn every_broken_fixture_is_reported_before_the_mock_refuses_to_start() {
    let work = tempfile::tempdir().unwrap();
    for (name, broken) in [
        (
            "TestConnection/echo-ok",
            ("status = 200", "status = \"OK\""),
        ),
        (
            "IdentifyPerson/marc-by-ssin-ok",
            ("operation = \"identifyPerson\"", "operation = \"identify\""),
        ),
    ] {
        let s = scenario(name);
        let path = s.path(work.path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let text = format::to_toml(&s.fixture()).replace(broken.0, broken.1);
        std::fs::write(&path, text).unwrap();
    }
    let out = bcss(&[
        "mock",
        "--list",
        "--fixtures",
        work.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("bcss mock: 2 problems in the fixtures:"),
        "{stderr}"
    );
    assert!(stderr.contains("echo-ok.toml:"), "{stderr}");
    assert!(
        stderr.contains("marc-by-ssin-ok.toml:") && stderr.contains("no operation \"identify\""),
        "{stderr}"
    );
}

#[test]
fn a_configured_service_without_the_configuration_is_explained() {
    // The fictitious services' fixtures need their [[service]] entries: without
    // --config, the message says where those come from.
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/contracts/fixtures");
    let out = bcss(&["mock", "--list", "--fixtures", fixtures]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("unknown service \"FictitiousAllowances\"")
            && stderr.contains("[[service]]")
            && stderr.contains("--config bcss.toml"),
        "{stderr}"
    );

    // A non-loopback address is refused, naming the flag that allows it.
    let out = bcss(&[
        "mock",
        "--fixtures",
        exchanges_dir().to_str().unwrap(),
        "--listen",
        "0.0.0.0:0",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("--allow-non-loopback"), "{stderr}");
}
