//! [`ManifestTrust`]: the keys allowed to sign the manifest, whether a signature is
//! required, and the checks that tell each refusal apart.

use std::path::Path;

use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};

use super::provenance::SignatureStatus;
use super::signature::{SignatureError, SignatureFile, signature_path};
use crate::keys;

/// One key allowed to sign the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PinnedKey {
    key: VerifyingKey,
    fingerprint: String,
}

/// What a manifest's signature must satisfy to load: the keys allowed to sign it
/// (`[manifest] signers`) and whether a signature is required (`require_signature`).
///
/// - Required: the manifest must have a `FILE.sig` made with one of the keys, that
///   verifies, over the manifest's exact bytes.
/// - Not required: an unsigned manifest loads ([`SignatureStatus::Unsigned`]; the
///   [`super::Guard`] says so once per load). A signature that is present is checked all
///   the same and refuses the manifest when broken; with no keys configured it can only be
///   checked against the key it names ([`SignatureStatus::Unpinned`]).
///
/// The default allows unsigned manifests and pins no key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestTrust {
    signers: Vec<PinnedKey>,
    require_signature: bool,
}

impl ManifestTrust {
    /// Trust these keys; [`SignatureError::NoSigners`] when a signature is required and
    /// no key is given.
    pub fn new(
        signers: impl IntoIterator<Item = VerifyingKey>,
        require_signature: bool,
    ) -> Result<ManifestTrust, SignatureError> {
        let mut pinned: Vec<PinnedKey> = Vec::new();
        for key in signers {
            if !pinned.iter().any(|p| p.key == key) {
                pinned.push(PinnedKey {
                    fingerprint: keys::fingerprint(&key),
                    key,
                });
            }
        }
        if require_signature && pinned.is_empty() {
            return Err(SignatureError::NoSigners);
        }
        Ok(ManifestTrust {
            signers: pinned,
            require_signature,
        })
    }

    /// Trust the public keys in these files (SPKI PEM, or 64 hex digits each).
    pub fn from_key_files<P: AsRef<Path>>(
        files: &[P],
        require_signature: bool,
    ) -> Result<ManifestTrust, SignatureError> {
        let keys = files
            .iter()
            .map(|p| keys::load_verifying_key(p.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        ManifestTrust::new(keys, require_signature)
    }

    /// Whether a manifest without a valid signature by a configured key is refused.
    pub fn requires_signature(&self) -> bool {
        self.require_signature
    }

    /// The configured signers' key fingerprints.
    pub fn signer_fingerprints(&self) -> Vec<String> {
        self.signers.iter().map(|p| p.fingerprint.clone()).collect()
    }

    /// Check the signature (`signature`: the text of `FILE.sig`, if any) of the manifest
    /// bytes `bytes`, whose path is `manifest` (only its file name matters here).
    pub fn check(
        &self,
        manifest: &Path,
        bytes: &[u8],
        signature: Option<&str>,
    ) -> Result<SignatureStatus, SignatureError> {
        let manifest_name = manifest.display().to_string();
        let signature_name = signature_path(manifest).display().to_string();
        let Some(text) = signature else {
            if self.require_signature {
                return Err(SignatureError::Missing {
                    manifest: manifest_name,
                    signature: signature_name,
                });
            }
            return Ok(SignatureStatus::Unsigned);
        };
        let file = SignatureFile::parse(text).map_err(|reason| SignatureError::Malformed {
            signature: signature_name.clone(),
            reason,
        })?;
        let pinned = self
            .signers
            .iter()
            .find(|p| p.fingerprint == file.signer.key_fingerprint);
        if pinned.is_none() && (self.require_signature || !self.signers.is_empty()) {
            return Err(SignatureError::UnlistedKey {
                signature: signature_name,
                signer: format!("{} ({})", file.signer.name, file.signer.role),
                fingerprint: file.signer.key_fingerprint,
                configured: self.signer_fingerprints(),
            });
        }
        let key = pinned.map(|p| p.key).unwrap_or(file.public_key);
        if !file.verifies_with(&key) {
            return Err(SignatureError::BadSignature {
                signature: signature_name,
                fingerprint: file.signer.key_fingerprint,
            });
        }
        let actual = hex::encode(Sha256::digest(bytes));
        if file.manifest_sha256 != actual {
            let this_name = manifest
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if file.manifest != this_name {
                return Err(SignatureError::OtherManifest {
                    signature: signature_name,
                    manifest: manifest_name,
                    signed_for: file.manifest,
                    signed_sha256: file.manifest_sha256,
                    actual_sha256: actual,
                });
            }
            return Err(SignatureError::ManifestChanged {
                manifest: manifest_name,
                signer: file.signer.to_string(),
                signed_sha256: file.manifest_sha256,
                actual_sha256: actual,
            });
        }
        Ok(match pinned {
            Some(_) => SignatureStatus::Verified(file.signer),
            None => SignatureStatus::Unpinned(file.signer),
        })
    }

    /// Whether a policy already checked (with `status`) may be put in force under this
    /// trust: the same rule as [`ManifestTrust::check`], for a policy built elsewhere.
    /// `source` names it in the error.
    pub fn admits(&self, status: &SignatureStatus, source: &str) -> Result<(), SignatureError> {
        let signer = match status {
            SignatureStatus::Unsigned if self.require_signature => {
                return Err(SignatureError::Missing {
                    manifest: source.to_string(),
                    signature: signature_path(Path::new(source)).display().to_string(),
                });
            }
            SignatureStatus::Unsigned => return Ok(()),
            SignatureStatus::Verified(s) | SignatureStatus::Unpinned(s) => s,
        };
        // A fingerprint is the SHA-256 of the key: a signature checked with a key of this
        // fingerprint was checked with the pinned key. With no key pinned (and so no
        // signature required), an intact signature is enough, as in `check`.
        if self.signers.is_empty()
            || self
                .signers
                .iter()
                .any(|p| p.fingerprint == signer.key_fingerprint)
        {
            return Ok(());
        }
        Err(SignatureError::UnlistedKey {
            signature: signature_path(Path::new(source)).display().to_string(),
            signer: format!("{} ({})", signer.name, signer.role),
            fingerprint: signer.key_fingerprint.clone(),
            configured: self.signer_fingerprints(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    #[test]
    fn trust_needs_a_key_when_required() {
        assert_eq!(ManifestTrust::new([], true), Err(SignatureError::NoSigners));
        let t = ManifestTrust::new([], false).unwrap();
        assert_eq!(t, ManifestTrust::default());
        let k = SigningKey::from_bytes(&[1; 32]).verifying_key();
        let t = ManifestTrust::new([k, k], true).unwrap();
        assert_eq!(t.signer_fingerprints(), vec![keys::fingerprint(&k)]);
    }
}
