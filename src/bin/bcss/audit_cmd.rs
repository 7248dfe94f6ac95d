//! `bcss audit`: verify, query, show, checkpoint and prune a file journal. Thin: the work is
//! done by `bcss::audit`.
//!
//! Exit codes: 0 success; 1 the journal is damaged or does not verify (or `show` found no
//! such ticket); 2 the command could not run (bad arguments, I/O errors, a lock held, a read
//! that could not be journaled).

mod output;
mod verify;
mod witness;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bcss::audit::{
    self, AuditError, CallRecord, FileJournal, FileJournalConfig, FileWitness, Journal,
    QueryFilter, ReadRecord, VerifyOptions,
};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use output::{CSV_COLUMNS, csv_line, json_line, print_table, summary};
use uuid::Uuid;

/// `bcss audit ...`
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check framing, checksums, the hash chain, signatures, prunes, quarantined bytes and
    /// the witness. Prints `ok: N records, head HEX`, or the first bad record's segment,
    /// byte offset and sequence; first `WARNING: unanchored: ...` without a witness or a
    /// trusted head.
    Verify(VerifyArgs),
    /// Find exchanges: who consulted whom, when, why, and how it ended.
    Query(QueryArgs),
    /// One exchange by ticket, request and reply included.
    Show(ShowArgs),
    /// Verify, then print the current head (`SEQUENCE:HEX`) to store elsewhere and pass
    /// later to `verify --trusted-head`.
    Checkpoint(CheckpointArgs),
    /// Remove whole segments whose every record is older than both --before and 10 years.
    Prune(PruneArgs),
    /// Give an existing journal a witness (one that holds no head of it yet): its head is
    /// recorded there and a `witness_started` checkpoint in the chain. Opening refuses a
    /// journal whose witness holds nothing, so a missing witness is never recreated
    /// silently.
    StartWitness(witness::StartWitnessArgs),
}

/// Journaling the read itself.
#[derive(Debug, clap::Args)]
pub struct ReaderArgs {
    /// Record this read in the journal (a `read` record naming this reader) before showing
    /// anything; needs the journal not to be open by another writer.
    #[arg(long, value_name = "ID")]
    pub reader: Option<String>,
    /// With --reader: the Ed25519 PKCS#8 PEM key that signs the checkpoint written after the
    /// read record (without it no checkpoint is written).
    #[arg(long, value_name = "FILE", requires = "reader")]
    pub signing_key: Option<PathBuf>,
    /// The journal's witness file. For verify, the anchor: every head it recorded must be in
    /// the chain, so a cut at a record boundary, deleted trailing segments, a replaced
    /// journal or a rewritten chain is detected (without it verify is unanchored). With
    /// --reader, the checkpoint after the read record is recorded there; required when the
    /// journal has one (the read is refused without it).
    #[arg(long, value_name = "FILE")]
    pub witness: Option<PathBuf>,
}

/// `bcss audit verify`
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The journal directory.
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
    /// A `bcss.toml` whose `[journal] witness` is used when --witness is not given.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub reader: ReaderArgs,
}

/// Output formats of `query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns, no payloads.
    Table,
    /// One JSON object per line, full request and reply included as text.
    Json,
    /// RFC 4180 CSV with a header row, no payloads.
    Csv,
}

/// `bcss audit query`
#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// The journal directory.
    pub dir: PathBuf,
    /// The physical user's id.
    #[arg(long, value_name = "ID")]
    pub who: Option<String>,
    /// An SSIN the request was about.
    #[arg(long, value_name = "SSIN")]
    pub subject: Option<String>,
    /// The service name.
    #[arg(long, value_name = "S")]
    pub service: Option<String>,
    /// Decided at or after (RFC 3339, or YYYY-MM-DD for the start of that UTC day).
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// Decided at or before (RFC 3339, or YYYY-MM-DD for the whole UTC day).
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// ok, warning, no_data, business_error, soap_fault, undecodable, transport_error,
    /// denied or no_outcome.
    #[arg(long, value_name = "O")]
    pub outcome: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub reader: ReaderArgs,
}

