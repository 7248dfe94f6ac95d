//! The six steps of [`Client::call`], each a named function: [`Client::authorize`],
//! [`Client::prepare`], [`Client::record_intent`], [`Client::send`],
//! [`Client::record_outcome`], [`Client::decode`]. See the [module documentation](super).

use std::time::Instant;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{CallContext, Client, Reply, classify};
use crate::audit::{
    Attempt, Bcss, CallRecord, ClassificationRecord, DenialRecord, How, IntentRecord, ManifestRef,
    OutcomeRecord, Payload, What, Who,
};
use crate::error::{Error, ErrorKind};
use crate::manifest::{Decision, Facts, Grant};
use crate::services::{Decoded, Family, RequestHeader, Service, ServiceRequest};
use crate::transport::{SendPermit, TransportError, TransportResponse};

/// One attempt of a call, as its journal records describe it.
pub(super) struct Call<'r> {
    pub(super) ticket: Uuid,
    pub(super) service: Service,
    pub(super) operation: &'r str,
    pub(super) decided_at: DateTime<Utc>,
    pub(super) who: Who,
    pub(super) what: What,
    pub(super) how: How,
    /// The manifest in force at the decision.
    pub(super) manifest: Option<ManifestRef>,
    pub(super) write: bool,
    pub(super) attempt: Option<Attempt>,
}

impl Call<'_> {
    /// What the grant adds: its entry and deliberation, the program number and the
    /// purpose sent (the guard only grants the stated one).
    fn granted(&mut self, grant: &Grant) {
        self.how.authorization_id = Some(grant.authorization_id.clone());
        self.how.deliberation = Some(grant.deliberation.to_string());
        self.who.program = Some(grant.program.to_string());
        self.what.purpose = grant.purpose.clone();
    }

    /// The soapAction of the operation, from the catalogue.
    fn soap_action(&self) -> Result<&str, AfterGrant> {
        self.service.soap_action(self.operation).ok_or_else(|| {
            AfterGrant::config(
                "unknown_operation",
                format!(
                    "{} has no operation {:?} in the service catalogue",
                    self.service, self.operation
                ),
            )
        })
    }
}

/// What step 2 made ready to send.
pub(super) struct Prepared {
    endpoint: String,
    soap_action: String,
    body: Bytes,
    sent_at: DateTime<Utc>,
}

/// What step 4 brought back.
pub(super) struct Sent {
    result: Result<TransportResponse, TransportError>,
    duration_ms: u64,
    replied_at: DateTime<Utc>,
}

/// A reply whose raw bytes are durable (step 5), ready to decode.
pub(super) struct Received {
    status: u16,
    body: Bytes,
}

/// A refusal after the grant: the reason code journaled and the error returned.
pub(super) struct AfterGrant {
    pub(super) code: &'static str,
    pub(super) error: Error,
}

impl AfterGrant {
    pub(super) fn new(code: &'static str, error: impl Into<Error>) -> AfterGrant {
        AfterGrant {
            code,
            error: error.into(),
        }
    }

    fn config(code: &'static str, message: String) -> AfterGrant {
        AfterGrant::new(code, Error::config(message))
    }
}

impl Client {
    /// One attempt of a call, the six steps in order. `attempt` links a retry to the
    /// call's first attempt.
    pub(super) async fn steps<R: ServiceRequest>(
        &self,
        ctx: &CallContext,
        request: &R,
        ticket: Uuid,
        attempt: Option<Attempt>,
    ) -> Result<Reply<R::Response>, Error> {
        let (mut call, grant) = self.authorize(ctx, request, ticket, attempt).await?;
        let prepared = self.prepare(&mut call, &grant, request).await?;
        let permit = self.record_intent(&call, &prepared).await?;
        let sent = self.send(&permit).await;
        let received = self.record_outcome(&call, sent).await?;
        self.decode(&call, grant, request, received)
    }

