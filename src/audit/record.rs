//! The journal's records: WHO, WHAT, WHEN, HOW, the decision, the full request and reply.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::AuditError;
use crate::environment::Environment;
use crate::ids::Ssin;

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
///
/// `Debug` masks the subjects: the journal is the one place that keeps them in full.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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

impl fmt::Debug for What {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let subjects: Vec<String> = self.subjects.iter().map(|s| mask_subject(s)).collect();
        f.debug_struct("What")
            .field("service", &self.service)
            .field("operation", &self.operation)
            .field("subjects", &subjects)
            .field("purpose", &self.purpose)
            .finish()
    }
}

/// The masked form of a subject for `Debug`: a valid SSIN keeps its birth date part,
/// anything else is hidden entirely.
fn mask_subject(subject: &str) -> String {
    match Ssin::new(subject) {
        Ok(ssin) => ssin.masked(),
        Err(_) => "***********".to_string(),
    }
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
///
/// `Debug` shows only the encoding and the length: a request or reply holds personal data.
///
/// ```
/// use bcss::audit::Payload;
/// let text = Payload::from_bytes(b"<soap:Envelope/>");
/// assert_eq!(text, Payload::Text("<soap:Envelope/>".to_string()));
/// let binary = Payload::from_bytes(&[0xff, 0x00]);
/// assert_eq!(binary, Payload::Base64("/wA=".to_string()));
/// assert_eq!(binary.to_bytes().unwrap(), vec![0xff, 0x00]);
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "encoding", content = "data", rename_all = "lowercase")]
pub enum Payload {
    /// UTF-8 text, kept as is.
    Text(String),
    /// Anything else, base64 (standard alphabet, padded).
    Base64(String),
}

impl Payload {
    /// Keep `bytes`: as [`Payload::Text`] when they are valid UTF-8, else as
    /// [`Payload::Base64`].
    pub fn from_bytes(bytes: &[u8]) -> Payload {
        match std::str::from_utf8(bytes) {
            Ok(text) => Payload::Text(text.to_string()),
            Err(_) => Payload::Base64(BASE64.encode(bytes)),
        }
    }

    /// The original bytes. Fails only when a [`Payload::Base64`] does not hold valid base64
    /// (a record that was not written by this journal).
    pub fn to_bytes(&self) -> Result<Vec<u8>, AuditError> {
        match self {
            Payload::Text(text) => Ok(text.as_bytes().to_vec()),
            Payload::Base64(data) => BASE64
                .decode(data)
                .map_err(|e| AuditError::Decode(format!("payload is not valid base64: {e}"))),
        }
    }

    /// The encoding's name as written in the journal: `text` or `base64`.
    pub fn encoding(&self) -> &'static str {
        match self {
            Payload::Text(_) => "text",
            Payload::Base64(_) => "base64",
        }
    }

    /// The stored form: the text itself, or the base64 string.
    pub fn as_stored_str(&self) -> &str {
        match self {
            Payload::Text(s) | Payload::Base64(s) => s,
        }
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Payload::Text(s) => write!(f, "Text(<{} bytes>)", s.len()),
            Payload::Base64(s) => write!(f, "Base64(<{} chars>)", s.len()),
        }
    }
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

/// The journal's head at one point, written every N records or minutes and at clean
/// shutdown. Signed with Ed25519 when the configuration provides a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointRecord {
    /// When the checkpoint was written.
    pub at: DateTime<Utc>,
    /// The sequence number of the last record it covers (the record just before it).
    pub sequence: u64,
    /// The chain hash after that record, lowercase hex.
    pub head: String,
    /// Why it was written: `records`, `interval`, `shutdown` or `manual`.
    pub reason: String,
    /// The Ed25519 public key that signed it, hex (absent when unsigned).
    #[serde(default)]
    pub public_key: Option<String>,
    /// The Ed25519 signature over `bcss-journal-checkpoint-v1`, the sequence and the head,
    /// hex (absent when unsigned).
    #[serde(default)]
    pub signature: Option<String>,
}

/// What opening the journal cut off: an incomplete final record left by a crash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruncationRecord {
    /// When the truncation was done.
    pub at: DateTime<Utc>,
    /// The segment file that was cut.
    pub segment: String,
    /// The byte offset it was cut at (its new length).
    pub offset: u64,
    /// How many bytes were cut.
    pub bytes_cut: u64,
    /// SHA-256 of the bytes cut, hex.
    pub cut_sha256: String,
    /// The sequence number the cut bytes would have had.
    pub sequence: u64,
    /// What was wrong with them.
    pub reason: String,
}

/// Someone read the journal through the CLI (`--reader`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadRecord {
    /// When.
    pub at: DateTime<Utc>,
    /// The reader's id, as given.
    pub reader: String,
    /// The command: `verify`, `query` or `show`.
    pub command: String,
    /// The command's arguments (filters, ticket), as given.
    #[serde(default)]
    pub arguments: Vec<String>,
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
    /// The journal's head, possibly signed.
    Checkpoint(CheckpointRecord),
    /// Opening the journal cut an incomplete final record.
    Truncation(TruncationRecord),
    /// Someone read the journal.
    Read(ReadRecord),
}

impl Record {
    /// The record's type as written in the journal (`denial`, `intent`, `outcome`,
    /// `checkpoint`, `truncation`, `read`).
    pub fn kind(&self) -> &'static str {
        match self {
            Record::Denial(_) => "denial",
            Record::Intent(_) => "intent",
            Record::Outcome(_) => "outcome",
            Record::Checkpoint(_) => "checkpoint",
            Record::Truncation(_) => "truncation",
            Record::Read(_) => "read",
        }
    }

    /// Our ticket, for the records that belong to a call.
    pub fn ticket(&self) -> Option<Uuid> {
        match self {
            Record::Denial(r) => Some(r.ticket),
            Record::Intent(r) => Some(r.ticket),
            Record::Outcome(r) => Some(r.ticket),
            Record::Checkpoint(_) | Record::Truncation(_) | Record::Read(_) => None,
        }
    }
}
