//! The National Register data a `retrieveTI` reply carries (`rrn_it_implicit`, the
//! Register's xm25 schema), as types.
//!
//! Each information type (IT, "TI" in BCSS's documents) is dated: `Date` is when the
//! information took effect and `DelDate`, when present, when it stopped applying. Without
//! history the Register sends only the current entries; with history, the earlier ones
//! too. [`Dated::since`] and [`Dated::until`] keep both dates; the `current_*` helpers of
//! [`PersonRecord`] pick the entry in force.

use std::fmt;

use chrono::NaiveDate;
use serde::{Serialize, Serializer};

use crate::ids::Ssin;

/// A date of the Register, possibly incomplete (unknown month or day, written `00`).
///
/// ```
/// use bcss::services::retrieve_ti_groups::RnDate;
/// let d = RnDate { year: Some(1950), month: None, day: None };
/// assert_eq!(d.to_string(), "1950-00-00");
/// assert_eq!(d.to_date(), None);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RnDate {
    /// The year, when known.
    pub year: Option<u16>,
    /// The month (1-12), when known.
    pub month: Option<u8>,
    /// The day (1-31), when known.
    pub day: Option<u8>,
}

impl RnDate {
    /// The calendar date, when year, month and day are all known and valid.
    pub fn to_date(&self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(
            i32::from(self.year?),
            u32::from(self.month?),
            u32::from(self.day?),
        )
    }

    /// Whether year, month and day are all known.
    pub fn is_complete(&self) -> bool {
        self.year.is_some() && self.month.is_some() && self.day.is_some()
    }
}

/// `YYYY-MM-DD`, with zeros for unknown parts (`1950-00-00`), as BCSS writes
/// incomplete dates.
impl fmt::Display for RnDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.year.unwrap_or(0),
            self.month.unwrap_or(0),
            self.day.unwrap_or(0)
        )
    }
}

impl Serialize for RnDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A person's registered gender (IT000 `Sex`: 1 male, 2 female).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Gender {
    /// `1`.
    Male,
    /// `2`.
    Female,
}

/// A coded value with its label in the requested language (nationality, municipality,
/// country, civil state...).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct CodeLabel {
    /// The Register's code (e.g. a municipality's NIS code, a country code).
    pub code: String,
    /// Its label, when given.
    pub label: Option<String>,
}

/// A piece of information with the dates it applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dated<T> {
    /// `Date`: when it took effect.
    pub since: RnDate,
    /// `DelDate`: when it stopped applying; `None` while it applies.
    pub until: Option<RnDate>,
    /// The information.
    pub value: T,
}

impl<T> Dated<T> {
    /// Whether it still applies (no `DelDate`).
    pub fn is_current(&self) -> bool {
        self.until.is_none()
    }
}

/// The entry in force: among those without an end, the one that started last.
fn current<T>(entries: &[Dated<T>]) -> Option<&Dated<T>> {
    entries
        .iter()
        .filter(|e| e.is_current())
        .max_by_key(|e| e.since)
}

/// IT000: the national number with the birth date and gender it encodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NationalNumber {
    /// The national number.
    pub ssin: Ssin,
    /// The birth date (possibly incomplete).
    pub birth_date: RnDate,
    /// The gender.
    pub gender: Gender,
}

/// One first name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FirstName {
    /// The name.
    pub name: String,
    /// Whether it is marked as the first name in use (`UsedFirstName`).
    pub used: bool,
}

/// IT010: last name(s) and first names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonName {
    /// The last names, in order (usually one).
    pub last_names: Vec<String>,
    /// The first names, in order.
    pub first_names: Vec<FirstName>,
}

impl PersonName {
    /// The last names joined by a space.
    pub fn last_name(&self) -> String {
        self.last_names.join(" ")
    }

    /// The first names joined by a space.
    pub fn first_names_joined(&self) -> String {
        self.first_names
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A place: a Belgian municipality, or a place abroad.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Place {
    /// `Place1`: a Belgian municipality (NIS code and name).
    Belgium {
        /// The municipality.
        municipality: CodeLabel,
    },
    /// `Place2`: a country, with the place as written.
    Abroad {
        /// The country.
        country: CodeLabel,
        /// The place, as written (`Graphic`).
        place: Option<String>,
    },
}

/// IT100: birth date and place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Birth {
    /// The birth date (possibly incomplete).
    pub date: RnDate,
    /// The birth place, when the Register has one.
    pub place: Option<Place>,
    /// The birth certificate's act number, when given.
    pub act_number: Option<String>,
}

/// A street: coded, or only as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Street {
    /// The street code, when coded.
    pub code: Option<String>,
    /// The street name.
    pub name: String,
}

