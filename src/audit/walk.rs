//! Walking a file journal's chain: every segment from a starting point, every frame, every
//! link checked and every body decoded, each record handed to a visitor. Verify, recovery,
//! query and prune are visitors.

use std::path::Path;

use uuid::Uuid;

use super::chain::Chain;
pub(crate) use super::chain::{Location, Visit};
use super::format::{GENESIS_HASH, SEGMENT_HEADER_LEN, SegmentHeader};
use super::scan::{Issue, SegmentFile, SegmentReader, TailKind, list_segments};
use super::verify::Problem;
use super::{AuditError, Head, codec};

/// Where the walk starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// At the first segment.
    First,
    /// Inside segment `segment` (an index in the directory's segments) at `offset`, a
    /// frame boundary, with the chain at `chain` there (a checked checkpoint's end).
    At {
        segment: usize,
        offset: u64,
        chain: Chain,
    },
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
    /// The journal's id, from the first segment header read.
    pub journal_id: Option<Uuid>,
    /// The first sequence number of the walked chain and the hash it chains from.
    pub start: Option<(u64, [u8; 32])>,
    /// The last good record.
    pub head: Option<Head>,
    /// The chain after the last good record.
    pub chain: Chain,
    /// The last segment walked.
    pub last: Option<LastSegment>,
    /// Where the next record would go (the end of the last good frame).
    pub end: Location,
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
    walk_listed(list_segments(dir)?, start, visit)
}

