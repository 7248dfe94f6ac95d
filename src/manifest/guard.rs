//! [`Guard`]: the loaded [`Policy`] behind a lock, swapped whole on reload.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

use super::diagnostic::Diagnostic;
use super::policy::Policy;
use super::provenance::{ManifestRef, SignatureStatus};
use super::trust::ManifestTrust;
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
    /// The manifest now in force.
    pub manifest: ManifestRef,
    /// The manifest it replaced, if any.
    pub previous: Option<ManifestRef>,
    /// The signature it was loaded with.
    pub signature: SignatureStatus,
}

/// Checks every call against the loaded manifest.
///
/// The manifest in force is an immutable [`Policy`] behind an `Arc`; a reload validates
/// the new text completely and then swaps the `Arc`, so a decision sees either the old
/// manifest or the new one, never a mix. A reload that fails keeps the last good manifest.
///
/// A guard loaded from a file checks the manifest's signature (`FILE.sig`) against its
/// [`ManifestTrust`] at every load and reload ([`Guard::load_trusted`]); a manifest that
/// loads unsigned is reported once per load (a `tracing` warning).
///
/// A guard validates its manifest against a [`Catalogue`]: the built-in one, or the one a
/// configuration extends with its `[[service]]` entries (the `*_with` constructors), so
/// that entries may name the configured services. Reloads use the same catalogue.
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
///     access_purpose: None,
/// };
/// match guard.decide(&facts, chrono::Utc::now()) {
///     Decision::Deny(d) => assert_eq!(d.reason, DenialReason::NoValidManifest),
///     Decision::Grant(_) => unreachable!(),
/// }
/// ```
#[derive(Default)]
pub struct Guard {
    current: RwLock<Option<Arc<Policy>>>,
    source: Option<PathBuf>,
    trust: ManifestTrust,
    catalogue: Catalogue,
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let policy = self.policy();
        f.debug_struct("Guard")
            .field("source", &self.source)
            .field("entries", &policy.as_ref().map(|p| p.entries().len()))
            .field(
                "manifest",
                &policy.as_ref().map(|p| p.manifest_ref().clone()),
            )
            .field("require_signature", &self.trust.requires_signature())
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
        Guard::with_source_trusted(path, ManifestTrust::default())
    }

    /// Like [`Guard::with_source`], checking signatures against `trust`.
    pub fn with_source_trusted(path: impl Into<PathBuf>, trust: ManifestTrust) -> Guard {
        Guard::with_source_trusted_in(path, trust, Catalogue::builtin().clone())
    }

    /// Like [`Guard::with_source_trusted`], validating against `catalogue`.
    pub fn with_source_trusted_in(
        path: impl Into<PathBuf>,
        trust: ManifestTrust,
        catalogue: Catalogue,
    ) -> Guard {
        Guard {
            current: RwLock::new(None),
            source: Some(path.into()),
            trust,
            catalogue,
        }
    }

    /// Load and validate the manifest at `path` with the default [`ManifestTrust`] (an
    /// unsigned manifest loads; a signature present must be intact); [`Guard::reload`]
    /// reads it again.
    pub fn load(path: impl Into<PathBuf>) -> Result<Guard, ManifestError> {
        Guard::load_trusted(path, ManifestTrust::default())
    }

    /// Load and validate the manifest at `path`, checking its signature (`FILE.sig`)
    /// against `trust`; [`Guard::reload`] reads both again under the same trust.
    ///
    /// Errors: [`ManifestError::Signature`] (missing while required, a key that is not a
    /// configured signer, a broken signature, a manifest changed after signing, a
    /// signature of another manifest), [`ManifestError::Invalid`],
    /// [`ManifestError::Unreadable`].
    pub fn load_trusted(
        path: impl Into<PathBuf>,
        trust: ManifestTrust,
    ) -> Result<Guard, ManifestError> {
        Guard::load_trusted_with(path, trust, Catalogue::builtin().clone())
    }

    /// Like [`Guard::load_trusted`], validating against `catalogue` (the built-in
    /// services and a configuration's: [`crate::config::Config::service_catalogue`]).
    pub fn load_trusted_with(
        path: impl Into<PathBuf>,
        trust: ManifestTrust,
        catalogue: Catalogue,
    ) -> Result<Guard, ManifestError> {
        let path = path.into();
        let policy = Policy::load_trusted_with(&path, &trust, &catalogue)?;
        announce(&policy, "start");
        Ok(Guard {
            current: RwLock::new(Some(Arc::new(policy))),
            source: Some(path),
            trust,
            catalogue,
        })
    }

    /// Validate a manifest given as text; `file_name` is used in the messages. Such a
    /// guard has no file to reload: use [`Guard::reload_from_str`].
    pub fn from_str(text: &str, file_name: &str) -> Result<Guard, ManifestError> {
        Guard::from_str_with(text, file_name, Catalogue::builtin().clone())
    }

    /// Like [`Guard::from_str`], validating against `catalogue`.
    pub fn from_str_with(
        text: &str,
        file_name: &str,
        catalogue: Catalogue,
    ) -> Result<Guard, ManifestError> {
        let policy = Policy::parse_with(text, file_name, &catalogue)?;
        announce(&policy, "start");
        Ok(Guard {
            catalogue,
            ..Guard::from_policy(policy)
        })
    }

    /// A guard over a policy already validated (against the built-in catalogue, for its
    /// reloads).
    pub fn from_policy(policy: Policy) -> Guard {
        Guard {
            current: RwLock::new(Some(Arc::new(policy))),
            source: None,
            trust: ManifestTrust::default(),
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

    /// What the manifest's signature must satisfy to load.
    pub fn trust(&self) -> &ManifestTrust {
        &self.trust
    }

    /// Read and validate the manifest file and its signature again, and put it in force.
    /// On any error the manifest in force stays (or the guard keeps refusing every call,
    /// if it had none), the error says why (every problem of an invalid manifest, or
    /// which signature check failed), and a `tracing` warning names the manifest kept.
    pub fn reload(&self) -> Result<ReloadReport, ManifestError> {
        let path = self.source.as_ref().ok_or(ManifestError::NoSource)?;
        let policy = Policy::load_trusted_with(path, &self.trust, &self.catalogue)
            .inspect_err(|e| self.refused(e))?;
        announce(&policy, "reload");
        self.install(policy)
    }

    /// Validate `text` and put it in force; on error the manifest in force stays. The
    /// text has no signature: a guard whose trust requires one refuses it
    /// ([`Guard::reload_from_signed_str`]).
    pub fn reload_from_str(
        &self,
        text: &str,
        file_name: &str,
    ) -> Result<ReloadReport, ManifestError> {
        self.reload_from_signed_str(text, None, file_name)
    }

    /// Validate `text`, whose signature file's text is `signature`, against the guard's
    /// trust, and put it in force; on error the manifest in force stays.
    pub fn reload_from_signed_str(
        &self,
        text: &str,
        signature: Option<&str>,
        file_name: &str,
    ) -> Result<ReloadReport, ManifestError> {
        let policy = Policy::parse_signed_with(
            text,
            signature,
            Path::new(file_name),
            &self.trust,
            &self.catalogue,
        )
        .inspect_err(|e| self.refused(e))?;
        announce(&policy, "reload");
        self.install(policy)
    }

    /// Put a validated policy in force, atomically, if its signature satisfies the
    /// guard's trust ([`ManifestTrust::admits`]): a policy parsed from unsigned text does
    /// not enter a guard that requires a signature. On error the manifest in force stays.
    pub fn install(&self, policy: Policy) -> Result<ReloadReport, ManifestError> {
        self.trust
            .admits(policy.signature(), policy.source())
            .map_err(ManifestError::from)
            .inspect_err(|e| self.refused(e))?;
        let report = ReloadReport {
            source: policy.source().to_string(),
            entries: policy.entries().len(),
            warnings: policy.warnings().to_vec(),
            replaced: false,
            manifest: policy.manifest_ref().clone(),
            previous: None,
            signature: policy.signature().clone(),
        };
        let new = Some(Arc::new(policy));
        // The lock only guards a pointer swap: a poisoned lock still holds a whole value.
        let mut slot = self.current.write().unwrap_or_else(|e| e.into_inner());
        let old = std::mem::replace(&mut *slot, new);
        drop(slot);
        Ok(ReloadReport {
            replaced: old.is_some(),
            previous: old.map(|p| p.manifest_ref().clone()),
            ..report
        })
    }

    /// The manifest in force (digest and signer), if any: what a decision is taken under.
    pub fn manifest_ref(&self) -> Option<ManifestRef> {
        self.policy().map(|p| p.manifest_ref().clone())
    }

    /// Say, once, that a reload was refused and which manifest stays in force.
    fn refused(&self, error: &ManifestError) {
        let kept = self
            .manifest_ref()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "none: every call is refused".to_string());
        tracing::warn!(
            %error,
            kept = %kept,
            "manifest reload refused; the manifest in force stays"
        );
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
        self.decide_with_manifest(facts, at).0
    }

    /// [`Guard::decide`], with the manifest the decision was taken under (`None` when none
    /// is loaded): both from one look at the manifest in force, so a concurrent reload
    /// cannot pair a decision with another manifest's digest.
    pub fn decide_with_manifest(
        &self,
        facts: &Facts<'_>,
        at: DateTime<Utc>,
    ) -> (Decision, Option<ManifestRef>) {
        match self.policy() {
            Some(policy) => (
                policy.decide(facts, at),
                Some(policy.manifest_ref().clone()),
            ),
            None => (
                Decision::Deny(Denial {
                    reason: DenialReason::NoValidManifest,
                    nearest_entry: None,
                    message: "no valid authorisation manifest is loaded, so every call is \
                              refused; fix it (bcss manifest check FILE) and load or reload it"
                        .to_string(),
                }),
                None,
            ),
        }
    }
}

/// Say once per load what was loaded, and warn when it is not verified by a configured
/// signer.
fn announce(policy: &Policy, trigger: &str) {
    let r = policy.manifest_ref();
    match policy.signature() {
        SignatureStatus::Verified(s) => tracing::info!(
            manifest = policy.source(),
            sha256 = %r.sha256,
            trigger,
            "manifest loaded, signed by {s}"
        ),
        status => tracing::warn!(
            manifest = policy.source(),
            sha256 = %r.sha256,
            trigger,
            "manifest loaded {status}: nothing proves a security advisor approved it; \
             sign it (bcss manifest sign) and require signatures ([manifest] \
             require_signature = true)"
        ),
    }
}
