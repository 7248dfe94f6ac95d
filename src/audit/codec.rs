//! The record codec shared by every backend: a [`Record`] to the exact body bytes stored
//! (and chained), and back. The file journal stores a body inside a frame; a database
//! journal stores the same bytes in a row.
//!
//! Body, format version 2 (integers little-endian):
//!
//! | bytes | field |
//! | --- | --- |
//! | 0..4 | `json_len`: length of the JSON part (at most [`MAX_META_BYTES`]) |
//! | 4..4+json_len | the record as JSON (`serde_json` of [`Record`], tagged by `type`) |
//! | next 1 | `attachment_count` (at most [`MAX_ATTACHMENTS`]) |
//! | then, per attachment | `len` (4 bytes), then `len` raw bytes |
//!
//! Request and reply bytes ([`Payload`](super::Payload)) are attachments: raw, never
//! escaped or base64-encoded. In the JSON a payload is `{"attachment": i, "len": n,
//! "encoding": "text" | "binary"}` (`text` when the bytes are valid UTF-8; informative
//! only). The chain covers the whole body, attachments included (see
//! [`chain`](super::chain)). A body decodes only when every attachment is referenced
//! exactly once, with its length, and nothing follows the last one.
//!
//! ```
//! use bcss::audit::codec;
//! use bcss::audit::{Payload, Record, ReadRecord};
//! let record = Record::Read(ReadRecord::new("advisor-1", "show", vec![]));
//! let body = codec::encode(&record)?;
//! assert_eq!(codec::decode(body.to_bytes())?, record);
//! # Ok::<(), bcss::audit::AuditError>(())
//! ```

use bytes::Bytes;

use super::record::{collecting, providing};
use super::{AuditError, Record};

/// The largest JSON part of a record (1 MiB): everything but the request and reply.
pub const MAX_META_BYTES: usize = 1024 * 1024;
/// The most attachments one record holds.
pub const MAX_ATTACHMENTS: usize = 255;

/// The bytes a body spends on framing its JSON part and `attachments` attachments.
pub const fn body_overhead(attachments: usize) -> usize {
    4 + 1 + 4 * attachments
}

/// One encoded body, in parts (the attachments are shared, not copied).
#[derive(Clone, Default)]
pub struct Body {
    parts: Vec<Bytes>,
    len: usize,
    json_len: usize,
    attachments: usize,
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Body")
            .field("len", &self.len)
            .field("json_len", &self.json_len)
            .field("attachments", &self.attachments)
            .finish()
    }
}

impl Body {
    /// The body's total length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the body is empty (never, for an encoded record).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The length of the JSON part.
    pub fn json_len(&self) -> usize {
        self.json_len
    }

    /// The total of the attachments' lengths.
    pub fn attachment_bytes(&self) -> usize {
        self.len - self.json_len - body_overhead(self.attachments)
    }

    /// The body's bytes, in order, as written (for vectored writes).
    pub fn parts(&self) -> &[Bytes] {
        &self.parts
    }

    /// The body as one buffer (a copy when it has several parts).
    pub fn to_bytes(&self) -> Bytes {
        match self.parts.as_slice() {
            [one] => one.clone(),
            parts => {
                let mut v = Vec::with_capacity(self.len);
                for p in parts {
                    v.extend_from_slice(p);
                }
                Bytes::from(v)
            }
        }
    }

    /// SHA-256 of the body.
    pub(crate) fn digest(&self) -> [u8; 32] {
        super::chain::sha256_parts(self.parts.iter().map(|p| p.as_ref()))
    }

    /// CRC32C of the body.
    pub(crate) fn crc32c(&self) -> u32 {
        self.parts
            .iter()
            .fold(0, |crc, p| crc32c::crc32c_append(crc, p))
    }
}

/// Encode `record` into its body. Fails with [`AuditError::TooLarge`] when its JSON part
/// is over [`MAX_META_BYTES`], and [`AuditError::Encode`] when it cannot be serialized.
pub fn encode(record: &Record) -> Result<Body, AuditError> {
    let mut json = Vec::with_capacity(1024);
    json.extend_from_slice(&[0; 4]);
    let (written, attachments) = collecting(|| serde_json::to_writer(&mut json, record));
    written.map_err(|e| AuditError::Encode(e.to_string()))?;
    let json_len = json.len() - 4;
    if json_len > MAX_META_BYTES {
        return Err(AuditError::TooLarge {
            kind: record.kind(),
            bytes: json_len,
            limit: MAX_META_BYTES,
            limit_name: "the JSON part's limit (MAX_META_BYTES)",
        });
    }
    if attachments.len() > MAX_ATTACHMENTS {
        return Err(AuditError::Encode(format!(
            "a record holds at most {MAX_ATTACHMENTS} payloads, this one {}",
            attachments.len()
        )));
    }
    json[0..4].copy_from_slice(&(json_len as u32).to_le_bytes());
    // `attachments.len()` is at most 255 (checked above).
    json.push(attachments.len() as u8);
    let count = attachments.len();
    let mut len = json.len();
    let mut parts = Vec::with_capacity(1 + 2 * attachments.len());
    let mut pending = json;
    for attachment in attachments {
        let Ok(n) = u32::try_from(attachment.len()) else {
            return Err(AuditError::TooLarge {
                kind: record.kind(),
                bytes: attachment.len(),
                limit: u32::MAX as usize,
                limit_name: "the largest attachment",
            });
        };
        pending.extend_from_slice(&n.to_le_bytes());
        len += 4 + attachment.len();
        if attachment.len() <= 256 {
            // Small attachments are cheaper copied than handed around as their own part.
            pending.extend_from_slice(&attachment);
        } else {
            parts.push(Bytes::from(std::mem::take(&mut pending)));
            parts.push(attachment);
        }
    }
    if !pending.is_empty() {
        parts.push(Bytes::from(pending));
    }
    Ok(Body {
        parts,
        len,
        json_len,
        attachments: count,
    })
}

