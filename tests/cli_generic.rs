//! `bcss call` for a service bcss has no typed module for: the README's "From WSDL to a
//! journaled call, on the command line" run block by block (files written, `sh` blocks
//! run with `bcss` on the PATH, the mock started where the README starts it), then a
//! recording of the same call through `[transport] kind = "record"` against a loopback
//! stand-in named by `base_url`, redacted, and replayed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

mod cli_support;

use cli_support::{BIN, text};

const HEADING: &str = "#### From WSDL to a journaled call, on the command line";
const MARC: &str = "68070100188";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One fenced block of the README section: its info string and its text.
struct Block {
    info: String,
    text: String,
}

/// The fenced blocks of the README section, in order.
fn section_blocks() -> Vec<Block> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme.find(HEADING).expect("the README has the section");
    let rest = &readme[start + HEADING.len()..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    for line in rest[..end].lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(info)) => {
                current = Some(Block {
                    info: info.trim().to_string(),
                    text: String::new(),
                })
            }
            (Some(_), Some(_)) => blocks.extend(current.take()),
            (Some(block), None) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            (None, None) => {}
        }
    }
    blocks
}

/// The file a block writes, named by its first line (`# bcss.toml`, `<!-- criteria.xml -->`).
fn file_name(block: &Block) -> Option<String> {
    let first = block.text.lines().next()?.trim();
    let name = first
        .strip_prefix("# ")
        .or_else(|| first.strip_prefix("<!-- ")?.strip_suffix(" -->"))?;
    name.contains('.')
        .then(|| name.to_string())
        .filter(|n| !n.contains(' '))
}

