//! [`HttpTransport`]: SOAP over HTTPS with reqwest and rustls (ring provider, no OpenSSL).
//!
//! - **HTTPS only**, except plain `http://` to a loopback address (127.0.0.0/8, `::1`,
//!   `localhost`) for local mocks; any other endpoint is refused by [`check_endpoint`]
//!   before a DNS lookup or connection is attempted. URLs with inline credentials are
//!   refused too.
//! - **Credentials**: HTTP Basic, user `E` + CBE number, password from an environment
//!   variable or a file ([`PasswordSource`]), never inline.
//! - **Certificates**: optional client certificate for mutual TLS, PEM or PKCS#12
//!   ([`ClientCertificate`]); Mozilla's roots plus any extra trusted CA.
//! - **Bounded**: connect and whole-call timeouts ([`DEFAULT_CONNECT_TIMEOUT`],
//!   [`DEFAULT_CALL_TIMEOUT`]); the reply is read chunk by chunk and abandoned as soon as
//!   it passes [`SendPermit::max_reply_bytes`](super::SendPermit::max_reply_bytes).
//! - **Uncompressed**: `Accept-Encoding: identity` is sent; a reply a proxy compressed
//!   anyway (gzip, deflate) is decompressed, the cap applying to the decompressed bytes;
//!   any other coding is a [`TransportError::ContentEncoding`] that names it.
//! - **Time-outs that say where**: `connect`, `call` (no reply headers yet) or `reply`
//!   (the headers arrived, the body did not finish), see [`TransportError::Timeout`].
//! - **No surprises**: redirects are not followed; no proxy unless configured
//!   ([`HttpTransportBuilder::proxy`]); secrets never appear in `Debug` or errors.
//! - **The mock's "no fixture"**: a reply carrying the mock BCSS's
//!   `X-Bcss-Mock: no-fixture` header is [`TransportError::NoFixture`] with the mock's
//!   explanation, never a reply from BCSS.
//!
//! A transport must be used inside a Tokio runtime with its time driver enabled (as
//! reqwest requires).

mod builder;
mod coding;
mod endpoint;
mod errors;
mod secret;
mod tls;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::{
    ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderValue,
};
use tokio::time::{Instant, timeout_at};

pub use builder::{DEFAULT_CALL_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, HttpTransportBuilder};
pub use endpoint::check_endpoint;
pub(crate) use endpoint::is_loopback_host;
pub use secret::PasswordSource;
pub use tls::ClientCertificate;

use super::{BoxFuture, SendPermit, Transport, TransportError, TransportResponse};
use errors::{classify, classify_send};

/// The `User-Agent` sent with every call: `bcss/` and the crate version.
pub const USER_AGENT: &str = concat!("bcss/", env!("CARGO_PKG_VERSION"));

/// The `Content-Type` of a SOAP 1.1 request.
pub const SOAP_CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// The largest buffer reserved up front for a reply, whatever its announced length.
const INITIAL_BODY_CAPACITY: usize = 64 * 1024;

/// Sends SOAP envelopes over HTTPS. Build one with [`HttpTransport::builder`]; it is
/// cheap to share (`Arc`) and reuses connections.
///
/// `Debug` shows the configuration (user, certificate files, timeouts) and never the
/// password or keys.
pub struct HttpTransport {
    client: reqwest::Client,
    authorization: Option<HeaderValue>,
    basic_auth_user: Option<String>,
    client_certificate: Option<ClientCertificate>,
    extra_root_cas: Vec<PathBuf>,
    connect_timeout: Duration,
    call_timeout: Duration,
    proxy: Option<String>,
    /// Endpoints that passed [`check_endpoint`], parsed (a client calls a few, often).
    checked: endpoint::Checked,
}

impl fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTransport")
            .field("basic_auth_user", &self.basic_auth_user)
            .field(
                "basic_auth_password",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .field("client_certificate", &self.client_certificate)
            .field("extra_root_cas", &self.extra_root_cas)
            .field("connect_timeout", &self.connect_timeout)
            .field("call_timeout", &self.call_timeout)
            .field("proxy", &self.proxy)
            .finish_non_exhaustive()
    }
}

impl HttpTransport {
    /// A builder with the defaults (see [`HttpTransportBuilder`]).
    pub fn builder() -> HttpTransportBuilder {
        HttpTransportBuilder::new()
    }

    /// The connect timeout in force.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The whole-call timeout in force.
    pub fn call_timeout(&self) -> Duration {
        self.call_timeout
    }

    /// Send and read the reply, by `deadline`.
    async fn exchange(
        &self,
        url: reqwest::Url,
        request: &SendPermit<'_>,
        deadline: Instant,
    ) -> Result<TransportResponse, TransportError> {
        let endpoint = request.endpoint();
        let soap_action = soap_action_header(request.soap_action()).ok_or_else(|| TransportError::Http {
            endpoint: endpoint.to_owned(),
            reason: "the SOAPAction contains characters not allowed in an HTTP header; nothing was sent"
                .to_owned(),
            status: None,
        })?;
        let mut call = self
            .client
            .post(url)
            .header(CONTENT_TYPE, SOAP_CONTENT_TYPE)
            .header(ACCEPT_ENCODING, "identity")
            .header("SOAPAction", soap_action)
            .body(request.body().to_vec());
        if let Some(authorization) = &self.authorization {
            call = call.header(AUTHORIZATION, authorization.clone());
        }
        let response = timeout_at(deadline, call.send())
            .await
            .map_err(|_| self.timed_out(endpoint, "call"))?
            .map_err(|e| classify_send(&e, endpoint, self.connect_timeout))?;
        let status = response.status().as_u16();
        // From here on the status line has arrived: every failure says so.
        self.read_reply(response, request, deadline)
            .await
            .map_err(|e| e.after_status(status))
    }

