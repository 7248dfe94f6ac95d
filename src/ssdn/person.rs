//! The SSDN person types (namespace [`PERSON_NS`](super::PERSON_NS)): `Citizen` with its legal data, names,
//! locations and addresses, as PerformInvestigation returns them.
//!
//! Each type mirrors its schema type; required elements are plain fields, optional ones
//! `Option`s, and NIS codes are numbers.

use serde::Serialize;

use super::error::SsdnError;
use super::read::In;
use super::types::{Gender, IncompleteDate, Origin};
use crate::ids::Ssin;

/// A description in one language (`DescriptionType`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Description {
    /// The `lang` attribute (`nl`, `fr`, `de`, `en`), when given.
    pub lang: Option<String>,
    /// The text.
    pub text: String,
}

/// Read the descriptions `name` of `parent` (in the parent's namespace).
pub(crate) fn descriptions(parent: &In<'_>, name: &'static str) -> Vec<Description> {
    parent
        .all(name)
        .map(|d| Description {
            lang: d.attr("lang"),
            text: d.own_text(),
        })
        .filter(|d| !d.text.is_empty())
        .collect()
}

/// Pick the description in `lang`, else the first one.
fn pick<'a>(descriptions: &'a [Description], lang: &str) -> Option<&'a str> {
    descriptions
        .iter()
        .find(|d| d.lang.as_deref() == Some(lang))
        .or_else(|| descriptions.first())
        .map(|d| d.text.as_str())
}

/// A NIS location: a code and its names (`LocationType`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The NIS code (municipality, country, diplomatic post).
    pub code: Option<u32>,
    /// The names, per language.
    pub descriptions: Vec<Description>,
}

impl Location {
    /// The name in `lang`, else the first name given.
    pub fn name(&self, lang: &str) -> Option<&str> {
        pick(&self.descriptions, lang)
    }

    pub(crate) fn read(e: &In<'_>) -> Result<Location, SsdnError> {
        Ok(Location {
            code: e.number("Code")?,
            descriptions: descriptions(e, "Description"),
        })
    }

    fn opt(parent: &In<'_>, name: &str) -> Result<Option<Location>, SsdnError> {
        parent.child(name).map(|c| Location::read(&c)).transpose()
    }
}

/// A structured address (`StandardAddressType`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StandardAddress {
    /// The country.
    pub country: Location,
    /// The municipality.
    pub municipality: Option<Location>,
    /// The municipality's postal code.
    pub postal_code: Option<String>,
    /// The street.
    pub street: Option<Location>,
    /// The house number.
    pub house_number: Option<String>,
    /// The box.
    pub box_number: Option<String>,
    /// Where the information comes from.
    pub origin: Option<Origin>,
    /// When it last changed (in the address history: from when it applies).
    pub modification_date: Option<IncompleteDate>,
}

impl StandardAddress {
    /// Read a `StandardAddressType` element.
    pub(crate) fn read(e: &In<'_>) -> Result<StandardAddress, SsdnError> {
        let municipality = e.child("Municipality");
        Ok(StandardAddress {
            country: Location::read(&e.req("Country")?)?,
            municipality: municipality.map(|m| Location::read(&m)).transpose()?,
            postal_code: municipality.and_then(|m| m.text("PostalCode")),
            street: Location::opt(e, "Street")?,
            house_number: e.text("HouseNumber"),
            box_number: e.text("Box"),
            origin: e.origin(),
            modification_date: e.modification_date()?,
        })
    }
}

/// An unstructured address, such as one registered at a diplomatic post
/// (`PlainTextAddressType`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlainTextAddress {
    /// The country.
    pub country: Option<Location>,
    /// The address as one text.
    pub address: Option<String>,
    /// Where the information comes from.
    pub origin: Option<Origin>,
    /// When it last changed.
    pub modification_date: Option<IncompleteDate>,
}

impl PlainTextAddress {
    fn read(e: &In<'_>) -> Result<PlainTextAddress, SsdnError> {
        Ok(PlainTextAddress {
            country: Location::opt(e, "Country")?,
            address: e.text("Address"),
            origin: e.origin(),
            modification_date: e.modification_date()?,
        })
    }
}

/// The location that manages a person's address (`ManagerLocationType`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManagerLocation {
    /// The municipality, country or diplomatic post.
    pub location: Location,
    /// Its linguistic regime.
    pub linguistic_regime: Option<String>,
    /// Where the information comes from.
    pub origin: Option<Origin>,
    /// When it last changed.
    pub modification_date: Option<IncompleteDate>,
}

impl ManagerLocation {
    /// Read a `ManagerLocationType` element.
    pub(crate) fn read(e: &In<'_>) -> Result<ManagerLocation, SsdnError> {
        Ok(ManagerLocation {
            location: Location::read(e)?,
            linguistic_regime: e.text("LinguisticRegime"),
            origin: e.origin(),
            modification_date: e.modification_date()?,
        })
    }
}

/// A legal address: structured, or at a diplomatic post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum LegalAddress {
    /// A structured address.
    Standard(StandardAddress),
    /// An address registered at a diplomatic post abroad.
    DiplomaticPost(PlainTextAddress),
}

/// A person's address information (`AddressInformation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddressInformation {
    /// Who manages the address.
    pub manager_location: Option<ManagerLocation>,
    /// The legal address.
    pub legal_address: Option<LegalAddress>,
    /// A declared temporary address.
    pub temporary_address: Option<PlainTextAddress>,
    /// A post address abroad.
    pub post_address_abroad: Option<PlainTextAddress>,
}

