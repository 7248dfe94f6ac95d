//! HealthCareInsuranceService v1: encoding the three operations, and decoding the reply
//! fixtures into typed results.

mod v3_support;

use bcss::error::ErrorKind;
use bcss::services::health_care_insurance::{
    DesiredData, HciOperation, HealthCareInsurance, InsuranceReply, Period, ReferenceDate, Right,
    SfdfL891,
};
use bcss::services::{Decoded, Outcome, RequestError, ServiceRequest};
use bcss::soap::{Limits, SoapError};
use bcss::v3::{Severity, StatusCode, V3Error};
use chrono::NaiveDate;
use v3_support::{ANNA, IVAN, LINA, MARC, NOOR, OSCAR, fixture, header, ssin};

const CONTEXT: &str = "social inquiry and financial help";

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn request(op: HciOperation, person: &str, when: ReferenceDate) -> HealthCareInsurance {
    HealthCareInsurance::new(op, ssin(person), when, DesiredData::all()).unwrap()
}

fn decode(op: HciOperation, person: &str, case: &str, http: u16) -> Decoded<InsuranceReply> {
    request(op, person, ReferenceDate::Today).decode(
        http,
        &fixture("HealthCareInsurance", case),
        &Limits::default(),
    )
}

use HciOperation::{ConsultHolderCode, ConsultMaf, GetInsuranceOrganizationInformations as Get};

#[test]
fn request_encoding() {
    let desired = DesiredData {
        maximum_charge: true,
        ..DesiredData::none()
    };
    let r = HealthCareInsurance::new(
        ConsultMaf,
        ssin(ANNA),
        ReferenceDate::Date(day(2023, 12, 31)),
        desired,
    )
    .unwrap();
    assert_eq!(
        r.service(),
        bcss::services::health_care_insurance::service()
    );
    assert_eq!(r.operation(), "consultMAF");
    assert_eq!(r.subjects(), vec![ssin(ANNA)]);
    let text =
        String::from_utf8(r.encode(&header("check MAF to stop repayment")).unwrap()).unwrap();
    assert!(text.contains("<ns:consultMAFRequest xmlns:ns=\"http://kszbcss.fgov.be/intf/HealthCareInsuranceService/v1\"><informationCustomer>"), "{text}");
    assert!(text.contains("<legalContext>check MAF to stop repayment</legalContext><criterion><ssin>85031204246</ssin><temporalCriteria><date>2023-12-31</date></temporalCriteria><desiredData><insuringOrganization>false</insuringOrganization><reimbursementRight>false</reimbursementRight><ct1ct2>false</ct1ct2><payingThirdParty>false</payingThirdParty><maximumCharge>true</maximumCharge>"), "{text}");
    let today = request(ConsultHolderCode, NOOR, ReferenceDate::Today)
        .encode(&header(CONTEXT))
        .unwrap();
    let text = String::from_utf8(today).unwrap();
    assert!(text.contains("<ns:consultHolderCodeRequest "));
    assert!(text.contains("<temporalCriteria><today>true</today></temporalCriteria>"));
    for op in HciOperation::ALL {
        assert!(
            bcss::services::health_care_insurance::service()
                .operation_names()
                .contains(&op.name())
        );
        assert_eq!(
            request(op, MARC, ReferenceDate::Today).operation(),
            op.name()
        );
    }
}

