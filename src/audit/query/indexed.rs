//! A query through the index: the most selective criterion's keys give the candidate
//! decisions; each is read back and checked against the chain, matched against the whole
//! filter, and joined with its outcome and classification (found through the index's
//! links, read back and checked too).

use std::collections::BTreeMap;

use super::QueryFilter;
use super::collect::Collector;
use crate::audit::AuditError;
use crate::audit::index::key::{self, Kind};
use crate::audit::index::store::Snapshot;
use crate::audit::readback::{ReadError, Reader};
use crate::audit::scan::SegmentFile;

/// What the index found.
#[derive(Debug, Default)]
pub(super) struct Found {
    /// Decisions read back.
    pub candidates: u64,
    /// The first record that did not check against the chain.
    pub damaged: Option<AuditError>,
}

/// The key range of the filter's most selective criterion: a ticket, a subject, a user,
/// a manifest, a service, a status, else every decision (within the filter's times).
fn driving_range(filter: &QueryFilter) -> (Vec<u8>, Vec<u8>) {
    // A superset of the filter's times: the records themselves decide.
    let since = filter
        .since
        .map_or(i64::MIN, |t| t.timestamp_micros().saturating_sub(1));
    let until = filter
        .until
        .map_or(i64::MAX, |t| t.timestamp_micros().saturating_add(1));
    let range = |kind, term: &[u8]| key::range(kind, term, since, until);
    if let Some(ticket) = filter.ticket {
        return key::range(Kind::Ticket, ticket.as_bytes(), i64::MIN, i64::MAX);
    }
    if let Some(subject) = &filter.subject {
        return range(Kind::Subject, &key::subject_term(subject));
    }
    if let Some(who) = &filter.who {
        return range(Kind::User, who.as_bytes());
    }
    if let Some(manifest) = &filter.manifest {
        return range(Kind::Manifest, &key::manifest_term(manifest));
    }
    if let Some(service) = &filter.service {
        return range(Kind::Service, &key::service_term(service));
    }
    match filter.outcome.as_deref() {
        Some(status) if !status.eq_ignore_ascii_case("no_outcome") => {
            range(Kind::Status, &key::status_term(status))
        }
        _ => range(Kind::Decision, b""),
    }
}

/// Collect the hits the index leads to (records up to the index's last one). An error is
/// the index's own (it cannot be read): the caller then reads every record instead.
pub(super) fn collect(
    snapshot: &Snapshot,
    segments: &[SegmentFile],
    filter: &QueryFilter,
    collector: &mut Collector<'_>,
) -> Result<Found, String> {
    let (low, high) = driving_range(filter);
    let mut found = Found::default();
    let mut reader = Reader::default();
    let mut read = |sequence: u64, found: &mut Found| -> Result<Option<_>, String> {
        let Some(loc) = snapshot.locate(sequence, segments)? else {
            return Ok(None); // pruned
        };
        match reader.read_located(segments, &loc) {
            Ok(record) => Ok(Some((record, loc))),
            // The record is where the index says, and does not check: journal damage.
            Err(ReadError::Journal(e @ AuditError::Damaged { .. })) => {
                found.damaged.get_or_insert(e);
                Ok(None)
            }
            Err(ReadError::NotThere(e)) => Err(not_there(sequence, &e)),
            Err(ReadError::Journal(e)) => Err(e.to_string()),
        }
    };
    let mut decisions = Vec::new();
    for sequence in snapshot.sequences(&low, &high)? {
        let Some((record, loc)) = read(sequence, &mut found)? else {
            continue;
        };
        found.candidates += 1;
        if filter.matches_decision(&record) {
            collector.decision(&record, loc);
            decisions.push(sequence);
        }
    }
    for (_, linked) in links(snapshot, &decisions)? {
        for sequence in linked {
            if let Some((record, loc)) = read(sequence, &mut found)? {
                collector.linked(&record, loc);
            }
        }
    }
    Ok(found)
}

/// Why the index is not used when it placed record `sequence` where it is not.
pub(crate) fn not_there(sequence: u64, e: &AuditError) -> String {
    let reason = match e {
        AuditError::Damaged { reason, .. } => reason.clone(),
        other => other.to_string(),
    };
    format!(
        "its positions do not lead to record {sequence}: {reason}; the index is wrong or out of date (the journal itself is checked by reading it in order): run `bcss audit reindex`"
    )
}

/// The outcomes and classifications of `decisions` (sorted), by decision. Many decisions
/// close together are looked up with one range of link keys, a few far apart one by one.
fn links(snapshot: &Snapshot, decisions: &[u64]) -> Result<BTreeMap<u64, Vec<u64>>, String> {
    let mut out: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    let (Some(first), Some(last)) = (decisions.first(), decisions.last()) else {
        return Ok(out);
    };
    // About two link keys per record in the span, some 150 keys per block read; one
    // lookup costs a few blocks in each run.
    let span_blocks = (last - first).saturating_mul(2) / 150;
    let lookups_blocks = (decisions.len() as u64).saturating_mul(30);
    if span_blocks < lookups_blocks {
        for k in snapshot.link_keys(*first, *last)? {
            let (Some(term), Some(linked)) = (key::term_of(&k), key::sequence_of(&k)) else {
                continue;
            };
            let Ok(term) = <[u8; 8]>::try_from(term) else {
                continue;
            };
            let decision = u64::from_be_bytes(term);
            if linked <= snapshot.through && decisions.binary_search(&decision).is_ok() {
                out.entry(decision).or_default().push(linked);
            }
        }
        for linked in out.values_mut() {
            linked.sort_unstable();
            linked.dedup();
        }
    } else {
        for d in decisions {
            out.insert(*d, snapshot.linked(*d)?);
        }
    }
    Ok(out)
}
