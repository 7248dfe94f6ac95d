//! Checkpoint signatures: Ed25519 over the sequence number and head hash.

use std::path::Path;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use super::format::checkpoint_message;
use super::{AuditError, CheckpointRecord};

/// Read an Ed25519 signing key from a PKCS#8 PEM file (`-----BEGIN PRIVATE KEY-----`).
///
/// The error never contains the key's bytes.
pub fn load_signing_key(path: &Path) -> Result<SigningKey, AuditError> {
    let pem = std::fs::read_to_string(path)
        .map_err(|e| AuditError::io(path, "read the checkpoint signing key", e))?;
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
        .map_err(|e| AuditError::io(path, "read the checkpoint public key", e))?;
    crate::keys::parse_verifying_key(&text).ok_or_else(|| {
        AuditError::Config(format!(
            "{} is not an Ed25519 public key (PEM SubjectPublicKeyInfo, or 64 hex digits)",
            path.display()
        ))
    })
}

/// Sign the head `(sequence, hash)`: the public key and the signature, hex.
pub(crate) fn sign(key: &SigningKey, sequence: u64, hash: &[u8; 32]) -> (String, String) {
    let signature = key.sign(&checkpoint_message(sequence, hash));
    (
        hex::encode(key.verifying_key().to_bytes()),
        hex::encode(signature.to_bytes()),
    )
}

/// Check a signed checkpoint against `key`. `Ok(false)` when it is not signed.
pub(crate) fn check(record: &CheckpointRecord, key: &VerifyingKey) -> Result<bool, String> {
    let (Some(public_key), Some(signature)) = (&record.public_key, &record.signature) else {
        if record.public_key.is_some() || record.signature.is_some() {
            return Err("the checkpoint has a public key or a signature but not both".into());
        }
        return Ok(false);
    };
    if !public_key.eq_ignore_ascii_case(&hex::encode(key.to_bytes())) {
        return Err(format!(
            "the checkpoint is signed by another key ({public_key}) than the one given"
        ));
    }
    let hash: [u8; 32] = hex::decode(&record.head)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("the checkpoint's head is not 64 hex digits")?;
    let signature: [u8; 64] = hex::decode(signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("the checkpoint's signature is not 128 hex digits")?;
    key.verify_strict(
        &checkpoint_message(record.sequence, &hash),
        &Signature::from_bytes(&signature),
    )
    .map_err(|_| "the checkpoint's signature does not verify".to_string())?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &SigningKey, sequence: u64, hash: [u8; 32]) -> CheckpointRecord {
        let (public_key, signature) = sign(key, sequence, &hash);
        CheckpointRecord {
            at: chrono::Utc::now(),
            sequence,
            head: hex::encode(hash),
            reason: "manual".into(),
            public_key: Some(public_key),
            signature: Some(signature),
        }
    }

    #[test]
    fn signatures_verify_and_bind_sequence_and_head() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let other = SigningKey::from_bytes(&[8; 32]);
        let good = record(&key, 7, [1; 32]);
        assert_eq!(check(&good, &key.verifying_key()), Ok(true));
        assert!(check(&good, &other.verifying_key()).is_err());
        let mut moved = good.clone();
        moved.sequence = 8;
        assert!(check(&moved, &key.verifying_key()).is_err());
        let mut rehashed = good.clone();
        rehashed.head = hex::encode([2; 32]);
        assert!(check(&rehashed, &key.verifying_key()).is_err());
        let mut unsigned = good;
        unsigned.public_key = None;
        unsigned.signature = None;
        assert_eq!(check(&unsigned, &key.verifying_key()), Ok(false));
    }
}
