//! Every SSDN request the SDK encodes validates against BCSS's official XSDs in
//! `../shared/contracts/ssdn` with `xmllint --schema`.
//!
//! The inner `SSDNRequest` (the text of `<xmlString>`) is validated against a small wrapper
//! schema that imports the SSDN Service schema *and* the service's Request schema, so
//! that the `ServiceRequest`'s lax `xs:any` payload is validated too (a lax wildcard is
//! validated when its element's declaration is loaded). The payload alone is also
//! validated against the Request schema, where its root must be declared.
//!
//! When `../shared/contracts` or `xmllint` is missing (a user's fresh clone), each test
//! prints a SKIP line and passes.

mod ssdn_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use bcss::services::ServiceRequest;
use bcss::services::identify_person::{self, IdentifyPersonRequest, PersonData, PhoneticCriteria};
use bcss::services::manage_access::{self, ManageAccessRequest, ProofPersonData, Register};
use bcss::services::perform_investigation::{self, DataGroups, PerformInvestigationRequest};
use bcss::ssdn::{self, Gender, IncompleteDate};
use bcss::xml::{self, Limits};
use chrono::NaiveDate;
use ssdn_support::*;

/// A service's Request schema, relative to `ssdn/OCMW_CPAS`, and its namespace.
struct Schema {
    request_xsd: &'static str,
    namespace: &'static str,
    payload: &'static str,
}

const IDENTIFY: Schema = Schema {
    request_xsd: "IdentifyPerson/IdentifyPersonRequest.xsd",
    namespace: identify_person::NAMESPACE,
    payload: "IdentifyPersonRequest",
};
const MANAGE: Schema = Schema {
    request_xsd: "ManageAccess/ManageAccessRequest.xsd",
    namespace: manage_access::NAMESPACE,
    payload: "ManageAccessRequest",
};
// NamespaceRoot.xsd of PerformInvestigation includes a misspelled file: import the
// Request schema directly.
const INVESTIGATE: Schema = Schema {
    request_xsd: "PerformInvestigation/PerformInvestigationRequest.xsd",
    namespace: perform_investigation::NAMESPACE,
    payload: "PerformInvestigationRequest",
};

struct Validator {
    ssdn: PathBuf,
    dir: tempfile::TempDir,
}

impl Validator {
    /// `None` (after printing why) when the contracts or xmllint are missing.
    fn new() -> Option<Validator> {
        let contracts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/contracts");
        let ssdn = contracts.join("ssdn");
        if !ssdn.join("Service/SSDNRequest.xsd").is_file() {
            println!(
                "SKIP: ../shared/contracts missing ({} not found); SSDN requests not validated",
                ssdn.display()
            );
            return None;
        }
        if Command::new("xmllint").arg("--version").output().is_err() {
            println!(
                "SKIP: xmllint not found (apt-get install libxml2-utils); SSDN requests not validated"
            );
            return None;
        }
        Some(Validator {
            ssdn: ssdn.canonicalize().unwrap(),
            dir: tempfile::tempdir().unwrap(),
        })
    }

