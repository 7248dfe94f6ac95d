//! One validated `[[authorization]]` entry, and its validity bounds.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};
use serde::Serialize;

use super::DeliberationRef;
use crate::environment::Environment;
use crate::ids::ProgramId;
use crate::services::Service;

/// Who signed the request for authorisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GrantedBy {
    /// The organisation's leading official.
    LeadingOfficial,
    /// The leading official's deputy.
    Deputy,
    /// The organisation's information-security advisor.
    SecurityAdvisor,
}

impl GrantedBy {
    /// The three values, in order.
    pub const ALL: [GrantedBy; 3] = [
        GrantedBy::LeadingOfficial,
        GrantedBy::Deputy,
        GrantedBy::SecurityAdvisor,
    ];

    /// The name used in the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantedBy::LeadingOfficial => "leading-official",
            GrantedBy::Deputy => "deputy",
            GrantedBy::SecurityAdvisor => "security-advisor",
        }
    }

    /// Look a value up by [`GrantedBy::as_str`].
    pub fn from_name(name: &str) -> Option<GrantedBy> {
        GrantedBy::ALL.into_iter().find(|g| g.as_str() == name)
    }
}

impl fmt::Display for GrantedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `valid_from` or `valid_until` as written in the manifest.
///
/// A date is a whole UTC day: `valid_from = 2025-01-01` starts at 2025-01-01T00:00:00Z and
/// `valid_until = 2025-12-31` ends at the end of that day (2025-12-31T23:59:59.999999999Z,
/// inclusive). A datetime (RFC 3339, with an offset) is that exact instant, inclusive at
/// both ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Bound {
    /// A whole day, in UTC.
    Date(NaiveDate),
    /// An exact instant, with the offset it was written with.
    Instant(DateTime<FixedOffset>),
}

impl Bound {
    /// The first instant the bound covers: midnight UTC for a date.
    pub fn first_instant(self) -> DateTime<Utc> {
        match self {
            Bound::Date(d) => d.and_time(NaiveTime::MIN).and_utc(),
            Bound::Instant(t) => t.with_timezone(&Utc),
        }
    }

    /// The last instant the bound covers: the last nanosecond of the day (UTC) for a date.
    pub fn last_instant(self) -> DateTime<Utc> {
        match self {
            Bound::Date(d) => {
                let end =
                    NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999).unwrap_or(NaiveTime::MIN);
                d.and_time(end).and_utc()
            }
            Bound::Instant(t) => t.with_timezone(&Utc),
        }
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bound::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Bound::Instant(t) => f.write_str(&t.to_rfc3339()),
        }
    }
}

/// One `[[authorization]]` entry of a valid manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Entry {
    /// The entry's unique `id`.
    pub id: String,
    /// The one environment it covers.
    pub environment: Environment,
    /// The service (its catalogue entry; serialised as its name).
    pub service: Service,
    /// The operations it covers; `None` means every operation of the service.
    pub operations: Option<Vec<String>>,
    /// The authorised purpose (the legalContext that common-v3 services send).
    pub purpose: String,
    /// The program number BCSS granted.
    pub program: ProgramId,
    /// The deliberation, or `not-applicable`.
    pub deliberation: DeliberationRef,
    /// The start of validity, as written.
    pub valid_from: Bound,
    /// The end of validity (inclusive), as written.
    pub valid_until: Bound,
    /// Who signed the request for authorisation.
    pub granted_by: GrantedBy,
    /// A free note.
    pub note: Option<String>,
    /// ManageAccess only: the BCSS purpose codes (the request's `Purpose`) the entry
    /// covers, in file order. Required for entries that cover `register` or `unregister`;
    /// `None` elsewhere.
    pub access_purposes: Option<Vec<u32>>,
    /// The 1-based line of the entry's `[[authorization]]` header.
    pub line: usize,
    pub(crate) not_before: DateTime<Utc>,
    pub(crate) not_after: DateTime<Utc>,
}

impl Entry {
    /// The first instant the entry is valid.
    pub fn not_before(&self) -> DateTime<Utc> {
        self.not_before
    }

    /// The last instant the entry is valid (inclusive).
    pub fn not_after(&self) -> DateTime<Utc> {
        self.not_after
    }

    /// Whether the entry covers `operation`.
    pub fn covers_operation(&self, operation: &str) -> bool {
        match &self.operations {
            None => self.service.has_operation(operation),
            Some(ops) => ops.iter().any(|o| o == operation),
        }
    }

    /// Whether the entry grants a request carrying the BCSS purpose code `code` for
    /// `operation`. A code is granted only when `access_purposes` lists it; no code is
    /// granted only for an operation that does not require one (ManageAccess `list`).
    pub fn covers_access_purpose(&self, operation: &str, code: Option<u32>) -> bool {
        match (code, &self.access_purposes) {
            (Some(code), Some(codes)) => codes.contains(&code),
            (Some(_), None) => false,
            (None, _) => !requires_access_purpose(&self.service, operation),
        }
    }

    /// The access purposes, for display: `1, 7`, or `none`.
    pub fn access_purposes_label(&self) -> String {
        match &self.access_purposes {
            None => "none".to_string(),
            Some(codes) => codes
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// Whether the entry is valid at `at`.
    pub fn is_valid_at(&self, at: DateTime<Utc>) -> bool {
        self.not_before <= at && at <= self.not_after
    }

    /// Days from `now`'s UTC date to the UTC date of the last valid instant: 0 means the
    /// entry expires at the end of today, a negative number that it has expired.
    pub fn days_left(&self, now: DateTime<Utc>) -> i64 {
        (self.not_after.date_naive() - now.date_naive()).num_days()
    }

    /// The operations covered, for display: `*` when all of them.
    pub fn operations_label(&self) -> String {
        match &self.operations {
            None => "*".to_string(),
            Some(ops) => ops.join(","),
        }
    }
}

/// Whether a request for `operation` of `service` must carry a BCSS purpose code that the
/// manifest names (`access_purposes`): ManageAccess `register` and `unregister`, whose
/// XSD makes `Purpose` mandatory (OCMW_CPAS ManageAccessRequest.xsd).
pub fn requires_access_purpose(service: &Service, operation: &str) -> bool {
    has_access_purposes(service) && matches!(operation, "register" | "unregister")
}

/// Whether entries of `service` may name `access_purposes`.
pub(crate) fn has_access_purposes(service: &Service) -> bool {
    service.name() == crate::services::manage_access::NAME
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_covers_the_whole_utc_day() {
        let d = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
        let b = Bound::Date(d);
        assert_eq!(b.first_instant().to_rfc3339(), "2025-12-31T00:00:00+00:00");
        assert_eq!(
            b.last_instant() + chrono::Duration::nanoseconds(1),
            NaiveDate::from_ymd_opt(2026, 1, 1)
                .unwrap()
                .and_time(NaiveTime::MIN)
                .and_utc()
        );
        assert_eq!(b.to_string(), "2025-12-31");
    }

    #[test]
    fn an_instant_is_itself_at_both_ends() {
        let t = DateTime::parse_from_rfc3339("2025-06-01T08:00:00+02:00").unwrap();
        let b = Bound::Instant(t);
        assert_eq!(b.first_instant(), b.last_instant());
        assert_eq!(b.first_instant().to_rfc3339(), "2025-06-01T06:00:00+00:00");
    }

    #[test]
    fn granted_by_names_round_trip() {
        for g in GrantedBy::ALL {
            assert_eq!(GrantedBy::from_name(g.as_str()), Some(g));
        }
        assert_eq!(GrantedBy::from_name("ceo"), None);
    }
}
