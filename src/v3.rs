//! (Being written.)

/// Errors of this family.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum V3Error {
    /// Placeholder.
    #[error("v3 error: {0}")]
    Other(String),
}
