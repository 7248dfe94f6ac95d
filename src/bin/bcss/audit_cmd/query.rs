//! `bcss audit query` and `show`: find what was found, journal the read, then show it.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use bcss::audit::{self, Exchange, QueryFilter, QueryPlan, QueryResult};
use uuid::Uuid;

use super::output::{
    CSV_COLUMNS, READ_CSV_COLUMNS, csv_line, json_line, print_read_table, print_table,
    read_json_line, read_summary, summary,
};
use super::reading::{Shown, journal_read};
use super::{Exit, Failure, JournalKeys, parse_time};

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
    /// The physical user's id (with --reads: the reader's).
    #[arg(long, value_name = "ID")]
    pub who: Option<String>,
    /// An SSIN the request was about (with --reads: that a read showed or looked for).
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
    /// The SHA-256 (64 hex digits) of the manifest the decision was taken under.
    #[arg(long, value_name = "SHA256")]
    pub manifest: Option<String>,
    /// List the reads of the journal instead (who read what about whom, when): --who is
    /// then the reader, --subject a subject a read showed.
    #[arg(long)]
    pub reads: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Who reads: recorded (with what is shown, and about whom) in the journal's reads
    /// chain before anything is shown.
    #[arg(long, value_name = "ID", value_parser = super::reader_id)]
    pub reader: String,
    #[command(flatten)]
    pub keys: JournalKeys,
}

/// `bcss audit show`
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The journal: a directory, or postgres://ROLE@HOST/DATABASE?schema=NAME.
    pub dir: PathBuf,
    /// Our ticket (a UUID).
    pub ticket: Uuid,
    /// Who reads: recorded in the journal's reads chain before anything is shown.
    #[arg(long, value_name = "ID", value_parser = super::reader_id)]
    pub reader: String,
    #[command(flatten)]
    pub keys: JournalKeys,
}

/// Refuse what would silently match nothing, or be ignored: an unknown `--outcome`, a
/// `--subject` that is not an SSIN, a time range that ends before it starts, and with `--reads` the criteria reads do not
/// have (a service, an outcome, a manifest).
fn check(args: &QueryArgs, filter: &QueryFilter) -> Result<(), Failure> {
    if let Some(outcome) = &filter.outcome
        && !Exchange::STATUSES
            .iter()
            .any(|s| s.eq_ignore_ascii_case(outcome.trim()))
    {
        return Err(super::usage(format!(
            "--outcome {outcome:?} is not a status; expected one of {}",
            Exchange::STATUSES.join(", ")
        )));
    }
    // A mistyped SSIN matches nobody: "nobody consulted this person" would be wrong.
    if let Some(subject) = &filter.subject
        && let Err(e) = bcss::ids::Ssin::new(subject)
    {
        return Err(super::usage(format!(
            "--subject {subject:?} is not an SSIN ({e}): a query by subject finds the exchanges about one SSIN (11 digits, dots, dashes and spaces allowed)"
        )));
    }
    if let (Some(since), Some(until)) = (filter.since, filter.until)
        && until < since
    {
        return Err(super::usage(format!(
            "--until ({}) is before --since ({}): no exchange can match",
            until.to_rfc3339(),
            since.to_rfc3339()
        )));
    }
    if args.reads {
        let given: Vec<&str> = [
            ("--service", args.service.is_some()),
            ("--outcome", args.outcome.is_some()),
            ("--manifest", args.manifest.is_some()),
        ]
        .iter()
        .filter(|(_, given)| *given)
        .map(|(name, _)| *name)
        .collect();
        if let Some((last, first)) = given.split_last() {
            let (names, verb) = match first {
                [] => (last.to_string(), "does"),
                _ => (format!("{} and {last}", first.join(", ")), "do"),
            };
            return Err(super::usage(format!(
                "{names} {verb} not apply to --reads (a read is found by --who, the reader; --subject; --since and --until)"
            )));
        }
    }
    Ok(())
}

fn filter(args: &QueryArgs) -> Result<QueryFilter, Failure> {
    let filter = filter_as_given(args)?;
    check(args, &filter)?;
    Ok(QueryFilter {
        outcome: filter.outcome.map(|o| o.trim().to_ascii_lowercase()),
        ..filter
    })
}

fn filter_as_given(args: &QueryArgs) -> Result<QueryFilter, Failure> {
    Ok(QueryFilter {
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
        manifest: args.manifest.as_deref().map(manifest_digest).transpose()?,
    })
}

/// `--manifest`: a SHA-256 is 64 hex digits (either case, kept lowercase). Anything else
/// would match nothing and look like "no exchanges", so it is refused.
fn manifest_digest(s: &str) -> Result<String, Failure> {
    let s = s.trim();
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(super::usage(format!(
            "--manifest: expected a SHA-256 of 64 hex digits (as `bcss manifest check` prints it), got {s:?} ({} characters)",
            s.chars().count()
        )))
    }
}

/// The filters as given, for the read record.
fn arguments(args: &QueryArgs) -> Vec<String> {
    let named = [
        ("--who", &args.who),
        ("--subject", &args.subject),
        ("--service", &args.service),
        ("--since", &args.since),
        ("--until", &args.until),
        ("--outcome", &args.outcome),
        ("--manifest", &args.manifest),
    ];
    let mut out: Vec<String> = named
        .iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name}={v}")))
        .collect();
    if args.reads {
        out.push("--reads".to_string());
    }
    out
}

