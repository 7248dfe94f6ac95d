//! SSDN `OCMWCPASManageAccess` (version 20050930): register a person in BCSS's reference
//! directory for the organisation, unregister them, or list the registrations.
//!
//! REGISTER and UNREGISTER are *writes*: never resend them blindly. Their operations are
//! `register` and `unregister`; LIST's is `list`, so that a manifest can allow reading the
//! directory without allowing writes to it.
//!
//! ```
//! use bcss::services::manage_access::{ManageAccessRequest, Register};
//! use bcss::services::ServiceRequest;
//! use chrono::NaiveDate;
//!
//! let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
//! let register = ManageAccessRequest::register("68070100188".parse()?)
//!     .purpose(1)
//!     .period(start, None)
//!     .sis_card_number("1234567890")
//!     .build()?;
//! assert_eq!(register.operation(), "register");
//!
//! // A LIST may ask a register; a REGISTER may not.
//! let list = ManageAccessRequest::list("68070100188".parse()?)
//!     .period(start, None)
//!     .query_register(Register::All)
//!     .sis_card_number("1234567890")
//!     .build()?;
//! assert_eq!(list.operation(), "list");
//! assert!(ManageAccessRequest::register("68070100188".parse()?)
//!     .purpose(1)
//!     .period(start, None)
//!     .query_register(Register::All)
//!     .sis_card_number("1234567890")
//!     .build()
//!     .is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::LazyLock;

use chrono::NaiveDate;
use serde::Serialize;

use super::catalogue::builtin;
use super::{Decoded, RequestError, RequestHeader, Service, ServiceDescriptor, ServiceRequest};
use crate::ids::Ssin;
use crate::soap::Limits;
use crate::ssdn::read::In;
use crate::ssdn::{self, COMMON_NS, IncompleteDate, SsdnError, validate};
use crate::xml::Element;

mod reply;
pub use reply::{ManageAccessResponse, OriginalRequest, Registration, read_reply};

/// The ManageAccess namespace.
pub const NAMESPACE: &str = "http://www.ksz-bcss.fgov.be/XSD/SSDN/OCMW_CPAS/ManageAccess";

/// The service's name in the catalogue, manifests and the journal.
pub const NAME: &str = "ManageAccess";

const SERVICE: &str = NAME;

/// The SSDN `ServiceId`.
pub const SERVICE_ID: &str = "OCMWCPASManageAccess";

/// The SSDN `Version`.
pub const VERSION: &str = "20050930";

/// ManageAccess's catalogue entry: `register` and `unregister` are writes, `list` reads;
/// all three send a `ManageAccessRequest` whose `Action` tells them apart.
pub fn descriptor() -> ServiceDescriptor {
    let op = |action: Action| builtin::Op {
        name: action.operation(),
        request: "ManageAccessRequest",
        response: "ManageAccessReply",
        fault: None,
        write: action.is_write(),
        subjects: &["SSIN"],
    };
    builtin::ssdn(
        NAME,
        SERVICE_ID,
        VERSION,
        NAMESPACE,
        &[
            op(Action::Register),
            op(Action::Unregister),
            op(Action::List),
        ],
    )
}

static SERVICE_HANDLE: LazyLock<Service> = LazyLock::new(|| builtin::service(descriptor()));

/// ManageAccess's handle in the catalogue.
pub fn service() -> &'static Service {
    &SERVICE_HANDLE
}

/// What to do in the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Action {
    /// Register the person (a write).
    Register,
    /// Unregister the person (a write).
    Unregister,
    /// List the person's registrations.
    List,
}

impl Action {
    /// The value as written (`REGISTER`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Register => "REGISTER",
            Action::Unregister => "UNREGISTER",
            Action::List => "LIST",
        }
    }

    /// The operation name used by manifests and the journal.
    pub fn operation(self) -> &'static str {
        match self {
            Action::Register => "register",
            Action::Unregister => "unregister",
            Action::List => "list",
        }
    }

    /// Whether the action changes BCSS's register (`register`, `unregister`).
    pub fn is_write(self) -> bool {
        matches!(self, Action::Register | Action::Unregister)
    }

    fn parse(v: &str) -> Option<Action> {
        match v {
            "REGISTER" => Some(Action::Register),
            "UNREGISTER" => Some(Action::Unregister),
            "LIST" => Some(Action::List),
            _ => None,
        }
    }
}

