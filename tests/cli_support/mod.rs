//! Shared by the command-line tests: a manifest and a `bcss.toml` pointed at a mock, and
//! running the `bcss` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_bcss");

/// The shipped fixtures the mock serves.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/exchanges")
}

/// One test-environment authorisation of the fictitious CPAS.
fn entry(id: &str, service: &str) -> String {
    format!(
        r#"
[[authorization]]
id = "{id}"
environment = "test"
service = "{service}"
purpose = "PCSA:SOCIAL_INQUIRY"
program = "00912345673"
valid_from = 2025-01-01
valid_until = 2099-12-31
granted_by = "security-advisor"
"#
    )
}

/// Write `authorizations.toml` (RetrieveTIGroups, TestConnection, IdentifyPerson and
/// PerformInvestigation in test, for PCSA:SOCIAL_INQUIRY) and `bcss.toml` (test, journal
/// in `journal/`, `[transport] base_url`) in `dir`; return the configuration's path.
pub fn write_setup(dir: &Path, base_url: &str) -> PathBuf {
    let manifest = [
        "[organization]\ncbe = \"0212344876\"\nname = \"CPAS de Fictiveville\"\nsector = 17\n"
            .to_string(),
        entry("ti-groups-test", "RetrieveTIGroups"),
        entry("echo-test", "TestConnection"),
        entry("identify-test", "IdentifyPerson"),
        entry("investigate-test", "PerformInvestigation"),
    ]
    .concat();
    std::fs::write(dir.join("authorizations.toml"), manifest).unwrap();
    let config = dir.join("bcss.toml");
    std::fs::write(
        &config,
        format!(
            r#"
environment = "test"
manifest = "authorizations.toml"

[journal]
dir = "journal"

[application]
name = "cli-test"
version = "1.0.0"

[organization]
cbe = "0212344876"
contact_email = "it@cpas-fictiveville.example"

[transport]
base_url = "{base_url}"
"#
        ),
    )
    .unwrap();
    config
}

/// Run `bcss` with these arguments.
pub fn bcss(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

/// A finished command's standard output, as UTF-8 text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// A finished command's standard error, as UTF-8 text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// A path as an argument.
pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Bytes as text, for messages.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The arguments of `bcss call RetrieveTIGroups retrieveTI` for this person, language and
/// purpose, as agent-042.
pub fn ti_args<'a>(
    config: &'a str,
    ssin: &'a str,
    language: &'a str,
    purpose: &'a str,
) -> Vec<&'a str> {
    vec![
        "call",
        "RetrieveTIGroups",
        "retrieveTI",
        "--config",
        config,
        "--user",
        "agent-042",
        "--purpose",
        purpose,
        "--ssin",
        ssin,
        "--language",
        language,
    ]
}
