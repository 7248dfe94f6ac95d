//! `bcss manifest check | explain | list`, through the built binary: exit codes and output.
//! (Signing, keys and `diff`: tests/manifest_sign_cli.rs.)

mod cli_support;
use cli_support::{bcss, stderr, stdout};
use std::path::PathBuf;
use std::process::Output;

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/manifests")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn check_a_valid_manifest() {
    let file = fixture("example-authorizations.toml");
    let o = bcss(&["manifest", "check", &file]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!(
            "{file}: valid: 5 authorisation(s) for CPAS de Testville (CBE 0212344876): test 1, \
             acceptance 1, production 3; 0 warning(s)\nsignature: unsigned (no {file}.sig)\n"
        )
    );
}

#[test]
fn check_prints_warnings_and_still_succeeds() {
    let file = fixture("warning-program-check-digits.toml");
    let o = bcss(&["manifest", "check", &file]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[0].starts_with(&format!(
            "{file}:12:11: warning: program number 00912345600: its check digits do not verify"
        )),
        "{out}"
    );
    assert!(lines[1].ends_with("; 1 warning(s)"), "{out}");
    assert_eq!(
        lines[2],
        format!("signature: unsigned (no {file}.sig)"),
        "{out}"
    );
}

#[test]
fn check_an_invalid_manifest_prints_every_error() {
    let file = fixture("invalid-every-error.toml");
    let o = bcss(&["manifest", "check", &file]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 16, "{out}");
    let locations: Vec<&str> = lines[..15]
        .iter()
        .map(|l| {
            let rest = l.strip_prefix(&format!("{file}:")).unwrap();
            rest.split(": ").next().unwrap()
        })
        .collect();
    assert_eq!(
        locations,
        [
            "3:7", "6:1", "8:1", "13:11", "18:1", "19:6", "20:15", "21:11", "24:16", "26:1",
            "29:1", "33:23", "35:16", "37:15", "38:14"
        ]
    );
    assert_eq!(lines[15], format!("{file}: invalid: 15 error(s)"));
}

#[test]
fn check_a_missing_file() {
    let o = bcss(&["manifest", "check", "/nonexistent/authorizations.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("/nonexistent/authorizations.toml: cannot read the manifest"));
}

fn explain(extra: &[&str]) -> Output {
    let file = fixture("example-authorizations.toml");
    let mut args = vec!["manifest", "explain", file.as_str()];
    args.extend_from_slice(extra);
    bcss(&args)
}

#[test]
fn explain_allow() {
    let o = explain(&[
        "--env",
        "production",
        "--service",
        "IdentifyPerson",
        "--purpose",
        "PCSA:SOCIAL_INQUIRY",
        "--at",
        "2025-06-01T12:00:00Z",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "ALLOW identify-prod\npurpose: PCSA:SOCIAL_INQUIRY\nprogram: 00912345673\n\
         deliberation: 13/084\n"
    );
}

#[test]
fn explain_deny_gives_the_code_and_the_explanation() {
    let cases: [(&[&str], &str, &str); 5] = [
        (
            &["--env", "acceptance", "--service", "IdentifyPerson"],
            "MARKETING",
            "DENY purpose_not_authorized\nentry 'identify-acpt' authorises IdentifyPerson.identifyPerson in \
             acceptance for purpose 'PCSA:SOCIAL_INQUIRY', not 'MARKETING';",
        ),
        (
            &["--env", "test", "--service", "IdentifyPerson"],
            "PCSA:SOCIAL_INQUIRY",
            "DENY wrong_environment\nIdentifyPerson is authorised only in acceptance and production",
        ),
        (
            &[
                "--env",
                "production",
                "--service",
                "ManageAccess",
                "--operation",
                "register",
            ],
            "PCSA:SOCIAL_INQUIRY",
            "DENY no_authorization\nentry 'manage-access-list-prod' authorises ManageAccess \
             operation(s) list in production, not 'register'",
        ),
        (
            &[
                "--env",
                "production",
                "--service",
                "HealthCareInsurance",
                "--operation",
                "consultMAF",
            ],
            "PCSA:SOCIAL_INQUIRY",
            "DENY no_authorization\nno entry authorises HealthCareInsurance in any environment",
        ),
        (
            &[
                "--env",
                "production",
                "--service",
                "IdentifyPerson",
                "--program",
                "00912345772",
            ],
            "PCSA:SOCIAL_INQUIRY",
            "DENY program_mismatch\nentry 'identify-prod' grants program number 00912345673",
        ),
    ];
    for (args, purpose, want) in cases {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--purpose", purpose, "--at", "2025-06-01T12:00:00Z"]);
        let o = explain(&all);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert!(stdout(&o).starts_with(want), "{args:?}: {}", stdout(&o));
    }
}

#[test]
fn explain_dates() {
    let base = [
        "--env",
        "production",
        "--service",
        "IdentifyPerson",
        "--purpose",
        "PCSA:SOCIAL_INQUIRY",
        "--at",
    ];
    let run = |instant: &str| {
        let mut args = base.to_vec();
        args.push(instant);
        explain(&args)
    };
    let o = run("2025-02-01T00:00:00+01:00");
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).starts_with("DENY not_yet_valid\n"));
    let o = run("2026-03-01T00:00:00Z");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o)
            .starts_with("DENY expired\nentry 'identify-prod' expired at the end of 2026-02-28")
    );
}

