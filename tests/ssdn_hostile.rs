//! Hostile and broken SSDN replies give clear errors, never panics: the fixtures in
//! `fixtures/replies/ssdn/hostile/`, plus generated ones (deep nesting, node limits on
//! the inner document, non-SOAP bodies, random mutations).

mod ssdn_support;

use bcss::error::ErrorKind;
use bcss::services::identify_person::{IdentifyPersonRequest, IdentifyPersonResponse};
use bcss::services::manage_access::ManageAccessRequest;
use bcss::services::perform_investigation::PerformInvestigationRequest;
use bcss::services::{Decoded, Outcome, ServiceRequest};
use bcss::soap::{Limits, SoapError};
use bcss::ssdn::SsdnError;
use bcss::xml::XmlError;
use chrono::NaiveDate;
use proptest::prelude::*;
use ssdn_support::*;

fn identify() -> IdentifyPersonRequest {
    IdentifyPersonRequest::by_ssin(ssin(MARC))
}

/// Decode with IdentifyPerson and return the SSDN error, checking that the outcome says
/// the reply was undecodable.
fn ssdn_error(bytes: &[u8], limits: &Limits) -> (Decoded<IdentifyPersonResponse>, SsdnError) {
    let d = identify().decode(200, bytes, limits);
    assert!(
        matches!(d.outcome, Outcome::Undecodable { .. }),
        "{:?}",
        d.outcome
    );
    let e = match d.result.as_ref().map_err(bcss::Error::kind) {
        Err(ErrorKind::Ssdn(e)) => e.clone(),
        other => panic!("expected an SSDN error, got {other:?}"),
    };
    (d, e)
}

fn hostile(case: &str) -> SsdnError {
    ssdn_error(&fixture("hostile", case), &Limits::default()).1
}

fn cdata_envelope(inner: &str) -> Vec<u8> {
    format!(
        r#"<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><ns2:xmlString xmlns:ns2="http://ksz-bcss.fgov.be/connectors/WebServiceConnector"><![CDATA[{inner}]]></ns2:xmlString></S:Body></S:Envelope>"#
    )
    .into_bytes()
}

#[test]
fn malformed_inner_documents() {
    assert!(matches!(
        hostile("malformed_inner"),
        SsdnError::InnerDocument(XmlError::Malformed { .. })
    ));
    assert!(matches!(
        hostile("inner_not_xml"),
        SsdnError::InnerDocument(XmlError::Malformed { .. })
    ));
    assert!(matches!(
        hostile("empty_xmlstring"),
        SsdnError::EmptyDocument
    ));
    let e = hostile("malformed_inner");
    assert!(e.to_string().contains("inside xmlString"), "{e}");
}

