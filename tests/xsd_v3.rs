//! Every common-v3 request the SDK encodes, for each service, operation and variant,
//! validates against BCSS's official XSDs in `../shared/contracts/kszbcss` with
//! `xmllint --schema`; so do the reply fixtures that claim to be what BCSS sends.
//!
//! The test prints `SKIP: ...` and passes when `../shared/contracts` or `xmllint` is
//! missing (a user's fresh clone). CI has both.
//!
//! Where BCSS declares the message elements only inside a WSDL (TestConnection,
//! RetrieveTIGroups), the WSDL's own `<xsd:schema>` is extracted into a temporary file
//! with its `schemaLocation`s made absolute; nothing is copied into the project.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use bcss::ids::{Cbe, ProgramId, Ssin};
use bcss::services::health_care_insurance::{
    DesiredData, HciOperation, HealthCareInsurance, LEGAL_CONTEXTS, ReferenceDate,
};
use bcss::services::retrieve_ti_groups::{Language, RetrieveTi};
use bcss::services::test_connection::TestConnection;
use bcss::services::{RequestHeader, ServiceRequest};
use bcss::soap::{self, Body, Limits};
use bcss::xml::{Element, Node};
use chrono::{NaiveDate, TimeZone, Utc};

const MARC: &str = "68070100188";
const ANNA: &str = "85031204246";
const LINA: &str = "05031512367";
const IVAN: &str = "75411205787";
const OSCAR: &str = "50000000773";
const NOOR: &str = "12090508413";

/// The contracts directory, or `None` (after printing why) when the test must skip.
fn contracts() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/contracts");
    if !dir.join("kszbcss").is_dir() {
        println!("SKIP: ../shared/contracts missing");
        return None;
    }
    if Command::new("xmllint").arg("--version").output().is_err() {
        println!("SKIP: xmllint not found");
        return None;
    }
    Some(dir)
}

struct Schemas {
    _dir: tempfile::TempDir,
    test_connection: PathBuf,
    retrieve_ti: PathBuf,
    health_care: PathBuf,
}

/// Extract the `<xsd:schema>` BCSS embeds in `wsdl`, resolving its imports against
/// `base`, into `out`.
fn schema_from_wsdl(wsdl: &Path, base: &Path, out: &Path) -> PathBuf {
    let text = fs::read_to_string(wsdl).unwrap();
    let start = text.find("<xsd:schema").expect("an xsd:schema in the WSDL");
    let end = start + text[start..].find("</xsd:schema>").unwrap() + "</xsd:schema>".len();
    let mut schema = text[start..end].to_string();
    let open_end = schema.find('>').unwrap();
    if !schema[..open_end].contains("xmlns:xsd=") {
        schema.insert_str(
            "<xsd:schema".len(),
            " xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"",
        );
    }
    let mut rewritten = String::new();
    let mut rest = schema.as_str();
    while let Some(i) = rest.find("schemaLocation=\"") {
        let value_start = i + "schemaLocation=\"".len();
        let value_end = value_start + rest[value_start..].find('"').unwrap();
        let target = base.join(&rest[value_start..value_end]);
        let target = target
            .canonicalize()
            .unwrap_or_else(|e| panic!("{}: {e}", target.display()));
        rewritten.push_str(&rest[..value_start]);
        rewritten.push_str(&target.display().to_string());
        rest = &rest[value_end..];
    }
    rewritten.push_str(rest);
    let doc = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{rewritten}\n");
    fs::write(out, doc).unwrap();
    out.to_path_buf()
}

fn schemas(contracts: &Path) -> Schemas {
    let dir = tempfile::tempdir().unwrap();
    let kszbcss = contracts.join("kszbcss");
    let test_connection = schema_from_wsdl(
        &contracts.join("wsdl/test/TestConnectionService.wsdl"),
        &kszbcss,
        &dir.path().join("TestConnection.xsd"),
    );
    let rtg_dir = kszbcss.join("be/fgov/kszbcss/intf/RetrieveTIGroupsService");
    let retrieve_ti = schema_from_wsdl(
        &rtg_dir.join("RetrieveTIGroupsV2.wsdl"),
        &rtg_dir,
        &dir.path().join("RetrieveTIGroups.xsd"),
    );
    Schemas {
        _dir: dir,
        test_connection,
        retrieve_ti,
        health_care: kszbcss.join("healthcare_insurance/HealthCareInsuranceV1.xsd"),
    }
}

