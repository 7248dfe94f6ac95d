//! The `bcss` command line. Thin: the logic lives in the library.

mod audit_cmd;
mod call_cmd;
mod manifest_cmd;
mod mock_cmd;
mod notice;
mod services_cmd;

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
    /// List the service catalogue, or import a service from BCSS's WSDL files.
    Services {
        #[command(subcommand)]
        cmd: services_cmd::ServicesCommand,
    },
    /// Call a service through the guard and the journal; print the typed reply as JSON.
    Call(call_cmd::CallArgs),
    /// Call TestConnection's sendTestMessage echo.
    TestConnection(call_cmd::TestConnectionArgs),
    /// Serve recorded fixtures as a local BCSS stand-in (loopback only by default).
    Mock(mock_cmd::MockArgs),
}

fn main() -> ExitCode {
    notice::install();
    match Cli::parse().command {
        Command::Audit { cmd } => audit_cmd::run(cmd),
        Command::Manifest { cmd } => manifest_cmd::run(cmd),
        Command::Services { cmd } => services_cmd::run(cmd),
        Command::Call(args) => call_cmd::run(args),
        Command::TestConnection(args) => call_cmd::run_test_connection(args),
        Command::Mock(args) => mock_cmd::run(args),
    }
}
