//! How `bcss` ends: the exit codes a script tells outcomes apart by, one function that
//! derives them from a [`bcss::Error`]'s predicates, the error report on stderr (text, or
//! one JSON object with `--error-format json`), and standard output that a closed pipe
//! (`bcss call ... | head -1`) ends quietly instead of panicking.

use std::fmt;
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::OnceLock;

/// The exit codes, documented in `bcss --help` ([`EXIT_CODES_HELP`]) and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: the command did what it was asked.
    Ok,
    /// 1: anything else that failed: the audit journal could not record or close, a
    /// journal or manifest check found a problem.
    Error,
    /// 2: the command could not run: bad arguments, or a configuration, manifest,
    /// fixtures or journal that cannot be used. Nothing was sent.
    Usage,
    /// 3: BCSS answered that it has no data for the request (any family).
    NoData,
    /// 4: BCSS refused the request with a status or reason code (a business refusal).
    Refused,
    /// 5: bcss refused the call before sending anything: the guard denied it, or a check
    /// after the grant failed; journaled as a denial.
    Denied,
    /// 6: the exchange failed: transport error, SOAP fault, an HTTP status outside 2xx,
    /// a reply that cannot be read, or the mock's "no fixture matches".
    Failed,
}

/// The `EXIT CODES` section of `--help`.
pub const EXIT_CODES_HELP: &str = "\
EXIT CODES:
  0  ok        success
  1  error     another failure (the journal could not record or close; a check failed)
  2  usage     bad arguments, or an unusable configuration, manifest, fixtures or journal
  3  no_data   BCSS has no data for this request
  4  refused   BCSS refused the request (a status or reason code)
  5  denied    bcss refused the call before sending (guard, or a check after the grant)
  6  failed    transport error, SOAP fault, HTTP status outside 2xx, unreadable reply,
               or the mock's \"no fixture matches\"
