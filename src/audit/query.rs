//! Answering a security advisor's questions: who consulted whom, when, why, and how it
//! ended. Intents are joined with their outcomes and classifications by ticket; the
//! effective status is the classification's when there is one, else the outcome's
//! (`received` then means "reply kept, not classified"); an intent without an outcome is
//! reported as `no_outcome`.
//!
//! Memory stays bounded by the number of matches: the first pass keeps only where each
//! matching record is; [`QueryResult::exchanges`] reads them back one exchange at a time.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::scan::{SegmentFile, read_frame_at};
use super::verify::Problem;
use super::walk::{Start, walk};
use super::{
    AuditError, ClassificationRecord, DenialRecord, How, IntentRecord, OutcomeRecord, Record, What,
    Who, codec,
};

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
            .finish()
    }
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

impl QueryFilter {
    pub(crate) fn matches_call(
        &self,
        ticket: Uuid,
        decided_at: DateTime<Utc>,
        who: &Who,
        what: &What,
    ) -> bool {
        self.ticket.is_none_or(|t| t == ticket)
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

/// One exchange: a denial, or an intent and its outcome (when there is one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// Our ticket.
    pub ticket: Uuid,
    /// The denial, when the guard refused the call.
    pub denial: Option<DenialRecord>,
    /// The intent, when the call was granted.
    pub intent: Option<IntentRecord>,
    /// The outcome, when one was recorded.
    pub outcome: Option<OutcomeRecord>,
    /// The classification of the reply, when one was recorded.
    pub classification: Option<ClassificationRecord>,
    /// The sequence numbers of the records, in order.
    pub sequences: Vec<u64>,
}

impl Exchange {
    /// `denied`; the classification's outcome; the outcome record's kind; or `no_outcome`
    /// for an intent without an outcome.
    pub fn status(&self) -> &str {
        match (&self.denial, &self.classification, &self.outcome) {
            (Some(_), _, _) => "denied",
            (None, Some(c), _) => &c.outcome,
            (None, None, Some(o)) => &o.outcome,
            (None, None, None) => "no_outcome",
        }
    }

    /// The business or fault code: the classification's, else the outcome's.
    pub fn code(&self) -> Option<&str> {
        self.classification
            .as_ref()
            .and_then(|c| c.code.as_deref())
            .or_else(|| self.outcome.as_ref().and_then(|o| o.code.as_deref()))
    }

    /// BCSS's ticket and timestamps: the classification's, else the outcome's.
    pub fn bcss(&self) -> Option<&super::Bcss> {
        self.classification
            .as_ref()
            .map(|c| &c.bcss)
            .or(self.outcome.as_ref().map(|o| &o.bcss))
    }

    /// When the guard decided.
    pub fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.denial
            .as_ref()
            .map(|d| d.decided_at)
            .or(self.intent.as_ref().map(|i| i.decided_at))
    }

    /// WHO.
    pub fn who(&self) -> Option<&Who> {
        self.denial
            .as_ref()
            .map(|d| &d.who)
            .or(self.intent.as_ref().map(|i| &i.who))
    }

    /// WHAT.
    pub fn what(&self) -> Option<&What> {
        self.denial
            .as_ref()
            .map(|d| &d.what)
            .or(self.intent.as_ref().map(|i| &i.what))
    }

    /// HOW.
    pub fn how(&self) -> Option<&How> {
        self.denial
            .as_ref()
            .map(|d| &d.how)
            .or(self.intent.as_ref().map(|i| &i.how))
    }
}

#[derive(Debug, Clone, Copy)]
struct Loc {
    segment: usize,
    offset: u64,
    sequence: u64,
}

#[derive(Debug, Clone)]
struct Hit {
    ticket: Uuid,
    first: Loc,
    outcome: Option<Loc>,
    classification: Option<Loc>,
    status: String,
}

/// The exchanges a [`query()`] matched, in journal order.
#[derive(Debug, Clone)]
pub struct QueryResult {
    segments: Vec<SegmentFile>,
    hits: Vec<Hit>,
    /// Records read.
    pub records_scanned: u64,
    /// Where reading stopped early: damage (results cover the records before it), or an
    /// incomplete final record (a write in progress or interrupted).
    pub problem: Option<Problem>,
}

impl QueryResult {
    /// How many exchanges matched.
    pub fn len(&self) -> usize {
        self.hits.len()
    }

