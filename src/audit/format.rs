//! The file journal's on-disk format (version 2).
//!
//! A journal is a directory (created mode 0700) holding:
//! - `journal.lock`: the writer's lock file (an exclusive `flock`-style lock while a
//!   [`FileJournal`](super::FileJournal) has the journal open);
//! - segment files `seg-SSSSSSSSSSSSSSSSSSSS-YYYYMMDD.bcj` (created mode 0600), where `S…` is
//!   the segment's first sequence number (20 digits) and `YYYYMMDD` the UTC day it was
//!   created; segments are rotated by size and by UTC day and never rewritten;
//! - `head.json`: the locator of the last checkpoint (its segment, byte offset, sequence
//!   number and chain hash), rewritten (temporary file, fsync, rename) after each
//!   checkpoint, so that opening checks only what follows it;
//! - `quarantine/`, once opening had to cut a bad final record: the bytes cut, one file
//!   each (`<segment>-<offset>.bin`, mode 0600), named by the truncation record;
//! - `index/`, the query index the writer keeps: `manifest.json` (the runs in force and
//!   the last record indexed), `run-*.idx` (immutable sorted runs of keys) and
//!   `positions.bin` (each record's byte offset); never trusted by
//!   [`query`](super::query()), rebuilt by [`reindex`](super::reindex());
//! - `reads/`, the reads chain: a journal of the same format recording who read this one
//!   (see [`record_read`](super::record_read())).
//!
//! A segment starts with an 80-byte header (integers little-endian):
//!
//! | bytes | field |
//! | --- | --- |
//! | 0..8 | magic `BCSSJRNL` |
//! | 8..10 | format version (2) |
//! | 10..12 | header length (80) |
//! | 12..20 | first sequence number |
//! | 20..28 | creation time, microseconds since the Unix epoch (UTC) |
//! | 28..60 | chain hash of the record before the first one (zeros for sequence 1) |
//! | 60..76 | the journal's id (its genesis record's `journal_id`) |
//! | 76..80 | CRC32C of bytes 0..76 |
//!
//! Then records, each framed as:
//!
//! | bytes | field |
//! | --- | --- |
//! | 0..4 | body length `N` (at most [`MAX_BODY_BYTES`]) |
//! | 4..6 | format version (2) |
//! | 6..8 | reserved, zero |
//! | 8..16 | sequence number (the first record of a journal, its genesis, is 1) |
//! | 16..24 | write time, microseconds since the Unix epoch (UTC) |
//! | 24..56 | chain hash after this record |
//! | 56..60 | CRC32C of bytes 0..56 |
//! | 60..60+N | body: the record, as [`codec`](super::codec) encodes it |
//! | 60+N..64+N | CRC32C of the body |
//!
//! Bytes 4..24 are the record's canonical prefix and the chain is the one of
//! [`chain`](super::chain), across segments: each segment header repeats the hash its
//! first record chains from. Version 1 segments (whose records were one JSON document) are
//! refused.

pub use super::chain::{FORMAT_VERSION, GENESIS_HASH};
use super::chain::{canonical_prefix, chain_hash};

/// The magic bytes a segment starts with.
pub const SEGMENT_MAGIC: [u8; 8] = *b"BCSSJRNL";
/// The length of a segment header.
pub const SEGMENT_HEADER_LEN: usize = 80;
/// The length of a frame header (before the body).
pub const FRAME_HEADER_LEN: usize = 60;
/// The length of a frame trailer (the body's CRC32C).
pub const FRAME_TRAILER_LEN: usize = 4;
/// The largest body a reader accepts (64 MiB); anything longer is damage.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// The extension of segment files.
pub const SEGMENT_EXTENSION: &str = "bcj";
/// The lock file's name.
pub const LOCK_FILE: &str = "journal.lock";
/// The locator of the last checkpoint.
pub const HEAD_FILE: &str = "head.json";
/// The folder of quarantined bytes.
pub const QUARANTINE_DIR: &str = "quarantine";

/// A segment header, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentHeader {
    pub first_sequence: u64,
    pub created_at_micros: i64,
    pub prev_hash: [u8; 32],
    pub journal_id: uuid::Uuid,
}

impl SegmentHeader {
    pub(crate) fn encode(&self) -> [u8; SEGMENT_HEADER_LEN] {
        let mut b = [0u8; SEGMENT_HEADER_LEN];
        b[0..8].copy_from_slice(&SEGMENT_MAGIC);
        b[8..10].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        b[10..12].copy_from_slice(&(SEGMENT_HEADER_LEN as u16).to_le_bytes());
        b[12..20].copy_from_slice(&self.first_sequence.to_le_bytes());
        b[20..28].copy_from_slice(&self.created_at_micros.to_le_bytes());
        b[28..60].copy_from_slice(&self.prev_hash);
        b[60..76].copy_from_slice(self.journal_id.as_bytes());
        let crc = crc32c::crc32c(&b[0..76]);
        b[76..80].copy_from_slice(&crc.to_le_bytes());
        b
    }

