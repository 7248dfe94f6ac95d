//! Validated identifiers: [`Ssin`], [`Cbe`], [`ProgramId`] and [`Deliberation`].
//!
//! Every constructor checks the whole value and returns an [`IdError`] that names the
//! problem (length, characters, check digits), so a caller can fix its input.
//!
//! An SSIN is personal data. Its `Debug` and `Display` show it masked (`680701*****`);
//! [`Ssin::as_str`] and [`Ssin::reveal`] give the full number, for the journal and the
//! messages sent to BCSS only.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The value does not have the number of characters the identifier needs.
    #[error("{kind} must be {expected} digits, got {actual} characters")]
    Length {
        /// Which identifier.
        kind: &'static str,
        /// How many digits it needs.
        expected: usize,
        /// How many characters were given.
        actual: usize,
    },
    /// A character that is not an ASCII digit.
    #[error("{kind} must contain digits only; found {found:?} at position {position}")]
    Character {
        /// Which identifier.
        kind: &'static str,
        /// The first offending character.
        found: char,
        /// Its 1-based position.
        position: usize,
    },
    /// The check digits do not verify.
    #[error("{kind} check digits {actual:02} do not verify (expected {expected})")]
    CheckDigits {
        /// Which identifier.
        kind: &'static str,
        /// The check digits found in the value.
        actual: u32,
        /// What the check digits should be (several candidates for an SSIN).
        expected: String,
    },
    /// The birth date part of an SSIN is impossible (month or day out of range).
    #[error("SSIN birth date part is invalid: {0}")]
    BirthDate(String),
    /// A CBE number must start with 0 or 1.
    #[error("CBE number must start with 0 or 1, got {0}")]
    CbePrefix(char),
    /// A deliberation number is not `YY/NNN`.
    #[error("deliberation must be YY/NNN (for example 13/084), got {0:?}")]
    Deliberation(String),
}

/// Strip the separators people type (`.`, `-`, space) and check that only digits remain.
fn digits_of(kind: &'static str, input: &str, expected: usize) -> Result<Vec<u8>, IdError> {
    let mut out = Vec::with_capacity(expected);
    for (i, c) in input.trim().chars().enumerate() {
        match c {
            '0'..='9' => out.push(c as u8 - b'0'),
            '.' | '-' | ' ' => {}
            other => {
                return Err(IdError::Character {
                    kind,
                    found: other,
                    position: i + 1,
                });
            }
        }
        if out.len() > expected {
            break;
        }
    }
    if out.len() != expected {
        let actual = input
            .chars()
            .filter(|c| !matches!(c, '.' | '-' | ' '))
            .count();
        return Err(IdError::Length {
            kind,
            expected,
            actual,
        });
    }
    Ok(out)
}

fn number_of(digits: &[u8]) -> u64 {
    digits.iter().fold(0u64, |acc, d| acc * 10 + u64::from(*d))
}

