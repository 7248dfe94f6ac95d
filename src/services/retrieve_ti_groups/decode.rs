//! Decoding `rrn_it_implicit` (xm25's `FileInfoType`) into a [`PersonRecord`].
//!
//! `rrn_it_implicit` itself is unqualified (RetrieveTIGroupsV2.xsd), but its content is
//! in the Register's namespace [`RN_NS`] (xm25 is `elementFormDefault="qualified"`), so
//! every element below it is matched by namespace and name. Children in another
//! namespace, and groups this client does not decode, are listed in
//! [`PersonRecord::other_groups`].

use crate::ids::Ssin;
use crate::v3::V3Error;
use crate::xml::Element;

use super::register::{
    Address, AddressAbroad, Birth, CivilState, CodeLabel, Dated, Decease, FirstName, Gender,
    NationalNumber, PersonName, PersonRecord, Place, RnDate, Spouse, Street,
};

/// The xm25 namespace.
pub const RN_NS: &str = "http://www.ibz.rrn.fgov.be/XSD/xm25/rn25Schema";

/// The groups [`read_record`] decodes; any other child goes to `other_groups`.
const DECODED: &[&str] = &[
    "NationalNumber",
    "FileOwner",
    "Names",
    "BirthPlace",
    "Nationalities",
    "LegalMainAddresses",
    "ResidenceAbroad",
    "PostalAddressAbroad",
    "AddressReferences",
    "CivilStates",
    "Deceases",
];

fn rn<'a>(e: &'a Element, name: &str) -> Option<&'a Element> {
    e.child_ns(RN_NS, name)
}

fn rn_all<'a>(e: &'a Element, name: &'a str) -> impl Iterator<Item = &'a Element> {
    e.elements()
        .filter(move |c| c.name == name && c.namespace.as_deref() == Some(RN_NS))
}

fn rn_text(e: &Element, name: &str) -> Option<String> {
    rn_value(e, name).map(std::borrow::Cow::into_owned)
}

/// The trimmed text of child `name`, borrowed, when present and not empty.
fn rn_value<'a>(e: &'a Element, name: &str) -> Option<std::borrow::Cow<'a, str>> {
    rn(e, name).map(Element::trimmed).filter(|t| !t.is_empty())
}

fn required<'a>(e: &'a Element, name: &str, path: &str) -> Result<&'a Element, V3Error> {
    rn(e, name).ok_or_else(|| V3Error::malformed(path, format!("no {name}")))
}

fn required_text(e: &Element, name: &str, path: &str) -> Result<String, V3Error> {
    rn_text(e, name).ok_or_else(|| V3Error::malformed(path, format!("no {name}")))
}

/// A numeric part of a date: `digits` digits exactly, or, when `unpadded` is true, one
/// digit too (`<Month>5</Month>` is May: a month or day means the same with or without
/// its leading zero). Surrounding whitespace is ignored. A one-digit `Century` or `Year`
/// stays an error: its meaning depends on padding (`19` and `5` could be 1905 or 195).
fn date_part(e: &Element, name: &str, path: &str, unpadded: bool) -> Result<Option<u8>, V3Error> {
    let Some(t) = rn_value(e, name) else {
        return Ok(None);
    };
    let digits = t.len() == 2 || (unpadded && t.len() == 1);
    match t.parse::<u8>() {
        Ok(n) if digits && t.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(n)),
        _ => Err(V3Error::malformed(
            format!("{path}/{name}"),
            if unpadded {
                format!("{t:?} is not a number of one or two digits")
            } else {
                format!("{t:?} is not two digits")
            },
        )),
    }
}

/// Read a `DateType` (Century, Year, Month, Day; each optional, `00` for unknown).
/// Month and day are accepted without their leading zero.
pub(super) fn read_date(e: &Element, path: &str) -> Result<RnDate, V3Error> {
    let century = date_part(e, "Century", path, false)?;
    let year = date_part(e, "Year", path, false)?;
    let month = date_part(e, "Month", path, true)?.filter(|m| *m != 0);
    let day = date_part(e, "Day", path, true)?.filter(|d| *d != 0);
    if month.is_some_and(|m| m > 12) || day.is_some_and(|d| d > 31) {
        return Err(V3Error::malformed(path, "month or day out of range"));
    }
    Ok(RnDate {
        year: match (century, year) {
            (Some(c), Some(y)) => Some(u16::from(c) * 100 + u16::from(y)),
            _ => None,
        },
        month,
        day,
    })
}

