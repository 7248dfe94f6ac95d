//! The common-v3 family: status codes, the status-to-outcome mapping, and hostile
//! replies, for every common-v3 service.

mod v3_support;

use bcss::error::ErrorKind;
use bcss::services::health_care_insurance::{
    DesiredData, HciOperation, HealthCareInsurance, ReferenceDate,
};
use bcss::services::retrieve_ti_groups::RetrieveTi;
use bcss::services::test_connection::TestConnection;
use bcss::services::{Outcome, ServiceRequest};
use bcss::soap::{Limits, SoapError};
use bcss::v3::{StatusCode, V3Error};
use bcss::xml::XmlError;
use v3_support::{MARC, envelope, fixture, ssin};

#[test]
fn every_documented_code_is_known() {
    let doc =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/docs/bcss-protocol.md");
    let Ok(text) = std::fs::read_to_string(&doc) else {
        println!("SKIP: ../shared/docs/bcss-protocol.md missing");
        return;
    };
    let codes: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter(|rest| rest.starts_with("MSG"))
        .filter_map(|rest| rest.get(..8))
        .collect();
    assert_eq!(codes.len(), 15, "{codes:?}");
    for code in codes {
        let parsed = StatusCode::parse(code);
        assert!(parsed.is_known(), "{code} has no variant");
        assert_eq!(parsed.as_str(), code);
        assert_eq!(
            parsed.is_retryable(),
            ["MSG00001", "MSG00002", "MSG00020"].contains(&code),
            "{code}"
        );
    }
    assert_eq!(StatusCode::KNOWN.len(), 15);
}

/// A RetrieveTIGroups reply for Marc with this status and, when `data`, his record.
fn rtg_reply(value: &str, code: &str, data: bool) -> Vec<u8> {
    let rrn = if data {
        r#"<rrn_it_implicit><r:NationalNumber xmlns:r="http://www.ibz.rrn.fgov.be/XSD/xm25/rn25Schema"><r:NationalNumber><r:NationalNumber>68070100188</r:NationalNumber><r:Date><r:Century>19</r:Century><r:Year>68</r:Year><r:Month>07</r:Month><r:Day>01</r:Day></r:Date><r:Sex>1</r:Sex></r:NationalNumber></r:NationalNumber></rrn_it_implicit>"#
    } else {
        ""
    };
    envelope(&format!(
        r#"<ns2:retrieveTIGroupsResponse xmlns:ns2="http://kszbcss.fgov.be/intf/RetrieveTIGroupsService/v2"><informationCBSS><ticketCBSS>3f1c9a52-6d0e-4b7a-9c1e-2a5b8d7e4f10</ticketCBSS></informationCBSS><searchInformation><ssin>68070100188</ssin></searchInformation><status><value>{value}</value><code>{code}</code></status>{rrn}</ns2:retrieveTIGroupsResponse>"#
    ))
}

fn rtg_outcome(value: &str, code: &str, data: bool) -> (Outcome, Result<(), String>) {
    let d = RetrieveTi::new(ssin(MARC)).unwrap().decode(
        200,
        &rtg_reply(value, code, data),
        &Limits::default(),
    );
    assert_eq!(
        d.stamp.ticket.as_deref(),
        Some("3f1c9a52-6d0e-4b7a-9c1e-2a5b8d7e4f10"),
        "the stamp is kept whatever the outcome"
    );
    (
        d.outcome,
        d.result.map(|_| ()).map_err(|e| format!("{e:?} / {e}")),
    )
}

