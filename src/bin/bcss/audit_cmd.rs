//! `bcss audit`: verify, query, show, checkpoint, prune and reindex a journal (a directory,
//! or a `postgres://` URL: see `pg`), set up a PostgreSQL journal and export a file journal
//! into one. Thin: the work is done by `bcss::audit`.
//!
//! Reading personal data is accountable: `query`, `show` and `export` require
//! `--reader ID`, and the read (who, what, about whom, the journal's head it covered) is
//! recorded durably before anything is shown, also while an application writes the
//! journal: in a file journal's reads chain (`DIR/reads/`), or as a read record in a
//! PostgreSQL journal's own chain.
//!
//! Exit codes: 0 success; 1 the journal is damaged or does not verify (or `show` found no
//! such ticket, or `verify --manifest-signer` found decisions under another manifest); 2
//! the command could not run (bad arguments, I/O errors, a lock held, a read that could not
//! be journaled).

mod maintain;
mod output;
mod pg;
mod progress;
mod query;
mod reading;
mod verify;
mod witness;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use bcss::audit::{AuditError, FileJournalConfig, FileWitness};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

use crate::exit::Exit;

pub use maintain::{CheckpointArgs, PruneArgs, ReindexArgs};
pub use query::{QueryArgs, ShowArgs};
pub use verify::VerifyArgs;

/// `bcss audit ...`
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check framing, checksums, the hash chain, signatures, prunes, quarantined bytes, the
    /// witness and the reads chain. Prints `ok: N records, head HEX`, or the first bad
    /// record's segment, byte offset and sequence; first `WARNING: unanchored: ...` without
    /// a witness or a trusted head.
    Verify(VerifyArgs),
    /// Find exchanges: who consulted whom, when, why, and how it ended (or, with --reads,
    /// who read the journal). Through the journal's index; every record shown is read back
    /// and checked against the chain.
    Query(QueryArgs),
    /// One exchange by ticket, request and reply included.
    Show(ShowArgs),
    /// Verify, then print the current head (`SEQUENCE:HEX`) to store elsewhere and pass
    /// later to `verify --trusted-head`.
    Checkpoint(CheckpointArgs),
    /// Remove whole segments whose every record is older than both --before and 10 years.
    Prune(PruneArgs),
    /// Rebuild the journal's query index (`DIR/index/`) from its segments.
    Reindex(ReindexArgs),
    /// Give an existing journal a witness (one that holds no head of it yet): its head is
    /// recorded there and a `witness_started` checkpoint in the chain. Opening refuses a
    /// journal whose witness holds nothing, so a missing witness is never recreated
    /// silently.
    StartWitness(witness::StartWitnessArgs),
    /// Create a PostgreSQL journal's schema, triggers and functions, its witness's schema,
    /// and the application roles' grants (run as the role that will own them).
    Init(pg::InitArgs),
    /// Copy a file journal into an empty PostgreSQL journal, keeping sequence numbers and
    /// hashes, then verify it ends at the same head.
    Export(pg::ExportArgs),
}

/// The database password, for a `postgres://` journal (never in the URL).
#[derive(Debug, Default, Clone, clap::Args)]
pub struct DbArgs {
    /// The environment variable holding the database password (default PGPASSWORD, when
    /// it is set).
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// The file holding the database password.
    #[arg(long, value_name = "FILE", conflicts_with = "password_env")]
    pub password_file: Option<PathBuf>,
}