    pub(crate) fn decode(b: &[u8; SEGMENT_HEADER_LEN]) -> Result<Self, String> {
        if b[0..8] != SEGMENT_MAGIC {
            return Err("not a bcss journal segment (bad magic)".to_string());
        }
        let version = u16::from_le_bytes(arr(&b[8..10]));
        if version != FORMAT_VERSION {
            return Err(unsupported_version("segment", version));
        }
        let crc = u32::from_le_bytes(arr(&b[76..80]));
        if crc != crc32c::crc32c(&b[0..76]) {
            return Err("segment header checksum does not match".to_string());
        }
        let header_len = u16::from_le_bytes(arr(&b[10..12]));
        if usize::from(header_len) != SEGMENT_HEADER_LEN {
            return Err(format!("unsupported segment header length {header_len}"));
        }
        Ok(SegmentHeader {
            first_sequence: u64::from_le_bytes(arr(&b[12..20])),
            created_at_micros: i64::from_le_bytes(arr(&b[20..28])),
            prev_hash: arr(&b[28..60]),
            journal_id: uuid::Uuid::from_bytes(arr(&b[60..76])),
        })
    }
}

/// A frame header, decoded and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    pub body_len: usize,
    pub sequence: u64,
    pub written_at_micros: i64,
    pub hash: [u8; 32],
    /// Bytes 4..24, the fixed part of the canonical bytes.
    pub canonical_prefix: [u8; 20],
}

impl FrameHeader {
    pub(crate) fn decode(b: &[u8; FRAME_HEADER_LEN]) -> Result<Self, String> {
        let crc = u32::from_le_bytes(arr(&b[56..60]));
        if crc != crc32c::crc32c(&b[0..56]) {
            return Err("record header checksum does not match".to_string());
        }
        let version = u16::from_le_bytes(arr(&b[4..6]));
        if version != FORMAT_VERSION {
            return Err(unsupported_version("record", version));
        }
        if b[6..8] != [0, 0] {
            return Err("record header reserved bytes are not zero".to_string());
        }
        let body_len = u32::from_le_bytes(arr(&b[0..4])) as usize;
        if body_len == 0 || body_len > MAX_BODY_BYTES {
            return Err(format!(
                "record body length {body_len} is outside 1..={MAX_BODY_BYTES}"
            ));
        }
        Ok(FrameHeader {
            body_len,
            sequence: u64::from_le_bytes(arr(&b[8..16])),
            written_at_micros: i64::from_le_bytes(arr(&b[16..24])),
            hash: arr(&b[24..56]),
            canonical_prefix: arr(&b[4..24]),
        })
    }

    /// The frame's total length on disk.
    pub(crate) fn frame_len(&self) -> u64 {
        (FRAME_HEADER_LEN + self.body_len + FRAME_TRAILER_LEN) as u64
    }
}

/// A frame's header (the bytes before the body) and the chain hash after it. `body_digest`
/// is `sha256(body)`; the frame's trailer is `crc32c(body)`, little-endian.
///
/// `body_len` must be within 1..=[`MAX_BODY_BYTES`] (the writer checks before).
pub(crate) fn frame_header(
    prev: &[u8; 32],
    sequence: u64,
    written_at_micros: i64,
    body_len: usize,
    body_digest: &[u8; 32],
) -> ([u8; FRAME_HEADER_LEN], [u8; 32]) {
    let prefix = canonical_prefix(sequence, written_at_micros);
    let hash = chain_hash(prev, &prefix, body_digest);
    let mut header = [0u8; FRAME_HEADER_LEN];
    // The writer bounds bodies to MAX_BODY_BYTES (< u32::MAX).
    header[0..4].copy_from_slice(&(body_len as u32).to_le_bytes());
    header[4..24].copy_from_slice(&prefix);
    header[24..56].copy_from_slice(&hash);
    let crc = crc32c::crc32c(&header[0..56]);
    header[56..60].copy_from_slice(&crc.to_le_bytes());
    (header, hash)
}

/// Append one whole frame to `buf`; returns the chain hash after it.
#[cfg(test)]
pub(crate) fn encode_frame(
    buf: &mut Vec<u8>,
    prev: &[u8; 32],
    sequence: u64,
    written_at_micros: i64,
    body: &[u8],
    body_digest: &[u8; 32],
) -> [u8; 32] {
    let (header, hash) = frame_header(prev, sequence, written_at_micros, body.len(), body_digest);
    buf.extend_from_slice(&header);
    buf.extend_from_slice(body);
    buf.extend_from_slice(&crc32c::crc32c(body).to_le_bytes());
    hash
}