/// Say on stderr how the query found its exchanges when it had to read everything.
fn note_plan(result: &QueryResult) {
    note_scan(&result.plan, Some(result.records_scanned));
}

/// Say on stderr why the index was not used, when it was not (and how many records were
/// read instead, when known).
fn note_scan(plan: &QueryPlan, records: Option<u64>) {
    if let QueryPlan::Scan { reason } = plan {
        let read = records
            .map(|n| format!("; read {n} records"))
            .unwrap_or_default();
        crate::exit::notice(
            "bcss audit query",
            "",
            "note",
            format_args!("the index was not used ({reason}){read}"),
        );
    }
}

pub(super) fn run_query(args: QueryArgs) -> Result<ExitCode, Failure> {
    let filter = filter(&args)?;
    if args.reads {
        return run_reads(&args, &filter);
    }
    if let Some(location) = super::pg::location(&args.dir, &args.keys.db)? {
        return super::pg::run_query(
            location,
            &args.reader,
            &args.keys,
            args.format,
            &filter,
            arguments(&args),
        );
    }
    let result = audit::query(&args.dir, &filter)?;
    note_plan(&result);
    let shown = Shown {
        head: result.head,
        count: Some(result.len() as u64),
        subjects: result.subjects(),
    };
    journal_read(
        &args.dir,
        &args.reader,
        &args.keys,
        "query",
        arguments(&args),
        shown,
    )?;
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
        let written = match args.format {
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
    if args.format == Format::Table {
        print_table(&mut out, &rows);
    }
    let _ = out.flush();
    match &result.problem {
        Some(p) if p.final_record => {
            crate::exit::notice(
                "bcss audit query",
                "",
                "note",
                format_args!(
                    "the final record is bad (a write in progress, interrupted or damaged): {p}"
                ),
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(p) => {
            crate::exit::notice(
                "bcss audit query",
                "",
                "warning",
                format_args!(
                    "the journal is damaged; results leave out the record at {p} (and, read in order, those after it)"
                ),
            );
            Ok(ExitCode::from(1))
        }
        None => Ok(ExitCode::SUCCESS),
    }
}

/// `query --reads`: the reads themselves (a read too, journaled first): a file journal's
/// reads chain and the reads in the journal itself, or a PostgreSQL journal's read records.
fn run_reads(args: &QueryArgs, filter: &QueryFilter) -> Result<ExitCode, Failure> {
    let pg = super::pg::location(&args.dir, &args.keys.db)?;
    let reads = match &pg {
        Some(location) => super::pg::query_reads(location, filter)?,
        None => {
            let (reads, plan) = audit::query_reads_planned(&args.dir, filter)?;
            note_scan(&plan, None);
            reads
        }
    };
    let mut subjects: Vec<String> = reads
        .iter()
        .flat_map(|r| r.record.subjects.iter().cloned())
        .collect();
    subjects.sort();
    subjects.dedup();
    let shown = Shown {
        head: None,
        count: Some(reads.len() as u64),
        subjects,
    };
    let (reader, keys, command) = (&args.reader, &args.keys, "query");
    match &pg {
        Some(location) => {
            super::pg::journal_read(location, reader, keys, command, arguments(args), shown)?
        }
        None => journal_read(&args.dir, reader, keys, command, arguments(args), shown)?,
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Table => {
            let rows: Vec<Vec<String>> = reads.iter().map(read_summary).collect();
            print_read_table(&mut out, &rows);
        }
        Format::Csv => {
            let _ = writeln!(
                out,
                "{}",
                csv_line(READ_CSV_COLUMNS.iter().map(|c| c.to_string()))
            );
            for r in &reads {
                let _ = writeln!(out, "{}", csv_line(read_summary(r)));
            }
        }
        Format::Json => {
            for r in &reads {
                let _ = writeln!(out, "{}", read_json_line(r));
            }
        }
    }
    let _ = out.flush();
    Ok(ExitCode::SUCCESS)
}

pub(super) fn run_show(args: ShowArgs) -> Result<ExitCode, Failure> {
    if let Some(location) = super::pg::location(&args.dir, &args.keys.db)? {
        return super::pg::run_show(location, &args.reader, &args.keys, args.ticket);
    }
    let result = audit::query_ticket(&args.dir, args.ticket)?;
    note_plan(&result);
    if let Some(problem) = result.problem.as_ref().filter(|p| !p.final_record) {
        return Err(problem.to_error().into());
    }
    let shown = Shown {
        head: result.head,
        count: Some(result.len() as u64),
        subjects: result.subjects(),
    };
    journal_read(
        &args.dir,
        &args.reader,
        &args.keys,
        "show",
        vec![args.ticket.to_string()],
        shown,
    )?;
    let Some(e) = result.exchanges().next().transpose()? else {
        return Err(Failure(
            Exit::Error,
            format!(
                "no exchange with ticket {} in {}",
                args.ticket,
                args.dir.display()
            ),
        ));
    };
    super::output::print_exchange(&mut std::io::stdout().lock(), &e);
    Ok(ExitCode::SUCCESS)
}
