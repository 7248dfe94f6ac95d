//! TestConnectionService v1: encoding, and decoding the reply fixtures.

mod v3_support;

use bcss::error::ErrorKind;
use bcss::services::test_connection::TestConnection;
use bcss::services::{Outcome, ServiceRequest};
use bcss::soap::{Limits, SoapError};
use bcss::v3::{Severity, StatusCode, V3Error};
use v3_support::{fixture, header};

fn ping() -> TestConnection {
    TestConnection::new("Bonjour BCSS, ici le CPAS de Fictiveville").unwrap()
}

fn decode(
    case: &str,
    http: u16,
) -> bcss::services::Decoded<<TestConnection as ServiceRequest>::Response> {
    ping().decode(http, &fixture("TestConnection", case), &Limits::default())
}

#[test]
fn request_is_the_echo_only() {
    let r = ping();
    assert_eq!(r.service(), bcss::services::test_connection::service());
    assert_eq!(r.operation(), "sendTestMessage");
    assert!(
        bcss::services::test_connection::service()
            .operation_names()
            .contains(&r.operation())
    );
    assert!(r.subjects().is_empty());
    let bytes = r.encode(&header("ignored")).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(
        text,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Header/><soapenv:Body><ns:sendTestMessageRequest xmlns:ns=\"http://kszbcss.fgov.be/intf/TestConnectionServiceService/v1\"><echo>Bonjour BCSS, ici le CPAS de Fictiveville</echo></ns:sendTestMessageRequest></soapenv:Body></soapenv:Envelope>"
    );
    assert!(!text.contains("informationCustomer"));
}

#[test]
fn ok_reply() {
    let d = decode("ok", 200);
    assert_eq!(d.outcome, Outcome::Ok);
    assert_eq!(
        d.stamp.ticket.as_deref(),
        Some("7c0e2b5a-91d4-4f3e-b6a8-0d2f4c9e1a37")
    );
    assert_eq!(
        d.stamp.time_receive.as_deref(),
        Some("2024-05-17T11:30:00.412+02:00")
    );
    assert_eq!(
        d.stamp.time_reply.as_deref(),
        Some("2024-05-17T11:30:00.498+02:00")
    );
    let reply = d.result.unwrap();
    assert!(reply.warnings.is_empty());
    assert_eq!(reply.data.echo, "Bonjour BCSS, ici le CPAS de Fictiveville");
    assert!(reply.data.echo_matches);
    assert_eq!(
        reply.data.ssl_certificate,
        "CN=E0212344876, OU=CPAS de Fictiveville, O=OCMW Fictiefstad, C=BE"
    );
}

#[test]
fn extra_elements_prefixes_and_whitespace() {
    let d = decode("extra_elements", 200);
    assert_eq!(d.outcome, Outcome::Ok);
    assert_eq!(
        d.stamp,
        Default::default(),
        "no informationCBSS in this reply"
    );
    let reply = d.result.unwrap();
    assert_eq!(reply.data.echo, "  spaces & ampersands are kept  ");
    assert!(!reply.data.echo_matches, "a different echo is reported");
    assert_eq!(
        reply.data.ssl_certificate,
        "CN=E0212344876, OU=CPAS de Fictiveville, C=BE"
    );
}

#[test]
fn generic_soap_fault() {
    let d = decode("soap_fault", 500);
    assert_eq!(
        d.outcome,
        Outcome::SoapFault {
            code: "soapenv:Server".to_string()
        }
    );
    match d.result.unwrap_err().into_kind() {
        ErrorKind::Soap(SoapError::Fault(f)) => {
            assert_eq!(f.code_local(), "Server");
            assert_eq!(f.string, "Policy Falsified");
            assert!(f.actor.unwrap().contains("TestConnectionServiceService"));
        }
        other => panic!("expected a SOAP fault, got {other:?}"),
    }
}

#[test]
fn cbss_fault() {
    let d = decode("cbss_fault", 500);
    assert_eq!(
        d.outcome,
        Outcome::BusinessError {
            code: "MSG00014".to_string()
        }
    );
    assert_eq!(
        d.stamp.ticket.as_deref(),
        Some("0b7d4e21-3c5f-4a6e-8d90-1f2a3b4c5d6e")
    );
    match d.result.unwrap_err().into_kind() {
        ErrorKind::V3(V3Error::Fault {
            operation,
            details,
            information_cbss,
        }) => {
            assert_eq!(operation, "sendTestMessage");
            assert_eq!(information_cbss, d.stamp);
            assert_eq!(details.len(), 1);
            assert_eq!(details[0].severity, Severity::Fatal);
            assert_eq!(details[0].reason_code, StatusCode::CredentialsMismatch);
            assert_eq!(details[0].author_code, "CBSS");
            assert_eq!(details[0].information[0].field_name, "cbeNumber");
            assert_eq!(
                details[0].information[0].field_value.as_deref(),
                Some("0212344876")
            );
        }
        other => panic!("expected a CBSS fault, got {other:?}"),
    }
}

#[test]
fn wrong_namespace_is_refused() {
    let d = decode("wrong_namespace", 200);
    assert!(matches!(d.outcome, Outcome::Undecodable { .. }));
    match d.result.unwrap_err().into_kind() {
        ErrorKind::Soap(SoapError::UnexpectedBody { found, expected }) => {
            assert!(found.contains("types/TestConnectionService/v1"), "{found}");
            assert!(expected.contains("intf/TestConnectionServiceService/v1"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn truncated_is_an_error() {
    let d = decode("truncated", 200);
    assert!(matches!(d.outcome, Outcome::Undecodable { .. }));
    assert!(matches!(
        d.result.as_ref().map_err(bcss::Error::kind),
        Err(ErrorKind::Soap(SoapError::Xml(_)))
    ));
}