/// Run a shell block in `dir` with the test's `bcss` first on the PATH.
fn sh(dir: &Path, script: &str) -> Output {
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("sh")
        .args(["-e", "-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .output()
        .unwrap()
}

/// Start the mock as the README does, but on a free port; return it and its base URL.
fn start_mock(dir: &Path, line: &str) -> (Child, String) {
    let args: Vec<&str> = line
        .trim()
        .trim_end_matches('&')
        .split_whitespace()
        .skip(1)
        .map(|a| {
            if a == "127.0.0.1:8080" {
                "127.0.0.1:0"
            } else {
                a
            }
        })
        .collect();
    let mut child = Command::new(BIN)
        .args(&args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    (child, url)
}

/// Stops the mock when the test ends, passed or not.
struct Stop(Child);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_readme_generic_call_runs_against_the_mock_and_is_journaled() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(repo().join("tests"), dir.path().join("tests")).unwrap();
    let mut outputs = Vec::new();
    let mut mock = None;
    for block in section_blocks() {
        if let Some(name) = file_name(&block) {
            std::fs::write(dir.path().join(name), &block.text).unwrap();
        } else if block.info == "sh" && block.text.trim_start().starts_with("bcss mock") {
            let (child, url) = start_mock(dir.path(), &block.text);
            mock = Some(Stop(child));
            let config = dir.path().join("bcss.toml");
            let text = std::fs::read_to_string(&config).unwrap();
            assert!(text.contains("http://127.0.0.1:8080"));
            std::fs::write(&config, text.replace("http://127.0.0.1:8080", &url)).unwrap();
        } else if block.info == "sh" {
            let out = sh(dir.path(), &block.text);
            assert!(
                out.status.success(),
                "{}\nstdout: {}\nstderr: {}",
                block.text,
                text(&out.stdout),
                text(&out.stderr)
            );
            outputs.push(text(&out.stdout));
        }
    }
    assert!(mock.is_some(), "the section starts the mock");
    let [_, calls] = outputs
        .try_into()
        .expect("two shell blocks besides the mock");
    drop(mock);

    // The reply, as JSON, then the journal line of the call.
    let (reply, query) = calls.split_at(calls.rfind("\n{").unwrap() + 1);
    let reply: serde_json::Value = serde_json::from_str(reply).unwrap();
    assert_eq!(reply["authorization_id"], "allowances-test");
    assert!(
        reply["data"]["payload"].to_string().contains("HEATING"),
        "{reply}"
    );
    let record: serde_json::Value = serde_json::from_str(query.trim()).unwrap();
    assert_eq!(record["ticket"], reply["ticket"]);
    assert_eq!(record["what"]["service"], "FictitiousAllowances");
    // consultAllowances reads: the intent's write flag is shown, false.
    assert_eq!(record["write"], false, "{record}");
    assert!(record.to_string().contains(MARC), "{record}");
    assert_eq!(record["status"], "ok");
}

/// The README section's files, with `bcss.toml`'s `[transport]` replaced by `transport`
/// and the fictitious services' catalogue named.
fn write_files(dir: &Path, transport: &str) {
    for block in section_blocks() {
        let Some(name) = file_name(&block) else {
            continue;
        };
        let text = if name == "bcss.toml" {
            let head = &block.text[..block.text.find("[transport]").unwrap()];
            format!("catalogue = \"tests/contracts/services.toml\"\n{head}{transport}")
        } else {
            block.text.clone()
        };
        std::fs::write(dir.join(name), text).unwrap();
    }
}

fn call_allowances(dir: &Path) -> Output {
    Command::new(BIN)
        .args([
            "call",
            "FictitiousAllowances",
            "consultAllowances",
            "--config",
            "bcss.toml",
            "--user",
            "agent-042",
            "--purpose",
            "social inquiry",
            "--body",
            "criteria.xml",
        ])
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_mode_from_the_configuration_records_redacted_then_replays() {
    // The stand-in: the mock on loopback, serving the fictitious service.
    let contracts = repo().join("tests/contracts");
    let services_file = contracts.join("services.toml");
    let services = bcss::services::parse_services(
        &std::fs::read_to_string(&services_file).unwrap(),
        &services_file.display().to_string(),
    )
    .unwrap();
    let catalogue = bcss::services::Catalogue::with_configured(services).unwrap();
    let stand_in = bcss::mock::MockServer::start(
        bcss::mock::MockConfig::from_dir_in(contracts.join("fixtures"), catalogue).unwrap(),
    )
    .await
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(repo().join("tests"), dir.path().join("tests")).unwrap();
    let record = format!(
        "[transport]\nkind = \"record\"\nbase_url = \"{}\"\nfixtures = \"recorded\"\nsalt_file = \"salt.hex\"\npassword_env = \"BCSS_TEST_UNSET_PASSWORD\"\n",
        stand_in.base_url()
    );
    write_files(dir.path(), &record);
    let path = dir.path().to_path_buf();
    let recorded = tokio::task::spawn_blocking(move || call_allowances(&path))
        .await
        .unwrap();
    let served = stand_in.stats().served;
    stand_in.shutdown().await;
    assert!(recorded.status.success(), "{}", text(&recorded.stderr));
    assert_eq!(served, 1, "the call went to the stand-in base_url names");
    let reply: serde_json::Value = serde_json::from_slice(&recorded.stdout).unwrap();
    assert!(reply["data"]["payload"].to_string().contains(MARC));

    // One fixture, of the configured service, with no trace of the real SSIN.
    let written: Vec<_> = files_under(&dir.path().join("recorded"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .filter(|p| p.parent().unwrap().ends_with("FictitiousAllowances"))
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    for file in files_under(&dir.path().join("recorded")) {
        let content = std::fs::read(&file).unwrap();
        assert!(
            !text(&content).contains(MARC),
            "{} holds the real SSIN",
            file.display()
        );
    }
    let fixture = std::fs::read_to_string(&written[0]).unwrap();
    assert!(fixture.contains("service = \"FictitiousAllowances\""));
    assert!(fixture.contains("HEATING"));

    // Replay: the stand-in is gone; the same call is answered from the recording (the
    // salt maps the real SSIN to its fictitious one), and journaled again.
    let replay =
        "[transport]\nkind = \"replay\"\nfixtures = \"recorded\"\nsalt_file = \"salt.hex\"\n";
    write_files(dir.path(), replay);
    let replayed = call_allowances(dir.path());
    assert!(replayed.status.success(), "{}", text(&replayed.stderr));
    let again: serde_json::Value = serde_json::from_slice(&replayed.stdout).unwrap();
    assert!(again["data"]["payload"].to_string().contains("HEATING"));
    assert_ne!(again["ticket"], reply["ticket"]);
}

/// An SSDN service bcss has no typed module for, described by hand in `[[service]]`:
/// `bcss call --body` with its payload element, answered by the mock through the
/// connector's path, journaled with its subject.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ssdn_service_of_the_configuration_through_bcss_call_and_the_mock() {
    let contracts = repo().join("tests/contracts");
    let services_file = contracts.join("services.toml");
    let services = bcss::services::parse_services(
        &std::fs::read_to_string(&services_file).unwrap(),
        &services_file.display().to_string(),
    )
    .unwrap();
    let catalogue = bcss::services::Catalogue::with_configured(services).unwrap();
    let mock = bcss::mock::MockServer::start(
        bcss::mock::MockConfig::from_dir_in(contracts.join("ssdn_fixtures"), catalogue).unwrap(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(repo().join("tests"), dir.path().join("tests")).unwrap();
    write_files(
        dir.path(),
        &format!("[transport]\nbase_url = \"{}\"\n", mock.base_url()),
    );
    std::fs::write(
        dir.path().join("authorizations.toml"),
        "[organization]\ncbe = \"0212344876\"\nname = \"CPAS de Fictiveville\"\nsector = 17\n\n\
         [[authorization]]\nid = \"attestations-test\"\nenvironment = \"test\"\n\
         service = \"FictitiousAttestations\"\npurpose = \"PCSA:SOCIAL_INQUIRY\"\n\
         program = \"00912345673\"\nvalid_from = 2025-01-01\nvalid_until = 2099-12-31\n\
         granted_by = \"security-advisor\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("attest.xml"),
        "<FictitiousAttestationsRequest xmlns=\"http://www.ksz-bcss.fgov.be/XSD/SSDN/OCMW_CPAS/FictitiousAttestations\">\
         <SSIN>68070100188</SSIN><Kind>INCOME</Kind></FictitiousAttestationsRequest>",
    )
    .unwrap();
    let path = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        let call = Command::new(BIN)
            .args([
                "call",
                "FictitiousAttestations",
                "listAttestations",
                "--config",
                "bcss.toml",
                "--user",
                "agent-042",
                "--purpose",
                "PCSA:SOCIAL_INQUIRY",
                "--body",
                "attest.xml",
            ])
            .current_dir(&path)
            .output()
            .unwrap();
        let query = Command::new(BIN)
            .args([
                "audit",
                "query",
                "journal",
                "--reader",
                "advisor-1",
                "--subject",
                MARC,
                "--format",
                "json",
            ])
            .current_dir(&path)
            .output()
            .unwrap();
        (call, query)
    })
    .await
    .unwrap();
    mock.shutdown().await;
    let (call, query) = out;
    assert!(call.status.success(), "{}", text(&call.stderr));
    let reply: serde_json::Value = serde_json::from_slice(&call.stdout).unwrap();
    assert_eq!(reply["bcss"]["ticket"], "SSDNTICKET12345", "{reply}");
    assert_eq!(
        reply["data"]["payload"]["name"],
        "FictitiousAttestationsReply"
    );
    let record: serde_json::Value = serde_json::from_slice(&query.stdout).unwrap();
    assert_eq!(record["what"]["service"], "FictitiousAttestations");
    assert_eq!(record["ticket"], reply["ticket"]);
    assert_eq!(record["status"], "ok");
}
