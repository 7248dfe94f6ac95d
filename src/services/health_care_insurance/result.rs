//! The typed `result` of the three HealthCareInsurance operations
//! (`GetInsuranceOrganizationInformationsResultType` in HealthCareInsuranceTypesV1.xsd),
//! and its decoding.
//!
//! Many parts are either `noRight` (the person has no such right) or the right's details:
//! [`Right`] says which. `insuringOrganization` attributes (three digits: the insurer,
//! "organisme assureur") are kept where the schema puts them.

use chrono::NaiveDate;
use serde::Serialize;

use crate::ids::Ssin;
use crate::v3::V3Error;
use crate::xml::Element;

/// A right the person has, with its details, or `noRight`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "right", content = "details", rename_all = "snake_case")]
pub enum Right<T> {
    /// `noRight`.
    NoRight,
    /// The right, with its details.
    Granted(T),
}

impl<T> Right<T> {
    /// The details, when the right is granted.
    pub fn granted(&self) -> Option<&T> {
        match self {
            Right::NoRight => None,
            Right::Granted(t) => Some(t),
        }
    }
}

/// A period with both ends (`startDate`, `endDate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
}

/// A period that may still be open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenPeriod {
    /// First day.
    pub start: NaiveDate,
    /// Last day, when it has ended or an end is set.
    pub end: Option<NaiveDate>,
    /// The insurer, when given.
    pub insuring_organization: Option<String>,
}

/// `insuringOrganization` (MutType): the person's mutuality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InsuringOrganization {
    /// The insurer (three digits), when given.
    pub insuring_organization: Option<String>,
    /// The mutuality (three digits), or no right.
    pub mutuality: Right<String>,
}

/// A yes/no answer from an insurer (BooleanMutType).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    /// The insurer (three digits), when given.
    pub insuring_organization: Option<String>,
    /// The answer.
    pub value: bool,
}

/// The holder codes CT1/CT2 (Ct1ct2ElementType).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HolderCodes {
    /// The mutuality (three digits).
    pub mutuality: String,
    /// CT1 (three digits).
    pub ct1: String,
    /// CT2 (three digits).
    pub ct2: String,
    /// When they apply.
    pub period: Period,
}

/// A year in which the maximum billing (MAF) was reached, and with which insurer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MafYear {
    /// The year.
    pub year: i32,
    /// The insurer.
    pub insuring_organization: String,
}

/// Membership of a medical house (MedHouseType).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MedicalHouse {
    /// Doctor care covered.
    pub doctor: bool,
    /// Physiotherapy covered.
    pub kine: bool,
    /// Nursing covered.
    pub nurse: bool,
    /// When.
    pub period: OpenPeriod,
}

/// `medicalHouse`, with the insurer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MedicalHouseInfo {
    /// The insurer (three digits), when given.
    pub insuring_organization: Option<String>,
    /// The membership, or no right.
    pub membership: Right<MedicalHouse>,
}

/// `globalMedicalFile` (DMGMutType): the NIHII number of the doctor holding the global
/// medical file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GlobalMedicalFile {
    /// The insurer (three digits), when given.
    pub insuring_organization: Option<String>,
    /// The health care provider's NIHII number (11 digits), or no right.
    pub health_care_provider: Right<String>,
}

/// The insurance details of `sfdfL891` (InsuranceType).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InsuranceStatus {
    /// Paying third party applies.
    pub paying_third_party: bool,
    /// Maximum billing reached, by year.
    pub maximum_charge: Right<Vec<MafYear>>,
    /// Increased intervention (BIM/RVV) period.
    pub increased_intervention: Right<Period>,
    /// Holder codes.
    pub ct1ct2: Right<HolderCodes>,
}

/// `sfdfL891`: the health care insurance status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SfdfL891 {
    /// No right to reimbursement.
    NoReimbursementRight {
        /// The insurer, when given.
        insuring_organization: Option<String>,
        /// The mutuality, when given.
        mutuality: Option<String>,
    },
    /// Insured, with these details.
    Insurance(InsuranceStatus),
}