/// Walk the journal whose segments were listed as `segments` (a [`Start::At`] and every
/// [`Location`] index that list).
pub(crate) fn walk_listed(
    segments: Vec<SegmentFile>,
    start: Start,
    visit: &mut Visitor<'_>,
) -> Result<WalkEnd, AuditError> {
    let (first_index, first_offset, chain) = match start {
        Start::First => (0, None, Chain::genesis()),
        Start::At {
            segment,
            offset,
            chain,
        } => (segment, Some(offset), chain),
    };
    let mut end = WalkEnd {
        records: 0,
        segments: segments.clone(),
        journal_id: None,
        start: None,
        head: None,
        chain,
        last: None,
        end: Location::default(),
        problem: None,
    };
    let count = segments.len();
    for (index, segment) in segments.iter().enumerate().skip(first_index) {
        let is_last = index + 1 == count;
        let problem_at =
            |offset: u64, sequence: u64, reason: String, tail: Option<TailKind>| Problem {
                segment: segment.name.clone(),
                offset,
                sequence,
                reason,
                torn_tail: tail == Some(TailKind::Torn),
                final_record: tail.is_some(),
            };
        let (mut reader, header) = match SegmentReader::open(segment) {
            Ok(ok) => ok,
            Err(Issue::Io(e)) => return Err(e),
            Err(Issue::Bad(bad)) => {
                end.problem = Some(problem_at(
                    bad.offset,
                    end.chain.next_sequence,
                    bad.reason,
                    None,
                ));
                return Ok(end);
            }
        };
        if let Some(reason) = header_problem(segment, &header, index == first_index, &end) {
            end.problem = Some(problem_at(0, end.chain.next_sequence, reason, None));
            return Ok(end);
        }
        end.journal_id.get_or_insert(header.journal_id);
        let mut valid_len = SEGMENT_HEADER_LEN as u64;
        match first_offset.filter(|_| index == first_index) {
            Some(offset) => {
                if let Err(issue) = reader.seek(offset) {
                    return match issue {
                        Issue::Io(e) => Err(e),
                        Issue::Bad(bad) => {
                            end.problem = Some(problem_at(
                                offset,
                                end.chain.next_sequence,
                                bad.reason,
                                None,
                            ));
                            Ok(end)
                        }
                    };
                }
                valid_len = offset;
            }
            None if index == first_index => {
                end.chain = Chain {
                    next_sequence: header.first_sequence,
                    hash: header.prev_hash,
                };
                end.start = Some((header.first_sequence, header.prev_hash));
            }
            None => {}
        }
        end.end = Location {
            segment: index,
            offset: valid_len,
        };
        loop {
            let frame = match reader.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(Issue::Io(e)) => return Err(e),
                Err(Issue::Bad(bad)) => {
                    let tail = bad.tail.filter(|_| is_last);
                    let reason = match (bad.tail, tail) {
                        (Some(_), None) => {
                            format!("{} (and this is not the last segment)", bad.reason)
                        }
                        (_, Some(TailKind::Torn)) => format!(
                            "incomplete final record (an interrupted write): {}",
                            bad.reason
                        ),
                        (_, Some(TailKind::Damaged)) => {
                            format!("damaged final record: {}", bad.reason)
                        }
                        (None, None) => bad.reason,
                    };
                    end.problem = Some(problem_at(
                        bad.offset,
                        end.chain.next_sequence,
                        reason,
                        tail,
                    ));
                    break;
                }
            };
            let prev_hash = end.chain.hash;
            if let Err(reason) = end.chain.link(&frame.stored()) {
                let sequence = if reason.starts_with("expected") {
                    end.chain.next_sequence
                } else {
                    frame.header.sequence
                };
                end.problem = Some(problem_at(frame.offset, sequence, reason, None));
                break;
            }
            let record = match codec::decode(frame.body.clone()) {
                Ok(record) => record,
                Err(e) => {
                    // Undo the link: the record is not part of the good chain.
                    end.chain = Chain {
                        next_sequence: frame.header.sequence,
                        hash: prev_hash,
                    };
                    end.problem = Some(problem_at(
                        frame.offset,
                        frame.header.sequence,
                        e.to_string(),
                        None,
                    ));
                    break;
                }
            };
            let v = Visit {
                at: Location {
                    segment: index,
                    offset: frame.offset,
                },
                sequence: frame.header.sequence,
                written_at_micros: frame.header.written_at_micros,
                prev_hash,
                hash: frame.header.hash,
                len: frame.end - frame.offset,
                record,
            };
            if let Some(reason) = visit(&v) {
                end.chain = Chain {
                    next_sequence: frame.header.sequence,
                    hash: prev_hash,
                };
                end.problem = Some(problem_at(
                    frame.offset,
                    frame.header.sequence,
                    reason,
                    None,
                ));
                break;
            }
            end.records += 1;
            end.head = Some(Head {
                sequence: frame.header.sequence,
                hash: frame.header.hash,
            });
            valid_len = frame.end;
            end.end.offset = valid_len;
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

/// What is wrong with a segment's header where it stands in the chain, if anything.
fn header_problem(
    segment: &SegmentFile,
    header: &SegmentHeader,
    first: bool,
    end: &WalkEnd,
) -> Option<String> {
    if header.first_sequence != segment.first_sequence {
        return Some(format!(
            "the segment's name announces sequence {} but its header says {}",
            segment.first_sequence, header.first_sequence
        ));
    }
    if let Some(id) = end.journal_id.filter(|id| *id != header.journal_id) {
        return Some(format!(
            "the segment belongs to journal {} but the journal is {id}: segments of another journal were mixed in",
            header.journal_id
        ));
    }
    if header.first_sequence == 1 && header.prev_hash != GENESIS_HASH {
        return Some("the first segment's previous hash is not zero".to_string());
    }
    if first {
        return None;
    }
    let next = end.chain.next_sequence;
    if header.first_sequence > next {
        return Some(format!(
            "the segment starts at sequence {} but the chain continues at {next}: records {next}..={} are missing",
            header.first_sequence,
            header.first_sequence - 1
        ));
    }
    if header.first_sequence < next {
        return Some(format!(
            "the segment starts at sequence {} but the chain continues at {next}: segments overlap",
            header.first_sequence
        ));
    }
    if header.prev_hash != end.chain.hash {
        return Some("the segment header's previous hash does not match the chain: the previous segment was altered".to_string());
    }
    None
}