    fn timed_out(&self, endpoint: &str, phase: &'static str) -> TransportError {
        TransportError::Timeout {
            endpoint: endpoint.to_owned(),
            phase,
            after: self.call_timeout,
            status: None,
        }
    }

    /// Reads the body of `response` (whose status and headers arrived) by `deadline`,
    /// bounded by the permit's reply cap, and undoes its content-coding.
    async fn read_reply(
        &self,
        mut response: reqwest::Response,
        request: &SendPermit<'_>,
        deadline: Instant,
    ) -> Result<TransportResponse, TransportError> {
        let endpoint = request.endpoint();
        let too_large = || TransportError::ReplyTooLarge {
            endpoint: endpoint.to_owned(),
            limit: request.max_reply_bytes(),
            status: None,
        };
        let announced = response.content_length();
        if announced.is_some_and(|len| len > request.max_reply_bytes() as u64) {
            return Err(too_large());
        }
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let no_fixture = response
            .headers()
            .get(crate::fixture::NO_FIXTURE_HEADER)
            .is_some_and(|v| v.as_bytes() == crate::fixture::NO_FIXTURE_HEADER_VALUE.as_bytes());
        let encoding = content_encoding(response.headers());
        // An unsupported coding is refused before its body is read.
        let codings = match &encoding {
            None => Vec::new(),
            Some(header) => coding::codings(header)
                .map_err(|e| coding_error(e, endpoint, header, request.max_reply_bytes()))?,
        };
        let capacity = announced.map_or(INITIAL_BODY_CAPACITY as u64, |len| {
            len.min(INITIAL_BODY_CAPACITY as u64)
        });
        let mut body =
            Vec::with_capacity(usize::try_from(capacity).unwrap_or(INITIAL_BODY_CAPACITY));
        while let Some(chunk) = timeout_at(deadline, response.chunk())
            .await
            .map_err(|_| self.timed_out(endpoint, "reply"))?
            .map_err(|e| classify(&e, endpoint, self.connect_timeout))?
        {
            if chunk.len() > request.max_reply_bytes().saturating_sub(body.len()) {
                // Dropping `response` closes the connection: the rest is never read.
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        if !codings.is_empty() {
            let compressed = body.len();
            body = coding::decode(body, &codings, request.max_reply_bytes()).map_err(|e| {
                coding_error(
                    e,
                    endpoint,
                    encoding.as_deref().unwrap_or_default(),
                    request.max_reply_bytes(),
                )
            })?;
            tracing::debug!(compressed, bytes = body.len(), encoding = ?encoding, "reply decompressed");
        }
        tracing::debug!(status, bytes = body.len(), "reply received");
        if no_fixture {
            // The mock BCSS has no fixture for this request: not an answer from BCSS.
            return Err(TransportError::NoFixture(
                crate::fixture::no_fixture_message(&body).unwrap_or_else(|| {
                    format!("the mock BCSS at {endpoint} has no fixture for this request")
                }),
            ));
        }
        Ok(TransportResponse {
            status,
            content_type,
            body,
        })
    }
}

/// The `Content-Encoding` header(s), joined, when present.
fn content_encoding(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(CONTENT_ENCODING)
        .iter()
        .map(|v| v.to_str().unwrap_or("(not ASCII)"))
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

fn coding_error(
    e: coding::CodingError,
    endpoint: &str,
    header: &str,
    limit: usize,
) -> TransportError {
    let (encoding, reason) = match e {
        coding::CodingError::TooLarge => {
            return TransportError::ReplyTooLarge {
                endpoint: endpoint.to_owned(),
                limit,
                status: None,
            };
        }
        coding::CodingError::Unsupported(coding) => (
            coding,
            "not supported (bcss asks for identity and can undo gzip and deflate; \
             check the proxy between bcss and BCSS)"
                .to_owned(),
        ),
        coding::CodingError::Corrupt(why) => (
            header.chars().take(40).collect(),
            format!("the body is not valid in this coding ({why})"),
        ),
    };
    TransportError::ContentEncoding {
        endpoint: endpoint.to_owned(),
        encoding,
        reason,
        status: None,
    }
}

impl Transport for HttpTransport {
    fn send<'a>(
        &'a self,
        permit: &'a SendPermit<'_>,
    ) -> BoxFuture<'a, Result<TransportResponse, TransportError>> {
        Box::pin(async move {
            // The policy is checked before anything touches the network.
            let url = self.checked.check(permit.endpoint())?;
            let deadline = Instant::now() + self.call_timeout;
            self.exchange(url, permit, deadline).await
        })
    }
}

/// `"action"`, quoted as SOAP 1.1 requires, or `None` if the action cannot be carried
/// in a header (quotes, backslashes, control or non-ASCII characters).
fn soap_action_header(action: &str) -> Option<HeaderValue> {
    if action
        .chars()
        .any(|c| !(' '..='~').contains(&c) || c == '"' || c == '\\')
    {
        return None;
    }
    HeaderValue::from_str(&format!("\"{action}\"")).ok()
}

#[cfg(test)]
mod tests;
