//! Reading a manifest file, checking its signature, and turning it into a [`Policy`] or a
//! [`ManifestError`]; signing one.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;

use super::ManifestError;
use super::diagnostic::Diagnostic;
use super::entry::GrantedBy;
use super::policy::Policy;
use super::signature::{SignatureFile, read_signature, write_signature};
use super::trust::ManifestTrust;
use super::validate::{MAX_MANIFEST_BYTES, validate_with};
use crate::services::Catalogue;

/// Read a manifest file: at most [`MAX_MANIFEST_BYTES`], UTF-8.
pub fn read_manifest(path: &Path) -> Result<String, ManifestError> {
    let unreadable = |reason: String| ManifestError::Unreadable {
        path: path.display().to_string(),
        reason,
    };
    let bytes = crate::regular_file::read_regular(path, MAX_MANIFEST_BYTES as u64)
        .map_err(|e| unreadable(e.to_string()))?;
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(unreadable(format!(
            "larger than the limit of {MAX_MANIFEST_BYTES} bytes"
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        unreadable(format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

impl Policy {
    /// Validate a manifest's text into a policy; `file_name` is used in the messages.
    ///
    /// ```
    /// use bcss::manifest::Policy;
    /// let text = r#"
    /// [organization]
    /// cbe = "0212344876"
    /// name = "CPAS de Test"
    /// sector = 17
    /// "#;
    /// let policy = Policy::parse(text, "authorizations.toml").unwrap();
    /// assert_eq!(policy.organization().name, "CPAS de Test");
    /// assert!(policy.entries().is_empty());
    /// ```
    pub fn parse(text: &str, file_name: &str) -> Result<Policy, ManifestError> {
        Policy::parse_with(text, file_name, Catalogue::builtin())
    }

    /// Validate a manifest's text against `catalogue` (built-in and configured services).
    pub fn parse_with(
        text: &str,
        file_name: &str,
        catalogue: &Catalogue,
    ) -> Result<Policy, ManifestError> {
        validate_with(text, file_name, catalogue).map_err(invalid)
    }

    /// Validate a manifest's text whose signature file's text is `signature` (or that has
    /// none), checking the signature against `trust` first. `path` names the manifest in
    /// messages; its file name is what a signature for another manifest is told apart by.
    pub fn parse_signed(
        text: &str,
        signature: Option<&str>,
        path: &Path,
        trust: &ManifestTrust,
    ) -> Result<Policy, ManifestError> {
        Policy::parse_signed_with(text, signature, path, trust, Catalogue::builtin())
    }

    /// Like [`Policy::parse_signed`], validating against `catalogue`.
    pub fn parse_signed_with(
        text: &str,
        signature: Option<&str>,
        path: &Path,
        trust: &ManifestTrust,
        catalogue: &Catalogue,
    ) -> Result<Policy, ManifestError> {
        let status = trust.check(path, text.as_bytes(), signature)?;
        Ok(
            Policy::parse_with(text, &path.display().to_string(), catalogue)?
                .with_signature(status),
        )
    }

    /// Read and validate a manifest file, checking its signature (`FILE.sig`) with the
    /// default [`ManifestTrust`]: an unsigned manifest loads, a signature present must be
    /// intact.
    pub fn load(path: &Path) -> Result<Policy, ManifestError> {
        Policy::load_trusted(path, &ManifestTrust::default())
    }

    /// Read and validate a manifest file, checking its signature (`FILE.sig`) against
    /// `trust`. The bytes checked are the bytes validated: the file is read once.
    pub fn load_trusted(path: &Path, trust: &ManifestTrust) -> Result<Policy, ManifestError> {
        Policy::load_trusted_with(path, trust, Catalogue::builtin())
    }

    /// Like [`Policy::load_trusted`], validating against `catalogue`.
    pub fn load_trusted_with(
        path: &Path,
        trust: &ManifestTrust,
        catalogue: &Catalogue,
    ) -> Result<Policy, ManifestError> {
        let text = read_manifest(path)?;
        let signature = read_signature(path)?;
        Policy::parse_signed_with(&text, signature.as_deref(), path, trust, catalogue)
    }
}

/// Check the signature (`FILE.sig`) of the manifest file at `path` against `trust`,
/// without validating the manifest: what `bcss manifest check` shows.
pub fn check_signature(
    path: &Path,
    trust: &ManifestTrust,
) -> Result<super::SignatureStatus, ManifestError> {
    let text = read_manifest(path)?;
    let signature = read_signature(path)?;
    Ok(trust.check(path, text.as_bytes(), signature.as_deref())?)
}

/// Sign the manifest at `manifest` with `key`, as `signer` in `role`, at `at`, and write
/// its signature beside it (`FILE.sig`, replacing an older one through a rename).
///
/// The manifest is read once and validated first, against the built-in catalogue: an
/// invalid manifest is never signed ([`ManifestError::Invalid`]). Returns the signature
/// file's path and content. A manifest naming configured services: [`sign_manifest_with`].
pub fn sign_manifest(
    manifest: &Path,
    key: &SigningKey,
    signer: &str,
    role: GrantedBy,
    at: DateTime<Utc>,
) -> Result<(PathBuf, SignatureFile), ManifestError> {
    sign_manifest_with(manifest, Catalogue::builtin(), key, signer, role, at)
}

/// Like [`sign_manifest`], validating the manifest against `catalogue`.
pub fn sign_manifest_with(
    manifest: &Path,
    catalogue: &Catalogue,
    key: &SigningKey,
    signer: &str,
    role: GrantedBy,
    at: DateTime<Utc>,
) -> Result<(PathBuf, SignatureFile), ManifestError> {
    let text = read_manifest(manifest)?;
    Policy::parse_with(&text, &manifest.display().to_string(), catalogue)?;
    let name = manifest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file = SignatureFile::sign(&name, text.as_bytes(), key, signer, role, at)?;
    let path = write_signature(manifest, &file)?;
    Ok((path, file))
}

fn invalid(diagnostics: Vec<Diagnostic>) -> ManifestError {
    ManifestError::Invalid(diagnostics.iter().map(ToString::to_string).collect())
}
