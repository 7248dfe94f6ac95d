//! Answering a security advisor's questions: who consulted whom, when, why, and how it
//! ended. Intents are joined with their outcomes and classifications by ticket; the
//! effective status is the classification's when there is one, else the outcome's
//! (`received` then means "reply kept, not classified"); an intent without an outcome is
//! reported as `no_outcome`.
//!
//! With the journal's index (see [`reindex`](super::reindex())), a query reads only the
//! records the index leads to, then every record written after the index's last one; each
//! record found through the index is read back and checked against the chain, and matched
//! against the filter again. Without a usable index it reads every record, checking the
//! chain on the way ([`QueryResult::plan`] says which).
//!
//! Memory stays bounded by the number of matches: only where each matching record is is
//! kept; [`QueryResult::exchanges`] reads them back, checked, one exchange at a time.

mod collect;
mod exchange;
pub(crate) mod filter;
mod indexed;

pub(crate) use indexed::not_there;

use std::path::Path;

use uuid::Uuid;

pub use exchange::Exchange;
pub use filter::QueryFilter;

use super::index::store::Snapshot;
use super::readback::{Loc, Reader};
use super::scan::{SegmentFile, list_segments};
use super::verify::Problem;
use super::walk::{Start, walk_listed};
use super::{AuditError, Head, Record};
use collect::{Collector, Hit};

/// How a query found its exchanges.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueryPlan {
    /// Through the index (up to the record it names), then reading every record after it.
    Index {
        /// The last record the index holds.
        indexed_through: u64,
        /// Decisions the index led to, read back and checked.
        candidates: u64,
        /// Records read after the index's last one.
        tail_records: u64,
    },
    /// By reading every record, because the index could not be used (the reason).
    Scan {
        /// Why the index was not used.
        reason: String,
    },
}

/// The exchanges a [`query()`] matched, in journal order.
#[derive(Debug, Clone)]
pub struct QueryResult {
    segments: Vec<SegmentFile>,
    hits: Vec<Hit>,
    /// Records read (decisions and their outcomes read back, and every record read in
    /// order).
    pub records_scanned: u64,
    /// Where reading stopped early, or the first record that did not check: damage
    /// (results leave it out), or an incomplete final record (a write in progress or
    /// interrupted).
    pub problem: Option<Problem>,
    /// How the exchanges were found.
    pub plan: QueryPlan,
    /// The last record the query covered: what an advisor saw was the journal up to here.
    pub head: Option<Head>,
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

    /// The subjects (SSINs, as recorded) of the matching exchanges, sorted, without repeats:
    /// whom a reader of this result learns about.
    pub fn subjects(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .hits
            .iter()
            .flat_map(|h| h.subjects.iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        all
    }

    /// The matching exchanges in full, read back one at a time, each record checked
    /// against the chain (frame checksums, its hash from the frame before it, and the next
    /// record's hash from its own).
    pub fn exchanges(&self) -> impl Iterator<Item = Result<Exchange, AuditError>> + '_ {
        let mut reader = Reader::default();
        self.hits.iter().map(move |hit| self.load(&mut reader, hit))
    }

    fn load(&self, reader: &mut Reader, hit: &Hit) -> Result<Exchange, AuditError> {
        let mut exchange = Exchange {
            ticket: hit.ticket,
            denial: None,
            intent: None,
            outcome: None,
            classification: None,
            sequences: Vec::new(),
        };
        let locations: [Option<Loc>; 3] = [Some(hit.first), hit.outcome, hit.classification];
        for loc in locations.into_iter().flatten() {
            match reader.read(&self.segments, &loc)? {
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
}

/// Find the exchanges in `dir` matching `filter`, through the journal's index when it can
/// be used (see [`QueryResult::plan`]), else reading every record. Every record returned is
/// checked against the chain; on damage the result leaves the damaged record out (and,
/// reading in order, everything after it) and [`QueryResult::problem`] says where.
pub fn query(dir: &Path, filter: &QueryFilter) -> Result<QueryResult, AuditError> {
    let segments = list_segments(dir)?;
    let snapshot = match Snapshot::open(dir, &segments) {
        Ok(snapshot) => snapshot,
        Err(reason) => return scan_listed(segments, filter, reason),
    };
    let mut collector = Collector::new(filter);
    let found = match indexed::collect(&snapshot, &segments, filter, &mut collector) {
        Ok(found) => found,
        Err(reason) => {
            let reason = format!("the index does not check: {reason}");
            return scan_listed(segments, filter, reason);
        }
    };
    // The first record after the index's last one chains from it.
    let (segment, offset) = snapshot.through_at();
    collector.continue_after(segment, offset);
    let end = walk_listed(segments.clone(), snapshot.tail_start(), &mut |v| {
        collector.visit(v);
        None
    })?;
    let damaged = found.damaged.map(|e| match e {
        AuditError::Damaged {
            segment,
            offset,
            sequence,
            reason,
        } => Problem {
            segment,
            offset,
            sequence,
            reason,
            torn_tail: false,
            final_record: false,
        },
        other => Problem {
            segment: String::new(),
            offset: 0,
            sequence: 0,
            reason: other.to_string(),
            torn_tail: false,
            final_record: false,
        },
    });
    let head = end.head.or_else(|| {
        // Nothing after the index's last record: the query covered up to it.
        let Start::At { chain, .. } = snapshot.tail_start() else {
            return None;
        };
        Some(Head {
            sequence: snapshot.through,
            hash: chain.hash,
        })
    });
    Ok(QueryResult {
        segments,
        hits: collector.finish(),
        records_scanned: found.candidates + end.records,
        problem: damaged.or(end.problem),
        plan: QueryPlan::Index {
            indexed_through: snapshot.through,
            candidates: found.candidates,
            tail_records: end.records,
        },
        head,
    })
}

/// [`query()`] reading every record in chain order, without the index (for comparison, or
/// when the index is in doubt).
pub fn scan(dir: &Path, filter: &QueryFilter) -> Result<QueryResult, AuditError> {
    scan_listed(
        list_segments(dir)?,
        filter,
        "asked to read every record".into(),
    )
}

fn scan_listed(
    segments: Vec<SegmentFile>,
    filter: &QueryFilter,
    reason: String,
) -> Result<QueryResult, AuditError> {
    let mut collector = Collector::new(filter);
    let end = walk_listed(segments.clone(), Start::First, &mut |v| {
        collector.visit(v);
        None
    })?;
    Ok(QueryResult {
        segments,
        hits: collector.finish(),
        records_scanned: end.records,
        problem: end.problem,
        plan: QueryPlan::Scan { reason },
        head: end.head,
    })
}

/// One exchange by ticket, request and reply included; `None` when the ticket is not in the
/// journal. Fails with [`AuditError::Damaged`] when the journal is damaged (a bad final
/// record aside).
pub fn show(dir: &Path, ticket: Uuid) -> Result<Option<Exchange>, AuditError> {
    let result = query_ticket(dir, ticket)?;
    if let Some(problem) = result.problem.as_ref().filter(|p| !p.final_record) {
        return Err(problem.to_error());
    }
    result.exchanges().next().transpose()
}

/// The query for one ticket (what [`show()`] reads).
pub fn query_ticket(dir: &Path, ticket: Uuid) -> Result<QueryResult, AuditError> {
    let filter = QueryFilter {
        ticket: Some(ticket),
        ..QueryFilter::default()
    };
    query(dir, &filter)
}
