//! `bcss audit verify` output.

use std::io::Write;
use std::process::ExitCode;

use bcss::audit::{VerifyOptions, VerifyReport};

/// The first line without an anchor.
pub(super) const UNANCHORED: &str = "WARNING: unanchored: truncation at a record boundary, deleted trailing segments or a replaced journal cannot be detected (configure [journal] witness, or pass --witness)";

/// Print the report; the exit code (1 when the journal does not verify).
pub(super) fn print(report: &VerifyReport, options: &VerifyOptions) -> ExitCode {
    let mut out = std::io::stdout().lock();
    if let Some(why) = &report.unanchored {
        let _ = writeln!(out, "{UNANCHORED} [{why}]");
    }
    if let Some(problem) = &report.problem {
        let _ = if problem.segment.ends_with(".records") {
            // A PostgreSQL journal: its records table, by sequence number.
            writeln!(
                out,
                "FAILED: table {} sequence {}: {}",
                problem.segment, problem.sequence, problem.reason
            )
        } else {
            writeln!(
                out,
                "FAILED: segment {} byte {} sequence {}: {}",
                problem.segment, problem.offset, problem.sequence, problem.reason
            )
        };
        let _ = writeln!(out, "{} records verified before it", report.records);
        if problem.final_record {
            let _ = writeln!(
                out,
                "(opening the journal for writing moves this final record to quarantine, cuts it off and records the truncation)"
            );
        }
        print_quarantine(&mut out, report);
        return ExitCode::from(1);
    }
    let head = report
        .head
        .map(|h| hex::encode(h.hash))
        .unwrap_or_else(|| "none (empty journal)".to_string());
    let _ = writeln!(out, "ok: {} records, head {head}", report.records);
    if let Some(h) = report.head {
        let _ = writeln!(out, "head sequence: {}", h.sequence);
    }
    if let Some(id) = report.journal_id {
        let _ = writeln!(out, "journal: {id}");
    }
    if let (Some(at), Some(by)) = (report.anchored_at, report.attested_by_prune) {
        let _ = writeln!(
            out,
            "chain starts at sequence {at}: records before it were pruned, as the prune record at sequence {by} attests"
        );
    }
    if options.trusted_head.is_some() {
        let _ = writeln!(out, "trusted head: confirmed");
    }
    if options.witness.is_some() {
        match report.last_witnessed_head {
            Some(h) => {
                let _ = writeln!(
                    out,
                    "witness: {} head(s) confirmed, the last at sequence {} ({} records after it)",
                    report.witnessed_heads_confirmed,
                    h.sequence,
                    report
                        .head
                        .map_or(0, |head| head.sequence.saturating_sub(h.sequence))
                );
            }
            None => {
                let _ = writeln!(out, "witness: no head of this journal");
            }
        }
    }
    if options.public_key.is_some() {
        let after = match (report.last_signed_checkpoint, report.head) {
            (Some(s), Some(h)) => h.sequence.saturating_sub(s),
            _ => 0,
        };
        let _ = writeln!(
            out,
            "signed checkpoints: {} verified; {after} records after the last one",
            report.signed_checkpoints
        );
        let _ = writeln!(
            out,
            "genesis record: {}",
            if report.genesis_signed {
                "signed"
            } else {
                "not signed"
            }
        );
    }
    if report.prunes > 0 {
        let _ = writeln!(out, "prunes recorded: {}", report.prunes);
    }
    if report.truncations > 0 {
        let _ = writeln!(
            out,
            "crash recoveries (truncations): {}",
            report.truncations
        );
    }
    print_quarantine(&mut out, report);
    if !report.intents_without_outcome.is_empty() {
        let _ = writeln!(
            out,
            "intents without outcome: {}",
            report.intents_without_outcome.len()
        );
        for p in &report.intents_without_outcome {
            let _ = writeln!(out, "  sequence {} ticket {}", p.sequence, p.ticket);
        }
    }
    ExitCode::SUCCESS
}

fn print_quarantine(out: &mut impl Write, report: &VerifyReport) {
    for q in &report.quarantined {
        let _ = match (q.truncation, &q.kind) {
            (Some(sequence), Some(kind)) => writeln!(
                out,
                "quarantined: {} ({} bytes, {kind}), named by the truncation record at sequence {sequence}; it matches",
                q.file, q.bytes
            ),
            _ => writeln!(
                out,
                "quarantined: {} ({} bytes), named by no truncation record (a crash while recovering)",
                q.file, q.bytes
            ),
        };
    }
}
