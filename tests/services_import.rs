//! `bcss services import`: the WSDL files of the fictitious common-v3 service in
//! `tests/contracts/fictitious_allowances/` (one per environment, as BCSS distributes them)
//! become a `[[service]]` entry, and that entry loads back as a configured service.
//!
//! Two tests need `../shared/contracts` (BCSS's own contracts; `BCSS_SHARED_CONTRACTS`
//! names another folder) and `xmllint`, and print `SKIP:` without them.

mod cli_support;
use cli_support::bcss;
use std::path::{Path, PathBuf};
use std::process::Command;

use bcss::Environment;
use bcss::config::Config;
use bcss::services::catalogue::import::{ImportError, ImportOptions, Imported, import};
use bcss::services::catalogue::{Origin, ServiceDescriptor};
use bcss::services::{Family, LegalContextRule, parse_services};

const NAMESPACE: &str = "http://kszbcss.fgov.be/intf/FictitiousAllowancesService/v1";

fn contracts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/contracts")
}

fn wsdl(tag: &str) -> PathBuf {
    contracts().join(format!(
        "fictitious_allowances/FictitiousAllowancesV1-{tag}.wsdl"
    ))
}

fn wsdls() -> Vec<PathBuf> {
    ["test", "acpt", "prod"].map(wsdl).to_vec()
}

fn imported() -> Imported {
    import(&wsdls(), &ImportOptions::default()).unwrap()
}

/// BCSS's own contracts, or `None` after saying why the test skips.
fn shared_contracts() -> Option<PathBuf> {
    let dir = std::env::var_os("BCSS_SHARED_CONTRACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/contracts"));
    if dir.join("kszbcss").is_dir() {
        Some(dir)
    } else {
        println!("SKIP: {} missing", dir.display());
        None
    }
}

/// The descriptor with the origin of `other`, to compare what was read from two files.
fn same_origin(d: &ServiceDescriptor, other: &ServiceDescriptor) -> ServiceDescriptor {
    ServiceDescriptor {
        origin: other.origin.clone(),
        ..d.clone()
    }
}

/// Mark the last operation (declareAllowance) as a write, as a user does by hand.
fn mark_declare_as_write(entry: &str) -> String {
    let i = entry.rfind("write = false").unwrap();
    format!(
        "{}write = true {}",
        &entry[..i],
        &entry[i + "write = false".len()..]
    )
}

#[test]
fn the_three_wsdls_give_the_whole_entry() {
    let Imported {
        descriptor: d,
        notes,
    } = imported();
    assert_eq!(d.name, "FictitiousAllowances");
    assert_eq!(d.family(), Family::V3);
    assert_eq!(d.ids.version(), "v1");
    match &d.ids {
        bcss::services::catalogue::ServiceIds::V3(ids) => assert_eq!(ids.namespace, NAMESPACE),
        other => panic!("{other:?}"),
    }
    assert!(d.information_customer);
    assert_eq!(
        d.legal_context,
        LegalContextRule::Closed(vec![
            "social inquiry".into(),
            "allowance management".into(),
            "CBSS internal processing".into()
        ])
    );
    let ops: Vec<_> = d
        .operations
        .iter()
        .map(|o| {
            (
                o.name.as_str(),
                o.request.as_str(),
                o.response.as_str(),
                o.fault.as_deref(),
                o.soap_action.as_str(),
                o.write,
                o.subjects.clone(),
            )
        })
        .collect();
    assert_eq!(
        ops,
        [
            (
                "consultAllowances",
                "consultAllowancesRequest",
                "consultAllowancesResponse",
                Some("consultAllowancesFault"),
                "http://kszbcss.fgov.be/FictitiousAllowancesService/consultAllowances",
                false,
                vec!["criteria/ssin".to_string()]
            ),
            (
                "declareAllowance",
                "declareAllowanceRequest",
                "declareAllowanceResponse",
                Some("declareAllowanceFault"),
                "http://kszbcss.fgov.be/FictitiousAllowancesService/declareAllowance",
                // A WSDL cannot tell a write: the user marks it.
                false,
                vec!["declaration/beneficiary".to_string()]
            ),
        ]
    );
    for env in Environment::ALL {
        assert_eq!(
            d.endpoints.get(&env).map(String::as_str),
            Some(
                format!(
                    "https://bcssksz-services-{}.smals.be/SOA4520/FictitiousAllowancesService/v1",
                    env.host_tag()
                )
                .as_str()
            )
        );
    }
    // BCSS's CommonV3.xsd is not in the repository; nothing else is missing.
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("CommonV3.xsd"), "{notes:?}");
}