/// `bcss audit show`
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The journal directory.
    pub dir: PathBuf,
    /// Our ticket (a UUID).
    pub ticket: Uuid,
    #[command(flatten)]
    pub reader: ReaderArgs,
}

/// `bcss audit checkpoint`
#[derive(Debug, clap::Args)]
pub struct CheckpointArgs {
    /// The journal directory.
    pub dir: PathBuf,
}

/// `bcss audit prune`
#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// The journal directory.
    pub dir: PathBuf,
    /// Remove segments whose records are all older than this (RFC 3339 or YYYY-MM-DD) and
    /// older than 10 years.
    #[arg(long, value_name = "DATE")]
    pub before: String,
    /// The journal's Ed25519 PKCS#8 PEM signing key: signs the checkpoint after the prune
    /// record (give it whenever the journal has one: verify with a public key requires it).
    #[arg(long, value_name = "FILE")]
    pub signing_key: Option<PathBuf>,
    /// The journal's witness file: the checkpoint after the prune record is recorded there.
    #[arg(long, value_name = "FILE")]
    pub witness: Option<PathBuf>,
}

/// Run `bcss audit ...`.
pub fn run(cmd: AuditCommand) -> ExitCode {
    let result = match cmd {
        AuditCommand::Verify(args) => run_verify(args),
        AuditCommand::Query(args) => run_query(args),
        AuditCommand::Show(args) => run_show(args),
        AuditCommand::Checkpoint(args) => run_checkpoint(args),
        AuditCommand::Prune(args) => run_prune(args),
        AuditCommand::StartWitness(args) => witness::run(args),
    };
    match result {
        Ok(code) => code,
        Err(Failure(code, message)) => {
            eprintln!("bcss audit: {message}");
            code
        }
    }
}

/// A failed command: its exit code and message.
struct Failure(ExitCode, String);

impl From<AuditError> for Failure {
    fn from(e: AuditError) -> Self {
        let code = if matches!(e, AuditError::Damaged { .. }) {
            ExitCode::from(1)
        } else {
            ExitCode::from(2)
        };
        Failure(code, e.to_string())
    }
}

fn usage(message: String) -> Failure {
    Failure(ExitCode::from(2), message)
}

/// Journal the read before anything is shown; refuse when it cannot be.
fn journal_read(
    dir: &Path,
    reader: &ReaderArgs,
    command: &str,
    arguments: Vec<String>,
) -> Result<(), Failure> {
    let Some(id) = &reader.reader else {
        return Ok(());
    };
    if !dir.is_dir() {
        return Err(usage(format!(
            "{} is not a journal directory, so the read cannot be journaled",
            dir.display()
        )));
    }
    let mut config = journal_config(
        dir,
        reader.signing_key.as_deref(),
        reader.witness.as_deref(),
    );
    config.checkpoint_on_close = reader.signing_key.is_some() || reader.witness.is_some();
    let record = CallRecord::Read(ReadRecord {
        at: Utc::now(),
        reader: id.clone(),
        command: command.to_string(),
        arguments,
    });
    let runtime = runtime()?;
    let refused = |e: AuditError| {
        Failure(
            ExitCode::from(2),
            format!("the read could not be journaled, so nothing is shown: {e}"),
        )
    };
    runtime.block_on(async {
        let journal = FileJournal::open(config).await.map_err(refused)?;
        journal.append(record).await.map_err(refused)?;
        journal.close().await.map_err(refused)
    })
}

/// A journal's configuration from the command line's key and witness.
fn journal_config(
    dir: &Path,
    signing_key: Option<&Path>,
    witness: Option<&Path>,
) -> FileJournalConfig {
    let mut config = FileJournalConfig::new(dir);
    config.signing_key = signing_key.map(Path::to_path_buf);
    config.witness = witness.map(|w| {
        let witness: std::sync::Arc<dyn audit::Witness> = std::sync::Arc::new(FileWitness::new(w));
        witness
    });
    config
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| usage(format!("cannot start a runtime: {e}")))
}

