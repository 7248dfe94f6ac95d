//! Walking the whole chain: every segment, every frame, every link checked, each record
//! handed to a visitor. Verify, recovery, query and prune are visitors.

use std::path::Path;

use super::format::{GENESIS_HASH, SEGMENT_HEADER_LEN, SegmentHeader, chain_hash, sha256};
use super::scan::{Issue, SegmentFile, SegmentReader, list_segments};
use super::verify::Problem;
use super::{AuditError, Head, Record, prune};

/// Where the walk starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// At the first segment, which must start the chain (sequence 1) or be anchored by a
    /// prune.
    First,
    /// At the last segment, trusting its header (a quick open).
    LastSegment,
}

/// One record, as the visitor sees it.
#[derive(Debug)]
pub(crate) struct Visit {
    pub segment_index: usize,
    pub offset: u64,
    pub sequence: u64,
    pub written_at_micros: i64,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
    pub record: Record,
}

/// The last segment, as the walk left it.
#[derive(Debug, Clone)]
pub(crate) struct LastSegment {
    pub file: SegmentFile,
    pub header: SegmentHeader,
    /// The end of its last good frame.
    pub valid_len: u64,
}

/// How the walk ended.
#[derive(Debug)]
pub(crate) struct WalkEnd {
    /// Records visited (good ones).
    pub records: u64,
    /// The segments seen.
    pub segments: Vec<SegmentFile>,
    /// The first sequence number of the walked chain.
    pub first_sequence: Option<u64>,
    /// The chain starts at this sequence thanks to a prune anchor.
    pub anchored_at: Option<u64>,
    /// The last good record.
    pub head: Option<Head>,
    /// The sequence number the next record must carry.
    pub next_sequence: u64,
    /// The hash the next record chains from.
    pub chain_hash: [u8; 32],
    /// The last segment walked.
    pub last: Option<LastSegment>,
    /// The first problem; the walk stopped there.
    pub problem: Option<Problem>,
}

/// A visitor: returns a reason to stop with a problem at this record.
pub(crate) type Visitor<'v> = dyn FnMut(&Visit) -> Option<String> + 'v;

