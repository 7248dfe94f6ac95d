//! `bcss manifest`: check, explain and list an authorisation manifest.
//!
//! Exit codes:
//! - `check`: 0 valid (warnings allowed), 1 invalid or unreadable.
//! - `explain`: 0 allow, 1 deny, 2 usage error or invalid manifest.
//! - `list`: 0 listed, 1 invalid or unreadable manifest, 2 usage error.
//!
//! Each takes `--config bcss.toml` to know the services it configures (`[[service]]`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bcss::Environment;
use bcss::ids::ProgramId;
use bcss::manifest::{Decision, Entry, Facts, Policy, read_manifest, validate_with};
use bcss::services::Catalogue;
use chrono::{DateTime, Utc};

use crate::services_cmd::catalogue_of;

/// Entries that expire within this many days are flagged by `list`.
const SOON_DAYS: i64 = 30;

/// Work with an authorisation manifest (`authorizations.toml`).
#[derive(Debug, clap::Subcommand)]
pub enum ManifestCommand {
    /// Validate a manifest: every error as FILE:line:col: message.
    ///
    /// Exit 0 when valid (warnings are printed), 1 when invalid.
    Check {
        /// The manifest file.
        file: PathBuf,
        /// A bcss.toml whose configured services ([[service]]) the manifest may name.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Tell whether the manifest allows one call, and why.
    ///
    /// Exit 0 for ALLOW, 1 for DENY, 2 for a usage error or an invalid manifest.
    Explain(ExplainArgs),
    /// List the entries with the days left until each expires.
    ///
    /// Entries that expire within 30 days are flagged.
    List {
        /// The manifest file.
        file: PathBuf,
        /// A bcss.toml whose configured services ([[service]]) the manifest may name.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Only the entries of this environment.
        #[arg(long)]
        env: Option<Environment>,
        /// Count the days from this instant (RFC 3339) instead of now.
        #[arg(long, value_parser = parse_instant)]
        at: Option<DateTime<Utc>>,
    },
}

/// The call to explain.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The manifest file.
    file: PathBuf,
    /// The environment: test, acceptance or production.
    #[arg(long)]
    env: Environment,
    /// The service, by its manifest name (e.g. IdentifyPerson).
    #[arg(long)]
    service: String,
    /// The operation; may be left out when the service has only one.
    #[arg(long)]
    operation: Option<String>,
    /// The purpose the call states.
    #[arg(long)]
    purpose: String,
    /// The program number the client is configured with.
    #[arg(long)]
    program: Option<ProgramId>,
    /// The instant of the call (RFC 3339); default now.
    #[arg(long, value_parser = parse_instant)]
    at: Option<DateTime<Utc>>,
    /// A bcss.toml whose configured services ([[service]]) the manifest may name.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

fn parse_instant(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("'{s}' is not an RFC 3339 instant (2025-06-01T12:00:00Z): {e}"))
}

/// Run a `bcss manifest` subcommand.
pub fn run(cmd: ManifestCommand) -> ExitCode {
    match cmd {
        ManifestCommand::Check { file, config } => match catalogue_of(config.as_deref()) {
            Ok(catalogue) => check(&file, &catalogue),
            Err(e) => {
                println!("{e}");
                ExitCode::from(1)
            }
        },
        ManifestCommand::Explain(args) => match catalogue_of(args.config.as_deref()) {
            Ok(catalogue) => explain(&args, &catalogue),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        ManifestCommand::List {
            file,
            config,
            env,
            at,
        } => match catalogue_of(config.as_deref()) {
            Ok(catalogue) => list(&file, &catalogue, env, at.unwrap_or_else(Utc::now)),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
    }
}

/// Read and validate, printing every diagnostic to stderr on failure.
fn load(file: &Path, catalogue: &Catalogue) -> Option<Policy> {
    let text = match read_manifest(file) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("{e}");
            return None;
        }
    };
    match validate_with(&text, &file.display().to_string(), catalogue) {
        Ok(policy) => Some(policy),
        Err(diagnostics) => {
            for d in &diagnostics {
                eprintln!("{d}");
            }
            None
        }
    }
}

