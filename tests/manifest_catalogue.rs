//! The manifest is validated against the service catalogue: services and operations it
//! does not know, and purposes outside a service's closed list of legalContext values, are
//! errors at their `FILE:line:col`, for configured services as for built-in ones; so the
//! guard can never grant such a purpose. `bcss manifest check --config` knows the
//! configured services.

mod cli_support;
use cli_support::bcss;
use std::path::{Path, PathBuf};

use bcss::Environment;
use bcss::config::Config;
use bcss::manifest::{Decision, DenialReason, Facts, Guard, validate, validate_with};
use bcss::services::{Catalogue, parse_services};
use chrono::{DateTime, Utc};

const HCI_VALUES: &str = "'query insurance', 'social inquiry and financial help', \
    'insurability status of entering frontier worker', 'CBSS validation', \
    'check MAF to stop repayment', 'full information insurability', \
    'CBSS internal processing', 'Heating Allowance', 'medical costs supported', \
    'social fraud control'";

fn services_toml() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/contracts/services.toml")
}

/// The built-in catalogue with the fictitious services of tests/contracts/services.toml.
fn catalogue() -> Catalogue {
    let text = std::fs::read_to_string(services_toml()).unwrap();
    Catalogue::with_configured(parse_services(&text, "services.toml").unwrap()).unwrap()
}

/// A manifest with one entry (line 6 on) whose service, operations and purpose are given.
fn manifest(service: &str, operations: Option<&str>, purpose: &str) -> String {
    format!(
        "[organization]\ncbe = \"0212344876\"\nname = \"CPAS de Fictiveville\"\nsector = 17\n\n\
         [[authorization]]\nid = \"e1\"\nenvironment = \"test\"\nservice = \"{service}\"\n\
         operations = [{}]\npurpose = \"{purpose}\"\nprogram = \"00912345673\"\n\
         valid_from = 2025-01-01\nvalid_until = 2099-12-31\ngranted_by = \"security-advisor\"\n",
        operations.unwrap_or("\"consultAllowances\"")
    )
}

fn errors(text: &str, catalogue: &Catalogue) -> Vec<String> {
    match validate_with(text, "authorizations.toml", catalogue) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(d) => d.iter().map(ToString::to_string).collect(),
    }
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn configured_services_are_known_to_the_manifest_with_the_configuration_only() {
    let text = manifest("FictitiousAllowances", None, "social inquiry");
    let policy = validate_with(&text, "authorizations.toml", &catalogue()).unwrap();
    assert_eq!(policy.entries()[0].service.name(), "FictitiousAllowances");
    let errors = match validate(&text, "authorizations.toml") {
        Ok(_) => panic!("the built-in catalogue knows no FictitiousAllowances"),
        Err(d) => d,
    };
    assert_eq!(errors[0].line, 9);
    assert_eq!(errors[0].column, 11);
    assert!(
        errors[0]
            .message
            .starts_with("unknown service 'FictitiousAllowances'"),
        "{}",
        errors[0]
    );
    // Where a service of one's own comes from: the configuration (bcss manifest check
    // without --config).
    assert!(
        errors[0].message.contains("--config bcss.toml"),
        "{}",
        errors[0]
    );
    // With the configuration, another unknown name gets no such hint.
    let errors = validate_with(
        &manifest("FictitiousNothing", None, "social inquiry"),
        "authorizations.toml",
        &catalogue(),
    )
    .unwrap_err();
    assert!(!errors[0].message.contains("--config"), "{}", errors[0]);
}

#[test]
fn an_unknown_operation_is_located_for_configured_and_builtin_services() {
    let c = catalogue();
    let text = manifest(
        "FictitiousAllowances",
        Some("\"consultAllowances\", \"declareAllowances\""),
        "social inquiry",
    );
    assert_eq!(
        errors(&text, &c),
        [
            "authorizations.toml:10:36: 'declareAllowances' is not an operation of \
          FictitiousAllowances (did you mean 'declareAllowance'?) (its operations: \
          consultAllowances, declareAllowance)"
        ]
    );
    let text = manifest(
        "FictitiousAttestations",
        Some("\"listAttestation\""),
        "PCSA:SOCIAL_INQUIRY",
    );
    assert_eq!(
        errors(&text, &c),
        [
            "authorizations.toml:10:15: 'listAttestation' is not an operation of \
          FictitiousAttestations (did you mean 'listAttestations'?) (its operations: \
          listAttestations)"
        ]
    );
    let text = manifest(
        "RetrieveTIGroups",
        Some("\"retrieveTIGroups\""),
        "PCSA:SOCIAL_INQUIRY",
    );
    assert_eq!(
        errors(&text, &c),
        [
            "authorizations.toml:10:15: 'retrieveTIGroups' is not an operation of \
          RetrieveTIGroups (its operations: retrieveTI)"
        ]
    );
}

