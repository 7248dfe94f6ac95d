//! The [`Client`]: the one call path from a typed request to a typed reply.
//!
//! ```text
//! client.call(&ctx, &request)
//!   1. guard.decide(&facts, now)         pure; a denial is journaled and returned
//!   2. request.encode(&header)           header from the grant: purpose, program number
//!   3. journal.append(Intent).await?     durable before the first byte is sent
//!   4. transport.send(...)               HTTP or replay
//!   5. journal.append(Outcome).await?    reply bytes, BCSS ticket, status, duration
//!   6. request.decode(reply)             bounded, fail-safe
//! ```
//! There is no other path: every service call goes through [`Client::call`].

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tracing::Instrument;
use uuid::Uuid;

use crate::audit::{
    Bcss, CallRecord, DenialRecord, How, IntentRecord, Journal, OutcomeRecord, Payload, What, Who,
};
use crate::clock::Clock;

mod builder;
mod configured;
use crate::endpoints::Endpoints;
use crate::environment::Environment;
use crate::error::Error;
use crate::ids::{Cbe, ProgramId};
use crate::manifest::{Decision, Facts, Grant, Guard};
use crate::services::{BcssStamp, Outcome, RequestHeader, ServiceRequest, Warning};
use crate::soap::Limits;
use crate::transport::{Transport, TransportRequest};
pub use builder::ClientBuilder;
pub use configured::ConfiguredClient;

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
            .field("transport", &i.transport)
            .field("journal", &i.journal)
            .finish_non_exhaustive()
    }
}

