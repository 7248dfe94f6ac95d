//! Ed25519 key files, shared by the journal (checkpoint signatures) and the manifest
//! (the security advisor's signature).
//!
//! - A private key is a PKCS#8 PEM file (`-----BEGIN PRIVATE KEY-----`, RFC 8410), created
//!   mode 0600 and never overwritten ([`generate_key_pair`]).
//! - A public key is a SubjectPublicKeyInfo PEM file (`-----BEGIN PUBLIC KEY-----`), or a
//!   file holding the key's 32 bytes as 64 hex digits.
//! - A key is named by its [`fingerprint`]: `SHA256:` and the base64 (no padding) of the
//!   SHA-256 of the 32-byte public key, as OpenSSH prints its keys' fingerprints.
//!
//! Errors name the file and what it should hold, never the key's bytes.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// A key file could not be read, parsed or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The file could not be read or written.
    #[error("{path}: cannot {action}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// What was being done ("read the public key").
        action: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The file does not hold a key of the expected form.
    #[error("{path} is not {expected}")]
    Format {
        /// The file.
        path: String,
        /// What it should hold.
        expected: &'static str,
    },
    /// [`generate_key_pair`] refuses to replace a key file.
    #[error(
        "{path} already exists: a key file is never overwritten; choose another name or move it away first"
    )]
    Exists {
        /// The file.
        path: String,
    },
}

const PRIVATE_FORM: &str =
    "an Ed25519 private key in PKCS#8 PEM form (-----BEGIN PRIVATE KEY-----)";
const PUBLIC_FORM: &str = "an Ed25519 public key (PEM SubjectPublicKeyInfo, or 64 hex digits)";

fn io(path: &Path, action: &str, e: std::io::Error) -> KeyError {
    KeyError::Io {
        path: path.display().to_string(),
        action: action.to_string(),
        reason: e.to_string(),
    }
}

/// The most bytes of a key file: a PEM key is well under 1 KiB.
const MAX_KEY_BYTES: u64 = 64 * 1024;

/// A key file's text: a regular file (a FIFO named like it would hang the reader), at
/// most [`MAX_KEY_BYTES`], UTF-8.
fn read_key_file(path: &Path, action: &str) -> Result<String, KeyError> {
    let bytes = zeroize::Zeroizing::new(
        crate::regular_file::read_regular(path, MAX_KEY_BYTES).map_err(|e| io(path, action, e))?,
    );
    let invalid = |reason: &str| {
        io(
            path,
            action,
            std::io::Error::new(std::io::ErrorKind::InvalidData, reason.to_string()),
        )
    };
    if bytes.len() as u64 > MAX_KEY_BYTES {
        return Err(invalid("larger than 64 KiB: not a key file"));
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| invalid("not UTF-8 text: not a key file"))
}

/// Read an Ed25519 private key from a PKCS#8 PEM file.
pub fn load_signing_key(path: &Path) -> Result<SigningKey, KeyError> {
    let pem = zeroize::Zeroizing::new(read_key_file(path, "read the private key")?);
    parse_signing_key(&pem).ok_or_else(|| KeyError::Format {
        path: path.display().to_string(),
        expected: PRIVATE_FORM,
    })
}

/// Parse a private key given as PKCS#8 PEM.
pub fn parse_signing_key(pem: &str) -> Option<SigningKey> {
    SigningKey::from_pkcs8_pem(pem).ok()
}

/// Read an Ed25519 public key from a PEM file (SPKI) or a file of 64 hex digits.
pub fn load_verifying_key(path: &Path) -> Result<VerifyingKey, KeyError> {
    let text = read_key_file(path, "read the public key")?;
    parse_verifying_key(&text).ok_or_else(|| KeyError::Format {
        path: path.display().to_string(),
        expected: PUBLIC_FORM,
    })
}

/// Parse a public key given as SPKI PEM or as 64 hex digits.
pub fn parse_verifying_key(text: &str) -> Option<VerifyingKey> {
    if text.contains("-----BEGIN") {
        return VerifyingKey::from_public_key_pem(text).ok();
    }
    let bytes: [u8; 32] = hex::decode(text.trim()).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// The key's fingerprint: `SHA256:` and the base64 (standard alphabet, no padding) of the
/// SHA-256 of its 32 bytes, 50 characters in all.
///
/// ```
/// let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
/// let fp = bcss::keys::fingerprint(&key);
/// assert!(fp.starts_with("SHA256:"));
/// assert_eq!(fp.len(), 50);
/// ```
pub fn fingerprint(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.as_bytes());
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
    )
}

/// The files [`generate_key_pair`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPairFiles {
    /// `NAME.key`: the private key, PKCS#8 PEM, mode 0600.
    pub private_key: PathBuf,
    /// `NAME.pub`: the public key, SPKI PEM.
    pub public_key: PathBuf,
    /// The public key's [`fingerprint`].
    pub fingerprint: String,
}

