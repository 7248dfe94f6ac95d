//! The journal's records: WHO, WHAT, WHEN, HOW, the decision, the full request and reply.
//!
//! Two enums: [`CallRecord`] holds what an application (the client's call path, the CLI)
//! may append through [`Journal::append`](super::Journal::append); [`Record`] is what is
//! read back, and adds the kinds only the journal itself writes (genesis, checkpoints,
//! truncations, prunes). A caller therefore cannot forge a checkpoint through the API:
//!
//! ```compile_fail
//! use bcss::audit::{CallRecord, CheckpointRecord};
//! // There is no CallRecord::Checkpoint (nor Genesis, Truncation or Prune).
//! fn forge(c: CheckpointRecord) -> CallRecord {
//!     CallRecord::Checkpoint(c)
//! }
//! ```
//!
//! ```compile_fail
//! use bcss::audit::{Journal, Record, CheckpointRecord};
//! // `append` takes a CallRecord; a Record (of any kind) is refused by the compiler.
//! async fn forge(journal: &dyn Journal, c: CheckpointRecord) {
//!     journal.append(Record::Checkpoint(c)).await.ok();
//! }
//! ```

mod journal_kinds;
mod payload;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::environment::Environment;
use crate::ids::Ssin;

/// The manifest a decision was taken under (its digest and signer): the manifest module's
/// own type, written as is in denial, intent and manifest-load records.
pub use crate::manifest::ManifestRef;
pub use journal_kinds::{
    CheckpointRecord, GenesisRecord, PruneRecord, PrunedSegment, TruncationRecord,
};
pub use payload::Payload;
pub(crate) use payload::{collecting, providing};

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
    /// A production client explicitly allowed to call a loopback or plain-http endpoint (a
    /// drill): every record of such a client says so.
    #[serde(default)]
    pub drill: bool,
}

/// Which attempt of a call this is (retries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// The ticket of the call's first attempt.
    pub first_ticket: Uuid,
    /// This attempt's number (the first attempt is 1).
    pub number: u32,
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

/// A call that was refused: by the guard, or after the grant (nothing was sent either way).
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
    /// The manifest in force.
    #[serde(default)]
    pub manifest: Option<ManifestRef>,
    /// Where the call was refused: `guard` (the guard denied it), `after_grant` (clock,
    /// endpoint, contact e-mail, encoding, organisation mismatch), `before_guard` (no
    /// user named).
    #[serde(default)]
    pub stage: String,
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
    /// The manifest in force.
    #[serde(default)]
    pub manifest: Option<ManifestRef>,
    /// The operation writes at BCSS (e.g. a ManageAccess registration).
    #[serde(default)]
    pub write: bool,
    /// Which retry this is; `None` for a first attempt.
    #[serde(default)]
    pub attempt: Option<Attempt>,
}

/// What came back for a granted call: the raw reply (made durable before it is decoded),
/// or the transport error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeRecord {
    /// Our ticket, as in the intent record.
    pub ticket: Uuid,
    /// When the reply (or the transport error) came.
    pub replied_at: DateTime<Utc>,
    /// From send to reply, in milliseconds.
    pub duration_ms: u64,
    /// `received` (a reply is kept; its classification follows in a
    /// [`ClassificationRecord`]) or `transport_error`; a record may also carry a
    /// classification itself: `ok`, `warning`, `no_data`, `business_error`, `soap_fault`,
    /// `undecodable`, `http_error`.
    pub outcome: String,
    /// The business or fault code, when there is one.
    pub code: Option<String>,
    /// The HTTP status, when a reply came.
    pub http_status: Option<u16>,
    /// The reply's `Content-Type`, when a reply came.
    #[serde(default)]
    pub content_type: Option<String>,
    /// BCSS's ticket and timestamps.
    pub bcss: Bcss,
    /// The full reply body, when a reply came.
    pub reply: Option<Payload>,
    /// The transport or decoding error, when there was one.
    pub error: Option<String>,
}

/// How a received reply was classified once decoded. Derivable from the outcome record's
/// raw reply, so it may be written without waiting for its fsync
/// ([`Journal::append_deferred`](super::Journal::append_deferred)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassificationRecord {
    /// Our ticket, as in the intent and outcome records.
    pub ticket: Uuid,
    /// `ok`, `warning`, `no_data`, `business_error`, `soap_fault`, `undecodable` or
    /// `http_error`.
    pub outcome: String,
    /// The business or fault code, when there is one.
    pub code: Option<String>,
    /// BCSS's ticket and timestamps, as decoded.
    pub bcss: Bcss,
    /// The decoding error, when there was one.
    pub error: Option<String>,
}

/// Someone read the journal (`bcss audit query`, `show`, `export` and `verify` name the
/// reader with `--reader`): who read what about whom, when. Written, and durable, before
/// anything is shown.
///
/// ```
/// use bcss::audit::ReadRecord;
/// let read = ReadRecord::new("advisor-7", "show", vec!["0190c2a4-...".into()]);
/// assert!(read.subjects.is_empty() && read.head.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadRecord {
    /// When.
    pub at: DateTime<Utc>,
    /// The reader's id, as given.
    pub reader: String,
    /// The command: `verify`, `query`, `show` or `export`.
    pub command: String,
    /// The command's arguments (filters, ticket), as given.
    #[serde(default)]
    pub arguments: Vec<String>,
    /// The journal read (its genesis record's id), when the read is recorded elsewhere
    /// (a file journal's reads chain, `reads/`).
    #[serde(default)]
    pub journal_id: Option<Uuid>,
    /// The last record of the journal the read covered (`SEQUENCE:HEX`, a
    /// [`Head`](super::Head)): what was shown is the journal up to there, so the same command
    /// over the same records shows it again.
    #[serde(default)]
    pub head: Option<String>,
    /// How many exchanges were shown.
    #[serde(default)]
    pub exchanges: Option<u64>,
    /// Whom the read was about: the subjects (SSINs) of the exchanges shown, sorted, at
    /// most [`ReadRecord::MAX_SUBJECTS`].
    #[serde(default)]
    pub subjects: Vec<String>,
    /// Subjects shown beyond [`ReadRecord::MAX_SUBJECTS`], not listed.
    #[serde(default)]
    pub subjects_omitted: u64,
}

