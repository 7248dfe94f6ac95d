//! The detached signature of a manifest (`FILE.sig`): its format, signing, reading and
//! writing. What a signature must satisfy to load is [`super::ManifestTrust`].
//!
//! The signature file is small TOML, meant to be read in a review:
//!
//! ```toml
//! format = "bcss-manifest-signature-v1"
//! manifest = "authorizations.toml"          # the file name it was signed as
//! manifest_sha256 = "3f1c...e9"             # SHA-256 of the manifest's exact bytes
//! signer = "Ada Advisor"
//! role = "security-advisor"                 # leading-official, deputy or security-advisor
//! signed_at = 2026-03-01T10:00:00Z
//! key_fingerprint = "SHA256:q0Yv..."        # see bcss::keys::fingerprint
//! public_key = "base64 of the 32-byte Ed25519 key"
//! signature = "base64 of the 64-byte Ed25519 signature"
//! ```
//!
//! The signature is Ed25519 over a domain-separated message: the bytes
//! `bcss-manifest-signature-v1\0`, the manifest's 32-byte SHA-256, then the manifest
//! name, signer, role and `signed_at` (RFC 3339, UTC, `Z`), each as a 4-byte big-endian
//! length and its UTF-8 bytes. Changing any field, or one byte of the manifest, breaks it.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::entry::GrantedBy;
use super::provenance::ManifestSigner;
use crate::keys::{self, KeyError};

/// The `format` of a version 1 signature file.
pub const SIGNATURE_FORMAT: &str = "bcss-manifest-signature-v1";

/// The largest signature file read, in bytes.
const MAX_SIGNATURE_BYTES: u64 = 64 * 1024;

/// The longest signer name accepted, in characters.
const MAX_SIGNER_CHARS: usize = 200;

/// Where the signature of `manifest` lives: the same path with `.sig` appended
/// (`authorizations.toml.sig`).
pub fn signature_path(manifest: &Path) -> PathBuf {
    let mut s = manifest.as_os_str().to_owned();
    s.push(".sig");
    PathBuf::from(s)
}

/// A manifest's signature could not be made, or does not let the manifest load. Each case
/// has its own variant, and its message says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// A signature is required and the manifest has none.
    #[error(
        "{manifest} is not signed ({signature} does not exist) and require_signature is on: \
         have it signed (bcss manifest sign {manifest} --key KEY --signer NAME --role ROLE) \
         by a configured signer"
    )]
    Missing {
        /// The manifest.
        manifest: String,
        /// The signature file looked for.
        signature: String,
    },
    /// The signature was made with a key that is not among the configured signers.
    #[error(
        "{signature}: signed by {signer} with key {fingerprint}, which is not a configured \
         signer (configured: {}); have it signed with a configured key, or add the key's \
         .pub file to [manifest] signers",
        if .configured.is_empty() { "none".to_string() } else { .configured.join(", ") }
    )]
    UnlistedKey {
        /// The signature file.
        signature: String,
        /// The signer the signature names.
        signer: String,
        /// The fingerprint of the key it was made with.
        fingerprint: String,
        /// The fingerprints of the configured signers.
        configured: Vec<String>,
    },
    /// The manifest's bytes are not those the signature was made for: the manifest
    /// changed after it was signed, or the signature file belongs to another version of
    /// it (same file name, e.g. acceptance's signature copied beside production's
    /// manifest). The signature file alone cannot tell which, so both are said.
    #[error(
        "{manifest} does not match its signature {manifest}.sig: signed by {signer} for \
         SHA-256 {signed_sha256}, but its bytes now have SHA-256 {actual_sha256}. Either \
         {manifest} changed after it was signed (review the change with bcss manifest diff \
         and have it signed again), or {manifest}.sig is the signature of another version \
         of it (put this version's own signature beside it)"
    )]
    ManifestChanged {
        /// The manifest (its signature is this path and `.sig`).
        manifest: String,
        /// The signer, when they signed and with which key: `Ada Advisor
        /// (security-advisor) on 2026-03-01T10:00:00Z with key SHA256:...`.
        signer: String,
        /// The digest that was signed.
        signed_sha256: String,
        /// The digest of the manifest's bytes now.
        actual_sha256: String,
    },
    /// The signature file belongs to another manifest.
    #[error(
        "{signature} is the signature of another manifest ('{signed_for}', SHA-256 \
         {signed_sha256}), not of {manifest} (SHA-256 {actual_sha256}); sign this manifest, \
         or put the right signature beside it"
    )]
    OtherManifest {
        /// The signature file.
        signature: String,
        /// The manifest.
        manifest: String,
        /// The file name the signature was made for.
        signed_for: String,
        /// The digest it was made for.
        signed_sha256: String,
        /// The digest of this manifest's bytes.
        actual_sha256: String,
    },
    /// The Ed25519 signature does not verify: the signature file was edited or forged.
    #[error(
        "{signature}: the signature does not verify with key {fingerprint}: the signature \
         file was altered after signing; have the manifest signed again"
    )]
    BadSignature {
        /// The signature file.
        signature: String,
        /// The key it was checked with.
        fingerprint: String,
    },
    /// The signature file cannot be read, or is not a signature file.
    #[error("{signature}: {reason}")]
    Malformed {
        /// The signature file.
        signature: String,
        /// What is wrong.
        reason: String,
    },
    /// A signature is required but no key is configured to check it with.
    #[error(
        "require_signature is on but no signer key is configured: name the public keys \
         allowed to sign the manifest ([manifest] signers = [\"keys/advisor.pub\"])"
    )]
    NoSigners,
    /// A signer's key file, or the key to sign with, could not be used.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Signing was refused (a blank signer name, for example).
    #[error("cannot sign: {0}")]
    Refused(String),
}

