//! (Being written.)

/// Errors of this family.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SsdnError {
    /// Placeholder.
    #[error("ssdn error: {0}")]
    Other(String),
}
