//! Gathering the exchanges a filter matches, record by record, whichever way the records
//! were found (read in chain order, or led to by the index and read back): only where each
//! record is, its ticket, its subjects and the exchange's status are kept.

use std::collections::HashMap;

use uuid::Uuid;

use super::QueryFilter;
use crate::audit::Record;
use crate::audit::format::SEGMENT_HEADER_LEN;
use crate::audit::readback::Loc;
use crate::audit::walk::Visit;

/// One matching exchange: where its records are.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pub ticket: Uuid,
    pub first: Loc,
    pub outcome: Option<Loc>,
    pub classification: Option<Loc>,
    pub status: String,
    pub subjects: Vec<String>,
}

/// The hits so far.
pub(crate) struct Collector<'f> {
    filter: &'f QueryFilter,
    pub hits: Vec<Hit>,
    /// Intents among the hits still waiting for an outcome or a classification.
    intents: HashMap<Uuid, usize>,
    /// The last record visited in chain order: its segment and offset.
    last: Option<(usize, u64)>,
}

impl<'f> Collector<'f> {
    pub(crate) fn new(filter: &'f QueryFilter) -> Self {
        Collector {
            filter,
            hits: Vec::new(),
            intents: HashMap::new(),
            last: None,
        }
    }

    /// The records visited next follow the one at `segment` and `offset`.
    pub(crate) fn continue_after(&mut self, segment: usize, offset: u64) {
        self.last = Some((segment, offset));
    }

    /// A record read in chain order.
    pub(crate) fn visit(&mut self, v: &Visit) {
        let prev = match self.last {
            Some((segment, offset))
                if segment == v.at.segment && v.at.offset != SEGMENT_HEADER_LEN as u64 =>
            {
                Some(offset)
            }
            _ => None,
        };
        self.last = Some((v.at.segment, v.at.offset));
        let loc = Loc {
            segment: v.at.segment,
            offset: v.at.offset,
            sequence: v.sequence,
            prev,
        };
        match &v.record {
            Record::Denial(_) | Record::Intent(_) => self.decision(&v.record, loc),
            Record::Outcome(_) | Record::Classification(_) => self.linked(&v.record, loc),
            _ => {}
        }
    }

    /// A decision: a hit when it matches the filter (its status aside).
    pub(crate) fn decision(&mut self, record: &Record, loc: Loc) {
        if !self.filter.matches_decision(record) {
            return;
        }
        let (ticket, subjects, status) = match record {
            Record::Denial(d) => (d.ticket, &d.what.subjects, "denied"),
            Record::Intent(i) => {
                self.intents.insert(i.ticket, self.hits.len());
                (i.ticket, &i.what.subjects, "no_outcome")
            }
            _ => return,
        };
        self.hits.push(Hit {
            ticket,
            first: loc,
            outcome: None,
            classification: None,
            status: status.to_string(),
            subjects: subjects.clone(),
        });
    }

    /// An outcome or a classification: attached to its intent when that is a hit.
    pub(crate) fn linked(&mut self, record: &Record, loc: Loc) {
        match record {
            Record::Outcome(o) => {
                if let Some(hit) = self
                    .intents
                    .get(&o.ticket)
                    .and_then(|i| self.hits.get_mut(*i))
                {
                    hit.outcome = Some(loc);
                    if hit.classification.is_none() {
                        hit.status.clone_from(&o.outcome);
                    }
                }
            }
            Record::Classification(c) => {
                if let Some(hit) = self
                    .intents
                    .remove(&c.ticket)
                    .and_then(|i| self.hits.get_mut(i))
                {
                    hit.classification = Some(loc);
                    hit.status.clone_from(&c.outcome);
                }
            }
            _ => {}
        }
    }

    /// The hits whose status the filter accepts.
    pub(crate) fn finish(mut self) -> Vec<Hit> {
        self.hits.retain(|h| self.filter.matches_status(&h.status));
        self.hits
    }
}