#[test]
fn explain_usage_errors_and_invalid_manifests_exit_2() {
    let purpose = ["--purpose", "PCSA:SOCIAL_INQUIRY"];
    for args in [
        // Unknown service.
        vec!["--env", "test", "--service", "IdentifyPersons"],
        // Unknown environment.
        vec!["--env", "staging", "--service", "IdentifyPerson"],
        // Several operations, none chosen.
        vec!["--env", "test", "--service", "ManageAccess"],
        // An operation the service does not have.
        vec![
            "--env",
            "test",
            "--service",
            "ManageAccess",
            "--operation",
            "delete",
        ],
        // Not an RFC 3339 instant.
        vec![
            "--env",
            "test",
            "--service",
            "IdentifyPerson",
            "--at",
            "tomorrow",
        ],
        // Not a program number.
        vec![
            "--env",
            "test",
            "--service",
            "IdentifyPerson",
            "--program",
            "123",
        ],
    ] {
        let mut all = args.clone();
        all.extend_from_slice(&purpose);
        let o = explain(&all);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stdout(&o).is_empty(), "{args:?}");
        assert!(!stderr(&o).is_empty(), "{args:?}");
    }
    // --purpose is required.
    let o = explain(&["--env", "test", "--service", "IdentifyPerson"]);
    assert_eq!(o.status.code(), Some(2));

    let bad = fixture("invalid-every-error.toml");
    let o = bcss(&[
        "manifest",
        "explain",
        &bad,
        "--env",
        "test",
        "--service",
        "IdentifyPerson",
        "--purpose",
        "X",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&format!("{bad}:3:7: 'cbe'")),
        "{}",
        stderr(&o)
    );
}

#[test]
fn list_shows_days_left_and_flags() {
    let file = fixture("example-authorizations.toml");
    let o = bcss(&["manifest", "list", &file, "--at", "2026-02-10T12:00:00Z"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "CPAS de Testville (CBE 0212344876), 5 entries, days counted from 2026-02-10"
    );
    assert_eq!(lines[1], format!("signature: unsigned (no {file}.sig)"));
    assert!(lines[2].starts_with("ID  "), "{out}");
    assert!(lines[2].contains("DAYS LEFT  FLAG"), "{out}");
    let row = |id: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("no row for {id}: {out}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    // 2026-02-10 to 2026-02-28: 18 days, flagged.
    let prod = row("identify-prod");
    assert_eq!(&prod[prod.len() - 3..], ["18", "EXPIRES", "SOON"]);
    assert_eq!(prod[1], "production");
    assert_eq!(prod[3], "identifyPerson");
    assert_eq!(prod[6], "13/084");
    // 2027-12-31: 689 days, no flag.
    let acpt = row("identify-acpt");
    assert_eq!(acpt.last(), Some(&"689"));
    assert_eq!(acpt[3], "*");
    assert_eq!(lines.last(), Some(&"2 expire(s) within 30 days; 0 expired"));

    let o = bcss(&[
        "manifest",
        "list",
        &file,
        "--env",
        "test",
        "--at",
        "2031-01-01T00:00:00Z",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.starts_with("CPAS de Testville (CBE 0212344876), 1 entry in test,"));
    let row: Vec<&str> = out.lines().nth(3).unwrap().split_whitespace().collect();
    assert_eq!(row[0], "test-connection");
    assert_eq!(&row[row.len() - 2..], ["-1", "EXPIRED"]);
}

#[test]
fn list_an_invalid_manifest_exits_1() {
    let bad = fixture("invalid-every-error.toml");
    let o = bcss(&["manifest", "list", &bad]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o).lines().count(), 15);
    let o = bcss(&["manifest", "list", &bad, "--env", "staging"]);
    assert_eq!(o.status.code(), Some(2));
}
