//! Index keys: what a record is found by.
//!
//! A key is `kind (1 byte) | term length (1 byte) | term | time (8 bytes) | sequence
//! (8 bytes)`, integers big-endian (the time's sign bit flipped), so that keys sort by
//! kind, then term, then time, then sequence, and a term's entries in a time range are one
//! contiguous key range. The sequence is the journal record the entry leads to.
//!
//! | kind | term | time | leads to |
//! | --- | --- | --- | --- |
//! | `k` | ticket (16 bytes) | decided at | the exchange's decision (denial or intent) |
//! | `d` | empty | decided at | every decision |
//! | `s` | a subject's digits | decided at | the decision |
//! | `u` | the user's id | decided at | the decision |
//! | `v` | the service, lowercase | decided at | the decision |
//! | `m` | the manifest's SHA-256 (32 bytes) | decided at | the decision |
//! | `o` | a status (`denied`, an outcome) | decided at | the decision |
//! | `x` | the decision's sequence (8 bytes) | 0 | its outcome or classification |
//! | `r` | the reader's id | read at | a read record |
//!
//! Terms longer than [`MAX_TERM`] bytes are replaced by their SHA-256: a key never decides
//! what a query returns, the records read back do (see `query`).

use crate::audit::Record;
use crate::audit::chain::sha256;

/// What a key's term is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    Ticket = b'k',
    Decision = b'd',
    Subject = b's',
    User = b'u',
    Service = b'v',
    Manifest = b'm',
    Status = b'o',
    Link = b'x',
    Reader = b'r',
}

/// The longest term kept as is.
pub(crate) const MAX_TERM: usize = 128;

/// The bytes after the term: time and sequence.
const TAIL: usize = 16;

/// The longest key.
pub(crate) const MAX_KEY: usize = 2 + MAX_TERM + TAIL;

/// A term's bytes as stored (hashed when long).
fn term_bytes(term: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if term.len() > MAX_TERM {
        std::borrow::Cow::Owned(sha256(term).to_vec())
    } else {
        std::borrow::Cow::Borrowed(term)
    }
}

fn time_bytes(micros: i64) -> [u8; 8] {
    ((micros as u64) ^ (1 << 63)).to_be_bytes()
}

/// The prefix of every key of `kind` and `term`.
pub(crate) fn prefix(kind: Kind, term: &[u8]) -> Vec<u8> {
    let term = term_bytes(term);
    let mut key = Vec::with_capacity(2 + term.len() + TAIL);
    key.push(kind as u8);
    // At most MAX_TERM (128) bytes: fits.
    key.push(term.len() as u8);
    key.extend_from_slice(&term);
    key
}

/// A whole key.
pub(crate) fn key(kind: Kind, term: &[u8], micros: i64, sequence: u64) -> Vec<u8> {
    let mut key = prefix(kind, term);
    key.extend_from_slice(&time_bytes(micros));
    key.extend_from_slice(&sequence.to_be_bytes());
    key
}

/// The key range `[low, high)` of `kind` and `term` between two times (inclusive).
pub(crate) fn range(kind: Kind, term: &[u8], since: i64, until: i64) -> (Vec<u8>, Vec<u8>) {
    let p = prefix(kind, term);
    let mut low = p.clone();
    low.extend_from_slice(&time_bytes(since));
    low.extend_from_slice(&0u64.to_be_bytes());
    let mut high = p;
    high.extend_from_slice(&time_bytes(until));
    high.extend_from_slice(&u64::MAX.to_be_bytes());
    // `high` itself is a possible key: make the range include it.
    high.push(0);
    (low, high)
}

/// The sequence number a key leads to.
pub(crate) fn sequence_of(key: &[u8]) -> Option<u64> {
    let tail = key.len().checked_sub(8)?;
    Some(u64::from_be_bytes(key.get(tail..)?.try_into().ok()?))
}

/// The term of a key.
pub(crate) fn term_of(key: &[u8]) -> Option<&[u8]> {
    let len = usize::from(*key.get(1)?);
    key.get(2..2 + len)
}

/// The time (microseconds since the epoch) in a key.
pub(crate) fn time_of(key: &[u8]) -> Option<i64> {
    let at = key.len().checked_sub(16)?;
    let bytes: [u8; 8] = key.get(at..at + 8)?.try_into().ok()?;
    Some((u64::from_be_bytes(bytes) ^ (1 << 63)) as i64)
}