#[test]
fn the_entry_loads_back_as_a_configured_service() {
    let imported = imported();
    let entry = imported.to_toml();
    assert!(entry.starts_with("# FictitiousAllowances: imported by bcss services import"));
    let again = parse_services(&entry, "entry.toml").unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        again[0].descriptor(),
        &same_origin(&imported.descriptor, again[0].descriptor())
    );

    // Marked by hand, it is the entry tests/contracts/services.toml holds.
    let marked = mark_declare_as_write(&entry);
    let shipped_path = contracts().join("services.toml");
    let shipped = parse_services(
        &std::fs::read_to_string(&shipped_path).unwrap(),
        "services.toml",
    )
    .unwrap();
    let marked = parse_services(&marked, "marked.toml").unwrap();
    assert!(marked[0].is_write("declareAllowance"));
    assert!(!marked[0].is_write("consultAllowances"));
    assert_eq!(
        marked[0].descriptor(),
        &same_origin(shipped[0].descriptor(), marked[0].descriptor())
    );

    // Appended to a bcss.toml as is, it is a configured service of that configuration.
    let config_text = format!(
        "environment = \"test\"\nmanifest = \"authorizations.toml\"\n\n[journal]\ndir = \"j\"\n\n\
         [application]\nname = \"app\"\nversion = \"1\"\n\n[organization]\ncbe = \"0212344876\"\n\
         contact_email = \"it@cpas.example\"\n\n{}",
        mark_declare_as_write(&entry)
    );
    let config = Config::parse(&config_text, "bcss.toml").unwrap();
    let catalogue = config.service_catalogue().unwrap();
    assert_eq!(catalogue.len(), 7);
    let service = catalogue.get("FictitiousAllowances").unwrap();
    assert!(service.is_write("declareAllowance"));
    assert_eq!(
        service.origin(),
        &Origin::Configured {
            file: "bcss.toml".into(),
            line: 17
        }
    );
}

#[test]
fn one_wsdl_plus_endpoint_overrides() {
    let mut options = ImportOptions::default();
    options.endpoints.insert(
        Environment::Acceptance,
        "https://b2b-acpt.ksz-bcss.fgov.be:4520/FictitiousAllowancesService/v1".into(),
    );
    let one = import(&[wsdl("test")], &options).unwrap();
    let d = &one.descriptor;
    assert_eq!(d.endpoints.len(), 2);
    assert!(d.endpoints[&Environment::Acceptance].starts_with("https://b2b-acpt"));
    assert!(
        one.notes
            .iter()
            .any(|n| n.contains("no production endpoint") && n.contains("--endpoint")),
        "{:?}",
        one.notes
    );
    // A name of one's own.
    let named = import(
        &[wsdl("test")],
        &ImportOptions {
            name: Some("Allowances".into()),
            ..ImportOptions::default()
        },
    )
    .unwrap();
    assert_eq!(named.descriptor.name, "Allowances");
}

