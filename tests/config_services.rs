//! Configured services: `[[service]]` entries in `bcss.toml`, or in the catalogue file it
//! names, checked when the configuration is read, every problem at its `FILE:line:col`;
//! a client built from the configuration knows them.

use std::path::{Path, PathBuf};

use bcss::Environment;
use bcss::client::Client;
use bcss::config::{Config, ConfigError};
use bcss::manifest::{Decision, Facts};
use bcss::services::Family;

const HEAD: &str = "environment = \"test\"
manifest = \"authorizations.toml\"

[journal]
dir = \"journal\"

[application]
name = \"cpas-social-desk\"
version = \"2.3.1\"

[organization]
cbe = \"0212344876\"
contact_email = \"it@cpas-fictiveville.example\"
";

/// A common-v3 service written by hand, from line 15 of `HEAD + SERVICE`.
const SERVICE: &str = "
[[service]]
name = \"Allowances\"
family = \"v3\"
namespace = \"http://kszbcss.fgov.be/intf/AllowancesService/v1\"
version = \"v1\"

[service.endpoints]
test = \"https://bcssksz-services-test.smals.be/SOA4520/AllowancesService/v1\"

[[service.operation]]
name = \"consult\"
request = \"consultRequest\"
response = \"consultResponse\"
soap_action = \"http://kszbcss.fgov.be/AllowancesService/consult\"
";

fn services_toml() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/contracts/services.toml")
}