/// Make a new Ed25519 key pair from the operating system's random source and write it as
/// `NAME.key` (private, PKCS#8 PEM, created mode 0600 with `O_EXCL`) and `NAME.pub`
/// (public, SPKI PEM). `name` may include a folder (`keys/advisor`); the folder must exist.
///
/// Refuses with [`KeyError::Exists`] when either file exists: a key file is never
/// replaced. If the public key cannot be written, the private key just made is removed.
pub fn generate_key_pair(name: &Path) -> Result<KeyPairFiles, KeyError> {
    let with_ext = |ext: &str| {
        let mut s = name.as_os_str().to_owned();
        s.push(ext);
        PathBuf::from(s)
    };
    let private_key = with_ext(".key");
    let public_key = with_ext(".pub");
    for path in [&private_key, &public_key] {
        if path.symlink_metadata().is_ok() {
            return Err(KeyError::Exists {
                path: path.display().to_string(),
            });
        }
    }
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let encode_failed = |path: &Path| KeyError::Format {
        path: path.display().to_string(),
        expected: "encodable (the key could not be encoded)",
    };
    let private_pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|_| encode_failed(&private_key))?;
    let public_pem = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|_| encode_failed(&public_key))?;
    write_new(
        &private_key,
        private_pem.as_bytes(),
        0o600,
        "create the private key",
    )?;
    if let Err(e) = write_new(
        &public_key,
        public_pem.as_bytes(),
        0o644,
        "create the public key",
    ) {
        // Best effort: a lone private key without its public half is of no use.
        let _ = std::fs::remove_file(&private_key);
        return Err(e);
    }
    Ok(KeyPairFiles {
        private_key,
        public_key,
        fingerprint: fingerprint(&key.verifying_key()),
    })
}

/// Create `path` (failing if it exists), write `bytes` and fsync.
fn write_new(path: &Path, bytes: &[u8], mode: u32, action: &str) -> Result<(), KeyError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file: File = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::Exists {
                path: path.display().to_string(),
            }
        } else {
            io(path, action, e)
        }
    })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| io(path, action, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_pair_loads_back_and_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let files = generate_key_pair(&dir.path().join("advisor")).unwrap();
        assert!(files.private_key.ends_with("advisor.key"));
        assert!(files.public_key.ends_with("advisor.pub"));
        let private = load_signing_key(&files.private_key).unwrap();
        let public = load_verifying_key(&files.public_key).unwrap();
        assert_eq!(private.verifying_key(), public);
        assert_eq!(files.fingerprint, fingerprint(&public));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&files.private_key)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let before = std::fs::read(&files.private_key).unwrap();
        let again = generate_key_pair(&dir.path().join("advisor")).unwrap_err();
        assert!(matches!(again, KeyError::Exists { .. }), "{again}");
        assert_eq!(std::fs::read(&files.private_key).unwrap(), before);
        // Only the public half present: still refused, and no private key appears.
        let lone = dir.path().join("lone");
        std::fs::write(dir.path().join("lone.pub"), "x").unwrap();
        assert!(matches!(
            generate_key_pair(&lone),
            Err(KeyError::Exists { .. })
        ));
        assert!(!dir.path().join("lone.key").exists());
    }

    #[test]
    fn public_keys_parse_from_pem_or_hex_and_errors_name_the_file() {
        let key = SigningKey::from_bytes(&[3; 32]).verifying_key();
        let pem = key.to_public_key_pem(LineEnding::LF).unwrap();
        assert_eq!(parse_verifying_key(&pem), Some(key));
        assert_eq!(
            parse_verifying_key(&format!("{}\n", hex::encode(key.as_bytes()))),
            Some(key)
        );
        assert_eq!(parse_verifying_key("zz"), None);
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.pub");
        std::fs::write(&bad, "not a key").unwrap();
        let e = load_verifying_key(&bad).unwrap_err().to_string();
        assert!(e.contains("bad.pub") && e.contains("public key"), "{e}");
        let e = load_signing_key(&bad).unwrap_err().to_string();
        assert!(e.contains("PKCS#8"), "{e}");
        let e = load_signing_key(&dir.path().join("missing.key"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("missing.key") && e.contains("cannot read"),
            "{e}"
        );
    }

    #[test]
    fn fingerprints_are_openssh_style() {
        let key = SigningKey::from_bytes(&[1; 32]).verifying_key();
        let fp = fingerprint(&key);
        let expected =
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(Sha256::digest(key.as_bytes()));
        assert_eq!(fp, format!("SHA256:{expected}"));
        assert_ne!(
            fp,
            fingerprint(&SigningKey::from_bytes(&[2; 32]).verifying_key())
        );
    }
}