#[test]
fn a_purpose_outside_a_closed_legal_context_list_is_located_with_the_allowed_values() {
    let c = catalogue();
    // The new user's first try: the purpose of the other services, for HealthCareInsurance.
    let text = manifest(
        "HealthCareInsurance",
        Some("\"consultMAF\""),
        "PCSA:SOCIAL_INQUIRY",
    );
    let expected = format!(
        "authorizations.toml:11:11: 'purpose' is sent as the legalContext of \
         HealthCareInsurance, whose schema allows only these values, not \
         'PCSA:SOCIAL_INQUIRY': {HCI_VALUES}"
    );
    assert_eq!(errors(&text, &c), std::slice::from_ref(&expected));
    assert_eq!(
        validate(&text, "authorizations.toml")
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [expected]
    );
    // A near miss is named.
    let text = manifest(
        "HealthCareInsurance",
        Some("\"consultMAF\""),
        "Heating allowance",
    );
    assert!(
        errors(&text, &c)[0]
            .contains("not 'Heating allowance' (did you mean 'Heating Allowance'?)"),
        "{:?}",
        errors(&text, &c)
    );
    // A configured service's closed list, likewise.
    let text = manifest("FictitiousAllowances", None, "social inquiries");
    assert_eq!(
        errors(&text, &c),
        [
            "authorizations.toml:11:11: 'purpose' is sent as the legalContext of \
          FictitiousAllowances, whose schema allows only these values, not 'social \
          inquiries' (did you mean 'social inquiry'?): 'social inquiry', 'allowance \
          management', 'CBSS internal processing'"
        ]
    );
    // The values of the list are accepted; SSDN services carry no legalContext, so any
    // purpose is theirs to state.
    let ok = manifest(
        "HealthCareInsurance",
        Some("\"consultMAF\""),
        "social inquiry and financial help",
    );
    assert!(validate(&ok, "authorizations.toml").is_ok());
    let ssdn = manifest(
        "FictitiousAttestations",
        Some("\"listAttestations\""),
        &"P".repeat(80),
    );
    assert!(validate_with(&ssdn, "authorizations.toml", &c).is_ok());
}

#[test]
fn the_guard_can_never_grant_a_purpose_outside_the_list() {
    let bad = manifest(
        "HealthCareInsurance",
        Some("\"consultMAF\""),
        "PCSA:SOCIAL_INQUIRY",
    );
    assert!(Guard::from_str(&bad, "authorizations.toml").is_err());
    // A guard with a good manifest keeps it when the bad one is offered.
    let good = manifest(
        "HealthCareInsurance",
        Some("\"consultMAF\""),
        "social inquiry and financial help",
    );
    let guard = Guard::from_str(&good, "authorizations.toml").unwrap();
    assert!(guard.reload_from_str(&bad, "authorizations.toml").is_err());
    let facts = |purpose| Facts {
        environment: Environment::Test,
        service: "HealthCareInsurance",
        operation: "consultMAF",
        purpose,
        program: None,
        access_purpose: None,
    };
    let now = at("2026-03-01T10:00:00Z");
    match guard.decide(&facts("PCSA:SOCIAL_INQUIRY"), now) {
        Decision::Deny(d) => assert_eq!(d.reason, DenialReason::PurposeNotAuthorized),
        Decision::Grant(g) => panic!("{g:?}"),
    }
    assert!(matches!(
        guard.decide(&facts("social inquiry and financial help"), now),
        Decision::Grant(_)
    ));
}

#[test]
fn a_guard_built_on_a_configuration_decides_for_its_services() {
    let c = catalogue();
    let text = manifest(
        "FictitiousAllowances",
        Some("\"consultAllowances\""),
        "social inquiry",
    );
    let guard = Guard::from_str_with(&text, "authorizations.toml", c.clone()).unwrap();
    assert_eq!(guard.catalogue(), &c);
    let facts = |operation| Facts {
        environment: Environment::Test,
        service: "FictitiousAllowances",
        operation,
        purpose: "social inquiry",
        program: None,
        access_purpose: None,
    };
    let now = at("2026-03-01T10:00:00Z");
    assert!(matches!(
        guard.decide(&facts("consultAllowances"), now),
        Decision::Grant(_)
    ));
    match guard.decide(&facts("declareAllowance"), now) {
        Decision::Deny(d) => {
            assert_eq!(d.reason, DenialReason::NoAuthorization);
            assert!(
                d.message.contains("operation(s) consultAllowances"),
                "{}",
                d.message
            );
        }
        Decision::Grant(g) => panic!("{g:?}"),
    }
    match guard.decide(&facts("nope"), now) {
        Decision::Deny(d) => assert!(
            d.message
                .contains("its operations: consultAllowances, declareAllowance"),
            "{}",
            d.message
        ),
        Decision::Grant(g) => panic!("{g:?}"),
    }
    // Reloads keep the configuration's catalogue.
    assert!(guard.reload_from_str(&text, "authorizations.toml").is_ok());
}

