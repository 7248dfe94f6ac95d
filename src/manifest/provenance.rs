//! Which manifest a decision was taken under: [`ManifestRef`], and who signed it.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::entry::GrantedBy;

/// The manifest in force, as a decision record names it: the SHA-256 of the manifest
/// file's exact bytes, and, when it was signed, the signing key's fingerprint and the
/// signer's name and role.
///
/// Absent fields deserialize as `None`, so a record written before signatures existed
/// still reads.
///
/// ```
/// let r = bcss::manifest::ManifestRef::unsigned(b"[organization]\n");
/// assert_eq!(r.sha256.len(), 64);
/// assert!(r.signer.is_none() && r.signed_by.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct ManifestRef {
    /// Lowercase hex of the SHA-256 of the manifest file's exact bytes (64 characters).
    #[serde(default)]
    pub sha256: String,
    /// The signing key's fingerprint (`SHA256:` + base64, see [`crate::keys::fingerprint`]),
    /// when the manifest was loaded with an intact signature.
    #[serde(default)]
    pub signer: Option<String>,
    /// The signer's name and role as the signature states them: `"Ada Advisor
    /// (security-advisor)"`.
    #[serde(default)]
    pub signed_by: Option<String>,
}

impl ManifestRef {
    /// The reference of unsigned manifest bytes.
    pub fn unsigned(bytes: &[u8]) -> ManifestRef {
        ManifestRef {
            sha256: sha256_hex(bytes),
            signer: None,
            signed_by: None,
        }
    }
}

impl fmt::Display for ManifestRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256 {}", self.sha256)?;
        match (&self.signed_by, &self.signer) {
            (Some(by), Some(key)) => write!(f, ", signed by {by} with key {key}"),
            _ => f.write_str(", unsigned"),
        }
    }
}

/// Lowercase hex SHA-256.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Who signed a manifest, as its signature states and its key proves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManifestSigner {
    /// The signer's name, as they gave it when signing.
    pub name: String,
    /// Their role: who may sign a request for authorisation.
    pub role: GrantedBy,
    /// When they signed (UTC, to the second).
    pub signed_at: DateTime<Utc>,
    /// The signing key's fingerprint.
    pub key_fingerprint: String,
}

impl fmt::Display for ManifestSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}) on {} with key {}",
            self.name,
            self.role,
            self.signed_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            self.key_fingerprint
        )
    }
}

/// The signature state of a loaded manifest. A broken signature never loads: it is a
/// [`super::SignatureError`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum SignatureStatus {
    /// No signature (no `FILE.sig` beside the manifest, or a manifest given as text).
    Unsigned,
    /// Signed with one of the configured signers' keys; the signature verifies and
    /// covers these exact bytes.
    Verified(ManifestSigner),
    /// The signature verifies with the key it names and covers these exact bytes, but no
    /// signer keys are configured, so nothing says that key may sign. Only possible
    /// without `require_signature`.
    Unpinned(ManifestSigner),
}

impl SignatureStatus {
    /// The signer, when signed.
    pub fn signer(&self) -> Option<&ManifestSigner> {
        match self {
            SignatureStatus::Unsigned => None,
            SignatureStatus::Verified(s) | SignatureStatus::Unpinned(s) => Some(s),
        }
    }
}

impl fmt::Display for SignatureStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureStatus::Unsigned => f.write_str("unsigned"),
            SignatureStatus::Verified(s) => write!(f, "signed by {s} (a configured signer)"),
            SignatureStatus::Unpinned(s) => write!(
                f,
                "signed by {s}; that key is not checked against configured signers (none \
                 are configured)"
            ),
        }
    }
}
