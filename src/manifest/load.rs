//! Reading a manifest file and turning it into a [`Policy`] or a [`ManifestError`].

use std::io::Read;
use std::path::Path;

use super::ManifestError;
use super::diagnostic::Diagnostic;
use super::policy::Policy;
use super::validate::{MAX_MANIFEST_BYTES, validate_with};
use crate::services::Catalogue;

/// Read a manifest file: at most [`MAX_MANIFEST_BYTES`], UTF-8.
pub fn read_manifest(path: &Path) -> Result<String, ManifestError> {
    let unreadable = |reason: String| ManifestError::Unreadable {
        path: path.display().to_string(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(MAX_MANIFEST_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(e.to_string()))?;
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(unreadable(format!(
            "larger than the limit of {MAX_MANIFEST_BYTES} bytes"
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        unreadable(format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

impl Policy {
    /// Validate a manifest's text into a policy; `file_name` is used in the messages.
    ///
    /// ```
    /// use bcss::manifest::Policy;
    /// let text = r#"
    /// [organization]
    /// cbe = "0212344876"
    /// name = "CPAS de Test"
    /// sector = 17
    /// "#;
    /// let policy = Policy::parse(text, "authorizations.toml").unwrap();
    /// assert_eq!(policy.organization().name, "CPAS de Test");
    /// assert!(policy.entries().is_empty());
    /// ```
    pub fn parse(text: &str, file_name: &str) -> Result<Policy, ManifestError> {
        Policy::parse_with(text, file_name, Catalogue::builtin())
    }

    /// Validate a manifest's text against `catalogue` (built-in and configured services).
    pub fn parse_with(
        text: &str,
        file_name: &str,
        catalogue: &Catalogue,
    ) -> Result<Policy, ManifestError> {
        validate_with(text, file_name, catalogue).map_err(invalid)
    }

    /// Read and validate a manifest file against the built-in catalogue.
    pub fn load(path: &Path) -> Result<Policy, ManifestError> {
        Policy::load_with(path, Catalogue::builtin())
    }

    /// Read and validate a manifest file against `catalogue`.
    pub fn load_with(path: &Path, catalogue: &Catalogue) -> Result<Policy, ManifestError> {
        let text = read_manifest(path)?;
        Policy::parse_with(&text, &path.display().to_string(), catalogue)
    }
}

fn invalid(diagnostics: Vec<Diagnostic>) -> ManifestError {
    ManifestError::Invalid(diagnostics.iter().map(ToString::to_string).collect())
}