/// Run xmllint on `xml` against `schema`: Ok, or the messages of a failure.
fn xmllint(schema: &Path, name: &str, xml: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{name}.xml"));
    fs::write(
        &file,
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{xml}\n"),
    )
    .unwrap();
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema)
        .arg(&file)
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn assert_valid(schema: &Path, name: &str, xml: &str) {
    if let Err(e) = xmllint(schema, name, xml) {
        panic!("{name} does not validate:\n{e}\n{xml}");
    }
}

/// Assert that xmllint refuses `xml`, naming `reason` (a word of its message).
fn assert_invalid(schema: &Path, name: &str, xml: &str, reason: &str) {
    match xmllint(schema, name, xml) {
        Ok(()) => panic!("{name} validates but must not:\n{xml}"),
        Err(e) => assert!(e.contains(reason), "{name}: expected {reason:?} in:\n{e}"),
    }
}

fn header(legal_context: &str) -> RequestHeader {
    RequestHeader {
        ticket: uuid::Uuid::now_v7(),
        sent_at: Utc
            .with_ymd_and_hms(2024, 5, 17, 9, 30, 0)
            .single()
            .unwrap(),
        organization: Cbe::new("0212344876").unwrap(),
        sector: 17,
        sub_sector: None,
        program: ProgramId::new("00912345673").unwrap(),
        email: "it@cpas-fictiveville.example".to_string(),
        legal_context: legal_context.to_string(),
    }
}

/// The SOAP body's element of an encoded request, serialised on its own.
fn body_of(envelope: &[u8]) -> Element {
    match soap::read(envelope, &Limits::default()).unwrap() {
        Body::Payload(p) => p,
        Body::Fault(f) => panic!("encoded a fault? {f:?}"),
    }
}

fn ssin(s: &str) -> Ssin {
    Ssin::new(s).unwrap()
}

#[test]
fn test_connection_requests_validate() {
    let Some(contracts) = contracts() else { return };
    let s = schemas(&contracts);
    for (i, echo) in ["hello", "ping & <pong> \"é\" ' 漢字", "  padded  "]
        .iter()
        .enumerate()
    {
        let request = TestConnection::new(*echo).unwrap();
        let body = body_of(&request.encode(&header("unused")).unwrap());
        assert_valid(&s.test_connection, &format!("echo{i}"), &body.to_xml());
    }
}

#[test]
fn retrieve_ti_requests_validate() {
    let Some(contracts) = contracts() else { return };
    let s = schemas(&contracts);
    let h = header("PCSA:SOCIAL_INQUIRY");
    let languages = [
        None,
        Some(Language::Nl),
        Some(Language::Fr),
        Some(Language::De),
    ];
    let mut n = 0;
    for person in [MARC, ANNA, LINA, IVAN, OSCAR, NOOR] {
        for language in languages {
            for history in [false, true] {
                let mut request = RetrieveTi::new(ssin(person)).unwrap().with_history(history);
                if let Some(l) = language {
                    request = request.language(l);
                }
                let body = body_of(&request.encode(&h).unwrap());
                assert_valid(
                    &s.retrieve_ti,
                    &format!("rtg-{person}-{language:?}-{history}"),
                    &body.to_xml(),
                );
                n += 1;
            }
        }
    }
    assert_eq!(n, 48);
    // The longest legal context BCSS accepts.
    let body = body_of(
        &RetrieveTi::new(ssin(MARC))
            .unwrap()
            .encode(&header(&"X".repeat(64)))
            .unwrap(),
    );
    assert_valid(&s.retrieve_ti, "rtg-long-context", &body.to_xml());
}

