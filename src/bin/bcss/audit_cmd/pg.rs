//! `bcss audit` on a PostgreSQL journal (`postgres://...`), and the commands only it has:
//! `init` and `export`. A read of a PostgreSQL journal is recorded as a read record in the
//! journal's own chain (every instance appends there already), before anything is shown.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bcss::audit::pg::{self, InitOptions, PgJournal, PgJournalConfig, PgLocation};
use bcss::audit::{AuditError, CallRecord, Journal, ReadRecord, VerifyOptions};
use bcss::transport::http::PasswordSource;
use chrono::{DateTime, Utc};

use super::output::{CSV_COLUMNS, csv_line, json_line, print_exchange, print_table, summary};
use super::query::Format;
use super::reading::Shown;
use super::{DbArgs, Exit, Failure, JournalKeys, runtime, usage, verify, witness_of};

/// `bcss audit init`
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The database and schema: postgres://OWNER@HOST/DATABASE?schema=NAME (connect as the
    /// role that will own the journal, not as the application).
    pub url: String,
    /// An application role to grant (read, append, record heads in the witness; never
    /// update or delete). Repeat for several; it must exist.
    #[arg(long = "role", value_name = "ROLE")]
    pub roles: Vec<String>,
    /// The witness's schema (default: the journal's schema followed by `_witness`).
    #[arg(long, value_name = "NAME")]
    pub witness_schema: Option<String>,
    /// Print the SQL instead of running it (to review, or to run by hand).
    #[arg(long)]
    pub sql: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

/// `bcss audit export`
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The file journal's directory.
    pub dir: PathBuf,
    /// The empty PostgreSQL journal to copy it into (made by `bcss audit init`).
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// The journal signing key's public key: every signature is checked on both copies.
    #[arg(long, value_name = "FILE")]
    pub public_key: Option<PathBuf>,
    /// Who reads the file journal: recorded in its reads chain before anything is copied.
    #[arg(long, value_name = "ID", value_parser = super::reader_id)]
    pub reader: String,
    /// The journal's witness (a file, or a postgres:// URL of its schema): both copies are
    /// verified against it; its signing key signs the checkpoint after the read record.
    #[command(flatten)]
    pub keys: JournalKeys,
}

/// The password's source: `--password-env`, `--password-file`, else `PGPASSWORD` when set.
fn password(db: &DbArgs) -> Option<PasswordSource> {
    match (&db.password_env, &db.password_file) {
        (Some(var), _) => Some(PasswordSource::Env(var.clone())),
        (None, Some(file)) => Some(PasswordSource::File(file.clone())),
        (None, None) => std::env::var_os("PGPASSWORD")
            .is_some()
            .then(|| PasswordSource::Env("PGPASSWORD".to_string())),
    }
}

/// The PostgreSQL location `journal` names, or `None` for a directory.
pub(super) fn location(journal: &Path, db: &DbArgs) -> Result<Option<PgLocation>, Failure> {
    let text = journal.to_string_lossy();
    if !PgLocation::is_url(&text) {
        return Ok(None);
    }
    PgLocation::parse(&text, password(db))
        .map(Some)
        .map_err(|e| usage(e.to_string()))
}

fn parse_url(url: &str, db: &DbArgs) -> Result<PgLocation, Failure> {
    match location(Path::new(url), db)? {
        Some(l) => Ok(l),
        None => Err(usage(format!("{url} is not a postgres:// URL"))),
    }
}

/// A journal's configuration from the command line's key and witness, else `--config`'s.
fn config(location: PgLocation, keys: &JournalKeys) -> Result<PgJournalConfig, Failure> {
    let mut config = PgJournalConfig::new(location);
    config.checkpoint_every = std::time::Duration::ZERO;
    if let Some(path) = &keys.config {
        let file = bcss::config::Config::load(path).map_err(|e| usage(e.to_string()))?;
        config.signing_key = file.journal.signing_key.as_ref().map(|p| file.resolve(p));
        config.witness = file.journal_witness()?;
        if let Some(seconds) = file.journal.lock_wait_seconds {
            config.lock_wait =
                std::time::Duration::from_secs(seconds).max(std::time::Duration::from_millis(1));
        }
    }
    if let Some(key) = &keys.signing_key {
        config.signing_key = Some(key.clone());
    }
    if let Some(w) = &keys.witness {
        config.witness = Some(witness_of(w, &keys.db)?);
    }
    Ok(config)
}