/// The journal's signing key, witness and lock wait: for the checkpoint written after a
/// read (or a prune), and the witness verify checks against.
#[derive(Debug, Default, clap::Args)]
pub struct JournalKeys {
    /// The journal's Ed25519 PKCS#8 PEM signing key: signs the checkpoint written after
    /// the read or prune record (give it whenever the journal has one).
    #[arg(long, value_name = "FILE")]
    pub signing_key: Option<PathBuf>,
    /// The journal's witness (a file, or a postgres:// URL naming its schema). For verify,
    /// the anchor: every head it recorded must be in the chain, so a cut at a record
    /// boundary, deleted trailing segments, a replaced journal or a rewritten chain is
    /// detected (without it verify is unanchored). For a read or a prune, the checkpoint
    /// after its record is recorded there; required whenever the journal has one (the
    /// journal refuses a writer without it).
    #[arg(long, value_name = "FILE")]
    pub witness: Option<PathBuf>,
    /// A `bcss.toml` whose `[journal] signing_key`, `witness` and `lock_wait_seconds` are
    /// used when not given here.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub db: DbArgs,
}

/// Run `bcss audit ...`.
pub fn run(cmd: AuditCommand) -> ExitCode {
    let result = match cmd {
        AuditCommand::Verify(args) => verify::run(args),
        AuditCommand::Query(args) => query::run_query(args),
        AuditCommand::Show(args) => query::run_show(args),
        AuditCommand::Checkpoint(args) => maintain::run_checkpoint(args),
        AuditCommand::Prune(args) => maintain::run_prune(args),
        AuditCommand::Reindex(args) => maintain::run_reindex(args),
        AuditCommand::StartWitness(args) => witness::run(args),
        AuditCommand::Init(args) => pg::run_init(args),
        AuditCommand::Export(args) => pg::run_export(args),
    };
    match result {
        Ok(code) => code,
        Err(Failure(exit, message)) => {
            crate::exit::fail("bcss audit", exit, message, crate::exit::Details::default())
        }
    }
}

/// A failed command: its exit code and message.
struct Failure(Exit, String);

impl From<AuditError> for Failure {
    fn from(e: AuditError) -> Self {
        // Damage, and a journal that cannot be taken now (its lock held past the wait, the
        // database unreachable), are failures (1); anything else is an input that cannot be
        // used (2).
        let code = if matches!(
            e,
            AuditError::Damaged { .. } | AuditError::Locked { .. } | AuditError::Database { .. }
        ) {
            Exit::Error
        } else {
            Exit::Usage
        };
        Failure(code, e.to_string())
    }
}

fn usage(message: String) -> Failure {
    Failure(Exit::Usage, message)
}

/// The file journal in `dir`, with the signing key, witness and lock wait from the command
/// line, else from `--config`.
fn journal_config(dir: &Path, keys: &JournalKeys) -> Result<FileJournalConfig, Failure> {
    let mut config = FileJournalConfig::new(dir);
    if let Some(path) = &keys.config {
        let file = bcss::config::Config::load(path).map_err(|e| usage(e.to_string()))?;
        config.signing_key = file.journal.signing_key.as_ref().map(|p| file.resolve(p));
        config.witness = file.journal_witness()?;
        if let Some(seconds) = file.journal.lock_wait_seconds {
            config.lock_wait = std::time::Duration::from_secs(seconds);
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

/// `--reader`: who reads, named (refused before anything is read when blank).
fn reader_id(s: &str) -> Result<String, String> {
    let id = s.trim();
    if id.is_empty() {
        return Err(
            "--reader must name who reads (the person's id, as the journal records it)".to_string(),
        );
    }
    // Recorded as `query --reads --who` finds it again: no surrounding blanks, no line
    // breaks or other control characters.
    if id.chars().any(char::is_control) {
        return Err(
            "--reader holds a control character (a line break, a tab...): give the person's id alone"
                .to_string(),
        );
    }
    Ok(id.to_string())
}

/// The witness a command line names: a file, or a `postgres://` URL of its schema.
fn witness_of(witness: &Path, db: &DbArgs) -> Result<Arc<dyn bcss::audit::Witness>, Failure> {
    Ok(match pg::location(witness, db)? {
        Some(location) => Arc::new(bcss::audit::pg::PgWitness::new(location)),
        None => Arc::new(FileWitness::new(witness)),
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| usage(format!("cannot start a runtime: {e}")))
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