/// Decode a body into its record. Fails with [`AuditError::Decode`] saying what is wrong.
pub fn decode(body: Bytes) -> Result<Record, AuditError> {
    let bad = |what: String| AuditError::Decode(format!("record body: {what}"));
    let u32_at = |at: usize| -> Result<usize, AuditError> {
        body.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .ok_or_else(|| bad(format!("ends inside a length at byte {at}")))
    };
    let json_len = u32_at(0)?;
    if json_len > MAX_META_BYTES {
        return Err(bad(format!(
            "its JSON part is {json_len} bytes, above {MAX_META_BYTES}"
        )));
    }
    let json_end = 4 + json_len;
    let count = *body
        .get(json_end)
        .ok_or_else(|| bad(format!("ends inside its {json_len}-byte JSON part")))?;
    let mut at = json_end + 1;
    let mut attachments = Vec::with_capacity(usize::from(count));
    for i in 0..count {
        let n = u32_at(at)?;
        at += 4;
        let end = at
            .checked_add(n)
            .filter(|end| *end <= body.len())
            .ok_or_else(|| bad(format!("attachment {i} of {n} bytes runs past its end")))?;
        attachments.push(body.slice(at..end));
        at = end;
    }
    if at != body.len() {
        return Err(bad(format!(
            "{} bytes follow its last attachment",
            body.len() - at
        )));
    }
    let json = &body[4..json_end];
    let (record, unused) = providing(attachments, || serde_json::from_slice::<Record>(json));
    let record = record.map_err(|e| bad(format!("not a valid record: {e}")))?;
    if unused > 0 {
        return Err(bad(format!(
            "{unused} attachment(s) are not referenced by the record"
        )));
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Bcss, OutcomeRecord, Payload};

    fn outcome(reply: &[u8]) -> Record {
        Record::Outcome(OutcomeRecord {
            ticket: uuid::Uuid::nil(),
            replied_at: chrono::DateTime::UNIX_EPOCH,
            duration_ms: 3,
            outcome: "received".into(),
            code: None,
            http_status: Some(200),
            content_type: Some("text/xml".into()),
            bcss: Bcss::default(),
            reply: Some(Payload::from_bytes(reply)),
            error: None,
        })
    }

    #[test]
    fn payloads_are_raw_attachments() {
        let reply = "<r>\"quoted\"\n\u{e9}</r>".repeat(100);
        let record = outcome(reply.as_bytes());
        let body = encode(&record).unwrap();
        let bytes = body.to_bytes();
        assert_eq!(bytes.len(), body.len());
        assert_eq!(body.attachment_bytes(), reply.len());
        assert_eq!(body.len(), body.json_len() + reply.len() + body_overhead(1));
        // The reply is in the body as is, after the JSON part.
        let tail = &bytes[bytes.len() - reply.len()..];
        assert_eq!(tail, reply.as_bytes());
        let json = std::str::from_utf8(&bytes[4..4 + body.json_len()]).unwrap();
        assert!(
            json.contains(&format!(
                r#""reply":{{"attachment":0,"len":{},"encoding":"text"}}"#,
                reply.len()
            )),
            "{json}"
        );
        assert_eq!(decode(bytes).unwrap(), record);
        // Latin-1 bytes are stored the same way, flagged binary.
        let latin1 = outcome(&[b'a', 0xe9, b'"', b'\n']);
        let body = encode(&latin1).unwrap();
        assert_eq!(body.attachment_bytes(), 4);
        assert_eq!(decode(body.to_bytes()).unwrap(), latin1);
    }

    #[test]
    fn malformed_bodies_are_refused() {
        let good = encode(&outcome(b"<x/>")).unwrap().to_bytes().to_vec();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (good[..good.len() - 1].to_vec(), "runs past"),
            ([good.clone(), vec![0]].concat(), "follow its last"),
            (vec![0xff, 0xff, 0xff, 0x7f], "above"),
            (vec![1, 0, 0, 0], "ends inside"),
        ];
        for (body, expected) in cases {
            let err = decode(Bytes::from(body)).unwrap_err().to_string();
            assert!(err.contains(expected), "{expected}: {err}");
        }
        // An extra attachment nobody references.
        let mut extra = good.clone();
        let json_len = u32::from_le_bytes(extra[0..4].try_into().unwrap()) as usize;
        extra[4 + json_len] = 2;
        extra.extend_from_slice(&[1, 0, 0, 0, b'z']);
        let err = decode(Bytes::from(extra)).unwrap_err().to_string();
        assert!(err.contains("not referenced"), "{err}");
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let good = encode(&outcome(b"<x/>")).unwrap().to_bytes().to_vec();
        for cut in 0..good.len() {
            let _ = decode(Bytes::copy_from_slice(&good[..cut]));
            let mut flipped = good.clone();
            flipped[cut] ^= 0x5a;
            let _ = decode(Bytes::from(flipped));
        }
    }
}
