//! The typed BCSS services, one file each, and what every service request shares.
//!
//! A request type implements [`ServiceRequest`]: it knows its service, operation and
//! subjects (the SSINs it is about), encodes itself into a SOAP envelope given the
//! [`RequestHeader`] that the client builds from the guard's grant, and decodes the reply
//! into a typed response.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::ids::{Cbe, ProgramId, Ssin};
use crate::soap::Limits;

pub mod health_care_insurance;
pub mod identify_person;
pub mod manage_access;
pub mod perform_investigation;
pub mod retrieve_ti_groups;
pub mod test_connection;

/// The generation of BCSS message a service uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Family {
    /// Classic SSDN services, sent as text through the connector's `sendXML`.
    Ssdn,
    /// Newer "common v3" services, one endpoint each.
    V3,
}

/// Every service this client knows. The manifest's `service` names are [`ServiceKind::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum ServiceKind {
    /// SSDN `OCMWCPASIdentifyPerson`.
    IdentifyPerson,
    /// SSDN `OCMWCPASManageAccess` (a write: never resent blindly).
    ManageAccess,
    /// SSDN `OCMWCPASPerformInvestigation`.
    PerformInvestigation,
    /// TestConnectionService v1.
    TestConnection,
    /// RetrieveTIGroupsService v2 (National Register).
    RetrieveTIGroups,
    /// HealthCareInsuranceService v1.
    HealthCareInsurance,
}

impl ServiceKind {
    /// All services.
    pub const ALL: [ServiceKind; 6] = [
        ServiceKind::IdentifyPerson,
        ServiceKind::ManageAccess,
        ServiceKind::PerformInvestigation,
        ServiceKind::TestConnection,
        ServiceKind::RetrieveTIGroups,
        ServiceKind::HealthCareInsurance,
    ];

    /// The name used in manifests, configuration, fixtures and the journal.
    pub fn name(self) -> &'static str {
        match self {
            ServiceKind::IdentifyPerson => "IdentifyPerson",
            ServiceKind::ManageAccess => "ManageAccess",
            ServiceKind::PerformInvestigation => "PerformInvestigation",
            ServiceKind::TestConnection => "TestConnection",
            ServiceKind::RetrieveTIGroups => "RetrieveTIGroups",
            ServiceKind::HealthCareInsurance => "HealthCareInsurance",
        }
    }

    /// Look a service up by [`ServiceKind::name`] (case-sensitive).
    pub fn from_name(name: &str) -> Option<ServiceKind> {
        ServiceKind::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The message generation.
    pub fn family(self) -> Family {
        match self {
            ServiceKind::IdentifyPerson
            | ServiceKind::ManageAccess
            | ServiceKind::PerformInvestigation => Family::Ssdn,
            _ => Family::V3,
        }
    }

    /// The operations of the service. A manifest entry without `operations` covers all.
    ///
    /// SSDN services travel through the one `sendXML` operation; their operations here
    /// are the business actions (ManageAccess's `register`, `unregister`, `list`), so that
    /// a manifest can authorise reading the register without authorising writes to it.
    pub fn operations(self) -> &'static [&'static str] {
        match self {
            ServiceKind::IdentifyPerson => &["identifyPerson"],
            ServiceKind::ManageAccess => &["register", "unregister", "list"],
            ServiceKind::PerformInvestigation => &["performInvestigation"],
            ServiceKind::TestConnection => &["sendTestMessage"],
            ServiceKind::RetrieveTIGroups => &["retrieveTI"],
            ServiceKind::HealthCareInsurance => &[
                "getInsuranceOrganizationInformations",
                "consultMAF",
                "consultHolderCode",
            ],
        }
    }

    /// The SSDN `ServiceId`, for SSDN services.
    pub fn ssdn_service_id(self) -> Option<&'static str> {
        match self {
            ServiceKind::IdentifyPerson => Some("OCMWCPASIdentifyPerson"),
            ServiceKind::ManageAccess => Some("OCMWCPASManageAccess"),
            ServiceKind::PerformInvestigation => Some("OCMWCPASPerformInvestigation"),
            _ => None,
        }
    }

    /// The message version: the SSDN `Version` (8 characters, a date), or the common-v3
    /// interface version (`v1`, `v2`).
    pub fn version(self) -> &'static str {
        match self {
            ServiceKind::IdentifyPerson | ServiceKind::ManageAccess => "20050930",
            ServiceKind::PerformInvestigation => "20080604",
            ServiceKind::TestConnection | ServiceKind::HealthCareInsurance => "v1",
            ServiceKind::RetrieveTIGroups => "v2",
        }
    }
}

impl std::fmt::Display for ServiceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

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
        service: &'static str,
        /// The missing field.
        field: &'static str,
    },
    /// Fields that cannot be combined.
    #[error("{service}: {message}")]
    Invalid {
        /// The service.
        service: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// A typed request to one BCSS service operation.
pub trait ServiceRequest: Send + Sync {
    /// The typed response.
    type Response: Send + Serialize + std::fmt::Debug;

    /// The service.
    fn service(&self) -> ServiceKind;

    /// The operation, one of [`ServiceKind::operations`].
    fn operation(&self) -> &'static str;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_names_round_trip() {
        for s in ServiceKind::ALL {
            assert_eq!(ServiceKind::from_name(s.name()), Some(s));
            assert!(!s.operations().is_empty());
            assert_eq!(s.ssdn_service_id().is_some(), s.family() == Family::Ssdn);
        }
        assert_eq!(ServiceKind::from_name("identifyperson"), None);
    }
}