/// A copy of the fictitious contract in a temporary folder, with `edit` applied to the
/// test WSDL.
fn edited(edit: impl Fn(String) -> String) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let src = contracts().join("fictitious_allowances");
    std::fs::copy(
        src.join("FictitiousAllowancesTypesV1.xsd"),
        dir.path().join("FictitiousAllowancesTypesV1.xsd"),
    )
    .unwrap();
    let text = std::fs::read_to_string(wsdl("test")).unwrap();
    let path = dir.path().join("edited.wsdl");
    std::fs::write(&path, edit(text)).unwrap();
    (dir, path)
}

#[test]
fn wsdls_that_disagree_are_refused() {
    let (_dir, other) = edited(|t| {
        t.replace(
            "FictitiousAllowancesService/declareAllowance\"",
            "FictitiousAllowancesService/declareAllowanceV2\"",
        )
    });
    let err = import(&[wsdl("acpt"), other], &ImportOptions::default()).unwrap_err();
    assert!(matches!(err, ImportError::Disagree { .. }), "{err}");
    assert!(err.to_string().contains("soapActions differ"), "{err}");

    // Two files for one environment with different addresses.
    let (_dir, other) = edited(|t| t.replace("/SOA4520/", "/SOA4521/"));
    let err = import(&[wsdl("test"), other], &ImportOptions::default()).unwrap_err();
    assert!(err.to_string().contains("the test endpoint is"), "{err}");
}

#[test]
fn what_cannot_be_imported_is_refused_with_the_reason() {
    // (what is replaced, by what, what the error says)
    let cases = [
        ("style=\"document\"", "style=\"rpc\"", "document/literal"),
        ("use=\"literal\"", "use=\"encoded\"", "use \"encoded\""),
        (
            "http://schemas.xmlsoap.org/wsdl/soap/\"",
            "http://schemas.xmlsoap.org/wsdl/soap12/\"",
            "only a SOAP 1.2 binding",
        ),
        (
            "element=\"tns:consultAllowancesRequest\"",
            "type=\"fa:ConsultAllowancesRequestType\"",
            "rpc style",
        ),
        ("</wsdl:definitions>", "", "not well-formed XML"),
        (
            "wsdl:definitions",
            "wsdl:description",
            "not a WSDL 1.1 file",
        ),
        (
            "name=\"FictitiousAllowancesService\"\n",
            "name=\"9Allowances\"\n",
            "give one with --name",
        ),
    ];
    for (from, to, expected) in cases {
        let (_dir, path) = edited(|t| t.replace(from, to));
        let err = import(&[path], &ImportOptions::default()).unwrap_err();
        assert!(err.to_string().contains(expected), "{expected}: {err}");
    }

    // The SSDN connector's WSDL describes no service of its own.
    let dir = tempfile::tempdir().unwrap();
    let connector = dir.path().join("connector.wsdl");
    std::fs::write(
        &connector,
        r#"<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:tns="http://ksz-bcss.fgov.be/connectors/WebServiceConnector" targetNamespace="http://ksz-bcss.fgov.be/connectors/WebServiceConnector">
  <wsdl:message name="in"><wsdl:part name="p" element="tns:xmlString"/></wsdl:message>
  <wsdl:portType name="P"><wsdl:operation name="sendXML"><wsdl:input message="tns:in"/><wsdl:output message="tns:in"/></wsdl:operation></wsdl:portType>
  <wsdl:binding name="B" type="tns:P"><soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="sendXML"><soap:operation soapAction="http://ksz-bcss.fgov.be/connectors/WebServiceConnector/sendXML"/></wsdl:operation></wsdl:binding>
</wsdl:definitions>"#,
    )
    .unwrap();
    let err = import(&[connector], &ImportOptions::default()).unwrap_err();
    assert!(err.to_string().contains("family = \"ssdn\""), "{err}");
    let err = import(
        &[contracts().join("fictitious_allowances/missing.wsdl")],
        &ImportOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("cannot read"), "{err}");
    assert_eq!(
        import(&[], &ImportOptions::default()).unwrap_err(),
        ImportError::NoFile
    );
}

