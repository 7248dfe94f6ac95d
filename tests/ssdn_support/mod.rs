//! Shared helpers for the SSDN integration tests: a fixed request header for the
//! fictitious CPAS, the fictitious people, and fixture loading.
#![allow(dead_code)]

use std::path::PathBuf;

use bcss::ids::{Cbe, ProgramId, Ssin};
use bcss::services::RequestHeader;
use chrono::{TimeZone, Utc};

/// Marc FICTIF, born 1968-07-01 in Namur.
pub const MARC: &str = "68070100188";
/// Anna VOORBEELD, born 1985-03-12 in Gent.
pub const ANNA: &str = "85031204246";
/// Lina TESTMANS, born 2005-03-15.
pub const LINA: &str = "05031512367";
/// Ivan BISNUMMER, BIS number.
pub const IVAN: &str = "75411205787";
/// Oscar ONBEKEND, birth date unknown, deceased.
pub const OSCAR: &str = "50000000773";
/// Noor KIND, daughter of Anna.
pub const NOOR: &str = "12090508413";

/// A cast member's SSIN.
pub fn ssin(s: &str) -> Ssin {
    Ssin::new(s).expect("cast SSINs are valid")
}

/// The header of CPAS de Fictiveville, with a fixed ticket and time.
pub fn header() -> RequestHeader {
    RequestHeader {
        ticket: "0190f5a2-7c3e-7d4a-9b1c-2e3f4a5b6c7d".parse().unwrap(),
        sent_at: Utc.with_ymd_and_hms(2024, 6, 3, 14, 5, 9).unwrap(),
        organization: Cbe::new("0212344876").unwrap(),
        sector: 17,
        sub_sector: None,
        program: ProgramId::new("00912345673").unwrap(),
        email: "it@cpas-fictiveville.example".to_string(),
        legal_context: "PCSA:SOCIAL_INQUIRY".to_string(),
    }
}

/// The path of a reply fixture `fixtures/replies/ssdn/<service>/<case>.xml`.
pub fn fixture_path(service: &str, case: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/replies/ssdn")
        .join(service)
        .join(format!("{case}.xml"))
}

/// The bytes of a reply fixture.
pub fn fixture(service: &str, case: &str) -> Vec<u8> {
    let path = fixture_path(service, case);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
