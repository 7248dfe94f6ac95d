//! Progress of the long journal commands (verify, reindex, prune, export): records and
//! bytes done, against the bytes to go through. The library only counts; the `bcss`
//! command draws a bar on a terminal.

use std::fmt;

/// Told how far a long operation over a journal has gone. Called from the thread doing
/// the work, often (once per record): implementations keep it cheap.
pub trait Progress: Send + Sync + fmt::Debug {
    /// The operation starts: `what` it is (`verify`, `reindex`...), and the bytes it will
    /// go through (the segments' total size), when known.
    fn start(&self, what: &str, total_bytes: Option<u64>);

    /// `records` more records, `bytes` more bytes, done.
    fn advance(&self, records: u64, bytes: u64);

    /// The operation ended (successfully or not).
    fn finish(&self);
}

/// The total size of a journal's segments, in bytes (for [`Progress::start`]).
pub(crate) fn segments_bytes(segments: &[super::scan::SegmentFile]) -> u64 {
    segments
        .iter()
        .filter_map(|s| std::fs::metadata(&s.path).ok())
        .map(|m| m.len())
        .sum()
}