impl AddressInformation {
    fn read(e: &In<'_>) -> Result<AddressInformation, SsdnError> {
        let legal_address = match e.child("LegalAddress") {
            None => None,
            Some(l) => {
                if let Some(s) = l.child("StandardAddress") {
                    Some(LegalAddress::Standard(StandardAddress::read(&s)?))
                } else if let Some(d) = l.child("DiplomaticPostAddress") {
                    Some(LegalAddress::DiplomaticPost(PlainTextAddress::read(&d)?))
                } else {
                    return Err(SsdnError::Missing {
                        element: "LegalAddress/StandardAddress".to_string(),
                    });
                }
            }
        };
        let plain = |name| {
            e.child(name)
                .map(|c| PlainTextAddress::read(&c))
                .transpose()
        };
        Ok(AddressInformation {
            manager_location: e
                .child("ManagerLocation")
                .map(|m| ManagerLocation::read(&m))
                .transpose()?,
            legal_address,
            temporary_address: plain("TemporaryAddress")?,
            post_address_abroad: plain("PostAddressAbroad")?,
        })
    }
}

/// A person's names (`NameType`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Name {
    /// The last name.
    pub last_name: String,
    /// The middle name.
    pub middle_name: Option<String>,
    /// The first name(s).
    pub first_name: Option<String>,
    /// Whether the first name is complete.
    pub complete_first_name: Option<bool>,
}

impl Name {
    fn read(e: &In<'_>) -> Result<Name, SsdnError> {
        Ok(Name {
            last_name: e.req_text("LastName")?,
            middle_name: e.text("MiddleName"),
            first_name: e.text("FirstName"),
            complete_first_name: e.boolean("CompleteFirstName")?,
        })
    }
}

/// A birth or a decease: a date and a place (`BirthDeceaseType`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BirthDecease {
    /// The date, possibly incomplete.
    pub date: IncompleteDate,
    /// The place.
    pub location: Option<Location>,
}

impl BirthDecease {
    fn read(e: &In<'_>) -> Result<BirthDecease, SsdnError> {
        Ok(BirthDecease {
            date: e.req_incomplete_date("Date")?,
            location: Location::opt(e, "Location")?,
        })
    }
}

/// A spouse or partner (`PartnerType`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Partner {
    /// The partner's SSIN.
    pub ssin: Option<Ssin>,
    /// The partner's names.
    pub name: Option<Name>,
    /// The partner's birth date.
    pub birth_date: Option<IncompleteDate>,
    /// The partner's gender.
    pub gender: Option<Gender>,
}

/// Civil state (`CivilStateType`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CivilState {
    /// The civil state code (10 single, 20 married, ...).
    pub code: u32,
    /// Where the civil state act was made.
    pub location: Option<Location>,
    /// The spouse or partner.
    pub partner: Option<Partner>,
    /// When it last changed.
    pub modification_date: Option<IncompleteDate>,
}

impl CivilState {
    fn read(e: &In<'_>) -> Result<CivilState, SsdnError> {
        let partner = match e.child("Partner") {
            None => None,
            Some(p) => Some(Partner {
                ssin: p.opt_ssin("SocialSecurityUser")?,
                name: p.child("Name").map(|n| Name::read(&n)).transpose()?,
                birth_date: p.incomplete_date("BirthDate")?,
                gender: p.gender("Gender")?,
            }),
        };
        Ok(CivilState {
            code: e.req_number("Code")?,
            location: Location::opt(e, "Location")?,
            partner,
            modification_date: e.modification_date()?,
        })
    }
}

/// A citizen with their legal data (`Citizen`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Citizen {
    /// Where the information comes from.
    pub origin: Option<Origin>,
    /// The SSIN.
    pub ssin: Ssin,
    /// The register the person is inscribed in.
    pub inscription_register: Option<u32>,
    /// The names.
    pub name: Name,
    /// The gender.
    pub gender: Option<Gender>,
    /// Birth date and place.
    pub birth: BirthDecease,
    /// Civil state.
    pub civil_state: Option<CivilState>,
    /// Decease date and place, when deceased.
    pub decease: Option<BirthDecease>,
    /// Address information.
    pub address: Option<AddressInformation>,
    /// Nationality (NIS country code and names).
    pub nationality: Option<Location>,
}

impl Citizen {
    /// Read a `{Person}Citizen` element.
    pub(crate) fn read(e: &In<'_>) -> Result<Citizen, SsdnError> {
        let legal = e.req("LegalData")?;
        let birth = legal.req("Birth")?;
        Ok(Citizen {
            origin: e.origin(),
            ssin: e.ssin("SocialSecurityUser")?,
            inscription_register: e.number("InscriptionRegister")?,
            name: Name::read(&legal.req("Name")?)?,
            gender: legal.gender("Gender")?,
            birth: BirthDecease::read(&birth)?,
            civil_state: legal
                .child("CivilState")
                .map(|c| CivilState::read(&c))
                .transpose()?,
            decease: legal
                .child("Decease")
                .map(|d| BirthDecease::read(&d))
                .transpose()?,
            address: legal
                .child("AddressInformation")
                .map(|a| AddressInformation::read(&a))
                .transpose()?,
            nationality: Location::opt(&legal, "Nationality")?,
        })
    }
}
