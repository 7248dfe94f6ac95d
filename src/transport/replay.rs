//! [`ReplayTransport`]: answers requests from recorded fixtures, and records new ones.
//!
//! Modes, as testers know them from record/replay tools ([`Mode`]):
//! - `replay` (the default): a request is answered by the fixture it matches
//!   (see [`crate::fixture::matching`]); an unmatched request is
//!   [`TransportError::NoFixture`] naming the closest fixture and the first difference.
//!   Nothing ever goes to the network.
//! - `record`: every request goes through the inner transport; the exchange is redacted
//!   and written as a fixture (replacing an earlier recording of the same request).
//! - `record-missing`: a matched request is replayed, an unmatched one is recorded.
//!
//! Recording needs a [`RedactionSalt`]: replies are written only after redaction
//! ([`crate::fixture::redact`]). With a salt, replay also matches a real request against
//! redacted fixtures, by redacting the request the same way first; that is what lets
//! `record-missing` find what it recorded earlier. The redacted reply is then served with
//! the values the request carried put back where their stand-ins are (in memory only), so
//! that it is about the person the caller asked for.
//!
//! Simulated behaviours apply in replay as they do in the mock: a delay is slept, an
//! HTTP status or fault is returned as the reply, a truncated body is returned cut short,
//! and a dropped connection is [`TransportError::Http`].
//!
//! ```no_run
//! use std::sync::Arc;
//! use bcss::transport::replay::ReplayTransport;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let transport = Arc::new(ReplayTransport::replay("fixtures/exchanges")?);
//! # let _ = transport;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::{BoxFuture, SendPermit, Transport, TransportError, TransportResponse};
use crate::fixture::record::{self, Exchange};
use crate::fixture::redact::{RedactionSalt, Redactor, Substitutions};
use crate::fixture::{Fixture, FixtureError, FixtureSet, NoMatch, Query};
use crate::services::Catalogue;
use crate::xml::Limits;

/// What a [`ReplayTransport`] does with a request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Answer from fixtures only; an unmatched request is an error.
    #[default]
    Replay,
    /// Send every request through the inner transport and record it.
    Record,
    /// Replay when a fixture matches, otherwise send and record.
    RecordMissing,
}

impl Mode {
    /// The name used in configuration and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Replay => "replay",
            Mode::Record => "record",
            Mode::RecordMissing => "record-missing",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = FixtureError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "replay" => Ok(Mode::Replay),
            "record" => Ok(Mode::Record),
            "record-missing" => Ok(Mode::RecordMissing),
            other => Err(FixtureError::Setup(format!(
                "unknown replay mode {other:?}: expected replay, record or record-missing"
            ))),
        }
    }
}

/// A transport that answers from fixtures (and, when recording, through an inner
/// transport). Cheap to share behind an `Arc`.
pub struct ReplayTransport {
    mode: Mode,
    dir: Option<PathBuf>,
    fixtures: RwLock<FixtureSet>,
    inner: Option<Arc<dyn Transport>>,
    redactor: Option<Mutex<Redactor>>,
    simulate_delays: bool,
    limits: Limits,
}

impl fmt::Debug for ReplayTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayTransport")
            .field("mode", &self.mode)
            .field("dir", &self.dir)
            .field("fixtures", &self.fixture_count())
            .field("inner", &self.inner)
            .field("redaction", &self.redactor.is_some())
            .field("simulate_delays", &self.simulate_delays)
            .finish()
    }
}

/// Configures a [`ReplayTransport`].
#[derive(Debug)]
pub struct ReplayTransportBuilder {
    dir: PathBuf,
    mode: Mode,
    inner: Option<Arc<dyn Transport>>,
    salt: Option<RedactionSalt>,
    simulate_delays: bool,
    catalogue: Option<Catalogue>,
}

impl ReplayTransportBuilder {
    /// The mode (default [`Mode::Replay`]).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// The transport that recording sends through (an
    /// [`HttpTransport`](crate::transport::http::HttpTransport), normally). Required by
    /// the record modes; never used in replay mode.
    pub fn inner(mut self, inner: Arc<dyn Transport>) -> Self {
        self.inner = Some(inner);
        self
    }

    /// The redaction salt. Required by the record modes; in replay mode, it lets real
    /// requests match redacted fixtures.
    pub fn redaction_salt(mut self, salt: RedactionSalt) -> Self {
        self.salt = Some(salt);
        self
    }