/// Which directory: BCSS's primary one, the sector's secondary one, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Register {
    /// `PRIMARY` (BCSS).
    Primary,
    /// `SECONDARY` (the sector's).
    Secondary,
    /// `ALL`.
    All,
}

impl Register {
    /// The value as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Register::Primary => "PRIMARY",
            Register::Secondary => "SECONDARY",
            Register::All => "ALL",
        }
    }

    fn parse(v: &str) -> Option<Register> {
        match v {
            "PRIMARY" => Some(Register::Primary),
            "SECONDARY" => Some(Register::Secondary),
            "ALL" => Some(Register::All),
            _ => None,
        }
    }
}

/// A period with a start and an optional end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    /// The first day.
    pub start: NaiveDate,
    /// The last day, if any.
    pub end: Option<NaiveDate>,
}

impl Period {
    fn element(&self) -> Element {
        let date = |name: &str, d: NaiveDate| {
            Element::ns(COMMON_NS, name)
                .with_prefix("common")
                .with_text(d.format("%Y-%m-%d").to_string())
        };
        Element::ns(NAMESPACE, "Period")
            .with_prefix("ma")
            .with_child(date("StartDate", self.start))
            .with_opt_child(self.end.map(|e| date("EndDate", e)))
    }

    fn read(e: &In<'_>) -> Result<Period, SsdnError> {
        Ok(Period {
            start: e
                .date_in(COMMON_NS, "StartDate")?
                .ok_or_else(|| SsdnError::Missing {
                    element: format!("{}/StartDate", e.e.name),
                })?,
            end: e.date_in(COMMON_NS, "EndDate")?,
        })
    }
}

/// Personal data that proves the caller knows who the person is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofPersonData {
    /// The last name.
    pub last_name: String,
    /// The first name.
    pub first_name: Option<String>,
    /// The birth date, possibly incomplete.
    pub birth_date: IncompleteDate,
}

impl ProofPersonData {
    /// Personal data with the two required fields.
    pub fn new(last_name: impl Into<String>, birth_date: IncompleteDate) -> Self {
        ProofPersonData {
            last_name: last_name.into(),
            first_name: None,
            birth_date,
        }
    }

    /// Set the first name.
    pub fn first_name(mut self, v: impl Into<String>) -> Self {
        self.first_name = Some(v.into());
        self
    }
}

/// Proof that the caller knows the person: at least one of the three.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProofOfAuthentication {
    /// The SIS card number (10 digits).
    pub sis_card_number: Option<String>,
    /// The identity card number (12 digits).
    pub identity_card_number: Option<String>,
    /// Personal data.
    pub person_data: Option<ProofPersonData>,
}

impl ProofOfAuthentication {
    fn checked(self) -> Result<Self, RequestError> {
        if self.sis_card_number.is_none()
            && self.identity_card_number.is_none()
            && self.person_data.is_none()
        {
            return Err(RequestError::Missing {
                service: SERVICE.into(),
                field: "ProofOfAuthentication (a SIS card, an identity card or personal data)",
            });
        }
        let person_data = match self.person_data {
            None => None,
            Some(p) => Some(ProofPersonData {
                last_name: validate::name(SERVICE, "PersonData/LastName", &p.last_name)?,
                first_name: validate::opt_name(
                    SERVICE,
                    "PersonData/FirstName",
                    p.first_name.as_deref(),
                )?,
                birth_date: p.birth_date,
            }),
        };
        Ok(ProofOfAuthentication {
            sis_card_number: self
                .sis_card_number
                .map(|n| validate::card_number(SERVICE, "SISCardNumber", &n, 10))
                .transpose()?,
            identity_card_number: self
                .identity_card_number
                .map(|n| validate::card_number(SERVICE, "IdentityCardNumber", &n, 12))
                .transpose()?,
            person_data,
        })
    }

    fn element(&self) -> Element {
        let person = self.person_data.as_ref().map(|p| {
            Element::ns(NAMESPACE, "PersonData")
                .with_prefix("ma")
                .with_leaf("LastName", p.last_name.as_str())
                .with_opt_leaf("FirstName", p.first_name.as_deref())
                .with_leaf("BirthDate", p.birth_date.to_string())
        });
        Element::ns(NAMESPACE, "ProofOfAuthentication")
            .with_prefix("ma")
            .with_opt_leaf("SISCardNumber", self.sis_card_number.as_deref())
            .with_opt_leaf("IdentityCardNumber", self.identity_card_number.as_deref())
            .with_opt_child(person)
    }
}