#[test]
fn inner_dtd_and_entities_are_refused() {
    assert!(matches!(
        hostile("inner_doctype"),
        SsdnError::InnerDocument(XmlError::Doctype { .. })
    ));
    match hostile("inner_undeclared_entity") {
        SsdnError::InnerDocument(XmlError::Entity { name, .. }) => assert_eq!(name, "nbsp"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn wrong_namespaces() {
    match hostile("inner_wrong_namespace") {
        SsdnError::UnexpectedRoot { found } => {
            assert_eq!(
                found,
                "{http://www.ksz-bcss.fgov.be/XSD/SSDN/Services}SSDNReply"
            )
        }
        other => panic!("{other:?}"),
    }
    match hostile("summary_wrong_namespace") {
        SsdnError::Missing { element } => assert_eq!(element, "ReplyContext/ResultSummary"),
        other => panic!("{other:?}"),
    }
    match hostile("xmlstring_wrong_namespace") {
        SsdnError::NoXmlString { found } => assert!(found.contains("OtherConnector"), "{found}"),
        other => panic!("{other:?}"),
    }
    let (d, e) = ssdn_error(
        &fixture("hostile", "payload_wrong_namespace"),
        &Limits::default(),
    );
    match e {
        SsdnError::UnexpectedPayload { expected, found } => {
            assert!(
                expected.ends_with("IdentifyPerson}IdentifyPersonReply"),
                "{expected}"
            );
            assert!(
                found.ends_with("ManageAccess}IdentifyPersonReply"),
                "{found}"
            );
        }
        other => panic!("{other:?}"),
    }
    // The inner document was read: BCSS's ticket is kept for the journal.
    assert_eq!(d.stamp.ticket.as_deref(), Some("HOSTILE0002"));
}

#[test]
fn unexpected_content() {
    match hostile("other_service") {
        SsdnError::UnexpectedService { expected, found } => {
            assert_eq!(
                (expected.as_str(), found.as_str()),
                ("OCMWCPASIdentifyPerson", "OCMWCPASManageAccess")
            )
        }
        other => panic!("{other:?}"),
    }
    let e = hostile("invalid_ssin");
    assert!(
        matches!(&e, SsdnError::Invalid { element, .. } if element == "Basic/SocialSecurityUser"),
        "{e:?}"
    );
    assert!(
        !e.to_string().contains("68070100189"),
        "the value is not repeated: {e}"
    );
    let e = hostile("bad_ok");
    assert!(
        matches!(&e, SsdnError::Invalid { element, .. } if element == "ReplyContext/ResultSummary/@ok"),
        "{e:?}"
    );
}

/// Every hostile fixture is an error for every SSDN service, never a panic or a success.
#[test]
fn every_service_refuses_every_hostile_fixture() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/replies/ssdn/hostile");
    let manage = ManageAccessRequest::list(ssin(ANNA))
        .period(NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(), None)
        .sis_card_number("1234567890")
        .build()
        .unwrap();
    let investigate = PerformInvestigationRequest::builder(ssin(ANNA))
        .all_groups()
        .build()
        .unwrap();
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let limits = Limits::default();
        assert!(identify().decode(200, &bytes, &limits).result.is_err());
        assert!(manage.decode(200, &bytes, &limits).result.is_err());
        assert!(investigate.decode(200, &bytes, &limits).result.is_err());
        seen += 1;
    }
    assert!(seen >= 12, "{seen} hostile fixtures");
}

#[test]
fn deep_nesting_in_the_inner_document() {
    let deep = format!(
        r#"<SSDNReply xmlns="http://www.ksz-bcss.fgov.be/XSD/SSDN/Service">{}"#,
        "<a>".repeat(100_000)
    );
    let (_, e) = ssdn_error(&cdata_envelope(&deep), &Limits::default());
    assert!(
        matches!(e, SsdnError::InnerDocument(XmlError::TooDeep { .. })),
        "{e:?}"
    );
}

/// The limits apply to the second parse too: the envelope holds few nodes (the inner
/// document is one text node), the inner document many.
#[test]
fn limits_apply_to_the_inner_document() {
    let inner = format!(
        r#"<SSDNReply xmlns="http://www.ksz-bcss.fgov.be/XSD/SSDN/Service">{}</SSDNReply>"#,
        "<x/>".repeat(5_000)
    );
    let limits = Limits {
        max_nodes: 1_000,
        ..Limits::default()
    };
    let (_, e) = ssdn_error(&cdata_envelope(&inner), &limits);
    assert!(
        matches!(e, SsdnError::InnerDocument(XmlError::TooManyNodes { .. })),
        "{e:?}"
    );
}

/// RUSTSEC-2026-0194 and -0195 reached through a reply, in the SSDN document inside
/// `xmlString` and in the envelope around it: 100,000 attributes or 100,000 namespace
/// declarations on one element are refused by the per-element caps.
#[test]
fn a_hundred_thousand_attributes_or_namespace_declarations_are_refused() {
    for xmlns in [false, true] {
        let extra: String = (0..100_000)
            .map(|i| {
                if xmlns {
                    format!(" xmlns:p{i}=\"urn:p{i}\"")
                } else {
                    format!(" a{i}=\"x\"")
                }
            })
            .collect();
        let is_cap = |e: &XmlError| {
            if xmlns {
                matches!(e, XmlError::TooManyNamespaces { limit: 32, .. })
            } else {
                matches!(e, XmlError::TooManyAttributes { limit: 64, .. })
            }
        };
        let inner = format!(
            r#"<SSDNReply xmlns="http://www.ksz-bcss.fgov.be/XSD/SSDN/Service"{extra}></SSDNReply>"#
        );
        let (_, e) = ssdn_error(&cdata_envelope(&inner), &Limits::default());
        assert!(
            matches!(&e, SsdnError::InnerDocument(x) if is_cap(x)),
            "{e:?}"
        );
        let ok = String::from_utf8(fixture("IdentifyPerson", "ok")).unwrap();
        let outer = ok.replacen("<S:Body>", &format!("<S:Body{extra}>"), 1);
        assert_ne!(outer, ok);
        let d = identify().decode(200, outer.as_bytes(), &Limits::default());
        assert!(matches!(d.outcome, Outcome::Undecodable { .. }));
        assert!(
            matches!(d.result.as_ref().map_err(bcss::Error::kind), Err(ErrorKind::Soap(SoapError::Xml(x))) if is_cap(x)),
            "{:?}",
            d.result
        );
    }
}

#[test]
fn broken_envelopes() {
    // An error page from a proxy.
    let d = identify().decode(503, b"<html><body>Service Unavailable", &Limits::default());
    assert!(matches!(d.outcome, Outcome::Undecodable { .. }));
    match d.result.map_err(bcss::Error::into_kind) {
        Err(ErrorKind::Ssdn(SsdnError::HttpStatus { status, cause })) => {
            assert_eq!(status, 503);
            assert!(cause.contains("HTML page"), "{cause}");
        }
        other => panic!("{other:?}"),
    }
    // A truncated envelope with HTTP 200.
    let ok = fixture("IdentifyPerson", "ok");
    let d = identify().decode(200, &ok[..ok.len() / 2], &Limits::default());
    assert!(
        matches!(
            d.result.as_ref().map_err(bcss::Error::kind),
            Err(ErrorKind::Soap(SoapError::Xml(_)))
        ),
        "{:?}",
        d.result
    );
    // Invalid UTF-8.
    let mut bad = ok.clone();
    let at = bad.windows(6).position(|w| w == b"FICTIF").unwrap();
    bad[at] = 0xff;
    let d = identify().decode(200, &bad, &Limits::default());
    assert!(d.result.is_err());
    // A reply over the size cap.
    let small = Limits {
        max_bytes: 1_000,
        ..Limits::default()
    };
    let d = identify().decode(200, &ok, &small);
    assert!(
        matches!(
            d.result.as_ref().map_err(bcss::Error::kind),
            Err(ErrorKind::Soap(SoapError::Xml(XmlError::TooLarge { .. })))
        ),
        "{:?}",
        d.result
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Random byte changes anywhere in a valid reply never panic.
    #[test]
    fn mutated_replies_never_panic(pos in 0usize..100_000, byte in any::<u8>()) {
        for case in ["ok", "warning", "error"] {
            let mut bytes = fixture("IdentifyPerson", case);
            let p = pos % bytes.len();
            bytes[p] = byte;
            let _ = identify().decode(200, &bytes, &Limits::default());
        }
    }

    /// Truncation at any point never panics and never succeeds silently with a different
    /// person.
    #[test]
    fn truncated_replies_never_panic(cut in 0usize..100_000) {
        let bytes = fixture("PerformInvestigation", "ok");
        let cut = cut % bytes.len();
        // Cutting only trailing whitespace (the file's final newline) leaves the whole
        // reply: that is not a truncation.
        prop_assume!(!bytes[cut..].iter().all(u8::is_ascii_whitespace));
        let d = PerformInvestigationRequest::builder(ssin(ANNA))
            .all_groups()
            .build()
            .unwrap()
            .decode(200, &bytes[..cut], &Limits::default());
        prop_assert!(d.result.is_err());
    }
}
