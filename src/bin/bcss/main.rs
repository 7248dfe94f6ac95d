//! The `bcss` command line. Thin: the logic lives in the library.

mod audit_cmd;
mod manifest_cmd;

use std::process::ExitCode;

use clap::Parser;

/// Command line for the BCSS/KSZ web services SDK.
#[derive(Debug, Parser)]
#[command(name = "bcss", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Verify, query, show, checkpoint and prune the audit journal.
    Audit {
        #[command(subcommand)]
        cmd: audit_cmd::AuditCommand,
    },
    /// Check, explain and list the authorisation manifest (authorizations.toml).
    Manifest {
        #[command(subcommand)]
        cmd: manifest_cmd::ManifestCommand,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Audit { cmd } => audit_cmd::run(cmd),
        Command::Manifest { cmd } => manifest_cmd::run(cmd),
    }
}