/// The file name of the segment starting at `first_sequence`, created on `day`.
pub(crate) fn segment_file_name(first_sequence: u64, day: chrono::NaiveDate) -> String {
    format!(
        "seg-{first_sequence:020}-{}.{SEGMENT_EXTENSION}",
        day.format("%Y%m%d")
    )
}

/// The first sequence number a segment file name announces, or `None` when the name is
/// not a segment's.
pub(crate) fn parse_segment_file_name(name: &str) -> Option<u64> {
    let rest = name.strip_prefix("seg-")?;
    let rest = rest.strip_suffix(SEGMENT_EXTENSION)?.strip_suffix('.')?;
    let (seq, day) = rest.split_once('-')?;
    if seq.len() != 20 || day.len() != 8 || !day.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if !seq.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    seq.parse().ok()
}

fn unsupported_version(what: &str, version: u16) -> String {
    if version == 1 {
        format!(
            "{what} format version 1 (before attachments) is not supported by this version of bcss, which reads version {FORMAT_VERSION}; keep that journal with the bcss that wrote it"
        )
    } else {
        format!(
            "unsupported {what} format version {version} (this bcss reads version {FORMAT_VERSION})"
        )
    }
}

/// A fixed-size array from a slice of exactly that size (callers slice constant ranges).
fn arr<const N: usize>(s: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(s);
    a
}

/// Microseconds since the epoch to a UTC time (saturating on absurd values).
pub(crate) fn micros_to_time(micros: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_header_round_trips_and_detects_flips() {
        let h = SegmentHeader {
            first_sequence: 42,
            created_at_micros: 1_700_000_000_000_000,
            prev_hash: [7; 32],
            journal_id: uuid::Uuid::from_bytes([3; 16]),
        };
        let mut b = h.encode();
        assert_eq!(SegmentHeader::decode(&b).unwrap(), h);
        b[30] ^= 1;
        assert!(SegmentHeader::decode(&b).unwrap_err().contains("checksum"));
    }

    #[test]
    fn frame_round_trips_and_chains() {
        use crate::audit::chain::sha256;
        let mut buf = Vec::new();
        let (a, b) = (b"{\"a\":1}", b"{\"b\":2}");
        let h1 = encode_frame(&mut buf, &GENESIS_HASH, 1, 5, a, &sha256(a));
        let first_len = buf.len();
        let h2 = encode_frame(&mut buf, &h1, 2, 6, b, &sha256(b));
        let header: [u8; FRAME_HEADER_LEN] = buf[..FRAME_HEADER_LEN].try_into().unwrap();
        let fh = FrameHeader::decode(&header).unwrap();
        assert_eq!(fh.sequence, 1);
        assert_eq!(fh.body_len, 7);
        assert_eq!(fh.hash, h1);
        assert_eq!(fh.frame_len() as usize, first_len);
        assert_eq!(
            chain_hash(&GENESIS_HASH, &fh.canonical_prefix, &sha256(a)),
            h1
        );
        let second: [u8; FRAME_HEADER_LEN] = buf[first_len..first_len + FRAME_HEADER_LEN]
            .try_into()
            .unwrap();
        let fh2 = FrameHeader::decode(&second).unwrap();
        assert_eq!(fh2.hash, h2);
        assert_ne!(h1, h2);
    }

    #[test]
    fn frame_header_rejects_bad_lengths_and_flips() {
        use crate::audit::chain::sha256;
        let mut buf = Vec::new();
        encode_frame(&mut buf, &GENESIS_HASH, 1, 5, b"x", &sha256(b"x"));
        let mut header: [u8; FRAME_HEADER_LEN] = buf[..FRAME_HEADER_LEN].try_into().unwrap();
        header[10] ^= 0x80;
        assert!(FrameHeader::decode(&header).is_err());
        assert!(FrameHeader::decode(&[0u8; FRAME_HEADER_LEN]).is_err());
    }

    #[test]
    fn segment_names_round_trip() {
        let day = chrono::NaiveDate::from_ymd_opt(2025, 3, 9).unwrap();
        let name = segment_file_name(17, day);
        assert_eq!(name, "seg-00000000000000000017-20250309.bcj");
        assert_eq!(parse_segment_file_name(&name), Some(17));
        assert_eq!(parse_segment_file_name("seg-17-20250309.bcj"), None);
        assert_eq!(parse_segment_file_name("journal.lock"), None);
        assert_eq!(
            parse_segment_file_name("seg-00000000000000000017-20250309.bcj.tmp"),
            None
        );
    }
}
