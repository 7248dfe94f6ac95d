//! The checks of `verify` beyond the chain, over a journal's records in order, whatever
//! stores them: the genesis record, checkpoints and their signatures, prunes and the
//! 10-year rule, the witness's heads, a trusted head, intents without outcome.
//!
//! A backend feeds it each record it read and linked ([`Chain::link`](crate::audit::chain))
//! and decoded ([`codec::decode`](crate::audit::codec::decode)), with a [`Location`] of its
//! own; a problem comes back with the location it was found at.

use std::collections::HashMap;

use chrono::Months;
use uuid::Uuid;

use super::{PendingIntent, UnapprovedDecision, VerifyOptions};
use crate::audit::chain::{Location, Visit};
use crate::audit::format::micros_to_time;
use crate::audit::prune::RETENTION_MONTHS;
use crate::audit::signing::{self, genesis_message, parse_hash};
use crate::audit::{GenesisRecord, Head, PruneRecord, Record, TruncationRecord, WitnessedHead};

/// A problem and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub at: Location,
    pub sequence: u64,
    pub reason: String,
}

/// What the checks gathered, beside the first problem.
#[derive(Debug, Default)]
pub(crate) struct Gathered {
    pub checkpoints: u64,
    pub signed_checkpoints: u64,
    pub last_signed_checkpoint: Option<u64>,
    pub genesis: Option<GenesisRecord>,
    pub genesis_signed: bool,
    pub trusted_head_confirmed: bool,
    pub witnessed_heads_confirmed: u64,
    pub last_witnessed: Option<Head>,
    /// The prune that attests the missing prefix (its sequence).
    pub attested_by_prune: Option<u64>,
    pub prunes: u64,
    pub truncations: Vec<(Location, u64, TruncationRecord)>,
    pub intents_without_outcome: Vec<PendingIntent>,
    pub unapproved_decisions: Vec<UnapprovedDecision>,
    /// Why the journal is not anchored (no witness head of it, no trusted head).
    pub unanchored: Option<String>,
}

/// How the chain started.
#[derive(Debug, Clone, Copy)]
struct StartPoint {
    at: Location,
    first_sequence: u64,
    prev_hash: [u8; 32],
}

/// A prune record that matches the missing prefix, waiting for its anchor (a signed
/// checkpoint after it, a witnessed head covering it).
#[derive(Debug, Clone)]
struct Attestation {
    at: Location,
    sequence: u64,
}

pub(crate) struct Checker<'o> {
    options: &'o VerifyOptions,
    journal_id: Uuid,
    /// The witness's heads of this journal, by sequence.
    witnessed: Vec<Head>,
    /// The next index in `witnessed` to meet.
    next_witnessed: usize,
    /// The witness holds heads of other journals only: their ids and last head.
    other_journals: Vec<WitnessedHead>,
    /// A head of this journal in the witness whose signature does not verify.
    forged_head: Option<String>,
    start: Option<StartPoint>,
    attestation: Option<Attestation>,
    last_record: Option<u64>,
    pending: HashMap<Uuid, u64>,
    g: Gathered,
}

impl<'o> Checker<'o> {
    /// Checks for the journal `journal_id` (from its storage: the segment headers).
    pub(crate) fn new(
        options: &'o VerifyOptions,
        witness_heads: &[WitnessedHead],
        journal_id: Uuid,
    ) -> Self {
        let mut witnessed: Vec<Head> = Vec::new();
        let mut other_journals: Vec<WitnessedHead> = Vec::new();
        let mut forged_head = None;
        for h in witness_heads {
            if h.journal_id == journal_id {
                let Some(head) = h.head() else {
                    forged_head.get_or_insert(format!(
                        "the witness holds a head of this journal whose hash {:?} is not 64 hex digits",
                        h.hash
                    ));
                    continue;
                };
                if let Some(key) = &options.public_key {
                    let message = signing::head_message(&journal_id, head.sequence, &head.hash);
                    if h.signature.is_some()
                        && let Err(reason) = signing::check(
                            "witnessed head",
                            h.public_key.as_deref(),
                            h.signature.as_deref(),
                            &message,
                            key,
                        )
                    {
                        forged_head.get_or_insert(format!(
                            "the witness's head {}:{} is not the journal's: {reason}",
                            h.sequence, h.hash
                        ));
                    }
                }
                witnessed.push(head);
            } else {
                other_journals.retain(|o| o.journal_id != h.journal_id);
                other_journals.push(h.clone());
            }
        }
        witnessed.sort_by_key(|h| h.sequence);
        witnessed.dedup();
        Checker {
            options,
            journal_id,
            witnessed,
            next_witnessed: 0,
            other_journals,
            forged_head,
            start: None,
            attestation: None,
            last_record: None,
            pending: HashMap::new(),
            g: Gathered::default(),
        }
    }