/// A request to ManageAccess. Build it with [`ManageAccessRequest::register`],
/// [`ManageAccessRequest::unregister`] or [`ManageAccessRequest::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManageAccessRequest {
    ssin: Ssin,
    action: Action,
    purpose: Option<u32>,
    period: Period,
    sector: Option<u32>,
    query_register: Option<Register>,
    proof: ProofOfAuthentication,
}

/// Builds a [`ManageAccessRequest`]; [`ManageAccessBuilder::build`] refuses invalid
/// combinations.
#[derive(Debug, Clone)]
pub struct ManageAccessBuilder {
    ssin: Ssin,
    action: Action,
    purpose: Option<u32>,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    sector: Option<u32>,
    query_register: Option<Register>,
    proof: ProofOfAuthentication,
}

impl ManageAccessBuilder {
    /// The purpose code of the registration (required to register and unregister).
    pub fn purpose(mut self, purpose: u32) -> Self {
        self.purpose = Some(purpose);
        self
    }

    /// The period: a start date and an optional end date.
    pub fn period(mut self, start: NaiveDate, end: Option<NaiveDate>) -> Self {
        self.start = Some(start);
        self.end = end;
        self
    }

    /// The sector to list registrations of (LIST only).
    pub fn sector(mut self, sector: u32) -> Self {
        self.sector = Some(sector);
        self
    }

    /// The directory to query (LIST only).
    pub fn query_register(mut self, register: Register) -> Self {
        self.query_register = Some(register);
        self
    }

    /// Prove the identity with a SIS card number (10 digits).
    pub fn sis_card_number(mut self, number: impl Into<String>) -> Self {
        self.proof.sis_card_number = Some(number.into());
        self
    }

    /// Prove the identity with an identity card number (12 digits).
    pub fn identity_card_number(mut self, number: impl Into<String>) -> Self {
        self.proof.identity_card_number = Some(number.into());
        self
    }

    /// Prove the identity with personal data.
    pub fn person_data(mut self, data: ProofPersonData) -> Self {
        self.proof.person_data = Some(data);
        self
    }

    /// The request, or why it cannot be sent: no period start, an end before the start,
    /// no purpose to register or unregister, a sector or query register with an action
    /// other than LIST, no proof of authentication, a malformed card number or name.
    pub fn build(self) -> Result<ManageAccessRequest, RequestError> {
        let start = self.start.ok_or(RequestError::Missing {
            service: SERVICE.into(),
            field: "Period/StartDate",
        })?;
        if let Some(end) = self.end.filter(|end| *end < start) {
            return Err(RequestError::Invalid {
                service: SERVICE.into(),
                message: format!("the period ends ({end}) before it starts ({start})"),
            });
        }
        if self.action != Action::List {
            if self.purpose.is_none() {
                return Err(RequestError::Missing {
                    service: SERVICE.into(),
                    field: "Purpose (to register or unregister)",
                });
            }
            let list_only = match (self.sector, self.query_register) {
                (Some(_), _) => Some("Sector"),
                (None, Some(_)) => Some("QueryRegister"),
                (None, None) => None,
            };
            if let Some(field) = list_only {
                return Err(RequestError::Invalid {
                    service: SERVICE.into(),
                    message: format!(
                        "{field} applies to LIST only, not to {}",
                        self.action.as_str()
                    ),
                });
            }
        }
        Ok(ManageAccessRequest {
            ssin: self.ssin,
            action: self.action,
            purpose: self.purpose,
            period: Period {
                start,
                end: self.end,
            },
            sector: self.sector,
            query_register: self.query_register,
            proof: self.proof.checked()?,
        })
    }
}

impl ManageAccessRequest {
    /// A builder for `action` on the person `ssin`.
    pub fn builder(action: Action, ssin: Ssin) -> ManageAccessBuilder {
        ManageAccessBuilder {
            ssin,
            action,
            purpose: None,
            start: None,
            end: None,
            sector: None,
            query_register: None,
            proof: ProofOfAuthentication::default(),
        }
    }

    /// A builder to register `ssin`.
    pub fn register(ssin: Ssin) -> ManageAccessBuilder {
        ManageAccessRequest::builder(Action::Register, ssin)
    }

    /// A builder to unregister `ssin`.
    pub fn unregister(ssin: Ssin) -> ManageAccessBuilder {
        ManageAccessRequest::builder(Action::Unregister, ssin)
    }

    /// A builder to list the registrations of `ssin`.
    pub fn list(ssin: Ssin) -> ManageAccessBuilder {
        ManageAccessRequest::builder(Action::List, ssin)
    }

