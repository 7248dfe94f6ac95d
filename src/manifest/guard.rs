//! [`Guard`]: the loaded [`Policy`] behind a lock, swapped whole on reload.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

use super::diagnostic::Diagnostic;
use super::policy::Policy;
use super::{Decision, Denial, DenialReason, Facts, ManifestError, Organization};
use crate::services::Catalogue;

/// What a successful reload loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReloadReport {
    /// The file name of the manifest now in force.
    pub source: String,
    /// How many entries it has.
    pub entries: usize,
    /// Its warnings.
    pub warnings: Vec<Diagnostic>,
    /// Whether it replaced a manifest (false when the guard had none).
    pub replaced: bool,
}

/// Checks every call against the loaded manifest.
///
/// The manifest in force is an immutable [`Policy`] behind an `Arc`; a reload validates
/// the new text completely and then swaps the `Arc`, so a decision sees either the old
/// manifest or the new one, never a mix. A reload that fails keeps the last good manifest.
///
/// A guard validates its manifest against a [`Catalogue`]: the built-in one, or the one a
/// configuration extends with its `[[service]]` entries (`*_with` constructors). Reloads
/// use the same catalogue.
///
/// ```
/// use bcss::manifest::{Decision, DenialReason, Facts, Guard};
/// use bcss::Environment;
///
/// let guard = Guard::empty();
/// let facts = Facts {
///     environment: Environment::Test,
///     service: "IdentifyPerson",
///     operation: "identifyPerson",
///     purpose: "PCSA:SOCIAL_INQUIRY",
///     program: None,
/// };
/// match guard.decide(&facts, chrono::Utc::now()) {
///     Decision::Deny(d) => assert_eq!(d.reason, DenialReason::NoValidManifest),
///     Decision::Grant(_) => unreachable!(),
/// }
/// ```
pub struct Guard {
    current: RwLock<Option<Arc<Policy>>>,
    source: Option<PathBuf>,
    catalogue: Catalogue,
}

impl Default for Guard {
    fn default() -> Guard {
        Guard {
            current: RwLock::new(None),
            source: None,
            catalogue: Catalogue::builtin().clone(),
        }
    }
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let policy = self.policy();
        f.debug_struct("Guard")
            .field("source", &self.source)
            .field("entries", &policy.as_ref().map(|p| p.entries().len()))
            .finish()
    }
}

impl Guard {
    /// A guard with no valid manifest: it refuses every call.
    pub fn empty() -> Guard {
        Guard::default()
    }

    /// A guard that refuses every call until [`Guard::reload`] loads the manifest at
    /// `path`. For an application that starts before its manifest is valid.
    pub fn with_source(path: impl Into<PathBuf>) -> Guard {
        Guard::with_source_in(path, Catalogue::builtin().clone())
    }

    /// [`Guard::with_source`], validating against `catalogue`.
    pub fn with_source_in(path: impl Into<PathBuf>, catalogue: Catalogue) -> Guard {
        Guard {
            current: RwLock::new(None),
            source: Some(path.into()),
            catalogue,
        }
    }

    /// Load and validate the manifest at `path` against the built-in catalogue;
    /// [`Guard::reload`] reads it again.
    pub fn load(path: impl Into<PathBuf>) -> Result<Guard, ManifestError> {
        Guard::load_with(path, Catalogue::builtin().clone())
    }

    /// Load and validate the manifest at `path` against `catalogue`.
    pub fn load_with(
        path: impl Into<PathBuf>,
        catalogue: Catalogue,
    ) -> Result<Guard, ManifestError> {
        let path = path.into();
        let policy = Policy::load_with(&path, &catalogue)?;
        Ok(Guard {
            current: RwLock::new(Some(Arc::new(policy))),
            source: Some(path),
            catalogue,
        })
    }

    /// Validate a manifest given as text, against the built-in catalogue; `file_name` is
    /// used in the messages. Such a guard has no file to reload: use
    /// [`Guard::reload_from_str`].
    pub fn from_str(text: &str, file_name: &str) -> Result<Guard, ManifestError> {
        Guard::from_str_with(text, file_name, Catalogue::builtin().clone())
    }

    /// Validate a manifest given as text against `catalogue`.
    pub fn from_str_with(
        text: &str,
        file_name: &str,
        catalogue: Catalogue,
    ) -> Result<Guard, ManifestError> {
        let policy = Policy::parse_with(text, file_name, &catalogue)?;
        Ok(Guard {
            current: RwLock::new(Some(Arc::new(policy))),
            source: None,
            catalogue,
        })
    }

    /// A guard over a policy already validated (against the built-in catalogue, for its
    /// reloads).
    pub fn from_policy(policy: Policy) -> Guard {
        Guard {
            current: RwLock::new(Some(Arc::new(policy))),
            source: None,
            catalogue: Catalogue::builtin().clone(),
        }
    }

    /// The catalogue manifests are validated against.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// The file the guard reloads from, if any.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// Read and validate the manifest file again, and put it in force. On any error the
    /// manifest in force stays (or the guard keeps refusing every call, if it had none),
    /// and the error lists every problem.
    pub fn reload(&self) -> Result<ReloadReport, ManifestError> {
        let path = self.source.as_ref().ok_or(ManifestError::NoSource)?;
        let policy = Policy::load_with(path, &self.catalogue)?;
        Ok(self.install(policy))
    }

    /// Validate `text` and put it in force; on error the manifest in force stays.
    pub fn reload_from_str(
        &self,
        text: &str,
        file_name: &str,
    ) -> Result<ReloadReport, ManifestError> {
        let policy = Policy::parse_with(text, file_name, &self.catalogue)?;
        Ok(self.install(policy))
    }

    /// Put a validated policy in force, atomically.
    pub fn install(&self, policy: Policy) -> ReloadReport {
        let report = ReloadReport {
            source: policy.source().to_string(),
            entries: policy.entries().len(),
            warnings: policy.warnings().to_vec(),
            replaced: false,
        };
        let new = Some(Arc::new(policy));
        // The lock only guards a pointer swap: a poisoned lock still holds a whole value.
        let mut slot = self.current.write().unwrap_or_else(|e| e.into_inner());
        let old = std::mem::replace(&mut *slot, new);
        drop(slot);
        ReloadReport {
            replaced: old.is_some(),
            ..report
        }
    }

    /// The manifest in force, if any.
    pub fn policy(&self) -> Option<Arc<Policy>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The organisation of the loaded manifest.
    pub fn organization(&self) -> Option<Organization> {
        self.policy().map(|p| p.organization().clone())
    }

    /// Decide one call. Pure: no I/O, the instant passed in. Without a valid manifest,
    /// every call is refused with [`DenialReason::NoValidManifest`]. See
    /// [`Policy::decide`] for the rules.
    pub fn decide(&self, facts: &Facts<'_>, at: DateTime<Utc>) -> Decision {
        match self.policy() {
            Some(policy) => policy.decide(facts, at),
            None => Decision::Deny(Denial {
                reason: DenialReason::NoValidManifest,
                nearest_entry: None,
                message: "no valid authorisation manifest is loaded, so every call is \
                          refused; fix it (bcss manifest check FILE) and load or reload it"
                    .to_string(),
            }),
        }
    }
}
