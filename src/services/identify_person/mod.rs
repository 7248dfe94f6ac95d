//! SSDN `OCMWCPASIdentifyPerson` (version 20050930): identify a person by SSIN, optionally
//! verifying the identity with a SIS card, an identity card or personal data, or search
//! for people phonetically by name and (possibly incomplete) birth date.
//!
//! ```
//! use bcss::ids::Ssin;
//! use bcss::services::identify_person::{IdentifyPersonRequest, PersonData, PhoneticCriteria};
//! use bcss::ssdn::Gender;
//!
//! // An SSIN search, verified against personal data.
//! let ssin: Ssin = "68070100188".parse()?;
//! let by_ssin = IdentifyPersonRequest::builder()
//!     .ssin(ssin)
//!     .person_data(PersonData::new("FICTIF", "1968-07-01".parse()?))
//!     .build()?;
//!
//! // A phonetic search: an incomplete birth date needs a tolerance.
//! let phonetic = IdentifyPersonRequest::builder()
//!     .phonetic(
//!         PhoneticCriteria::new("VOORBEELD", "1985-00-00".parse()?)
//!             .first_name("Anna")
//!             .gender(Gender::Female)
//!             .tolerance(1)
//!             .maximum(10),
//!     )
//!     .build()?;
//!
//! // Both at once is refused before anything is encoded.
//! let both = IdentifyPersonRequest::builder()
//!     .ssin("68070100188".parse()?)
//!     .phonetic(PhoneticCriteria::new("FICTIF", "1968-07-01".parse()?))
//!     .build();
//! assert!(both.is_err());
//! # let _ = (by_ssin, phonetic);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::LazyLock;

use super::catalogue::builtin;
use super::{Decoded, RequestError, RequestHeader, Service, ServiceDescriptor, ServiceRequest};
use crate::ids::Ssin;
use crate::soap::Limits;
use crate::ssdn::{self, Gender, IncompleteDate, validate};
use crate::xml::Element;

mod reply;
pub use reply::{
    Address, DiplomaticPost, ExtendedData, IdentifiedPerson, IdentifyPersonResponse, read_reply,
};

/// The IdentifyPerson namespace.
pub const NAMESPACE: &str = "http://www.ksz-bcss.fgov.be/XSD/SSDN/OCMW_CPAS/IdentifyPerson";

/// The service's name in the catalogue, manifests and the journal.
pub const NAME: &str = "IdentifyPerson";

const SERVICE: &str = NAME;

/// The SSDN `ServiceId`.
pub const SERVICE_ID: &str = "OCMWCPASIdentifyPerson";

/// The SSDN `Version`.
pub const VERSION: &str = "20050930";

/// IdentifyPerson's catalogue entry: one operation, `identifyPerson`, whose subject is
/// the searched SSIN (a phonetic search has none).
pub fn descriptor() -> ServiceDescriptor {
    builtin::ssdn(
        NAME,
        SERVICE_ID,
        VERSION,
        NAMESPACE,
        &[builtin::Op {
            name: "identifyPerson",
            request: "IdentifyPersonRequest",
            response: "IdentifyPersonReply",
            fault: None,
            write: false,
            subjects: &["SearchCriteria/SSIN"],
        }],
    )
}

static SERVICE_HANDLE: LazyLock<Service> = LazyLock::new(|| builtin::service(descriptor()));

/// IdentifyPerson's handle in the catalogue.
pub fn service() -> &'static Service {
    &SERVICE_HANDLE
}

/// Criteria for a phonetic search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneticCriteria {
    /// The last name, matched phonetically.
    pub last_name: String,
    /// The first name.
    pub first_name: Option<String>,
    /// The middle name.
    pub middle_name: Option<String>,
    /// The birth date, possibly incomplete (`1938-00-00`).
    pub birth_date: IncompleteDate,
    /// The gender.
    pub gender: Option<Gender>,
    /// How far the birth date may be off, in the unit of its precision: days for a
    /// complete date, months for `yyyy-mm-00`, years for `yyyy-00-00`. Required when the
    /// birth date is incomplete.
    pub tolerance: Option<u32>,
    /// The most results to return, 1 to 80.
    pub maximum: Option<u8>,
}

