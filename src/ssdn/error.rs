//! [`SsdnError`]: what can go wrong reading an SSDN reply, and BCSS's refusals.

use std::fmt::Write as _;

use super::reply::{Detail, Severity};
use crate::xml::XmlError;

/// Reason codes that mean "BCSS looked and found nothing" rather than "the request was
/// wrong". A `NO` reply whose ERROR details all carry one of these (apart from the generic
/// [`GENERIC_REASON_CODES`]) is journaled as [`Outcome::NoData`]; the caller still gets
/// [`SsdnError::Business`].
///
/// [`Outcome::NoData`]: crate::services::Outcome::NoData
pub const NO_DATA_REASON_CODES: &[&str] = &[
    // No phonetic match (IdentifyPerson).
    "32007004",
];

/// Reason codes BCSS adds to the global `ReplyContext` to say that a service request
/// produced a warning (20000001) or an error (30000001). They say nothing specific, so the
/// code journaled for an outcome is taken from the other details when there are any.
pub const GENERIC_REASON_CODES: &[&str] = &["20000001", "30000001"];

/// Why an SSDN exchange failed: the reply could not be read, or BCSS refused the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SsdnError {
    /// BCSS answered `ok="NO"`. Every `Detail` of the global and the service
    /// `ResultSummary` is here, in document order (global first).
    #[error("{}", business_message(details, ticket.as_deref(), *return_code))]
    Business {
        /// Every detail (severity, reason code, diagnostic, author code list, information).
        details: Vec<Detail>,
        /// BCSS's ticket for the exchange, when the reply carried one.
        ticket: Option<String>,
        /// The `ReturnCode` (10000 for an error), from the service reply when present.
        return_code: Option<i64>,
    },
    /// The SOAP body does not hold the connector's `xmlString`.
    #[error(
        "reply body is {found}, not the connector's xmlString \
         ({{http://ksz-bcss.fgov.be/connectors/WebServiceConnector}}xmlString)"
    )]
    NoXmlString {
        /// The element found, as `{namespace}name`.
        found: String,
    },
    /// `xmlString` is empty: there is no SSDN document to read.
    #[error("the connector's xmlString is empty: the reply holds no SSDN document")]
    EmptyDocument,
    /// The SSDN document inside `xmlString` is not acceptable XML (malformed, truncated,
    /// a DOCTYPE, over a limit...).
    #[error("the SSDN document inside xmlString is not acceptable XML: {0}")]
    InnerDocument(XmlError),
    /// The inner document is not an `SSDNReply` in the SSDN Service namespace.
    #[error(
        "the SSDN document is {found}, not \
         {{http://www.ksz-bcss.fgov.be/XSD/SSDN/Service}}SSDNReply"
    )]
    UnexpectedRoot {
        /// The root element found, as `{namespace}name`.
        found: String,
    },
    /// A required element is missing (or is in the wrong namespace).
    #[error("SSDN reply lacks {element}")]
    Missing {
        /// The path of the missing element.
        element: String,
    },
    /// An element or attribute holds a value that cannot be what the schema says.
    #[error("SSDN reply element {element} is invalid: {reason}")]
    Invalid {
        /// The path of the element.
        element: String,
        /// What is wrong (personal data is not repeated here).
        reason: String,
    },
    /// The reply answers another service than the one called.
    #[error("SSDN reply is from service {found}, expected {expected}")]
    UnexpectedService {
        /// The `ServiceId` called.
        expected: String,
        /// The `ServiceId`(s) found.
        found: String,
    },
    /// The service reply's payload is not the element the service answers with.
    #[error("SSDN service reply holds {found}, expected {expected}")]
    UnexpectedPayload {
        /// The expected element, as `{namespace}name`.
        expected: String,
        /// The element found, as `{namespace}name`, or "nothing".
        found: String,
    },
    /// BCSS answered `YES` (or `WARNING`) without a single result: an IdentifyPerson
    /// search that found nobody. No data, like a `NO` for "no phonetic match"
    /// ([`SsdnError::is_no_data`]).
    #[error("BCSS has no data for this request: {what}{}", ticket.as_deref().map(|t| format!(" (ticket {t})")).unwrap_or_default())]
    NoData {
        /// What came back empty.
        what: String,
        /// BCSS's ticket for the exchange, when the reply carried one.
        ticket: Option<String>,
    },
    /// A non-success HTTP status with a body that is not a SOAP envelope (a proxy error
    /// page, for example).
    #[error("HTTP status {status} and the body is not a SOAP envelope: {cause}")]
    HttpStatus {
        /// The HTTP status.
        status: u16,
        /// Why the body could not be read.
        cause: String,
    },
}

impl SsdnError {
    /// The details of a [`SsdnError::Business`] error (empty otherwise).
    pub fn details(&self) -> &[Detail] {
        match self {
            SsdnError::Business { details, .. } => details,
            _ => &[],
        }
    }

    /// The reason codes of a [`SsdnError::Business`] error, in document order.
    pub fn reason_codes(&self) -> Vec<&str> {
        self.details()
            .iter()
            .filter_map(|d| d.reason_code.as_deref())
            .collect()
    }

    /// Whether BCSS found nothing: a `NO` answer whose reasons only mean "nothing found"
    /// (see [`NO_DATA_REASON_CODES`]), or [`SsdnError::NoData`].
    pub fn is_no_data(&self) -> bool {
        match self {
            SsdnError::Business { details, .. } => details_mean_no_data(details),
            SsdnError::NoData { .. } => true,
            _ => false,
        }
    }

    /// The reason code that says most: the first ERROR detail's reason code that is not
    /// one of the [`GENERIC_REASON_CODES`], else the first reason code of any detail.
    pub fn code(&self) -> Option<&str> {
        let details = self.details();
        details
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .filter_map(|d| d.reason_code.as_deref())
            .find(|c| !GENERIC_REASON_CODES.contains(c))
            .or_else(|| details.iter().find_map(|d| d.reason_code.as_deref()))
    }
}

/// A `NO` answer means "no data" when its ERROR details, apart from the generic ones, are
/// all "no data" reason codes, and there is at least one.
pub(crate) fn details_mean_no_data(details: &[Detail]) -> bool {
    let mut specific = details
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .filter_map(|d| d.reason_code.as_deref())
        .filter(|c| !GENERIC_REASON_CODES.contains(c))
        .peekable();
    specific.peek().is_some() && specific.all(|c| NO_DATA_REASON_CODES.contains(&c))
}

fn business_message(details: &[Detail], ticket: Option<&str>, return_code: Option<i64>) -> String {
    let mut s = String::from("BCSS refused the SSDN request");
    if let Some(t) = ticket {
        let _ = write!(s, " (ticket {t})");
    }
    if let Some(rc) = return_code {
        let _ = write!(s, ", return code {rc}");
    }
    if details.is_empty() {
        s.push_str(", without details");
        return s;
    }
    s.push(':');
    for (i, d) in details.iter().enumerate() {
        if i > 0 {
            s.push(';');
        }
        let _ = write!(s, " [{}]", d.severity.as_str());
        if let Some(code) = &d.reason_code {
            let _ = write!(s, " {code}");
        }
        if let Some(diag) = &d.diagnostic {
            let _ = write!(s, " {diag}");
        }
        let names: Vec<&str> = d
            .information
            .iter()
            .filter_map(|i| i.field_name.as_deref())
            .collect();
        if !names.is_empty() {
            let _ = write!(s, " (fields: {})", names.join(", "));
        }
    }
    s
}
