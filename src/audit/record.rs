//! The journal's records: WHO, WHAT, WHEN, HOW, the decision, the full request and reply.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::environment::Environment;

/// WHO made the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Who {
    /// The physical user's id, as the application gives it.
    pub user_id: String,
    /// The physical user's display name, if given.
    pub user_name: Option<String>,
    /// The program number the call was made under, when one was used.
    pub program: Option<String>,
}

/// WHAT the call bore on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct What {
    /// The service name.
    pub service: String,
    /// The operation.
    pub operation: String,
    /// The SSINs the request is about, in full (the journal is the one place that keeps
    /// them).
    pub subjects: Vec<String>,
    /// The purpose the caller stated (sent as legalContext by common-v3 services).
    pub purpose: String,
}

/// HOW the call was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct How {
    /// The application's name.
    pub application: String,
    /// The application's version.
    pub application_version: String,
    /// The environment.
    pub environment: Environment,
    /// The endpoint URL, once resolved.
    pub endpoint: Option<String>,
    /// The manifest entry that granted the call.
    pub authorization_id: Option<String>,
    /// That entry's deliberation (`YY/NNN` or `not-applicable`).
    pub deliberation: Option<String>,
}

/// BCSS's identification of the exchange (WHEN, on BCSS's side).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bcss {
    /// SSDN `Ticket` or common-v3 `ticketCBSS`.
    pub ticket: Option<String>,
    /// `TimeReceive` / `timestampReceive`, as BCSS wrote it.
    pub time_receive: Option<String>,
    /// `TimeResponse` / `timestampReply`, as BCSS wrote it.
    pub time_reply: Option<String>,
}

/// Bytes kept in a record: text when they are UTF-8, base64 otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "encoding", content = "data", rename_all = "lowercase")]
pub enum Payload {
    /// UTF-8 text, kept as is.
    Text(String),
    /// Anything else, base64 (standard alphabet, padded).
    Base64(String),
}

/// A call the guard refused. Nothing was encoded or sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenialRecord {
    /// Our ticket for the attempt.
    pub ticket: Uuid,
    /// When the guard decided.
    pub decided_at: DateTime<Utc>,
    /// WHO.
    pub who: Who,
    /// WHAT.
    pub what: What,
    /// HOW.
    pub how: How,
    /// The denial's reason code (e.g. `purpose_not_authorized`).
    pub reason_code: String,
    /// The denial's explanation.
    pub message: String,
}

/// A granted call, written (and made durable) before the first byte is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntentRecord {
    /// Our ticket, shared with the outcome record.
    pub ticket: Uuid,
    /// When the guard decided.
    pub decided_at: DateTime<Utc>,
    /// When the request is about to be sent.
    pub sent_at: DateTime<Utc>,
    /// WHO.
    pub who: Who,
    /// WHAT.
    pub what: What,
    /// HOW (the grant's entry and deliberation included).
    pub how: How,
    /// The SOAPAction sent.
    pub soap_action: String,
    /// The full request envelope.
    pub request: Payload,
}

/// How a granted call ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRecord {
    /// Our ticket, as in the intent record.
    pub ticket: Uuid,
    /// When the reply (or the transport error) came.
    pub replied_at: DateTime<Utc>,
    /// From send to reply, in milliseconds.
    pub duration_ms: u64,
    /// The outcome kind: `ok`, `warning`, `no_data`, `business_error`, `soap_fault`,
    /// `undecodable`, `transport_error`.
    pub outcome: String,
    /// The business or fault code, when there is one.
    pub code: Option<String>,
    /// The HTTP status, when a reply came.
    pub http_status: Option<u16>,
    /// BCSS's ticket and timestamps.
    pub bcss: Bcss,
    /// The full reply body, when a reply came.
    pub reply: Option<Payload>,
    /// The transport or decoding error, when there was one.
    pub error: Option<String>,
}

/// One journal record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Record {
    /// The guard refused a call.
    Denial(DenialRecord),
    /// A granted call, before sending.
    Intent(IntentRecord),
    /// How a granted call ended.
    Outcome(OutcomeRecord),
}