impl PhoneticCriteria {
    /// Criteria with the two required fields.
    pub fn new(last_name: impl Into<String>, birth_date: IncompleteDate) -> Self {
        PhoneticCriteria {
            last_name: last_name.into(),
            first_name: None,
            middle_name: None,
            birth_date,
            gender: None,
            tolerance: None,
            maximum: None,
        }
    }

    /// Set the first name.
    pub fn first_name(mut self, v: impl Into<String>) -> Self {
        self.first_name = Some(v.into());
        self
    }

    /// Set the middle name.
    pub fn middle_name(mut self, v: impl Into<String>) -> Self {
        self.middle_name = Some(v.into());
        self
    }

    /// Set the gender.
    pub fn gender(mut self, v: Gender) -> Self {
        self.gender = Some(v);
        self
    }

    /// Set the birth date tolerance.
    pub fn tolerance(mut self, v: u32) -> Self {
        self.tolerance = Some(v);
        self
    }

    /// Set the maximum number of results (1 to 80).
    pub fn maximum(mut self, v: u8) -> Self {
        self.maximum = Some(v);
        self
    }

    fn checked(self) -> Result<Self, RequestError> {
        if !self.birth_date.is_complete() && self.tolerance.is_none() {
            return Err(RequestError::Invalid {
                service: SERVICE.into(),
                message: format!(
                    "the birth date {} is incomplete: give a tolerance (in {})",
                    self.birth_date,
                    if self.birth_date.month().is_none() {
                        "years"
                    } else {
                        "months"
                    }
                ),
            });
        }
        if let Some(m) = self.maximum.filter(|m| !(1..=80).contains(m)) {
            return Err(RequestError::Invalid {
                service: SERVICE.into(),
                message: format!("maximum must be from 1 to 80, got {m}"),
            });
        }
        Ok(PhoneticCriteria {
            last_name: validate::name(SERVICE, "LastName", &self.last_name)?,
            first_name: validate::opt_name(SERVICE, "FirstName", self.first_name.as_deref())?,
            middle_name: validate::opt_name(SERVICE, "MiddleName", self.middle_name.as_deref())?,
            ..self
        })
    }

    fn element(&self) -> Element {
        Element::ns(NAMESPACE, "PhoneticCriteria")
            .with_prefix("ip")
            .with_leaf("LastName", self.last_name.as_str())
            .with_opt_leaf("FirstName", self.first_name.as_deref())
            .with_opt_leaf("MiddleName", self.middle_name.as_deref())
            .with_leaf("BirthDate", self.birth_date.to_string())
            .with_opt_leaf("Gender", self.gender.map(Gender::code))
            .with_opt_leaf("Tolerance", self.tolerance.map(|t| t.to_string()))
            .with_opt_leaf("Maximum", self.maximum.map(|m| m.to_string()))
    }
}

/// Personal data to verify an SSIN against (matched exactly).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonData {
    /// The last name.
    pub last_name: String,
    /// The first name.
    pub first_name: Option<String>,
    /// The middle name.
    pub middle_name: Option<String>,
    /// The birth date, possibly incomplete.
    pub birth_date: IncompleteDate,
}

impl PersonData {
    /// Personal data with the two required fields.
    pub fn new(last_name: impl Into<String>, birth_date: IncompleteDate) -> Self {
        PersonData {
            last_name: last_name.into(),
            first_name: None,
            middle_name: None,
            birth_date,
        }
    }

    /// Set the first name.
    pub fn first_name(mut self, v: impl Into<String>) -> Self {
        self.first_name = Some(v.into());
        self
    }

    /// Set the middle name.
    pub fn middle_name(mut self, v: impl Into<String>) -> Self {
        self.middle_name = Some(v.into());
        self
    }
}