    /// Whether fixtures' `delay_ms` is slept (default true).
    pub fn simulate_delays(mut self, yes: bool) -> Self {
        self.simulate_delays = yes;
        self
    }

    /// The services the fixtures may name (default: the built-in catalogue). Give the
    /// configuration's ([`Config::service_catalogue`](crate::config::Config::service_catalogue))
    /// to replay and record the services it configures.
    pub fn catalogue(mut self, catalogue: Catalogue) -> Self {
        self.catalogue = Some(catalogue);
        self
    }

    /// Load the fixtures and build the transport. In the record modes the directory is
    /// created when missing; in replay mode it must exist.
    pub fn build(self) -> Result<ReplayTransport, FixtureError> {
        let recording = self.mode != Mode::Replay;
        if recording && self.inner.is_none() {
            return Err(FixtureError::Setup(format!(
                "mode {} needs an inner transport to send through",
                self.mode
            )));
        }
        if recording && self.salt.is_none() {
            return Err(FixtureError::Setup(format!(
                "mode {} needs a redaction salt: nothing is recorded without redaction",
                self.mode
            )));
        }
        if recording {
            std::fs::create_dir_all(&self.dir).map_err(|e| FixtureError::io(&self.dir, e))?;
        }
        let fixtures = match &self.catalogue {
            Some(catalogue) => FixtureSet::load_in(&self.dir, catalogue)?,
            None => FixtureSet::load(&self.dir)?,
        };
        let redactor = match self.salt {
            Some(salt) => Some(Mutex::new(Redactor::open(&self.dir, salt)?)),
            None => None,
        };
        Ok(ReplayTransport {
            mode: self.mode,
            dir: Some(self.dir),
            fixtures: RwLock::new(fixtures),
            inner: if recording { self.inner } else { None },
            redactor,
            simulate_delays: self.simulate_delays,
            limits: Limits::default(),
        })
    }
}

impl ReplayTransport {
    /// A builder for the fixtures in `dir`.
    pub fn builder(dir: impl AsRef<Path>) -> ReplayTransportBuilder {
        ReplayTransportBuilder {
            dir: dir.as_ref().to_path_buf(),
            mode: Mode::Replay,
            inner: None,
            salt: None,
            simulate_delays: true,
            catalogue: None,
        }
    }

    /// Replay the fixtures in `dir` (no network, ever).
    pub fn replay(dir: impl AsRef<Path>) -> Result<ReplayTransport, FixtureError> {
        ReplayTransport::builder(dir).build()
    }