/// A parsed signature file. Its fields are as written; [`SignatureFile::parse`] checks
/// their forms and that the fingerprint is the embedded key's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureFile {
    /// The manifest's file name when it was signed.
    pub manifest: String,
    /// Lowercase hex SHA-256 of the manifest's exact bytes.
    pub manifest_sha256: String,
    /// Who signed, and when, with which key.
    pub signer: ManifestSigner,
    /// The signing key.
    pub public_key: VerifyingKey,
    /// The Ed25519 signature.
    pub signature: Signature,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignature {
    format: String,
    manifest: String,
    manifest_sha256: String,
    signer: String,
    role: String,
    signed_at: toml::value::Datetime,
    key_fingerprint: String,
    public_key: String,
    signature: String,
}

impl SignatureFile {
    /// Sign `bytes`, the manifest called `manifest` (a file name), with `key`, as `signer`
    /// in `role`, at `at` (kept to the second).
    pub fn sign(
        manifest: &str,
        bytes: &[u8],
        key: &SigningKey,
        signer: &str,
        role: GrantedBy,
        at: DateTime<Utc>,
    ) -> Result<SignatureFile, SignatureError> {
        check_signer_name(signer).map_err(SignatureError::Refused)?;
        let public_key = key.verifying_key();
        let mut file = SignatureFile {
            manifest: manifest.to_string(),
            manifest_sha256: hex::encode(Sha256::digest(bytes)),
            signer: ManifestSigner {
                name: signer.to_string(),
                role,
                signed_at: at.trunc_subsecs(0),
                key_fingerprint: keys::fingerprint(&public_key),
            },
            public_key,
            signature: Signature::from_bytes(&[0; 64]),
        };
        file.signature = key.sign(&file.message());
        Ok(file)
    }

    /// The message the signature is over (see the module documentation).
    fn message(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(128);
        m.extend_from_slice(SIGNATURE_FORMAT.as_bytes());
        m.push(0);
        // A malformed digest cannot come from `parse`; an empty one only breaks the signature.
        m.extend_from_slice(&hex::decode(&self.manifest_sha256).unwrap_or_default());
        let at = self
            .signer
            .signed_at
            .to_rfc3339_opts(SecondsFormat::AutoSi, true);
        for field in [
            self.manifest.as_str(),
            self.signer.name.as_str(),
            self.signer.role.as_str(),
            at.as_str(),
        ] {
            let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
            m.extend_from_slice(&len.to_be_bytes());
            m.extend_from_slice(field.as_bytes());
        }
        m
    }

    /// Whether the signature verifies with `key`.
    pub fn verifies_with(&self, key: &VerifyingKey) -> bool {
        key.verify_strict(&self.message(), &self.signature).is_ok()
    }

