//! The IdentifyPerson reply: the people found, with their basic and extended data.

use serde::Serialize;

use super::NAMESPACE;
use crate::ids::Ssin;
use crate::ssdn::person::{Description, descriptions};
use crate::ssdn::read::In;
use crate::ssdn::{Gender, IncompleteDate, Origin, SsdnError, expect_payload};
use crate::xml::Element;

/// The people found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IdentifyPersonResponse {
    /// The matches (at most 100); empty when the reply has no `SearchResults`.
    pub persons: Vec<IdentifiedPerson>,
}

/// A person found (`LimitedLegalData`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdentifiedPerson {
    /// Where the data comes from (the National Register, or BCSS's own register).
    pub origin: Option<Origin>,
    /// The SSIN.
    pub ssin: Ssin,
    /// The last name.
    pub last_name: String,
    /// The first name(s).
    pub first_name: Option<String>,
    /// The middle name.
    pub middle_name: Option<String>,
    /// The birth date, possibly incomplete.
    pub birth_date: IncompleteDate,
    /// The gender.
    pub gender: Option<Gender>,
    /// The legal address, when it is a structured address.
    pub address: Option<Address>,
    /// The diplomatic post address, for a person registered abroad.
    pub diplomatic_post: Option<DiplomaticPost>,
    /// The extended data, returned only when BCSS could validate the identity.
    pub extended: Option<ExtendedData>,
}

/// A structured legal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Address {
    /// NIS code of the country.
    pub country_code: u32,
    /// NIS code of the municipality.
    pub municipality_code: Option<u32>,
    /// Names of the municipality.
    pub municipality: Vec<Description>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// NIS code of the street.
    pub street_code: Option<u32>,
    /// Names of the street.
    pub street: Vec<Description>,
    /// House number.
    pub house_number: Option<String>,
    /// Box.
    pub box_number: Option<String>,
}

/// An address registered at a diplomatic post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiplomaticPost {
    /// NIS code of the country the person lives in.
    pub country_code: Option<u32>,
    /// NIS code of the diplomatic post.
    pub post: u32,
    /// The address as one text.
    pub address: String,
}

/// Extended legal data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExtendedData {
    /// Civil state code.
    pub civil_state: Option<u32>,
    /// NIS code of the birth place (municipality or country).
    pub birth_location_code: Option<u32>,
    /// Names of the birth place.
    pub birth_location: Vec<Description>,
    /// Decease date, possibly incomplete.
    pub decease_date: Option<IncompleteDate>,
    /// The register the person is inscribed in.
    pub inscription_register: Option<String>,
    /// NIS code of the nationality.
    pub nationality_code: Option<u32>,
}

fn read_person(data: &In<'_>) -> Result<IdentifiedPerson, SsdnError> {
    let basic = data.req("Basic")?;
    let address = match basic.child("Address") {
        None => None,
        Some(a) => Some(Address {
            country_code: a.req_number("CountryCode")?,
            municipality_code: a.number("MunicipalityCode")?,
            municipality: descriptions(&a, "Municipality"),
            postal_code: a.text("PostalCode"),
            street_code: a.number("StreetCode")?,
            street: descriptions(&a, "Street"),
            house_number: a.text("HouseNumber"),
            box_number: a.text("Box"),
        }),
    };
    let diplomatic_post = match basic.child("DiplomaticPost") {
        None => None,
        Some(d) => Some(DiplomaticPost {
            country_code: d.number("CountryCode")?,
            post: d.req_number("Post")?,
            address: d.req_text("AddressPlainText")?,
        }),
    };
    let extended = match data.child("Extended") {
        None => None,
        Some(x) => Some(ExtendedData {
            civil_state: x.number("CivilState")?,
            birth_location_code: x.number("BirthLocationCode")?,
            birth_location: descriptions(&x, "BirthLocation"),
            decease_date: x.incomplete_date("DeceaseDate")?,
            inscription_register: x.text("InscriptionRegister"),
            nationality_code: x.number("NationalityCode")?,
        }),
    };
    Ok(IdentifiedPerson {
        origin: data.origin(),
        ssin: basic.ssin("SocialSecurityUser")?,
        last_name: basic.req_text("LastName")?,
        first_name: basic.text("FirstName"),
        middle_name: basic.text("MiddleName"),
        birth_date: basic.req_incomplete_date("BirthDate")?,
        gender: basic.gender("Gender")?,
        address,
        diplomatic_post,
        extended,
    })
}

/// Read an `IdentifyPersonReply` element.
pub fn read_reply(payload: Option<&Element>) -> Result<IdentifyPersonResponse, SsdnError> {
    let reply = In::new(
        expect_payload(payload, NAMESPACE, "IdentifyPersonReply")?,
        NAMESPACE,
    );
    let persons = match reply.child("SearchResults") {
        None => Vec::new(),
        Some(results) => results
            .all("LimitedLegalData")
            .map(|d| read_person(&d))
            .collect::<Result<_, _>>()?,
    };
    Ok(IdentifyPersonResponse { persons })
}