fn run_verify(args: VerifyArgs) -> Result<ExitCode, Failure> {
    let options = VerifyOptions {
        trusted_head: args.trusted_head.as_deref().map(str::parse).transpose()?,
        public_key: args
            .public_key
            .as_deref()
            .map(audit::load_verifying_key)
            .transpose()?,
        witness: configured_witness(&args)?.map(|w| {
            let witness: std::sync::Arc<dyn audit::Witness> =
                std::sync::Arc::new(FileWitness::new(w));
            witness
        }),
        require_anchor: args.require_anchor,
        now: None,
    };
    let mut arguments = Vec::new();
    if let Some(t) = &args.trusted_head {
        arguments.push(format!("--trusted-head={t}"));
    }
    journal_read(&args.dir, &args.reader, "verify", arguments)?;
    let report = audit::verify(&args.dir, &options)?;
    Ok(verify::print(&report, &options))
}

/// The witness file: `--witness`, else the configuration's `[journal] witness`.
fn configured_witness(args: &VerifyArgs) -> Result<Option<PathBuf>, Failure> {
    if let Some(w) = &args.reader.witness {
        return Ok(Some(w.clone()));
    }
    let Some(path) = &args.config else {
        return Ok(None);
    };
    let config = bcss::config::Config::load(path).map_err(|e| usage(e.to_string()))?;
    Ok(config.journal.witness.as_ref().map(|w| config.resolve(w)))
}

/// Parse an instant: RFC 3339, `YYYY-MM-DDTHH:MM:SS` (UTC), or `YYYY-MM-DD` (the start of
/// that UTC day, or its last instant when `end_of_day`).
fn parse_time(s: &str, end_of_day: bool) -> Result<DateTime<Utc>, Failure> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        return Ok(t.and_utc());
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let time = if end_of_day {
            NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999)
        } else {
            Some(NaiveTime::MIN)
        };
        if let Some(time) = time {
            return Ok(d.and_time(time).and_utc());
        }
    }
    Err(usage(format!(
        "{s:?} is not a date (YYYY-MM-DD) or an RFC 3339 instant"
    )))
}

