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
        let _ = writeln!(
            out,
            "FAILED: segment {} byte {} sequence {}: {}",
            problem.segment, problem.offset, problem.sequence, problem.reason
        );
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
    let unapproved = print_unapproved(&mut out, report, options);
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
    if unapproved {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// With `--manifest-signer`: the decisions taken under a manifest none of the given keys
/// signed, grouped by manifest (consecutive decisions under the same one). `true` when
/// there is one.
fn print_unapproved(out: &mut impl Write, report: &VerifyReport, options: &VerifyOptions) -> bool {
    if options.manifest_signers.is_empty() {
        return false;
    }
    let decisions = &report.unapproved_decisions;
    if decisions.is_empty() {
        let _ = writeln!(
            out,
            "manifest signers: every decision was taken under a manifest signed by one of the given keys"
        );
        return false;
    }
    let _ = writeln!(
        out,
        "UNAPPROVED: {} decision(s) taken under a manifest not signed by any of the given keys:",
        decisions.len()
    );
    for group in decisions.chunk_by(|a, b| a.manifest == b.manifest) {
        let (first, last) = (group[0].sequence, group[group.len() - 1].sequence);
        let manifest = match &group[0].manifest {
            None => "no manifest named in the record".to_string(),
            Some(m) => match (&m.signer, &m.signed_by) {
                (None, _) => format!("manifest {} (unsigned)", m.sha256),
                (Some(signer), by) => format!(
                    "manifest {} (signed by {}{}, not a given key)",
                    m.sha256,
                    signer,
                    by.as_ref().map(|b| format!(", {b}")).unwrap_or_default()
                ),
            },
        };
        let _ = writeln!(
            out,
            "  sequences {first}..={last}: {} decision(s) under {manifest}",
            group.len()
        );
        for d in group {
            let _ = writeln!(
                out,
                "    sequence {} {} ticket {}",
                d.sequence, d.kind, d.ticket
            );
        }
    }
    true
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