/// The `result` of a HealthCareInsurance operation: the parts asked for in `desiredData`
/// that the insurers answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InsuranceResult {
    /// The person.
    pub ssin: Ssin,
    /// The mutuality.
    pub insuring_organization: Option<InsuringOrganization>,
    /// Right to reimbursement.
    pub reimbursement_right: Option<Flag>,
    /// Holder codes CT1/CT2.
    pub ct1ct2: Option<Right<HolderCodes>>,
    /// Paying third party.
    pub paying_third_party: Option<Flag>,
    /// Maximum billing (MAF) reached, by year.
    pub maximum_charge: Option<Right<Vec<MafYear>>>,
    /// Medical house.
    pub medical_house: Option<MedicalHouseInfo>,
    /// Increased intervention (BIM).
    pub increased_intervention: Option<Right<Period>>,
    /// Complementary insurance in order.
    pub status_complementary_insurance: Option<Flag>,
    /// Global medical file.
    pub global_medical_file: Option<GlobalMedicalFile>,
    /// Health care insurance status.
    pub sfdf_l891: Option<SfdfL891>,
}

/// Parse an `xsd:date` (`YYYY-MM-DD`, optionally with a time zone, which is ignored).
pub fn parse_xsd_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let (date, zone) = s.split_at_checked(10)?;
    let zone_ok = zone.is_empty()
        || zone == "Z"
        || (zone.len() == 6
            && matches!(zone.as_bytes()[0], b'+' | b'-')
            && zone.as_bytes()[3] == b':'
            && zone
                .bytes()
                .enumerate()
                .all(|(i, b)| i == 0 || i == 3 || b.is_ascii_digit()));
    if !zone_ok || date.as_bytes().get(4) != Some(&b'-') {
        return None;
    }
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

fn text(e: &Element, name: &str, path: &str) -> Result<String, V3Error> {
    e.child_text(name)
        .ok_or_else(|| V3Error::malformed(path, format!("no {name}")))
}

fn date(e: &Element, name: &str, path: &str) -> Result<NaiveDate, V3Error> {
    let t = text(e, name, path)?;
    parse_xsd_date(&t)
        .ok_or_else(|| V3Error::malformed(format!("{path}/{name}"), format!("{t:?} is not a date")))
}

fn boolean(e: &Element, name: &str, path: &str) -> Result<bool, V3Error> {
    match text(e, name, path)?.as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(V3Error::malformed(
            format!("{path}/{name}"),
            format!("{other:?} is not a boolean"),
        )),
    }
}