#[test]
fn health_care_insurance_requests_validate() {
    let Some(contracts) = contracts() else { return };
    let s = schemas(&contracts);
    let h = header("social inquiry and financial help");
    let dates = [
        ReferenceDate::Today,
        ReferenceDate::Date(NaiveDate::from_ymd_opt(2023, 12, 31).unwrap()),
        ReferenceDate::Date(NaiveDate::from_ymd_opt(1900, 1, 1).unwrap()),
    ];
    // Every operation with every reference date and everything desired.
    for op in HciOperation::ALL {
        for (i, when) in dates.iter().enumerate() {
            let request =
                HealthCareInsurance::new(op, ssin(ANNA), *when, DesiredData::all()).unwrap();
            let body = body_of(&request.encode(&h).unwrap());
            assert_eq!(body.name, op.request_element());
            assert_valid(
                &s.health_care,
                &format!("{}-{i}", op.name()),
                &body.to_xml(),
            );
        }
    }
    // Each desired-data flag alone, and a mix, for each operation.
    let singles = (0..10).map(|i| {
        let mut d = DesiredData::none();
        let flags = [
            &mut d.insuring_organization,
            &mut d.reimbursement_right,
            &mut d.ct1ct2,
            &mut d.paying_third_party,
            &mut d.maximum_charge,
            &mut d.medical_house,
            &mut d.increased_intervention,
            &mut d.status_complementary_insurance,
            &mut d.global_medical_file,
            &mut d.sfdf_l891,
        ];
        *flags.into_iter().nth(i).unwrap() = true;
        d
    });
    let mix = DesiredData {
        ct1ct2: true,
        maximum_charge: true,
        sfdf_l891: true,
        ..DesiredData::none()
    };
    for (i, desired) in singles.chain([mix]).enumerate() {
        for op in HciOperation::ALL {
            let request =
                HealthCareInsurance::new(op, ssin(NOOR), ReferenceDate::Today, desired).unwrap();
            let body = body_of(&request.encode(&h).unwrap());
            assert_valid(
                &s.health_care,
                &format!("{}-desired{i}", op.name()),
                &body.to_xml(),
            );
        }
    }
    // Every legal context the schema lists, and the other people of the cast.
    for (i, context) in LEGAL_CONTEXTS.iter().enumerate() {
        let request = HealthCareInsurance::new(
            HciOperation::GetInsuranceOrganizationInformations,
            ssin([MARC, LINA, IVAN, OSCAR][i % 4]),
            ReferenceDate::Today,
            DesiredData::all(),
        )
        .unwrap();
        let body = body_of(&request.encode(&header(context)).unwrap());
        assert_valid(&s.health_care, &format!("context{i}"), &body.to_xml());
    }
}

fn without_child(mut e: Element, name: &str) -> Element {
    e.children
        .retain(|n| !matches!(n, Node::Element(c) if c.name == name));
    e
}

fn child_mut<'a>(e: &'a mut Element, path: &[&str]) -> &'a mut Element {
    let mut here = e;
    for step in path {
        here = here
            .children
            .iter_mut()
            .find_map(|n| match n {
                Node::Element(c) if c.name == *step => Some(c),
                _ => None,
            })
            .unwrap();
    }
    here
}

fn replace_text(e: &mut Element, path: &[&str], text: &str) {
    child_mut(e, path).children = vec![Node::Text(text.to_string())];
}

