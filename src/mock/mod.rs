//! The mock BCSS: a local HTTP/1.1 server that serves recorded fixtures on the same paths
//! as the real environments, so that an application's test configuration can point at
//! it.
//!
//! - **Loopback only** by default: [`MockServer::start`] refuses to listen on any other
//!   address unless [`MockConfig::allow_non_loopback`] is set.
//! - **Same paths** as BCSS: the SSDN connector
//!   (`/connectors/webservice/KSZBCSSWebServiceConnectorPort`) and the common-v3
//!   `/SOA4520/...` endpoints ([`mod@routes`]). A request is dispatched by path and
//!   SOAPAction, then matched to a fixture as the replay transport does
//!   ([`crate::fixture::matching`]).
//! - **Simulation** per fixture: a slow reply, an HTTP error status, MSG00001
//!   (temporarily unavailable), a SOAP fault, a body cut short or a connection dropped
//!   mid-body ([`crate::fixture::Behaviour`]).
//! - **One environment first**: when the same request was recorded in several
//!   environments, the fixture of [`MockConfig::environment`] is served (without one,
//!   the first in file order).
//! - An **unknown request** gets a SOAP fault (HTTP 500) with the fault code
//!   [`NO_FIXTURE_FAULT_CODE`] and the header `X-Bcss-Mock: no-fixture`
//!   ([`NO_FIXTURE_HEADER`]), whose `faultstring` names the closest fixture and the first
//!   difference (SSINs masked).
//!   The HTTP transport turns it into [`TransportError::NoFixture`], never a BCSS fault.
//!
//! [`TransportError::NoFixture`]: crate::transport::TransportError::NoFixture
//! - **Bounded**: request bodies above [`MockConfig::max_request_bytes`] get HTTP 413;
//!   headers must arrive within 30 s; at most [`MAX_CONNECTIONS`] connections at once.
//! - **Stoppable**: the server runs in one task that owns every connection;
//!   [`MockHandle::shutdown`] (or dropping the handle) stops it.
//!
//! ```no_run
//! use bcss::mock::{MockConfig, MockServer};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let mock = MockServer::start(MockConfig::from_dir("fixtures/exchanges")?).await?;
//! println!("mock BCSS at {}", mock.base_url());
//! mock.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use crate::environment::Environment;
use crate::fixture::{
    FixtureError, FixtureSet, Query, ServedReply, TruncateMode, no_fixture_fault,
};
use crate::services::{Catalogue, Service};
use crate::xml::Limits;

pub mod routes;

pub use crate::fixture::{NO_FIXTURE_FAULT_CODE, NO_FIXTURE_HEADER, NO_FIXTURE_HEADER_VALUE};
pub use routes::{Route, path_of, routes, routes_of};

/// The default cap on a request body: 4 MiB.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// The most connections served at once; more are closed on arrival.
pub const MAX_CONNECTIONS: usize = 256;

/// How long a client may take to send its request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

type Body = BoxBody<Bytes, std::io::Error>;

/// How to run the mock.
#[derive(Debug, Clone)]
pub struct MockConfig {
    fixtures: FixtureSet,
    catalogue: Catalogue,
    listen: SocketAddr,
    allow_non_loopback: bool,
    max_request_bytes: usize,
    simulate_delays: bool,
    environment: Option<Environment>,
}

impl MockConfig {
    /// Serve `fixtures` on 127.0.0.1, on a free port.
    pub fn new(fixtures: FixtureSet) -> MockConfig {
        MockConfig {
            fixtures,
            catalogue: Catalogue::builtin().clone(),
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            allow_non_loopback: false,
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            simulate_delays: true,
            environment: None,
        }
    }

    /// Serve the fixtures of a directory (see [`FixtureSet::load`]).
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<MockConfig, FixtureError> {
        Ok(MockConfig::new(FixtureSet::load(dir.as_ref())?))
    }

    /// Serve the fixtures of a directory for the services of `catalogue` (the built-in
    /// ones and those a `bcss.toml` configures, see
    /// [`Config::service_catalogue`](crate::config::Config::service_catalogue)): the
    /// fixtures may name any of them, and the mock serves each on the path of its
    /// endpoint ([`routes_of`]).
    pub fn from_dir_in(
        dir: impl AsRef<Path>,
        catalogue: Catalogue,
    ) -> Result<MockConfig, FixtureError> {
        let fixtures = FixtureSet::load_in(dir.as_ref(), &catalogue)?;
        Ok(MockConfig::new(fixtures).catalogue(catalogue))
    }

    /// The services served, each on its path (default: the built-in catalogue). A
    /// fixture of a service the catalogue does not list is never served.
    pub fn catalogue(mut self, catalogue: Catalogue) -> MockConfig {
        self.catalogue = catalogue;
        self
    }

    /// Listen on this address (port 0: a free port).
    pub fn listen(mut self, addr: SocketAddr) -> MockConfig {
        self.listen = addr;
        self
    }