fn run_query(args: QueryArgs) -> Result<ExitCode, Failure> {
    let filter = QueryFilter {
        who: args.who.clone(),
        subject: args.subject.clone(),
        service: args.service.clone(),
        since: args
            .since
            .as_deref()
            .map(|s| parse_time(s, false))
            .transpose()?,
        until: args
            .until
            .as_deref()
            .map(|s| parse_time(s, true))
            .transpose()?,
        outcome: args.outcome.clone(),
        ticket: None,
    };
    let mut arguments = Vec::new();
    let named = [
        ("--who", &args.who),
        ("--subject", &args.subject),
        ("--service", &args.service),
        ("--since", &args.since),
        ("--until", &args.until),
        ("--outcome", &args.outcome),
    ];
    for (name, value) in named {
        if let Some(v) = value {
            arguments.push(format!("{name}={v}"));
        }
    }
    journal_read(&args.dir, &args.reader, "query", arguments)?;
    let result = audit::query(&args.dir, &filter)?;
    let mut out = std::io::stdout().lock();
    let mut rows = Vec::new();
    if args.format == Format::Csv {
        let _ = writeln!(
            out,
            "{}",
            csv_line(CSV_COLUMNS.iter().map(|c| c.to_string()))
        );
    }
    for exchange in result.exchanges() {
        let exchange = exchange?;
        match args.format {
            Format::Json => {
                let _ = writeln!(out, "{}", json_line(&exchange));
            }
            Format::Csv => {
                let _ = writeln!(out, "{}", csv_line(summary(&exchange)));
            }
            Format::Table => rows.push(summary(&exchange)),
        }
    }
    if args.format == Format::Table {
        print_table(&mut out, &rows);
    }
    let _ = out.flush();
    match &result.problem {
        Some(p) if p.final_record => {
            eprintln!(
                "note: the final record is bad (a write in progress, interrupted or damaged): {p}"
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(p) => {
            eprintln!("warning: the journal is damaged; results cover the records before {p}");
            Ok(ExitCode::from(1))
        }
        None => Ok(ExitCode::SUCCESS),
    }
}

fn run_show(args: ShowArgs) -> Result<ExitCode, Failure> {
    journal_read(
        &args.dir,
        &args.reader,
        "show",
        vec![args.ticket.to_string()],
    )?;
    let Some(e) = audit::show(&args.dir, args.ticket)? else {
        return Err(Failure(
            ExitCode::from(1),
            format!(
                "no exchange with ticket {} in {}",
                args.ticket,
                args.dir.display()
            ),
        ));
    };
    let mut out = std::io::stdout().lock();
    let row = summary(&e);
    for (name, value) in CSV_COLUMNS.iter().zip(&row) {
        if !value.is_empty() {
            let _ = writeln!(out, "{name}: {value}");
        }
    }
    if let Some(d) = &e.denial {
        let _ = writeln!(out, "message: {}", d.message);
    }
    if let Some(i) = &e.intent {
        let _ = writeln!(out, "soap_action: {}", i.soap_action);
    }
    if let Some(c) = &e.classification
        && let Some(error) = &c.error
    {
        let _ = writeln!(out, "decoding error: {error}");
    }
    if let Some(o) = &e.outcome {
        if let Some(status) = o.http_status {
            let _ = writeln!(out, "http_status: {status}");
        }
        if let Some(t) = &o.bcss.time_receive {
            let _ = writeln!(out, "bcss_time_receive: {t}");
        }
        if let Some(t) = &o.bcss.time_reply {
            let _ = writeln!(out, "bcss_time_reply: {t}");
        }
        if let Some(error) = &o.error {
            let _ = writeln!(out, "error: {error}");
        }
    }
    let seqs: Vec<String> = e.sequences.iter().map(u64::to_string).collect();
    let _ = writeln!(out, "sequences: {}", seqs.join(" "));
    if let Some(i) = &e.intent {
        let (encoding, text) = output::shown(&i.request);
        let _ = writeln!(out, "--- request ({encoding}) ---");
        let _ = writeln!(out, "{text}");
    }
    if let Some(reply) = e.outcome.as_ref().and_then(|o| o.reply.as_ref()) {
        let (encoding, text) = output::shown(reply);
        let _ = writeln!(out, "--- reply ({encoding}) ---");
        let _ = writeln!(out, "{text}");
    }
    Ok(ExitCode::SUCCESS)
}

fn run_checkpoint(args: CheckpointArgs) -> Result<ExitCode, Failure> {
    let report = audit::verify(&args.dir, &VerifyOptions::default())?;
    if let Some(problem) = &report.problem {
        return Err(Failure(
            ExitCode::from(1),
            format!("the journal does not verify, so no head is printed: {problem}"),
        ));
    }
    let Some(head) = report.head else {
        return Err(Failure(
            ExitCode::from(1),
            format!("the journal in {} is empty", args.dir.display()),
        ));
    };
    println!("{head}");
    Ok(ExitCode::SUCCESS)
}

fn run_prune(args: PruneArgs) -> Result<ExitCode, Failure> {
    let before = parse_time(&args.before, false)?;
    if !args.dir.is_dir() {
        return Err(usage(format!(
            "{} is not a journal directory",
            args.dir.display()
        )));
    }
    let config = journal_config(
        &args.dir,
        args.signing_key.as_deref(),
        args.witness.as_deref(),
    );
    let report = runtime()?.block_on(audit::prune(config, before))?;
    println!("cut-off: {}", report.cutoff.to_rfc3339());
    for name in &report.removed {
        println!("removed {name}");
    }
    println!(
        "{} segment(s) removed ({} records), {} kept",
        report.removed.len(),
        report.records_removed,
        report.segments_kept
    );
    if let Some(first) = report.first_remaining_sequence {
        println!("the chain now starts at sequence {first}");
    }
    if let Some(sequence) = report.prune_record {
        println!("the removal is recorded in the chain by the prune record at sequence {sequence}");
    }
    if let Some(why) = &report.kept_because {
        println!("stopped: {why}");
    }
    Ok(ExitCode::SUCCESS)
}