    /// Whether none matched.
    pub fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }

    /// The matching tickets, in journal order.
    pub fn tickets(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.hits.iter().map(|h| h.ticket)
    }

    /// The matching exchanges in full, read back one at a time.
    pub fn exchanges(&self) -> impl Iterator<Item = Result<Exchange, AuditError>> + '_ {
        self.hits.iter().map(|hit| self.load(hit))
    }

    fn load(&self, hit: &Hit) -> Result<Exchange, AuditError> {
        let mut exchange = Exchange {
            ticket: hit.ticket,
            denial: None,
            intent: None,
            outcome: None,
            classification: None,
            sequences: Vec::new(),
        };
        let locations = std::iter::once(hit.first)
            .chain(hit.outcome)
            .chain(hit.classification);
        for loc in locations {
            match self.read(loc)? {
                Record::Denial(d) => exchange.denial = Some(d),
                Record::Intent(i) => exchange.intent = Some(i),
                Record::Outcome(o) => exchange.outcome = Some(o),
                Record::Classification(c) => exchange.classification = Some(c),
                other => {
                    return Err(AuditError::Decode(format!(
                        "sequence {} is a {} record, not part of an exchange",
                        loc.sequence,
                        other.kind()
                    )));
                }
            }
            exchange.sequences.push(loc.sequence);
        }
        Ok(exchange)
    }

    fn read(&self, loc: Loc) -> Result<Record, AuditError> {
        let segment = self
            .segments
            .get(loc.segment)
            .ok_or_else(|| AuditError::Decode("query location out of range".to_string()))?;
        let frame = read_frame_at(&segment.path, loc.offset)?;
        let damaged = |reason: String| AuditError::Damaged {
            segment: segment.name.clone(),
            offset: loc.offset,
            sequence: loc.sequence,
            reason,
        };
        if frame.header.sequence != loc.sequence {
            return Err(damaged("the record changed since it was first read".into()));
        }
        codec::decode(frame.body).map_err(|e| damaged(e.to_string()))
    }
}

/// Find the exchanges in `dir` matching `filter`. The chain is checked on the way; on damage
/// the result covers the records before it and [`QueryResult::problem`] says where.
pub fn query(dir: &Path, filter: &QueryFilter) -> Result<QueryResult, AuditError> {
    let mut hits: Vec<Hit> = Vec::new();
    let mut intents: HashMap<Uuid, usize> = HashMap::new();
    let end = walk(dir, Start::First, &mut |v| {
        let loc = Loc {
            segment: v.at.segment,
            offset: v.at.offset,
            sequence: v.sequence,
        };
        match &v.record {
            Record::Denial(d) if filter.matches_call(d.ticket, d.decided_at, &d.who, &d.what) => {
                hits.push(Hit {
                    ticket: d.ticket,
                    first: loc,
                    outcome: None,
                    classification: None,
                    status: "denied".to_string(),
                });
            }
            Record::Intent(i) if filter.matches_call(i.ticket, i.decided_at, &i.who, &i.what) => {
                intents.insert(i.ticket, hits.len());
                hits.push(Hit {
                    ticket: i.ticket,
                    first: loc,
                    outcome: None,
                    classification: None,
                    status: "no_outcome".to_string(),
                });
            }
            Record::Outcome(o) => {
                if let Some(hit) = intents.get(&o.ticket).and_then(|i| hits.get_mut(*i)) {
                    hit.outcome = Some(loc);
                    if hit.classification.is_none() {
                        hit.status.clone_from(&o.outcome);
                    }
                }
            }
            Record::Classification(c) => {
                if let Some(hit) = intents.remove(&c.ticket).and_then(|i| hits.get_mut(i)) {
                    hit.classification = Some(loc);
                    hit.status.clone_from(&c.outcome);
                }
            }
            _ => {}
        }
        None
    })?;
    hits.retain(|h| filter.matches_status(&h.status));
    Ok(QueryResult {
        segments: end.segments,
        hits,
        records_scanned: end.records,
        problem: end.problem,
    })
}

/// One exchange by ticket, request and reply included; `None` when the ticket is not in the
/// journal. Fails with [`AuditError::Damaged`] when the journal is damaged (a bad final
/// record aside).
pub fn show(dir: &Path, ticket: Uuid) -> Result<Option<Exchange>, AuditError> {
    let filter = QueryFilter {
        ticket: Some(ticket),
        ..QueryFilter::default()
    };
    let result = query(dir, &filter)?;
    if let Some(problem) = result.problem.as_ref().filter(|p| !p.final_record) {
        return Err(problem.to_error());
    }
    result.exchanges().next().transpose()
}
