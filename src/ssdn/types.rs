//! Small value types of the SSDN schemas: incomplete dates, gender codes, origins.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Serialize, Serializer};

/// A date that is invalid for the SSDN `t_IncompleteDate` type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid date {input:?}: {reason}")]
pub struct InvalidDate {
    /// What was given.
    pub input: String,
    /// Why it is refused.
    pub reason: &'static str,
}

/// A possibly incomplete date (`t_IncompleteDate`): `yyyy-mm-dd`, `yyyy-mm-00` (day
/// unknown) or `yyyy-00-00` (month and day unknown), with a year from 1000 to 2999.
///
/// ```
/// use bcss::ssdn::IncompleteDate;
/// let d: IncompleteDate = "1950-00-00".parse().unwrap();
/// assert_eq!(d.year(), 1950);
/// assert_eq!(d.month(), None);
/// assert_eq!(d.to_string(), "1950-00-00");
/// assert!("1950-00-12".parse::<IncompleteDate>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IncompleteDate {
    year: u16,
    month: u8,
    day: u8,
}

impl IncompleteDate {
    /// A date from its parts; `0` is an unknown month or day. An unknown month needs an
    /// unknown day; a complete date must exist in the calendar.
    pub fn new(year: u16, month: u8, day: u8) -> Result<Self, InvalidDate> {
        let fail = |reason| InvalidDate {
            input: format!("{year:04}-{month:02}-{day:02}"),
            reason,
        };
        if !(1000..=2999).contains(&year) {
            return Err(fail("the year must be from 1000 to 2999"));
        }
        if month > 12 {
            return Err(fail("the month must be 00 (unknown) to 12"));
        }
        if month == 0 && day != 0 {
            return Err(fail(
                "a date with an unknown month must have an unknown day",
            ));
        }
        if day > 31 {
            return Err(fail("the day must be 00 (unknown) to 31"));
        }
        if month != 0
            && day != 0
            && NaiveDate::from_ymd_opt(i32::from(year), u32::from(month), u32::from(day)).is_none()
        {
            return Err(fail("that day does not exist in that month"));
        }
        Ok(IncompleteDate { year, month, day })
    }

    /// A date of which only the year is known (`yyyy-00-00`).
    pub fn year_only(year: u16) -> Result<Self, InvalidDate> {
        IncompleteDate::new(year, 0, 0)
    }

    /// The year.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The month (1-12), when known.
    pub fn month(&self) -> Option<u8> {
        (self.month != 0).then_some(self.month)
    }

    /// The day (1-31), when known.
    pub fn day(&self) -> Option<u8> {
        (self.day != 0).then_some(self.day)
    }

    /// Whether year, month and day are all known.
    pub fn is_complete(&self) -> bool {
        self.month != 0 && self.day != 0
    }

    /// The calendar date, when complete.
    pub fn to_naive_date(&self) -> Option<NaiveDate> {
        if !self.is_complete() {
            return None;
        }
        NaiveDate::from_ymd_opt(
            i32::from(self.year),
            u32::from(self.month),
            u32::from(self.day),
        )
    }
}

impl From<NaiveDate> for IncompleteDate {
    /// Years outside 1000-2999 are clamped into that range (the schema allows no others).
    fn from(d: NaiveDate) -> Self {
        IncompleteDate {
            year: d.year().clamp(1000, 2999) as u16,
            month: d.month() as u8,
            day: d.day() as u8,
        }
    }
}

impl FromStr for IncompleteDate {
    type Err = InvalidDate;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let fail = |reason| InvalidDate {
            input: t.chars().take(40).collect(),
            reason,
        };
        let b = t.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(fail(
                "the format is yyyy-mm-dd (00 for an unknown month or day)",
            ));
        }
        let num = |range: std::ops::Range<usize>| -> Result<u16, InvalidDate> {
            let part = &t[range];
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(fail("the format is yyyy-mm-dd, digits only"));
            }
            part.parse::<u16>()
                .map_err(|_| fail("the format is yyyy-mm-dd, digits only"))
        };
        let year = num(0..4)?;
        let month = num(5..7)?;
        let day = num(8..10)?;
        IncompleteDate::new(year, month as u8, day as u8)
    }
}

impl IncompleteDate {
    /// Read a date as a reply may write it: like [`FromStr`], but the month and day may
    /// lack their leading zero (`1968-7-1`, `1950-0-0`), as their meaning does not depend
    /// on it. The year still has four digits. What is sent is always written in full.
    pub(crate) fn parse_received(s: &str) -> Result<Self, InvalidDate> {
        let t = s.trim();
        let fail = |reason| InvalidDate {
            input: t.chars().take(40).collect(),
            reason,
        };
        let mut parts = t.split('-');
        let (Some(year), Some(month), Some(day), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(fail(
                "the format is yyyy-mm-dd (00 for an unknown month or day)",
            ));
        };
        let digits = |part: &str, max: usize| {
            (1..=max).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
        };
        if year.len() != 4 || !digits(year, 4) || !digits(month, 2) || !digits(day, 2) {
            return Err(fail("the format is yyyy-mm-dd, digits only"));
        }
        let number = |part: &str| part.parse::<u16>().map_err(|_| fail("not a number"));
        let (month, day) = (number(month)?, number(day)?);
        IncompleteDate::new(number(year)?, month as u8, day as u8)
    }
}