/// How to verify the identity of the person searched by SSIN. BCSS accepts the identity
/// when one of the given items matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerificationData {
    /// The SIS card number (10 digits).
    pub sis_card_number: Option<String>,
    /// The identity card number (12 digits).
    pub identity_card_number: Option<String>,
    /// Personal data.
    pub person_data: Option<PersonData>,
}

impl VerificationData {
    fn is_empty(&self) -> bool {
        self.sis_card_number.is_none()
            && self.identity_card_number.is_none()
            && self.person_data.is_none()
    }

    fn element(&self) -> Element {
        let person = self.person_data.as_ref().map(|p| {
            Element::ns(NAMESPACE, "PersonData")
                .with_prefix("ip")
                .with_leaf("LastName", p.last_name.as_str())
                .with_opt_leaf("FirstName", p.first_name.as_deref())
                .with_opt_leaf("MiddleName", p.middle_name.as_deref())
                .with_leaf("BirthDate", p.birth_date.to_string())
        });
        Element::ns(NAMESPACE, "VerificationData")
            .with_prefix("ip")
            .with_opt_leaf("SISCardNumber", self.sis_card_number.as_deref())
            .with_opt_leaf("IdentityCardNumber", self.identity_card_number.as_deref())
            .with_opt_child(person)
    }
}

/// What is searched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Search {
    /// One person, by SSIN.
    Ssin(Ssin),
    /// People, by phonetic criteria.
    Phonetic(PhoneticCriteria),
}

/// A request to IdentifyPerson. Build it with [`IdentifyPersonRequest::builder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifyPersonRequest {
    search: Search,
    verification: Option<VerificationData>,
}

/// Builds an [`IdentifyPersonRequest`]; [`IdentifyPersonBuilder::build`] refuses invalid
/// combinations.
#[derive(Debug, Clone, Default)]
pub struct IdentifyPersonBuilder {
    ssin: Option<Ssin>,
    phonetic: Option<PhoneticCriteria>,
    verification: VerificationData,
}

impl IdentifyPersonBuilder {
    /// Search by SSIN.
    pub fn ssin(mut self, ssin: Ssin) -> Self {
        self.ssin = Some(ssin);
        self
    }

    /// Search phonetically.
    pub fn phonetic(mut self, criteria: PhoneticCriteria) -> Self {
        self.phonetic = Some(criteria);
        self
    }

    /// Verify the SSIN's identity with a SIS card number (10 digits).
    pub fn sis_card_number(mut self, number: impl Into<String>) -> Self {
        self.verification.sis_card_number = Some(number.into());
        self
    }

    /// Verify the SSIN's identity with an identity card number (12 digits).
    pub fn identity_card_number(mut self, number: impl Into<String>) -> Self {
        self.verification.identity_card_number = Some(number.into());
        self
    }

    /// Verify the SSIN's identity with personal data.
    pub fn person_data(mut self, data: PersonData) -> Self {
        self.verification.person_data = Some(data);
        self
    }

