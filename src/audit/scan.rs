//! Reading segment files frame by frame, telling an interrupted write (an incomplete final
//! frame) from damage.

use std::fs::File;
use std::io::{BufReader, ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::AuditError;
use super::chain::StoredRecord;
use super::format::{
    FRAME_HEADER_LEN, FRAME_TRAILER_LEN, FrameHeader, SEGMENT_HEADER_LEN, SegmentHeader,
    parse_segment_file_name,
};

/// A segment file found in the journal directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegmentFile {
    pub path: PathBuf,
    pub name: String,
    /// The first sequence number its name announces.
    pub first_sequence: u64,
}

/// The segment files of `dir`, in chain order (by first sequence, then name).
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<SegmentFile>, AuditError> {
    let entries = std::fs::read_dir(dir).map_err(|e| AuditError::io(dir, "list directory", e))?;
    let mut segments = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| AuditError::io(dir, "list directory", e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(first_sequence) = parse_segment_file_name(name) {
            segments.push(SegmentFile {
                path: entry.path(),
                name: name.to_string(),
                first_sequence,
            });
        }
    }
    segments.sort_by(|a, b| {
        a.first_sequence
            .cmp(&b.first_sequence)
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(segments)
}

/// One frame read from a segment, checksums verified (the chain is the caller's).
#[derive(Debug)]
pub(crate) struct RawFrame {
    /// Where the frame starts in its segment.
    pub offset: u64,
    /// Where it ends.
    pub end: u64,
    pub header: FrameHeader,
    pub body: bytes::Bytes,
}

impl RawFrame {
    /// The frame as the chain sees it.
    pub(crate) fn stored(&self) -> StoredRecord {
        StoredRecord {
            sequence: self.header.sequence,
            written_at_micros: self.header.written_at_micros,
            hash: self.header.hash,
            body: self.body.clone(),
        }
    }
}

/// Why a frame could not be read.
#[derive(Debug)]
pub(crate) enum Issue {
    /// Reading failed.
    Io(AuditError),
    /// The bytes at `offset` are not a valid frame.
    Bad(BadFrame),
}

/// Bytes that are not a valid frame.
#[derive(Debug, Clone)]
pub(crate) struct BadFrame {
    pub offset: u64,
    /// What the bad bytes look like, when nothing valid follows them in the segment.
    pub tail: Option<TailKind>,
    pub reason: String,
}

/// A bad record with nothing valid after it in its segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TailKind {
    /// An interrupted write: fewer bytes than the record's header announces, a partial
    /// header, or unwritten (zero) bytes to the end of the file.
    Torn,
    /// A complete final record that does not check (a bad checksum, an impossible length).
    Damaged,
}

impl TailKind {
    /// `torn` or `damaged`, as written in truncation records.
    pub fn as_str(self) -> &'static str {
        match self {
            TailKind::Torn => "torn",
            TailKind::Damaged => "damaged",
        }
    }
}

/// Reads one segment front to back.
pub(crate) struct SegmentReader {
    reader: BufReader<File>,
    path: PathBuf,
    pos: u64,
    len: u64,
}

impl SegmentReader {
    /// Open a segment and read its header. A header that cannot be read is damage (headers
    /// are written to a temporary file and renamed into place, so never torn).
    pub(crate) fn open(segment: &SegmentFile) -> Result<(Self, SegmentHeader), Issue> {
        let path = &segment.path;
        let file = File::open(path).map_err(|e| Issue::Io(AuditError::io(path, "open", e)))?;
        let len = file
            .metadata()
            .map_err(|e| Issue::Io(AuditError::io(path, "stat", e)))?
            .len();
        let mut reader = BufReader::with_capacity(256 * 1024, file);
        if len < SEGMENT_HEADER_LEN as u64 {
            return Err(Issue::Bad(BadFrame {
                offset: 0,
                tail: None,
                reason: format!("segment is {len} bytes, shorter than its header"),
            }));
        }
        let mut h = [0u8; SEGMENT_HEADER_LEN];
        reader
            .read_exact(&mut h)
            .map_err(|e| Issue::Io(AuditError::io(path, "read", e)))?;
        let header = SegmentHeader::decode(&h).map_err(|reason| {
            Issue::Bad(BadFrame {
                offset: 0,
                tail: None,
                reason,
            })
        })?;
        Ok((
            SegmentReader {
                reader,
                path: path.clone(),
                pos: SEGMENT_HEADER_LEN as u64,
                len,
            },
            header,
        ))
    }

    /// Continue reading at `offset` (a frame boundary).
    pub(crate) fn seek(&mut self, offset: u64) -> Result<(), Issue> {
        if offset < SEGMENT_HEADER_LEN as u64 || offset > self.len {
            return Err(self.bad(
                offset,
                None,
                format!("offset {offset} is outside the segment"),
            ));
        }
        self.reader
            .seek(SeekFrom::Start(offset))
            .map_err(|e| Issue::Io(AuditError::io(&self.path, "seek", e)))?;
        self.pos = offset;
        Ok(())
    }

