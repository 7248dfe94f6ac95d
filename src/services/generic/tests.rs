//! Unit tests of generic requests: parsing the business part, subjects, shapes.

use super::*;
use crate::services::{manage_access, retrieve_ti_groups, test_connection};

#[test]
fn a_fragment_of_several_elements_is_read_in_order() {
    let elements = parse_fragment("<?xml version=\"1.0\"?>\n<a>1</a>\n<b x=\"y\"/>").unwrap();
    let names: Vec<&str> = elements.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert!(parse_fragment("<a>").is_err());
    assert!(parse_fragment("text <a/>").is_err());
    assert!(parse_fragment("<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>").is_err());
}

#[test]
fn declared_subjects_are_required_and_checked() {
    let ti = retrieve_ti_groups::service();
    let r = GenericRequest::new(
        ti,
        "retrieveTI",
        "<searchInformation><ssin> 68070100188 </ssin></searchInformation>",
    )
    .unwrap();
    assert_eq!(r.subjects().len(), 1);
    let missing = GenericRequest::new(ti, "retrieveTI", "<searchInformation/>").unwrap_err();
    assert!(
        matches!(missing, RequestError::Subject { ref path, .. } if path == "searchInformation/ssin"),
        "{missing}"
    );
    let bad = GenericRequest::new(
        ti,
        "retrieveTI",
        "<searchInformation><ssin>68070100189</ssin></searchInformation>",
    )
    .unwrap_err();
    assert!(bad.to_string().contains("valid SSIN"), "{bad}");
    assert!(!bad.to_string().contains("68070100189"), "{bad}");
}

#[test]
fn undeclared_subjects_are_every_ssin_in_the_business_part() {
    let tc = test_connection::service();
    let r = GenericRequest::new(
        tc,
        "sendTestMessage",
        "<echo>68070100188</echo><other><deep>75411205787</deep><n>12345678901</n></other>",
    )
    .unwrap();
    let found: Vec<&str> = r.subjects.iter().map(Ssin::reveal).collect();
    assert_eq!(found, ["68070100188", "75411205787"]);
}

#[test]
fn bcss_writes_the_v3_header_itself() {
    let e = GenericRequest::new(
        retrieve_ti_groups::service(),
        "retrieveTI",
        "<legalContext>x</legalContext><searchInformation><ssin>68070100188</ssin></searchInformation>",
    )
    .unwrap_err();
    assert!(e.to_string().contains("legalContext"), "{e}");
}

#[test]
fn a_payload_shared_with_a_write_is_refused() {
    let manage = manage_access::service();
    let payload = format!(
        "<ManageAccessRequest xmlns=\"{}\"><SSIN>68070100188</SSIN></ManageAccessRequest>",
        manage.ssdn().unwrap().payload_namespace
    );
    for op in ["list", "register", "unregister"] {
        let e = GenericRequest::new(manage, op, payload.as_str()).unwrap_err();
        assert!(e.to_string().contains("typed request"), "{op}: {e}");
    }
}

#[test]
fn unknown_operations_name_the_known_ones() {
    let e = GenericRequest::new(test_connection::service(), "ping", "<echo>x</echo>").unwrap_err();
    assert_eq!(
        e.to_string(),
        "TestConnection has no operation \"ping\"; its operations: sendTestMessage"
    );
}
