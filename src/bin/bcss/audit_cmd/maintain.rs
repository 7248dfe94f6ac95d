//! `bcss audit checkpoint`, `prune` and `reindex`.

use std::path::PathBuf;
use std::process::ExitCode;

use bcss::audit::{self, VerifyOptions};

use super::{Exit, Failure, JournalKeys, journal_config, parse_time, runtime, usage};

/// `bcss audit checkpoint`
#[derive(Debug, clap::Args)]
pub struct CheckpointArgs {
    /// The journal: a directory, or postgres://ROLE@HOST/DATABASE?schema=NAME.
    pub dir: PathBuf,
    #[command(flatten)]
    pub db: super::DbArgs,
}

/// `bcss audit prune`
#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// The journal: a directory (or its reads chain, `DIR/reads`), or
    /// postgres://ROLE@HOST/DATABASE?schema=NAME.
    pub dir: PathBuf,
    /// Remove segments whose records are all older than this (RFC 3339 or YYYY-MM-DD) and
    /// older than 10 years.
    #[arg(long, value_name = "DATE")]
    pub before: String,
    #[command(flatten)]
    pub keys: JournalKeys,
}

/// `bcss audit reindex`
#[derive(Debug, clap::Args)]
pub struct ReindexArgs {
    /// The journal directory.
    pub dir: PathBuf,
    /// A `bcss.toml` whose `[journal] lock_wait_seconds` says how long to wait while an
    /// application writes the journal (default 30 s).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

pub(super) fn run_checkpoint(args: CheckpointArgs) -> Result<ExitCode, Failure> {
    if let Some(location) = super::pg::location(&args.dir, &args.db)? {
        return super::pg::run_checkpoint(location);
    }
    let options = VerifyOptions {
        progress: super::progress::bar(),
        ..VerifyOptions::default()
    };
    let report = audit::verify(&args.dir, &options)?;
    if let Some(problem) = &report.problem {
        return Err(Failure(
            Exit::Error,
            format!("the journal does not verify, so no head is printed: {problem}"),
        ));
    }
    let Some(head) = report.head else {
        return Err(Failure(
            Exit::Error,
            format!("the journal in {} is empty", args.dir.display()),
        ));
    };
    outln!("{head}");
    Ok(ExitCode::SUCCESS)
}

pub(super) fn run_prune(args: PruneArgs) -> Result<ExitCode, Failure> {
    let before = parse_time(&args.before, false)?;
    if let Some(location) = super::pg::location(&args.dir, &args.keys.db)? {
        return super::pg::run_prune(location, &args.keys, before);
    }
    if !args.dir.is_dir() {
        return Err(usage(format!(
            "{} is not a journal directory",
            args.dir.display()
        )));
    }
    let config = journal_config(&args.dir, &args.keys)?;
    let progress = super::progress::bar();
    let report = runtime()?.block_on(audit::prune_with_progress(
        config,
        before,
        chrono::Utc::now(),
        progress.as_deref(),
    ))?;
    outln!("cut-off: {}", report.cutoff.to_rfc3339());
    for name in &report.removed {
        outln!("removed {name}");
    }
    outln!(
        "{} segment(s) removed ({} records), {} kept",
        report.removed.len(),
        report.records_removed,
        report.segments_kept
    );
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

pub(super) fn run_reindex(args: ReindexArgs) -> Result<ExitCode, Failure> {
    if bcss::audit::pg::PgLocation::is_url(&args.dir.to_string_lossy()) {
        return Err(usage(
            "reindex rebuilds a file journal's index; a PostgreSQL journal's indexes are kept by the database".to_string(),
        ));
    }
    let keys = JournalKeys {
        config: args.config.clone(),
        ..JournalKeys::default()
    };
    let wait = journal_config(&args.dir, &keys)?.lock_wait;
    let progress = super::progress::bar();
    let report = audit::reindex(&args.dir, wait, progress.as_deref())?;
    outln!(
        "indexed {} records: {} keys in {} run(s), through sequence {}",
        report.records,
        report.entries,
        report.runs,
        report
            .through
            .map_or_else(|| "none".to_string(), |s| s.to_string())
    );
    if let Some(problem) = &report.problem {
        outln!("stopped at damage: {problem}");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
