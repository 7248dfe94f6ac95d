//! `bcss audit`: verify, query, show, checkpoint and prune a journal (a directory, or a
//! `postgres://` URL: see `pg`), set up a PostgreSQL journal and export a file journal
//! into one. Thin: the work is done by `bcss::audit`.
//!
//! Exit codes: 0 success; 1 the journal is damaged or does not verify (or `show` found no
//! such ticket); 2 the command could not run (bad arguments, I/O errors, a lock held, a read
//! that could not be journaled).

mod output;
mod pg;
mod progress;
mod verify;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use bcss::audit::{
    self, AuditError, CallRecord, FileJournal, FileJournalConfig, FileWitness, Journal,
    QueryFilter, ReadRecord, VerifyOptions,
};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
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
    /// Create a PostgreSQL journal's schema, triggers and functions, its witness's schema,
    /// and the application roles' grants (run as the role that will own them).
    Init(pg::InitArgs),
    /// Copy a file journal into an empty PostgreSQL journal, keeping sequence numbers and
    /// hashes, then verify it ends at the same head.
    Export(pg::ExportArgs),
}

/// The database password, for a `postgres://` journal (never in the URL).
#[derive(Debug, Clone, clap::Args)]
pub struct DbArgs {
    /// The environment variable holding the database password (default PGPASSWORD, when
    /// it is set).
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// The file holding the database password.
    #[arg(long, value_name = "FILE", conflicts_with = "password_env")]
    pub password_file: Option<PathBuf>,
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
    /// The journal's witness (a file, or a postgres:// URL naming its schema): the
    /// checkpoint written after the read record is recorded there (give it whenever the
    /// journal has one).
    #[arg(long, value_name = "FILE")]
    pub witness: Option<PathBuf>,
}

/// `bcss audit verify`
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The journal: a directory, or postgres://ROLE@HOST/DATABASE?schema=NAME.
    pub dir: PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
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
    /// The journal: a directory, or postgres://ROLE@HOST/DATABASE?schema=NAME.
    pub dir: PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
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
    /// The journal: a directory, or postgres://ROLE@HOST/DATABASE?schema=NAME.
    pub dir: PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
    /// Our ticket (a UUID).
    pub ticket: Uuid,
    #[command(flatten)]
    pub reader: ReaderArgs,
}

/// `bcss audit checkpoint`
#[derive(Debug, clap::Args)]
pub struct CheckpointArgs {
    /// The journal: a directory, or postgres://ROLE@HOST/DATABASE?schema=NAME.
    pub dir: PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
}

/// `bcss audit prune`
#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// The journal: a directory, or postgres://ROLE@HOST/DATABASE?schema=NAME.
    pub dir: PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
    /// Remove segments whose records are all older than this (RFC 3339 or YYYY-MM-DD) and
    /// older than 10 years.
    #[arg(long, value_name = "DATE")]
    pub before: String,
    /// The journal's Ed25519 PKCS#8 PEM signing key: signs the checkpoint after the prune
    /// record (give it whenever the journal has one: verify with a public key requires it).
    #[arg(long, value_name = "FILE")]
    pub signing_key: Option<PathBuf>,
    /// The journal's witness (a file, or a postgres:// URL naming its schema): the
    /// checkpoint after the prune record is recorded there.
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
        AuditCommand::Init(args) => pg::run_init(args),
        AuditCommand::Export(args) => pg::run_export(args),
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
    db: &DbArgs,
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
        db,
    )?;
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
    db: &DbArgs,
) -> Result<FileJournalConfig, Failure> {
    let mut config = FileJournalConfig::new(dir);
    config.signing_key = signing_key.map(Path::to_path_buf);
    config.witness = witness.map(|w| witness_of(w, db)).transpose()?;
    Ok(config)
}

/// The witness a command line names: a file, or a `postgres://` URL of its schema.
fn witness_of(witness: &Path, db: &DbArgs) -> Result<Arc<dyn audit::Witness>, Failure> {
    Ok(match pg::location(witness, db)? {
        Some(location) => Arc::new(audit::pg::PgWitness::new(location)),
        None => Arc::new(FileWitness::new(witness)),
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| usage(format!("cannot start a runtime: {e}")))
}

fn run_verify(args: VerifyArgs) -> Result<ExitCode, Failure> {
    let (options, arguments) = verify_options(&args)?;
    if let Some(location) = pg::location(&args.dir, &args.db)? {
        return pg::run_verify(location, &args, options, arguments);
    }
    journal_read(&args.dir, &args.db, &args.reader, "verify", arguments)?;
    let report = audit::verify(&args.dir, &options)?;
    Ok(verify::print(&report, &options))
}

/// What `verify` checks against, and its arguments as the read record names them.
fn verify_options(args: &VerifyArgs) -> Result<(VerifyOptions, Vec<String>), Failure> {
    let options = VerifyOptions {
        trusted_head: args.trusted_head.as_deref().map(str::parse).transpose()?,
        public_key: args
            .public_key
            .as_deref()
            .map(audit::load_verifying_key)
            .transpose()?,
        witness: configured_witness(args)?,
        require_anchor: args.require_anchor,
    };
    let mut arguments = Vec::new();
    if let Some(t) = &args.trusted_head {
        arguments.push(format!("--trusted-head={t}"));
    }
    Ok((options, arguments))
}

/// The witness: `--witness`, else the configuration's `[journal] witness`.
fn configured_witness(args: &VerifyArgs) -> Result<Option<Arc<dyn audit::Witness>>, Failure> {
    if let Some(w) = &args.reader.witness {
        return witness_of(w, &args.db).map(Some);
    }
    let Some(path) = &args.config else {
        return Ok(None);
    };
    let config = bcss::config::Config::load(path).map_err(|e| usage(e.to_string()))?;
    Ok(config.journal_witness()?)
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

/// The query's filter, and its arguments as the read record names them.
fn query_filter(args: &QueryArgs) -> Result<(QueryFilter, Vec<String>), Failure> {
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
    Ok((filter, arguments))
}

fn run_query(args: QueryArgs) -> Result<ExitCode, Failure> {
    if let Some(location) = pg::location(&args.dir, &args.db)? {
        return pg::run_query(location, args);
    }
    let (filter, arguments) = query_filter(&args)?;
    journal_read(&args.dir, &args.db, &args.reader, "query", arguments)?;
    let result = audit::query(&args.dir, &filter)?;
    let mut printer = output::ExchangePrinter::start(args.format);
    for exchange in result.exchanges() {
        printer.print(&exchange?);
    }
    printer.finish();
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
    if let Some(location) = pg::location(&args.dir, &args.db)? {
        return pg::run_show(location, args);
    }
    journal_read(
        &args.dir,
        &args.db,
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
    output::print_exchange(&e);
    Ok(ExitCode::SUCCESS)
}

fn run_checkpoint(args: CheckpointArgs) -> Result<ExitCode, Failure> {
    if let Some(location) = pg::location(&args.dir, &args.db)? {
        return pg::run_checkpoint(location);
    }
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
    if let Some(location) = pg::location(&args.dir, &args.db)? {
        return pg::run_prune(location, args, before);
    }
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
        &args.db,
    )?;
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
