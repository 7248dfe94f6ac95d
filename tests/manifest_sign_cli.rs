//! The advisor's loop through the built binary: `bcss manifest keygen`, `sign`, `check`
//! and `list` with the signature status, and `diff` of two manifests.

mod cli_support;
use cli_support::{bcss, stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::Command;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const MANIFEST: &str = r#"[organization]
cbe = "0212344876"
name = "CPAS de Testville"
sector = 17

[[authorization]]
id = "tx25-test"
environment = "test"
service = "RetrieveTIGroups"
purpose = "PCSA:SOCIAL_INQUIRY"
program = "00912345673"
valid_from = 2025-01-01
valid_until = 2026-12-31
granted_by = "security-advisor"
"#;

#[test]
fn keygen_makes_a_private_key_0600_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let name = dir.path().join("advisor");
    let o = bcss(&["manifest", "keygen", s(&name)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let private = dir.path().join("advisor.key");
    let public = dir.path().join("advisor.pub");
    assert!(
        out.contains(&format!("private key: {}", private.display())),
        "{out}"
    );
    assert!(
        out.contains(&format!("public key:  {}", public.display())),
        "{out}"
    );
    assert!(out.contains("fingerprint: SHA256:"), "{out}");
    assert!(out.contains("[manifest] signers = ["), "{out}");
    let key = std::fs::read_to_string(&private).unwrap();
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"), "{key}");
    assert!(
        std::fs::read_to_string(&public)
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&private).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }

    let again = bcss(&["manifest", "keygen", s(&name)]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    assert!(
        stderr(&again).contains("never overwritten"),
        "{}",
        stderr(&again)
    );
    assert_eq!(std::fs::read_to_string(&private).unwrap(), key);

    // A folder that does not exist yet is created (0700), and the output says how to use
    // the key for either purpose.
    let o = bcss(&["manifest", "keygen", s(&dir.path().join("keys/journal"))]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(dir.path().join("keys/journal.key").is_file());
    let out = stdout(&o);
    assert!(out.contains("to sign manifests"), "{out}");
    assert!(out.contains("[journal] signing_key = "), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("keys"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700, "{mode:o}");
    }
    // A folder that cannot be created (a file is in the way) is a usage error.
    std::fs::write(dir.path().join("file"), b"").unwrap();
    let o = bcss(&["manifest", "keygen", s(&dir.path().join("file/advisor"))]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn sign_then_check_and_list_show_who_signed_and_a_tampered_copy_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("authorizations.toml");
    std::fs::write(&manifest, MANIFEST).unwrap();
    let key = dir.path().join("advisor");
    assert!(bcss(&["manifest", "keygen", s(&key)]).status.success());
    let private = dir.path().join("advisor.key");
    let public = dir.path().join("advisor.pub");

    let o = bcss(&[
        "manifest",
        "sign",
        s(&manifest),
        "--key",
        s(&private),
        "--signer",
        "Ada Advisor",
        "--role",
        "security-advisor",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("as Ada Advisor (security-advisor) on "),
        "{out}"
    );
    assert!(
        out.contains(&format!("wrote {}.sig", manifest.display())),
        "{out}"
    );

    // Checked against the advisor's key.
    let o = bcss(&[
        "manifest",
        "check",
        s(&manifest),
        "--signer-key",
        s(&public),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    let line = out.lines().nth(1).unwrap();
    assert!(
        line.starts_with("signature: signed by Ada Advisor (security-advisor) on 20"),
        "{out}"
    );
    assert!(line.ends_with("(a configured signer)"), "{out}");
    // Without a key given: intact, but said to be unchecked against a signer.
    let o = bcss(&["manifest", "check", s(&manifest)]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("not checked against a configured signer"));
    // list shows the same status on its second line.
    let o = bcss(&["manifest", "list", s(&manifest), "--signer-key", s(&public)]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o)
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("signature: signed by Ada Advisor")
    );

    // The trust may come from bcss.toml; in production a signature is required.
    let config = dir.path().join("bcss.toml");
    std::fs::write(
        &config,
        "environment = \"production\"\n[manifest]\nfile = \"authorizations.toml\"\n\
         signers = [\"advisor.pub\"]\n[journal]\ndir = \"journal\"\n[application]\n\
         name = \"a\"\nversion = \"1\"\n[organization]\ncbe = \"0212344876\"\n\
         contact_email = \"it@example.org\"\n",
    )
    .unwrap();
    let o = bcss(&["manifest", "check", s(&manifest), "--config", s(&config)]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("(a configured signer)"),
        "{}",
        stdout(&o)
    );
    let unsigned_dir = tempfile::tempdir().unwrap();
    let unsigned = unsigned_dir.path().join("authorizations.toml");
    std::fs::copy(&manifest, &unsigned).unwrap();
    let o = bcss(&["manifest", "check", s(&unsigned), "--config", s(&config)]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("signature: REFUSED: "),
        "{}",
        stdout(&o)
    );

    // A tampered copy, signature and all.
    let copy_dir = tempfile::tempdir().unwrap();
    let copy = copy_dir.path().join("authorizations.toml");
    std::fs::write(&copy, MANIFEST.replace("2026-12-31", "2036-12-31")).unwrap();
    std::fs::copy(
        format!("{}.sig", manifest.display()),
        format!("{}.sig", copy.display()),
    )
    .unwrap();
    let o = bcss(&["manifest", "check", s(&copy), "--signer-key", s(&public)]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("valid: 1 authorisation(s)"), "{out}");
    assert!(
        out.contains("signature: BROKEN: ") && out.contains("changed after it was signed"),
        "{out}"
    );
    // The same bytes are also what another version's signature copied beside it shows:
    // the advisor is told both, with the two digests and who signed, when.
    assert!(
        out.contains("is the signature of another version of it"),
        "{out}"
    );
    assert!(
        out.contains(" on ") && out.contains("with key SHA256:"),
        "{out}"
    );
    let o = bcss(&["manifest", "list", s(&copy)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("signature: BROKEN: "));

    // Unsigned, with a signature required: refused.
    std::fs::remove_file(format!("{}.sig", copy.display())).unwrap();
    let o = bcss(&[
        "manifest",
        "check",
        s(&copy),
        "--signer-key",
        s(&public),
        "--require-signature",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("signature: REFUSED: "),
        "{}",
        stdout(&o)
    );
    // --require-signature without a key cannot check anything.
    let o = bcss(&["manifest", "check", s(&copy), "--require-signature"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("no signer key is configured"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn sign_refuses_an_invalid_manifest_and_bad_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("authorizations.toml");
    std::fs::write(&manifest, MANIFEST.replace("0212344876", "0212344877")).unwrap();
    assert!(
        bcss(&["manifest", "keygen", s(&dir.path().join("a"))])
            .status
            .success()
    );
    let key = dir.path().join("a.key");
    let sign = |role: &str, signer: &str, key: &Path| {
        bcss(&[
            "manifest",
            "sign",
            s(&manifest),
            "--key",
            s(key),
            "--signer",
            signer,
            "--role",
            role,
        ])
    };
    let o = sign("security-advisor", "Ada", &key);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("'cbe'"), "{}", stderr(&o));
    assert!(stderr(&o).contains("is invalid, so it was not signed"));
    assert!(!PathBuf::from(format!("{}.sig", manifest.display())).exists());

    std::fs::write(&manifest, MANIFEST).unwrap();
    let o = sign("ceo", "Ada", &key);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("leading-official, deputy or security-advisor"));
    let o = sign("deputy", " ", &key);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("blank"), "{}", stderr(&o));
    let o = sign("deputy", "Ada", &dir.path().join("a.pub"));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("PKCS#8"), "{}", stderr(&o));
    assert!(!PathBuf::from(format!("{}.sig", manifest.display())).exists());
}

const OLD: &str = r#"[organization]
cbe = "0212344876"
name = "CPAS de Testville"
sector = 17

[[authorization]]
id = "tx25-test"
environment = "test"
service = "RetrieveTIGroups"
purpose = "PCSA:SOCIAL_INQUIRY"
program = "00912345673"
valid_from = 2025-01-01
valid_until = 2026-12-31
granted_by = "security-advisor"

[[authorization]]
id = "identify-test"
environment = "test"
service = "IdentifyPerson"
purpose = "PCSA:SOCIAL_INQUIRY"
program = "00912345673"
valid_from = 2025-01-01
valid_until = 2026-12-31
granted_by = "security-advisor"

[[authorization]]
id = "access-test"
environment = "test"
service = "ManageAccess"
operations = ["register", "list"]
purpose = "PCSA:SOCIAL_INQUIRY"
program = "00912345673"
access_purposes = [1]
valid_from = 2025-01-01
valid_until = 2026-12-31
granted_by = "deputy"

[[authorization]]
id = "hci-test"
environment = "test"
service = "HealthCareInsurance"
purpose = "social inquiry and financial help"
program = "00912345673"
valid_from = 2025-01-01
valid_until = 2026-12-31
granted_by = "deputy"
"#;

const NEW: &str = r#"# Comments and layout are not changes.
[organization]
cbe = "0212344876"
name = "CPAS de Testville-sur-Mer"
sector = 17
sub_sector = 2

[[authorization]]
id = "access-test"
environment = "test"
service = "ManageAccess"
operations = ["register"]
purpose = "PCSA:SOCIAL_INQUIRY"
program = "00912345673"
access_purposes = [1, 7]
valid_from = 2025-01-01
valid_until = 2026-12-31
granted_by = "deputy"

[[authorization]]
id = "tx25-test"
environment = "acceptance"
service = "IdentifyPerson"
operations = ["identifyPerson"]
purpose = "PCSA:DEBT_MEDIATION"
program = "00912345772"
deliberation = "13/084"
valid_from = 2025-06-01
valid_until = 2027-12-31
granted_by = "leading-official"
note = "renewed"

[[authorization]]
id = "hci-test"
environment = "test"
service = "HealthCareInsurance"
purpose = "social inquiry and financial help"
program = "00912345673"
valid_from = 2025-01-01
valid_until = 2026-12-31
granted_by = "deputy"

[[authorization]]
id = "ti-groups-prod"
environment = "production"
service = "RetrieveTIGroups"
purpose = "PCSA:SOCIAL_INQUIRY"
program = "00912345772"
deliberation = "21/037"
valid_from = 2025-06-01
valid_until = 2026-05-31
granted_by = "security-advisor"
"#;

#[test]
fn diff_names_every_kind_of_change_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.toml");
    let new = dir.path().join("new.toml");
    std::fs::write(&old, OLD).unwrap();
    std::fs::write(&new, NEW).unwrap();
    let o = bcss(&["manifest", "diff", s(&old), s(&new)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with(&format!("--- {} (SHA-256 ", old.display())),
        "{out}"
    );
    assert!(
        lines[1].starts_with(&format!("+++ {} (SHA-256 ", new.display())),
        "{out}"
    );
    assert_eq!(
        lines[2..],
        [
            "organization: name \"CPAS de Testville\" -> \"CPAS de Testville-sur-Mer\"",
            "organization: sub_sector none -> 2",
            "added ti-groups-prod: RetrieveTIGroups (every operation) in production for purpose \
             \"PCSA:SOCIAL_INQUIRY\", program 00912345772, deliberation 21/037, valid \
             2025-06-01 through 2026-05-31, granted by security-advisor",
            "removed identify-test: IdentifyPerson (every operation) in test for purpose \
             \"PCSA:SOCIAL_INQUIRY\", program 00912345673, deliberation not-applicable, valid \
             2025-01-01 through 2026-12-31, granted by security-advisor",
            "access-test: operations register, list -> register",
            "access-test: access_purposes 1 -> 1, 7",
            "tx25-test: environment test -> acceptance",
            "tx25-test: service RetrieveTIGroups -> IdentifyPerson",
            "tx25-test: operations every operation -> identifyPerson",
            "tx25-test: purpose \"PCSA:SOCIAL_INQUIRY\" -> \"PCSA:DEBT_MEDIATION\"",
            "tx25-test: program 00912345673 -> 00912345772",
            "tx25-test: deliberation not-applicable -> 13/084",
            "tx25-test: valid_from 2025-01-01 -> 2025-06-01",
            "tx25-test: valid_until 2026-12-31 -> 2027-12-31",
            "tx25-test: granted_by security-advisor -> leading-official",
            "tx25-test: note none -> \"renewed\"",
            "order of entries: tx25-test, access-test, hci-test -> access-test, tx25-test, \
             hci-test (the first entry that matches a call, in file order, grants it)",
            "17 change(s): 1 added, 1 removed, 12 field(s) of entries changed, 2 organisation \
             field(s) changed, order changed",
        ],
        "{out}"
    );

    // The same authorisations, reformatted: no change, exit 0.
    let same = dir.path().join("same.toml");
    std::fs::write(&same, format!("# a comment\n{}", OLD.replace(" = ", "="))).unwrap();
    let o = bcss(&["manifest", "diff", s(&old), s(&same)]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).ends_with("no change: both authorise the same calls, in the same order\n"));

    // An invalid side: exit 2, its errors on stderr.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, OLD.replace("0212344876", "0212344877")).unwrap();
    let o = bcss(&["manifest", "diff", s(&old), s(&bad)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("'cbe'"), "{}", stderr(&o));
}

/// A FIFO (or any non-regular file) named like the signature, the manifest or a key is
/// refused at once with a clear error: `check` never waits for a writer.
#[cfg(unix)]
#[test]
fn check_refuses_a_fifo_instead_of_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("authorizations.toml");
    std::fs::write(&manifest, MANIFEST).unwrap();
    let mkfifo = |p: &Path| assert!(Command::new("mkfifo").arg(p).status().unwrap().success());
    let sig = dir.path().join("authorizations.toml.sig");
    mkfifo(&sig);
    let o = bcss(&["manifest", "check", s(&manifest)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o) + &stderr(&o);
    assert!(out.contains("not a regular file (a FIFO)"), "{out}");

    std::fs::remove_file(&sig).unwrap();
    let key = dir.path().join("advisor.pub");
    mkfifo(&key);
    let o = bcss(&["manifest", "check", s(&manifest), "--signer-key", s(&key)]);
    assert_ne!(o.status.code(), Some(0));
    let out = stdout(&o) + &stderr(&o);
    assert!(out.contains("not a regular file (a FIFO)"), "{out}");

    let fifo_manifest = dir.path().join("fifo.toml");
    mkfifo(&fifo_manifest);
    let o = bcss(&["manifest", "check", s(&fifo_manifest)]);
    assert_ne!(o.status.code(), Some(0));
    let out = stdout(&o) + &stderr(&o);
    assert!(out.contains("not a regular file (a FIFO)"), "{out}");
}

/// The help says what the commands do: every subcommand, and check's exit 1 for a broken
/// signature too.
#[test]
fn help_names_every_subcommand_and_checks_exit_codes() {
    let o = bcss(&["--help"]);
    let out = stdout(&o);
    assert!(
        out.contains("Check, explain, list, diff and sign the authorisation manifest"),
        "{out}"
    );
    let o = bcss(&["manifest", "check", "--help"]);
    let out = stdout(&o);
    assert!(
        out.contains("when the signature is broken or refused"),
        "{out}"
    );
}