    /// The next frame, `None` at the end of the segment.
    pub(crate) fn next_frame(&mut self) -> Result<Option<RawFrame>, Issue> {
        let offset = self.pos;
        let remaining = self.len - offset;
        if remaining == 0 {
            return Ok(None);
        }
        if remaining < FRAME_HEADER_LEN as u64 {
            let reason = format!("the segment ends {remaining} bytes into a record header");
            return Err(self.bad(offset, Some(TailKind::Torn), reason));
        }
        let mut h = [0u8; FRAME_HEADER_LEN];
        self.read(&mut h)?;
        let header = match FrameHeader::decode(&h) {
            Ok(header) => header,
            Err(reason) => {
                let tail = if self.zero_from(offset)? {
                    Some(TailKind::Torn)
                } else {
                    self.final_unless_followed(offset + 1, None, TailKind::Damaged)?
                };
                return Err(self.bad(offset, tail, reason));
            }
        };
        let frame_len = header.frame_len();
        if frame_len > remaining {
            let tail = self.final_unless_followed(
                offset + FRAME_HEADER_LEN as u64,
                Some(header.sequence),
                TailKind::Torn,
            )?;
            return Err(self.bad(
                offset,
                tail,
                format!("the record is {frame_len} bytes but the segment ends after {remaining}"),
            ));
        }
        let mut body = vec![0u8; header.body_len];
        self.read(&mut body)?;
        let mut t = [0u8; FRAME_TRAILER_LEN];
        self.read(&mut t)?;
        let end = offset + frame_len;
        if u32::from_le_bytes(t) != crc32c::crc32c(&body) {
            let tail = if self.zero_from(offset)? {
                Some(TailKind::Torn)
            } else if end == self.len {
                Some(TailKind::Damaged)
            } else {
                None
            };
            return Err(self.bad(
                offset,
                tail,
                "record body checksum does not match".to_string(),
            ));
        }
        self.pos = end;
        Ok(Some(RawFrame {
            offset,
            end,
            header,
            body: bytes::Bytes::from(body),
        }))
    }

    /// `Some(kind)` unless a valid record header (of the sequence after `sequence`, when
    /// known) starts somewhere from `from` to the end of the segment: then the bad record
    /// is not the final one, and `None`.
    fn final_unless_followed(
        &self,
        from: u64,
        sequence: Option<u64>,
        kind: TailKind,
    ) -> Result<Option<TailKind>, Issue> {
        let io = |e| Issue::Io(AuditError::io(&self.path, "read", e));
        let mut file = File::open(&self.path).map_err(io)?;
        file.seek(SeekFrom::Start(from)).map_err(io)?;
        let mut rest = Vec::new();
        file.take(self.len.saturating_sub(from))
            .read_to_end(&mut rest)
            .map_err(io)?;
        let next = sequence.map(|s| s.saturating_add(1).to_le_bytes());
        let followed = rest.windows(FRAME_HEADER_LEN).any(|w| {
            next.is_none_or(|n| w[8..16] == n)
                && w.try_into()
                    .is_ok_and(|h: &[u8; FRAME_HEADER_LEN]| FrameHeader::decode(h).is_ok())
        });
        Ok((!followed).then_some(kind))
    }

    fn read(&mut self, buf: &mut [u8]) -> Result<(), Issue> {
        self.reader.read_exact(buf).map_err(|e| {
            let e = if e.kind() == ErrorKind::UnexpectedEof {
                std::io::Error::new(ErrorKind::UnexpectedEof, "the segment shrank while read")
            } else {
                e
            };
            Issue::Io(AuditError::io(&self.path, "read", e))
        })
    }

    fn bad(&self, offset: u64, tail: Option<TailKind>, reason: String) -> Issue {
        Issue::Bad(BadFrame {
            offset,
            tail,
            reason,
        })
    }

    /// Whether every byte from `offset` to the end of the file is zero (space a crash left
    /// allocated but unwritten).
    fn zero_from(&self, offset: u64) -> Result<bool, Issue> {
        let io = |e| Issue::Io(AuditError::io(&self.path, "read", e));
        let mut file = File::open(&self.path).map_err(io)?;
        file.seek(SeekFrom::Start(offset)).map_err(io)?;
        let mut left = self.len - offset;
        let mut buf = vec![0u8; 64 * 1024];
        while left > 0 {
            let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            let n = file.read(&mut buf[..want]).map_err(io)?;
            if n == 0 {
                break;
            }
            if buf[..n].iter().any(|&b| b != 0) {
                return Ok(false);
            }
            left -= n as u64;
        }
        Ok(true)
    }
}

/// A segment's header alone.
pub(crate) fn read_header(segment: &SegmentFile) -> Result<SegmentHeader, AuditError> {
    match SegmentReader::open(segment) {
        Ok((_, header)) => Ok(header),
        Err(Issue::Io(e)) => Err(e),
        Err(Issue::Bad(bad)) => Err(AuditError::Damaged {
            segment: segment.name.clone(),
            offset: bad.offset,
            sequence: segment.first_sequence,
            reason: bad.reason,
        }),
    }
}

/// Read the single frame at `offset` of `path` (for query's second pass), checksums
/// verified.
pub(crate) fn read_frame_at(path: &Path, offset: u64) -> Result<RawFrame, AuditError> {
    let io = |e| AuditError::io(path, "read", e);
    let mut file = File::open(path).map_err(io)?;
    file.seek(SeekFrom::Start(offset)).map_err(io)?;
    let mut h = [0u8; FRAME_HEADER_LEN];
    file.read_exact(&mut h).map_err(io)?;
    let damaged = |reason: String| AuditError::Damaged {
        segment: path.display().to_string(),
        offset,
        sequence: 0,
        reason,
    };
    let header = FrameHeader::decode(&h).map_err(damaged)?;
    let mut body = vec![0u8; header.body_len];
    file.read_exact(&mut body).map_err(io)?;
    let mut t = [0u8; FRAME_TRAILER_LEN];
    file.read_exact(&mut t).map_err(io)?;
    if u32::from_le_bytes(t) != crc32c::crc32c(&body) {
        return Err(damaged(
            "record body checksum does not match (changed since it was first read)".into(),
        ));
    }
    Ok(RawFrame {
        offset,
        end: offset + header.frame_len(),
        header,
        body: bytes::Bytes::from(body),
    })
}