fn code_label(e: &Element, path: &str) -> Result<CodeLabel, V3Error> {
    Ok(CodeLabel {
        code: required_text(e, "Code", path)?,
        label: rn_text(e, "Label"),
    })
}

fn opt_code_label(e: &Element, name: &str, path: &str) -> Result<Option<CodeLabel>, V3Error> {
    rn(e, name)
        .map(|c| code_label(c, &format!("{path}/{name}")))
        .transpose()
}

/// `Place1` (PlaceType) or `Place2` (GraphicPlaceType), when either is present.
fn read_place(e: &Element, path: &str) -> Result<Option<Place>, V3Error> {
    if let Some(p) = rn(e, "Place1") {
        return Ok(Some(Place::Belgium {
            municipality: code_label(p, &format!("{path}/Place1"))?,
        }));
    }
    if let Some(p) = rn(e, "Place2") {
        let country = required(p, "Country", path)?;
        return Ok(Some(Place::Abroad {
            country: code_label(country, &format!("{path}/Place2/Country"))?,
            place: rn_text(p, "Graphic"),
        }));
    }
    Ok(None)
}

fn read_dated<T>(
    e: &Element,
    path: &str,
    value: impl FnOnce(&Element, &str) -> Result<T, V3Error>,
) -> Result<Dated<T>, V3Error> {
    Ok(Dated {
        since: read_date(required(e, "Date", path)?, &format!("{path}/Date"))?,
        until: rn(e, "DelDate")
            .map(|d| read_date(d, &format!("{path}/DelDate")))
            .transpose()?,
        value: value(e, path)?,
    })
}

/// Read every `item` of the group `group`, each with `value`.
fn read_group<T>(
    file: &Element,
    group: &str,
    item: &str,
    value: impl Fn(&Element, &str) -> Result<T, V3Error>,
) -> Result<Vec<Dated<T>>, V3Error> {
    let Some(g) = rn(file, group) else {
        return Ok(Vec::new());
    };
    rn_all(g, item)
        .enumerate()
        .map(|(i, e)| read_dated(e, &format!("{group}/{item}[{}]", i + 1), &value))
        .collect()
}

fn read_national_number(e: &Element) -> Result<NationalNumber, V3Error> {
    let path = "NationalNumber";
    let inner = required(e, "NationalNumber", path)?;
    let number = required_text(inner, "NationalNumber", path)?;
    let ssin = Ssin::new(&number)
        .map_err(|err| V3Error::malformed("NationalNumber/NationalNumber", err.to_string()))?;
    let sex = rn_value(inner, "Sex").ok_or_else(|| V3Error::malformed(path, "no Sex"))?;
    let gender = match sex.as_ref() {
        "1" => Gender::Male,
        "2" => Gender::Female,
        other => {
            return Err(V3Error::malformed(
                "NationalNumber/Sex",
                format!("{other:?} is neither 1 nor 2"),
            ));
        }
    };
    Ok(NationalNumber {
        ssin,
        birth_date: read_date(required(inner, "Date", path)?, "NationalNumber/Date")?,
        gender,
    })
}

/// A `NameType` (or its IT010 extension).
fn read_name(e: &Element) -> PersonName {
    PersonName {
        last_names: rn_all(e, "LastName")
            .filter_map(|l| rn_text(l, "Label"))
            .collect(),
        first_names: rn_all(e, "FirstName")
            .filter_map(|f| {
                rn_text(f, "Label").map(|name| FirstName {
                    name,
                    used: f
                        .attr("UsedFirstName")
                        .is_some_and(|v| v.trim().eq_ignore_ascii_case("YES")),
                })
            })
            .collect(),
    }
}

