//! The SSIN (INSZ/NISS): validation with both century rules, BIS numbers, and masking.
//! An SSIN is personal data: it shows itself masked, and [`mask_ssins_in`] masks the ones
//! quoted in BCSS's free text.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{IdError, digits_of, number_of};

/// The two possible SSIN check values for the first nine digits: born before 2000, and
/// born in 2000 or later (the nine digits prefixed with `2`).
pub(crate) fn ssin_checks(base9: u64) -> (u32, u32) {
    let before = 97 - (base9 % 97) as u32;
    let after = 97 - ((2_000_000_000 + base9) % 97) as u32;
    (before, after)
}

/// Which century's check an SSIN verified under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Century {
    /// Born before 2000.
    Nineteen,
    /// Born in 2000 or later.
    Twenty,
}

/// What kind of number an SSIN is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SsinKind {
    /// A National Register number.
    NationalRegister,
    /// A BIS number with the gender known (month + 40).
    BisGenderKnown,
    /// A BIS number with the gender unknown (month + 20).
    BisGenderUnknown,
}

/// A Belgian social security identification number (INSZ/NISS), validated.
///
/// ```
/// use bcss::ids::Ssin;
/// let ssin: Ssin = "68070100188".parse().unwrap();
/// assert_eq!(ssin.to_string(), "680701*****");
/// assert_eq!(ssin.reveal(), "68070100188");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ssin(String);

impl Ssin {
    /// Validate an SSIN: 11 digits (`.`, `-` and spaces are ignored), a plausible birth
    /// date part (month 00 and day 00 allowed, BIS months +20/+40), and check digits
    /// under either century's rule.
    pub fn new(input: &str) -> Result<Self, IdError> {
        let d = digits_of("SSIN", input, 11)?;
        let month_raw = u32::from(d[2]) * 10 + u32::from(d[3]);
        let day = u32::from(d[4]) * 10 + u32::from(d[5]);
        let month = match month_raw {
            0..=12 => month_raw,
            20..=32 => month_raw - 20,
            40..=52 => month_raw - 40,
            _ => {
                return Err(IdError::BirthDate(format!(
                    "month {month_raw:02} is not 00-12 (or 20-32, 40-52 for a BIS number)"
                )));
            }
        };
        if day > 31 {
            return Err(IdError::BirthDate(format!("day {day:02} is above 31")));
        }
        let _ = month;
        let base = number_of(&d[..9]);
        let check = u32::from(d[9]) * 10 + u32::from(d[10]);
        let (before, after) = ssin_checks(base);
        if check != before && check != after {
            return Err(IdError::CheckDigits {
                kind: "SSIN",
                actual: check,
                expected: format!(
                    "{before:02} if born before 2000, {after:02} if born in 2000 or later"
                ),
            });
        }
        Ok(Ssin(d.iter().map(|x| char::from(b'0' + x)).collect()))
    }

    /// Build a valid SSIN from a birth date part (`YYMMDD`, month may carry +20/+40 for BIS),
    /// a serial number (1..=997) and the century. Used to generate fictitious people.
    pub fn from_parts(yymmdd: &str, serial: u16, century: Century) -> Result<Self, IdError> {
        let d = digits_of("SSIN birth date part", yymmdd, 6)?;
        if serial > 999 {
            return Err(IdError::Length {
                kind: "SSIN serial",
                expected: 3,
                actual: serial.to_string().len(),
            });
        }
        let base = number_of(&d) * 1000 + u64::from(serial);
        let (before, after) = ssin_checks(base);
        let check = match century {
            Century::Nineteen => before,
            Century::Twenty => after,
        };
        Ssin::new(&format!("{base:09}{check:02}"))
    }

    /// The full 11 digits. Personal data: for the journal and BCSS messages only.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The full 11 digits, named for what it does at the call site.
    pub fn reveal(&self) -> &str {
        &self.0
    }

    /// The masked form used in `Display`, `Debug` and tracing: the birth date part and
    /// five stars.
    pub fn masked(&self) -> String {
        format!("{}*****", &self.0[..6])
    }

    /// Which century's rule the check digits verify under. When both verify (rare), the
    /// 1900s is reported.
    pub fn century(&self) -> Century {
        let base = self.0[..9].parse::<u64>().unwrap_or(0);
        let check = self.0[9..].parse::<u32>().unwrap_or(0);
        let (before, _) = ssin_checks(base);
        if check == before {
            Century::Nineteen
        } else {
            Century::Twenty
        }
    }

