//! Helpers shared by the audit journal tests: records about fictitious people, and a reader
//! of the documented on-disk format for tampering.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use bcss::Environment;
use bcss::audit::{
    Bcss, CallRecord, DenialRecord, FileJournalConfig, How, IntentRecord, OutcomeRecord, Payload,
    Record, What, Who, codec,
};
use bcss::ids::{Century, Ssin};
use chrono::Utc;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A fictitious person's SSIN, valid check digits.
pub fn ssin(serial: u16) -> String {
    Ssin::from_parts("850101", serial, Century::Nineteen)
        .unwrap()
        .reveal()
        .to_string()
}

pub fn who(user: &str) -> Who {
    Who {
        user_id: user.to_string(),
        user_name: Some(format!("{user} (test)")),
        program: Some("PRG-0001".to_string()),
    }
}

pub fn what(service: &str, subject: &str) -> What {
    What {
        service: service.to_string(),
        operation: "search".to_string(),
        subjects: vec![subject.to_string()],
        purpose: "fictitious-purpose".to_string(),
    }
}

pub fn how() -> How {
    How {
        application: "bcss-tests".to_string(),
        application_version: "0.0.0".to_string(),
        environment: Environment::Test,
        endpoint: Some("https://127.0.0.1/test".to_string()),
        authorization_id: Some("entry-1".to_string()),
        deliberation: Some("not-applicable".to_string()),
        drill: false,
    }
}

pub fn intent(ticket: Uuid, user: &str, service: &str, subject: &str, size: usize) -> CallRecord {
    let now = Utc::now();
    let mut request = format!("<soapenv:Envelope><ssin>{subject}</ssin>");
    while request.len() < size {
        request.push('x');
    }
    request.push_str("</soapenv:Envelope>");
    CallRecord::Intent(IntentRecord {
        ticket,
        decided_at: now,
        sent_at: now,
        who: who(user),
        what: what(service, subject),
        how: how(),
        soap_action: "urn:test".to_string(),
        request: Payload::from(request),
        manifest: None,
        write: false,
        attempt: None,
    })
}

pub fn outcome(ticket: Uuid, kind: &str, reply: Option<&[u8]>) -> CallRecord {
    CallRecord::Outcome(OutcomeRecord {
        ticket,
        replied_at: Utc::now(),
        duration_ms: 12,
        outcome: kind.to_string(),
        code: (kind == "business_error").then(|| "MSG00012".to_string()),
        http_status: Some(200),
        content_type: Some("text/xml; charset=utf-8".to_string()),
        bcss: Bcss {
            ticket: Some("bcss-ticket-1".to_string()),
            time_receive: Some("2025-01-01T10:00:00.000+01:00".to_string()),
            time_reply: Some("2025-01-01T10:00:00.500+01:00".to_string()),
        },
        reply: reply.map(Payload::from_bytes),
        error: None,
    })
}

pub fn denial(ticket: Uuid, user: &str, service: &str, subject: &str) -> CallRecord {
    CallRecord::Denial(DenialRecord {
        ticket,
        decided_at: Utc::now(),
        who: who(user),
        what: what(service, subject),
        how: how(),
        reason_code: "purpose_not_authorized".to_string(),
        message: "no manifest entry for this purpose".to_string(),
        manifest: None,
        stage: "guard".to_string(),
    })
}

/// A journal configuration for tests: no time-based checkpoints.
pub fn config(dir: &Path) -> FileJournalConfig {
    let mut c = FileJournalConfig::new(dir);
    c.checkpoint_every = std::time::Duration::ZERO;
    c
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("bcss-audit")
        .tempdir()
        .unwrap()
}

/// The segment files of a journal, in order.
pub fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_str().unwrap();
            n.starts_with("seg-") && n.ends_with(".bcj")
        })
        .collect();
    v.sort();
    v
}

pub fn name(path: &Path) -> String {
    path.file_name().unwrap().to_str().unwrap().to_string()
}

/// One frame as documented in `bcss::audit::format`.
#[derive(Debug, Clone)]
pub struct Frame {
    pub offset: usize,
    pub len: usize,
    pub sequence: u64,
}

