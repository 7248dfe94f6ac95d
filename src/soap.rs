//! SOAP 1.1 envelopes: writing, reading, faults and the limits that keep parsing bounded.
//! (Being written.)

/// Bounds on what a reply may cost to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest reply body accepted, in bytes (default 16 MiB).
    pub max_bytes: usize,
    /// The deepest element nesting accepted (default 128).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 * 1024 * 1024,
            max_depth: 128,
        }
    }
}

/// A SOAP envelope could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SoapError {
    /// The XML is malformed.
    #[error("malformed XML at byte {position}: {reason}")]
    Malformed {
        /// Byte offset.
        position: u64,
        /// What is wrong.
        reason: String,
    },
}