    /// Allow listening on an address that is not loopback. The fixtures are shaped like
    /// personal data and the mock has no authentication: think twice.
    pub fn allow_non_loopback(mut self, allow: bool) -> MockConfig {
        self.allow_non_loopback = allow;
        self
    }

    /// The largest request body accepted (larger ones get HTTP 413).
    pub fn max_request_bytes(mut self, bytes: usize) -> MockConfig {
        self.max_request_bytes = bytes;
        self
    }

    /// Whether fixtures' `delay_ms` is slept (default true).
    pub fn simulate_delays(mut self, yes: bool) -> MockConfig {
        self.simulate_delays = yes;
        self
    }

    /// Serve the fixtures recorded in this environment first: when the same request was
    /// recorded in test and in acceptance, the mock answers as that environment did
    /// (default: none preferred, the first fixture in file order answers). Fixtures of
    /// other environments still answer the requests this one has no fixture for.
    pub fn environment(mut self, environment: Option<Environment>) -> MockConfig {
        self.environment = environment;
        self
    }

    /// The fixtures served.
    pub fn fixtures(&self) -> &FixtureSet {
        &self.fixtures
    }

    /// The routes served: one per endpoint path of the catalogue's services.
    pub fn routes(&self) -> Vec<Route> {
        routes_of(&self.catalogue)
    }
}

/// The mock could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    /// The address is not loopback and [`MockConfig::allow_non_loopback`] is not set.
    #[error(
        "refusing to listen on {addr}: not a loopback address; the mock has no authentication and is meant for this machine (to override, pass --allow-non-loopback, or set MockConfig::allow_non_loopback)"
    )]
    NonLoopback {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The fixtures could not be loaded.
    #[error(transparent)]
    Fixtures(#[from] FixtureError),
}

/// Counters of what the mock did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MockStats {
    /// Requests answered from a fixture.
    pub served: u64,
    /// Requests no fixture matched (answered with a SOAP fault).
    pub unmatched: u64,
    /// Requests refused before matching (unknown path, method, size, SOAPAction).
    pub refused: u64,
}

#[derive(Debug, Default)]
struct Counters {
    served: AtomicU64,
    unmatched: AtomicU64,
    refused: AtomicU64,
}

#[derive(Debug)]
struct State {
    fixtures: FixtureSet,
    routes: Vec<Route>,
    max_request_bytes: usize,
    simulate_delays: bool,
    environment: Option<Environment>,
    limits: Limits,
    counters: Counters,
}

/// Starts mock servers.
#[derive(Debug)]
pub struct MockServer;

impl MockServer {
    /// Bind and start serving. The server runs until [`MockHandle::shutdown`] or until
    /// the handle is dropped.
    pub async fn start(config: MockConfig) -> Result<MockHandle, MockError> {
        if !config.listen.ip().is_loopback() && !config.allow_non_loopback {
            return Err(MockError::NonLoopback {
                addr: config.listen,
            });
        }
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| MockError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| MockError::Bind {
            addr: config.listen,
            source,
        })?;
        let state = Arc::new(State {
            fixtures: config.fixtures,
            routes: routes_of(&config.catalogue),
            max_request_bytes: config.max_request_bytes,
            simulate_delays: config.simulate_delays,
            environment: config.environment,
            limits: Limits::default(),
            counters: Counters::default(),
        });
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&state), stopped));
        tracing::info!(%addr, fixtures = state.fixtures.len(), "mock BCSS listening");
        Ok(MockHandle {
            addr,
            stop: Some(stop),
            task: Some(task),
            state,
        })
    }
}

/// A running mock. Dropping it stops the server too (without waiting).
#[derive(Debug)]
pub struct MockHandle {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    state: Arc<State>,
}