/// IT020: the address of the main residence in Belgium.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Address {
    /// The postal code.
    pub zip_code: String,
    /// The street.
    pub street: Street,
    /// The house number.
    pub house_number: String,
    /// The box number, when there is one.
    pub box_number: Option<String>,
}

/// IT022 and IT023: an address abroad.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AddressAbroad {
    /// The country, when given.
    pub country: Option<CodeLabel>,
    /// The address lines as written (`Graphic1`-`Graphic3`).
    pub lines: Vec<String>,
    /// The Belgian diplomatic post in charge (IT022 only).
    pub diplomatic_post: Option<CodeLabel>,
    /// The territory (IT022 only).
    pub territory: Option<CodeLabel>,
}

/// The spouse named in a civil state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Spouse {
    /// The spouse's national number, when it is a valid SSIN.
    pub ssin: Option<Ssin>,
    /// The spouse's name, when given.
    pub name: Option<PersonName>,
}

/// IT120: a civil state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CivilState {
    /// The civil state's code and label (single, married...).
    pub state: CodeLabel,
    /// The spouse, for a marriage.
    pub spouse: Option<Spouse>,
    /// Where the act was drawn up, when given.
    pub place: Option<Place>,
    /// The act number, when given.
    pub act_number: Option<String>,
}

/// IT150: a decease, or a judicial decision declaring it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decease {
    /// The date of death (possibly incomplete).
    pub date: RnDate,
    /// `DelDate`: when this entry stopped applying (a corrected entry).
    pub until: Option<RnDate>,
    /// The place of death, when given.
    pub place: Option<Place>,
    /// The death certificate's act number, when given.
    pub act_number: Option<String>,
    /// The kind of decision, when the decease was declared by a decision.
    pub decision: Option<CodeLabel>,
}

/// Everything decoded from `rrn_it_implicit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonRecord {
    /// The language of the labels (`Language` attribute), when given.
    pub language: Option<String>,
    /// IT000: national number, birth date, gender.
    pub national_number: NationalNumber,
    /// IT010: names.
    pub names: Vec<Dated<PersonName>>,
    /// IT100: birth.
    pub birth: Option<Birth>,
    /// IT031: nationalities.
    pub nationalities: Vec<Dated<CodeLabel>>,
    /// IT001: the municipality of the main residence.
    pub residences: Vec<Dated<CodeLabel>>,
    /// IT020: the address of the main residence.
    pub addresses: Vec<Dated<Address>>,
    /// IT022: residence abroad.
    pub residences_abroad: Vec<Dated<AddressAbroad>>,
    /// IT023: postal address abroad.
    pub postal_addresses_abroad: Vec<Dated<AddressAbroad>>,
    /// IT024: periods with a reference address.
    pub reference_addresses: Vec<Dated<()>>,
    /// IT120: civil states.
    pub civil_states: Vec<Dated<CivilState>>,
    /// IT150: decease.
    pub deceases: Vec<Decease>,
    /// Information groups present in the reply that this client does not decode, by
    /// element name: nothing BCSS sent goes unnoticed.
    pub other_groups: Vec<String>,
}

impl PersonRecord {
    /// The national number.
    pub fn ssin(&self) -> &Ssin {
        &self.national_number.ssin
    }

    /// The gender.
    pub fn gender(&self) -> Gender {
        self.national_number.gender
    }

    /// The birth date (from IT100 when present, else IT000).
    pub fn birth_date(&self) -> RnDate {
        self.birth
            .as_ref()
            .map(|b| b.date)
            .unwrap_or(self.national_number.birth_date)
    }

    /// The name in force.
    pub fn current_name(&self) -> Option<&PersonName> {
        current(&self.names).map(|d| &d.value)
    }

    /// The nationality in force.
    pub fn current_nationality(&self) -> Option<&CodeLabel> {
        current(&self.nationalities).map(|d| &d.value)
    }

    /// The municipality of the main residence in force.
    pub fn current_residence(&self) -> Option<&CodeLabel> {
        current(&self.residences).map(|d| &d.value)
    }

    /// The address of the main residence in force.
    pub fn current_address(&self) -> Option<&Address> {
        current(&self.addresses).map(|d| &d.value)
    }

    /// The civil state in force.
    pub fn current_civil_state(&self) -> Option<&CivilState> {
        current(&self.civil_states).map(|d| &d.value)
    }

    /// The decease in force, if the person is registered as deceased.
    pub fn decease(&self) -> Option<&Decease> {
        self.deceases
            .iter()
            .filter(|d| d.until.is_none())
            .max_by_key(|d| d.date)
    }
}