    /// The request, or why it cannot be sent: an SSIN and phonetic criteria together
    /// (BCSS would answer 21007001), neither, verification data with a phonetic search,
    /// a malformed card number or name, an incomplete phonetic birth date without a
    /// tolerance, a maximum outside 1-80.
    pub fn build(self) -> Result<IdentifyPersonRequest, RequestError> {
        let search = match (self.ssin, self.phonetic) {
            (Some(_), Some(_)) => {
                return Err(RequestError::Invalid {
                    service: SERVICE.into(),
                    message: "give either an SSIN or phonetic criteria, not both".to_string(),
                });
            }
            (None, None) => {
                return Err(RequestError::Missing {
                    service: SERVICE.into(),
                    field: "an SSIN or phonetic criteria",
                });
            }
            (Some(ssin), None) => Search::Ssin(ssin),
            (None, Some(p)) => Search::Phonetic(p.checked()?),
        };
        let v = self.verification;
        if v.is_empty() {
            return Ok(IdentifyPersonRequest {
                search,
                verification: None,
            });
        }
        if matches!(search, Search::Phonetic(_)) {
            return Err(RequestError::Invalid {
                service: SERVICE.into(),
                message: "verification data applies to an SSIN search only".to_string(),
            });
        }
        let person_data = match v.person_data {
            None => None,
            Some(p) => Some(PersonData {
                last_name: validate::name(SERVICE, "PersonData/LastName", &p.last_name)?,
                first_name: validate::opt_name(
                    SERVICE,
                    "PersonData/FirstName",
                    p.first_name.as_deref(),
                )?,
                middle_name: validate::opt_name(
                    SERVICE,
                    "PersonData/MiddleName",
                    p.middle_name.as_deref(),
                )?,
                birth_date: p.birth_date,
            }),
        };
        let verification = VerificationData {
            sis_card_number: v
                .sis_card_number
                .map(|n| validate::card_number(SERVICE, "SISCardNumber", &n, 10))
                .transpose()?,
            identity_card_number: v
                .identity_card_number
                .map(|n| validate::card_number(SERVICE, "IdentityCardNumber", &n, 12))
                .transpose()?,
            person_data,
        };
        Ok(IdentifyPersonRequest {
            search,
            verification: Some(verification),
        })
    }
}

impl IdentifyPersonRequest {
    /// A new builder.
    pub fn builder() -> IdentifyPersonBuilder {
        IdentifyPersonBuilder::default()
    }

    /// A plain SSIN search, without verification.
    pub fn by_ssin(ssin: Ssin) -> Self {
        IdentifyPersonRequest {
            search: Search::Ssin(ssin),
            verification: None,
        }
    }

    /// What is searched for.
    pub fn search(&self) -> &Search {
        &self.search
    }

    /// The verification data, for an SSIN search.
    pub fn verification(&self) -> Option<&VerificationData> {
        self.verification.as_ref()
    }

    /// The soapAction (the connector's `sendXML`).
    pub fn soap_action(&self) -> &'static str {
        ssdn::SOAP_ACTION
    }

    /// The `IdentifyPersonRequest` payload element.
    pub fn payload(&self) -> Element {
        let criteria = Element::ns(NAMESPACE, "SearchCriteria").with_prefix("ip");
        let criteria = match &self.search {
            Search::Ssin(ssin) => criteria.with_leaf("SSIN", ssin.reveal()),
            Search::Phonetic(p) => criteria.with_child(p.element()),
        };
        Element::ns(NAMESPACE, "IdentifyPersonRequest")
            .with_prefix("ip")
            .with_child(criteria)
            .with_opt_child(self.verification.as_ref().map(VerificationData::element))
    }
}

impl crate::services::Sealed for IdentifyPersonRequest {}

impl ServiceRequest for IdentifyPersonRequest {
    type Response = IdentifyPersonResponse;

    fn service(&self) -> Service {
        service().clone()
    }

