//! What a query looks for: [`QueryFilter`], the one query API of every backend.

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::audit::{ManifestRef, Record, What, Who};

/// Which exchanges to return. Every given criterion must hold.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct QueryFilter {
    /// The physical user's id, exactly.
    pub who: Option<String>,
    /// An SSIN among the request's subjects (`.`, `-` and spaces ignored).
    pub subject: Option<String>,
    /// The service name, exactly (case-insensitive).
    pub service: Option<String>,
    /// Decided at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Decided at or before this instant.
    pub until: Option<DateTime<Utc>>,
    /// The status: an outcome kind (`ok`, `warning`, `no_data`, `business_error`,
    /// `soap_fault`, `undecodable`, `http_error`, `transport_error`, `received`),
    /// `denied`, or `no_outcome`.
    pub outcome: Option<String>,
    /// Our ticket.
    pub ticket: Option<Uuid>,
    /// The SHA-256 of the manifest the decision was taken under (64 hex digits, any case):
    /// the `sha256` of the denial's or intent's [`ManifestRef`].
    pub manifest: Option<String>,
}

impl fmt::Debug for QueryFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueryFilter")
            .field("who", &self.who)
            .field("subject", &self.subject.as_ref().map(|_| "<ssin>"))
            .field("service", &self.service)
            .field("since", &self.since)
            .field("until", &self.until)
            .field("outcome", &self.outcome)
            .field("ticket", &self.ticket)
            .field("manifest", &self.manifest)
            .finish()
    }
}

pub(crate) fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

impl QueryFilter {
    /// Whether a decision (a denial or an intent) meets every criterion but the status.
    pub(crate) fn matches_decision(&self, record: &Record) -> bool {
        match record {
            Record::Denial(d) => {
                self.matches_call(d.ticket, d.decided_at, &d.who, &d.what, d.manifest.as_ref())
            }
            Record::Intent(i) => {
                self.matches_call(i.ticket, i.decided_at, &i.who, &i.what, i.manifest.as_ref())
            }
            _ => false,
        }
    }

    pub(crate) fn matches_call(
        &self,
        ticket: Uuid,
        decided_at: DateTime<Utc>,
        who: &Who,
        what: &What,
        manifest: Option<&ManifestRef>,
    ) -> bool {
        self.ticket.is_none_or(|t| t == ticket)
            && self.manifest.as_ref().is_none_or(|wanted| {
                manifest.is_some_and(|m| m.sha256.eq_ignore_ascii_case(wanted.trim()))
            })
            && self.who.as_ref().is_none_or(|w| *w == who.user_id)
            && self
                .service
                .as_ref()
                .is_none_or(|s| s.eq_ignore_ascii_case(&what.service))
            && self.since.is_none_or(|t| decided_at >= t)
            && self.until.is_none_or(|t| decided_at <= t)
            && self.subject.as_ref().is_none_or(|s| {
                let wanted = digits(s);
                what.subjects.iter().any(|x| digits(x) == wanted)
            })
    }

    pub(crate) fn matches_status(&self, status: &str) -> bool {
        self.outcome
            .as_ref()
            .is_none_or(|o| o.eq_ignore_ascii_case(status))
    }
}
