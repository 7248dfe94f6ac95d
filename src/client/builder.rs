//! [`ClientBuilder`]: what a [`Client`] needs, checked once at `build`.

use std::fmt;
use std::sync::Arc;

use super::{Client, Inner};
use crate::audit::Journal;
use crate::clock::{Clock, SystemClock};
use crate::endpoints::Endpoints;
use crate::environment::Environment;
use crate::error::Error;
use crate::ids::{Cbe, ProgramId};
use crate::manifest::Guard;
use crate::soap::Limits;
use crate::transport::Transport;

/// Configures a [`Client`].
#[derive(Default)]
pub struct ClientBuilder {
    environment: Option<Environment>,
    organization: Option<Cbe>,
    application: Option<(String, String)>,
    contact_email: Option<String>,
    program: Option<ProgramId>,
    guard: Option<Arc<Guard>>,
    journal: Option<Arc<dyn Journal>>,
    transport: Option<Arc<dyn Transport>>,
    endpoints: Endpoints,
    limits: Limits,
    clock: Option<Arc<dyn Clock>>,
    drill: bool,
    allow_unsigned_manifest: bool,
    retry: Option<super::RetryPolicy>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("environment", &self.environment)
            .field("organization", &self.organization)
            .field("application", &self.application)
            .field("program", &self.program)
            .field("transport", &self.transport)
            .field("journal", &self.journal)
            .field("drill", &self.drill)
            .field("allow_unsigned_manifest", &self.allow_unsigned_manifest)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The environment every call goes to. Required.
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = Some(environment);
        self
    }

    /// The organisation's CBE number. Optional when the manifest names it; when both are
    /// given they must agree.
    pub fn organization(mut self, cbe: Cbe) -> Self {
        self.organization = Some(cbe);
        self
    }

    /// The application's name and version (HOW). Required.
    pub fn application(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.application = Some((name.into(), version.into()));
        self
    }

    /// The organisation's contact e-mail, sent as the SSDN `Email`. Required for SSDN
    /// services.
    pub fn contact_email(mut self, email: impl Into<String>) -> Self {
        self.contact_email = Some(email.into());
        self
    }

    /// The program number this application was granted. When set, the guard refuses any
    /// entry granted to another program number.
    pub fn program(mut self, program: ProgramId) -> Self {
        self.program = Some(program);
        self
    }

    /// The guard holding the authorisation manifest. Required.
    pub fn guard(mut self, guard: Arc<Guard>) -> Self {
        self.guard = Some(guard);
        self
    }

    /// The audit journal. Required.
    pub fn journal(mut self, journal: Arc<dyn Journal>) -> Self {
        self.journal = Some(journal);
        self
    }

    /// The transport (HTTP, or replay of fixtures). Required.
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Endpoint overrides; the defaults come from `wsdl/`.
    pub fn endpoints(mut self, endpoints: Endpoints) -> Self {
        self.endpoints = endpoints;
        self
    }

    /// Reply reading limits (size, depth, nodes). `build` refuses a size limit above the
    /// journal's [`max_payload_bytes`](crate::audit::Journal::max_payload_bytes): every
    /// reply the transport accepts must fit in the journal.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The clock (tests use a fixed one). Defaults to the system clock with sanity checks.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// A drill: let a production client reach a stand-in for BCSS (the replay transport,
    /// a loopback or plain `http://` endpoint such as `bcss mock`), which it otherwise
    /// refuses, at build and at every call. Every record the client writes then says
    /// `how.drill = true`. Default false.
    pub fn drill(mut self, drill: bool) -> Self {
        self.drill = drill;
        self
    }

    /// Retry calls under `policy` (default: never). Writes are never retried; see
    /// [`RetryPolicy`](super::RetryPolicy).
    pub fn retry(mut self, policy: super::RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Let a production client decide under a manifest whose signature its guard does not
    /// require ([`ManifestTrust::requires_signature`](crate::manifest::ManifestTrust::requires_signature)).
    /// Without this, `build` refuses such a production client: in production, the
    /// manifest is the security advisor's signed document, not a file anyone who can
    /// write it may change. (`Client::from_config` says this only for a `bcss.toml` that
    /// sets `[manifest] require_signature = false` itself.)
    pub fn allow_unsigned_manifest(mut self) -> Self {
        self.allow_unsigned_manifest = true;
        self
    }

    /// Check the configuration and build the client. The manifest in force is journaled
    /// (a `manifest_load` record, trigger `start`), durable with the client's first
    /// decision.
    ///
    /// Refused with [`ErrorKind::Config`](crate::ErrorKind::Config): a required part missing or blank; a reply limit
    /// the journal cannot hold; an organisation the manifest is not for; in production, a
    /// guard that does not require a signed manifest (unless
    /// [`allow_unsigned_manifest`](Self::allow_unsigned_manifest)), or a stand-in
    /// transport or endpoint (unless [`drill`](Self::drill)). [`ErrorKind::JournalRefused`](crate::ErrorKind::JournalRefused)
    /// when the journal cannot take the manifest-load record.
    pub fn build(self) -> Result<Client, Error> {
        let missing =
            |what: &str| Error::config(format!("{what} is required: set it on the builder"));
        let environment = self.environment.ok_or_else(|| missing("environment"))?;
        let (application, application_version) = self
            .application
            .ok_or_else(|| missing("application name and version"))?;
        if application.trim().is_empty() || application_version.trim().is_empty() {
            return Err(Error::config(
                "application name and version must not be blank (they are the HOW of every journal record)"
                    .to_string(),
            ));
        }
        let guard = self
            .guard
            .ok_or_else(|| missing("guard (the authorisation manifest)"))?;
        let journal = self.journal.ok_or_else(|| missing("journal"))?;
        let max_payload = journal.max_payload_bytes();
        if self.limits.max_bytes > max_payload {
            return Err(Error::config(format!(
                "the reply limit (max_reply_bytes = {} bytes) is above what one journal record can hold (max_payload_bytes = {max_payload} bytes): a reply the transport accepts could not be journaled; lower the reply limit to at most {max_payload}, or raise the journal's max_record_bytes",
                self.limits.max_bytes
            )));
        }
        let transport = self.transport.ok_or_else(|| missing("transport"))?;
        if environment == Environment::Production
            && !guard.trust().requires_signature()
            && !self.allow_unsigned_manifest
        {
            return Err(Error::config(
                "a production client needs a guard that requires a signed manifest (Guard::load_trusted with ManifestTrust requiring a signature, or [manifest] signers in bcss.toml); to decide under an unsigned manifest anyway, say so: ClientBuilder::allow_unsigned_manifest()"
                    .to_string(),
            ));
        }
        super::drill::check_at_build(
            environment,
            self.drill,
            transport.as_ref(),
            &self.endpoints,
            guard.catalogue(),
        )?;
        let organization = match (self.organization, guard.organization()) {
            (Some(cbe), Some(org)) if cbe != org.cbe => {
                return Err(Error::config(format!(
                    "the client is configured for organisation {cbe} but the manifest is for {} ({})",
                    org.cbe, org.name
                )));
            }
            (Some(cbe), _) => cbe,
            (None, Some(org)) => org.cbe,
            (None, None) => return Err(missing("organization (CBE number)")),
        };
        if let Some(policy) = &self.retry {
            policy
                .check()
                .map_err(|e| Error::config(format!("retry policy: {e}")))?;
        }
        let manifest_log = super::ManifestLog::start(&guard, journal.as_ref())?;
        Ok(Client {
            inner: Arc::new(Inner {
                environment,
                organization,
                application,
                application_version,
                contact_email: self.contact_email,
                program: self.program,
                guard,
                journal,
                transport,
                endpoints: self.endpoints,
                limits: self.limits,
                clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock::new())),
                drill: self.drill,
                retry: self.retry,
                manifest_log,
            }),
        })
    }
}