impl ReadRecord {
    /// The most subjects one read record lists (the rest are counted).
    pub const MAX_SUBJECTS: usize = 10_000;

    /// A read by `reader` with `command` and its `arguments`, now; what it covered is
    /// filled in by the caller.
    pub fn new(
        reader: impl Into<String>,
        command: impl Into<String>,
        arguments: Vec<String>,
    ) -> Self {
        ReadRecord {
            at: Utc::now(),
            reader: reader.into(),
            command: command.into(),
            arguments,
            journal_id: None,
            head: None,
            exchanges: None,
            subjects: Vec::new(),
            subjects_omitted: 0,
        }
    }

    /// Set the subjects, keeping at most [`ReadRecord::MAX_SUBJECTS`].
    pub fn with_subjects(mut self, mut subjects: Vec<String>) -> Self {
        if subjects.len() > Self::MAX_SUBJECTS {
            self.subjects_omitted = (subjects.len() - Self::MAX_SUBJECTS) as u64;
            subjects.truncate(Self::MAX_SUBJECTS);
        }
        self.subjects = subjects;
        self
    }
}

/// The authorisation manifest was loaded or reloaded (or a reload was refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestLoadRecord {
    /// When.
    pub at: DateTime<Utc>,
    /// Where the manifest came from (its path, or the name given to `from_str`).
    pub source: String,
    /// What triggered it: `start`, `reload`, `reload_from_str`, or what the caller says.
    pub trigger: String,
    /// Whether the new manifest was accepted (a refused reload keeps the old one).
    pub accepted: bool,
    /// The manifest in force before.
    #[serde(default)]
    pub old: Option<ManifestRef>,
    /// The manifest loaded (when it could be read).
    #[serde(default)]
    pub new: Option<ManifestRef>,
    /// Why it was refused.
    #[serde(default)]
    pub error: Option<String>,
}

/// What an application may append: records about calls, reads and manifest loads. The
/// journal's own kinds (genesis, checkpoint, truncation, prune) are not among them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallRecord {
    /// A call was refused.
    Denial(DenialRecord),
    /// A granted call, before sending.
    Intent(IntentRecord),
    /// What came back.
    Outcome(OutcomeRecord),
    /// How the reply was classified.
    Classification(ClassificationRecord),
    /// Someone read the journal.
    Read(ReadRecord),
    /// The manifest was loaded or reloaded.
    ManifestLoad(ManifestLoadRecord),
}

impl CallRecord {
    /// The record's type as written in the journal (see [`Record::kind`]).
    pub fn kind(&self) -> &'static str {
        Record::from(self.clone()).kind()
    }
}

impl From<CallRecord> for Record {
    fn from(record: CallRecord) -> Self {
        match record {
            CallRecord::Denial(r) => Record::Denial(r),
            CallRecord::Intent(r) => Record::Intent(r),
            CallRecord::Outcome(r) => Record::Outcome(r),
            CallRecord::Classification(r) => Record::Classification(r),
            CallRecord::Read(r) => Record::Read(r),
            CallRecord::ManifestLoad(r) => Record::ManifestLoad(r),
        }
    }
}

/// One journal record, as read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Record {
    /// A call was refused.
    Denial(DenialRecord),
    /// A granted call, before sending.
    Intent(IntentRecord),
    /// What came back.
    Outcome(OutcomeRecord),
    /// How the reply was classified.
    Classification(ClassificationRecord),
    /// Someone read the journal.
    Read(ReadRecord),
    /// The manifest was loaded or reloaded.
    ManifestLoad(ManifestLoadRecord),
    /// The journal's first record.
    Genesis(GenesisRecord),
    /// The journal's head, possibly signed.
    Checkpoint(CheckpointRecord),
    /// Opening the journal cut a bad final record (kept in quarantine).
    Truncation(TruncationRecord),
    /// Old segments were removed.
    Prune(PruneRecord),
}

impl Record {
    /// The record's type as written in the journal (`denial`, `intent`, `outcome`,
    /// `classification`, `read`, `manifest_load`, `genesis`, `checkpoint`, `truncation`,
    /// `prune`).
    pub fn kind(&self) -> &'static str {
        match self {
            Record::Denial(_) => "denial",
            Record::Intent(_) => "intent",
            Record::Outcome(_) => "outcome",
            Record::Classification(_) => "classification",
            Record::Read(_) => "read",
            Record::ManifestLoad(_) => "manifest_load",
            Record::Genesis(_) => "genesis",
            Record::Checkpoint(_) => "checkpoint",
            Record::Truncation(_) => "truncation",
            Record::Prune(_) => "prune",
        }
    }

    /// Our ticket, for the records that belong to a call.
    pub fn ticket(&self) -> Option<Uuid> {
        match self {
            Record::Denial(r) => Some(r.ticket),
            Record::Intent(r) => Some(r.ticket),
            Record::Outcome(r) => Some(r.ticket),
            Record::Classification(r) => Some(r.ticket),
            _ => None,
        }
    }

    /// Whether only the journal itself writes records of this kind.
    pub fn is_journal_kind(&self) -> bool {
        matches!(
            self,
            Record::Genesis(_) | Record::Checkpoint(_) | Record::Truncation(_) | Record::Prune(_)
        )
    }
}
