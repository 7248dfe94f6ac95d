//! Moving request bytes to BCSS and reply bytes back.
//!
//! [`Transport`] is the seam between the client's single call path and the wire: the
//! HTTP transport (`http`, reqwest + rustls) and the replay of recorded fixtures
//! (`replay`) implement it. A transport never parses business content.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use uuid::Uuid;

use crate::audit::Appended;
use crate::environment::Environment;
use crate::services::Service;

pub mod http;
pub mod replay;

/// A boxed future, as returned by [`Transport::send`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The one value that lets a transport send: one granted, journaled request.
///
/// Only the client's call path builds a permit, in exactly one place: after the guard
/// granted the call and after the call's intent, holding these exact request bytes, was
/// durably appended to the journal (the permit keeps where: [`SendPermit::intent`]). A
/// [`Transport`] sends only what a permit carries, so no byte can leave the process by
/// another path. Its fields are private and it has no public constructor, so code outside
/// this crate cannot make one, neither with a struct literal:
///
/// ```compile_fail
/// use bcss::transport::SendPermit;
/// fn forge<'a>(body: &'a [u8]) -> SendPermit<'a> {
///     SendPermit { body, max_reply_bytes: 1024 }
/// }
/// ```
///
/// nor with a constructor (it is `pub(crate)`):
///
/// ```compile_fail
/// use bcss::Environment;
/// use bcss::audit::Appended;
/// use bcss::transport::SendPermit;
/// let service = bcss::services::test_connection::service();
/// let intent = Appended { sequence: 1, hash: [0; 32] };
/// let _permit = SendPermit::new(
///     Environment::Test, service, "sendTestMessage", "https://example.invalid/",
///     "urn:x", b"<x/>", 1024, uuid::Uuid::nil(), intent,
/// );
/// ```
///
/// nor by cloning one a transport was given (it is neither `Clone` nor `Copy`):
///
/// ```compile_fail
/// use bcss::transport::SendPermit;
/// fn keep<'a>(permit: &SendPermit<'a>) -> SendPermit<'a> {
///     permit.clone()
/// }
/// ```
pub struct SendPermit<'a> {
    environment: Environment,
    service: &'a Service,
    operation: &'a str,
    endpoint: &'a str,
    soap_action: &'a str,
    body: &'a [u8],
    max_reply_bytes: usize,
    ticket: Uuid,
    intent: Appended,
}

impl<'a> SendPermit<'a> {
    /// Only the client's call path calls this (`client::Client::call`, its step
    /// `record_intent`), once the intent holding `body` is durable.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        environment: Environment,
        service: &'a Service,
        operation: &'a str,
        endpoint: &'a str,
        soap_action: &'a str,
        body: &'a [u8],
        max_reply_bytes: usize,
        ticket: Uuid,
        intent: Appended,
    ) -> SendPermit<'a> {
        SendPermit {
            environment,
            service,
            operation,
            endpoint,
            soap_action,
            body,
            max_reply_bytes,
            ticket,
            intent,
        }
    }

    /// The environment the call is for.
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// The service called (its catalogue entry).
    pub fn service(&self) -> &'a Service {
        self.service
    }

    /// The operation called.
    pub fn operation(&self) -> &'a str {
        self.operation
    }

    /// The resolved endpoint URL.
    pub fn endpoint(&self) -> &'a str {
        self.endpoint
    }

    /// The SOAPAction header value.
    pub fn soap_action(&self) -> &'a str {
        self.soap_action
    }

    /// The SOAP envelope to send, byte for byte as the intent record holds it.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// The largest reply body accepted, in bytes; a longer reply is cut off with
    /// [`TransportError::ReplyTooLarge`] without being held in memory.
    pub fn max_reply_bytes(&self) -> usize {
        self.max_reply_bytes
    }

    /// Our ticket for the call (UUID v7), as in its journal records.
    pub fn ticket(&self) -> Uuid {
        self.ticket
    }

    /// Where the call's intent landed in the journal (sequence and chain hash).
    pub fn intent(&self) -> Appended {
        self.intent
    }
}

