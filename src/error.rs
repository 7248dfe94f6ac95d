//! [`Error`]: what a bcss call (or building a client) can fail with, opaque like reqwest's,
//! with predicates a caller can act on; and [`ErrorKind`], the cause, for those who need to
//! look inside.

use std::fmt;

use uuid::Uuid;

use crate::audit::AuditError;
use crate::clock::ClockError;
use crate::config::ConfigError;
use crate::ids::IdError;
use crate::manifest::{Denial, ManifestError};
use crate::services::RequestError;
use crate::soap::SoapError;
use crate::ssdn::SsdnError;
use crate::transport::TransportError;
use crate::v3::V3Error;

/// The BCSS status and reason codes that say the same request may succeed later, in
/// either family (`bcss-protocol.md` §1b: "only MSG00001, MSG00002 and MSG00020 are worth
/// a retry"): BCSS temporarily unavailable, supplier communication error, supplier
/// unavailable.
pub const RETRYABLE_CODES: [&str; 3] = ["MSG00001", "MSG00002", "MSG00020"];

/// Everything a bcss call can fail with: one pointer wide, whatever the cause.
///
/// Ask it what to do with the predicates ([`was_sent`](Error::was_sent),
/// [`is_retryable`](Error::is_retryable), [`is_no_data`](Error::is_no_data),
/// [`is_denied`](Error::is_denied)) and what to quote ([`code`](Error::code),
/// [`ticket`](Error::ticket), [`status`](Error::status)); [`kind`](Error::kind) gives the
/// cause itself. `Display` says what went wrong and what to fix; `Debug` never shows
/// personal data beyond what the cause's own `Debug` masks.
///
/// A CPAS desk that tells its social workers what happened:
///
/// ```
/// fn advice(e: &bcss::Error) -> String {
///     let ticket = e.ticket().map(|t| format!(" (ticket {t})")).unwrap_or_default();
///     if e.is_no_data() {
///         "BCSS has nothing on this person".to_string()
///     } else if e.is_denied() {
///         format!("not authorised: {}{ticket}; ask the security advisor", e.code().unwrap_or("?"))
///     } else if e.is_retryable() {
///         format!("BCSS is unavailable, try again in a few minutes{ticket}")
///     } else if e.was_sent() {
///         format!("the request reached BCSS and failed: {e}; quote{ticket} to the helpdesk")
///     } else {
///         format!("nothing was sent: {e}")
///     }
/// }
/// # let e = bcss::Error::from(bcss::error::ErrorKind::Config("no journal".into()));
/// # assert_eq!(advice(&e), "nothing was sent: client configuration: no journal");
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    /// Our ticket, for a call that reached the guard (or was journaled as refused).
    ticket: Option<Uuid>,
    /// The HTTP status of the reply, when one came.
    status: Option<u16>,
    /// Whether the transport was given the request (and may have sent any of it).
    sent: bool,
    /// A refusal the journal recorded as a denial: its stage and reason code.
    refusal: Option<(&'static str, String)>,
    /// For a call that was retried: how many attempts were made, and the first one's
    /// ticket.
    retried: Option<(u32, Uuid)>,
}