    /// The chain starts at `first_sequence`, chaining from `prev_hash`.
    pub(crate) fn start(&mut self, at: Location, first_sequence: u64, prev_hash: [u8; 32]) {
        self.start = Some(StartPoint {
            at,
            first_sequence,
            prev_hash,
        });
        // Heads before the first remaining record cannot be checked (pruned).
        while self
            .witnessed
            .get(self.next_witnessed)
            .is_some_and(|h| h.sequence < first_sequence)
        {
            self.next_witnessed += 1;
        }
    }

    /// Check one record (already linked and decoded).
    pub(crate) fn record(&mut self, v: &Visit) -> Result<(), String> {
        self.last_record = Some(v.sequence);
        self.trusted_head(v)?;
        self.witness_head(v)?;
        if v.sequence == 1 && !matches!(v.record, Record::Genesis(_)) {
            return Err(format!(
                "the journal's first record is a {} record, not its genesis record",
                v.record.kind()
            ));
        }
        match &v.record {
            Record::Genesis(g) => self.genesis(v, g)?,
            Record::Checkpoint(c) => {
                self.same_journal(c.journal_id)?;
                self.g.checkpoints += 1;
                let expected = v.sequence.saturating_sub(1);
                if c.sequence != expected || parse_hash(&c.head) != Some(v.prev_hash) {
                    return Err(format!(
                        "the checkpoint claims head {}:{} but the chain has {}:{} there",
                        c.sequence,
                        c.head,
                        expected,
                        hex::encode(v.prev_hash)
                    ));
                }
                self.checkpoint_signature(v, c)?;
                self.checkpoint_witnessed(c.sequence)?;
            }
            Record::Prune(p) => self.prune(v, p)?,
            Record::Truncation(t) => self.g.truncations.push((v.at, v.sequence, t.clone())),
            Record::Intent(r) => {
                self.pending.insert(r.ticket, v.sequence);
                self.manifest_approved(v, "intent", r.ticket, r.manifest.as_ref());
            }
            Record::Denial(r) => self.manifest_approved(v, "denial", r.ticket, r.manifest.as_ref()),
            Record::Outcome(r) => {
                self.pending.remove(&r.ticket);
            }
            _ => {}
        }
        Ok(())
    }

    /// With manifest signers given: note a decision taken under a manifest none of them
    /// signed.
    fn manifest_approved(
        &mut self,
        v: &Visit,
        kind: &'static str,
        ticket: Uuid,
        manifest: Option<&crate::audit::ManifestRef>,
    ) {
        let signers = &self.options.manifest_signers;
        if signers.is_empty() {
            return;
        }
        let approved = manifest
            .and_then(|m| m.signer.as_ref())
            .is_some_and(|signer| signers.iter().any(|s| s == signer));
        if !approved {
            self.g.unapproved_decisions.push(UnapprovedDecision {
                sequence: v.sequence,
                kind,
                ticket,
                manifest: manifest.cloned(),
            });
        }
    }

    fn same_journal(&self, id: Uuid) -> Result<(), String> {
        if id != self.journal_id {
            return Err(format!(
                "the record names journal {id} but this is journal {}",
                self.journal_id
            ));
        }
        Ok(())
    }

    fn genesis(&mut self, v: &Visit, g: &GenesisRecord) -> Result<(), String> {
        if v.sequence != 1 {
            return Err(format!(
                "a genesis record at sequence {}: only the first record is one",
                v.sequence
            ));
        }
        self.same_journal(g.journal_id)?;
        if let Some(key) = &self.options.public_key {
            let message = genesis_message(&g.journal_id, g.at.timestamp_micros());
            self.g.genesis_signed = signing::check(
                "genesis record",
                g.public_key.as_deref(),
                g.signature.as_deref(),
                &message,
                key,
            )?;
        }
        self.g.genesis = Some(g.clone());
        Ok(())
    }

    fn checkpoint_signature(
        &mut self,
        v: &Visit,
        c: &crate::audit::CheckpointRecord,
    ) -> Result<(), String> {
        let Some(key) = &self.options.public_key else {
            return Ok(());
        };
        match signing::check_checkpoint(c, &v.prev_hash, key)? {
            true => {
                self.g.signed_checkpoints += 1;
                self.g.last_signed_checkpoint = Some(v.sequence);
                Ok(())
            }
            false if self.g.signed_checkpoints > 0 || self.g.genesis_signed => Err(
                "the checkpoint is not signed, but earlier anchors are: its signature was stripped, or it was forged"
                    .to_string(),
            ),
            false => Ok(()),
        }
    }

