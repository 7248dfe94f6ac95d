//! The [`Client`]: the one call path from a request to a typed reply.
//!
//! ```text
//! client.call(&ctx, &request)
//!   1. authorize       guard.decide(&facts, now): pure, under the manifest in force (a change
//!                      made behind the client's back is journaled first); a denial is
//!                      journaled (with the manifest's digest) and returned
//!   2. prepare         endpoint, soapAction, the header from the grant (purpose, program
//!                      number), encode; a refusal here (clock, endpoint, contact e-mail,
//!                      encoding, organisation, a production stand-in) is journaled like a
//!                      denial, at stage after_grant
//!   3. record_intent   journal.append(Intent).await?: durable before the first byte is
//!                      sent; returns the SendPermit, the one value a transport sends
//!   4. send            transport.send(&permit): HTTP or replay
//!   5. record_outcome  journal.append(Outcome).await?: the raw reply, HTTP status, content
//!                      type and duration (or the transport error), durable before a single
//!                      byte of it is decoded; if it cannot be, the reply is withheld
//!   6. decode          bounded and fail-safe into a typed reply; its classification (ok,
//!                      warning, no_data, business_error, soap_fault, undecodable,
//!                      http_error) is queued for the journal's next group commit
//! ```
//! There is no other path: every service call goes through [`Client::call`], each step a
//! function of its own (`steps.rs`), and only step 3 can make the value that lets a
//! transport send. Every decision record names the manifest it was taken under, and every
//! load of the manifest is journaled ([`Client::reload_manifest`]).

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use tracing::Instrument;
use uuid::Uuid;

use crate::audit::Journal;
use crate::clock::Clock;

mod builder;
mod classify;
mod configured;
mod drill;
mod manifest_log;
mod retry;
mod steps;
use crate::endpoints::Endpoints;
use crate::environment::Environment;
use crate::error::Error;
use crate::ids::{Cbe, ProgramId};
use crate::manifest::Guard;
use crate::services::{BcssStamp, ServiceRequest, Warning};
use crate::soap::Limits;
use crate::transport::Transport;
pub use builder::ClientBuilder;
pub use configured::ConfiguredClient;
use manifest_log::ManifestLog;
pub use retry::{RetryConfig, RetryPolicy};

/// The physical person making a call (WHO). BCSS requires the organisation to be able to
/// name them for every call made under a program number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    id: String,
    name: Option<String>,
}

impl Actor {
    /// A user by the id the application knows them by (login, staff number...).
    pub fn new(id: impl Into<String>) -> Actor {
        Actor {
            id: id.into(),
            name: None,
        }
    }

    /// Add the user's display name, recorded in the journal.
    pub fn with_name(mut self, name: impl Into<String>) -> Actor {
        self.name = Some(name.into());
        self
    }

    /// The user's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The user's display name.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

/// Who is calling and why: given on every call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallContext {
    /// The physical user (WHO).
    pub actor: Actor,
    /// The purpose of the call; it must be one the manifest grants for the service, and is
    /// sent as the legalContext of common-v3 services.
    pub purpose: String,
}

impl CallContext {
    /// A context for `actor` calling for `purpose`.
    pub fn new(actor: Actor, purpose: impl Into<String>) -> CallContext {
        CallContext {
            actor,
            purpose: purpose.into(),
        }
    }
}

/// A successful reply.
#[derive(Debug, Clone, Serialize)]
pub struct Reply<T> {
    /// Our ticket for the call (UUID v7), as in the journal.
    pub ticket: Uuid,
    /// BCSS's ticket and timestamps.
    pub bcss: BcssStamp,
    /// The manifest entry that granted the call.
    pub authorization_id: String,
    /// The typed response.
    pub data: T,
    /// Warnings that came with it.
    pub warnings: Vec<Warning>,
}