#[test]
fn the_command_prints_the_entry_and_lists_it() {
    let paths: Vec<String> = wsdls().iter().map(|p| p.display().to_string()).collect();
    let mut args = vec!["services", "import"];
    args.extend(paths.iter().map(String::as_str));
    let out = bcss(&args);
    assert_eq!(out.status.code(), Some(0));
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(printed, imported().to_toml());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("note: schema not read"), "{stderr}");

    let out = bcss(&["services", "import", "Cargo.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("not well-formed XML")
    );
    let out = bcss(&[
        "services",
        "import",
        &paths[0],
        "--endpoint",
        "staging=https://x",
    ]);
    assert_eq!(out.status.code(), Some(2));

    // Appended to a bcss.toml (write marked), `services list --config` shows it.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bcss.toml");
    std::fs::write(
        &config,
        format!(
            "environment = \"test\"\nmanifest = \"authorizations.toml\"\n\n[journal]\n\
             dir = \"j\"\n\n[application]\nname = \"app\"\nversion = \"1\"\n\n[organization]\n\
             cbe = \"0212344876\"\ncontact_email = \"it@cpas.example\"\n\n{}",
            mark_declare_as_write(&printed)
        ),
    )
    .unwrap();
    let out = bcss(&[
        "services",
        "list",
        "--config",
        &config.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let listed = String::from_utf8(out.stdout).unwrap();
    assert!(
        listed.starts_with("7 services (6 built-in, 1 configured)"),
        "{listed}"
    );
    let block = &listed[listed.find("\nFictitiousAllowances  ").unwrap()..];
    assert!(
        block.contains(&format!("common v3 {NAMESPACE}  ({}:17)", config.display())),
        "{block}"
    );
    assert!(
        block.contains("operations:   consultAllowances, declareAllowance [WRITE]"),
        "{block}"
    );
    assert!(
        block.contains("legalContext: one of: social inquiry | allowance management"),
        "{block}"
    );
    assert!(
        block.contains(
            "production:   https://bcssksz-services-prod.smals.be/SOA4520/FictitiousAllowancesService/v1"
        ),
        "{block}"
    );
}

#[test]
fn the_builtin_catalogue_is_listed() {
    let out = bcss(&["services", "list"]);
    assert_eq!(out.status.code(), Some(0));
    let listed = String::from_utf8(out.stdout).unwrap();
    assert!(listed.starts_with("6 services (6 built-in, 0 configured)"));
    assert!(listed.contains(
        "ManageAccess  SSDN OCMWCPASManageAccess 20050930  (built-in)\n  operations:   \
         register [WRITE], unregister [WRITE], list\n  legalContext: none"
    ));
    assert!(listed.contains(
        "  acceptance:   https://bcssksz-services-acpt.smals.be/connectors/webservice/KSZBCSSWebServiceConnectorPort"
    ));
    let out = bcss(&["services", "list", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 6);
    assert_eq!(json[5]["name"], "HealthCareInsurance");
    assert_eq!(json[5]["legal_context"]["kind"], "closed");
    assert_eq!(
        json[5]["legal_context"]["values"].as_array().unwrap().len(),
        10
    );
    let out = bcss(&["services", "list", "--config", "no-such-bcss.toml"]);
    assert_eq!(out.status.code(), Some(2));
}

/// HealthCareInsurance's WSDL files as BCSS publishes them, with the XSDs of its bundle
/// beside them, import as the built-in descriptor (but for the name and origin).
#[test]
fn healthcare_insurance_imports_as_its_builtin_descriptor() {
    let Some(shared) = shared_contracts() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for env in ["test", "acpt", "prod"] {
        let to = dir.path().join(format!("HealthCareInsurance-{env}.wsdl"));
        std::fs::copy(
            shared.join(format!("wsdl/{env}/2013HealthCareInsurance.wsdl")),
            &to,
        )
        .unwrap();
        files.push(to);
    }
    for xsd in [
        "CommonV3.xsd",
        "HealthCareInsuranceTypesV1.xsd",
        "HealthCareInsuranceV1.xsd",
    ] {
        std::fs::copy(
            shared.join("kszbcss/healthcare_insurance").join(xsd),
            dir.path().join(xsd),
        )
        .unwrap();
    }
    let imported = import(&files, &ImportOptions::default()).unwrap();
    assert!(imported.notes.is_empty(), "{:?}", imported.notes);
    let builtin = bcss::services::health_care_insurance::descriptor();
    assert_eq!(
        imported.descriptor,
        ServiceDescriptor {
            origin: imported.descriptor.origin.clone(),
            ..builtin
        }
    );
}

/// Requests shaped as the fictitious service's schema says validate against it (with
/// BCSS's CommonV3.xsd beside it), and a legalContext outside its list does not.
#[test]
fn fictitious_requests_validate_against_their_xsds() {
    let Some(shared) = shared_contracts() else {
        return;
    };
    if Command::new("xmllint").arg("--version").output().is_err() {
        println!("SKIP: xmllint not found");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        contracts().join("fictitious_allowances/FictitiousAllowancesTypesV1.xsd"),
        dir.path().join("FictitiousAllowancesTypesV1.xsd"),
    )
    .unwrap();
    std::fs::copy(
        shared.join("kszbcss/be/fgov/kszbcss/types/common/CommonV3.xsd"),
        dir.path().join("CommonV3.xsd"),
    )
    .unwrap();
    // The element declarations live in the WSDL: a schema of their own for xmllint.
    let wsdl_text = std::fs::read_to_string(wsdl("test")).unwrap();
    let start = wsdl_text.find("<xsd:schema").unwrap();
    let end = wsdl_text.find("</xsd:schema>").unwrap() + "</xsd:schema>".len();
    let schema = wsdl_text[start..end].replace(
        "<xsd:schema ",
        "<xsd:schema xmlns:fa=\"http://kszbcss.fgov.be/types/FictitiousAllowances/v1\" \
         xmlns:common=\"http://kszbcss.fgov.be/types/common/v3\" ",
    );
    let schema_path = dir.path().join("interface.xsd");
    std::fs::write(&schema_path, schema).unwrap();
    let header = "<informationCustomer><ticket>0190a0b2-7c3e-7d51-9f00-5a1b2c3d4e5f</ticket>\
                  <timestampSent>2025-06-02T09:30:00.000Z</timestampSent>\
                  <customerIdentification><cbeNumber>0212344876</cbeNumber>\
                  </customerIdentification></informationCustomer>";
    let consult = format!(
        "<ns:consultAllowancesRequest xmlns:ns=\"{NAMESPACE}\">{header}\
         <legalContext>social inquiry</legalContext><criteria><ssin>68070100188</ssin>\
         <period><beginDate>2025-01-01</beginDate></period></criteria>\
         </ns:consultAllowancesRequest>"
    );
    let declare = format!(
        "<ns:declareAllowanceRequest xmlns:ns=\"{NAMESPACE}\">{header}\
         <legalContext>allowance management</legalContext><declaration>\
         <beneficiary>85031204246</beneficiary><allowance><kind>HEATING</kind>\
         <monthlyAmount>125.50</monthlyAmount><period><beginDate>2025-01-01</beginDate>\
         </period></allowance></declaration></ns:declareAllowanceRequest>"
    );
    let refused = consult.replace("social inquiry", "PCSA:SOCIAL_INQUIRY");
    for (name, xml, valid) in [
        ("consult", &consult, true),
        ("declare", &declare, true),
        ("refused", &refused, false),
    ] {
        let path = dir.path().join(format!("{name}.xml"));
        std::fs::write(&path, xml).unwrap();
        let out = Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(&schema_path)
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(
            out.status.success(),
            valid,
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