/// Names the call; never shows the request bytes (they hold personal data).
impl fmt::Debug for SendPermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendPermit")
            .field("environment", &self.environment)
            .field("service", &self.service)
            .field("operation", &self.operation)
            .field("endpoint", &self.endpoint)
            .field("soap_action", &self.soap_action)
            .field("body_bytes", &self.body.len())
            .field("max_reply_bytes", &self.max_reply_bytes)
            .field("ticket", &self.ticket)
            .field("intent", &self.intent.sequence)
            .finish()
    }
}

/// A reply as the transport received it. Any HTTP status is returned: SOAP 1.1 faults
/// come with HTTP 500, so interpreting the status is the client's job.
#[derive(Debug, Clone)]
pub struct TransportResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body, at most `max_reply_bytes` long, with any gzip or deflate
    /// `Content-Encoding` undone (the cap applies after decompression too).
    pub body: Vec<u8>,
}

/// Why a transport could not deliver a request or receive its reply.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The endpoint URL is not acceptable (malformed, or plain `http://` to a host that is
    /// not a loopback address). Nothing was sent.
    #[error("endpoint {endpoint} refused: {reason}")]
    Endpoint {
        /// The endpoint.
        endpoint: String,
        /// Why, and what to do.
        reason: String,
    },
    /// The transport's configuration is unusable (unreadable certificate, missing
    /// password variable...). Secrets are never quoted.
    #[error("transport configuration: {0}")]
    Config(String),
    /// Could not connect.
    #[error("could not connect to {endpoint}: {reason}")]
    Connect {
        /// The endpoint.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// The TLS handshake failed (untrusted server certificate, client certificate
    /// required or refused...).
    #[error("TLS handshake with {endpoint} failed: {reason}")]
    Tls {
        /// The endpoint.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// The connect or whole-call timeout elapsed.
    #[error(
        "{endpoint} did not answer within {} ({phase}){}",
        DisplayDuration(*after),
        timeout_hint(phase)
    )]
    Timeout {
        /// The endpoint.
        endpoint: String,
        /// `connect` (no connection), `call` (connected, no reply headers yet) or
        /// `reply` (the status and headers arrived, the body did not finish in time).
        phase: &'static str,
        /// The timeout that elapsed (the connect timeout in phase `connect`, the
        /// whole-call timeout otherwise).
        after: Duration,
        /// The HTTP status, when the reply's status line had arrived (phase `reply`).
        status: Option<u16>,
    },
    /// The connection was closed or reset after the request was written and before the
    /// reply's status and headers arrived: the request may have reached the server (it
    /// may have acted on it), no answer came back. Retryable for a read
    /// ([`TransportError::is_connection_failure`]); after a write, the journal and BCSS
    /// must be checked before anything is sent again.
    #[error(
        "{endpoint} closed the connection before any reply arrived: {reason} (the request \
         may have reached it)"
    )]
    Closed {
        /// The endpoint.
        endpoint: String,
        /// Why, as the connection reported it.
        reason: String,
    },
    /// The reply body was longer than the cap.
    #[error("reply from {endpoint} exceeds the {limit}-byte cap")]
    ReplyTooLarge {
        /// The endpoint.
        endpoint: String,
        /// The cap.
        limit: usize,
        /// The HTTP status of the reply that was refused, when its status line arrived.
        status: Option<u16>,
    },
    /// The reply's `Content-Encoding` could not be undone: a coding other than gzip and
    /// deflate (bcss asks for `identity`, so only a proxy should compress), or a body
    /// that is not valid in its coding.
    #[error("reply from {endpoint} has Content-Encoding {encoding:?}: {reason}")]
    ContentEncoding {
        /// The endpoint.
        endpoint: String,
        /// The coding, as the header names it.
        encoding: String,
        /// Why it could not be undone.
        reason: String,
        /// The HTTP status of the reply.
        status: Option<u16>,
    },
    /// Any other I/O or protocol failure.
    #[error("HTTP exchange with {endpoint} failed: {reason}")]
    Http {
        /// The endpoint.
        endpoint: String,
        /// Why.
        reason: String,
        /// The HTTP status, when the failure came after the reply's status line (a body
        /// cut off mid-way).
        status: Option<u16>,
    },
    /// A replay transport found no fixture for the request (it never falls through to the
    /// network), or the mock BCSS answered that it has none (its `X-Bcss-Mock: no-fixture`
    /// reply). The message names the closest fixture and the first difference, SSINs
    /// masked.
    #[error("no fixture matches this request: {0}")]
    NoFixture(String),
}