/// Walk the journal in `dir`.
pub(crate) fn walk(
    dir: &Path,
    start: Start,
    visit: &mut Visitor<'_>,
) -> Result<WalkEnd, AuditError> {
    let segments = list_segments(dir)?;
    let mut end = WalkEnd {
        records: 0,
        segments: segments.clone(),
        first_sequence: None,
        anchored_at: None,
        head: None,
        next_sequence: 1,
        chain_hash: GENESIS_HASH,
        last: None,
        problem: None,
    };
    let first_index = match start {
        Start::First => 0,
        Start::LastSegment => segments.len().saturating_sub(1),
    };
    let count = segments.len();
    for (index, segment) in segments.iter().enumerate().skip(first_index) {
        let is_last = index + 1 == count;
        let problem_at = |offset: u64, sequence: u64, reason: String, torn_tail: bool| Problem {
            segment: segment.name.clone(),
            offset,
            sequence,
            reason,
            torn_tail,
        };
        let (mut reader, header) = match SegmentReader::open(segment) {
            Ok(ok) => ok,
            Err(Issue::Io(e)) => return Err(e),
            Err(Issue::Bad(bad)) => {
                end.problem = Some(problem_at(bad.offset, end.next_sequence, bad.reason, false));
                return Ok(end);
            }
        };
        if header.first_sequence != segment.first_sequence {
            end.problem = Some(problem_at(
                0,
                end.next_sequence,
                format!(
                    "the segment's name announces sequence {} but its header says {}",
                    segment.first_sequence, header.first_sequence
                ),
                false,
            ));
            return Ok(end);
        }
        if index == first_index {
            let starts_chain = header.first_sequence == 1 && header.prev_hash == GENESIS_HASH;
            if start == Start::First && !starts_chain {
                if prune::is_anchor(dir, header.first_sequence, &header.prev_hash)? {
                    end.anchored_at = Some(header.first_sequence);
                } else {
                    end.problem = Some(problem_at(
                        0,
                        header.first_sequence,
                        format!(
                            "the journal starts at sequence {} but no prune anchor ({}) records the removal of the records before it: segments were deleted",
                            header.first_sequence,
                            super::format::PRUNED_FILE
                        ),
                        false,
                    ));
                    return Ok(end);
                }
            }
            end.next_sequence = header.first_sequence;
            end.chain_hash = header.prev_hash;
        } else if header.first_sequence != end.next_sequence {
            let reason = if header.first_sequence > end.next_sequence {
                format!(
                    "the segment starts at sequence {} but the chain continues at {}: records {}..={} are missing",
                    header.first_sequence,
                    end.next_sequence,
                    end.next_sequence,
                    header.first_sequence - 1
                )
            } else {
                format!(
                    "the segment starts at sequence {} but the chain continues at {}: segments overlap",
                    header.first_sequence, end.next_sequence
                )
            };
            end.problem = Some(problem_at(0, end.next_sequence, reason, false));
            return Ok(end);
        } else if header.prev_hash != end.chain_hash {
            end.problem = Some(problem_at(
                0,
                end.next_sequence,
                "the segment header's previous hash does not match the chain: the previous segment was altered".to_string(),
                false,
            ));
            return Ok(end);
        }
        if end.first_sequence.is_none() {
            end.first_sequence = Some(header.first_sequence);
        }
        let mut valid_len = SEGMENT_HEADER_LEN as u64;
        loop {
            let frame = match reader.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(Issue::Io(e)) => return Err(e),
                Err(Issue::Bad(bad)) => {
                    let torn = bad.incomplete && is_last;
                    let reason = if bad.incomplete && !is_last {
                        format!("{} (and this is not the last segment)", bad.reason)
                    } else if torn {
                        format!(
                            "incomplete final record (an interrupted write): {}",
                            bad.reason
                        )
                    } else {
                        bad.reason
                    };
                    end.problem = Some(problem_at(bad.offset, end.next_sequence, reason, torn));
                    break;
                }
            };
            let fh = &frame.header;
            if fh.sequence != end.next_sequence {
                end.problem = Some(problem_at(
                    frame.offset,
                    end.next_sequence,
                    format!(
                        "expected sequence {}, found {}: records were removed, reordered or inserted",
                        end.next_sequence, fh.sequence
                    ),
                    false,
                ));
                break;
            }
            let computed = chain_hash(&end.chain_hash, &fh.canonical_prefix, &sha256(&frame.body));
            if computed != fh.hash {
                end.problem = Some(problem_at(
                    frame.offset,
                    fh.sequence,
                    "the chain hash does not match: this record's stored hash or the record before it was altered".to_string(),
                    false,
                ));
                break;
            }
            let record: Record = match serde_json::from_slice(&frame.body) {
                Ok(record) => record,
                Err(e) => {
                    end.problem = Some(problem_at(
                        frame.offset,
                        fh.sequence,
                        format!("the record body is not a valid record: {e}"),
                        false,
                    ));
                    break;
                }
            };
            let v = Visit {
                segment_index: index,
                offset: frame.offset,
                sequence: fh.sequence,
                written_at_micros: fh.written_at_micros,
                prev_hash: end.chain_hash,
                hash: fh.hash,
                record,
            };
            if let Some(reason) = visit(&v) {
                end.problem = Some(problem_at(frame.offset, fh.sequence, reason, false));
                break;
            }
            end.records += 1;
            end.head = Some(Head {
                sequence: fh.sequence,
                hash: fh.hash,
            });
            end.next_sequence = fh.sequence.saturating_add(1);
            end.chain_hash = fh.hash;
            valid_len = frame.end;
        }
        if is_last {
            end.last = Some(LastSegment {
                file: segment.clone(),
                header,
                valid_len,
            });
        }
        if end.problem.is_some() {
            return Ok(end);
        }
    }
    Ok(end)
}
