//! Verifying a journal with its reads chain (`reads/`): both chains, and each read's
//! claim about the journal (its id, and the head the read covered) against the journal's
//! own chain. A journal rewritten at or before a record an advisor was shown, or cut
//! below it, no longer has that head: the read proves what the journal held.

use std::collections::HashMap;
use std::path::Path;

use uuid::Uuid;

use super::{Problem, VerifyOptions, VerifyReport, verify_chain};
use crate::audit::reads::READS_DIR;
use crate::audit::walk::Location;
use crate::audit::{AuditError, Head, Record};

/// One read's claim.
struct Claim {
    /// Where the read is in the reads chain.
    at: Location,
    sequence: u64,
    journal_id: Option<Uuid>,
    head: Option<Head>,
}

pub(super) fn verify_with_reads(
    dir: &Path,
    options: &VerifyOptions,
) -> Result<VerifyReport, AuditError> {
    let reads_dir = dir.join(READS_DIR);
    let has_reads =
        reads_dir.is_dir() && !crate::audit::scan::list_segments(&reads_dir)?.is_empty();
    if !has_reads {
        let mut report = verify_chain(dir, options, &mut |_| {})?;
        report.reads = missing_reads(&reads_dir, options, report.journal_id)?.map(Box::new);
        return Ok(report);
    }
    let mut claims: Vec<Claim> = Vec::new();
    let reads_options = VerifyOptions {
        trusted_head: None,
        manifest_signers: Vec::new(),
        ..options.clone()
    };
    let mut reads = verify_chain(&reads_dir, &reads_options, &mut |v| {
        if let Record::Read(r) = &v.record {
            claims.push(Claim {
                at: v.at,
                sequence: v.sequence,
                journal_id: r.journal_id,
                head: r.head.as_deref().and_then(parse_head),
            });
        }
    })?;
    let reads_segments: Vec<String> = crate::audit::scan::list_segments(&reads_dir)?
        .into_iter()
        .map(|s| s.name)
        .collect();
    // By the journal sequence they claim.
    let mut by_sequence: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, c) in claims.iter().enumerate() {
        if let Some(h) = c.head {
            by_sequence.entry(h.sequence).or_default().push(i);
        }
    }
    let mut mismatch: Option<(usize, String)> = None;
    let mut truncated_at: Option<u64> = None;
    let mut report = verify_chain(dir, options, &mut |v| {
        if let Record::Truncation(t) = &v.record {
            truncated_at = Some(truncated_at.map_or(t.sequence, |s| s.min(t.sequence)));
        }
        let Some(waiting) = by_sequence.remove(&v.sequence) else {
            return;
        };
        for i in waiting {
            let Some(head) = claims[i].head else { continue };
            if head.hash != v.hash && mismatch.is_none() {
                mismatch = Some((
                    i,
                    format!(
                        "this read saw the journal's head {}:{} but the journal has {} there: it was rewritten at or before that record after the read",
                        head.sequence,
                        hex::encode(head.hash),
                        hex::encode(v.hash)
                    ),
                ));
            }
        }
    })?;
    let journal_id = report.journal_id;
    let end = report.head.map_or(0, |h| h.sequence);
    let first = report.first_sequence.unwrap_or(1);
    let problem = claims.iter().enumerate().find_map(|(i, c)| {
        if let (Some(claimed), Some(actual)) = (c.journal_id, journal_id)
            && claimed != actual
        {
            return Some((
                i,
                format!(
                    "this read is of journal {claimed}, not of this journal {actual}: the reads chain belongs to another journal"
                ),
            ));
        }
        let head = c.head?;
        // A crash recovery cut what the read saw (written, not yet durable): not a rewrite.
        let cut = truncated_at.is_some_and(|t| t <= head.sequence);
        if head.sequence > end && !cut && report.problem.is_none() {
            return Some((
                i,
                format!(
                    "this read saw the journal up to sequence {}, but the journal ends at {end}: records were removed from its end",
                    head.sequence
                ),
            ));
        }
        None
    });
    let problem = problem.or(mismatch.filter(|(i, _)| {
        let cut = truncated_at.is_some_and(|t| claims[*i].head.is_some_and(|h| t <= h.sequence));
        !cut && claims[*i].head.is_some_and(|h| h.sequence >= first)
    }));
    if reads.problem.is_none()
        && let Some((i, reason)) = problem
    {
        let c = &claims[i];
        reads.problem = Some(Problem {
            segment: reads_segments
                .get(c.at.segment)
                .cloned()
                .unwrap_or_default(),
            offset: c.at.offset,
            sequence: c.sequence,
            reason,
            torn_tail: false,
            final_record: false,
        });
    }
    report.reads = Some(Box::new(reads));
    Ok(report)
}

/// The verdict on a reads chain that is not there (`reads_dir` missing, or without a
/// segment) for the journal `journal_id`: a failure when the witness recorded heads of a
/// reads chain, `None` otherwise.
///
/// A witness holds the heads of one journal and of its reads chain (a journal created with
/// a witness that holds another journal's heads is refused, its reads chain aside): heads
/// of any other journal id are its reads chain's. A reads chain is only created with the
/// journal's witness when the journal has one, and writes its genesis head there at once.
fn missing_reads(
    reads_dir: &Path,
    options: &VerifyOptions,
    journal_id: Option<Uuid>,
) -> Result<Option<VerifyReport>, AuditError> {
    let (Some(witness), Some(journal_id)) = (&options.witness, journal_id) else {
        return Ok(None);
    };
    let heads = witness.heads()?;
    let Some(last) = heads.iter().rfind(|h| h.journal_id != journal_id) else {
        return Ok(None);
    };
    let recorded = heads
        .iter()
        .filter(|h| h.journal_id == last.journal_id)
        .count();
    let problem = Problem {
        segment: String::new(),
        offset: 0,
        sequence: last.sequence,
        reason: format!(
            "{} holds no reads chain, but the witness recorded {recorded} head(s) of this journal's reads chain, journal {} (its last {}:{} at {}): the reads chain was deleted or moved; restore it",
            reads_dir.display(),
            last.journal_id,
            last.sequence,
            last.hash,
            last.at.to_rfc3339()
        ),
        torn_tail: false,
        final_record: false,
    };
    Ok(Some(VerifyReport {
        journal_id: Some(last.journal_id),
        problem: Some(problem),
        ..VerifyReport::default()
    }))
}

/// `SEQUENCE:HEX` as a head.
fn parse_head(text: &str) -> Option<Head> {
    let (sequence, hash) = text.split_once(':')?;
    Some(Head {
        sequence: sequence.parse().ok()?,
        hash: hex::decode(hash).ok()?.try_into().ok()?,
    })
}