    /// Step 1: the guard decides, with no I/O, under the manifest in force (journaled
    /// first when it changed behind the client's back). A denial, or a call that names no
    /// user, is journaled and returned.
    pub(super) async fn authorize<'r, R: ServiceRequest>(
        &self,
        ctx: &CallContext,
        request: &'r R,
        ticket: Uuid,
        attempt: Option<Attempt>,
    ) -> Result<(Call<'r>, Grant), Error> {
        let inner = &*self.inner;
        let decided_at = inner.clock.now()?;
        let mut call = self.call_of(ctx, request, ticket, decided_at, attempt);
        if ctx.actor.id.trim().is_empty() {
            let message =
                "every call must name the physical user making it (CallContext actor id is blank)";
            let error = Error::from(ErrorKind::MissingUser(message.to_string()));
            call.manifest = inner.guard.manifest_ref();
            return Err(self
                .refuse(&call, "before_guard", "missing_user", error)
                .await);
        }
        let facts = Facts {
            environment: inner.environment,
            service: call.service.name(),
            operation: call.operation,
            purpose: &ctx.purpose,
            program: inner.program.as_ref(),
            access_purpose: request.access_purpose(),
        };
        let (decision, manifest) = inner.guard.decide_with_manifest(&facts, decided_at);
        self.note_manifest(manifest.as_ref()).await?;
        call.manifest = manifest;
        match decision {
            Decision::Deny(denial) => {
                tracing::warn!(reason = denial.reason.code(), "call denied by the guard");
                let code = denial.reason.code();
                Err(self.refuse(&call, "guard", code, denial.into()).await)
            }
            Decision::Grant(grant) => {
                call.granted(&grant);
                Ok((call, grant))
            }
        }
    }

    /// Step 2: the endpoint, the soapAction and the request bytes, with the header the
    /// grant supplies. Any refusal here is journaled like a denial, at stage
    /// `after_grant`.
    pub(super) async fn prepare<R: ServiceRequest>(
        &self,
        call: &mut Call<'_>,
        grant: &Grant,
        request: &R,
    ) -> Result<Prepared, Error> {
        match self.prepared(call, grant, request) {
            Ok(prepared) => Ok(prepared),
            Err(refusal) => Err(self
                .refuse(call, "after_grant", refusal.code, refusal.error)
                .await),
        }
    }

    fn prepared<R: ServiceRequest>(
        &self,
        call: &mut Call<'_>,
        grant: &Grant,
        request: &R,
    ) -> Result<Prepared, AfterGrant> {
        let inner = &*self.inner;
        let organization = self.organization_for_grant()?;
        let endpoint = inner
            .endpoints
            .resolve(inner.environment, &call.service)
            .map_err(|e| AfterGrant::config("endpoint_unusable", e.to_string()))?;
        call.how.endpoint = Some(endpoint.clone());
        self.check_endpoint_is_bcss(&endpoint)?;
        let soap_action = call.soap_action()?.to_string();
        let sent_at = inner
            .clock
            .now()
            .map_err(|e| AfterGrant::new("clock_untrusted", e))?;
        let header = RequestHeader {
            ticket: call.ticket,
            sent_at,
            organization: inner.organization.clone(),
            sector: organization.sector,
            sub_sector: organization.sub_sector,
            program: grant.program.clone(),
            email: self.contact_email_for(&call.service)?,
            legal_context: grant.purpose.clone(),
        };
        let body = request
            .encode(&header)
            .map_err(|e| AfterGrant::new("encode_error", e))?;
        Ok(Prepared {
            endpoint,
            soap_action,
            body: Bytes::from(body),
            sent_at,
        })
    }

    /// The contact e-mail an SSDN request carries (`Email`); empty for common v3.
    fn contact_email_for(&self, service: &Service) -> Result<String, AfterGrant> {
        match (service.family(), &self.inner.contact_email) {
            (Family::Ssdn, None) => Err(AfterGrant::config(
                "contact_email_missing",
                format!(
                    "{service} is an SSDN service: its request carries the organisation's \
                     contact e-mail; set contact_email on the builder or in bcss.toml"
                ),
            )),
            (_, email) => Ok(email.clone().unwrap_or_default()),
        }
    }

    /// The organisation of the manifest that granted the call, which must be the client's.
    fn organization_for_grant(&self) -> Result<crate::manifest::Organization, AfterGrant> {
        let inner = &*self.inner;
        match inner.guard.organization() {
            Some(org) if org.cbe != inner.organization => Err(AfterGrant::config(
                "organization_mismatch",
                format!(
                    "the loaded manifest is for organisation {} but the client is configured for {}",
                    org.cbe, inner.organization
                ),
            )),
            Some(org) => Ok(org),
            None => Err(AfterGrant::config(
                "no_manifest",
                "the manifest that granted the call is no longer loaded".to_string(),
            )),
        }
    }

    /// Step 3: the intent, with the exact request bytes, durable before any byte is sent.
    /// Returns the one value that lets the transport send them.
    pub(super) async fn record_intent<'p>(
        &self,
        call: &'p Call<'_>,
        prepared: &'p Prepared,
    ) -> Result<SendPermit<'p>, Error> {
        let inner = &*self.inner;
        let intent = IntentRecord {
            ticket: call.ticket,
            decided_at: call.decided_at,
            sent_at: prepared.sent_at,
            who: call.who.clone(),
            what: call.what.clone(),
            how: call.how.clone(),
            soap_action: prepared.soap_action.clone(),
            request: Payload::from(prepared.body.clone()),
            manifest: call.manifest.clone(),
            write: call.write,
            attempt: call.attempt,
        };
        let appended = inner
            .journal
            .append(CallRecord::Intent(intent))
            .await
            .map_err(Error::journal_refused)?;
        Ok(SendPermit::new(
            inner.environment,
            &call.service,
            call.operation,
            &prepared.endpoint,
            &prepared.soap_action,
            &prepared.body,
            inner.limits.max_bytes,
            call.ticket,
            appended,
        ))
    }

    /// Step 4: the transport sends what the permit carries.
    pub(super) async fn send(&self, permit: &SendPermit<'_>) -> Sent {
        let started = Instant::now();
        let result = self.inner.transport.send(permit).await;
        Sent {
            result,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            replied_at: self.inner.clock.now().unwrap_or_else(|_| Utc::now()),
        }
    }

    /// Step 5: the raw reply (status, content type, duration), or the transport's error,
    /// durable before a single byte of the reply is decoded. When it cannot be recorded
    /// the reply is withheld.
    pub(super) async fn record_outcome(
        &self,
        call: &Call<'_>,
        sent: Sent,
    ) -> Result<Received, Error> {
        let (record, received) = outcome_record(call.ticket, sent);
        let status = match &received {
            Ok(r) => Some(r.status),
            Err(e) => e.status(),
        };
        let ticket = call.ticket;
        if let Err(source) = self.inner.journal.append(CallRecord::Outcome(record)).await {
            // The request may have reached BCSS; its reply is withheld.
            let mut error = Error::from(ErrorKind::OutcomeNotRecorded { ticket, source })
                .with_ticket(ticket)
                .sent(true);
            if let Some(status) = status {
                error = error.with_status(status);
            }
            return Err(error);
        }
        received.map_err(|e| {
            let sent = e.may_have_been_sent();
            let mut error = Error::from(e).with_ticket(ticket).sent(sent);
            if let Some(status) = status {
                error = error.with_status(status);
            }
            error
        })
    }

    /// Step 6: decode the durable reply, bounded and fail-safe, and classify it. The
    /// classification can be derived again from the raw reply, so it is queued for the
    /// journal's next group commit without waiting.
    pub(super) fn decode<R: ServiceRequest>(
        &self,
        call: &Call<'_>,
        grant: Grant,
        request: &R,
        received: Received,
    ) -> Result<Reply<R::Response>, Error> {
        let inner = &*self.inner;
        let decoded = request.decode(received.status, &received.body, &inner.limits);
        let decoded = classify::never_a_success(received.status, decoded);
        let classification = classification_record(call.ticket, &decoded);
        tracing::Span::current().record("outcome", classification.outcome.as_str());
        if let Err(e) = inner
            .journal
            .append_deferred(CallRecord::Classification(classification))
        {
            // The raw reply is durable: the classification can be derived from it again.
            tracing::warn!(error = %e, "the reply's classification could not be queued");
        }
        let Decoded { stamp, result, .. } = decoded;
        let reply = result.map_err(|e| {
            e.with_ticket(call.ticket)
                .with_status(received.status)
                .sent(true)
        })?;
        Ok(Reply {
            ticket: call.ticket,
            bcss: stamp,
            authorization_id: grant.authorization_id,
            data: reply.data,
            warnings: reply.warnings,
        })
    }

    /// Journal a refusal (nothing was sent) and return the error to give the caller: the
    /// journal's own error when the refusal could not be recorded (the caller must learn
    /// the journal is failing), else `error`.
    pub(super) async fn refuse(
        &self,
        call: &Call<'_>,
        stage: &'static str,
        reason_code: &str,
        error: Error,
    ) -> Error {
        let record = DenialRecord {
            ticket: call.ticket,
            decided_at: call.decided_at,
            who: call.who.clone(),
            what: call.what.clone(),
            how: call.how.clone(),
            reason_code: reason_code.to_string(),
            message: error.to_string(),
            manifest: call.manifest.clone(),
            stage: stage.to_string(),
        };
        tracing::Span::current().record("outcome", "denied");
        match self.inner.journal.append(CallRecord::Denial(record)).await {
            Ok(_) => error.with_ticket(call.ticket).refused(stage, reason_code),
            // Not journaled: no ticket to quote.
            Err(e) => Error::journal_refused(e),
        }
    }

    /// The journal's description of a call about to be decided (WHO, WHAT, HOW before
    /// the grant adds to them).
    fn call_of<'r, R: ServiceRequest>(
        &self,
        ctx: &CallContext,
        request: &'r R,
        ticket: Uuid,
        decided_at: DateTime<Utc>,
        attempt: Option<Attempt>,
    ) -> Call<'r> {
        let inner = &*self.inner;
        let service = request.service();
        let operation = request.operation();
        let subjects = request.subjects();
        Call {
            ticket,
            write: service.is_write(operation),
            who: Who {
                user_id: ctx.actor.id.clone(),
                user_name: ctx.actor.name.clone(),
                program: inner.program.as_ref().map(ToString::to_string),
            },
            what: What {
                service: service.name().to_string(),
                operation: operation.to_string(),
                subjects: subjects.iter().map(|s| s.reveal().to_string()).collect(),
                purpose: ctx.purpose.clone(),
            },
            how: self.how(),
            service,
            operation,
            decided_at,
            manifest: None,
            attempt,
        }
    }

    /// HOW, before the grant names its entry and the endpoint is resolved.
    fn how(&self) -> How {
        let inner = &*self.inner;
        How {
            application: inner.application.clone(),
            application_version: inner.application_version.clone(),
            environment: inner.environment,
            endpoint: None,
            authorization_id: None,
            deliberation: None,
            drill: inner.drill,
        }
    }
}