/// Journal the read of the journal at `location` by `reader` in its own chain; refuse
/// (nothing is shown) when it cannot be.
pub(super) fn journal_read(
    location: &PgLocation,
    reader: &str,
    keys: &JournalKeys,
    command: &str,
    arguments: Vec<String>,
    shown: Shown,
) -> Result<(), Failure> {
    if reader.trim().is_empty() {
        return Err(usage("--reader must name who reads".to_string()));
    }
    let mut config = config(location.clone(), keys)?;
    config.checkpoint_on_close = config.signing_key.is_some() || config.witness.is_some();
    let mut read = ReadRecord::new(reader, command, arguments).with_subjects(shown.subjects);
    read.head = shown.head.map(|h| h.to_string());
    read.exchanges = shown.count;
    let refused = super::reading::read_refused;
    runtime()?.block_on(async {
        let journal = PgJournal::open(config).await.map_err(refused)?;
        journal
            .append(CallRecord::Read(read))
            .await
            .map_err(refused)?;
        journal.close().await.map_err(refused)
    })
}

pub(super) fn run_verify(
    location: PgLocation,
    reader: Option<&str>,
    keys: &JournalKeys,
    options: VerifyOptions,
    arguments: Vec<String>,
) -> Result<ExitCode, Failure> {
    if let Some(reader) = reader {
        journal_read(
            &location,
            reader,
            keys,
            "verify",
            arguments,
            Shown::default(),
        )?;
    }
    let report = runtime()?.block_on(pg::verify(&location, &options))?;
    Ok(verify::print(
        &report,
        &options,
        verify::ReadsChain::InJournal,
    ))
}

/// Exchanges read back (and checked) per round trip.
const PAGE: usize = 200;

pub(super) fn run_query(
    location: PgLocation,
    reader: &str,
    keys: &JournalKeys,
    format: Format,
    filter: &bcss::audit::QueryFilter,
    arguments: Vec<String>,
) -> Result<ExitCode, Failure> {
    let runtime = runtime()?;
    let result = runtime.block_on(pg::query(&location, filter))?;
    let shown = Shown {
        head: result.head(),
        count: Some(result.len() as u64),
        subjects: result.subjects(),
    };
    journal_read(&location, reader, keys, "query", arguments, shown)?;
    runtime.block_on(async {
        let mut out = std::io::stdout().lock();
        let mut rows = Vec::new();
        if format == Format::Csv {
            let _ = writeln!(
                out,
                "{}",
                csv_line(CSV_COLUMNS.iter().map(|c| c.to_string()))
            );
        }
        let mut start = 0;
        while start < result.len() {
            for exchange in result.exchanges(start, PAGE, filter).await? {
                let written = match format {
                    Format::Json => writeln!(out, "{}", json_line(&exchange)),
                    Format::Csv => writeln!(out, "{}", csv_line(summary(&exchange))),
                    Format::Table => {
                        rows.push(summary(&exchange));
                        Ok(())
                    }
                };
                // The reader went away (`| head -1`): stop reading the journal, quietly.
                if written.is_err() {
                    return Ok(ExitCode::SUCCESS);
                }
            }
            start += PAGE;
        }
        if format == Format::Table {
            print_table(&mut out, &rows);
        }
        let _ = out.flush();
        Ok(ExitCode::SUCCESS)
    })
}

/// The reads recorded in the journal at `location` matching `filter`, checked.
pub(super) fn query_reads(
    location: &PgLocation,
    filter: &bcss::audit::QueryFilter,
) -> Result<Vec<bcss::audit::ReadEntry>, Failure> {
    Ok(runtime()?.block_on(pg::query_reads(location, filter))?)
}

pub(super) fn run_show(
    location: PgLocation,
    reader: &str,
    keys: &JournalKeys,
    ticket: uuid::Uuid,
) -> Result<ExitCode, Failure> {
    let filter = bcss::audit::QueryFilter {
        ticket: Some(ticket),
        ..bcss::audit::QueryFilter::default()
    };
    let runtime = runtime()?;
    let (found, head) = runtime.block_on(async {
        let result = pg::query(&location, &filter).await?;
        let found = result.exchanges(0, 1, &filter).await?.into_iter().next();
        Ok::<_, bcss::audit::AuditError>((found, result.head()))
    })?;
    let mut subjects: Vec<String> = found
        .iter()
        .flat_map(|e| {
            let what = e
                .intent
                .as_ref()
                .map(|i| &i.what)
                .or(e.denial.as_ref().map(|d| &d.what));
            what.map(|w| w.subjects.clone()).unwrap_or_default()
        })
        .collect();
    subjects.sort();
    subjects.dedup();
    let shown = Shown {
        head,
        count: Some(u64::from(found.is_some())),
        subjects,
    };
    journal_read(
        &location,
        reader,
        keys,
        "show",
        vec![ticket.to_string()],
        shown,
    )?;
    let Some(e) = found else {
        return Err(Failure(
            Exit::Error,
            format!("no exchange with ticket {ticket} in {location}"),
        ));
    };
    print_exchange(&mut std::io::stdout().lock(), &e);
    Ok(ExitCode::SUCCESS)
}