/// What the journal keeps of a refused call, before the refusal is returned.
struct Refusal<'a> {
    reason_code: &'a str,
    message: String,
    authorization_id: Option<String>,
    /// `before_guard`, `guard` or `after_grant` (see [`DenialRecord::stage`]).
    stage: &'static str,
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

    /// The guard, for example to reload the manifest.
    pub fn guard(&self) -> &Arc<Guard> {
        &self.inner.guard
    }

    /// Make one call: guard, encode, journal the intent durably, send, journal the
    /// outcome, decode. See the module documentation.
    ///
    /// Every refusal is a typed [`Error`]: [`Error::Denied`] from the guard (journaled),
    /// [`Error::JournalRefused`] when the journal cannot record the call (nothing is sent),
    /// [`Error::OutcomeNotRecorded`] when the reply came but its record could not be written,
    /// [`Error::Request`] when the request is invalid, [`Error::Clock`] when the clock
    /// cannot be trusted.
    pub async fn call<R: ServiceRequest>(
        &self,
        ctx: &CallContext,
        request: &R,
    ) -> Result<Reply<R::Response>, Error> {
        let ticket = Uuid::now_v7();
        let service = request.service();
        let operation = request.operation();
        let subjects = request.subjects();
        let masked: Vec<String> = subjects.iter().map(|s| s.masked()).collect();
        let span = tracing::info_span!(
            "bcss.call",
            service = service.name(),
            operation,
            environment = self.inner.environment.as_str(),
            ticket = %ticket,
            subjects = ?masked,
            outcome = tracing::field::Empty,
        );
        self.call_inner(ctx, request, ticket, subjects)
            .instrument(span)
            .await
    }

    async fn call_inner<R: ServiceRequest>(
        &self,
        ctx: &CallContext,
        request: &R,
        ticket: Uuid,
        subjects: Vec<crate::ids::Ssin>,
    ) -> Result<Reply<R::Response>, Error> {
        let inner = &*self.inner;
        let service = request.service();
        let operation = request.operation();
        let decided_at = inner.clock.now()?;
        let who = Who {
            user_id: ctx.actor.id.clone(),
            user_name: ctx.actor.name.clone(),
            program: inner.program.as_ref().map(|p| p.to_string()),
        };
        let what = What {
            service: service.name().to_string(),
            operation: operation.to_string(),
            subjects: subjects.iter().map(|s| s.reveal().to_string()).collect(),
            purpose: ctx.purpose.clone(),
        };
        let mut how = How {
            application: inner.application.clone(),
            application_version: inner.application_version.clone(),
            environment: inner.environment,
            endpoint: None,
            authorization_id: None,
            deliberation: None,
            drill: false,
        };

        // WHO is mandatory.
        if ctx.actor.id.trim().is_empty() {
            let message =
                "every call must name the physical user making it (CallContext actor id is blank)"
                    .to_string();
            return Err(self
                .refuse(
                    ticket,
                    decided_at,
                    who,
                    what,
                    how,
                    Refusal {
                        reason_code: "missing_user",
                        message: message.clone(),
                        authorization_id: None,
                        stage: "before_guard",
                    },
                )
                .await
                .unwrap_or(Error::MissingUser(message)));
        }

        // 1. The guard.
        let facts = Facts {
            environment: inner.environment,
            service: service.name(),
            operation,
            purpose: &ctx.purpose,
            program: inner.program.as_ref(),
            access_purpose: request.access_purpose(),
        };
        let grant: Grant = match inner.guard.decide(&facts, decided_at) {
            Decision::Grant(grant) => grant,
            Decision::Deny(denial) => {
                tracing::warn!(reason = denial.reason.code(), "call denied by the guard");
                let refusal = Refusal {
                    reason_code: denial.reason.code(),
                    // The message names the nearest entry; `authorization_id` is kept for
                    // entries that granted, so a denial records none.
                    message: denial.message.clone(),
                    authorization_id: None,
                    stage: "guard",
                };
                return Err(self
                    .refuse(ticket, decided_at, who, what, how, refusal)
                    .await
                    .unwrap_or(Error::Denied(denial)));
            }
        };
        how.authorization_id = Some(grant.authorization_id.clone());
        how.deliberation = Some(grant.deliberation.to_string());
        let who = Who {
            program: Some(grant.program.to_string()),
            ..who
        };
        // The purpose sent is the granted one; the guard only grants the stated purpose.
        let what = What {
            purpose: grant.purpose.clone(),
            ..what
        };

        // 2. Encode with the grant.
        let organization = match inner.guard.organization() {
            Some(org) if org.cbe != inner.organization => {
                let message = format!(
                    "the loaded manifest is for organisation {} but the client is configured for {}",
                    org.cbe, inner.organization
                );
                return Err(self
                    .refuse(
                        ticket,
                        decided_at,
                        who,
                        what,
                        how,
                        Refusal {
                            reason_code: "organization_mismatch",
                            message: message.clone(),
                            authorization_id: Some(grant.authorization_id.clone()),
                            stage: "after_grant",
                        },
                    )
                    .await
                    .unwrap_or(Error::Config(message)));
            }
            Some(org) => org,
            None => {
                return Err(Error::Config(
                    "the guard granted a call without a loaded manifest organisation".to_string(),
                ));
            }
        };
        let endpoint = inner
            .endpoints
            .resolve(inner.environment, &service)
            .map_err(|e| Error::Config(e.to_string()))?;
        how.endpoint = Some(endpoint.clone());
        let soap_action = crate::endpoints::Endpoints::soap_action(&service, operation)
            .ok_or_else(|| {
                Error::Config(format!(
                    "{service} has no operation {operation:?} in the service catalogue"
                ))
            })?;
        if service.family() == crate::services::Family::Ssdn && inner.contact_email.is_none() {
            return Err(Error::Config(format!(
                "{service} is an SSDN service: its request carries the organisation's contact e-mail; set contact_email on the builder or in bcss.toml"
            )));
        }
        let sent_at = inner.clock.now()?;
        let header = RequestHeader {
            ticket,
            sent_at,
            organization: inner.organization.clone(),
            sector: organization.sector,
            sub_sector: organization.sub_sector,
            program: grant.program.clone(),
            email: inner.contact_email.clone().unwrap_or_default(),
            legal_context: grant.purpose.clone(),
        };
        let body = request.encode(&header)?;

        // 3. Durable intent before any byte is sent.
        let intent = IntentRecord {
            ticket,
            decided_at,
            sent_at,
            who,
            what,
            how,
            soap_action: soap_action.to_string(),
            request: Payload::from_bytes(&body),
            manifest: None,
            write: false,
            attempt: None,
        };
        inner
            .journal
            .append(CallRecord::Intent(intent))
            .await
            .map_err(Error::JournalRefused)?;

        // 4. Send.
        let started = Instant::now();
        let sent = inner
            .transport
            .send(TransportRequest {
                environment: inner.environment,
                service: &service,
                operation,
                endpoint: &endpoint,
                soap_action,
                body: &body,
                max_reply_bytes: inner.limits.max_bytes,
            })
            .await;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let replied_at = inner.clock.now().unwrap_or_else(|_| Utc::now());

        match sent {
            Err(transport_error) => {
                let reason = transport_error.to_string();
                tracing::Span::current().record("outcome", "transport_error");
                tracing::warn!(%reason, "transport failed");
                let outcome = OutcomeRecord {
                    ticket,
                    replied_at,
                    duration_ms,
                    outcome: "transport_error".to_string(),
                    code: None,
                    http_status: None,
                    content_type: None,
                    bcss: Bcss::default(),
                    reply: None,
                    error: Some(reason),
                };
                inner
                    .journal
                    .append(CallRecord::Outcome(outcome))
                    .await
                    .map_err(|source| Error::OutcomeNotRecorded { ticket, source })?;
                Err(Error::Transport(transport_error))
            }
            Ok(response) => {
                // 6. Decode (before journaling, so the outcome record says how it ended).
                let decoded = request.decode(response.status, &response.body, &inner.limits);
                let (kind, code) = outcome_parts(&decoded.outcome);
                tracing::Span::current().record("outcome", kind);
                // 5. The outcome, durable before the reply is handed over.
                let outcome = OutcomeRecord {
                    ticket,
                    replied_at,
                    duration_ms,
                    outcome: kind.to_string(),
                    code,
                    http_status: Some(response.status),
                    content_type: response.content_type.clone(),
                    bcss: Bcss {
                        ticket: decoded.stamp.ticket.clone(),
                        time_receive: decoded.stamp.time_receive.clone(),
                        time_reply: decoded.stamp.time_reply.clone(),
                    },
                    reply: Some(Payload::from_bytes(&response.body)),
                    error: decoded.result.as_ref().err().map(|e| e.to_string()),
                };
                inner
                    .journal
                    .append(CallRecord::Outcome(outcome))
                    .await
                    .map_err(|source| Error::OutcomeNotRecorded { ticket, source })?;
                let reply = decoded.result?;
                Ok(Reply {
                    ticket,
                    bcss: decoded.stamp,
                    authorization_id: grant.authorization_id,
                    data: reply.data,
                    warnings: reply.warnings,
                })
            }
        }
    }

    /// Journal a refusal. Returns the error to give the caller when the journal itself
    /// failed (that error wins: the caller must learn the journal is failing), `None` when
    /// the refusal was recorded.
    async fn refuse(
        &self,
        ticket: Uuid,
        decided_at: DateTime<Utc>,
        who: Who,
        what: What,
        how: How,
        refusal: Refusal<'_>,
    ) -> Option<Error> {
        let how = How {
            authorization_id: refusal.authorization_id,
            ..how
        };
        let record = DenialRecord {
            ticket,
            decided_at,
            who,
            what,
            how,
            reason_code: refusal.reason_code.to_string(),
            message: refusal.message,
            manifest: None,
            stage: refusal.stage.to_string(),
        };
        tracing::Span::current().record("outcome", "denied");
        self.inner
            .journal
            .append(CallRecord::Denial(record))
            .await
            .err()
            .map(Error::JournalRefused)
    }
}

fn outcome_parts(outcome: &Outcome) -> (&'static str, Option<String>) {
    match outcome {
        Outcome::Ok => ("ok", None),
        Outcome::Warning { code } => ("warning", Some(code.clone())),
        Outcome::NoData { code } => ("no_data", Some(code.clone())),
        Outcome::BusinessError { code } => ("business_error", Some(code.clone())),
        Outcome::SoapFault { code } => ("soap_fault", Some(code.clone())),
        Outcome::Undecodable { .. } => ("undecodable", None),
        Outcome::TransportError { .. } => ("transport_error", None),
    }
}
