//! `bcss audit verify`: its arguments and output.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use bcss::audit::{self, VerifyOptions, VerifyReport};

use super::reading::{Shown, journal_read};
use super::{Failure, JournalKeys, journal_config, usage};

/// `bcss audit verify`
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The journal: a directory, or postgres://ROLE@HOST/DATABASE?schema=NAME.
    pub dir: PathBuf,
    /// A head printed earlier by `bcss audit checkpoint` (`SEQUENCE:HEX`, or `HEX`): prove
    /// the journal still extends it.
    #[arg(long, value_name = "HEX")]
    pub trusted_head: Option<String>,
    /// The Ed25519 public key (PEM, or 64 hex digits) of the journal's signing key: check
    /// every signature (genesis, checkpoints, witnessed heads).
    #[arg(long, value_name = "FILE")]
    pub public_key: Option<PathBuf>,
    /// Fail (exit 1) when the journal is unanchored: no witness head of it and no trusted
    /// head.
    #[arg(long)]
    pub require_anchor: bool,
    /// A public key (SPKI PEM, or 64 hex digits) allowed to sign the authorisation
    /// manifest; repeat for several. Lists every decision (denial, intent) taken under a
    /// manifest none of them signed, and exits 1 when there is one.
    #[arg(long, value_name = "KEY.pub")]
    pub manifest_signer: Vec<PathBuf>,
    /// Record this verification (naming this reader) before showing anything: in a file
    /// journal's reads chain, in a PostgreSQL journal's own chain.
    #[arg(long, value_name = "ID", value_parser = super::reader_id)]
    pub reader: Option<String>,
    #[command(flatten)]
    pub keys: JournalKeys,
}

pub(super) fn run(args: VerifyArgs) -> Result<ExitCode, Failure> {
    // The witness: --witness, else the configuration's `[journal] witness`.
    let witness = journal_config(&args.dir, &args.keys)?.witness;
    let options = VerifyOptions {
        trusted_head: args.trusted_head.as_deref().map(str::parse).transpose()?,
        public_key: args
            .public_key
            .as_deref()
            .map(audit::load_verifying_key)
            .transpose()?,
        witness,
        require_anchor: args.require_anchor,
        manifest_signers: args
            .manifest_signer
            .iter()
            .map(|path| {
                bcss::keys::load_verifying_key(path)
                    .map(|key| bcss::keys::fingerprint(&key))
                    .map_err(|e| usage(format!("--manifest-signer: {e}")))
            })
            .collect::<Result<_, _>>()?,
        progress: super::progress::bar(),
        now: None,
    };
    let mut arguments = Vec::new();
    if let Some(t) = &args.trusted_head {
        arguments.push(format!("--trusted-head={t}"));
    }
    if let Some(location) = super::pg::location(&args.dir, &args.keys.db)? {
        return super::pg::run_verify(
            location,
            args.reader.as_deref(),
            &args.keys,
            options,
            arguments,
        );
    }
    if let Some(reader) = &args.reader {
        journal_read(
            &args.dir,
            reader,
            &args.keys,
            "verify",
            arguments,
            Shown::default(),
        )?;
    }
    let report = audit::verify(&args.dir, &options)?;
    if report.segments == 0 && report.problem.is_none() {
        // Nothing to verify, and nothing (no witness head) says there was a journal here:
        // not "ok: 0 records", which reads as a journal that verified. As `query` says.
        return Err(audit::AuditError::Config(format!(
            "{} holds no journal (no segment file): check the path",
            args.dir.display()
        ))
        .into());
    }
    Ok(print(&report, &options, ReadsChain::Files))
}

/// Where a journal's reads are recorded: what verify's `reads:` line is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReadsChain {
    /// A file journal: its reads chain, `reads/` (`reads: none` when it has none).
    Files,
    /// A PostgreSQL journal: its own chain (no `reads:` line).
    InJournal,
}

/// The first line without an anchor: what nothing inside the journal can show.
pub(super) const UNANCHORED: &str = "WARNING: unanchored: truncation at a record boundary, deleted trailing segments, a replaced journal, and records edited, added or pruned with the chain recomputed after them (after the last signed checkpoint, with a key) cannot be detected";