#[test]
fn status_to_outcome() {
    let code = |c: &str| c.to_string();
    assert_eq!(
        rtg_outcome("DATA_FOUND", "MSG00000", true),
        (Outcome::Ok, Ok(()))
    );
    // No data: the value NO_DATA_FOUND, or the code MSG00100, whichever comes.
    for (value, c) in [
        ("NO_DATA_FOUND", "MSG00100"),
        ("NO_DATA_FOUND", "MSG00000"),
        ("DATA_FOUND", "MSG00100"),
        ("NO_RESULT", "MSG00100"),
    ] {
        let (outcome, result) = rtg_outcome(value, c, false);
        assert_eq!(outcome, Outcome::NoData { code: code(c) }, "{value} {c}");
        assert!(result.unwrap_err().contains("NoData"));
    }
    // Business errors, retryable or not; unknown codes kept.
    for c in ["MSG00001", "MSG00005", "MSG00013", "MSG77777"] {
        let (outcome, result) = rtg_outcome("NO_RESULT", c, false);
        assert_eq!(outcome, Outcome::BusinessError { code: code(c) });
        assert!(result.unwrap_err().contains(c));
    }
    // Data with a code other than MSG00000 is data with a warning.
    assert_eq!(
        rtg_outcome("DATA_FOUND", "MSG00006", true).0,
        Outcome::Warning {
            code: code("MSG00006")
        }
    );
    // A status value outside the contract, or no status, cannot be trusted.
    for reply in [
        rtg_reply("MAYBE", "MSG00000", true),
        envelope(
            r#"<ns2:retrieveTIGroupsResponse xmlns:ns2="http://kszbcss.fgov.be/intf/RetrieveTIGroupsService/v2"><searchInformation><ssin>68070100188</ssin></searchInformation></ns2:retrieveTIGroupsResponse>"#,
        ),
    ] {
        let d = RetrieveTi::new(ssin(MARC))
            .unwrap()
            .decode(200, &reply, &Limits::default());
        assert!(matches!(d.outcome, Outcome::Undecodable { .. }));
        assert!(matches!(
            d.result.as_ref().map_err(bcss::Error::kind),
            Err(ErrorKind::V3(V3Error::Malformed { .. }))
        ));
    }
    // DATA_FOUND without the Register's data is not silently an empty person.
    assert!(matches!(
        rtg_outcome("DATA_FOUND", "MSG00000", false).0,
        Outcome::Undecodable { .. }
    ));
}

/// Decode `bytes` with each common-v3 service; every one must fail cleanly.
fn each_service(bytes: &[u8], limits: &Limits) -> Vec<(Outcome, bcss::Error)> {
    let tc = TestConnection::new("ping").unwrap();
    let rtg = RetrieveTi::new(ssin(MARC)).unwrap();
    let hci = HealthCareInsurance::new(
        HciOperation::ConsultMaf,
        ssin(MARC),
        ReferenceDate::Today,
        DesiredData::all(),
    )
    .unwrap();
    let a = tc.decode(200, bytes, limits);
    let b = rtg.decode(200, bytes, limits);
    let c = hci.decode(200, bytes, limits);
    vec![
        (a.outcome, a.result.unwrap_err()),
        (b.outcome, b.result.unwrap_err()),
        (c.outcome, c.result.unwrap_err()),
    ]
}

#[test]
fn hostile_replies_are_errors() {
    let limits = Limits::default();
    let laughs = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>&lol2;</soapenv:Body></soapenv:Envelope>"#;
    for (outcome, e) in each_service(laughs, &limits) {
        assert!(matches!(outcome, Outcome::Undecodable { .. }));
        assert!(matches!(
            e.kind(),
            ErrorKind::Soap(SoapError::Xml(XmlError::Doctype { .. }))
        ));
    }
    let deep = envelope(&"<a>".repeat(100_000));
    for (_, e) in each_service(&deep, &limits) {
        assert!(matches!(
            e.kind(),
            ErrorKind::Soap(SoapError::Xml(XmlError::TooDeep { .. }))
        ));
    }
    let mut invalid = fixture("RetrieveTIGroups", "ok_marc");
    let at = invalid.windows(6).position(|w| w == b"FICTIF").unwrap();
    invalid[at] = 0xff;
    for (_, e) in each_service(&invalid, &limits) {
        assert!(matches!(
            e.kind(),
            ErrorKind::Soap(SoapError::Xml(XmlError::Encoding { .. }))
        ));
    }
    let small = Limits {
        max_bytes: 1024,
        ..Limits::default()
    };
    for (_, e) in each_service(&fixture("RetrieveTIGroups", "ok_marc"), &small) {
        assert!(matches!(
            e.kind(),
            ErrorKind::Soap(SoapError::Xml(XmlError::TooLarge { .. }))
        ));
    }
    for (_, e) in each_service(b"", &limits) {
        assert!(matches!(e.kind(), ErrorKind::Soap(SoapError::Xml(_))));
    }
    let soap12 =
        br#"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>"#;
    for (_, e) in each_service(soap12, &limits) {
        assert!(matches!(
            e.kind(),
            ErrorKind::Soap(SoapError::NotAnEnvelope { .. })
        ));
    }
    // Right names, wrong namespaces everywhere (not SOAP's envelope namespace).
    let wrong =
        br#"<soapenv:Envelope xmlns:soapenv="urn:not-soap"><soapenv:Body/></soapenv:Envelope>"#;
    for (_, e) in each_service(wrong, &limits) {
        assert!(matches!(
            e.kind(),
            ErrorKind::Soap(SoapError::NotAnEnvelope { .. })
        ));
    }
}