#[test]
fn request_refusals() {
    assert!(matches!(
        HealthCareInsurance::new(Get, ssin(MARC), ReferenceDate::Today, DesiredData::none()),
        Err(RequestError::Invalid { .. })
    ));
    let r = request(Get, MARC, ReferenceDate::Today);
    // A legal context outside the schema's list is refused before anything is encoded,
    // with the accepted values in the message.
    match r
        .encode(&header("PCSA:SOCIAL_INQUIRY"))
        .map_err(bcss::Error::into_kind)
    {
        Err(ErrorKind::Request(RequestError::Invalid { message, .. })) => {
            assert!(
                message.contains("social inquiry and financial help"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(r.encode(&header("")).is_err());
}

#[test]
fn marc_everything() {
    let d = decode(Get, MARC, "get_ok_marc", 200);
    assert_eq!(d.outcome, Outcome::Ok);
    assert_eq!(
        d.stamp.ticket.as_deref(),
        Some("6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d01")
    );
    let reply = d.result.unwrap();
    assert!(reply.warnings.is_empty());
    assert_eq!(reply.data.operation, Get);
    let r = &reply.data.result;
    assert_eq!(r.ssin, ssin(MARC));
    let io = r.insuring_organization.as_ref().unwrap();
    assert_eq!(io.insuring_organization.as_deref(), Some("500"));
    assert_eq!(io.mutuality, Right::Granted("509".to_string()));
    assert!(r.reimbursement_right.as_ref().unwrap().value);
    assert!(!r.paying_third_party.as_ref().unwrap().value);
    let codes = r.ct1ct2.as_ref().unwrap().granted().unwrap();
    assert_eq!((codes.ct1.as_str(), codes.ct2.as_str()), ("110", "110"));
    assert_eq!(
        codes.period,
        Period {
            start: day(2024, 1, 1),
            end: day(2024, 12, 31)
        }
    );
    let maf = r.maximum_charge.as_ref().unwrap().granted().unwrap();
    assert_eq!(maf.len(), 1);
    assert_eq!(
        (maf[0].year, maf[0].insuring_organization.as_str()),
        (2022, "500")
    );
    let house = r
        .medical_house
        .as_ref()
        .unwrap()
        .membership
        .granted()
        .unwrap();
    assert!(house.doctor && !house.kine && house.nurse);
    assert_eq!(house.period.start, day(2019, 4, 1));
    assert_eq!(house.period.end, None);
    assert_eq!(r.increased_intervention, Some(Right::NoRight));
    assert!(r.status_complementary_insurance.as_ref().unwrap().value);
    assert_eq!(
        r.global_medical_file.as_ref().unwrap().health_care_provider,
        Right::Granted("10000122004".to_string())
    );
    match r.sfdf_l891.as_ref().unwrap() {
        SfdfL891::Insurance(i) => {
            assert!(!i.paying_third_party);
            assert_eq!(i.increased_intervention, Right::NoRight);
            assert_eq!(i.ct1ct2.granted().unwrap().mutuality, "509");
            assert_eq!(i.maximum_charge.granted().unwrap()[0].year, 2022);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn anna_maf_years_with_extra_elements() {
    let d = decode(ConsultMaf, ANNA, "consult_maf_anna", 200);
    assert_eq!(d.outcome, Outcome::Ok);
    let reply = d.result.unwrap();
    let r = &reply.data.result;
    let years: Vec<_> = r
        .maximum_charge
        .as_ref()
        .unwrap()
        .granted()
        .unwrap()
        .iter()
        .map(|y| y.year)
        .collect();
    assert_eq!(years, [2021, 2023]);
    assert!(r.insuring_organization.is_none() && r.ct1ct2.is_none() && r.sfdf_l891.is_none());
}

#[test]
fn noor_holder_codes_with_time_zones() {
    let reply = decode(ConsultHolderCode, NOOR, "consult_holder_code_noor", 200)
        .result
        .unwrap();
    let r = &reply.data.result;
    let codes = r.ct1ct2.as_ref().unwrap().granted().unwrap();
    assert_eq!(codes.mutuality, "131");
    assert_eq!(codes.ct1, "121");
    assert_eq!(codes.period.start, day(2024, 1, 1));
    assert_eq!(codes.period.end, day(2024, 12, 31));
    assert_eq!(
        r.increased_intervention,
        Some(Right::Granted(Period {
            start: day(2023, 7, 1),
            end: day(2024, 6, 30)
        }))
    );
}

#[test]
fn oscar_no_rights() {
    let reply = decode(Get, OSCAR, "no_right_oscar", 200).result.unwrap();
    let r = &reply.data.result;
    let io = r.insuring_organization.as_ref().unwrap();
    assert_eq!(io.mutuality, Right::NoRight);
    assert_eq!(io.insuring_organization.as_deref(), Some("100"));
    assert_eq!(r.ct1ct2, Some(Right::NoRight));
    assert_eq!(r.maximum_charge, Some(Right::NoRight));
    assert_eq!(r.medical_house.as_ref().unwrap().membership, Right::NoRight);
    assert_eq!(
        r.global_medical_file.as_ref().unwrap().health_care_provider,
        Right::NoRight
    );
    assert_eq!(
        r.sfdf_l891,
        Some(SfdfL891::NoReimbursementRight {
            insuring_organization: Some("100".to_string()),
            mutuality: Some("131".to_string())
        })
    );
}

#[test]
fn lina_information_is_a_warning() {
    let d = decode(Get, LINA, "warning_lina", 200);
    assert_eq!(
        d.outcome,
        Outcome::Warning {
            code: "MSG00000".to_string()
        }
    );
    let reply = d.result.unwrap();
    assert_eq!(reply.warnings[0].severity, "INFORMATION");
    assert_eq!(reply.warnings[0].information[0].0, "payingThirdParty");
    assert_eq!(
        reply
            .data
            .result
            .reimbursement_right
            .as_ref()
            .unwrap()
            .insuring_organization
            .as_deref(),
        Some("300")
    );
}

#[test]
fn unknown_code_with_data_is_a_warning_that_keeps_the_code() {
    let d = decode(ConsultMaf, ANNA, "unknown_code", 200);
    assert_eq!(
        d.outcome,
        Outcome::Warning {
            code: "MSG00042".to_string()
        }
    );
    let reply = d.result.unwrap();
    assert_eq!(reply.warnings[0].code, "MSG00042");
    assert_eq!(reply.warnings[0].severity, "WARNING");
    assert_eq!(
        reply.warnings[0].description,
        "A status this client has never seen"
    );
    assert!(reply.data.result.maximum_charge.is_some());
}

#[test]
fn no_data() {
    let d = decode(Get, IVAN, "no_data_ivan", 200);
    assert_eq!(
        d.outcome,
        Outcome::NoData {
            code: "MSG00100".to_string()
        }
    );
    assert!(matches!(
        d.result.as_ref().map_err(bcss::Error::kind),
        Err(ErrorKind::V3(V3Error::NoData { status })) if status.code == StatusCode::NoDataAtSupplier
    ));
}

#[test]
fn faults() {
    let d = decode(ConsultMaf, ANNA, "fault_detail", 500);
    assert_eq!(
        d.outcome,
        Outcome::BusinessError {
            code: "MSG00015".to_string()
        }
    );
    assert_eq!(
        d.stamp.ticket.as_deref(),
        Some("9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b")
    );
    match d.result.unwrap_err().into_kind() {
        ErrorKind::V3(V3Error::Fault {
            operation, details, ..
        }) => {
            assert_eq!(operation, "consultMAF");
            assert_eq!(details[0].reason_code, StatusCode::AuthorisationRefused);
        }
        other => panic!("{other:?}"),
    }

    let d = decode(Get, MARC, "fault_error", 500);
    assert_eq!(
        d.outcome,
        Outcome::BusinessError {
            code: "MSG00002".to_string()
        }
    );
    match d.result.unwrap_err().into_kind() {
        ErrorKind::V3(e) => {
            assert!(e.is_retryable());
            let V3Error::Fault { details, .. } = e else {
                panic!("not a fault")
            };
            let codes: Vec<_> = details.iter().map(|d| d.reason_code.as_str()).collect();
            assert_eq!(codes, ["MSG00002", "MSG00020"]);
            assert_eq!(details[0].severity, Severity::Warning);
            assert_eq!(details[1].author_code, "CIN-NIC");
        }
        other => panic!("{other:?}"),
    }

    let d = decode(Get, MARC, "soap_fault", 500);
    assert_eq!(
        d.outcome,
        Outcome::SoapFault {
            code: "soapenv:Server".to_string()
        }
    );
    assert!(matches!(
        d.result.as_ref().map_err(bcss::Error::kind),
        Err(ErrorKind::Soap(SoapError::Fault(f))) if f.string == "Internal Error"
    ));
}

#[test]
fn wrong_operation_namespace_or_person() {
    // The reply of another operation is refused.
    let d = decode(ConsultMaf, MARC, "get_ok_marc", 200);
    assert!(matches!(
        d.result.as_ref().map_err(bcss::Error::kind),
        Err(ErrorKind::Soap(SoapError::UnexpectedBody { .. }))
    ));
    let d = decode(Get, MARC, "wrong_namespace", 200);
    assert!(matches!(d.outcome, Outcome::Undecodable { .. }));
    assert!(matches!(
        d.result.as_ref().map_err(bcss::Error::kind),
        Err(ErrorKind::Soap(SoapError::UnexpectedBody { .. }))
    ));
    let d = decode(Get, MARC, "truncated", 200);
    assert!(matches!(
        d.result.as_ref().map_err(bcss::Error::kind),
        Err(ErrorKind::Soap(SoapError::Xml(_)))
    ));
    let d = decode(Get, ANNA, "get_ok_marc", 200);
    assert!(matches!(
        d.result.as_ref().map_err(bcss::Error::kind),
        Err(ErrorKind::V3(V3Error::Malformed { .. }))
    ));
}
