//! The classic BCSS "SSDN" message family, sent through the WebServiceConnector.
//!
//! A request is an `SSDNRequest` document (namespace [`SERVICE_NS`]): a `RequestContext`
//! (who asks: program number, e-mail, CBE number, sector; and our ticket and time), then a
//! `ServiceRequest` with the `ServiceId`, the `Version` and the service's own payload.
//! That document is serialised to text and sent as the content of the connector's single
//! `<xmlString>` element (namespace [`CONNECTOR_NS`], operation `sendXML`,
//! soapAction [`SOAP_ACTION`]); see [`encode_request`].
//!
//! A reply is read twice: the SOAP envelope, whose `<xmlString>` holds an `SSDNReply` as
//! text (CDATA or escaped), then that inner document, with the same [`Limits`]. The
//! inner document's `ResultSummary` (namespace [`COMMON_NS`]) is checked both in the
//! global `ReplyContext` and in the service's `ServiceReply`; the worse of the two decides
//! ([`decode_reply`]):
//!
//! | `ok` | result | [`Outcome`] |
//! | --- | --- | --- |
//! | `YES` | the typed response (INFORMATION details as [`Warning`]s) | `Ok` |
//! | `WARNING` | the typed response plus every detail as a [`Warning`] | `Warning { code }` |
//! | `NO`, only "no data" reason codes ([`NO_DATA_REASON_CODES`]) | [`SsdnError::Business`] | `NoData { code }` |
//! | `NO`, otherwise | [`SsdnError::Business`] | `BusinessError { code }` |
//!
//! A "no data" answer is still returned as the typed [`SsdnError::Business`] error (check
//! [`SsdnError::is_no_data`]): BCSS answers `ok="NO"`, and a caller should not mistake
//! "no phonetic match" for an empty success. Only the journal's [`Outcome`] tells it
//! apart from a refusal.
//!
//! A SOAP fault becomes [`Outcome::SoapFault`] and
//! [`ErrorKind::Soap`](crate::error::ErrorKind::Soap)`(`[`crate::soap::SoapError::Fault`]`)`. Anything malformed (the
//! envelope, the inner document, a DOCTYPE in either, a wrong namespace, a missing
//! element) is an error, never a panic.
//!
//! [`Outcome`]: crate::services::Outcome
//! [`Outcome::SoapFault`]: crate::services::Outcome::SoapFault
//! [`Warning`]: crate::services::Warning
//! [`Limits`]: crate::xml::Limits

mod error;
pub mod person;
pub(crate) mod read;
mod reply;
mod request;
mod types;
pub(crate) mod validate;

pub use error::{GENERIC_REASON_CODES, NO_DATA_REASON_CODES, SsdnError};
pub(crate) use reply::expect_payload;
pub use reply::{
    Detail, Information, ResultStatus, ResultSummary, ServiceReplyPart, Severity, SsdnReply,
    decode_reply, parse_reply_document, read_reply, xml_string_of,
};
pub use request::{encode_request, format_time_request, request_document};
pub use types::{Gender, IncompleteDate, InvalidDate, Origin};

/// The connector's namespace (the `xmlString` element).
pub const CONNECTOR_NS: &str = "http://ksz-bcss.fgov.be/connectors/WebServiceConnector";

/// The connector's one operation.
pub const OPERATION: &str = "sendXML";

/// The soapAction of every SSDN call.
pub const SOAP_ACTION: &str = "http://ksz-bcss.fgov.be/connectors/WebServiceConnector/sendXML";

/// The namespace of `SSDNRequest` and `SSDNReply`.
pub const SERVICE_NS: &str = "http://www.ksz-bcss.fgov.be/XSD/SSDN/Service";

/// The namespace of `ResultSummary` and the common data types.
pub const COMMON_NS: &str = "http://www.ksz-bcss.fgov.be/XSD/SSDN/Common";

/// The namespace of the person types (`Citizen`, addresses, names).
pub const PERSON_NS: &str = "http://www.ksz-bcss.fgov.be/XSD/SSDN/Person";