/// The cause of an [`Error`]. New kinds may be added: match with a wildcard arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An identifier is invalid.
    #[error(transparent)]
    Id(#[from] IdError),
    /// A request builder refused an invalid combination. Nothing was sent.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The guard refused the call. It was journaled; nothing was sent.
    #[error(transparent)]
    Denied(#[from] Denial),
    /// The manifest could not be loaded.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The audit journal failed outside a call (opening, closing, reading).
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The audit journal could not record the call (its intent, or its refusal), so the
    /// call was refused and nothing was sent.
    #[error(
        "the call was refused and nothing was sent: the audit journal could not record it: {0}"
    )]
    JournalRefused(AuditError),
    /// The request was sent (its intent is durably journaled) but its outcome could not be
    /// recorded. The reply is withheld; `source` says why (and what to fix).
    #[error(
        "the request was sent (ticket {ticket}, intent journaled) but its outcome could not be recorded: {source}"
    )]
    OutcomeNotRecorded {
        /// Our ticket for the call, as in its intent record.
        ticket: Uuid,
        /// Why the outcome could not be recorded.
        source: AuditError,
    },
    /// The transport failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The SOAP envelope of the reply could not be read, or was a fault.
    #[error(transparent)]
    Soap(#[from] SoapError),
    /// An SSDN reply reported an error.
    #[error(transparent)]
    Ssdn(#[from] SsdnError),
    /// A common-v3 reply reported an error.
    #[error(transparent)]
    V3(#[from] V3Error),
    /// A reply came with an HTTP status outside 2xx and is not a SOAP fault with 500: never
    /// a success, whatever its body (issue 12.6). `body` says what the body held.
    #[error(
        "BCSS answered HTTP {status}: {body}; a reply with a status outside 2xx is never a success"
    )]
    HttpStatus {
        /// The HTTP status.
        status: u16,
        /// What the body held (a well-formed reply, an error page...).
        body: String,
    },
    /// The clock cannot be trusted, so the call was refused before anything was sent.
    #[error(transparent)]
    Clock(#[from] ClockError),
    /// The call named no physical user (WHO). It was journaled as refused; nothing was
    /// sent.
    #[error("call refused: {0}")]
    MissingUser(String),
    /// The client is misconfigured (or, at a call, refused after the grant: see
    /// [`Error::is_denied`]).
    #[error("client configuration: {0}")]
    Config(String),
    /// A configuration file (`bcss.toml`) could not be used.
    #[error(transparent)]
    ConfigFile(#[from] ConfigError),
}

impl Error {
    /// The cause.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// The cause, by value (to take a [`TransportError`] or an [`AuditError`] out).
    pub fn into_kind(self) -> ErrorKind {
        self.inner.kind
    }

    /// Whether any byte of the request could have reached BCSS. Decisive after a write
    /// (a ManageAccess registration): `false` means BCSS cannot have acted on it, `true`
    /// that it may have (a reply came, or the transport failed after it may have sent).
    pub fn was_sent(&self) -> bool {
        self.inner.sent
    }

    /// Whether the same request may succeed later, and is safe to send again if it is not
    /// a write: BCSS said MSG00001, MSG00002 or MSG00020 ([`RETRYABLE_CODES`], in a
    /// common-v3 status or CBSSFault, an SSDN reason code, or the text of a SOAP fault), or
    /// the connection failed before any byte of the reply arrived (refused, a connect
    /// time-out, or closed or reset before the reply's headers: see
    /// [`TransportError::is_connection_failure`]). What a
    /// [`RetryPolicy`](crate::client::RetryPolicy) retries.
    pub fn is_retryable(&self) -> bool {
        match &self.inner.kind {
            ErrorKind::V3(e) => e.is_retryable(),
            ErrorKind::Ssdn(e) => e.reason_codes().iter().any(|c| is_retryable_code(c)),
            ErrorKind::Soap(SoapError::Fault(fault)) => {
                mentions_retryable_code(&fault.code) || mentions_retryable_code(&fault.string)
            }
            ErrorKind::Transport(e) => e.is_connection_failure(),
            _ => false,
        }
    }

    /// Whether BCSS answered that it has no data for the request, whatever the family: a
    /// common-v3 `NO_DATA_FOUND` or MSG00100, an SSDN `NO` whose reasons all mean "nothing
    /// found" ([`NO_DATA_REASON_CODES`](crate::ssdn::NO_DATA_REASON_CODES)), an
    /// IdentifyPerson search that found nobody.
    pub fn is_no_data(&self) -> bool {
        match &self.inner.kind {
            ErrorKind::V3(V3Error::NoData { .. }) => true,
            ErrorKind::Ssdn(e) => e.is_no_data(),
            _ => false,
        }
    }

    /// Whether the call was refused by bcss itself, with nothing sent, and the refusal
    /// journaled: by the guard ([`ErrorKind::Denied`]), or after the grant (the clock, the
    /// endpoint, the contact e-mail, the request's encoding, an organisation mismatch, a
    /// production client pointed at a stand-in). [`Error::code`] is then the reason code.
    pub fn is_denied(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::Denied(_))
            || matches!(self.inner.refusal, Some((stage, _)) if stage != "before_guard")
    }

    /// The code to quote: the BCSS status or reason code (`MSG00100`, `32007004`), the
    /// faultcode of a SOAP fault that is not a BCSS business error, or the reason code a
    /// refusal was journaled with (`purpose_not_authorized`, `organization_mismatch`...).
    pub fn code(&self) -> Option<&str> {
        if let Some((_, code)) = &self.inner.refusal {
            return Some(code);
        }
        match &self.inner.kind {
            ErrorKind::Denied(d) => Some(d.reason.code()),
            ErrorKind::V3(e) => e.code().map(|c| c.as_str()),
            ErrorKind::Ssdn(e) => e.code(),
            ErrorKind::Soap(SoapError::Fault(fault)) => Some(&fault.code),
            _ => None,
        }
    }

    /// Our ticket (UUID v7) for every call that reached the guard: the key of its records
    /// in the journal, to quote to support. For a call that was retried, the last
    /// attempt's.
    pub fn ticket(&self) -> Option<Uuid> {
        self.inner.ticket
    }

    /// The HTTP status of the reply, when its status line came: also for a reply whose
    /// body then failed (cut off, too large, too slow, not decodable).
    pub fn status(&self) -> Option<u16> {
        self.inner.status
    }

    /// The same error, for the call with this ticket.
    pub(crate) fn with_ticket(mut self, ticket: Uuid) -> Error {
        self.inner.ticket = Some(ticket);
        self
    }

    /// The same error, for a reply that came with this HTTP status.
    pub(crate) fn with_status(mut self, status: u16) -> Error {
        self.inner.status = Some(status);
        self
    }

    /// How many attempts the call made before it failed with this error: 1 unless a
    /// [`RetryPolicy`](crate::client::RetryPolicy) retried it, the first attempt
    /// included. Each attempt has its own ticket and its own records in the journal.
    /// `Display` says the last attempt's cause only, in the words its outcome record in
    /// the journal has; say the attempts beside it (as `bcss call` does).
    pub fn attempts(&self) -> u32 {
        self.inner.retried.map_or(1, |(n, _)| n)
    }

    /// The ticket of the call's first attempt: the same as [`ticket`](Error::ticket)
    /// unless the call was retried (then `ticket` is the last attempt's). Every later
    /// attempt's intent links to it (`attempt.first_ticket` in the journal).
    pub fn first_ticket(&self) -> Option<Uuid> {
        self.inner.retried.map(|(_, t)| t).or(self.inner.ticket)
    }

    /// The same error, as the last of `attempts` attempts, the first with `first_ticket`.
    pub(crate) fn after_attempts(mut self, attempts: u32, first_ticket: Uuid) -> Error {
        if attempts > 1 {
            self.inner.retried = Some((attempts, first_ticket));
        }
        self
    }

    /// The same error, noting whether the request may have left the process.
    pub(crate) fn sent(mut self, sent: bool) -> Error {
        self.inner.sent = sent;
        self
    }

    /// The same error, as a refusal journaled at `stage` with `code`.
    pub(crate) fn refused(mut self, stage: &'static str, code: impl Into<String>) -> Error {
        self.inner.refusal = Some((stage, code.into()));
        self
    }

    /// An [`ErrorKind::Config`] error.
    pub(crate) fn config(message: impl Into<String>) -> Error {
        ErrorKind::Config(message.into()).into()
    }

    /// An [`ErrorKind::JournalRefused`] error.
    pub(crate) fn journal_refused(source: AuditError) -> Error {
        ErrorKind::JournalRefused(source).into()
    }
}

/// Whether `code` is one of [`RETRYABLE_CODES`].
fn is_retryable_code(code: &str) -> bool {
    RETRYABLE_CODES.contains(&code.trim())
}

/// Whether `text` names one of [`RETRYABLE_CODES`] as a word (an SSDN fault says
/// `MSG00001: ...`).
fn mentions_retryable_code(text: &str) -> bool {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .any(is_retryable_code)
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                ticket: None,
                status: None,
                sent: false,
                refusal: None,
                retried: None,
            }),
        }
    }
}

