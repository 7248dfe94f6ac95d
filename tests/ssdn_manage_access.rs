//! ManageAccess: operations per action, and decoding of the reply fixtures in
//! `fixtures/replies/ssdn/ManageAccess/`.

mod ssdn_support;

use bcss::error::ErrorKind;
use bcss::services::manage_access::{Action, ManageAccessRequest, Register};
use bcss::services::{Outcome, ServiceRequest};
use bcss::soap::{Limits, SoapError};
use bcss::ssdn;
use chrono::NaiveDate;
use ssdn_support::*;

const SERVICE: &str = "ManageAccess";

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn register(s: &str) -> ManageAccessRequest {
    ManageAccessRequest::register(ssin(s))
        .purpose(1)
        .period(day(2024, 1, 1), Some(day(2024, 12, 31)))
        .sis_card_number("1234567890")
        .build()
        .unwrap()
}

#[test]
fn operations_follow_the_action() {
    let list = ManageAccessRequest::list(ssin(ANNA))
        .period(day(2024, 1, 1), None)
        .query_register(Register::All)
        .sis_card_number("1234567890")
        .build()
        .unwrap();
    let unregister = ManageAccessRequest::unregister(ssin(MARC))
        .purpose(1)
        .period(day(2024, 1, 1), None)
        .identity_card_number("591123456789")
        .build()
        .unwrap();
    for (r, op) in [
        (&register(ANNA), "register"),
        (&unregister, "unregister"),
        (&list, "list"),
    ] {
        assert_eq!(r.service(), bcss::services::manage_access::service());
        assert_eq!(r.operation(), op);
        assert!(bcss::services::manage_access::service().has_operation(op));
        assert_eq!(r.soap_action(), ssdn::SOAP_ACTION);
    }
    assert_eq!(list.action(), Action::List);
    assert_eq!(unregister.subjects(), vec![ssin(MARC)]);
    let document =
        ssdn::xml_string_of(&list.encode(&header()).unwrap(), &Limits::default()).unwrap();
    assert!(
        document.contains("<ServiceId>OCMWCPASManageAccess</ServiceId><Version>20050930</Version>")
    );
    assert!(
        document.contains("<ma:Action>LIST</ma:Action><ma:QueryRegister>ALL</ma:QueryRegister>")
    );
}

#[test]
fn ok_register_reply_lists_overlapping_registrations() {
    let d = register(ANNA).decode(200, &fixture(SERVICE, "ok"), &Limits::default());
    assert_eq!(d.outcome, Outcome::Ok);
    assert_eq!(d.stamp.ticket.as_deref(), Some("MAFICT0001OK"));
    let reply = d.result.unwrap();
    assert!(reply.warnings.is_empty());
    let original = &reply.data.original_request;
    assert_eq!(original.ssin, ssin(ANNA));
    assert_eq!(original.action, Action::Register);
    assert_eq!(original.purpose, Some(1));
    // Dates carry a time zone in the reply ("2024-01-01+01:00"): it is dropped.
    assert_eq!(original.period.start, day(2024, 1, 1));
    assert_eq!(original.period.end, Some(day(2024, 12, 31)));
    assert_eq!(original.register, None);
    let regs = &reply.data.registrations;
    assert_eq!(regs.len(), 2);
    assert_eq!(regs[0].register, Register::Secondary);
    assert_eq!(regs[0].org_unit, "0212344876");
    assert_eq!(regs[0].purpose, 1);
    assert_eq!(regs[1].register, Register::Primary);
    assert_eq!(regs[1].period.start, day(2024, 1, 1));
    assert_eq!(regs[1].period.end, None);
}

/// A LIST that finds no registration is a successful reply with an empty list: BCSS
/// answers YES, so the outcome is `Ok`, not `NoData`.
#[test]
fn list_without_registrations() {
    let list = ManageAccessRequest::list(ssin(ANNA))
        .purpose(1)
        .period(day(2024, 1, 1), None)
        .query_register(Register::All)
        .sis_card_number("1234567890")
        .build()
        .unwrap();
    let d = list.decode(200, &fixture(SERVICE, "no_data"), &Limits::default());
    assert_eq!(d.outcome, Outcome::Ok);
    let reply = d.result.unwrap();
    assert_eq!(reply.data.original_request.action, Action::List);
    assert_eq!(reply.data.original_request.register, Some(Register::All));
    assert!(reply.data.registrations.is_empty());
}

#[test]
fn warning_reply() {
    let d = register(MARC).decode(200, &fixture(SERVICE, "warning"), &Limits::default());
    assert_eq!(
        d.outcome,
        Outcome::Warning {
            code: "22007007".to_string()
        }
    );
    let reply = d.result.unwrap();
    assert_eq!(reply.warnings.len(), 2);
    assert_eq!(
        reply.warnings[1].information[0],
        (
            "ProofOfAuthentication/PersonData/FirstName".to_string(),
            "Mark".to_string()
        )
    );
    assert_eq!(reply.data.registrations.len(), 1);
    assert_eq!(reply.data.original_request.ssin, ssin(MARC));
}

#[test]
fn error_reply() {
    let d = register(MARC).decode(200, &fixture(SERVICE, "error"), &Limits::default());
    assert_eq!(
        d.outcome,
        Outcome::BusinessError {
            code: "31000007".to_string()
        }
    );
    assert_eq!(d.stamp.ticket.as_deref(), Some("MAFICT0004ER"));
    let Err(ErrorKind::Ssdn(e)) = d.result.as_ref().map_err(bcss::Error::kind) else {
        panic!("expected an SSDN error: {:?}", d.result);
    };
    assert_eq!(e.reason_codes(), ["30000001", "31000007", "31000005"]);
    let invalid = &e.details()[2];
    let fields: Vec<&str> = invalid
        .information
        .iter()
        .filter_map(|i| i.field_name.as_deref())
        .collect();
    assert_eq!(fields, ["ProofOfAuthentication/SISCardNumber", "SSIN"]);
    assert!(
        e.to_string()
            .contains("(fields: ProofOfAuthentication/SISCardNumber, SSIN)")
    );
}

#[test]
fn fault_reply() {
    let d = register(ANNA).decode(500, &fixture(SERVICE, "fault"), &Limits::default());
    assert_eq!(
        d.outcome,
        Outcome::SoapFault {
            code: "soapenv:Client".to_string()
        }
    );
    let Err(ErrorKind::Soap(SoapError::Fault(f))) = d.result.as_ref().map_err(bcss::Error::kind)
    else {
        panic!("expected a SOAP fault: {:?}", d.result);
    };
    assert_eq!(f.string, "The caller is not authorised for this service");
    assert_eq!(f.actor.as_deref(), Some("KSZBCSSWebServiceConnector"));
}