    /// The action.
    pub fn action(&self) -> Action {
        self.action
    }

    /// The soapAction (the connector's `sendXML`).
    pub fn soap_action(&self) -> &'static str {
        ssdn::SOAP_ACTION
    }

    /// The `ManageAccessRequest` payload element.
    pub fn payload(&self) -> Element {
        Element::ns(NAMESPACE, "ManageAccessRequest")
            .with_prefix("ma")
            .with_leaf("SSIN", self.ssin.reveal())
            .with_opt_leaf("Purpose", self.purpose.map(|p| p.to_string()))
            .with_child(self.period.element())
            .with_leaf("Action", self.action.as_str())
            .with_opt_leaf("Sector", self.sector.map(|s| s.to_string()))
            .with_opt_leaf("QueryRegister", self.query_register.map(Register::as_str))
            .with_child(self.proof.element())
    }
}

impl crate::services::Sealed for ManageAccessRequest {}

impl ServiceRequest for ManageAccessRequest {
    type Response = ManageAccessResponse;

    fn service(&self) -> Service {
        service().clone()
    }

    fn operation(&self) -> &'static str {
        self.action.operation()
    }

    fn subjects(&self) -> Vec<Ssin> {
        vec![self.ssin.clone()]
    }

    fn access_purpose(&self) -> Option<u32> {
        self.purpose
    }

    fn encode(&self, header: &RequestHeader) -> Result<Vec<u8>, crate::Error> {
        ssdn::encode_request(header, service(), self.payload())
    }

    fn decode(&self, http_status: u16, body: &[u8], limits: &Limits) -> Decoded<Self::Response> {
        ssdn::decode_reply(service(), http_status, body, limits, read_reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anna() -> Ssin {
        "85031204246".parse().unwrap()
    }

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, m, d).unwrap()
    }

    fn err(b: ManageAccessBuilder) -> String {
        b.build().unwrap_err().to_string()
    }

    #[test]
    fn builder_refuses_invalid_combinations() {
        let ok = || {
            ManageAccessRequest::register(anna())
                .purpose(1)
                .period(day(1, 1), Some(day(12, 31)))
                .sis_card_number("1234567890")
        };
        assert!(ok().build().is_ok());
        assert!(
            err(ManageAccessRequest::register(anna())
                .purpose(1)
                .sis_card_number("1234567890"))
            .contains("Period/StartDate is required")
        );
        assert!(err(ok().period(day(2, 1), Some(day(1, 1)))).contains("ends"));
        assert!(
            err(ManageAccessRequest::unregister(anna())
                .period(day(1, 1), None)
                .sis_card_number("1234567890"))
            .contains("Purpose")
        );
        assert!(err(ok().sector(17)).contains("Sector applies to LIST only"));
        assert!(err(ok().query_register(Register::Primary)).contains("QueryRegister"));
        assert!(
            err(ManageAccessRequest::list(anna()).period(day(1, 1), None))
                .contains("ProofOfAuthentication")
        );
        assert!(err(ok().identity_card_number("12")).contains("12 digits"));
        assert!(
            err(ok().person_data(ProofPersonData::new("", "1985-03-12".parse().unwrap())))
                .contains("LastName")
        );
        let list = ManageAccessRequest::list(anna())
            .period(day(1, 1), None)
            .sector(17)
            .query_register(Register::Secondary)
            .person_data(ProofPersonData::new(
                "VOORBEELD",
                "1985-03-12".parse().unwrap(),
            ))
            .build()
            .unwrap();
        assert_eq!(list.operation(), "list");
        assert_eq!(list.subjects(), vec![anna()]);
    }

    #[test]
    fn payload_order_and_namespaces() {
        let r = ManageAccessRequest::register(anna())
            .purpose(7)
            .period(day(3, 1), None)
            .identity_card_number("591123456789")
            .build()
            .unwrap();
        let p = r.payload();
        let names: Vec<&str> = p.elements().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "SSIN",
                "Purpose",
                "Period",
                "Action",
                "ProofOfAuthentication"
            ]
        );
        let start = p.find(&["Period", "StartDate"]).unwrap();
        assert_eq!(start.namespace.as_deref(), Some(COMMON_NS));
        assert_eq!(start.text(), "2024-03-01");
        assert!(p.find(&["Period", "EndDate"]).is_none());
        assert_eq!(r.operation(), "register");
    }
}