/// The error `text` gives, as (line, column, message).
fn error(text: &str) -> (usize, usize, String) {
    match Config::parse(text, "bcss.toml").unwrap_err() {
        ConfigError::Invalid {
            path,
            line,
            column,
            message,
        } => {
            assert_eq!(path, "bcss.toml");
            (line, column, message)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_service_in_bcss_toml_is_configured_with_common_v3_defaults() {
    let config = Config::parse(&format!("{HEAD}{SERVICE}"), "bcss.toml").unwrap();
    assert_eq!(config.services.len(), 1);
    let s = &config.services[0];
    assert_eq!(s.family(), Family::V3);
    assert!(s.carries_information_customer());
    assert_eq!(s.legal_context(), &bcss::services::LegalContextRule::free());
    assert_eq!(
        s.operation("consult").unwrap().fault.as_deref(),
        Some("consultFault")
    );
    assert_eq!(s.origin().to_string(), "bcss.toml:15");
    assert_eq!(s.default_endpoint(Environment::Production), None);
    let catalogue = config.service_catalogue().unwrap();
    assert_eq!(catalogue.names().last(), Some(&"Allowances"));
}

#[test]
fn every_problem_of_a_service_entry_is_located() {
    let text = format!("{HEAD}{SERVICE}");
    let cases: [(&str, &str, usize, usize, &str); 9] = [
        (
            "family = \"v3\"",
            "family = \"soap\"",
            17,
            10,
            "expected \"v3\"",
        ),
        (
            "version = \"v1\"",
            "version = \"v1\"\nsevice_id = \"X\"",
            20,
            1,
            "sevice_id",
        ),
        (
            "name = \"consult\"",
            "name = \"consult\"\nwrite = \"yes\"",
            26,
            9,
            "bool",
        ),
        (
            "soap_action = \"http://kszbcss.fgov.be/AllowancesService/consult\"\n",
            "",
            24,
            1,
            "missing key 'soap_action'",
        ),
        (
            "request = \"consultRequest\"",
            "request = \"consult Request\"",
            26,
            11,
            "'operation.0.request'",
        ),
        (
            "test = \"https",
            "tset = \"https",
            22,
            1,
            "expected test, acceptance or production",
        ),
        (
            "test = \"https://",
            "test = \"ftp://",
            22,
            8,
            "http:// or https://",
        ),
        (
            "name = \"Allowances\"",
            "name = \"TestConnection\"",
            15,
            1,
            "already described (built-in)",
        ),
        (
            "version = \"v1\"",
            "version = \"v1\"\nservice_id = \"X\"",
            20,
            14,
            "applies to SSDN services only",
        ),
    ];
    for (from, to, line, column, says) in cases {
        assert!(text.contains(from), "{from}");
        let (l, c, message) = error(&text.replacen(from, to, 1));
        assert!(message.contains(says), "{to}: {message}");
        assert_eq!((l, c), (line, column), "{to}: {message}");
    }
    // A legalContext list must hold values the schema could.
    let (l, c, message) = error(&text.replacen(
        "version = \"v1\"",
        "version = \"v1\"\nlegal_context = []",
        1,
    ));
    assert_eq!((l, c), (20, 17), "{message}");
    assert!(message.contains("the closed list of legalContext values is empty"));
}

#[test]
fn endpoints_overrides_name_catalogued_services() {
    let ok = format!(
        "{HEAD}\n[endpoints]\nAllowances = \"http://127.0.0.1:9090/allowances\"\n{SERVICE}"
    );
    assert!(Config::parse(&ok, "bcss.toml").is_ok());
    let unknown = ok.replace("Allowances = \"http", "Allowance = \"http");
    let (_, _, message) = error(&unknown);
    assert!(
        message.contains("unknown service \"Allowance\""),
        "{message}"
    );
    assert!(
        message.contains("HealthCareInsurance, Allowances"),
        "{message}"
    );
}

#[test]
fn a_catalogue_file_is_read_with_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("bcss.toml");
    // `catalogue` is a top-level key: it comes before the first table.
    let text = HEAD.replacen(
        "manifest = \"authorizations.toml\"\n",
        &format!(
            "manifest = \"authorizations.toml\"\ncatalogue = {:?}\n",
            services_toml().display().to_string()
        ),
        1,
    );
    std::fs::write(&config_path, &text).unwrap();
    let config = Config::load(&config_path).unwrap();
    let names: Vec<&str> = config.services.iter().map(|s| s.name()).collect();
    assert_eq!(names, ["FictitiousAllowances", "FictitiousAttestations"]);
    // The hand-written SSDN service travels through the connector, like the built-in ones.
    let ssdn = &config.services[1];
    assert_eq!(ssdn.family(), Family::Ssdn);
    assert_eq!(ssdn.version(), "20250101");
    assert_eq!(
        ssdn.ssdn().unwrap().payload_namespace,
        "http://www.ksz-bcss.fgov.be/XSD/SSDN/OCMW_CPAS/FictitiousAttestations"
    );
    let identify = bcss::services::identify_person::service();
    for env in Environment::ALL {
        assert_eq!(ssdn.default_endpoint(env), identify.default_endpoint(env));
    }
    assert_eq!(
        ssdn.soap_action("listAttestations"),
        identify.soap_action("identifyPerson")
    );
    assert!(!ssdn.carries_information_customer());

    // A problem in the catalogue file is reported at its own FILE:line:col.
    let bad = dir.path().join("services.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(services_toml())
            .unwrap()
            .replace("version = \"20250101\"", "version = \"2025-01-01\""),
    )
    .unwrap();
    std::fs::write(
        &config_path,
        text.replace(
            &format!("{:?}", services_toml().display().to_string()),
            "\"services.toml\"",
        ),
    )
    .unwrap();
    let err = Config::load(&config_path).unwrap_err().to_string();
    assert!(err.starts_with(&format!("{}:", bad.display())), "{err}");
    assert!(err.contains("exactly 8 characters"), "{err}");
    // A name used in both files is refused where it is used again.
    std::fs::copy(services_toml(), &bad).unwrap();
    std::fs::write(
        &config_path,
        format!(
            "{}{}",
            text.replace(
                &format!("{:?}", services_toml().display().to_string()),
                "\"services.toml\""
            ),
            SERVICE.replace("\"Allowances\"", "\"FictitiousAttestations\"")
        ),
    )
    .unwrap();
    let err = Config::load(&config_path).unwrap_err().to_string();
    assert!(
        err.contains("\"FictitiousAttestations\" is already described"),
        "{err}"
    );
}

#[tokio::test]
async fn a_client_from_the_configuration_authorises_its_services() {
    let dir = tempfile::tempdir().unwrap();
    let text = HEAD.replacen(
        "manifest = \"authorizations.toml\"\n",
        &format!(
            "manifest = \"authorizations.toml\"\ncatalogue = {:?}\n",
            services_toml().display().to_string()
        ),
        1,
    ) + "\n[endpoints]\nFictitiousAllowances = \"http://127.0.0.1:9/allowances\"\n";
    std::fs::write(dir.path().join("bcss.toml"), text).unwrap();
    std::fs::write(
        dir.path().join("authorizations.toml"),
        "[organization]\ncbe = \"0212344876\"\nname = \"CPAS de Fictiveville\"\nsector = 17\n\n\
         [[authorization]]\nid = \"allowances-test\"\nenvironment = \"test\"\n\
         service = \"FictitiousAllowances\"\noperations = [\"consultAllowances\"]\n\
         purpose = \"social inquiry\"\nprogram = \"00912345673\"\nvalid_from = 2025-01-01\n\
         valid_until = 2099-12-31\ngranted_by = \"security-advisor\"\n",
    )
    .unwrap();
    let config = Config::load(dir.path().join("bcss.toml")).unwrap();
    let configured = Client::from_config(&config).await.unwrap();
    let guard = configured.client.guard();
    assert!(guard.catalogue().get("FictitiousAttestations").is_some());
    let facts = Facts {
        environment: Environment::Test,
        service: "FictitiousAllowances",
        operation: "consultAllowances",
        purpose: "social inquiry",
        program: None,
        access_purpose: None,
    };
    match guard.decide(&facts, chrono::Utc::now()) {
        Decision::Grant(g) => assert_eq!(g.authorization_id, "allowances-test"),
        Decision::Deny(d) => panic!("{d}"),
    }
    configured.close().await.unwrap();
}