/// A bcss.toml naming tests/contracts/services.toml, and a manifest, in `dir`.
fn files(dir: &Path, manifest_text: &str) -> (String, String) {
    let config = dir.join("bcss.toml");
    std::fs::write(
        &config,
        format!(
            "environment = \"test\"\nmanifest = \"authorizations.toml\"\ncatalogue = {:?}\n\n\
             [journal]\ndir = \"journal\"\n\n[application]\nname = \"app\"\nversion = \"1\"\n\n\
             [organization]\ncbe = \"0212344876\"\ncontact_email = \"it@cpas.example\"\n",
            services_toml().display().to_string()
        ),
    )
    .unwrap();
    let manifest = dir.join("authorizations.toml");
    std::fs::write(&manifest, manifest_text).unwrap();
    (config.display().to_string(), manifest.display().to_string())
}

#[test]
fn manifest_check_knows_the_configured_services() {
    let dir = tempfile::tempdir().unwrap();
    let (config, file) = files(
        dir.path(),
        &manifest("FictitiousAllowances", None, "allowance management"),
    );
    let out = bcss(&["manifest", "check", &file, "--config", &config]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with(&format!("{file}: valid: 1 authorisation(s)")),
        "{stdout}"
    );

    let out = bcss(&["manifest", "check", &file]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with(&format!(
            "{file}:9:11: unknown service 'FictitiousAllowances'"
        )),
        "{stdout}"
    );

    // explain and list take the configuration too.
    let out = bcss(&[
        "manifest",
        "explain",
        &file,
        "--config",
        &config,
        "--env",
        "test",
        "--service",
        "FictitiousAllowances",
        "--operation",
        "consultAllowances",
        "--purpose",
        "allowance management",
        "--at",
        "2026-01-01T00:00:00Z",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .starts_with("ALLOW e1")
    );
    let out = bcss(&["manifest", "list", &file, "--config", &config]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("FictitiousAllowances")
    );
}

#[test]
fn manifest_check_names_the_allowed_legal_contexts() {
    let dir = tempfile::tempdir().unwrap();
    let (config, file) = files(
        dir.path(),
        &manifest(
            "HealthCareInsurance",
            Some("\"consultMAF\""),
            "PCSA:SOCIAL_INQUIRY",
        ),
    );
    for args in [
        vec!["manifest", "check", &file],
        vec!["manifest", "check", &file, "--config", &config],
    ] {
        let out = bcss(&args);
        assert_eq!(out.status.code(), Some(1));
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            stdout,
            format!(
                "{file}:11:11: 'purpose' is sent as the legalContext of \
                 HealthCareInsurance, whose schema allows only these values, not \
                 'PCSA:SOCIAL_INQUIRY': {HCI_VALUES}\n{file}: invalid: 1 error(s)\n"
            )
        );
    }
}

#[test]
fn a_configuration_that_cannot_be_read_stops_manifest_check() {
    let dir = tempfile::tempdir().unwrap();
    let (_, file) = files(
        dir.path(),
        &manifest("FictitiousAllowances", None, "social inquiry"),
    );
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "environment = \"staging\"\n").unwrap();
    let out = bcss(&[
        "manifest",
        "check",
        &file,
        "--config",
        &bad.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with(&format!("{}:1:15:", bad.display())),
        "{stdout}"
    );
    // The catalogue file the configuration names is read by Config::load.
    let (config, _) = files(dir.path(), "");
    let loaded = Config::load(Path::new(&config)).unwrap();
    let names: Vec<&str> = loaded.services.iter().map(|s| s.name()).collect();
    assert_eq!(names, ["FictitiousAllowances", "FictitiousAttestations"]);
    assert_eq!(
        loaded.services[0].origin().to_string(),
        format!("{}:7", services_toml().display())
    );
    assert_eq!(loaded.service_catalogue().unwrap().len(), 8);
}
