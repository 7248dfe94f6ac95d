//! The `bcss` command line. Thin: the logic lives in the library.

#[macro_use]
mod exit;

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
#[command(name = "bcss", version, about, after_help = exit::EXIT_CODES_HELP)]
struct Cli {
    /// How failures are reported on stderr: text lines, or one JSON object (for
    /// scripts) with the exit code's name, the message, the BCSS code, our ticket and
    /// whether anything was sent. For call, test-connection, mock, audit, services and
    /// argument errors; manifest prints its diagnostics (FILE:line:col) as text.
    #[arg(long, global = true, value_enum, default_value_t = exit::ErrorFormat::Text)]
    error_format: exit::ErrorFormat,
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
    /// Check, explain, list, diff and sign the authorisation manifest (authorizations.toml),
    /// and make the signer's key pair (keygen).
    Manifest {
        #[command(subcommand)]
        cmd: manifest_cmd::ManifestCommand,
    },
    /// List the service catalogue, or import a service from BCSS's WSDL files.
    Services {
        #[command(subcommand)]
        cmd: services_cmd::ServicesCommand,
    },
    /// Call a service through the guard and the journal; print the reply as JSON.
    #[command(after_help = exit::EXIT_CODES_HELP)]
    Call(call_cmd::CallArgs),
    /// Call TestConnection's sendTestMessage echo.
    #[command(after_help = exit::EXIT_CODES_HELP)]
    TestConnection(call_cmd::TestConnectionArgs),
    /// Serve recorded fixtures as a local BCSS stand-in (loopback only by default).
    Mock(mock_cmd::MockArgs),
}

/// Whether the raw arguments ask for `--error-format json` (for reporting an argument
/// error, when clap could not parse them).
fn json_asked() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--error-format=json")
        || args
            .windows(2)
            .any(|w| w[0] == "--error-format" && w[1] == "json")
}

/// Clap's error as one line: what it says before its usage and `--help` lines, the
/// missing or refused arguments included ("the following required arguments were not
/// provided: --user <ID> --purpose <PURPOSE>").
fn clap_message(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let said: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    said.join(" ").trim_start_matches("error: ").to_string()
}

fn main() -> ExitCode {
    notice::install();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() && json_asked() => {
            exit::set_format(exit::ErrorFormat::Json);
            return exit::usage("bcss", clap_message(&e));
        }
        // Help and version on stdout (exit 0), argument errors as clap prints them (2).
        Err(e) => e.exit(),
    };
    exit::set_format(cli.error_format);
    exit::set_command(match &cli.command {
        Command::Audit { .. } => "bcss audit",
        Command::Manifest { .. } => "bcss manifest",
        Command::Services { .. } => "bcss services",
        Command::Call(_) => "bcss call",
        Command::TestConnection(_) => "bcss test-connection",
        Command::Mock(_) => "bcss mock",
    });
    match cli.command {
        Command::Audit { cmd } => audit_cmd::run(cmd),
        Command::Manifest { cmd } => manifest_cmd::run(cmd),
        Command::Services { cmd } => services_cmd::run(cmd),
        Command::Call(args) => call_cmd::run(args),
        Command::TestConnection(args) => call_cmd::run_test_connection(args),
        Command::Mock(args) => mock_cmd::run(args),
    }
}
