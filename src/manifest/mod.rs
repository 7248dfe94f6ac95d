//! The authorisation manifest (`authorizations.toml`) and the guard that checks every
//! call against it.
//!
//! - [`validate`] reads the TOML text and reports every problem as
//!   `FILE:line:col: message` ([`Diagnostic`]); unknown keys are errors.
//! - [`Policy`] is a valid manifest, indexed by environment, service, operation and
//!   purpose; [`Policy::decide`] explains the order of the checks.
//! - [`Guard`] holds the policy in force and swaps it whole on reload.
//! - [`ManifestTrust`] says which keys may sign the manifest and whether a signature is
//!   required; the signature is a detached `FILE.sig` ([`SignatureFile`]), and every
//!   loaded [`Policy`] names the exact bytes it came from ([`ManifestRef`]).
//! - [`diff`] tells an advisor, field by field, what a new version of the manifest changes.
//!
//! # The format
//!
//! ```toml
//! [organization]
//! cbe = "0212344876"            # CBE number, check digits verified
//! name = "CPAS de Test"
//! sector = 17                   # SSDN MatrixID
//! sub_sector = 0                # optional SSDN MatrixSubID
//!
//! [[authorization]]
//! id = "identify-acpt"          # unique
//! environment = "acceptance"    # exactly one of test, acceptance, production
//! service = "IdentifyPerson"    # a service of the catalogue (built-in or configured)
//! operations = ["identifyPerson"]   # optional: default every operation of the service
//! purpose = "PCSA:SOCIAL_INQUIRY"   # the legalContext; matched exactly; one of the
//!                                   # service's values when its schema has a closed list
//! program = "00912345678"       # 11 digits, as a string
//! deliberation = "13/084"       # YY/NNN or "not-applicable"; required in production
//! valid_from = 2025-01-01       # a UTC day, or an RFC 3339 datetime with offset
//! valid_until = 2025-12-31      # inclusive: through 23:59:59.999999999 UTC that day
//! granted_by = "security-advisor"   # leading-official, deputy or security-advisor
//! note = "free text"            # optional
//! # access_purposes = [1, 7]    # ManageAccess only: the BCSS purpose codes covered;
//! #                             # required when the entry covers register or unregister
//! ```
//!
//! The complete commented example is `fixtures/manifests/example-authorizations.toml`.

use std::fmt;

use serde::Serialize;

use crate::environment::Environment;
use crate::ids::{Cbe, Deliberation, ProgramId};

mod diagnostic;
mod diff;
mod entry;
mod guard;
mod load;
mod policy;
mod provenance;
mod signature;
mod trust;
mod validate;

pub(crate) use diagnostic::suggestion;
pub use diagnostic::{Diagnostic, Severity};
pub use diff::{Change, ManifestDiff, diff};
pub use entry::{Bound, Entry, GrantedBy};
pub use guard::{Guard, ReloadReport};
pub use load::{check_signature, read_manifest, sign_manifest, sign_manifest_with};
pub use policy::Policy;
pub use provenance::{ManifestRef, ManifestSigner, SignatureStatus};
pub use signature::{SIGNATURE_FORMAT, SignatureError, SignatureFile, signature_path};
pub use trust::ManifestTrust;
pub use validate::{MAX_MANIFEST_BYTES, validate, validate_with};

/// The facts of one call, as the guard sees them.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The environment the client is configured for.
    pub environment: Environment,
    /// The service called, by its catalogue name.
    pub service: &'a str,
    /// The operation called.
    pub operation: &'a str,
    /// The purpose the caller stated.
    pub purpose: &'a str,
    /// The program number the client is configured with, if any.
    pub program: Option<&'a ProgramId>,
    /// The BCSS purpose code the request carries (ManageAccess `Purpose`), if any. A code
    /// is granted only by an entry whose `access_purposes` lists it.
    pub access_purpose: Option<u32>,
}

/// A deliberation number, or the explicit statement that none applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DeliberationRef {
    /// A deliberation `YY/NNN`.
    Number(Deliberation),
    /// `not-applicable`: no deliberation is required, said explicitly.
    NotApplicable,
}

impl fmt::Display for DeliberationRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeliberationRef::Number(d) => write!(f, "{d}"),
            DeliberationRef::NotApplicable => f.write_str("not-applicable"),
        }
    }
}

/// The organisation the manifest is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organization {
    /// Its CBE number.
    pub cbe: Cbe,
    /// Its name.
    pub name: String,
    /// Its sector (SSDN MatrixID).
    pub sector: u32,
    /// Its sub-sector (SSDN MatrixSubID).
    pub sub_sector: Option<u32>,
}

/// The guard allowed the call, under one manifest entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// The entry's `id`.
    pub authorization_id: String,
    /// The granted purpose: the legalContext sent.
    pub purpose: String,
    /// The granted program number: the SSDN UserID sent.
    pub program: ProgramId,
    /// The entry's deliberation.
    pub deliberation: DeliberationRef,
}

/// Why the guard refused a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum DenialReason {
    /// Nothing for this service (or operation) in this environment.
    NoAuthorization,
    /// Authorised only in another environment.
    WrongEnvironment,
    /// The purpose is not authorised.
    PurposeNotAuthorized,
    /// The BCSS purpose code of a ManageAccess request is not one the entry lists in
    /// `access_purposes`.
    AccessPurposeNotAuthorized,
    /// The client's program number is not the one granted.
    ProgramMismatch,
    /// The entry is not valid yet.
    NotYetValid,
    /// The entry has expired.
    Expired,
    /// No valid manifest is loaded.
    NoValidManifest,
}

impl DenialReason {
    /// A stable code for logs, the journal and the CLI.
    pub fn code(self) -> &'static str {
        match self {
            DenialReason::NoAuthorization => "no_authorization",
            DenialReason::WrongEnvironment => "wrong_environment",
            DenialReason::PurposeNotAuthorized => "purpose_not_authorized",
            DenialReason::AccessPurposeNotAuthorized => "access_purpose_not_authorized",
            DenialReason::ProgramMismatch => "program_mismatch",
            DenialReason::NotYetValid => "not_yet_valid",
            DenialReason::Expired => "expired",
            DenialReason::NoValidManifest => "no_valid_manifest",
        }
    }
}

/// The guard refused the call: the reason, and an explanation naming the nearest entry
/// and what differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("call refused ({}): {message}", reason.code())]
pub struct Denial {
    /// The reason.
    pub reason: DenialReason,
    /// The nearest manifest entry, if any.
    pub nearest_entry: Option<String>,
    /// What differs and what to do.
    pub message: String,
}

/// The guard's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Decision {
    /// Allowed.
    Grant(Grant),
    /// Refused.
    Deny(Denial),
}

/// A manifest could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// The manifest is invalid: every problem, as `FILE:line:col: message`.
    #[error("invalid manifest:\n{}", .0.join("\n"))]
    Invalid(Vec<String>),
    /// The manifest file could not be read.
    #[error("{path}: cannot read the manifest: {reason}")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A reload was asked of a guard that was not loaded from a file.
    #[error("this guard was not loaded from a file, so it has nothing to reload")]
    NoSource,
    /// The manifest's signature does not let it load: missing while required, made with
    /// a key that is not a configured signer, broken, or for other bytes.
    #[error(transparent)]
    Signature(#[from] SignatureError),
}