    /// Replay a set of fixtures already in memory.
    pub fn from_set(set: FixtureSet) -> ReplayTransport {
        ReplayTransport {
            mode: Mode::Replay,
            dir: None,
            fixtures: RwLock::new(set),
            inner: None,
            redactor: None,
            simulate_delays: true,
            limits: Limits::default(),
        }
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// How many fixtures are loaded (recordings included).
    pub fn fixture_count(&self) -> usize {
        self.fixtures
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The fixture `request` matches, if any; otherwise why not.
    pub fn find(&self, request: &SendPermit<'_>) -> Result<Arc<Fixture>, NoMatch> {
        self.lookup(request).map(|(fixture, _)| fixture)
    }

    /// The fixture `request` matches, and the substitutions to restore in its reply when
    /// it matched only once redacted.
    fn lookup(
        &self,
        request: &SendPermit<'_>,
    ) -> Result<(Arc<Fixture>, Option<Substitutions>), NoMatch> {
        let services = std::slice::from_ref(request.service());
        let find = |body: &[u8]| {
            let query = Query {
                services,
                operation: Some(request.operation()),
                environment: Some(request.environment()),
                body,
            };
            self.fixtures
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .find(&query, &self.limits)
        };
        let raw = match find(request.body()) {
            Ok(f) => return Ok((f, None)),
            Err(e) => e,
        };
        let Some(redactor) = &self.redactor else {
            return Err(raw);
        };
        let redacted = redactor
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .redact_request(request.body());
        match redacted {
            Ok(redacted) => match find(redacted.envelope.as_bytes()) {
                Ok(f) => Ok((f, Some(redacted.substitutions))),
                Err(e) if e.score() > raw.score() => Err(e),
                Err(_) => Err(raw),
            },
            Err(_) => Err(raw),
        }
    }

    async fn serve(
        &self,
        fixture: &Fixture,
        substitutions: Option<Substitutions>,
        request: &SendPermit<'_>,
    ) -> Result<TransportResponse, TransportError> {
        let mut reply = fixture.served_reply();
        if let Some(s) = substitutions {
            // The fixture is redacted; the caller asked about its own (real) values.
            reply.body = s.restore(&reply.body, &self.limits);
        }
        if let (Some(delay), true) = (reply.delay, self.simulate_delays) {
            tokio::time::sleep(delay).await;
        }
        let cut = match reply.truncation {
            Some((after, _)) => after,
            None => reply.body.len(),
        };
        if cut > request.max_reply_bytes() {
            return Err(TransportError::ReplyTooLarge {
                endpoint: request.endpoint().to_string(),
                limit: request.max_reply_bytes(),
                status: Some(reply.status),
            });
        }
        tracing::debug!(fixture = %fixture.name, status = reply.status, "replayed");
        reply.into_transport_result(request.endpoint(), &fixture.name)
    }

    async fn record(&self, request: &SendPermit<'_>) -> Result<TransportResponse, TransportError> {
        let (Some(inner), Some(redactor), Some(dir)) = (&self.inner, &self.redactor, &self.dir)
        else {
            return Err(TransportError::Config(
                "this replay transport cannot record (no inner transport or salt)".to_string(),
            ));
        };
        // The permit this transport was given goes on to the inner transport as is.
        let response = inner.send(request).await?;
        let exchange = Exchange {
            service: request.service(),
            operation: request.operation(),
            environment: request.environment(),
            soap_action: request.soap_action(),
            request: request.body(),
            status: response.status,
            content_type: response.content_type.as_deref(),
            reply: &response.body,
        };
        let recorded = {
            let mut redactor = redactor.lock().unwrap_or_else(PoisonError::into_inner);
            record::record(dir, &mut redactor, &exchange, Utc::now())
        };
        match recorded {
            Ok(fixture) => {
                tracing::info!(fixture = %fixture.name, "recorded");
                let mut set = self
                    .fixtures
                    .write()
                    .unwrap_or_else(PoisonError::into_inner);
                if let Err(e) = set.insert(fixture) {
                    tracing::error!(error = %e, "recorded fixture could not be added to the set");
                }
            }
            // The call itself succeeded (and may have changed something at BCSS), so its
            // reply is returned; the recording failure is reported, never hidden.
            Err(e) => tracing::error!(error = %e, "the exchange could not be recorded"),
        }
        Ok(response)
    }
}

impl Transport for ReplayTransport {
    fn send<'a>(
        &'a self,
        request: &'a SendPermit<'_>,
    ) -> BoxFuture<'a, Result<TransportResponse, TransportError>> {
        Box::pin(async move {
            match self.mode {
                Mode::Record => self.record(request).await,
                Mode::Replay | Mode::RecordMissing => match self.lookup(request) {
                    Ok((fixture, substitutions)) => {
                        self.serve(&fixture, substitutions, request).await
                    }
                    Err(_) if self.mode == Mode::RecordMissing => self.record(request).await,
                    Err(no_match) => Err(TransportError::NoFixture(no_match.message)),
                },
            }
        })
    }

    /// A stand-in for BCSS when it answers from fixtures (`replay`, `record-missing`);
    /// in `record` mode every request goes through the inner transport.
    fn stand_in(&self) -> Option<&'static str> {
        match self.mode {
            Mode::Record => None,
            Mode::Replay | Mode::RecordMissing => Some("the replay transport"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse() {
        for m in [Mode::Replay, Mode::Record, Mode::RecordMissing] {
            assert_eq!(m.as_str().parse::<Mode>().unwrap(), m);
        }
        assert!("playback".parse::<Mode>().is_err());
    }

    #[test]
    fn record_modes_need_an_inner_transport_and_a_salt() {
        let dir = tempfile::tempdir().unwrap();
        let e = ReplayTransport::builder(dir.path())
            .mode(Mode::Record)
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("inner transport"), "{e}");
        let inner: Arc<dyn Transport> = Arc::new(ReplayTransport::from_set(FixtureSet::new()));
        let e = ReplayTransport::builder(dir.path())
            .mode(Mode::RecordMissing)
            .inner(inner)
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("redaction salt"), "{e}");
        assert!(ReplayTransport::replay(dir.path().join("missing")).is_err());
    }
}