macro_rules! from_cause {
    ($($t:ty),* $(,)?) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Error {
                ErrorKind::from(e).into()
            }
        }
    )*};
}

from_cause!(
    IdError,
    RequestError,
    Denial,
    ManifestError,
    AuditError,
    TransportError,
    SoapError,
    SsdnError,
    V3Error,
    ClockError,
    ConfigError,
);

/// At most 16 KiB, whatever the reply quoted: a longer message keeps its start and says
/// its full length (the reply itself is in the journal).
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        let mut bounded = crate::bounded::BoundedWriter::new(crate::bounded::MESSAGE_MAX);
        write!(bounded, "{}", self.inner.kind)?;
        f.write_str(&bounded.finish())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind);
        if let Some(ticket) = &self.inner.ticket {
            d.field("ticket", ticket);
        }
        if let Some(status) = &self.inner.status {
            d.field("status", status);
        }
        if let Some((stage, code)) = &self.inner.refusal {
            d.field("refused", &format_args!("{stage}: {code}"));
        }
        if let Some((attempts, first)) = &self.inner.retried {
            d.field("attempts", attempts);
            d.field("first_ticket", first);
        }
        d.field("sent", &self.inner.sent).finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.inner.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_one_pointer() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
        assert_eq!(
            std::mem::size_of::<Result<(), Error>>(),
            std::mem::size_of::<usize>()
        );
    }

    #[test]
    fn retryable_codes_are_words() {
        assert!(mentions_retryable_code(
            "MSG00001: BCSS temporarily unavailable"
        ));
        assert!(mentions_retryable_code("error MSG00020"));
        assert!(!mentions_retryable_code("MSG000011"));
        assert!(!mentions_retryable_code("MSG00003 unexpected"));
    }

    #[test]
    fn predicates_of_a_plain_error() {
        let e = Error::config("x");
        assert!(!e.was_sent() && !e.is_retryable() && !e.is_no_data() && !e.is_denied());
        assert_eq!(e.code(), None);
        let refused = Error::config("endpoint").refused("after_grant", "stand_in_endpoint");
        assert!(refused.is_denied());
        assert_eq!(refused.code(), Some("stand_in_endpoint"));
        let missing = Error::from(ErrorKind::MissingUser("who".into()))
            .refused("before_guard", "missing_user");
        assert!(!missing.is_denied());
        assert_eq!(missing.code(), Some("missing_user"));
    }
}
