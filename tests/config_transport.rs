//! `[transport]` kinds in `bcss.toml`: record mode needs its fixtures folder and a salt
//! named by a file or a variable (never inline, never two), refused at load with
//! FILE:line:col otherwise; the endpoints follow `base_url` and `[endpoints]`; a client of
//! a loopback stand-in needs no password, a client of BCSS does.

use bcss::client::Client;
use bcss::config::{Config, TransportKind};
use bcss::services::{retrieve_ti_groups, test_connection};

const HEAD: &str = r#"environment = "acceptance"
manifest = "authorizations.toml"

[journal]
dir = "journal"

[application]
name = "t"
version = "1"

[organization]
cbe = "0212344876"
contact_email = "it@cpas-fictiveville.example"

"#;

fn parse(transport: &str) -> Result<Config, String> {
    Config::parse(&format!("{HEAD}{transport}"), "bcss.toml").map_err(|e| e.to_string())
}

#[test]
fn record_kinds_need_fixtures_and_one_salt_source() {
    let ok =
        parse("[transport]\nkind = \"record-missing\"\nfixtures = \"rec\"\nsalt_env = \"SALT\"\n")
            .unwrap();
    assert_eq!(ok.transport.kind, TransportKind::RecordMissing);
    assert!(ok.transport.kind.records());
    let ok = parse("[transport]\nkind = \"record\"\nfixtures = \"rec\"\nsalt_file = \"s\"\n");
    assert_eq!(ok.unwrap().transport.kind, TransportKind::Record);

    for (transport, says) in [
        (
            "[transport]\nkind = \"record\"\nsalt_env = \"SALT\"\n",
            "needs fixtures",
        ),
        (
            "[transport]\nkind = \"record\"\nfixtures = \"rec\"\n",
            "redaction salt",
        ),
        (
            "[transport]\nkind = \"record\"\nfixtures = \"r\"\nsalt_env = \"A\"\nsalt_file = \"b\"\n",
            "not both",
        ),
        ("[transport]\nsalt_env = \"SALT\"\n", "records nothing"),
        // A salt is never inline.
        (
            "[transport]\nkind = \"record\"\nfixtures = \"r\"\nsalt = \"00ff\"\n",
            "salt",
        ),
    ] {
        let e = parse(transport).unwrap_err();
        assert!(e.contains(says), "{transport}: {e}");
        assert!(e.starts_with("bcss.toml:"), "{e}");
    }
}

#[test]
fn endpoints_follow_base_url_then_overrides() {
    let config = parse(
        "[transport]\nbase_url = \"http://127.0.0.1:9090\"\n\n[endpoints]\nTestConnection = \"http://127.0.0.1:9191/echo\"\n",
    )
    .unwrap();
    let endpoints = config.endpoints().unwrap();
    let ti = endpoints
        .resolve(config.environment, retrieve_ti_groups::service())
        .unwrap();
    assert!(ti.starts_with("http://127.0.0.1:9090/"), "{ti}");
    let echo = endpoints
        .resolve(config.environment, test_connection::service())
        .unwrap();
    assert_eq!(echo, "http://127.0.0.1:9191/echo");
}

/// The password a configuration names is needed only when it may reach BCSS itself.
#[tokio::test]
async fn no_password_for_a_loopback_stand_in_but_one_for_bcss() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("authorizations.toml"),
        "[organization]\ncbe = \"0212344876\"\nname = \"CPAS\"\nsector = 17\n",
    )
    .unwrap();
    let write = |transport: &str| {
        let path = dir.path().join("bcss.toml");
        std::fs::write(&path, format!("{HEAD}{transport}")).unwrap();
        Config::load(&path).unwrap()
    };
    let unset = "password_env = \"BCSS_TEST_PASSWORD_NEVER_SET\"\n";
    let stand_in = write(&format!(
        "[transport]\nbase_url = \"http://127.0.0.1:9\"\n{unset}"
    ));
    let client = Client::from_config(&stand_in).await.unwrap();
    client.close().await.unwrap();

    let bcss = write(&format!("[transport]\n{unset}"));
    let e = Client::from_config(&bcss).await.unwrap_err().to_string();
    assert!(e.contains("BCSS_TEST_PASSWORD_NEVER_SET"), "{e}");
}