pub(super) fn run_checkpoint(location: PgLocation) -> Result<ExitCode, Failure> {
    let options = VerifyOptions {
        progress: super::progress::bar(),
        ..VerifyOptions::default()
    };
    let report = runtime()?.block_on(pg::verify(&location, &options))?;
    if let Some(problem) = &report.problem {
        return Err(Failure(
            Exit::Error,
            format!("the journal does not verify, so no head is printed: {problem}"),
        ));
    }
    let Some(head) = report.head else {
        return Err(Failure(
            Exit::Error,
            format!("the journal at {location} is empty"),
        ));
    };
    outln!("{head}");
    Ok(ExitCode::SUCCESS)
}

/// Open the journal at `location` with `keys`'s witness started (see
/// [`PgJournalConfig::start_witness`]); whether it was started, and the head it was
/// started at.
pub(super) fn start_witness(
    location: PgLocation,
    keys: &JournalKeys,
) -> Result<(bool, Option<bcss::audit::Head>), Failure> {
    let mut config = config(location, keys)?;
    config.start_witness = true;
    Ok(runtime()?.block_on(async {
        let journal = PgJournal::open(config).await?;
        let started = journal.witness_started();
        let head = journal.head();
        journal.close().await?;
        Ok::<_, AuditError>((started, head))
    })?)
}

pub(super) fn run_prune(
    location: PgLocation,
    keys: &JournalKeys,
    before: DateTime<Utc>,
) -> Result<ExitCode, Failure> {
    let config = config(location, keys)?;
    let report = runtime()?.block_on(pg::prune(config, before))?;
    outln!("cut-off: {}", report.cutoff.to_rfc3339());
    outln!("{} record(s) removed", report.records_removed);
    if let Some(first) = report.first_remaining_sequence {
        outln!("the chain now starts at sequence {first}");
    }
    if let Some(sequence) = report.prune_record {
        outln!("the removal is recorded in the chain by the prune record at sequence {sequence}");
    }
    if let Some(why) = &report.kept_because {
        outln!("stopped: {why}");
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn run_init(args: InitArgs) -> Result<ExitCode, Failure> {
    let location = parse_url(&args.url, &args.db)?;
    let options = InitOptions {
        roles: args.roles.clone(),
        witness_schema: args.witness_schema.clone(),
    };
    if args.sql {
        let _ = write!(std::io::stdout(), "{}", pg::init_sql(&location, &options)?);
        return Ok(ExitCode::SUCCESS);
    }
    let report = runtime()?.block_on(pg::init(&location, &options))?;
    if report.created {
        outln!(
            "created the journal in schema {} and its witness in schema {}",
            location.schema(),
            report.witness_schema
        );
    } else {
        outln!(
            "the journal in schema {} exists; grants given",
            location.schema()
        );
    }
    for role in &report.roles {
        outln!(
            "granted {role}: read and append to {0}, record heads in {1}; no update or delete",
            location.schema(),
            report.witness_schema
        );
    }
    if report.roles.is_empty() {
        outln!(
            "no application role was granted: the application must not connect as the owner; create one (CREATE ROLE bcss_app LOGIN PASSWORD '...') and grant it with `bcss audit init {} --role bcss_app` (on an existing journal only the grants are given)",
            args.url
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn run_export(args: ExportArgs) -> Result<ExitCode, Failure> {
    let to = parse_url(&args.to, &args.keys.db)?;
    if !args.dir.is_dir() {
        return Err(usage(format!(
            "{} is not a journal directory",
            args.dir.display()
        )));
    }
    // The witness: --witness, else the configuration's `[journal] witness`; and how long
    // to wait for the journal's lock while an application writes it.
    let journal = super::journal_config(&args.dir, &args.keys)?;
    let options = VerifyOptions {
        public_key: args
            .public_key
            .as_deref()
            .map(bcss::audit::load_verifying_key)
            .transpose()?,
        witness: journal.witness,
        ..VerifyOptions::default()
    };
    // Exporting reads every record: the read is journaled in the file journal's reads
    // chain before anything is copied.
    super::reading::journal_read(
        &args.dir,
        &args.reader,
        &args.keys,
        "export",
        vec![format!("--to={to}")],
        Shown::default(),
    )?;
    let bar = super::progress::bar();
    let report = runtime()?.block_on(pg::export(
        &args.dir,
        &to,
        &options,
        journal.lock_wait,
        bar.as_deref(),
    ))?;
    outln!("{} record(s) copied to {to}", report.records);
    if let Some(head) = report.head {
        outln!("both journals verify to head {head}");
    }
    if let Some(why) = &report.verified.unanchored {
        outln!("{} [{why}]", verify::UNANCHORED);
    }
    Ok(ExitCode::SUCCESS)
}
