//! `bcss manifest`: check, explain, list, diff and sign an authorisation manifest, and
//! make the signer's key pair.
//!
//! Exit codes:
//! - `check`: 0 valid (warnings allowed) with an acceptable signature, 1 invalid,
//!   unreadable, or a signature that does not let it load.
//! - `explain`: 0 allow, 1 deny, 2 usage error or invalid manifest.
//! - `list`: 0 listed, 1 invalid or unreadable manifest or a refused signature, 2 usage
//!   error.
//! - `diff`: 0 no change, 1 changes, 2 an invalid or unreadable manifest.
//! - `sign`: 0 signed, 1 the manifest is invalid, 2 any other error.
//! - `keygen`: 0 written, 1 a key file exists already, 2 any other error.
//!
//! `check`, `explain`, `list`, `diff` and `sign` take `--config bcss.toml` to know the
//! services it configures (`[[service]]`).

mod diff;
mod signing;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bcss::Environment;
use bcss::ids::ProgramId;
use bcss::manifest::{Decision, Entry, Facts, GrantedBy, Policy, read_manifest, validate_with};
use bcss::services::Catalogue;
use chrono::{DateTime, Utc};
use signing::TrustArgs;

use crate::services_cmd::catalogue_of;

/// Entries that expire within this many days are flagged by `list`.
const SOON_DAYS: i64 = 30;