#[test]
fn validation_is_effective() {
    let Some(contracts) = contracts() else { return };
    let s = schemas(&contracts);
    let h = header("PCSA:SOCIAL_INQUIRY");
    let good = body_of(
        &RetrieveTi::new(ssin(MARC))
            .unwrap()
            .language(Language::Nl)
            .encode(&h)
            .unwrap(),
    );
    assert_valid(&s.retrieve_ti, "good", &good.to_xml());

    // legalContext is mandatory since RetrieveTIGroups v2.
    let missing = without_child(good.clone(), "legalContext");
    assert_invalid(
        &s.retrieve_ti,
        "no-context",
        &missing.to_xml(),
        "Expected is one of ( informationCBSS, legalContext )",
    );

    // A language the schema does not list.
    let mut english = good.clone();
    replace_text(&mut english, &["searchInformation", "language"], "en");
    assert_invalid(
        &s.retrieve_ti,
        "english",
        &english.to_xml(),
        "The value 'en' is not an element of the set",
    );

    // An SSIN with serial 000 (check digits valid, SsinType refuses it).
    let mut zero = good.clone();
    replace_text(&mut zero, &["searchInformation", "ssin"], "68070100089");
    assert_invalid(
        &s.retrieve_ti,
        "serial000",
        &zero.to_xml(),
        "[facet 'pattern'] The value '68070100089'",
    );

    // Children qualified with the root's namespace: the schema is unqualified.
    let mut qualified = good.clone();
    for n in &mut qualified.children {
        if let Node::Element(c) = n {
            c.namespace = good.namespace.clone();
            c.prefix = good.prefix.clone();
        }
    }
    assert_invalid(
        &s.retrieve_ti,
        "qualified",
        &qualified.to_xml(),
        "RetrieveTIGroupsService/v2}informationCustomer': This element is not expected",
    );

    // HealthCareInsurance accepts only its listed legal contexts: the schema refuses
    // another, and so does the encoder, before anything is sent.
    let request = HealthCareInsurance::new(
        HciOperation::ConsultMaf,
        ssin(ANNA),
        ReferenceDate::Today,
        DesiredData::all(),
    )
    .unwrap();
    let hci_good = body_of(
        &request
            .encode(&header("check MAF to stop repayment"))
            .unwrap(),
    );
    assert_valid(&s.health_care, "hci-good", &hci_good.to_xml());
    let mut hci_bad = hci_good.clone();
    replace_text(&mut hci_bad, &["legalContext"], "PCSA:SOCIAL_INQUIRY");
    assert_invalid(
        &s.health_care,
        "hci-context",
        &hci_bad.to_xml(),
        "The value 'PCSA:SOCIAL_INQUIRY' is not an element of the set",
    );
    assert!(request.encode(&header("PCSA:SOCIAL_INQUIRY")).is_err());
    // temporalCriteria is a choice: both today and a date is invalid.
    let mut both = hci_good.clone();
    child_mut(&mut both, &["criterion", "temporalCriteria"])
        .push(Element::new("date").with_text("2024-01-01"));
    assert_invalid(
        &s.health_care,
        "hci-both",
        &both.to_xml(),
        "Element 'date': This element is not expected",
    );

    // A TestConnection request with informationCustomer, which v1 does not have.
    let tc = body_of(&TestConnection::new("x").unwrap().encode(&h).unwrap());
    let mut tc_bad = tc.clone();
    tc_bad
        .children
        .insert(0, Node::Element(bcss::v3::information_customer(&h)));
    assert_valid(&s.test_connection, "tc-good", &tc.to_xml());
    assert_invalid(
        &s.test_connection,
        "tc-bad",
        &tc_bad.to_xml(),
        "Expected is ( echo )",
    );
}

fn fixture(service: &str, case: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/replies/v3")
        .join(service)
        .join(format!("{case}.xml"));
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The reply's payload, or the CBSSFault inside its SOAP fault.
fn reply_element(bytes: &[u8]) -> Element {
    match soap::read(bytes, &Limits::default()).unwrap() {
        Body::Payload(p) => p,
        Body::Fault(f) => f.detail.unwrap().elements().next().unwrap().clone(),
    }
}

#[test]
fn reply_fixtures_are_what_bcss_sends() {
    let Some(contracts) = contracts() else { return };
    let s = schemas(&contracts);
    let cases: [(&str, &Path, &[&str]); 3] = [
        ("TestConnection", &s.test_connection, &["ok"]),
        (
            "RetrieveTIGroups",
            &s.retrieve_ti,
            &[
                "ok_marc",
                "ok_oscar_deceased",
                "warning_lina",
                "no_data",
                "status_business_error",
                "unknown_code",
                "fault_detail",
            ],
        ),
        (
            "HealthCareInsurance",
            &s.health_care,
            &[
                "get_ok_marc",
                "consult_holder_code_noor",
                "no_right_oscar",
                "warning_lina",
                "no_data_ivan",
                "unknown_code",
                "fault_detail",
            ],
        ),
    ];
    for (service, schema, names) in cases {
        for name in names {
            let element = reply_element(&fixture(service, name));
            assert_valid(schema, &format!("{service}-{name}"), &element.to_xml());
        }
    }
    // The fixtures with extra elements BCSS may add are, as intended, not schema-valid.
    let extra = reply_element(&fixture("RetrieveTIGroups", "ok_anna_history"));
    assert_invalid(
        &s.retrieve_ti,
        "anna",
        &extra.to_xml(),
        "Element 'serverId': This element is not expected",
    );
}