    /// A checkpoint written while the journal had this witness was recorded in it first:
    /// one after the witness's first head that the witness does not hold was not written
    /// by the journal's writer.
    fn checkpoint_witnessed(&self, covered: u64) -> Result<(), String> {
        let Some(first) = self.witnessed.first() else {
            return Ok(());
        };
        if covered < first.sequence {
            return Ok(());
        }
        if self
            .witnessed
            .binary_search_by_key(&covered, |h| h.sequence)
            .is_err()
        {
            return Err(format!(
                "the checkpoint covers head {covered}, which the witness never recorded: a writer using this witness records every checkpoint in it first, so this checkpoint was forged (or written by a process not given the witness)"
            ));
        }
        Ok(())
    }

    fn trusted_head(&mut self, v: &Visit) -> Result<(), String> {
        let Some(t) = &self.options.trusted_head else {
            return Ok(());
        };
        let at_sequence = t.sequence.is_none_or(|s| s == v.sequence);
        if at_sequence && v.hash == t.hash {
            self.g.trusted_head_confirmed = true;
        } else if t.sequence == Some(v.sequence) {
            return Err(format!(
                "the chain hash after this record is {}, not the trusted head's {}: the journal was rewritten at or before this record",
                hex::encode(v.hash),
                hex::encode(t.hash)
            ));
        }
        Ok(())
    }

    fn witness_head(&mut self, v: &Visit) -> Result<(), String> {
        while let Some(h) = self.witnessed.get(self.next_witnessed) {
            if h.sequence > v.sequence {
                break;
            }
            if h.sequence == v.sequence {
                if h.hash != v.hash {
                    return Err(format!(
                        "the chain hash after this record is {}, but the witness recorded {} for it: the journal was rewritten at or before this record",
                        hex::encode(v.hash),
                        hex::encode(h.hash)
                    ));
                }
                self.g.witnessed_heads_confirmed += 1;
                self.g.last_witnessed = Some(*h);
            }
            self.next_witnessed += 1;
        }
        Ok(())
    }

    fn prune(&mut self, v: &Visit, p: &PruneRecord) -> Result<(), String> {
        self.same_journal(p.journal_id)?;
        self.g.prunes += 1;
        let Some(start) = self.start.filter(|s| s.first_sequence > 1) else {
            return Ok(());
        };
        let hash = hex::encode(start.prev_hash);
        let attests = (p.last_sequence.saturating_add(1) == start.first_sequence
            && p.last_hash.eq_ignore_ascii_case(&hash))
            || p.segments.iter().any(|s| {
                s.first_sequence == start.first_sequence && s.prev_hash.eq_ignore_ascii_case(&hash)
            });
        if !attests || self.attestation.is_some() {
            return Ok(());
        }
        let written_at = micros_to_time(v.written_at_micros);
        let boundary = written_at
            .checked_sub_months(Months::new(RETENTION_MONTHS))
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
        if p.newest_at >= p.cutoff || p.oldest_at > p.newest_at {
            return Err(format!(
                "the prune record removes records written from {} to {}, not all before its cut-off {}",
                p.oldest_at.to_rfc3339(),
                p.newest_at.to_rfc3339(),
                p.cutoff.to_rfc3339()
            ));
        }
        if p.newest_at >= boundary {
            return Err(format!(
                "the prune record removes records written up to {}, but the 10-year rule only allows records written before {} (10 years before the prune record's write time {})",
                p.newest_at.to_rfc3339(),
                boundary.to_rfc3339(),
                written_at.to_rfc3339()
            ));
        }
        if p.first_sequence > p.last_sequence || p.last_sequence >= v.sequence {
            return Err(format!(
                "the prune record's range {}..={} is impossible at sequence {}",
                p.first_sequence, p.last_sequence, v.sequence
            ));
        }
        self.attestation = Some(Attestation {
            at: v.at,
            sequence: v.sequence,
        });
        Ok(())
    }

