//! RetrieveTIGroupsService v2: `retrieveTI` reads a person's National Register
//! information types ("TI groups").
//!
//! The request is `informationCustomer`, `legalContext` (mandatory since v2) and
//! `searchInformation` (ssin, language nl/fr/de, history). The reply carries
//! `rrn_it_implicit` in the Register's xm25 schema, decoded here into a [`PersonRecord`]:
//! national number, names, birth, gender, nationality, residences and addresses, civil
//! state, decease, each with the dates it applied.
//!
//! ```
//! use bcss::ids::Ssin;
//! use bcss::services::ServiceRequest;
//! use bcss::services::retrieve_ti_groups::{Language, RetrieveTi};
//! let marc = Ssin::new("68070100188").unwrap();
//! let request = RetrieveTi::new(marc.clone())
//!     .unwrap()
//!     .language(Language::Fr)
//!     .with_history(true);
//! assert_eq!(request.operation(), "retrieveTI");
//! assert_eq!(request.subjects(), vec![marc]);
//! ```

use std::sync::LazyLock;

use serde::Serialize;

use crate::ids::Ssin;
use crate::services::catalogue::builtin;
use crate::services::{
    Decoded, LegalContextRule, RequestHeader, Service, ServiceDescriptor, ServiceRequest,
};
use crate::soap::{self, Limits};
use crate::v3::{self, Expect, V3Error};
use crate::xml::Element;

mod decode;
mod register;

pub use decode::RN_NS;
pub use register::{
    Address, AddressAbroad, Birth, CivilState, CodeLabel, Dated, Decease, FirstName, Gender,
    NationalNumber, PersonName, PersonRecord, Place, RnDate, Spouse, Street,
};

/// The interface namespace of the request and reply elements.
pub const NAMESPACE: &str = "http://kszbcss.fgov.be/intf/RetrieveTIGroupsService/v2";

/// The service's name in the catalogue, manifests and the journal.
pub const NAME: &str = "RetrieveTIGroups";

const SERVICE: &str = NAME;

/// RetrieveTIGroups's catalogue entry: `retrieveTI`, with a free legalContext (mandatory
/// since v2), about the person in `searchInformation/ssin`.
pub fn descriptor() -> ServiceDescriptor {
    builtin::v3(
        NAME,
        NAMESPACE,
        "v2",
        true,
        LegalContextRule::free(),
        &[builtin::Op {
            name: "retrieveTI",
            request: "retrieveTIGroupsRequest",
            response: "retrieveTIGroupsResponse",
            fault: Some("retrieveTIGroupsFault"),
            write: false,
            subjects: &["searchInformation/ssin"],
        }],
    )
}

static SERVICE_HANDLE: LazyLock<Service> = LazyLock::new(|| builtin::service(descriptor()));

/// RetrieveTIGroups's handle in the catalogue.
pub fn service() -> &'static Service {
    &SERVICE_HANDLE
}

const EXPECT: Expect<'static> = Expect {
    namespace: NAMESPACE,
    operation: "retrieveTI",
    response: "retrieveTIGroupsResponse",
    has_status: true,
};

/// The language of the Register's labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Dutch.
    Nl,
    /// French (BCSS's default).
    Fr,
    /// German.
    De,
}

impl Language {
    /// As the schema writes it: `nl`, `fr`, `de`.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Nl => "nl",
            Language::Fr => "fr",
            Language::De => "de",
        }
    }

    /// Read `nl`, `fr` or `de` (any case).
    pub fn parse(s: &str) -> Option<Language> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nl" => Some(Language::Nl),
            "fr" => Some(Language::Fr),
            "de" => Some(Language::De),
            _ => None,
        }
    }
}

/// A `retrieveTI` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrieveTi {
    ssin: Ssin,
    language: Option<Language>,
    history: bool,
}

impl RetrieveTi {
    /// A request for the current information of `ssin`, labels in BCSS's default
    /// language. Refused when BCSS's SsinType would refuse the number.
    pub fn new(ssin: Ssin) -> Result<RetrieveTi, crate::services::RequestError> {
        v3::check_ssin(SERVICE, &ssin)?;
        Ok(RetrieveTi {
            ssin,
            language: None,
            history: false,
        })
    }

    /// Labels in `language`.
    pub fn language(mut self, language: Language) -> RetrieveTi {
        self.language = Some(language);
        self
    }

    /// Ask for the history too (earlier names, addresses...), or not.
    pub fn with_history(mut self, history: bool) -> RetrieveTi {
        self.history = history;
        self
    }

    /// The person.
    pub fn ssin(&self) -> &Ssin {
        &self.ssin
    }

    /// The body element (`retrieveTIGroupsRequest`) for this header.
    pub fn body(&self, header: &RequestHeader) -> Result<Element, crate::Error> {
        let search = Element::new("searchInformation")
            .with_child(Element::new("ssin").with_text(self.ssin.reveal()))
            .with_opt_child(
                self.language
                    .map(|l| Element::new("language").with_text(l.as_str())),
            )
            .with_child(Element::new("history").with_text(if self.history {
                "true"
            } else {
                "false"
            }));
        Ok(
            v3::service_request_root(service(), "retrieveTIGroupsRequest", header)?
                .with_child(search),
        )
    }
}

/// The reply to `retrieveTI`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetrieveTiReply {
    /// Whether the history was asked for (as BCSS echoed it).
    pub history: bool,
    /// The language BCSS echoed, when it did.
    pub language: Option<Language>,
    /// The decoded Register data.
    pub person: PersonRecord,
}

fn read_reply(request: &RetrieveTi, root: &Element) -> Result<RetrieveTiReply, V3Error> {
    let search = root
        .child("searchInformation")
        .ok_or_else(|| V3Error::malformed(EXPECT.response, "no searchInformation"))?;
    let echoed = search
        .child_text("ssin")
        .ok_or_else(|| V3Error::malformed("searchInformation", "no ssin"))?;
    if echoed != request.ssin.reveal() {
        return Err(V3Error::malformed(
            "searchInformation/ssin",
            format!(
                "the reply is about {}, not the person asked for ({})",
                v3::mask_ssins(&echoed),
                request.ssin
            ),
        ));
    }
    let file = root
        .child("rrn_it_implicit")
        .ok_or_else(|| V3Error::malformed(EXPECT.response, "DATA_FOUND without rrn_it_implicit"))?;
    Ok(RetrieveTiReply {
        history: search
            .child_text("history")
            .map(|h| h == "true" || h == "1")
            .unwrap_or(request.history),
        language: search
            .child_text("language")
            .and_then(|l| Language::parse(&l)),
        person: decode::read_record(file)?,
    })
}

impl crate::services::Sealed for RetrieveTi {}

impl ServiceRequest for RetrieveTi {
    type Response = RetrieveTiReply;

    fn service(&self) -> Service {
        service().clone()
    }

    fn operation(&self) -> &'static str {
        "retrieveTI"
    }

    fn subjects(&self) -> Vec<Ssin> {
        vec![self.ssin.clone()]
    }

    fn encode(&self, header: &RequestHeader) -> Result<Vec<u8>, crate::Error> {
        Ok(soap::envelope(self.body(header)?))
    }

    fn decode(&self, http_status: u16, body: &[u8], limits: &Limits) -> Decoded<Self::Response> {
        v3::decode(&EXPECT, http_status, body, limits, |root| {
            read_reply(self, root)
        })
    }
}
