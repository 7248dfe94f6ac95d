//! The common-v3 message family: what every newer BCSS service request starts with, and
//! what every reply carries.
//!
//! - Requests start with `informationCustomer` (our ticket, when we sent it, our CBE
//!   number) and `legalContext` (the purpose the guard granted): [`request_root`].
//! - Replies carry `informationCBSS` (BCSS's ticket and timestamps, as a
//!   [`BcssStamp`]) and a [`Status`] whose code is a
//!   [`StatusCode`].
//! - A business error comes back as a SOAP fault whose detail holds a CBSSFault
//!   (`<operation>Fault`, with `detail` or, in older versions, `error` elements); it
//!   becomes [`V3Error::Fault`].
//!
//! [`decode`] turns a whole reply into a [`Decoded`](crate::services::Decoded), with the
//! outcome the journal records; the services in [`crate::services`] supply only the
//! decoding of their own content.
//!
//! The schemas are `elementFormDefault="unqualified"`: only a message's root element is in
//! the interface namespace; its children are unqualified.

use crate::services::BcssStamp;

mod header;
mod reply;
mod status;

pub use header::{
    LEGAL_CONTEXT_MAX, ROOT_PREFIX, check_legal_context, check_ssin, check_text,
    information_customer, request_root, service_request_root, timestamp,
};
pub use reply::{
    CbssFault, Expect, cbss_fault, decode, read_information_cbss, read_status, status_warnings,
};
pub use status::{FaultDetail, Information, Severity, Status, StatusCode, StatusValue};

/// The common types namespace, `http://kszbcss.fgov.be/types/common/v3`.
pub const COMMON_NS: &str = "http://kszbcss.fgov.be/types/common/v3";

/// Errors of the common-v3 family.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum V3Error {
    /// BCSS refused or failed the request: a SOAP fault holding a CBSSFault.
    #[error("BCSS refused {operation}: {}", hinted(summary(details), details.iter().any(|d| d.reason_code.is_retryable())))]
    Fault {
        /// The operation that was refused.
        operation: String,
        /// Every `detail` (or `error`) of the CBSSFault, in order.
        details: Vec<FaultDetail>,
        /// BCSS's ticket and timestamps, to quote when contacting BCSS.
        information_cbss: BcssStamp,
    },
    /// The reply's status reports a business error (`NO_RESULT`).
    #[error("BCSS could not answer: {}", hinted(status.to_string(), status.code.is_retryable()))]
    Status {
        /// The status.
        status: Status,
    },
    /// BCSS answered, and has no data for the subject (`NO_DATA_FOUND` or MSG00100).
    #[error("BCSS has no data for this request ({status})")]
    NoData {
        /// The status.
        status: Status,
    },
    /// The reply does not have the structure the contract promises.
    #[error("malformed reply: {element}: {reason}")]
    Malformed {
        /// Where (an element name or path).
        element: String,
        /// What is wrong.
        reason: String,
    },
    /// A non-2xx HTTP status whose body is not a SOAP envelope (a proxy's error page...).
    #[error("HTTP {status} and the body is not a SOAP reply ({reason})")]
    HttpStatus {
        /// The HTTP status.
        status: u16,
        /// Why the body could not be read.
        reason: String,
    },
}

impl V3Error {
    /// A [`V3Error::Malformed`].
    pub fn malformed(element: impl Into<String>, reason: impl Into<String>) -> V3Error {
        V3Error::Malformed {
            element: element.into(),
            reason: reason.into(),
        }
    }

    /// The status or first reason code, when BCSS gave one.
    pub fn code(&self) -> Option<&StatusCode> {
        match self {
            V3Error::Fault { details, .. } => details.first().map(|d| &d.reason_code),
            V3Error::Status { status } | V3Error::NoData { status } => Some(&status.code),
            _ => None,
        }
    }

    /// Whether the same request may succeed later (MSG00001, MSG00002, MSG00020).
    pub fn is_retryable(&self) -> bool {
        match self {
            V3Error::Fault { details, .. } => details.iter().any(|d| d.reason_code.is_retryable()),
            V3Error::Status { status } => status.code.is_retryable(),
            _ => false,
        }
    }
}

fn summary(details: &[FaultDetail]) -> String {
    match details {
        [] => "no detail".to_string(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
    }
}

/// `text`, followed by "this is temporary, retry later" when the code is retryable and
/// BCSS's own words do not already say so (the hint is said once).
fn hinted(text: String, retryable: bool) -> String {
    if retryable && !text.to_ascii_lowercase().contains("retry") {
        format!("{text}; this is temporary, retry later")
    } else {
        text
    }
}

/// Mask every run of exactly 11 digits (an SSIN's shape) as `YYMMDD*****`, for text
/// that leaves the journal: `Debug`, `Display`, logs.
pub use crate::ids::mask_ssins_in as mask_ssins;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_touches_only_eleven_digit_runs() {
        assert_eq!(
            mask_ssins("SSIN 68070100188 at 2024-01-01, ref 123456789012"),
            "SSIN 680701***** at 2024-01-01, ref 123456789012"
        );
        assert_eq!(mask_ssins("68070100188"), "680701*****");
        assert_eq!(mask_ssins(""), "");
    }

    #[test]
    fn fault_display_says_what_to_do() {
        let e = V3Error::Fault {
            operation: "retrieveTI".to_string(),
            details: vec![FaultDetail {
                severity: Severity::Fatal,
                reason_code: StatusCode::TemporarilyUnavailable,
                diagnostic: "Service unavailable".to_string(),
                author_code: "CBSS".to_string(),
                information: Vec::new(),
            }],
            information_cbss: BcssStamp::default(),
        };
        let s = e.to_string();
        assert!(s.contains("retrieveTI") && s.contains("MSG00001"), "{s}");
        assert!(s.contains("retry later"), "{s}");
        assert!(e.is_retryable());
        // BCSS's own words may already say it: then it is said once.
        assert_eq!(
            hinted("CBSS is unavailable, please retry later".into(), true)
                .matches("retry")
                .count(),
            1
        );
        assert_eq!(e.code(), Some(&StatusCode::TemporarilyUnavailable));
    }
}