/// `FromStr` and `Deserialize` for an identifier through its validating `new`: a value
/// read from a file or a message is checked like one typed in.
macro_rules! parsed_with_new {
    ($t:ident) => {
        impl FromStr for $t {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $t::new(s)
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $t::new(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

mod ssin;

pub(crate) use ssin::ssin_checks;
pub use ssin::{Century, Ssin, SsinKind, mask_ssins_in};

/// A CBE (KBO/BCE) enterprise number: 10 digits, starting with 0 or 1, the last two
/// being `97 - (first 8 mod 97)`.
///
/// ```
/// use bcss::ids::Cbe;
/// let cbe: Cbe = "0212.344.876".parse().unwrap();
/// assert_eq!(cbe.as_str(), "0212344876");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cbe(String);

impl Cbe {
    /// Validate a CBE number (`.`, `-` and spaces are ignored).
    pub fn new(input: &str) -> Result<Self, IdError> {
        let d = digits_of("CBE number", input, 10)?;
        if d[0] > 1 {
            return Err(IdError::CbePrefix(char::from(b'0' + d[0])));
        }
        let base = number_of(&d[..8]);
        let expected = 97 - (base % 97) as u32;
        let check = u32::from(d[8]) * 10 + u32::from(d[9]);
        if check != expected {
            return Err(IdError::CheckDigits {
                kind: "CBE number",
                actual: check,
                expected: format!("{expected:02}"),
            });
        }
        Ok(Cbe(d.iter().map(|x| char::from(b'0' + x)).collect()))
    }

    /// Build a valid CBE number from its first eight digits (the first being 0 or 1).
    pub fn from_base(base8: u32) -> Result<Self, IdError> {
        let check = 97 - (base8 % 97);
        Cbe::new(&format!("{base8:08}{check:02}"))
    }

    /// The 10 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The HTTP Basic user name BCSS expects for this organisation: `E` + the 10 digits.
    pub fn basic_auth_user(&self) -> String {
        format!("E{}", self.0)
    }
}

impl fmt::Display for Cbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Cbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cbe({})", self.0)
    }
}

impl Serialize for Cbe {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

parsed_with_new!(Cbe);

/// A program number granted by BCSS's information-security service: 11 digits in SSIN
/// format. It is not personal data, so it is shown in full.
///
/// BCSS does not publish whether its check digits follow the SSIN rule, so
/// [`ProgramId::new`] only requires 11 digits and [`ProgramId::check_digits_verify`]
/// tells whether they also verify as an SSIN's (callers turn a `false` into a warning).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProgramId(String);

impl ProgramId {
    /// Validate a program number: exactly 11 digits.
    pub fn new(input: &str) -> Result<Self, IdError> {
        let d = digits_of("program number", input, 11)?;
        Ok(ProgramId(d.iter().map(|x| char::from(b'0' + x)).collect()))
    }

    /// Whether the check digits verify under the SSIN rule (either century).
    pub fn check_digits_verify(&self) -> bool {
        // Only the check digits: program numbers (`009...`) are not birth dates.
        let base = self.0[..9].parse::<u64>().unwrap_or(0);
        let check = self.0[9..].parse::<u32>().unwrap_or(u32::MAX);
        let (before, after) = ssin_checks(base);
        check == before || check == after
    }

    /// The 11 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProgramId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ProgramId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProgramId({})", self.0)
    }
}

impl Serialize for ProgramId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

parsed_with_new!(ProgramId);

/// A deliberation number of the Sectoral Committee (now the Information Security
/// Committee): `YY/NNN`, cited as "délibération n° 13/084".
///
/// ```
/// use bcss::ids::Deliberation;
/// let d: Deliberation = "13/084".parse().unwrap();
/// assert_eq!(d.year(), 13);
/// assert_eq!(d.to_string(), "13/084");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Deliberation {
    year: u8,
    number: u16,
}

impl Deliberation {
    /// Parse `YY/NNN`: two digits, a slash, three digits.
    pub fn new(input: &str) -> Result<Self, IdError> {
        let bad = || IdError::Deliberation(input.to_string());
        let s = input.trim();
        let (yy, nnn) = s.split_once('/').ok_or_else(bad)?;
        if yy.len() != 2
            || nnn.len() != 3
            || !yy.bytes().all(|b| b.is_ascii_digit())
            || !nnn.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let year = yy.parse::<u8>().map_err(|_| bad())?;
        let number = nnn.parse::<u16>().map_err(|_| bad())?;
        Ok(Deliberation { year, number })
    }

    /// The two-digit year.
    pub fn year(&self) -> u8 {
        self.year
    }

    /// The number within the year.
    pub fn number(&self) -> u16 {
        self.number
    }
}

impl fmt::Display for Deliberation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}/{:03}", self.year, self.number)
    }
}

impl fmt::Debug for Deliberation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Deliberation({self})")
    }
}

impl Serialize for Deliberation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

parsed_with_new!(Deliberation);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cbe_and_deliberation() {
        assert!(Cbe::new("0212344876").is_ok());
        assert!(matches!(
            Cbe::new("0212344877"),
            Err(IdError::CheckDigits { .. })
        ));
        assert!(matches!(
            Cbe::new("2212344876"),
            Err(IdError::CbePrefix('2'))
        ));
        assert_eq!(
            Cbe::new("0212344876").unwrap().basic_auth_user(),
            "E0212344876"
        );
        assert!(Deliberation::new("13/084").is_ok());
        for bad in ["13-084", "2013/084", "13/84", "ab/cde", "", "13/0844"] {
            assert!(Deliberation::new(bad).is_err(), "{bad}");
        }
        assert!(ProgramId::new("00912345678").is_ok());
        assert!(ProgramId::new("00912345673").unwrap().check_digits_verify());
        assert!(!ProgramId::new("00912345678").unwrap().check_digits_verify());
        assert!(ProgramId::new("0091234567").is_err());
    }

    proptest! {
        #[test]
        fn cbe_round_trips_and_single_changes_fail(base in 0u32..20_000_000, pos in 0usize..10, delta in 1u8..10) {
            let cbe = Cbe::from_base(base).unwrap();
            prop_assert_eq!(Cbe::new(cbe.as_str()).unwrap(), cbe.clone());
            let mut bytes = cbe.as_str().as_bytes().to_vec();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(Cbe::new(&changed).is_err(), "{} verified", changed);
        }
    }
}