    /// The checks that need the whole journal; `end` is where a next record would go.
    pub(crate) fn finish(mut self, end: Location, next_sequence: u64) -> (Gathered, Option<Found>) {
        let found = self.final_problem(end, next_sequence);
        let mut pending: Vec<PendingIntent> = self
            .pending
            .drain()
            .map(|(ticket, sequence)| PendingIntent { sequence, ticket })
            .collect();
        pending.sort_by_key(|p| p.sequence);
        self.g.intents_without_outcome = pending;
        let anchored_by_witness = !self.witnessed.is_empty();
        if !anchored_by_witness && self.options.trusted_head.is_none() {
            self.g.unanchored = Some(if self.options.witness.is_none() {
                "no witness and no trusted head".to_string()
            } else {
                "the witness holds no head of this journal".to_string()
            });
        }
        (self.g, found)
    }

    fn final_problem(&mut self, end: Location, next_sequence: u64) -> Option<Found> {
        let at_end = |reason: String| Found {
            at: end,
            sequence: next_sequence,
            reason,
        };
        let start = self.start?;
        if let Some(reason) = self.forged_head.take() {
            return Some(Found {
                at: start.at,
                sequence: start.first_sequence,
                reason,
            });
        }
        if self.witnessed.is_empty()
            && let Some(other) = self.other_journals.last()
        {
            return Some(Found {
                at: start.at,
                sequence: start.first_sequence,
                reason: format!(
                    "the witness holds heads of journal {} (its last {}:{} at {}) but none of this journal {}: the journal was replaced by another one",
                    other.journal_id,
                    other.sequence,
                    other.hash,
                    other.at.to_rfc3339(),
                    self.journal_id
                ),
            });
        }
        if let Some(h) = self.witnessed.get(self.next_witnessed) {
            let last = self.witnessed.last().copied().unwrap_or(*h);
            return Some(at_end(format!(
                "the witness recorded head {}:{} but the journal ends at sequence {}: records {}..={} were removed from its end (cut at a record boundary, or trailing segments deleted)",
                last.sequence,
                hex::encode(last.hash),
                next_sequence.saturating_sub(1),
                next_sequence,
                last.sequence
            )));
        }
        if let Some(t) = &self.options.trusted_head
            && !self.g.trusted_head_confirmed
        {
            let reason = match t.sequence {
                Some(s) if s < start.first_sequence => format!(
                    "the trusted head {s} precedes the first remaining record ({}): it cannot be confirmed",
                    start.first_sequence
                ),
                Some(s) => format!(
                    "the journal ends at sequence {} before the trusted head {s}: records were removed from its end",
                    next_sequence.saturating_sub(1)
                ),
                None => {
                    "the trusted head's hash occurs nowhere in the chain: the journal was rewritten"
                        .to_string()
                }
            };
            return Some(at_end(reason));
        }
        if start.first_sequence > 1 {
            if let Some(problem) = self.prefix_problem(start) {
                return Some(problem);
            }
        } else if self.last_record.is_some() && self.g.genesis.is_none() {
            return Some(Found {
                at: start.at,
                sequence: 1,
                reason: "the journal has no genesis record".to_string(),
            });
        }
        if self.options.public_key.is_some()
            && self.g.signed_checkpoints == 0
            && !self.g.genesis_signed
            && self.last_record.is_some()
        {
            return Some(at_end(
                "a public key was given but neither the genesis record nor any checkpoint is signed by it"
                    .to_string(),
            ));
        }
        None
    }

    /// The records before `start` are gone: a prune record must attest it, anchored.
    fn prefix_problem(&mut self, start: StartPoint) -> Option<Found> {
        let missing = start.first_sequence - 1;
        let Some(a) = self.attestation.clone() else {
            return Some(Found {
                at: start.at,
                sequence: start.first_sequence,
                reason: format!(
                    "the journal starts at sequence {} but no prune record in the chain attests the removal of records 1..={missing}: segments were deleted",
                    start.first_sequence
                ),
            });
        };
        if self.options.public_key.is_some()
            && self
                .g
                .last_signed_checkpoint
                .is_none_or(|s| s <= a.sequence)
        {
            return Some(Found {
                at: a.at,
                sequence: a.sequence,
                reason: format!(
                    "no checkpoint signed by the given key follows this prune record, which attests the removal of records 1..={missing}: it was not written by the journal's writer"
                ),
            });
        }
        let witnessed_after = self
            .g
            .last_witnessed
            .is_some_and(|h| h.sequence >= a.sequence);
        if !self.witnessed.is_empty() && !witnessed_after {
            return Some(Found {
                at: a.at,
                sequence: a.sequence,
                reason: format!(
                    "no head in the witness covers this prune record, which attests the removal of records 1..={missing}: it was not written by the journal's writer"
                ),
            });
        }
        self.g.attested_by_prune = Some(a.sequence);
        None
    }
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