fn organization(e: &Element) -> Option<String> {
    e.attr("insuringOrganization")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// `noRight` → [`Right::NoRight`], otherwise the details read by `f`.
fn right<T>(
    e: &Element,
    path: &str,
    f: impl FnOnce(&Element, &str) -> Result<T, V3Error>,
) -> Result<Right<T>, V3Error> {
    if e.child("noRight").is_some() {
        Ok(Right::NoRight)
    } else {
        f(e, path).map(Right::Granted)
    }
}

fn period(e: &Element, path: &str) -> Result<Period, V3Error> {
    Ok(Period {
        start: date(e, "startDate", path)?,
        end: date(e, "endDate", path)?,
    })
}

fn child_period(e: &Element, path: &str) -> Result<Period, V3Error> {
    let p = e
        .child("period")
        .ok_or_else(|| V3Error::malformed(path, "no period"))?;
    period(p, &format!("{path}/period"))
}

fn flag(e: &Element, path: &str) -> Result<Flag, V3Error> {
    Ok(Flag {
        insuring_organization: organization(e),
        value: boolean(e, "value", path)?,
    })
}

fn holder_codes(e: &Element, path: &str) -> Result<HolderCodes, V3Error> {
    Ok(HolderCodes {
        mutuality: text(e, "mutuality", path)?,
        ct1: text(e, "ct1", path)?,
        ct2: text(e, "ct2", path)?,
        period: child_period(e, path)?,
    })
}

fn maf_years(e: &Element, path: &str) -> Result<Vec<MafYear>, V3Error> {
    let years: Vec<MafYear> = e
        .children_named("year")
        .map(|y| {
            let t = y.trimmed_text();
            let year = t.parse::<i32>().map_err(|_| {
                V3Error::malformed(format!("{path}/year"), format!("{t:?} is not a year"))
            })?;
            Ok(MafYear {
                year,
                insuring_organization: organization(y).unwrap_or_default(),
            })
        })
        .collect::<Result<_, V3Error>>()?;
    if years.is_empty() {
        return Err(V3Error::malformed(path, "neither noRight nor year"));
    }
    Ok(years)
}

fn medical_house(e: &Element, path: &str) -> Result<MedicalHouse, V3Error> {
    let p = e
        .child("period")
        .ok_or_else(|| V3Error::malformed(path, "no period"))?;
    let period_path = format!("{path}/period");
    Ok(MedicalHouse {
        doctor: boolean(e, "doctor", path)?,
        kine: boolean(e, "kine", path)?,
        nurse: boolean(e, "nurse", path)?,
        period: OpenPeriod {
            start: date(p, "startDate", &period_path)?,
            end: p
                .child("endDate")
                .map(|_| date(p, "endDate", &period_path))
                .transpose()?,
            insuring_organization: organization(p),
        },
    })
}

fn sfdf(e: &Element, path: &str) -> Result<SfdfL891, V3Error> {
    if let Some(n) = e.child("noReimbursementRight") {
        return Ok(SfdfL891::NoReimbursementRight {
            insuring_organization: organization(n),
            mutuality: n.attr("mutuality").map(str::to_string),
        });
    }
    let i = e
        .child("insurance")
        .ok_or_else(|| V3Error::malformed(path, "neither noReimbursementRight nor insurance"))?;
    let path = format!("{path}/insurance");
    let part = |name: &str| {
        i.child(name)
            .ok_or_else(|| V3Error::malformed(path.as_str(), format!("no {name}")))
    };
    Ok(SfdfL891::Insurance(InsuranceStatus {
        paying_third_party: boolean(i, "payingThirdParty", &path)?,
        maximum_charge: right(part("maximumCharge")?, &path, maf_years)?,
        increased_intervention: right(part("increasedIntervention")?, &path, child_period)?,
        ct1ct2: right(part("ct1ct2")?, &path, holder_codes)?,
    }))
}

/// Read the optional part `name` with `f`.
fn part<T>(
    result: &Element,
    name: &str,
    f: impl FnOnce(&Element, &str) -> Result<T, V3Error>,
) -> Result<Option<T>, V3Error> {
    result
        .child(name)
        .map(|e| f(e, &format!("result/{name}")))
        .transpose()
}

/// Decode a `result` element.
pub(super) fn read_result(result: &Element) -> Result<InsuranceResult, V3Error> {
    let ssin = text(result, "ssin", "result")?;
    let ssin = Ssin::new(&ssin).map_err(|e| V3Error::malformed("result/ssin", e.to_string()))?;
    Ok(InsuranceResult {
        ssin,
        insuring_organization: part(result, "insuringOrganization", |e, p| {
            Ok(InsuringOrganization {
                insuring_organization: organization(e),
                mutuality: right(e, p, |e, p| text(e, "mutuality", p))?,
            })
        })?,
        reimbursement_right: part(result, "reimbursementRight", flag)?,
        ct1ct2: part(result, "ct1ct2", |e, p| right(e, p, holder_codes))?,
        paying_third_party: part(result, "payingThirdParty", flag)?,
        maximum_charge: part(result, "maximumCharge", |e, p| right(e, p, maf_years))?,
        medical_house: part(result, "medicalHouse", |e, p| {
            Ok(MedicalHouseInfo {
                insuring_organization: organization(e),
                membership: right(e, p, medical_house)?,
            })
        })?,
        increased_intervention: part(result, "increasedIntervention", |e, p| {
            right(e, p, child_period)
        })?,
        status_complementary_insurance: part(result, "statusComplementaryInsurance", flag)?,
        global_medical_file: part(result, "globalMedicalFile", |e, p| {
            Ok(GlobalMedicalFile {
                insuring_organization: organization(e),
                health_care_provider: right(e, p, |e, p| text(e, "healthCareProvider", p))?,
            })
        })?,
        sfdf_l891: part(result, "sfdfL891", sfdf)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xsd_dates() {
        let d = NaiveDate::from_ymd_opt(2024, 1, 31);
        assert_eq!(parse_xsd_date("2024-01-31"), d);
        assert_eq!(parse_xsd_date(" 2024-01-31Z "), d);
        assert_eq!(parse_xsd_date("2024-01-31+01:00"), d);
        assert_eq!(parse_xsd_date("2024-02-30"), None);
        assert_eq!(parse_xsd_date("2024-01-31T00:00"), None);
        assert_eq!(parse_xsd_date("20240131"), None);
        assert_eq!(parse_xsd_date("2024-01-3é"), None);
        assert_eq!(parse_xsd_date(""), None);
    }
}