impl fmt::Display for IncompleteDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for IncompleteDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Parse an `xs:date` as BCSS writes it: `yyyy-mm-dd`, optionally followed by a time
/// zone (`Z`, `+02:00`), which is dropped.
pub(crate) fn parse_xs_date(s: &str) -> Option<NaiveDate> {
    let t = s.trim();
    let (date, zone) = t.split_at_checked(10)?;
    let zone_ok = zone.is_empty()
        || zone == "Z"
        || (zone.len() == 6
            && matches!(zone.as_bytes()[0], b'+' | b'-')
            && zone.as_bytes()[3] == b':');
    if !zone_ok {
        return None;
    }
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

/// A gender code: `0` unknown, `1` male, `2` female.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Gender {
    /// `0`.
    Unknown,
    /// `1`.
    Male,
    /// `2`.
    Female,
}

impl Gender {
    /// The code written in SSDN documents.
    pub fn code(self) -> &'static str {
        match self {
            Gender::Unknown => "0",
            Gender::Male => "1",
            Gender::Female => "2",
        }
    }

    /// Read a code.
    pub fn from_code(code: &str) -> Option<Gender> {
        match code.trim() {
            "0" => Some(Gender::Unknown),
            "1" => Some(Gender::Male),
            "2" => Some(Gender::Female),
            _ => None,
        }
    }
}

/// Where a piece of information comes from (`origin` attribute).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Origin {
    /// `BCSS_KSZ`: BCSS's own register (BIS numbers).
    BcssKsz,
    /// `RN_RR`: the National Register.
    NationalRegister,
    /// A value this client does not know, kept as written.
    Other(String),
}

impl Origin {
    /// Read an `origin` attribute.
    pub fn parse(value: &str) -> Origin {
        match value.trim() {
            "BCSS_KSZ" => Origin::BcssKsz,
            "RN_RR" => Origin::NationalRegister,
            other => Origin::Other(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incomplete_dates() {
        for ok in ["1938-00-00", "1968-07-00", "1968-07-01", "2000-02-29"] {
            let d: IncompleteDate = ok.parse().unwrap();
            assert_eq!(d.to_string(), ok);
        }
        for bad in [
            "1938-0-00",
            "0999-01-01",
            "1968-13-00",
            "1968-00-05",
            "1968-02-30",
            "1968/07/01",
            "1968-07-3x",
            "",
            "+968-07-01",
        ] {
            assert!(bad.parse::<IncompleteDate>().is_err(), "{bad}");
        }
        let d: IncompleteDate = "1985-03-12".parse().unwrap();
        assert!(d.is_complete());
        assert_eq!(d.to_naive_date(), NaiveDate::from_ymd_opt(1985, 3, 12));
        assert_eq!(IncompleteDate::from(d.to_naive_date().unwrap()), d);
        let y = IncompleteDate::year_only(1950).unwrap();
        assert_eq!((y.month(), y.day(), y.to_naive_date()), (None, None, None));
    }

    #[test]
    fn received_dates_may_lack_leading_zeros() {
        for (input, expected) in [
            ("1968-7-1", "1968-07-01"),
            (" 1968-07-1\n", "1968-07-01"),
            ("1950-0-0", "1950-00-00"),
            ("1950-00-00", "1950-00-00"),
        ] {
            let d = IncompleteDate::parse_received(input).unwrap();
            assert_eq!(d.to_string(), expected, "{input}");
        }
        for bad in [
            "68-7-1",
            "1968-007-01",
            "1968-7-",
            "1968-7-1-2",
            "1968-13-1",
            "1968-0-5",
            "1968-+7-1",
            "1968 - 7 - 1",
        ] {
            assert!(IncompleteDate::parse_received(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn xs_dates_with_zones() {
        let d = NaiveDate::from_ymd_opt(2012, 5, 24);
        assert_eq!(parse_xs_date("2012-05-24"), d);
        assert_eq!(parse_xs_date(" 2012-05-24+02:00 "), d);
        assert_eq!(parse_xs_date("2012-05-24Z"), d);
        assert_eq!(parse_xs_date("2012-05-24garbage"), None);
        assert_eq!(parse_xs_date("2012-05"), None);
        assert_eq!(parse_xs_date("é2012-05-24"), None);
    }
}
