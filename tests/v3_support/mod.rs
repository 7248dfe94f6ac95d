//! Shared helpers of the common-v3 tests: the fictitious cast, a request header, and the
//! reply fixtures in `fixtures/replies/v3/`.
#![allow(dead_code)]

use std::path::Path;

use bcss::ids::{Cbe, ProgramId, Ssin};
use bcss::services::RequestHeader;
use chrono::{TimeZone, Utc};

pub const MARC: &str = "68070100188";
pub const ANNA: &str = "85031204246";
pub const LINA: &str = "05031512367";
pub const IVAN: &str = "75411205787";
pub const OSCAR: &str = "50000000773";
pub const NOOR: &str = "12090508413";

pub fn ssin(s: &str) -> Ssin {
    Ssin::new(s).unwrap()
}

/// The header the client would build for CPAS de Fictiveville.
pub fn header(legal_context: &str) -> RequestHeader {
    RequestHeader {
        ticket: uuid::Uuid::parse_str("018f8a3c-5b2e-7c41-9a6d-3e2f1b0c4d57").unwrap(),
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

/// A reply fixture's bytes.
pub fn fixture(service: &str, case: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/replies/v3")
        .join(service)
        .join(format!("{case}.xml"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A SOAP 1.1 envelope around `body`.
pub fn envelope(body: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\"?>\n<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
    )
    .into_bytes()
}