/// A subject as indexed: its digits (`.`, `-` and spaces ignored, as the query does).
pub(crate) fn subject_term(subject: &str) -> Vec<u8> {
    subject.bytes().filter(u8::is_ascii_digit).collect()
}

/// A service as indexed: lowercase (the query compares it case-insensitively).
pub(crate) fn service_term(service: &str) -> Vec<u8> {
    service.to_ascii_lowercase().into_bytes()
}

/// A status as indexed: lowercase.
pub(crate) fn status_term(status: &str) -> Vec<u8> {
    status.to_ascii_lowercase().into_bytes()
}

/// A manifest digest as indexed: its 32 bytes when it is 64 hex digits, else its
/// lowercase text.
pub(crate) fn manifest_term(sha256: &str) -> Vec<u8> {
    let lower = sha256.trim().to_ascii_lowercase();
    match hex::decode(&lower) {
        Ok(bytes) if bytes.len() == 32 => bytes,
        _ => lower.into_bytes(),
    }
}

/// Where a decision is, for the records that follow it (its outcome, its classification).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decision {
    pub sequence: u64,
    pub decided_at_micros: i64,
}

/// The keys of one record. `decision` is where the exchange's decision is, for an outcome
/// or a classification (`None` when it is not known: then only what the record itself
/// holds is indexed).
pub(crate) fn keys_of(
    sequence: u64,
    record: &Record,
    decision: Option<Decision>,
    out: &mut Vec<Vec<u8>>,
) {
    let (ticket, at, who, what, manifest, denied) = match record {
        Record::Denial(d) => (d.ticket, d.decided_at, &d.who, &d.what, &d.manifest, true),
        Record::Intent(i) => (i.ticket, i.decided_at, &i.who, &i.what, &i.manifest, false),
        Record::Outcome(o) => {
            linked(sequence, &o.outcome, decision, out);
            return;
        }
        Record::Classification(c) => {
            linked(sequence, &c.outcome, decision, out);
            return;
        }
        Record::Read(r) => {
            out.push(key(
                Kind::Reader,
                r.reader.as_bytes(),
                r.at.timestamp_micros(),
                sequence,
            ));
            return;
        }
        _ => return,
    };
    let t = at.timestamp_micros();
    out.push(key(Kind::Ticket, ticket.as_bytes(), t, sequence));
    out.push(key(Kind::Decision, b"", t, sequence));
    for subject in &what.subjects {
        out.push(key(Kind::Subject, &subject_term(subject), t, sequence));
    }
    out.push(key(Kind::User, who.user_id.as_bytes(), t, sequence));
    out.push(key(
        Kind::Service,
        &service_term(&what.service),
        t,
        sequence,
    ));
    if let Some(m) = manifest {
        out.push(key(Kind::Manifest, &manifest_term(&m.sha256), t, sequence));
    }
    if denied {
        out.push(key(Kind::Status, b"denied", t, sequence));
    }
}

/// An outcome's or classification's keys: the link from its decision, and its status.
fn linked(sequence: u64, status: &str, decision: Option<Decision>, out: &mut Vec<Vec<u8>>) {
    let Some(d) = decision else { return };
    out.push(key(Kind::Link, &d.sequence.to_be_bytes(), 0, sequence));
    out.push(key(
        Kind::Status,
        &status_term(status),
        d.decided_at_micros,
        d.sequence,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_term_then_time_then_sequence() {
        let a = key(Kind::Subject, b"85010100123", -5, 9);
        let b = key(Kind::Subject, b"85010100123", 3, 2);
        let c = key(Kind::Subject, b"85010100123", 3, 7);
        let d = key(Kind::Subject, b"85010100124", -100, 1);
        assert!(a < b && b < c && c < d);
        assert_eq!(sequence_of(&c), Some(7));
        assert_eq!(time_of(&a), Some(-5));
        let (low, high) = range(Kind::Subject, b"85010100123", -5, 3);
        assert!(low <= a && a < high && c < high && d >= high);
        let (low, _) = range(Kind::Subject, b"85010100123", 0, 3);
        assert!(a < low);
        // Long terms are hashed, and still sort as one term.
        let long = vec![b'x'; 500];
        assert_eq!(key(Kind::User, &long, 0, 1).len(), 2 + 32 + 16);
        assert_eq!(manifest_term(&"AB".repeat(32)), vec![0xab; 32]);
        assert_eq!(subject_term("85.01.01-001.23"), b"85010100123");
    }
}