    /// The file's text: commented, one field a line.
    pub fn to_toml(&self) -> String {
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        format!(
            "# Detached signature of the bcss authorisation manifest {manifest}.\n\
             # Check it: bcss manifest check MANIFEST --signer-key KEY.pub\n\
             format = {format}\n\
             manifest = {manifest}\n\
             manifest_sha256 = {sha}\n\
             signer = {signer}\n\
             role = {role}\n\
             signed_at = {at}\n\
             key_fingerprint = {fp}\n\
             public_key = {pk}\n\
             signature = {sig}\n",
            format = q(SIGNATURE_FORMAT),
            manifest = q(&self.manifest),
            sha = q(&self.manifest_sha256),
            signer = q(&self.signer.name),
            role = q(self.signer.role.as_str()),
            at = self
                .signer
                .signed_at
                .to_rfc3339_opts(SecondsFormat::AutoSi, true),
            fp = q(&self.signer.key_fingerprint),
            pk = q(&STANDARD.encode(self.public_key.as_bytes())),
            sig = q(&STANDARD.encode(self.signature.to_bytes())),
        )
    }

    /// Parse a signature file's text. The error says which field is wrong.
    pub fn parse(text: &str) -> Result<SignatureFile, String> {
        let raw: RawSignature = toml::from_str(text)
            .map_err(|e| format!("not a manifest signature file: {}", e.message().trim()))?;
        if raw.format != SIGNATURE_FORMAT {
            return Err(format!(
                "format is '{}'; this bcss reads '{SIGNATURE_FORMAT}'",
                raw.format
            ));
        }
        if raw.manifest_sha256.len() != 64
            || !raw
                .manifest_sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err("manifest_sha256 is not 64 lowercase hex digits".to_string());
        }
        check_signer_name(&raw.signer)?;
        let role = GrantedBy::from_name(&raw.role).ok_or_else(|| {
            format!(
                "role '{}' is not leading-official, deputy or security-advisor",
                raw.role
            )
        })?;
        let signed_at = DateTime::parse_from_rfc3339(&raw.signed_at.to_string())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                format!(
                    "signed_at {} is not a date and time with an offset",
                    raw.signed_at
                )
            })?;
        let public_key = STANDARD
            .decode(raw.public_key.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .and_then(|b| VerifyingKey::from_bytes(&b).ok())
            .ok_or("public_key is not the base64 of a 32-byte Ed25519 key")?;
        if keys::fingerprint(&public_key) != raw.key_fingerprint {
            return Err(format!(
                "key_fingerprint {} is not the fingerprint of public_key ({})",
                raw.key_fingerprint,
                keys::fingerprint(&public_key)
            ));
        }
        let signature = STANDARD
            .decode(raw.signature.trim())
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
            .map(|b| Signature::from_bytes(&b))
            .ok_or("signature is not the base64 of a 64-byte Ed25519 signature")?;
        Ok(SignatureFile {
            manifest: raw.manifest,
            manifest_sha256: raw.manifest_sha256,
            signer: ManifestSigner {
                name: raw.signer,
                role,
                signed_at,
                key_fingerprint: raw.key_fingerprint,
            },
            public_key,
            signature,
        })
    }
}

fn check_signer_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("the signer's name is blank".to_string());
    }
    if name.trim() != name || name.chars().any(char::is_control) {
        return Err(format!(
            "the signer's name {name:?} has surrounding spaces or control characters"
        ));
    }
    if name.chars().count() > MAX_SIGNER_CHARS {
        return Err(format!(
            "the signer's name is longer than {MAX_SIGNER_CHARS} characters"
        ));
    }
    Ok(())
}

/// Read `FILE.sig` beside `manifest`: `None` when it does not exist.
pub(crate) fn read_signature(manifest: &Path) -> Result<Option<String>, SignatureError> {
    let path = signature_path(manifest);
    let malformed = |reason: String| SignatureError::Malformed {
        signature: path.display().to_string(),
        reason,
    };
    let bytes = match crate::regular_file::read_regular(&path, MAX_SIGNATURE_BYTES) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(malformed(format!("cannot read it: {e}"))),
    };
    if bytes.len() as u64 > MAX_SIGNATURE_BYTES {
        return Err(malformed(format!(
            "larger than {MAX_SIGNATURE_BYTES} bytes: not a signature file"
        )));
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| malformed("not UTF-8 text: not a signature file".to_string()))
}