fn check(file: &Path, catalogue: &Catalogue) -> ExitCode {
    let name = file.display().to_string();
    let text = match read_manifest(file) {
        Ok(text) => text,
        Err(e) => {
            println!("{e}");
            return ExitCode::from(1);
        }
    };
    match validate_with(&text, &name, catalogue) {
        Ok(policy) => {
            for w in policy.warnings() {
                println!("{w}");
            }
            let count = |env| {
                policy
                    .entries()
                    .iter()
                    .filter(|e| e.environment == env)
                    .count()
            };
            let org = policy.organization();
            let warnings = policy.warnings().len();
            println!(
                "{name}: valid: {} authorisation(s) for {} (CBE {}): test {}, acceptance {}, \
                 production {}; {warnings} warning(s)",
                policy.entries().len(),
                org.name,
                org.cbe,
                count(Environment::Test),
                count(Environment::Acceptance),
                count(Environment::Production),
            );
            ExitCode::SUCCESS
        }
        Err(diagnostics) => {
            for d in &diagnostics {
                println!("{d}");
            }
            let errors = diagnostics
                .iter()
                .filter(|d| d.severity == bcss::manifest::Severity::Error)
                .count();
            println!("{name}: invalid: {errors} error(s)");
            ExitCode::from(1)
        }
    }
}

fn explain(args: &ExplainArgs, catalogue: &Catalogue) -> ExitCode {
    let service = match catalogue.get(&args.service) {
        Some(s) => s,
        None => {
            eprintln!(
                "error: unknown service '{}'; known services: {}",
                args.service,
                catalogue.names().join(", ")
            );
            return ExitCode::from(2);
        }
    };
    let operations = service.operation_names();
    let operation = match (&args.operation, operations.as_slice()) {
        (Some(op), _) if operations.contains(&op.as_str()) => op.as_str(),
        (Some(op), _) => {
            eprintln!(
                "error: '{op}' is not an operation of {} (its operations: {})",
                service,
                operations.join(", ")
            );
            return ExitCode::from(2);
        }
        (None, [only]) => only,
        (None, _) => {
            eprintln!(
                "error: {} has several operations ({}): give --operation",
                service,
                operations.join(", ")
            );
            return ExitCode::from(2);
        }
    };
    let Some(policy) = load(&args.file, catalogue) else {
        return ExitCode::from(2);
    };
    let facts = Facts {
        environment: args.env,
        service: service.name(),
        operation,
        purpose: &args.purpose,
        program: args.program.as_ref(),
    };
    match policy.decide(&facts, args.at.unwrap_or_else(Utc::now)) {
        Decision::Grant(g) => {
            println!("ALLOW {}", g.authorization_id);
            println!("purpose: {}", g.purpose);
            println!("program: {}", g.program);
            println!("deliberation: {}", g.deliberation);
            ExitCode::SUCCESS
        }
        Decision::Deny(d) => {
            println!("DENY {}", d.reason.code());
            println!("{}", d.message);
            ExitCode::from(1)
        }
    }
}

fn flag(e: &Entry, now: DateTime<Utc>) -> &'static str {
    let days = e.days_left(now);
    if now > e.not_after() {
        "EXPIRED"
    } else if now < e.not_before() {
        "NOT YET VALID"
    } else if days <= SOON_DAYS {
        "EXPIRES SOON"
    } else {
        ""
    }
}

fn list(
    file: &Path,
    catalogue: &Catalogue,
    env: Option<Environment>,
    now: DateTime<Utc>,
) -> ExitCode {
    let Some(policy) = load(file, catalogue) else {
        return ExitCode::from(1);
    };
    let header = [
        "ID",
        "ENV",
        "SERVICE",
        "OPERATIONS",
        "PURPOSE",
        "PROGRAM",
        "DELIBERATION",
        "VALID FROM",
        "VALID UNTIL",
        "DAYS LEFT",
        "FLAG",
    ];
    let rows: Vec<[String; 11]> = policy
        .entries()
        .iter()
        .filter(|e| env.is_none_or(|env| e.environment == env))
        .map(|e| {
            [
                e.id.clone(),
                e.environment.to_string(),
                e.service.to_string(),
                e.operations_label(),
                e.purpose.clone(),
                e.program.to_string(),
                e.deliberation.to_string(),
                e.valid_from.to_string(),
                e.valid_until.to_string(),
                e.days_left(now).to_string(),
                flag(e, now).to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let print_row = |cells: &[&str]| {
        let line: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    };
    let org = policy.organization();
    println!(
        "{} (CBE {}), {} entr{}{}, days counted from {}",
        org.name,
        org.cbe,
        rows.len(),
        if rows.len() == 1 { "y" } else { "ies" },
        env.map(|e| format!(" in {e}")).unwrap_or_default(),
        now.format("%Y-%m-%d")
    );
    print_row(&header);
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        print_row(&cells);
    }
    let soon = rows.iter().filter(|r| r[10] == "EXPIRES SOON").count();
    let expired = rows.iter().filter(|r| r[10] == "EXPIRED").count();
    println!("{soon} expire(s) within {SOON_DAYS} days; {expired} expired");
    ExitCode::SUCCESS
}
