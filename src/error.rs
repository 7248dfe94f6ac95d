//! [`enum@Error`]: every module's error folded into one type that says what to do next.

use crate::audit::AuditError;
use crate::clock::ClockError;
use crate::ids::IdError;
use crate::manifest::{Denial, ManifestError};
use crate::services::RequestError;
use crate::soap::SoapError;
use crate::ssdn::SsdnError;
use crate::transport::TransportError;
use crate::v3::V3Error;

/// Everything a bcss call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An identifier is invalid.
    #[error(transparent)]
    Id(#[from] IdError),
    /// A request builder refused an invalid combination. Nothing was sent.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The guard refused the call. It was journaled; nothing was sent.
    #[error(transparent)]
    Denied(#[from] Denial),
    /// The manifest could not be loaded.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The audit journal failed outside a call (opening, closing, reading).
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The audit journal could not record the call (its intent, or its refusal), so the
    /// call was refused and nothing was sent.
    #[error(
        "the call was refused and nothing was sent: the audit journal could not record it: {0}"
    )]
    JournalRefused(AuditError),
    /// The request was sent (its intent is durably journaled) but its outcome could not be
    /// recorded. The reply is withheld; `source` says why (and what to fix).
    #[error(
        "the request was sent (ticket {ticket}, intent journaled) but its outcome could not be recorded: {source}"
    )]
    OutcomeNotRecorded {
        /// Our ticket for the call, as in its intent record.
        ticket: uuid::Uuid,
        /// Why the outcome could not be recorded.
        source: AuditError,
    },
    /// The transport failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The SOAP envelope of the reply could not be read, or was a fault.
    #[error(transparent)]
    Soap(#[from] SoapError),
    /// An SSDN reply reported an error.
    #[error(transparent)]
    Ssdn(#[from] SsdnError),
    /// A common-v3 reply reported an error.
    #[error(transparent)]
    V3(#[from] V3Error),
    /// The clock cannot be trusted, so the call was refused before anything was recorded
    /// or sent.
    #[error(transparent)]
    Clock(#[from] ClockError),
    /// The call named no physical user (WHO). It was journaled as refused; nothing was
    /// sent.
    #[error("call refused: {0}")]
    MissingUser(String),
    /// The client is misconfigured.
    #[error("client configuration: {0}")]
    Config(String),
}