/// `n` attributes (`a0="x"`...) or, with `xmlns`, `n` namespace declarations.
fn many_attributes(n: usize, xmlns: bool) -> String {
    (0..n)
        .map(|i| {
            if xmlns {
                format!(" xmlns:p{i}=\"urn:p{i}\"")
            } else {
                format!(" a{i}=\"x\"")
            }
        })
        .collect()
}

/// RUSTSEC-2026-0194 and -0195 reached through a reply: 100,000 attributes, or 100,000
/// namespace declarations, on `informationCustomer`. Both are refused by the per-element
/// caps, before anything is kept or resolved (the cost is linear: each attribute is
/// looked at once, up to the cap).
#[test]
fn a_hundred_thousand_attributes_or_namespace_declarations_are_refused() {
    let ok = String::from_utf8(fixture("RetrieveTIGroups", "ok_marc")).unwrap();
    for xmlns in [false, true] {
        let hostile = ok.replacen(
            "<informationCustomer>",
            &format!("<informationCustomer{}>", many_attributes(100_000, xmlns)),
            1,
        );
        assert!(hostile.len() > 1_000_000);
        for (outcome, e) in each_service(hostile.as_bytes(), &Limits::default()) {
            assert!(
                matches!(outcome, Outcome::Undecodable { .. }),
                "{outcome:?}"
            );
            match (xmlns, e.kind()) {
                (
                    false,
                    ErrorKind::Soap(SoapError::Xml(XmlError::TooManyAttributes {
                        limit: 64, ..
                    })),
                ) => {}
                (
                    true,
                    ErrorKind::Soap(SoapError::Xml(XmlError::TooManyNamespaces {
                        limit: 32, ..
                    })),
                ) => {}
                _ => panic!("{e:?}"),
            }
        }
    }
    // Up to the caps, the same reply decodes.
    for (n, xmlns) in [(64, false), (32, true)] {
        let busy = ok.replacen(
            "<informationCustomer>",
            &format!("<informationCustomer{}>", many_attributes(n, xmlns)),
            1,
        );
        let d =
            RetrieveTi::new(ssin(MARC))
                .unwrap()
                .decode(200, busy.as_bytes(), &Limits::default());
        assert!(d.result.is_ok(), "{:?}", d.result.err());
    }
}

#[test]
fn an_error_page_is_reported_with_its_http_status() {
    let html = b"<html><head><title>503 Service Unavailable</title></head><body><hr></body></html>";
    let d = RetrieveTi::new(ssin(MARC))
        .unwrap()
        .decode(503, html, &Limits::default());
    assert!(matches!(d.outcome, Outcome::Undecodable { .. }));
    match d.result.unwrap_err().into_kind() {
        ErrorKind::V3(V3Error::HttpStatus { status, .. }) => assert_eq!(status, 503),
        other => panic!("{other:?}"),
    }
}

#[test]
fn malformed_register_data_is_an_error_not_a_panic() {
    let cases = [
        // Not a valid SSIN in IT000.
        (
            "<r:NationalNumber>68070100189</r:NationalNumber>",
            "check digits",
        ),
        // Month 13.
        ("<r:Month>13</r:Month>", "out of range"),
        // A gender the schema does not know.
        ("<r:Sex>3</r:Sex>", "neither 1 nor 2"),
    ];
    for (replacement, reason) in cases {
        let tag = &replacement[..replacement.find('>').unwrap() + 1];
        let original = match tag {
            "<r:NationalNumber>" => "<r:NationalNumber>68070100188</r:NationalNumber>",
            "<r:Month>" => "<r:Month>07</r:Month>",
            _ => "<r:Sex>1</r:Sex>",
        };
        let reply = String::from_utf8(rtg_reply("DATA_FOUND", "MSG00000", true))
            .unwrap()
            .replacen(original, replacement, 1);
        let d =
            RetrieveTi::new(ssin(MARC))
                .unwrap()
                .decode(200, reply.as_bytes(), &Limits::default());
        let err = d.result.unwrap_err().to_string();
        assert!(err.contains(reason), "{replacement}: {err}");
        assert!(matches!(d.outcome, Outcome::Undecodable { .. }));
    }
}