fn read_address(e: &Element, path: &str) -> Result<Address, V3Error> {
    let a = required(e, "Address", path)?;
    let street = required(a, "Street", path)?;
    let street = match rn_text(street, "Graphic") {
        Some(name) => Street { code: None, name },
        None => Street {
            code: rn_text(street, "Code"),
            name: required_text(street, "Label", &format!("{path}/Address/Street"))?,
        },
    };
    Ok(Address {
        zip_code: required_text(a, "ZipCode", path)?,
        street,
        house_number: required_text(a, "HouseNumber", path)?,
        box_number: rn_text(a, "Box"),
    })
}

/// `AddressType`: Country?, Graphic1-3.
fn read_address_type(a: &Element, path: &str) -> Result<AddressAbroad, V3Error> {
    Ok(AddressAbroad {
        country: opt_code_label(a, "Country", path)?,
        lines: ["Graphic1", "Graphic2", "Graphic3"]
            .iter()
            .filter_map(|g| rn_text(a, g))
            .collect(),
        diplomatic_post: None,
        territory: None,
    })
}

/// IT022: `Address?` holding PosteDiplomatique, Territory and an AddressType.
fn read_residence_abroad(e: &Element, path: &str) -> Result<AddressAbroad, V3Error> {
    let Some(outer) = rn(e, "Address") else {
        return Ok(AddressAbroad::default());
    };
    let path = format!("{path}/Address");
    let mut address = match rn(outer, "Address") {
        Some(a) => read_address_type(a, &path)?,
        None => AddressAbroad::default(),
    };
    address.diplomatic_post = opt_code_label(outer, "PosteDiplomatique", &path)?;
    address.territory = opt_code_label(outer, "Territory", &path)?;
    Ok(address)
}

/// IT023: `Address?` of AddressType.
fn read_postal_abroad(e: &Element, path: &str) -> Result<AddressAbroad, V3Error> {
    match rn(e, "Address") {
        Some(a) => read_address_type(a, &format!("{path}/Address")),
        None => Ok(AddressAbroad::default()),
    }
}

fn read_civil_state(e: &Element, path: &str) -> Result<CivilState, V3Error> {
    let state = code_label(
        required(e, "CivilState", path)?,
        &format!("{path}/CivilState"),
    )?;
    let spouse = rn(e, "Spouse").map(|s| Spouse {
        ssin: rn(s, "NationalNumber")
            .and_then(|n| rn_text(n, "NationalNumber"))
            .and_then(|n| Ssin::new(&n).ok()),
        name: rn(s, "Name").map(read_name),
    });
    let place = match rn(e, "Lieu") {
        Some(lieu) => read_place(lieu, &format!("{path}/Lieu"))?,
        None => None,
    };
    Ok(CivilState {
        state,
        spouse,
        place,
        act_number: rn_text(e, "ActNumber"),
    })
}

fn read_decease(e: &Element, path: &str) -> Result<Decease, V3Error> {
    let dated = read_dated(e, path, |_, _| Ok(()))?;
    let mut decease = Decease {
        date: dated.since,
        until: dated.until,
        place: None,
        act_number: None,
        decision: None,
    };
    if let Some(act) = rn(e, "Decease") {
        decease.place = read_place(act, &format!("{path}/Decease"))?;
        decease.act_number = rn_text(act, "ActNumber");
    } else if let Some(decision) = rn(e, "Decision") {
        let p = format!("{path}/Decision");
        decease.decision = opt_code_label(decision, "Type", &p)?;
        decease.place = match rn(decision, "Transcription").and_then(|t| rn(t, "Place")) {
            Some(place) => Some(Place::Belgium {
                municipality: code_label(place, &format!("{p}/Transcription/Place"))?,
            }),
            None => None,
        };
    }
    Ok(decease)
}

fn read_birth(e: &Element) -> Result<Birth, V3Error> {
    let path = "BirthPlace";
    Ok(Birth {
        date: read_date(required(e, "Date", path)?, "BirthPlace/Date")?,
        place: read_place(e, path)?,
        act_number: rn_text(e, "ActNumber"),
    })
}

