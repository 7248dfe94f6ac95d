//! Ed25519 signatures of the journal's anchors: the genesis record, checkpoints and
//! witnessed heads. Each message is domain-separated and names the journal.

use std::path::Path;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use uuid::Uuid;

use super::AuditError;

/// Read an Ed25519 signing key from a PKCS#8 PEM file (`-----BEGIN PRIVATE KEY-----`).
///
/// The error never contains the key's bytes.
pub fn load_signing_key(path: &Path) -> Result<SigningKey, AuditError> {
    let pem = std::fs::read_to_string(path)
        .map_err(|e| AuditError::io(path, "read the journal signing key", e))?;
    let pem = zeroize::Zeroizing::new(pem);
    crate::keys::parse_signing_key(&pem).ok_or_else(|| {
        AuditError::Config(format!(
            "{} is not an Ed25519 private key in PKCS#8 PEM form",
            path.display()
        ))
    })
}

/// Read an Ed25519 public key from a PEM file (`-----BEGIN PUBLIC KEY-----`, SPKI) or a file
/// holding the key's 32 bytes as 64 hex digits.
pub fn load_verifying_key(path: &Path) -> Result<VerifyingKey, AuditError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| AuditError::io(path, "read the journal public key", e))?;
    crate::keys::parse_verifying_key(&text).ok_or_else(|| {
        AuditError::Config(format!(
            "{} is not an Ed25519 public key (PEM SubjectPublicKeyInfo, or 64 hex digits)",
            path.display()
        ))
    })
}

/// The message a checkpoint (or a witnessed head) signs: the journal, the sequence number
/// and the chain hash after that record.
pub(crate) fn head_message(journal_id: &Uuid, sequence: u64, hash: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(27 + 16 + 8 + 32);
    m.extend_from_slice(b"bcss-journal-checkpoint-v2\0");
    m.extend_from_slice(journal_id.as_bytes());
    m.extend_from_slice(&sequence.to_be_bytes());
    m.extend_from_slice(hash);
    m
}

/// The message a genesis record signs: the journal and its creation time.
pub(crate) fn genesis_message(journal_id: &Uuid, at_micros: i64) -> Vec<u8> {
    let mut m = Vec::with_capacity(24 + 16 + 8);
    m.extend_from_slice(b"bcss-journal-genesis-v1\0");
    m.extend_from_slice(journal_id.as_bytes());
    m.extend_from_slice(&at_micros.to_be_bytes());
    m
}

/// Sign `message`: the public key and the signature, hex.
pub(crate) fn sign(key: &SigningKey, message: &[u8]) -> (String, String) {
    let signature = key.sign(message);
    (
        hex::encode(key.verifying_key().to_bytes()),
        hex::encode(signature.to_bytes()),
    )
}

/// Check a signature carried as `(public_key, signature)` hex fields against `key`.
/// `Ok(false)` when unsigned (both absent).
pub(crate) fn check(
    what: &str,
    public_key: Option<&str>,
    signature: Option<&str>,
    message: &[u8],
    key: &VerifyingKey,
) -> Result<bool, String> {
    let (Some(public_key), Some(signature)) = (public_key, signature) else {
        if public_key.is_some() || signature.is_some() {
            return Err(format!(
                "the {what} has a public key or a signature but not both"
            ));
        }
        return Ok(false);
    };
    if !public_key.eq_ignore_ascii_case(&hex::encode(key.to_bytes())) {
        return Err(format!(
            "the {what} is signed by another key ({public_key}) than the one given"
        ));
    }
    let signature: [u8; 64] = hex::decode(signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("the {what}'s signature is not 128 hex digits"))?;
    key.verify_strict(message, &Signature::from_bytes(&signature))
        .map_err(|_| format!("the {what}'s signature does not verify"))?;
    Ok(true)
}

/// Check a checkpoint's signature of the head `(c.sequence, covered)` against `key`.
/// `Ok(false)` when it is not signed.
pub(crate) fn check_checkpoint(
    c: &super::CheckpointRecord,
    covered: &[u8; 32],
    key: &VerifyingKey,
) -> Result<bool, String> {
    check(
        "checkpoint",
        c.public_key.as_deref(),
        c.signature.as_deref(),
        &head_message(&c.journal_id, c.sequence, covered),
        key,
    )
}

/// Sign the head `(sequence, hash)` of `journal_id` with `key`, when there is one: the
/// public key and the signature, hex.
pub(crate) fn sign_head(
    key: Option<&SigningKey>,
    journal_id: &Uuid,
    sequence: u64,
    hash: &[u8; 32],
) -> (Option<String>, Option<String>) {
    match key {
        Some(key) => {
            let (p, s) = sign(key, &head_message(journal_id, sequence, hash));
            (Some(p), Some(s))
        }
        None => (None, None),
    }
}

/// A hex chain hash from a record field.
pub(crate) fn parse_hash(hex_hash: &str) -> Option<[u8; 32]> {
    hex::decode(hex_hash).ok().and_then(|b| b.try_into().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_journal_sequence_and_head() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let other = SigningKey::from_bytes(&[8; 32]);
        let id = Uuid::from_bytes([1; 16]);
        let message = head_message(&id, 7, &[1; 32]);
        let (pk, sig) = sign(&key, &message);
        let vk = key.verifying_key();
        assert_eq!(
            check("checkpoint", Some(&pk), Some(&sig), &message, &vk),
            Ok(true)
        );
        assert!(
            check(
                "checkpoint",
                Some(&pk),
                Some(&sig),
                &message,
                &other.verifying_key()
            )
            .is_err()
        );
        for changed in [
            head_message(&id, 8, &[1; 32]),
            head_message(&id, 7, &[2; 32]),
            head_message(&Uuid::nil(), 7, &[1; 32]),
            genesis_message(&id, 7),
        ] {
            assert!(check("checkpoint", Some(&pk), Some(&sig), &changed, &vk).is_err());
        }
        assert_eq!(check("checkpoint", None, None, &message, &vk), Ok(false));
        assert!(check("checkpoint", Some(&pk), None, &message, &vk).is_err());
    }
}