struct Inner {
    environment: Environment,
    organization: Cbe,
    application: String,
    application_version: String,
    contact_email: Option<String>,
    program: Option<ProgramId>,
    guard: Arc<Guard>,
    journal: Arc<dyn Journal>,
    transport: Arc<dyn Transport>,
    endpoints: Endpoints,
    limits: Limits,
    clock: Arc<dyn Clock>,
    /// A production client allowed to reach a stand-in; every record says so.
    drill: bool,
    /// Retries, when opted in.
    retry: Option<RetryPolicy>,
    manifest_log: ManifestLog,
}

/// A BCSS client. Cheap to clone; clones share the guard, journal and transport.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Client")
            .field("environment", &i.environment)
            .field("organization", &i.organization)
            .field("application", &i.application)
            .field("application_version", &i.application_version)
            .field("program", &i.program)
            .field("drill", &i.drill)
            .field("transport", &i.transport)
            .field("journal", &i.journal)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Start configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The environment this client calls.
    pub fn environment(&self) -> Environment {
        self.inner.environment
    }

    /// Whether this client is configured for a drill (a production client allowed to
    /// reach a stand-in; every journal record says so).
    pub fn is_drill(&self) -> bool {
        self.inner.drill
    }

    /// The guard. Reload through [`Client::reload_manifest`], which journals the reload;
    /// a reload made directly on the guard is journaled at the next decision (trigger
    /// `detected`).
    pub fn guard(&self) -> &Arc<Guard> {
        &self.inner.guard
    }

    /// Make one call, in six steps (see the [module documentation](self)): authorize,
    /// prepare, record the intent durably, send, record the raw reply durably, decode.
    /// With a [`RetryPolicy`], a call whose error is retryable and whose operation is not a
    /// write is made again, each attempt the whole way with its own ticket; the result is
    /// the last attempt's.
    ///
    /// Every failure is an [`Error`] saying what to do ([`Error::is_denied`],
    /// [`Error::is_no_data`], [`Error::is_retryable`], [`Error::was_sent`]) and what to
    /// quote ([`Error::ticket`], [`Error::code`], [`Error::status`]); its
    /// [`kind`](Error::kind) is, among others,
    /// [`ErrorKind::Denied`](crate::ErrorKind::Denied) from the guard (journaled),
    /// [`ErrorKind::JournalRefused`](crate::ErrorKind::JournalRefused) when the journal
    /// cannot record the call (nothing is sent),
    /// [`ErrorKind::OutcomeNotRecorded`](crate::ErrorKind::OutcomeNotRecorded) when the
    /// reply came but its record could not be written (the reply is withheld),
    /// [`ErrorKind::Request`](crate::ErrorKind::Request) when the request is invalid,
    /// [`ErrorKind::Clock`](crate::ErrorKind::Clock) when the clock cannot be trusted,
    /// [`ErrorKind::HttpStatus`](crate::ErrorKind::HttpStatus) for a reply outside 2xx
    /// that is not a SOAP fault with 500 (never a success, whatever its body).
    pub async fn call<R: ServiceRequest>(
        &self,
        ctx: &CallContext,
        request: &R,
    ) -> Result<Reply<R::Response>, Error> {
        match &self.inner.retry {
            None => self.attempt(ctx, request, None).await,
            Some(policy) => self.call_with_retries(policy, ctx, request).await,
        }
    }

    /// One attempt of a call, in its own tracing span.
    async fn attempt<R: ServiceRequest>(
        &self,
        ctx: &CallContext,
        request: &R,
        attempt: Option<crate::audit::Attempt>,
    ) -> Result<Reply<R::Response>, Error> {
        let ticket = Uuid::now_v7();
        let masked: Vec<String> = request.subjects().iter().map(|s| s.masked()).collect();
        let span = tracing::info_span!(
            "bcss.call",
            service = request.service().name(),
            operation = request.operation(),
            environment = self.inner.environment.as_str(),
            ticket = %ticket,
            subjects = ?masked,
            outcome = tracing::field::Empty,
        );
        self.steps(ctx, request, ticket, attempt)
            .instrument(span)
            .await
    }
}