With --error-format json, a failure writes one JSON object on stderr:
  {\"exit\":\"refused\",\"exit_code\":4,\"message\":\"...\",\"code\":\"MSG00010\",
   \"ticket\":\"<our ticket>\",\"sent\":true,\"http_status\":500}
and a warning one object without \"exit\": {\"command\":\"bcss call\",\"warning\":\"...\"}";

impl Exit {
    /// The process exit status.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Error => 1,
            Exit::Usage => 2,
            Exit::NoData => 3,
            Exit::Refused => 4,
            Exit::Denied => 5,
            Exit::Failed => 6,
        }
    }

    /// The name in `--error-format json` and the help.
    pub fn name(self) -> &'static str {
        match self {
            Exit::Ok => "ok",
            Exit::Error => "error",
            Exit::Usage => "usage",
            Exit::NoData => "no_data",
            Exit::Refused => "refused",
            Exit::Denied => "denied",
            Exit::Failed => "failed",
        }
    }

    /// The exit of a failed call, from the error's predicates and cause.
    pub fn of(e: &bcss::Error) -> Exit {
        use bcss::error::ErrorKind as K;
        if e.is_no_data() {
            return Exit::NoData;
        }
        if e.is_denied() {
            return Exit::Denied;
        }
        match e.kind() {
            // A decoded BCSS status or reason code: a business refusal; a reply that
            // could not be read has no code.
            K::V3(_) | K::Ssdn(_) if e.code().is_some() => Exit::Refused,
            K::V3(_) | K::Ssdn(_) | K::Transport(_) | K::Soap(_) | K::HttpStatus { .. } => {
                Exit::Failed
            }
            K::Id(_)
            | K::Request(_)
            | K::Manifest(_)
            | K::Config(_)
            | K::ConfigFile(_)
            | K::MissingUser(_)
            | K::Clock(_) => Exit::Usage,
            _ => Exit::Error,
        }
    }

    /// The exit of a failed `bcss services import`: WSDL files that cannot be read or
    /// imported are inputs that cannot be used (2), like a configuration or manifest.
    pub fn of_import(e: &bcss::services::catalogue::import::ImportError) -> Exit {
        use bcss::services::catalogue::import::ImportError as I;
        match e {
            I::NoFile | I::Wsdl { .. } | I::Disagree { .. } | I::Invalid(_) => Exit::Usage,
            _ => Exit::Usage,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

/// `--error-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ErrorFormat {
    /// `bcss COMMAND: message` lines.
    #[default]
    Text,
    /// One JSON object per failure, on one line.
    Json,
}

static FORMAT: OnceLock<ErrorFormat> = OnceLock::new();

/// The command running (`bcss call`, `bcss audit`...), for the lines said while it works.
static COMMAND: OnceLock<&'static str> = OnceLock::new();

/// Set once, from the command line, before any command runs.
pub fn set_command(command: &'static str) {
    let _ = COMMAND.set(command);
}

/// Set once, from the command line, before any command runs.
pub fn set_format(format: ErrorFormat) {
    let _ = FORMAT.set(format);
}

fn format() -> ErrorFormat {
    FORMAT.get().copied().unwrap_or_default()
}

/// What a failure report says besides its message.
#[derive(Debug, Default)]
pub struct Details {
    /// The BCSS status or reason code, a faultcode, or a refusal's reason code.
    pub code: Option<String>,
    /// Our ticket, for a call that reached the guard.
    pub ticket: Option<String>,
    /// Whether any byte of the request could have reached BCSS.
    pub sent: bool,
    /// The reply's HTTP status.
    pub http_status: Option<u16>,
    /// How many attempts the call made (1 unless `[retry]` retried it); `None` when no
    /// call was made.
    pub attempts: Option<u32>,
    /// The first attempt's ticket, when the call was retried.
    pub first_ticket: Option<String>,
}

impl Details {
    /// What `e` says about the call.
    pub fn of(e: &bcss::Error) -> Details {
        Details {
            code: e.code().map(str::to_string),
            ticket: e.ticket().map(|t| t.to_string()),
            sent: e.was_sent(),
            http_status: e.status(),
            attempts: Some(e.attempts()),
            first_ticket: (e.attempts() > 1)
                .then(|| e.first_ticket().map(|t| t.to_string()))
                .flatten(),
        }
    }
}

/// Report a failure on stderr, in the chosen format, and return its exit code.
pub fn fail(command: &str, exit: Exit, message: impl fmt::Display, details: Details) -> ExitCode {
    let message = message.to_string();
    let line = match format() {
        ErrorFormat::Text => format!("{command}: {message}"),
        ErrorFormat::Json => serde_json::json!({
            "command": command,
            "exit": exit.name(),
            "exit_code": exit.code(),
            "message": message,
            "code": details.code,
            "ticket": details.ticket,
            "sent": details.sent,
            "http_status": details.http_status,
            "attempts": details.attempts,
            "first_ticket": details.first_ticket,
        })
        .to_string(),
    };
    // A closed stderr leaves nothing to tell.
    let _ = writeln!(std::io::stderr().lock(), "{line}");
    exit.into()
}

/// What a command says on stderr without failing: a warning, a note, the drill notice.
/// As text, the line `{text_prefix}{level}: {message}` (`level` as given: `warning`,
/// `note`, `DRILL`); with `--error-format json`, one JSON object on its own line,
/// `{"command": ..., "<level in lower case>": message}`, which has no `exit` key: a
/// script tells it from the failure report, and every stderr line stays JSON.
pub fn notice(command: &str, text_prefix: &str, level: &str, message: impl fmt::Display) {
    let message = message.to_string();
    let line = match format() {
        ErrorFormat::Text => format!("{text_prefix}{level}: {message}"),
        ErrorFormat::Json => {
            let mut object = serde_json::Map::new();
            object.insert("command".into(), command.into());
            object.insert(level.to_lowercase(), message.into());
            serde_json::Value::Object(object).to_string()
        }
    };
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// A line said while a command works, in cargo's words (`bcss: Blocking waiting for the
/// journal lock ...`) as text; with `--error-format json`, the object
/// `{"command": "bcss call", "<level>": message}` (the command running), so that every
/// stderr line stays JSON.
pub fn status(level: &str, message: impl fmt::Display) {
    match format() {
        ErrorFormat::Text => {
            let _ = writeln!(std::io::stderr().lock(), "bcss: {message}");
        }
        ErrorFormat::Json => notice(COMMAND.get().copied().unwrap_or("bcss"), "", level, message),
    }
}

/// Report a failed call (its exit and details from the error) and return its exit code.
/// No data reads the same in every family.
pub fn fail_call(command: &str, e: &bcss::Error) -> ExitCode {
    let exit = Exit::of(e);
    let details = Details::of(e);
    let message = if exit == Exit::NoData {
        no_data_message(&details)
    } else {
        match &details.first_ticket {
            Some(first) => format!(
                "{e} (the last of {} attempts; the first had ticket {first})",
                e.attempts()
            ),
            None => e.to_string(),
        }
    };
    fail(command, exit, message, details)
}

/// The one wording for "no data", whatever the family.
fn no_data_message(details: &Details) -> String {
    let mut said = "no data: BCSS has no data for this request".to_string();
    let mut quoted = Vec::new();
    if let Some(code) = &details.code {
        quoted.push(format!("code {code}"));
    }
    if let Some(ticket) = &details.ticket {
        quoted.push(format!("ticket {ticket}"));
    }
    if let (Some(n), Some(first)) = (details.attempts, &details.first_ticket) {
        quoted.push(format!(
            "the last of {n} attempts, the first with ticket {first}"
        ));
    }
    if !quoted.is_empty() {
        said.push_str(&format!(" ({})", quoted.join(", ")));
    }
    said
}

/// Report a usage or configuration problem (exit 2).
pub fn usage(command: &str, message: impl fmt::Display) -> ExitCode {
    fail(command, Exit::Usage, message, Details::default())
}

/// Write to standard output. A closed pipe (the reader went away: `| head`, `| true`)
/// ends the process quietly with status 0: whatever ran is finished by the time its
/// result is printed. Another write error ends it with [`Exit::Error`].
pub fn write_stdout(args: fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        let _ = writeln!(
            std::io::stderr(),
            "bcss: cannot write to standard output: {e}"
        );
        std::process::exit(i32::from(Exit::Error.code()));
    }
}

/// `println!` whose closed pipe ends the process quietly ([`write_stdout`]).
macro_rules! outln {
    () => { $crate::exit::write_stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::exit::write_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_named_in_the_help() {
        let all = [
            Exit::Ok,
            Exit::Error,
            Exit::Usage,
            Exit::NoData,
            Exit::Refused,
            Exit::Denied,
            Exit::Failed,
        ];
        for (i, a) in all.iter().enumerate() {
            assert!(EXIT_CODES_HELP.contains(&format!("{}  {}", a.code(), a.name())));
            for b in &all[i + 1..] {
                assert_ne!(a.code(), b.code());
            }
        }
    }

    #[test]
    fn exits_follow_the_predicates() {
        use bcss::error::ErrorKind;
        let config = bcss::Error::from(ErrorKind::Config("x".into()));
        assert_eq!(Exit::of(&config), Exit::Usage);
        let transport = bcss::Error::from(ErrorKind::Transport(
            bcss::transport::TransportError::NoFixture("none".into()),
        ));
        assert_eq!(Exit::of(&transport), Exit::Failed);
    }
}
