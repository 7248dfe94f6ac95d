//! The typed BCSS services, one file each, and what every service request shares.
//!
//! Every service, typed or not, is an entry of the [`catalogue`]; each typed service
//! declares its descriptor in its own file (`descriptor()`, and `service()` for its
//! handle).
//!
//! A request type implements [`ServiceRequest`]: it knows its service, operation and
//! subjects (the SSINs it is about), encodes itself into a SOAP envelope given the
//! [`RequestHeader`] that the client builds from the guard's grant, and decodes the reply
//! into a typed response.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::ids::{Cbe, ProgramId, Ssin};
use crate::soap::Limits;

pub mod catalogue;
pub mod generic;
pub mod health_care_insurance;
pub mod identify_person;
pub mod manage_access;
pub mod perform_investigation;
pub mod retrieve_ti_groups;
pub mod test_connection;

pub use catalogue::{
    Catalogue, Family, LegalContextRule, OperationDescriptor, Service, ServiceDescriptor,
    parse_services,
};

/// What the client puts in every request's header. Built from the configuration and the
/// guard's grant: the grant supplies `program` and `legal_context`, so a request can never
/// carry a purpose it was not granted.
#[derive(Debug, Clone)]
pub struct RequestHeader {
    /// Our ticket for this call (UUID v7): SSDN `Reference`, common-v3 `ticket`.
    pub ticket: Uuid,
    /// When the request is sent: SSDN `TimeRequest`, common-v3 `timestampSent`.
    pub sent_at: DateTime<Utc>,
    /// The organisation's CBE number: SSDN `OrgUnit`, common-v3 `cbeNumber`.
    pub organization: Cbe,
    /// The sector (SSDN `MatrixID`, 17 for CPAS).
    pub sector: u32,
    /// The sub-sector (SSDN `MatrixSubID`), if any.
    pub sub_sector: Option<u32>,
    /// The program number from the grant: SSDN `UserID`.
    pub program: ProgramId,
    /// The organisation's contact e-mail: SSDN `Email`.
    pub email: String,
    /// The purpose from the grant: common-v3 `legalContext`.
    pub legal_context: String,
}

/// A warning or information detail that came back with a successful reply.
///
/// BCSS's text may quote an SSIN: `Debug` masks 11-digit numbers. Serialisation keeps the
/// values in full (for the journal and the caller's own records).
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// INFORMATION, WARNING (SSDN) or the common-v3 severity.
    pub severity: String,
    /// The reason or status code.
    pub code: String,
    /// BCSS's text.
    pub description: String,
    /// Extra field name / value pairs.
    pub information: Vec<(String, String)>,
}

impl std::fmt::Debug for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mask = crate::ids::mask_ssins_in;
        f.debug_struct("Warning")
            .field("severity", &self.severity)
            .field("code", &self.code)
            .field("description", &mask(&self.description))
            .field(
                "information",
                &self
                    .information
                    .iter()
                    .map(|(k, v)| (k.clone(), mask(v)))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// How an exchange ended, as the journal records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// Data came back.
    Ok,
    /// Data came back with warnings.
    Warning {
        /// The first warning's code.
        code: String,
    },
    /// BCSS answered, and has no data for the subject.
    NoData {
        /// The status code (e.g. MSG00100) or reason code.
        code: String,
    },
    /// BCSS refused or failed the request with a business error.
    BusinessError {
        /// The reason or status code.
        code: String,
    },
    /// A SOAP fault that is not a BCSS business error.
    SoapFault {
        /// The faultcode.
        code: String,
    },
    /// The reply could not be decoded.
    Undecodable {
        /// Why.
        reason: String,
    },
    /// A reply with an HTTP status outside 2xx that is not a SOAP fault with 500: never
    /// a success, whatever its body. Given by the client's call path, which reads the
    /// status of every reply (a service's own decoding reads the body).
    HttpError {
        /// The HTTP status.
        status: u16,
    },
    /// No reply: the transport failed.
    TransportError {
        /// Why.
        reason: String,
    },
}

/// BCSS's own identification of an exchange, when the reply carried it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BcssStamp {
    /// SSDN `Ticket` or common-v3 `ticketCBSS`.
    pub ticket: Option<String>,
    /// SSDN `TimeReceive` or common-v3 `timestampReceive`, as BCSS wrote it.
    pub time_receive: Option<String>,
    /// SSDN `TimeResponse` or common-v3 `timestampReply`, as BCSS wrote it.
    pub time_reply: Option<String>,
}

/// A decoded reply body with its warnings.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceReply<T> {
    /// The typed response.
    pub data: T,
    /// Warnings that came with it (SSDN WARNING, common-v3 information).
    pub warnings: Vec<Warning>,
}