/// Write `FILE.sig` beside `manifest` through a temporary file and a rename, so a reader
/// never sees half a signature. Returns the signature's path.
pub(crate) fn write_signature(
    manifest: &Path,
    file: &SignatureFile,
) -> Result<PathBuf, SignatureError> {
    use std::io::Write;
    let path = signature_path(manifest);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let failed = |e: std::io::Error| {
        SignatureError::Key(KeyError::Io {
            path: path.display().to_string(),
            action: "write the signature".to_string(),
            reason: e.to_string(),
        })
    };
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(file.to_toml().as_bytes())?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(failed(e));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &[u8] = b"[organization]\ncbe = \"0212344876\"\n";

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T10:00:00.123Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn signed(key: &SigningKey) -> SignatureFile {
        SignatureFile::sign(
            "authorizations.toml",
            MANIFEST,
            key,
            "Ada Advisor",
            GrantedBy::SecurityAdvisor,
            at(),
        )
        .unwrap()
    }

    #[test]
    fn the_file_round_trips_and_verifies() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let file = signed(&key);
        assert_eq!(
            file.signer.signed_at.to_rfc3339(),
            "2026-03-01T10:00:00+00:00"
        );
        let text = file.to_toml();
        assert!(
            text.contains("signed_at = 2026-03-01T10:00:00Z\n"),
            "{text}"
        );
        assert!(text.contains("role = \"security-advisor\"\n"), "{text}");
        let back = SignatureFile::parse(&text).unwrap();
        assert_eq!(back, file);
        assert!(back.verifies_with(&key.verifying_key()));
    }

    #[test]
    fn names_with_quotes_and_accents_round_trip() {
        let key = SigningKey::from_bytes(&[6; 32]);
        let file = SignatureFile::sign(
            "autorisations \"CPAS\".toml",
            MANIFEST,
            &key,
            "Élise \"El\" D'Advisor\\x",
            GrantedBy::LeadingOfficial,
            at(),
        )
        .unwrap();
        let back = SignatureFile::parse(&file.to_toml()).unwrap();
        assert_eq!(back, file);
        assert!(back.verifies_with(&key.verifying_key()));
        // A name on several lines could hide a field in a review: refused.
        assert!(SignatureFile::sign("m", MANIFEST, &key, "a\nb", GrantedBy::Deputy, at()).is_err());
    }

    #[test]
    fn every_field_is_covered_by_the_signature() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let file = signed(&key);
        let vk = key.verifying_key();
        let mut f = file.clone();
        f.manifest = "other.toml".into();
        assert!(!f.verifies_with(&vk));
        let mut f = file.clone();
        f.signer.name = "Mallory".into();
        assert!(!f.verifies_with(&vk));
        let mut f = file.clone();
        f.signer.role = GrantedBy::Deputy;
        assert!(!f.verifies_with(&vk));
        let mut f = file.clone();
        f.signer.signed_at += chrono::Duration::seconds(1);
        assert!(!f.verifies_with(&vk));
        let mut f = file;
        f.manifest_sha256 = hex::encode([0u8; 32]);
        assert!(!f.verifies_with(&vk));
    }

    #[test]
    fn malformed_files_say_which_field() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let text = signed(&key).to_toml();
        let cases = [
            (
                "format = \"bcss-manifest-signature-v1\"",
                "format = \"v9\"",
                "format",
            ),
            (
                "role = \"security-advisor\"",
                "role = \"ceo\"",
                "role 'ceo'",
            ),
            (
                "key_fingerprint = \"SHA256:",
                "key_fingerprint = \"SHA256:x",
                "key_fingerprint",
            ),
            ("signature = \"", "signature = \"AAAA", "signature is not"),
            (
                "manifest_sha256 = \"",
                "manifest_sha256 = \"X",
                "manifest_sha256",
            ),
            ("signer = \"Ada Advisor\"", "signer = \" \"", "blank"),
            ("format =", "extra = 1\nformat =", "unknown field"),
        ];
        for (from, to, expected) in cases {
            let bad = text.replacen(from, to, 1);
            let e = SignatureFile::parse(&bad).unwrap_err();
            assert!(e.contains(expected), "{from} -> {to}: {e}");
        }
        assert!(SignatureFile::parse("\u{0}garbage").is_err());
    }
}