/// Decode `rrn_it_implicit`.
pub(super) fn read_record(file: &Element) -> Result<PersonRecord, V3Error> {
    let national_number = read_national_number(
        rn(file, "NationalNumber")
            .ok_or_else(|| V3Error::malformed("rrn_it_implicit", "no NationalNumber (IT000)"))?,
    )?;
    let residences = match rn(file, "FileOwner") {
        Some(owner) => rn_all(owner, "Residences")
            .enumerate()
            .map(|(i, r)| {
                read_dated(r, &format!("FileOwner/Residences[{}]", i + 1), |e, p| {
                    code_label(required(e, "Residence", p)?, &format!("{p}/Residence"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let other_groups = file
        .elements()
        .filter(|e| e.namespace.as_deref() != Some(RN_NS) || !DECODED.contains(&e.name.as_str()))
        .map(|e| match e.namespace.as_deref() {
            Some(RN_NS) => e.name.clone(),
            _ => crate::soap::qualified_name(e),
        })
        .collect();
    Ok(PersonRecord {
        language: file.attr("Language").map(str::to_string),
        national_number,
        names: read_group(file, "Names", "Name", |e, p| {
            Ok(read_name(required(e, "Name", p)?))
        })?,
        birth: rn(file, "BirthPlace").map(read_birth).transpose()?,
        nationalities: read_group(file, "Nationalities", "Nationality", |e, p| {
            code_label(required(e, "Nationality", p)?, &format!("{p}/Nationality"))
        })?,
        residences,
        addresses: read_group(file, "LegalMainAddresses", "LegalMainAddress", read_address)?,
        residences_abroad: read_group(
            file,
            "ResidenceAbroad",
            "ResidenceAbroad",
            read_residence_abroad,
        )?,
        postal_addresses_abroad: read_group(
            file,
            "PostalAddressAbroad",
            "PostalAddressAbroad",
            read_postal_abroad,
        )?,
        reference_addresses: read_group(file, "AddressReferences", "AddressReference", |_, _| {
            Ok(())
        })?,
        civil_states: read_group(file, "CivilStates", "CivilState", read_civil_state)?,
        deceases: match rn(file, "Deceases") {
            Some(g) => rn_all(g, "Decease")
                .enumerate()
                .map(|(i, e)| read_decease(e, &format!("Deceases/Decease[{}]", i + 1)))
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        },
        other_groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{Limits, parse};

    fn date(xml: &str) -> Result<RnDate, V3Error> {
        let e = parse(
            format!("<D xmlns=\"{RN_NS}\">{xml}</D>").as_bytes(),
            &Limits::default(),
        )
        .unwrap();
        read_date(&e, "D")
    }

    #[test]
    fn dates_may_be_incomplete() {
        let d = date("<Century>19</Century><Year>68</Year><Month>07</Month><Day>01</Day>").unwrap();
        assert_eq!(d.to_date(), chrono::NaiveDate::from_ymd_opt(1968, 7, 1));
        let d = date("<Century>19</Century><Year>50</Year><Month>00</Month><Day>00</Day>").unwrap();
        assert_eq!(
            d,
            RnDate {
                year: Some(1950),
                month: None,
                day: None
            }
        );
        assert_eq!(d.to_string(), "1950-00-00");
        let d = date("<Year>50</Year>").unwrap();
        assert_eq!(d.year, None, "a year without its century is unknown");
        assert!(date("<Century>19</Century><Year>5</Year>").is_err());
        assert!(date("<Month>13</Month>").is_err());
        assert!(date("<Day>x1</Day>").is_err());
        assert!(date("<Day>+1</Day>").is_err());
        assert!(date("<Month>005</Month>").is_err());
        assert!(date("<Month>0 5</Month>").is_err());
    }

    #[test]
    fn months_and_days_need_no_leading_zero() {
        let d = date("<Century> 19 </Century><Year>\n68</Year><Month>5</Month><Day> 7\n</Day>")
            .unwrap();
        assert_eq!(d.to_date(), chrono::NaiveDate::from_ymd_opt(1968, 5, 7));
        let d = date("<Century>19</Century><Year>50</Year><Month>0</Month><Day>0</Day>").unwrap();
        assert_eq!((d.month, d.day), (None, None));
    }
}