/// The length of a segment header.
pub const SEGMENT_HEADER: usize = 80;

/// The frames of a segment's bytes (stops at the first incomplete one).
pub fn frames(bytes: &[u8]) -> Vec<Frame> {
    let mut out = Vec::new();
    let mut off = SEGMENT_HEADER;
    while off + 60 <= bytes.len() {
        let body = u32::from_le_bytes(bytes[off..off + 4].try_into().unwrap()) as usize;
        let len = 60 + body + 4;
        if off + len > bytes.len() {
            break;
        }
        let sequence = u64::from_le_bytes(bytes[off + 8..off + 16].try_into().unwrap());
        out.push(Frame {
            offset: off,
            len,
            sequence,
        });
        off += len;
    }
    out
}

/// Recompute every frame's chain hash and both CRCs from `from_offset` on, chaining from
/// the hash stored in the frame before (or the segment header): what a forger does after
/// altering a record.
pub fn rechain(bytes: &mut [u8], from_offset: usize) -> [u8; 32] {
    let fs = frames(bytes);
    let mut prev: [u8; 32] = bytes[28..60].try_into().unwrap();
    for f in &fs {
        let o = f.offset;
        if o >= from_offset {
            let body_len = f.len - 64;
            let mut h = Sha256::new();
            h.update(prev);
            h.update(&bytes[o + 4..o + 24]);
            h.update(Sha256::digest(&bytes[o + 60..o + 60 + body_len]));
            let hash: [u8; 32] = h.finalize().into();
            bytes[o + 24..o + 56].copy_from_slice(&hash);
            let crc = crc32c::crc32c(&bytes[o..o + 56]);
            bytes[o + 56..o + 60].copy_from_slice(&crc.to_le_bytes());
            let bcrc = crc32c::crc32c(&bytes[o + 60..o + 60 + body_len]);
            bytes[o + 60 + body_len..o + 64 + body_len].copy_from_slice(&bcrc.to_le_bytes());
        }
        prev = bytes[o + 24..o + 56].try_into().unwrap();
    }
    prev
}

/// The record a frame holds.
pub fn record_at(bytes: &[u8], frame: &Frame) -> Record {
    let body = &bytes[frame.offset + 60..frame.offset + frame.len - 4];
    codec::decode(body.to_vec().into()).unwrap()
}

/// A frame's bytes for `record`: the frame header fields (sequence, write time) copied
/// from `like`, the hash and checksums left for `rechain` to fill.
pub fn frame_for(bytes: &[u8], like: &Frame, sequence: u64, record: &Record) -> Vec<u8> {
    let body = codec::encode(record).unwrap().to_bytes();
    let mut out = Vec::new();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&bytes[like.offset + 4..like.offset + 8]);
    out.extend_from_slice(&sequence.to_le_bytes());
    out.extend_from_slice(&bytes[like.offset + 16..like.offset + 24]);
    out.extend_from_slice(&[0; 36]);
    out.extend_from_slice(&body);
    out.extend_from_slice(&[0; 4]);
    out
}

/// Replace `from` by `to` (same length) inside the body of the frame at `frame`.
pub fn edit_body(bytes: &mut [u8], frame: &Frame, from: &str, to: &str) {
    assert_eq!(from.len(), to.len());
    let body = &mut bytes[frame.offset + 60..frame.offset + frame.len - 4];
    let pos = body
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .expect("text to edit not found in the record");
    body[pos..pos + to.len()].copy_from_slice(to.as_bytes());
}

/// Verify options without any anchor.
pub fn plain() -> bcss::audit::VerifyOptions {
    bcss::audit::VerifyOptions::default()
}

/// Verify options with a trusted head.
pub fn trusting(head: &bcss::audit::TrustedHead) -> bcss::audit::VerifyOptions {
    bcss::audit::VerifyOptions {
        trusted_head: Some(*head),
        ..Default::default()
    }
}

/// Verify options with a public key.
pub fn keyed(key: &ed25519_dalek::VerifyingKey) -> bcss::audit::VerifyOptions {
    bcss::audit::VerifyOptions {
        public_key: Some(*key),
        ..Default::default()
    }
}