impl TransportError {
    /// Whether any byte of the request may have reached the server. `false` only when the
    /// failure is known to come before sending: a refused endpoint, an unusable
    /// configuration, no connection (refused, or a connect time-out), a failed TLS
    /// handshake, or no fixture (a replay or the mock: BCSS was never involved).
    pub fn may_have_been_sent(&self) -> bool {
        !matches!(
            self,
            TransportError::Endpoint { .. }
                | TransportError::Config(_)
                | TransportError::Connect { .. }
                | TransportError::Tls { .. }
                | TransportError::NoFixture(_)
                | TransportError::Timeout {
                    phase: "connect",
                    ..
                }
        )
    }

    /// Whether this is a connection failure before any byte of the reply arrived: refused
    /// or timed-out connection (nothing sent), or a connection closed or reset before the
    /// reply's headers ([`TransportError::Closed`]: the request may have been delivered).
    /// The same request may succeed later; it is safe to send again only if it is not a
    /// write, which is what [`RetryPolicy`](crate::client::RetryPolicy) checks.
    pub fn is_connection_failure(&self) -> bool {
        matches!(
            self,
            TransportError::Connect { .. }
                | TransportError::Closed { .. }
                | TransportError::Timeout {
                    phase: "connect",
                    ..
                }
        )
    }

    /// The HTTP status of the reply, when its status line arrived before the failure (a
    /// body cut off, too large, not decodable or too slow). `None` when no reply began.
    pub fn status(&self) -> Option<u16> {
        match self {
            TransportError::Timeout { status, .. }
            | TransportError::ReplyTooLarge { status, .. }
            | TransportError::ContentEncoding { status, .. }
            | TransportError::Http { status, .. } => *status,
            _ => None,
        }
    }

    /// The same error, noting that the reply's status line (`status`) had arrived.
    pub(crate) fn after_status(mut self, reply_status: u16) -> Self {
        match &mut self {
            TransportError::Timeout { status, .. }
            | TransportError::ReplyTooLarge { status, .. }
            | TransportError::ContentEncoding { status, .. }
            | TransportError::Http { status, .. } => *status = Some(reply_status),
            _ => {}
        }
        self
    }
}

/// A duration as an error message says it: `600 ms`, `30 s`, `1.5 s`.
struct DisplayDuration(Duration);

impl fmt::Display for DisplayDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d < Duration::from_secs(1) {
            write!(f, "{} ms", d.as_millis())
        } else if d.subsec_millis() == 0 {
            write!(f, "{} s", d.as_secs())
        } else {
            write!(f, "{:.1} s", d.as_secs_f64())
        }
    }
}

/// What a time-out in `phase` suggests. Once the reply's headers have arrived, the
/// server has accepted the call: an unregistered source IP is ruled out.
fn timeout_hint(phase: &str) -> &'static str {
    match phase {
        "reply" => {
            ": the status and headers arrived, then the body did not finish in time (it stalled \
             or trickled: a slow server or network)"
        }
        _ => "; an unregistered source IP also shows as a time-out",
    }
}

/// Sends a SOAP envelope and returns the reply.
///
/// The only way to send is [`Transport::send`], and its only argument is a [`SendPermit`],
/// which only the client's call path can build: implementations (HTTP, replay, a test
/// double) can be written outside this crate, but nothing outside the client can make one
/// send.
pub trait Transport: Send + Sync + fmt::Debug {
    /// Send one granted, journaled request. Implementations send nothing before this is
    /// called, and send `permit.body()` exactly as given.
    fn send<'a>(
        &'a self,
        permit: &'a SendPermit<'_>,
    ) -> BoxFuture<'a, Result<TransportResponse, TransportError>>;

    /// What this transport answers with when it is not BCSS itself: `Some("the replay
    /// transport")` for a transport that answers from recorded fixtures. A production
    /// client refuses such a transport unless it is configured for a drill. `None` (the
    /// default): the transport reaches the endpoint it is given.
    fn stand_in(&self) -> Option<&'static str> {
        None
    }
}
