//! `bcss audit` on a PostgreSQL journal (`postgres://...`), and the commands only it has:
//! `init` and `export`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bcss::audit::pg::{self, InitOptions, PgJournal, PgJournalConfig, PgLocation};
use bcss::audit::{AuditError, CallRecord, Journal, ReadRecord, VerifyOptions};
use bcss::transport::http::PasswordSource;
use chrono::{DateTime, Utc};

use super::{
    DbArgs, Failure, PruneArgs, QueryArgs, ReaderArgs, ShowArgs, VerifyArgs, output, query_filter,
    runtime, usage, verify, witness_of,
};

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
    /// The journal's witness (a file, or a postgres:// URL of its schema): both copies are
    /// verified against it.
    #[arg(long, value_name = "WITNESS")]
    pub witness: Option<PathBuf>,
    /// The journal signing key's public key: every signature is checked on both copies.
    #[arg(long, value_name = "FILE")]
    pub public_key: Option<PathBuf>,
    #[command(flatten)]
    pub db: DbArgs,
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

/// A journal's configuration from the command line's key and witness.
fn config(
    location: PgLocation,
    signing_key: Option<&Path>,
    witness: Option<&Path>,
    db: &DbArgs,
) -> Result<PgJournalConfig, Failure> {
    let mut config = PgJournalConfig::new(location);
    config.checkpoint_every = std::time::Duration::ZERO;
    config.signing_key = signing_key.map(Path::to_path_buf);
    config.witness = witness.map(|w| witness_of(w, db)).transpose()?;
    Ok(config)
}

/// Journal the read before anything is shown; refuse when it cannot be.
fn journal_read(
    location: &PgLocation,
    db: &DbArgs,
    reader: &ReaderArgs,
    command: &str,
    arguments: Vec<String>,
) -> Result<(), Failure> {
    let Some(id) = &reader.reader else {
        return Ok(());
    };
    let mut config = config(
        location.clone(),
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
    let refused = |e: AuditError| {
        Failure(
            ExitCode::from(2),
            format!("the read could not be journaled, so nothing is shown: {e}"),
        )
    };
    runtime()?.block_on(async {
        let journal = PgJournal::open(config).await.map_err(refused)?;
        journal.append(record).await.map_err(refused)?;
        journal.close().await.map_err(refused)
    })
}

pub(super) fn run_verify(
    location: PgLocation,
    args: &VerifyArgs,
    options: VerifyOptions,
    arguments: Vec<String>,
) -> Result<ExitCode, Failure> {
    journal_read(&location, &args.db, &args.reader, "verify", arguments)?;
    let report = runtime()?.block_on(pg::verify(&location, &options))?;
    Ok(verify::print(&report, &options))
}

/// Exchanges read back (and checked) per round trip.
const PAGE: usize = 200;

pub(super) fn run_query(location: PgLocation, args: QueryArgs) -> Result<ExitCode, Failure> {
    let (filter, arguments) = query_filter(&args)?;
    journal_read(&location, &args.db, &args.reader, "query", arguments)?;
    runtime()?.block_on(async {
        let result = pg::query(&location, &filter).await?;
        let mut printer = output::ExchangePrinter::start(args.format);
        let mut start = 0;
        while start < result.len() {
            for exchange in result.exchanges(start, PAGE, &filter).await? {
                printer.print(&exchange);
            }
            start += PAGE;
        }
        printer.finish();
        Ok(ExitCode::SUCCESS)
    })
}

pub(super) fn run_show(location: PgLocation, args: ShowArgs) -> Result<ExitCode, Failure> {
    journal_read(
        &location,
        &args.db,
        &args.reader,
        "show",
        vec![args.ticket.to_string()],
    )?;
    let Some(e) = runtime()?.block_on(pg::show(&location, args.ticket))? else {
        return Err(Failure(
            ExitCode::from(1),
            format!("no exchange with ticket {} in {location}", args.ticket),
        ));
    };
    output::print_exchange(&e);
    Ok(ExitCode::SUCCESS)
}

pub(super) fn run_checkpoint(location: PgLocation) -> Result<ExitCode, Failure> {
    let report = runtime()?.block_on(pg::verify(&location, &VerifyOptions::default()))?;
    if let Some(problem) = &report.problem {
        return Err(Failure(
            ExitCode::from(1),
            format!("the journal does not verify, so no head is printed: {problem}"),
        ));
    }
    let Some(head) = report.head else {
        return Err(Failure(
            ExitCode::from(1),
            format!("the journal at {location} is empty"),
        ));
    };
    println!("{head}");
    Ok(ExitCode::SUCCESS)
}

pub(super) fn run_prune(
    location: PgLocation,
    args: PruneArgs,
    before: DateTime<Utc>,
) -> Result<ExitCode, Failure> {
    let config = config(
        location,
        args.signing_key.as_deref(),
        args.witness.as_deref(),
        &args.db,
    )?;
    let report = runtime()?.block_on(pg::prune(config, before))?;
    println!("cut-off: {}", report.cutoff.to_rfc3339());
    println!("{} record(s) removed", report.records_removed);
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

pub(super) fn run_init(args: InitArgs) -> Result<ExitCode, Failure> {
    let location = parse_url(&args.url, &args.db)?;
    let options = InitOptions {
        roles: args.roles.clone(),
        witness_schema: args.witness_schema.clone(),
    };
    if args.sql {
        print!("{}", pg::init_sql(&location, &options)?);
        return Ok(ExitCode::SUCCESS);
    }
    let report = runtime()?.block_on(pg::init(&location, &options))?;
    if report.created {
        println!(
            "created the journal in schema {} and its witness in schema {}",
            location.schema(),
            report.witness_schema
        );
    } else {
        println!(
            "the journal in schema {} exists; grants given",
            location.schema()
        );
    }
    for role in &report.roles {
        println!(
            "granted {role}: read and append to {0}, record heads in {1}; no update or delete",
            location.schema(),
            report.witness_schema
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn run_export(args: ExportArgs) -> Result<ExitCode, Failure> {
    let to = parse_url(&args.to, &args.db)?;
    if !args.dir.is_dir() {
        return Err(usage(format!(
            "{} is not a journal directory",
            args.dir.display()
        )));
    }
    let options = VerifyOptions {
        public_key: args
            .public_key
            .as_deref()
            .map(bcss::audit::load_verifying_key)
            .transpose()?,
        witness: args
            .witness
            .as_deref()
            .map(|w| witness_of(w, &args.db))
            .transpose()?,
        ..VerifyOptions::default()
    };
    let bar = super::progress::bar();
    let report = runtime()?.block_on(pg::export(&args.dir, &to, &options, bar.as_deref()))?;
    println!("{} record(s) copied to {to}", report.records);
    if let Some(head) = report.head {
        println!("both journals verify to head {head}");
    }
    if let Some(why) = &report.verified.unanchored {
        println!("{} [{why}]", verify::UNANCHORED);
    }
    Ok(ExitCode::SUCCESS)
}