/// The outcome record of what step 4 brought back: the raw reply with its status,
/// content type and duration (`received`), or the transport's error.
fn outcome_record(ticket: Uuid, sent: Sent) -> (OutcomeRecord, Result<Received, TransportError>) {
    let mut record = OutcomeRecord {
        ticket,
        replied_at: sent.replied_at,
        duration_ms: sent.duration_ms,
        outcome: "received".to_string(),
        code: None,
        http_status: None,
        content_type: None,
        bcss: Bcss::default(),
        reply: None,
        error: None,
    };
    let received = match sent.result {
        Ok(response) => {
            let body = Bytes::from(response.body);
            record.http_status = Some(response.status);
            record.content_type = response.content_type;
            record.reply = Some(Payload::from(body.clone()));
            Ok(Received {
                status: response.status,
                body,
            })
        }
        Err(e) => {
            tracing::warn!(reason = %e, "transport failed");
            tracing::Span::current().record("outcome", "transport_error");
            record.outcome = "transport_error".to_string();
            record.http_status = e.status();
            record.error = Some(e.to_string());
            Err(e)
        }
    };
    (record, received)
}

/// How a decoded reply is classified in the journal.
fn classification_record<T>(ticket: Uuid, decoded: &Decoded<T>) -> ClassificationRecord {
    let (kind, code) = classify::outcome_parts(&decoded.outcome);
    ClassificationRecord {
        ticket,
        outcome: kind.to_string(),
        code,
        bcss: Bcss {
            ticket: decoded.stamp.ticket.clone(),
            time_receive: decoded.stamp.time_receive.clone(),
            time_reply: decoded.stamp.time_reply.clone(),
        },
        error: decoded.result.as_ref().err().map(ToString::to_string),
    }
}