/// What to do about it: configure or pass a witness, or give the right one.
fn unanchored_hint(options: &VerifyOptions) -> &'static str {
    if options.witness.is_some() {
        "(the witness given holds no head of this journal: check it is this journal's witness; an existing journal is given one with `bcss audit start-witness`)"
    } else {
        "(configure [journal] witness, or pass --witness)"
    }
}

/// The start of the reason of a failure only because an anchor is required.
const NOT_ANCHORED: &str = "the journal is not anchored";

/// Print the report; the exit code (1 when the journal does not verify).
pub(super) fn print(report: &VerifyReport, options: &VerifyOptions, reads: ReadsChain) -> ExitCode {
    let mut out = std::io::stdout().lock();
    if let Some(why) = &report.unanchored {
        let _ = writeln!(out, "{UNANCHORED} {} [{why}]", unanchored_hint(options));
    }
    if let Some(problem) = &report.problem {
        if problem.reason.starts_with(NOT_ANCHORED) {
            // Nothing is wrong at any position: say so rather than name the journal's end.
            let _ = writeln!(
                out,
                "FAILED: {}; the {} records themselves verify",
                problem.reason, report.records
            );
            return ExitCode::from(1);
        }
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
        let last_read = report.head.map_or(0, |h| h.sequence);
        if problem.sequence > last_read {
            let _ = writeln!(out, "{} records verified before it", report.records);
        } else {
            let _ = writeln!(
                out,
                "{} records read, each intact on its own; the check above fails at sequence {}",
                report.records, problem.sequence
            );
        }
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
                if let Some(first) = report.first_witnessed_head
                    && first.sequence > report.first_sequence.unwrap_or(1)
                {
                    let _ = writeln!(
                        out,
                        "witness: the first head it holds is at sequence {}: records before it are anchored by the chain alone (the witness was started then)",
                        first.sequence
                    );
                }
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
    let reads_ok = print_reads(&mut out, report, reads);
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
    if unapproved || !reads_ok {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// The reads chain's verdict, when the journal has one; `false` when it does not verify.
fn print_reads(out: &mut impl Write, report: &VerifyReport, chain: ReadsChain) -> bool {
    let Some(reads) = &report.reads else {
        if chain == ReadsChain::Files {
            // Said, so that a reads chain that disappears does not go unnoticed.
            let _ = writeln!(
                out,
                "reads: none (no reads chain in reads/: no read was recorded with `bcss audit`)"
            );
        }
        return true;
    };
    match &reads.problem {
        Some(problem) if reads.segments == 0 => {
            let _ = writeln!(out, "reads: FAILED: {}", problem.reason);
            false
        }
        Some(problem) => {
            let _ = writeln!(
                out,
                "reads: FAILED: segment {} byte {} sequence {}: {}",
                problem.segment, problem.offset, problem.sequence, problem.reason
            );
            false
        }
        None => {
            let head = reads
                .head
                .map(|h| h.to_string())
                .unwrap_or_else(|| "none".to_string());
            let _ = writeln!(
                out,
                "reads: ok: {} records, head {head}; every read's view of the journal is in its chain",
                reads.records
            );
            if let Some(why) = &reads.unanchored {
                let _ = writeln!(out, "reads: unanchored ({why})");
            }
            true
        }
    }
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
            (Some(sequence), Some(kind)) => {
                let witnessed = q.witnessed_head.map_or(String::new(), |h| {
                    format!(
                        "; it holds the record whose head {h} the witness recorded (nothing the witness saw was removed)"
                    )
                });
                writeln!(
                    out,
                    "quarantined: {} ({} bytes, {kind}), named by the truncation record at sequence {sequence}; it matches{witnessed}",
                    q.file, q.bytes
                )
            }
            _ if !q.reached => writeln!(
                out,
                "quarantined: {} ({} bytes), not checked: verification stopped at the problem above, before any truncation record naming it",
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