    fn operation(&self) -> &'static str {
        "identifyPerson"
    }

    fn subjects(&self) -> Vec<Ssin> {
        match &self.search {
            Search::Ssin(ssin) => vec![ssin.clone()],
            Search::Phonetic(_) => Vec::new(),
        }
    }

    fn encode(&self, header: &RequestHeader) -> Result<Vec<u8>, crate::Error> {
        ssdn::encode_request(header, service(), self.payload())
    }

    /// A reply that found nobody (`YES` without `SearchResults`) is no data, like a `NO`
    /// for "no phonetic match": [`SsdnError::NoData`](crate::ssdn::SsdnError::NoData),
    /// journaled as `no_data`.
    fn decode(&self, http_status: u16, body: &[u8], limits: &Limits) -> Decoded<Self::Response> {
        let decoded = ssdn::decode_reply(service(), http_status, body, limits, read_reply);
        match &decoded.result {
            Ok(reply) if reply.data.persons.is_empty() => Decoded {
                outcome: crate::services::Outcome::NoData {
                    code: reply
                        .warnings
                        .first()
                        .map(|w| w.code.clone())
                        .unwrap_or_default(),
                },
                result: Err(crate::ssdn::SsdnError::NoData {
                    what: "no person matches the search".to_string(),
                    ticket: decoded.stamp.ticket.clone(),
                }
                .into()),
                stamp: decoded.stamp,
            },
            _ => decoded,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marc() -> Ssin {
        "68070100188".parse().unwrap()
    }

    fn date(s: &str) -> IncompleteDate {
        s.parse().unwrap()
    }

    fn refused(b: IdentifyPersonBuilder) -> String {
        b.build().unwrap_err().to_string()
    }

    #[test]
    fn builder_refuses_invalid_combinations() {
        let p = || PhoneticCriteria::new("FICTIF", date("1968-07-01"));
        assert!(
            refused(IdentifyPersonRequest::builder().ssin(marc()).phonetic(p()))
                .contains("not both")
        );
        assert!(refused(IdentifyPersonRequest::builder()).contains("is required"));
        assert!(
            refused(
                IdentifyPersonRequest::builder()
                    .phonetic(p())
                    .sis_card_number("1234567890")
            )
            .contains("SSIN search only")
        );
        let incomplete = PhoneticCriteria::new("FICTIF", date("1968-00-00"));
        assert!(
            refused(IdentifyPersonRequest::builder().phonetic(incomplete.clone()))
                .contains("tolerance (in years)")
        );
        assert!(
            IdentifyPersonRequest::builder()
                .phonetic(incomplete.tolerance(2))
                .build()
                .is_ok()
        );
        for m in [0, 81] {
            assert!(
                refused(IdentifyPersonRequest::builder().phonetic(p().maximum(m)))
                    .contains("maximum")
            );
        }
        assert!(
            refused(
                IdentifyPersonRequest::builder()
                    .phonetic(PhoneticCriteria::new(" ", date("1968-07-01")))
            )
            .contains("LastName is required")
        );
        assert!(
            refused(
                IdentifyPersonRequest::builder()
                    .ssin(marc())
                    .sis_card_number("123")
            )
            .contains("SISCardNumber must be 10 digits")
        );
        assert!(
            refused(
                IdentifyPersonRequest::builder()
                    .ssin(marc())
                    .identity_card_number("1234567890")
            )
            .contains("IdentityCardNumber must be 12 digits")
        );
    }

    #[test]
    fn payload_follows_the_schema_order() {
        let r = IdentifyPersonRequest::builder()
            .ssin(marc())
            .person_data(PersonData::new("FICTIF", date("1968-07-01")).first_name("Marc"))
            .identity_card_number("591-1234567-89")
            .sis_card_number("1234567890")
            .build()
            .unwrap();
        let p = r.payload();
        let names: Vec<&str> = p
            .child("VerificationData")
            .unwrap()
            .elements()
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(names, ["SISCardNumber", "IdentityCardNumber", "PersonData"]);
        assert_eq!(
            p.find(&["VerificationData", "IdentityCardNumber"])
                .unwrap()
                .text(),
            "591123456789"
        );
        assert_eq!(
            p.find(&["SearchCriteria", "SSIN"]).unwrap().text(),
            "68070100188"
        );
        assert_eq!(r.subjects(), vec![marc()]);
        let phonetic = IdentifyPersonRequest::builder()
            .phonetic(PhoneticCriteria::new("VOORBEELD", date("1985-03-00")).tolerance(1))
            .build()
            .unwrap();
        assert!(phonetic.subjects().is_empty());
        assert_eq!(
            phonetic
                .payload()
                .find(&["SearchCriteria", "PhoneticCriteria", "BirthDate"])
                .unwrap()
                .text(),
            "1985-03-00"
        );
    }
}