/// The result of decoding a reply: what the journal needs (`stamp`, `outcome`) whether or
/// not decoding succeeded, and the typed result.
#[derive(Debug)]
pub struct Decoded<T> {
    /// BCSS's ticket and timestamps, where the reply carried them.
    pub stamp: BcssStamp,
    /// How the exchange ended.
    pub outcome: Outcome,
    /// The typed reply, or the error to return to the caller.
    pub result: Result<ServiceReply<T>, crate::Error>,
}

impl<T> Decoded<T> {
    /// A reply that could not be decoded at all.
    pub fn undecodable(error: crate::Error) -> Self {
        Decoded {
            stamp: BcssStamp::default(),
            outcome: Outcome::Undecodable {
                reason: error.to_string(),
            },
            result: Err(error),
        }
    }
}

/// A request builder refused an invalid combination before anything was encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// A field that the service requires is missing.
    #[error("{service}: {field} is required")]
    Missing {
        /// The service.
        service: Cow<'static, str>,
        /// The missing field.
        field: &'static str,
    },
    /// Fields that cannot be combined.
    #[error("{service}: {message}")]
    Invalid {
        /// The service.
        service: Cow<'static, str>,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The service has no operation of this name (in the catalogue).
    #[error("{service} has no operation {operation:?}; its operations: {known}")]
    UnknownOperation {
        /// The service.
        service: Cow<'static, str>,
        /// The operation asked for.
        operation: String,
        /// The service's operations, comma-separated.
        known: String,
    },
    /// The business part of a generic request is not acceptable XML (malformed, a
    /// DOCTYPE, over a limit...).
    #[error("{service}: the business part of the request is not acceptable XML: {error}")]
    Xml {
        /// The service.
        service: Cow<'static, str>,
        /// What the parser found.
        error: crate::xml::XmlError,
    },
    /// A subject element the operation declares is missing from the request, or does not
    /// hold a valid SSIN: the journal could not say whom the call is about.
    #[error("{service}.{operation}: {path}: {reason}")]
    Subject {
        /// The service.
        service: Cow<'static, str>,
        /// The operation.
        operation: String,
        /// The declared subject path, relative to the request element.
        path: String,
        /// What is wrong (the value itself is not repeated: it may be personal data).
        reason: String,
    },
}

/// Only this crate's request types implement [`ServiceRequest`]: the typed services and
/// [`GenericRequest`](generic::GenericRequest). A service is added through the
/// [`catalogue`] (a typed module, or a `[[service]]` entry called generically), never by
/// implementing the trait elsewhere, so that no request type can claim one operation and
/// encode another.
mod sealed {
    /// The private supertrait of [`ServiceRequest`](super::ServiceRequest).
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// A request to one BCSS service operation: a typed request of one of the built-in
/// services, or a [`GenericRequest`](generic::GenericRequest) to any catalogued service.
///
/// The trait is sealed: it cannot be implemented outside this crate.
///
/// ```compile_fail
/// use bcss::services::{Decoded, RequestHeader, Service, ServiceRequest};
/// struct Mine;
/// impl ServiceRequest for Mine {
///     type Response = String;
///     fn service(&self) -> Service { bcss::services::test_connection::service().clone() }
///     fn operation(&self) -> &str { "sendTestMessage" }
///     fn subjects(&self) -> Vec<bcss::ids::Ssin> { Vec::new() }
///     fn encode(&self, _: &RequestHeader) -> Result<Vec<u8>, bcss::Error> { Ok(Vec::new()) }
///     fn decode(&self, _: u16, _: &[u8], _: &bcss::soap::Limits) -> Decoded<String> {
///         unimplemented!()
///     }
/// }
/// ```
pub trait ServiceRequest: Sealed + Send + Sync {
    /// The typed response.
    type Response: Send + Serialize + std::fmt::Debug;

    /// The service (its catalogue entry).
    fn service(&self) -> Service;

    /// The operation, one of the service's [`Service::operations`].
    fn operation(&self) -> &str;

    /// The people the request is about (WHAT), recorded in the journal.
    fn subjects(&self) -> Vec<Ssin>;

    /// The BCSS purpose code the request carries (ManageAccess `Purpose`), which the
    /// guard checks against the entry's `access_purposes`. `None` for requests that carry
    /// none.
    fn access_purpose(&self) -> Option<u32> {
        None
    }

    /// The complete SOAP envelope to send.
    fn encode(&self, header: &RequestHeader) -> Result<Vec<u8>, crate::Error>;

    /// Decode the reply body (the HTTP status is given because SOAP 1.1 faults come
    /// with HTTP 500).
    fn decode(&self, http_status: u16, body: &[u8], limits: &Limits) -> Decoded<Self::Response>;
}