    /// Whether this is a National Register number or a BIS number.
    pub fn kind(&self) -> SsinKind {
        match self.0[2..4].parse::<u32>().unwrap_or(0) {
            20..=32 => SsinKind::BisGenderUnknown,
            40..=52 => SsinKind::BisGenderKnown,
            _ => SsinKind::NationalRegister,
        }
    }
}

impl fmt::Display for Ssin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for Ssin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ssin({})", self.masked())
    }
}

/// Serialises in full: serialisation is for the journal, fixtures and BCSS messages.
impl Serialize for Ssin {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

parsed_with_new!(Ssin);

/// Mask every run of exactly 11 digits in `text` the way [`Ssin::masked`] does, for text
/// from BCSS (diagnostics, information values) that may quote an SSIN.
pub fn mask_ssins_in(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let run = &text[start..i];
            if run.len() == 11 {
                out.push_str(&run[..6]);
                out.push_str("*****");
            } else {
                out.push_str(run);
            }
        } else {
            let ch_len = text[i..].chars().next().map(char::len_utf8).unwrap_or(1);
            out.push_str(&text[i..i + ch_len]);
            i += ch_len;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_ssins() {
        assert!(Ssin::new("68070100188").is_ok());
        // Born in 2000 or later: 2 prefixed before the modulo.
        let young = Ssin::from_parts("050315", 123, Century::Twenty).unwrap();
        assert_eq!(young.century(), Century::Twenty);
        // BIS number (month + 40), unknown day.
        let bis = Ssin::from_parts("754100", 41, Century::Nineteen).unwrap();
        assert_eq!(bis.kind(), SsinKind::BisGenderKnown);
        // Unknown month and day.
        assert!(Ssin::from_parts("500000", 7, Century::Nineteen).is_ok());
    }

    #[test]
    fn ssin_errors_name_the_problem() {
        assert!(matches!(
            Ssin::new("6807010013"),
            Err(IdError::Length { actual: 10, .. })
        ));
        assert!(matches!(
            Ssin::new("68070100x38"),
            Err(IdError::Character { found: 'x', .. })
        ));
        assert!(matches!(
            Ssin::new("68070100189"),
            Err(IdError::CheckDigits { actual: 89, .. })
        ));
        assert!(matches!(
            Ssin::new("68130100188"),
            Err(IdError::BirthDate(_))
        ));
        let msg = Ssin::new("68070100189").unwrap_err().to_string();
        assert!(msg.contains("check digits"), "{msg}");
    }

    #[test]
    fn ssin_is_masked() {
        let s = Ssin::new("68.07.01-001.88").unwrap();
        assert_eq!(format!("{s}"), "680701*****");
        assert_eq!(format!("{s:?}"), "Ssin(680701*****)");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"68070100188\"");
    }

    #[test]
    fn ssins_in_text_are_masked() {
        assert_eq!(
            mask_ssins_in("SSIN 68070100188 unknown; ref 123; tel 012345678901; été"),
            "SSIN 680701***** unknown; ref 123; tel 012345678901; été"
        );
    }

    fn valid_ssin() -> impl Strategy<Value = Ssin> {
        (
            0u32..100,
            prop_oneof![0u32..=12, 20u32..=32, 40u32..=52],
            0u32..=31,
            1u16..=997,
            any::<bool>(),
        )
            .prop_map(|(y, m, d, serial, young)| {
                let century = if young {
                    Century::Twenty
                } else {
                    Century::Nineteen
                };
                Ssin::from_parts(&format!("{y:02}{m:02}{d:02}"), serial, century)
                    .expect("generated parts are valid")
            })
    }

    proptest! {
        #[test]
        fn ssin_round_trips(s in valid_ssin()) {
            let again = Ssin::new(s.as_str()).unwrap();
            prop_assert_eq!(&again, &s);
        }

        #[test]
        fn ssin_single_digit_change_is_rejected(s in valid_ssin(), pos in 0usize..11, delta in 1u8..10) {
            let mut bytes = s.as_str().as_bytes().to_vec();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            match Ssin::new(&changed) {
                Err(_) => {}
                Ok(other) => {
                    // The only way a changed number verifies is under the other century's
                    // rule: recognise that case explicitly.
                    prop_assert_ne!(other.century(), s.century(),
                        "{} -> {} verified under the same century", s.as_str(), changed);
                }
            }
        }
    }
}
