use super::*;

const GOOD: &str = r#"
environment = "test"
manifest = "authorizations.toml"

[journal]
dir = "journal"

[application]
name = "cpas-social-desk"
version = "2.3.1"

[organization]
cbe = "0212344876"
contact_email = "it@cpas-fictiveville.example"
program = "00912345673"

[transport]
base_url = "http://127.0.0.1:8080"
password_env = "BCSS_PASSWORD"

[endpoints]
TestConnection = "http://127.0.0.1:9090/echo"
"#;

#[test]
fn parses_the_documented_example() {
    let c = Config::parse(GOOD, "bcss.toml").unwrap();
    assert_eq!(c.environment, Environment::Test);
    assert_eq!(c.organization.cbe.as_str(), "0212344876");
    assert_eq!(c.transport.kind, TransportKind::Http);
    assert_eq!(c.endpoints.len(), 1);
}

#[test]
fn a_journal_is_a_dir_or_a_postgres_url() {
    let pg = GOOD.replace(
        "[journal]\ndir = \"journal\"",
        "[journal]\nurl = \"postgres://bcss_app@db.example/cpas?schema=cpas_a\"\npassword_env = \"BCSS_JOURNAL_PASSWORD\"\nwitness = \"postgres://bcss_app@db.example/cpas?schema=cpas_a_witness\"",
    );
    let c = Config::parse(&pg, "bcss.toml").unwrap();
    match c.journal_location().unwrap() {
        crate::audit::JournalLocation::Postgres(l) => {
            assert_eq!(l.schema(), "cpas_a");
            assert!(format!("{l:?}").contains("BCSS_JOURNAL_PASSWORD"));
        }
        other => panic!("{other:?}"),
    }
    let witness = c.journal_witness().unwrap().unwrap();
    assert!(format!("{witness:?}").contains("cpas_a_witness"));
    assert!(format!("{witness:?}").contains("BCSS_JOURNAL_PASSWORD"));
    // A witness connecting as another role has a password of its own.
    let own = pg.replace(
        "password_env = \"BCSS_JOURNAL_PASSWORD\"",
        "password_env = \"BCSS_JOURNAL_PASSWORD\"\nwitness_password_env = \"BCSS_WITNESS_PASSWORD\"",
    );
    let c3 = Config::parse(&own, "bcss.toml").unwrap();
    let witness = c3.journal_witness().unwrap().unwrap();
    assert!(
        format!("{witness:?}").contains("BCSS_WITNESS_PASSWORD"),
        "{witness:?}"
    );
    let on_file = GOOD.replace(
        "dir = \"journal\"",
        "dir = \"journal\"\nwitness = \"w/heads\"\nwitness_password_env = \"X\"",
    );
    let err = Config::parse(&on_file, "bcss.toml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("for a postgres:// witness"), "{err}");
    // A relative sslrootcert is relative to the file's folder, as every path in it.
    let with_ca = pg.replace(
        "schema=cpas_a\"",
        "schema=cpas_a&sslrootcert=certs/ca.pem\"",
    );
    let mut c2 = Config::parse(&with_ca, "bcss.toml").unwrap();
    c2.base_dir = std::path::PathBuf::from("/etc/bcss");
    match c2.journal_location().unwrap() {
        crate::audit::JournalLocation::Postgres(l) => assert_eq!(
            l.root_certificates(),
            Some(&std::path::PathBuf::from("/etc/bcss/certs/ca.pem"))
        ),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        c.journal_config().unwrap(),
        crate::audit::AnyJournalConfig::Postgres(_)
    ));
    for (bad, expected) in [
        (
            GOOD.replace(
                "dir = \"journal\"",
                "dir = \"journal\"\nurl = \"postgres://a@b/c\"",
            ),
            "not both",
        ),
        (GOOD.replace("dir = \"journal\"", ""), "give dir"),
        (
            GOOD.replace(
                "dir = \"journal\"",
                "url = \"postgres://app:s3cret-pw@db/c\"",
            ),
            "holds a password",
        ),
        (
            GOOD.replace("dir = \"journal\"", "url = \"/var/lib/journal\""),
            "postgres:// URL",
        ),
        (
            GOOD.replace(
                "dir = \"journal\"",
                "dir = \"journal\"\npassword_file = \"pw\"",
            ),
            "for a PostgreSQL journal",
        ),
    ] {
        let err = Config::parse(&bad, "bcss.toml").unwrap_err().to_string();
        assert!(err.contains(expected), "{expected}: {err}");
        assert!(err.starts_with("bcss.toml:5:"), "{err}");
        assert!(!err.contains("s3cret-pw"), "{err}");
    }
}

#[test]
fn unknown_keys_and_bad_values_are_located() {
    let typo = GOOD.replace("password_env", "pasword_env");
    let err = Config::parse(&typo, "bcss.toml").unwrap_err();
    match err {
        ConfigError::Invalid { line, message, .. } => {
            assert_eq!(line, 19, "{message}");
            assert!(message.contains("pasword_env"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let bad_cbe = GOOD.replace("0212344876", "0212344877");
    let err = Config::parse(&bad_cbe, "bcss.toml")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("bcss.toml:13:"), "{err}");
    assert!(err.contains("check digits"), "{err}");
    let bad_service = GOOD.replace("TestConnection =", "TestConection =");
    assert!(Config::parse(&bad_service, "x").is_err());
}

#[test]
fn a_reply_limit_the_journal_cannot_hold_is_refused_naming_both_limits() {
    let with = |extra: &str| format!("{GOOD}\n{extra}");
    // The default reply limit fits the default record limit.
    assert!(Config::parse(GOOD, "bcss.toml").is_ok());
    let big = with("[limits]\nmax_reply_bytes = 40000000\n");
    let err = Config::parse(&big, "bcss.toml").unwrap_err().to_string();
    assert!(err.contains("max_reply_bytes = 40000000"), "{err}");
    assert!(err.contains("max_record_bytes = 33554432"), "{err}");
    assert!(err.starts_with("bcss.toml:25:1:"), "{err}");
    // Raising the record limit makes room for it.
    let fits = big.replace(
        "[journal]\ndir = \"journal\"",
        "[journal]\ndir = \"journal\"\nmax_record_bytes = 67108864",
    );
    assert!(Config::parse(&fits, "bcss.toml").is_ok());
    let unbounded = with("[limits]\nmax_reply_bytes = 100000000000\n");
    assert!(Config::parse(&unbounded, "bcss.toml").is_err());
    let absurd = GOOD.replace(
        "[journal]\ndir = \"journal\"",
        "[journal]\ndir = \"journal\"\nmax_record_bytes = 1000",
    );
    let err = Config::parse(&absurd, "bcss.toml").unwrap_err().to_string();
    assert!(err.contains("max_record_bytes"), "{err}");
}

#[test]
fn line_col_counts_characters() {
    assert_eq!(line_col("ab\ncdé\nx", 7), (2, 4));
    assert_eq!(line_col("", 0), (1, 1));
}