/// Work with an authorisation manifest (`authorizations.toml`).
#[derive(Debug, clap::Subcommand)]
pub enum ManifestCommand {
    /// Validate a manifest: every error as FILE:line:col: message.
    ///
    /// Exit 0 when valid (warnings are printed) with an acceptable signature; 1 when
    /// invalid or unreadable, or when the signature is broken or refused (a changed
    /// manifest, another manifest's signature, a key not configured, a missing signature
    /// with --require-signature).
    Check {
        /// The manifest file.
        file: PathBuf,
        #[command(flatten)]
        trust: TrustArgs,
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
        /// Only the entries of this environment.
        #[arg(long)]
        env: Option<Environment>,
        /// Count the days from this instant (RFC 3339) instead of now.
        #[arg(long, value_parser = parse_instant)]
        at: Option<DateTime<Utc>>,
        #[command(flatten)]
        trust: TrustArgs,
    },
    /// Print what NEW changes from OLD, entry by entry and field by field.
    ///
    /// For the advisor who reviews a change before signing it. Exit 0 when nothing
    /// differs, 1 when something does, 2 when either manifest is invalid.
    Diff {
        /// The manifest in force.
        old: PathBuf,
        /// The proposed manifest.
        new: PathBuf,
        /// A bcss.toml whose configured services ([[service]]) the manifests may name.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Sign a manifest: write FILE.sig beside it (Ed25519 over its exact bytes).
    ///
    /// The manifest is validated first; an invalid one is not signed.
    Sign {
        /// The manifest file.
        file: PathBuf,
        /// The signer's private key (PKCS#8 PEM, from bcss manifest keygen).
        #[arg(long, value_name = "KEY")]
        key: PathBuf,
        /// The signer's name.
        #[arg(long, value_name = "NAME")]
        signer: String,
        /// The signer's role: leading-official, deputy or security-advisor.
        #[arg(long, value_parser = signing::parse_role)]
        role: GrantedBy,
        /// A bcss.toml whose configured services ([[service]]) the manifest may name.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Make an Ed25519 key pair: NAME.key (private, mode 0600) and NAME.pub. For a
    /// manifest signer (pin NAME.pub in [manifest] signers) or for the audit journal
    /// ([journal] signing_key = NAME.key; verify --public-key NAME.pub).
    ///
    /// Never overwrites an existing key file; creates the folder (mode 0700) if needed.
    Keygen {
        /// The files' name, with its folder if any (keys/advisor).
        name: PathBuf,
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
    /// ManageAccess: the BCSS purpose code the request carries.
    #[arg(long, value_name = "CODE")]
    access_purpose: Option<u32>,
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
    // The catalogue of the configuration given, or the command's exit code when it cannot
    // be read (printed on stdout for check, which prints everything there).
    let catalogue = |config: Option<&Path>, code: u8, stdout: bool| {
        catalogue_of(config).map_err(|e| {
            if stdout {
                outln!("{e}");
            } else {
                eprintln!("error: {e}");
            }
            ExitCode::from(code)
        })
    };
    let result = match cmd {
        ManifestCommand::Check { file, trust } => {
            catalogue(trust.config(), 1, true).map(|c| check(&file, &trust, &c))
        }
        ManifestCommand::Explain(args) => {
            catalogue(args.config.as_deref(), 2, false).map(|c| explain(&args, &c))
        }
        ManifestCommand::List {
            file,
            env,
            at,
            trust,
        } => catalogue(trust.config(), 2, false)
            .map(|c| list(&file, &c, env, at.unwrap_or_else(Utc::now), &trust)),
        ManifestCommand::Diff { old, new, config } => {
            catalogue(config.as_deref(), 2, false).map(|c| diff::run(&old, &new, &c))
        }
        ManifestCommand::Sign {
            file,
            key,
            signer,
            role,
            config,
        } => catalogue(config.as_deref(), 2, false)
            .map(|c| signing::sign(&file, &c, &key, &signer, role)),
        ManifestCommand::Keygen { name } => Ok(signing::keygen(&name)),
    };
    result.unwrap_or_else(|code| code)
}

/// Read and validate, printing every diagnostic to stderr on failure.
pub(crate) fn load(file: &Path, catalogue: &Catalogue) -> Option<Policy> {
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

fn check(file: &Path, trust: &TrustArgs, catalogue: &Catalogue) -> ExitCode {
    let name = file.display().to_string();
    let text = match read_manifest(file) {
        Ok(text) => text,
        Err(e) => {
            outln!("{e}");
            return ExitCode::from(1);
        }
    };
    match validate_with(&text, &name, catalogue) {
        Ok(policy) => {
            for w in policy.warnings() {
                outln!("{w}");
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
            outln!(
                "{name}: valid: {} authorisation(s) for {} (CBE {}): test {}, acceptance {}, \
                 production {}; {warnings} warning(s)",
                policy.entries().len(),
                org.name,
                org.cbe,
                count(Environment::Test),
                count(Environment::Acceptance),
                count(Environment::Production),
            );
            match signing::signature_line(file, trust) {
                Ok(line) => {
                    outln!("{line}");
                    ExitCode::SUCCESS
                }
                Err(line) => {
                    outln!("{line}");
                    ExitCode::from(1)
                }
            }
        }
        Err(diagnostics) => {
            for d in &diagnostics {
                outln!("{d}");
            }
            let errors = diagnostics
                .iter()
                .filter(|d| d.severity == bcss::manifest::Severity::Error)
                .count();
            outln!("{name}: invalid: {errors} error(s)");
            ExitCode::from(1)
        }
    }
}

fn explain(args: &ExplainArgs, catalogue: &Catalogue) -> ExitCode {
    let Some(service) = catalogue.get(&args.service) else {
        eprintln!(
            "error: unknown service '{}'; known services: {}{}",
            args.service,
            catalogue.names().join(", "),
            catalogue.unknown_service_hint()
        );
        return ExitCode::from(2);
    };
    let operations = service.operation_names();
    let operation = match (&args.operation, operations.as_slice()) {
        (Some(op), _) if operations.contains(&op.as_str()) => op.as_str(),
        (Some(op), _) => {
            eprintln!(
                "error: '{op}' is not an operation of {service} (its operations: {})",
                operations.join(", ")
            );
            return ExitCode::from(2);
        }
        (None, [only]) => only,
        (None, _) => {
            eprintln!(
                "error: {service} has several operations ({}): give --operation",
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
        access_purpose: args.access_purpose,
    };
    match policy.decide(&facts, args.at.unwrap_or_else(Utc::now)) {
        Decision::Grant(g) => {
            outln!("ALLOW {}", g.authorization_id);
            outln!("purpose: {}", g.purpose);
            outln!("program: {}", g.program);
            outln!("deliberation: {}", g.deliberation);
            ExitCode::SUCCESS
        }
        Decision::Deny(d) => {
            outln!("DENY {}", d.reason.code());
            outln!("{}", d.message);
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
    trust: &TrustArgs,
) -> ExitCode {
    let Some(policy) = load(file, catalogue) else {
        return ExitCode::from(1);
    };
    let signature = signing::signature_line(file, trust);
    let header = [
        "ID",
        "ENV",
        "SERVICE",
        "OPERATIONS",
        "PURPOSE",
        "ACCESS PURPOSES",
        "PROGRAM",
        "DELIBERATION",
        "VALID FROM",
        "VALID UNTIL",
        "DAYS LEFT",
        "FLAG",
    ];
    let rows: Vec<[String; 12]> = policy
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
                e.access_purposes
                    .as_ref()
                    .map(|codes| {
                        let codes: Vec<String> = codes.iter().map(u32::to_string).collect();
                        codes.join(",")
                    })
                    .unwrap_or_default(),
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
        outln!("{}", line.join("  ").trim_end());
    };
    let org = policy.organization();
    outln!(
        "{} (CBE {}), {} entr{}{}, days counted from {}",
        org.name,
        org.cbe,
        rows.len(),
        if rows.len() == 1 { "y" } else { "ies" },
        env.map(|e| format!(" in {e}")).unwrap_or_default(),
        now.format("%Y-%m-%d")
    );
    let (Ok(line) | Err(line)) = &signature;
    outln!("{line}");
    print_row(&header);
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        print_row(&cells);
    }
    let soon = rows.iter().filter(|r| r[11] == "EXPIRES SOON").count();
    let expired = rows.iter().filter(|r| r[11] == "EXPIRED").count();
    outln!("{soon} expire(s) within {SOON_DAYS} days; {expired} expired");
    if signature.is_err() {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
