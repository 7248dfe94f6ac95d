//! [`enum@Error`]: every module's error folded into one type that says what to do next.

use crate::audit::AuditError;
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
    /// The audit journal could not record the call, so it was refused.
    #[error(transparent)]
    Audit(#[from] AuditError),
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
    /// The client is misconfigured.
    #[error("client configuration: {0}")]
    Config(String),
}
