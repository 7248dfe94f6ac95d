//! Reading one record back from its segment, checked against the chain on both sides: its
//! frame's checksums, its sequence number, its hash recomputed from the hash stored in the
//! frame just before it (or, for a segment's first record, in the segment's header) and
//! its body, and the record after it (when there is one) recomputed from that hash in
//! turn (or the next segment's header chaining from it). What a query returns is read this
//! way, whether an index or a walk found it.
//!
//! Both links matter: a forger who rewrites a record and the hash stored with it keeps the
//! link before it, but breaks the one after it. Passing both checks means the record is
//! where the chain says, unless every later record was rewritten too, which the signed
//! checkpoints and the witness expose to [`verify`](super::verify()).

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

/// Why a record could not be read back where a location said.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The location is wrong: no record there, another record than the one named, or a
    /// record before it that is not where the location says. When an index gave the
    /// location, that is the index failing (the journal may be intact): read in order.
    NotThere(AuditError),
    /// The record named is there, but it (or a link of the chain on either side of it)
    /// does not check: the journal is damaged or was altered.
    Journal(AuditError),
}

impl From<ReadError> for AuditError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::NotThere(e) | ReadError::Journal(e) => e,
        }
    }
}

impl Reader {
    /// Record `loc` of `segments`, checked against the chain.
    pub(crate) fn read(
        &mut self,
        segments: &[SegmentFile],
        loc: &Loc,
    ) -> Result<Record, AuditError> {
        self.read_located(segments, loc).map_err(AuditError::from)
    }

    /// [`Reader::read`], telling a wrong location from a record that does not check.
    pub(crate) fn read_located(
        &mut self,
        segments: &[SegmentFile],
        loc: &Loc,
    ) -> Result<Record, ReadError> {
        use ReadError::{Journal, NotThere};
        let segment = segments.get(loc.segment).ok_or_else(|| {
            NotThere(AuditError::Decode(
                "a record location outside the journal".into(),
            ))
        })?;
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
                    .map_err(|err| Journal(AuditError::io(&segment.path, "open", err)))?,
            ),
        };
        let io = |e| AuditError::io(&segment.path, "read", e);
        // Past the end of the segment, or no frame there: the location is wrong.
        let header = read_header_at(file, loc.offset).map_err(|e| NotThere(io(e)))?;
        let header = FrameHeader::decode(&header).map_err(|r| NotThere(damaged(r)))?;
        if header.sequence != loc.sequence {
            return Err(NotThere(damaged(format!(
                "the record there is sequence {}, not {}: the journal changed since it was indexed or read",
                header.sequence, loc.sequence
            ))));
        }
        let mut rest = vec![0u8; header.body_len + FRAME_TRAILER_LEN];
        file.read_exact_at(&mut rest, loc.offset + FRAME_HEADER_LEN as u64)
            .map_err(|e| Journal(io(e)))?;
        let mut trailer = [0u8; FRAME_TRAILER_LEN];
        trailer.copy_from_slice(&rest[header.body_len..]);
        let body = bytes::Bytes::from(rest).slice(..header.body_len);
        if u32::from_le_bytes(trailer) != crc32c::crc32c(&body) {
            return Err(Journal(damaged(
                "record body checksum does not match".into(),
            )));
        }
        let prev_hash = match loc.prev {
            None => {
                if loc.offset != SEGMENT_HEADER_LEN as u64 {
                    return Err(NotThere(damaged(
                        "the record before it is not known".into(),
                    )));
                }
                let mut h = [0u8; SEGMENT_HEADER_LEN];
                file.read_exact_at(&mut h, 0).map_err(|e| Journal(io(e)))?;
                let seg = SegmentHeader::decode(&h).map_err(|r| Journal(damaged(r)))?;
                if seg.first_sequence != loc.sequence {
                    return Err(NotThere(damaged(format!(
                        "the segment starts at sequence {}, not at this record",
                        seg.first_sequence
                    ))));
                }
                seg.prev_hash
            }
            Some(prev) => {
                // The record named is there; where the one before it is comes from the
                // location too: a wrong one is the location's fault.
                let h = read_header_at(file, prev).map_err(|e| NotThere(io(e)))?;
                let before = FrameHeader::decode(&h)
                    .map_err(|r| NotThere(damaged(format!("the record before it: {r}"))))?;
                if before.sequence.saturating_add(1) != loc.sequence
                    || prev + before.frame_len() != loc.offset
                {
                    return Err(NotThere(damaged(
                        "the record before it is not the frame just before it in the segment"
                            .into(),
                    )));
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
            return Err(Journal(damaged(
                "the chain hash does not match: this record or the one before it was altered"
                    .into(),
            )));
        }
        successor(file, segments, loc, &header)
            .map_err(|e| Journal(io(e)))?
            .map_or(Ok(()), |reason| Err(Journal(damaged(reason))))?;
        codec::decode(body).map_err(|e| Journal(damaged(e.to_string())))
    }
}

