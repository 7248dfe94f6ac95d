//! Moving request bytes to BCSS and reply bytes back.
//!
//! [`Transport`] is the seam between the client's single call path and the wire: the
//! HTTP transport (`http`, reqwest + rustls) and the replay of recorded fixtures
//! (`replay`) implement it. A transport never parses business content.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use crate::environment::Environment;
use crate::services::Service;

pub mod http;
pub mod replay;

/// A boxed future, as returned by [`Transport::send`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One request as the transport sees it. The client built and journaled `body` before
/// handing it over.
#[derive(Debug, Clone, Copy)]
pub struct TransportRequest<'a> {
    /// The environment the call is for.
    pub environment: Environment,
    /// The service called.
    pub service: &'a Service,
    /// The operation called.
    pub operation: &'a str,
    /// The resolved endpoint URL.
    pub endpoint: &'a str,
    /// The SOAPAction header value.
    pub soap_action: &'a str,
    /// The SOAP envelope.
    pub body: &'a [u8],
    /// The largest reply body accepted; a longer reply is cut off with
    /// [`TransportError::ReplyTooLarge`] without being held in memory.
    pub max_reply_bytes: usize,
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
        "{endpoint} did not answer within {seconds} s ({phase}){}",
        timeout_hint(phase)
    )]
    Timeout {
        /// The endpoint.
        endpoint: String,
        /// `connect` (no connection), `call` (connected, no reply headers yet) or
        /// `reply` (the status and headers arrived, the body did not finish in time).
        phase: &'static str,
        /// The timeout that elapsed.
        seconds: u64,
    },
    /// The reply body was longer than the cap.
    #[error("reply from {endpoint} exceeds the {limit}-byte cap")]
    ReplyTooLarge {
        /// The endpoint.
        endpoint: String,
        /// The cap.
        limit: usize,
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
    },
    /// Any other I/O or protocol failure.
    #[error("HTTP exchange with {endpoint} failed: {reason}")]
    Http {
        /// The endpoint.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// A replay transport found no fixture for the request (it never falls through to the
    /// network), or the mock BCSS answered that it has none (its `X-Bcss-Mock: no-fixture`
    /// reply). The message names the closest fixture and the first difference, SSINs
    /// masked.
    #[error("no fixture matches this request: {0}")]
    NoFixture(String),
}

/// What a time-out in `phase` suggests. Once the reply's headers have arrived, the
/// server has accepted the call: an unregistered source IP is ruled out.
fn timeout_hint(phase: &str) -> &'static str {
    match phase {
        "reply" => {
            ": the status and headers arrived, then the body stalled (a slow server or network)"
        }
        _ => "; an unregistered source IP also shows as a time-out",
    }
}

/// Sends a SOAP envelope and returns the reply.
pub trait Transport: Send + Sync + fmt::Debug {
    /// Send one request. Implementations send nothing before this is called, and send
    /// `request.body` exactly as given.
    fn send<'a>(
        &'a self,
        request: TransportRequest<'a>,
    ) -> BoxFuture<'a, Result<TransportResponse, TransportError>>;
}