impl MockHandle {
    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`: the base URL to give a client for an environment.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The full URL of a service's endpoint on the mock.
    pub fn url(&self, service: &Service) -> String {
        format!("{}{}", self.base_url(), path_of(service))
    }

    /// How many fixtures are served.
    pub fn fixture_count(&self) -> usize {
        self.state.fixtures.len()
    }

    /// The environment whose fixtures are served first, if one is.
    pub fn environment(&self) -> Option<Environment> {
        self.state.environment
    }

    /// What the mock did so far.
    pub fn stats(&self) -> MockStats {
        let c = &self.state.counters;
        MockStats {
            served: c.served.load(Ordering::Relaxed),
            unmatched: c.unmatched.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
        }
    }

    /// Stop accepting, close every connection (replies in progress are abandoned) and
    /// wait until the server's task has ended.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>, mut stopped: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    if connections.len() >= MAX_CONNECTIONS {
                        drop(stream);
                        continue;
                    }
                    let state = Arc::clone(&state);
                    connections.spawn(async move {
                        let service = hyper::service::service_fn(move |req| {
                            let state = Arc::clone(&state);
                            async move { Ok::<_, Infallible>(handle(&state, req).await) }
                        });
                        let mut builder = hyper::server::conn::http1::Builder::new();
                        builder.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
                        if let Err(e) = builder.serve_connection(TokioIo::new(stream), service).await {
                            tracing::debug!(error = %e, "mock connection ended with an error");
                        }
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "mock could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    connections.shutdown().await;
}

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

fn text_response(status: StatusCode, text: String) -> Response<Body> {
    let mut r = Response::new(full(text));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn soap_response(status: StatusCode, envelope: Vec<u8>) -> Response<Body> {
    let mut r = Response::new(full(envelope));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(crate::fixture::SOAP_CONTENT_TYPE),
    );
    r
}

fn served(reply: ServedReply) -> Response<Body> {
    let full_len = reply.body.len();
    let body = match reply.truncation {
        None => full(reply.body),
        Some((after, TruncateMode::CutBody)) => {
            let mut b = reply.body;
            b.truncate(after);
            full(b)
        }
        Some((after, TruncateMode::DropConnection)) => {
            let first = Bytes::copy_from_slice(reply.body.get(..after).unwrap_or_default());
            let head: Result<Frame<Bytes>, std::io::Error> = Ok(Frame::data(first));
            // The drop comes a moment later, so that the status line, the headers and the
            // first bytes are flushed before it, as when a real connection breaks
            // mid-body (an error in the same poll would abort before anything is written).
            let drop = futures_util::stream::once(async {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "connection dropped (simulated by the fixture)",
                ))
            });
            let frames = futures_util::StreamExt::chain(futures_util::stream::iter([head]), drop);
            BoxBody::new(StreamBody::new(frames))
        }
    };
    let mut r = Response::new(body);
    *r.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(ct) = HeaderValue::from_str(&reply.content_type) {
        r.headers_mut().insert(CONTENT_TYPE, ct);
    }
    if matches!(reply.truncation, Some((_, TruncateMode::DropConnection))) {
        r.headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(full_len as u64));
    }
    r
}

fn index(state: &State) -> String {
    let mut out = format!(
        "bcss mock: {} fixtures. POST SOAP requests to:\n",
        state.fixtures.len()
    );
    for r in &state.routes {
        let names: Vec<&str> = r.services.iter().map(|s| s.name()).collect();
        out.push_str(&format!("  {}  ({})\n", r.path, names.join(", ")));
    }
    out
}

async fn handle(state: &State, req: Request<Incoming>) -> Response<Body> {
    let counters = &state.counters;
    let refuse = |status: StatusCode, text: String| {
        counters.refused.fetch_add(1, Ordering::Relaxed);
        text_response(status, text)
    };
    let path = req.uri().path().to_string();
    if path == "/" && req.method() == Method::GET {
        return text_response(StatusCode::OK, index(state));
    }
    let Some(route) = state.routes.iter().find(|r| r.path == path) else {
        return refuse(
            StatusCode::NOT_FOUND,
            format!("no BCSS service at {path}\n\n{}", index(state)),
        );
    };
    if req.method() != Method::POST {
        let mut r = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{path} takes POST (SOAP 1.1); WSDLs are never served\n"),
        );
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    let action = req
        .headers()
        .get("SOAPAction")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let operation = match routes::operation_of(&route.services, action.as_deref()) {
        Ok(op) => op,
        Err(message) => {
            counters.refused.fetch_add(1, Ordering::Relaxed);
            return soap_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                crate::fixture::client_fault(&format!("bcss mock: {message}")),
            );
        }
    };
    let announced = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = || {
        format!(
            "request body exceeds the mock's {}-byte cap\n",
            state.max_request_bytes
        )
    };
    if announced.is_some_and(|n| n > state.max_request_bytes as u64) {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, too_large());
    }
    let body = match Limited::new(req.into_body(), state.max_request_bytes)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return refuse(StatusCode::PAYLOAD_TOO_LARGE, too_large());
        }
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("could not read the request body: {e}\n"),
            );
        }
    };
    let query = Query {
        services: &route.services,
        operation,
        environment: state.environment,
        body: &body,
    };
    match state.fixtures.find(&query, &state.limits) {
        Ok(fixture) => {
            counters.served.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(fixture = %fixture.name, "mock serves");
            let reply = fixture.served_reply();
            if let (Some(delay), true) = (reply.delay, state.simulate_delays) {
                tokio::time::sleep(delay).await;
            }
            served(reply)
        }
        Err(no_match) => {
            counters.unmatched.fetch_add(1, Ordering::Relaxed);
            tracing::info!(reason = %no_match.message, "mock: no fixture matches");
            let mut r = soap_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                no_fixture_fault(&no_match.message, no_match.closest_name()),
            );
            r.headers_mut().insert(
                NO_FIXTURE_HEADER,
                HeaderValue::from_static(NO_FIXTURE_HEADER_VALUE),
            );
            r
        }
    }
}