/// Whether the record after the one at `loc` (`header`) chains from its hash: `None` when
/// it does, or when there is no complete record after it yet (the journal's head, or a
/// write in progress at the very end); else the reason it does not.
fn successor(
    file: &File,
    segments: &[SegmentFile],
    loc: &Loc,
    header: &FrameHeader,
) -> std::io::Result<Option<String>> {
    let next = loc.offset + header.frame_len();
    let len = file.metadata()?.len();
    let last_segment = loc.segment + 1 == segments.len();
    if next >= len {
        // The segment's last record: the next segment, if any, chains from it.
        let Some(segment) = segments.get(loc.segment + 1) else {
            return Ok(None);
        };
        let file = File::open(&segment.path)?;
        let mut h = [0u8; SEGMENT_HEADER_LEN];
        if file.metadata()?.len() < SEGMENT_HEADER_LEN as u64 {
            // Being created.
            return Ok(None);
        }
        file.read_exact_at(&mut h, 0)?;
        return Ok(match SegmentHeader::decode(&h) {
            Ok(seg)
                if seg.first_sequence == header.sequence.saturating_add(1)
                    && seg.prev_hash == header.hash =>
            {
                None
            }
            Ok(_) => Some(format!(
                "the next segment, {}, does not chain from this record: this record or the journal after it was altered",
                segment.name
            )),
            Err(e) => Some(format!("the next segment's header: {e}")),
        });
    }
    // An incomplete or unreadable record at the very end is a write in progress (or a
    // torn write the next writer quarantines): not this record's problem.
    let at_end = |end: u64| last_segment && end >= len;
    if next + FRAME_HEADER_LEN as u64 > len {
        return Ok((!at_end(len)).then(|| "a partial record follows it".to_string()));
    }
    let h = read_header_at(file, next)?;
    let after = match FrameHeader::decode(&h) {
        Ok(after) => after,
        Err(e) => {
            // The length it announces, unchecked: does it reach the end?
            let announced = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as u64;
            let end = next + (FRAME_HEADER_LEN + FRAME_TRAILER_LEN) as u64 + announced;
            return Ok((!at_end(end)).then(|| format!("the record after it: {e}")));
        }
    };
    let end = next + after.frame_len();
    if end > len {
        return Ok((!at_end(end)).then(|| "a partial record follows it".to_string()));
    }
    let mut rest = vec![0u8; after.body_len + FRAME_TRAILER_LEN];
    file.read_exact_at(&mut rest, next + FRAME_HEADER_LEN as u64)?;
    let (body, trailer) = rest.split_at(after.body_len);
    let mut crc = [0u8; FRAME_TRAILER_LEN];
    crc.copy_from_slice(trailer);
    if u32::from_le_bytes(crc) != crc32c::crc32c(body) {
        return Ok((!at_end(end)).then(|| "the record after it is damaged".to_string()));
    }
    if after.sequence != header.sequence.saturating_add(1) {
        return Ok(Some(format!(
            "the record after it is sequence {}, not {}",
            after.sequence,
            header.sequence.saturating_add(1)
        )));
    }
    let computed = chain_hash(
        &header.hash,
        &canonical_prefix(after.sequence, after.written_at_micros),
        &sha256(body),
    );
    Ok((computed != after.hash).then(|| {
        "the record after it does not chain from its hash: this record (its hash with it) or the one after it was altered".to_string()
    }))
}

fn read_header_at(file: &File, offset: u64) -> std::io::Result<[u8; FRAME_HEADER_LEN]> {
    let mut h = [0u8; FRAME_HEADER_LEN];
    file.read_exact_at(&mut h, offset)?;
    Ok(h)
}
