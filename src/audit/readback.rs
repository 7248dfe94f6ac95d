//! Reading one record back from its segment, checked against the chain: its frame's
//! checksums, its sequence number, and its hash recomputed from the hash stored in the
//! frame just before it (or, for a segment's first record, in the segment's header) and
//! its body. What a query returns is read this way, whether an index or a walk found it.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;

use super::chain::{canonical_prefix, chain_hash, sha256};
use super::format::{
    FRAME_HEADER_LEN, FRAME_TRAILER_LEN, FrameHeader, SEGMENT_HEADER_LEN, SegmentHeader,
};
pub(crate) use super::index::store::Loc;
use super::scan::SegmentFile;
use super::{AuditError, Record, codec};

/// Reads records of one journal, keeping its segment files open.
#[derive(Debug, Default)]
pub(crate) struct Reader {
    files: HashMap<usize, File>,
}

impl Reader {
    /// Record `loc` of `segments`, checked against the chain.
    pub(crate) fn read(
        &mut self,
        segments: &[SegmentFile],
        loc: &Loc,
    ) -> Result<Record, AuditError> {
        let segment = segments
            .get(loc.segment)
            .ok_or_else(|| AuditError::Decode("a record location outside the journal".into()))?;
        let damaged = |reason: String| AuditError::Damaged {
            segment: segment.name.clone(),
            offset: loc.offset,
            sequence: loc.sequence,
            reason,
        };
        let file = match self.files.entry(loc.segment) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(
                File::open(&segment.path)
                    .map_err(|err| AuditError::io(&segment.path, "open", err))?,
            ),
        };
        let io = |e| AuditError::io(&segment.path, "read", e);
        let header = read_header_at(file, loc.offset).map_err(io)?;
        let header = FrameHeader::decode(&header).map_err(&damaged)?;
        if header.sequence != loc.sequence {
            return Err(damaged(format!(
                "the record there is sequence {}, not {}: the journal changed since it was indexed or read",
                header.sequence, loc.sequence
            )));
        }
        let mut rest = vec![0u8; header.body_len + FRAME_TRAILER_LEN];
        file.read_exact_at(&mut rest, loc.offset + FRAME_HEADER_LEN as u64)
            .map_err(io)?;
        let mut trailer = [0u8; FRAME_TRAILER_LEN];
        trailer.copy_from_slice(&rest[header.body_len..]);
        let body = bytes::Bytes::from(rest).slice(..header.body_len);
        if u32::from_le_bytes(trailer) != crc32c::crc32c(&body) {
            return Err(damaged("record body checksum does not match".into()));
        }
        let prev_hash = match loc.prev {
            None => {
                if loc.offset != SEGMENT_HEADER_LEN as u64 {
                    return Err(damaged("the record before it is not known".into()));
                }
                let mut h = [0u8; SEGMENT_HEADER_LEN];
                file.read_exact_at(&mut h, 0).map_err(io)?;
                let seg = SegmentHeader::decode(&h).map_err(&damaged)?;
                if seg.first_sequence != loc.sequence {
                    return Err(damaged(format!(
                        "the segment starts at sequence {}, not at this record",
                        seg.first_sequence
                    )));
                }
                seg.prev_hash
            }
            Some(prev) => {
                let h = read_header_at(file, prev).map_err(io)?;
                let before = FrameHeader::decode(&h)
                    .map_err(|r| damaged(format!("the record before it: {r}")))?;
                if before.sequence.saturating_add(1) != loc.sequence
                    || prev + before.frame_len() != loc.offset
                {
                    return Err(damaged(
                        "the record before it is not the frame just before it in the segment"
                            .into(),
                    ));
                }
                before.hash
            }
        };
        let computed = chain_hash(
            &prev_hash,
            &canonical_prefix(header.sequence, header.written_at_micros),
            &sha256(&body),
        );
        if computed != header.hash {
            return Err(damaged(
                "the chain hash does not match: this record or the one before it was altered"
                    .into(),
            ));
        }
        codec::decode(body).map_err(|e| damaged(e.to_string()))
    }
}

fn read_header_at(file: &File, offset: u64) -> std::io::Result<[u8; FRAME_HEADER_LEN]> {
    let mut h = [0u8; FRAME_HEADER_LEN];
    file.read_exact_at(&mut h, offset)?;
    Ok(h)
}