    fn wrapper(&self, schema: &Schema) -> PathBuf {
        let path = self
            .dir
            .path()
            .join(format!("{}.wrapper.xsd", schema.payload));
        let text = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:import namespace="{service_ns}" schemaLocation="{ssdn}/Service/SSDNRequest.xsd"/>
  <xs:import namespace="{payload_ns}" schemaLocation="{ssdn}/OCMW_CPAS/{request}"/>
</xs:schema>
"#,
            service_ns = ssdn::SERVICE_NS,
            ssdn = self.ssdn.display(),
            payload_ns = schema.namespace,
            request = schema.request_xsd,
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Run xmllint; `Err(stderr)` when the document does not validate.
    fn xmllint(&self, xsd: &Path, name: &str, document: &str) -> Result<(), String> {
        let file = self.dir.path().join(format!("{name}.xml"));
        std::fs::write(&file, document).unwrap();
        let out = Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(xsd)
            .arg(&file)
            .output()
            .unwrap();
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Validate a whole SSDNRequest document, and its payload alone.
    fn validate(&self, schema: &Schema, name: &str, document: &str) -> Result<(), String> {
        self.xmllint(&self.wrapper(schema), name, document)?;
        let root =
            xml::parse(document.as_bytes(), &Limits::default()).map_err(|e| e.to_string())?;
        let request = root
            .child_ns(ssdn::SERVICE_NS, "ServiceRequest")
            .ok_or("no ServiceRequest")?;
        let payload = request
            .elements()
            .find(|e| e.namespace.as_deref() != Some(ssdn::SERVICE_NS))
            .ok_or("no payload")?;
        if payload.name != schema.payload || payload.namespace.as_deref() != Some(schema.namespace)
        {
            return Err(format!(
                "payload is {}, expected {}",
                payload.name, schema.payload
            ));
        }
        let alone = self.ssdn.join("OCMW_CPAS").join(schema.request_xsd);
        self.xmllint(&alone, &format!("{name}.payload"), &payload.to_xml())
    }
}

/// The SSDN document inside the encoded envelope.
fn inner(request: &impl ServiceRequest) -> String {
    let envelope = request.encode(&header()).unwrap();
    ssdn::xml_string_of(&envelope, &Limits::default()).unwrap()
}

fn date(s: &str) -> IncompleteDate {
    s.parse().unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn check_all(v: &Validator, schema: &Schema, cases: Vec<(&str, String)>) {
    let mut failures = Vec::new();
    for (name, document) in &cases {
        if let Err(e) = v.validate(schema, name, document) {
            failures.push(format!("{name}: {e}\n{document}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    println!("{} {} requests validate", cases.len(), schema.payload);
}

fn identify_cases() -> Vec<(&'static str, String)> {
    let b = IdentifyPersonRequest::builder;
    let full_phonetic = PhoneticCriteria::new("ONBEKEND", date("1950-00-00"))
        .first_name("Oscar")
        .middle_name("Jan")
        .gender(Gender::Male)
        .tolerance(2)
        .maximum(80);
    vec![
        ("ssin", inner(&IdentifyPersonRequest::by_ssin(ssin(MARC)))),
        (
            "ssin_sis",
            inner(
                &b().ssin(ssin(ANNA))
                    .sis_card_number("1234567890")
                    .build()
                    .unwrap(),
            ),
        ),
        (
            "ssin_identity_card",
            inner(
                &b().ssin(ssin(LINA))
                    .identity_card_number("591123456789")
                    .build()
                    .unwrap(),
            ),
        ),
        (
            "ssin_person_data",
            inner(
                &b().ssin(ssin(MARC))
                    .person_data(
                        PersonData::new("FICTIF", date("1968-07-01"))
                            .first_name("Marc")
                            .middle_name("Émile"),
                    )
                    .build()
                    .unwrap(),
            ),
        ),
        (
            "ssin_person_data_incomplete",
            inner(
                &b().ssin(ssin(OSCAR))
                    .person_data(PersonData::new("ONBEKEND", date("1950-00-00")))
                    .build()
                    .unwrap(),
            ),
        ),
        (
            "ssin_all_verifications",
            inner(
                &b().ssin(ssin(IVAN))
                    .sis_card_number("1234567890")
                    .identity_card_number("591123456789")
                    .person_data(PersonData::new("BISNUMMER", date("1975-01-12")))
                    .build()
                    .unwrap(),
            ),
        ),
        (
            "phonetic_minimal",
            inner(
                &b().phonetic(PhoneticCriteria::new("VOORBEELD", date("1985-03-12")))
                    .build()
                    .unwrap(),
            ),
        ),
        (
            "phonetic_month",
            inner(
                &b().phonetic(PhoneticCriteria::new("KIND", date("2012-09-00")).tolerance(1))
                    .build()
                    .unwrap(),
            ),
        ),
        (
            "phonetic_full",
            inner(&b().phonetic(full_phonetic).build().unwrap()),
        ),
    ]
}

#[test]
fn identify_person_requests_validate() {
    let Some(v) = Validator::new() else { return };
    check_all(&v, &IDENTIFY, identify_cases());
}

fn manage_cases() -> Vec<(&'static str, String)> {
    let proof = || ProofPersonData::new("VOORBEELD", date("1985-03-12")).first_name("Anna");
    vec![
        (
            "register",
            inner(
                &ManageAccessRequest::register(ssin(ANNA))
                    .purpose(1)
                    .period(day(2024, 1, 1), Some(day(2024, 12, 31)))
                    .sis_card_number("1234567890")
                    .build()
                    .unwrap(),
            ),
        ),
        (
            "unregister",
            inner(
                &ManageAccessRequest::unregister(ssin(MARC))
                    .purpose(1)
                    .period(day(2024, 6, 1), None)
                    .identity_card_number("591123456789")
                    .build()
                    .unwrap(),
            ),
        ),
        (
            "list_minimal",
            inner(
                &ManageAccessRequest::list(ssin(ANNA))
                    .period(day(2024, 1, 1), None)
                    .person_data(proof())
                    .build()
                    .unwrap(),
            ),
        ),
        (
            "list_full",
            inner(
                &ManageAccessRequest::list(ssin(ANNA))
                    .purpose(1)
                    .period(day(2020, 1, 1), Some(day(2024, 12, 31)))
                    .sector(17)
                    .query_register(Register::All)
                    .sis_card_number("1234567890")
                    .identity_card_number("591123456789")
                    .person_data(proof())
                    .build()
                    .unwrap(),
            ),
        ),
        (
            "list_primary",
            inner(
                &ManageAccessRequest::list(ssin(IVAN))
                    .period(day(2024, 1, 1), None)
                    .query_register(Register::Primary)
                    .person_data(ProofPersonData::new("BISNUMMER", date("1975-01-12")))
                    .build()
                    .unwrap(),
            ),
        ),
    ]
}

#[test]
fn manage_access_requests_validate() {
    let Some(v) = Validator::new() else { return };
    check_all(&v, &MANAGE, manage_cases());
}

fn investigation_cases() -> Vec<(&'static str, String)> {
    let b = || PerformInvestigationRequest::builder(ssin(ANNA));
    let every = DataGroups {
        family_composition: true,
        citizen: true,
        address_history: true,
        wait_register: true,
    };
    vec![
        ("all_groups", inner(&b().all_groups().build().unwrap())),
        ("family", inner(&b().family_composition().build().unwrap())),
        ("citizen", inner(&b().citizen().build().unwrap())),
        (
            "address_history",
            inner(&b().address_history().build().unwrap()),
        ),
        (
            "wait_register",
            inner(&b().wait_register().build().unwrap()),
        ),
        (
            "family_citizen_history",
            inner(
                &b().family_composition()
                    .citizen()
                    .address_history()
                    .build()
                    .unwrap(),
            ),
        ),
        (
            "every_group_named",
            inner(&b().groups(every).build().unwrap()),
        ),
        (
            "bis_number",
            inner(
                &PerformInvestigationRequest::builder(ssin(IVAN))
                    .citizen()
                    .build()
                    .unwrap(),
            ),
        ),
    ]
}

#[test]
fn perform_investigation_requests_validate() {
    let Some(v) = Validator::new() else { return };
    check_all(&v, &INVESTIGATE, investigation_cases());
}

#[test]
fn header_variants_validate() {
    let Some(v) = Validator::new() else { return };
    let mut h = header();
    h.sub_sector = Some(3);
    let envelope = IdentifyPersonRequest::by_ssin(ssin(NOOR))
        .encode(&h)
        .unwrap();
    let document = ssdn::xml_string_of(&envelope, &Limits::default()).unwrap();
    assert!(
        document.contains("<MatrixSubID>3</MatrixSubID>"),
        "{document}"
    );
    v.validate(&IDENTIFY, "sub_sector", &document).unwrap();
}

/// Validation is effective: documents that break the envelope schema, the payload
/// schema (through the lax wildcard), or a simple type are rejected.
#[test]
fn invalid_documents_are_rejected() {
    let Some(v) = Validator::new() else { return };
    let ssin_doc = inner(&IdentifyPersonRequest::by_ssin(ssin(MARC)));
    let phonetic_doc = inner(
        &IdentifyPersonRequest::builder()
            .phonetic(PhoneticCriteria::new("VOORBEELD", date("1985-03-12")).maximum(80))
            .build()
            .unwrap(),
    );
    let manage_doc = manage_cases().remove(0).1;
    let investigate_doc = investigation_cases().remove(1).1;
    let replace = |doc: &str, from: &str, to: &str| {
        assert!(doc.contains(from), "{from} not in {doc}");
        doc.replacen(from, to, 1)
    };
    let cases = [
        (
            &IDENTIFY,
            "unknown payload element",
            replace(&ssin_doc, "<ip:SSIN>", "<ip:Bogus/><ip:SSIN>"),
        ),
        (
            &IDENTIFY,
            "SSIN too short",
            replace(&ssin_doc, "68070100188", "6807010018"),
        ),
        (
            &IDENTIFY,
            "maximum over 80",
            replace(&phonetic_doc, "<ip:Maximum>80<", "<ip:Maximum>81<"),
        ),
        (
            &IDENTIFY,
            "MatrixID missing",
            replace(&ssin_doc, "<MatrixID>17</MatrixID>", ""),
        ),
        (
            &IDENTIFY,
            "bad TimeRequest",
            replace(&ssin_doc, "20240603T140509", "2024-06-03T14:05"),
        ),
        (
            &IDENTIFY,
            "Version not 8 characters",
            replace(&ssin_doc, "<Version>20050930<", "<Version>2005093<"),
        ),
        (
            &MANAGE,
            "bad action",
            replace(&manage_doc, ">REGISTER<", ">DELETE<"),
        ),
        (
            &MANAGE,
            "bad start date",
            replace(&manage_doc, "2024-01-01", "2024-13-01"),
        ),
        (
            &INVESTIGATE,
            "not a boolean",
            replace(&investigate_doc, ">true<", ">yes<"),
        ),
    ];
    for (schema, what, document) in cases {
        // The whole document against the wrapper schema only: payload errors must be
        // caught through the lax wildcard, not just by the payload-alone check.
        let result = v.xmllint(&v.wrapper(schema), "invalid", &document);
        assert!(result.is_err(), "{what}: xmllint accepted\n{document}");
        println!("rejected as expected ({what})");
    }
}
