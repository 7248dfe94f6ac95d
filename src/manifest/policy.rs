//! [`Policy`]: a valid manifest, indexed for [`Policy::decide`].
//!
//! # How a call is decided
//!
//! The facts pass through six filters, in this order; the first filter that leaves no
//! entry gives the denial reason, and the *nearest entry* named in the denial is the first
//! entry (in file order) that passed every filter before it:
//!
//! 1. **service**: entries for the service, in any environment. None:
//!    [`DenialReason::NoAuthorization`] (no nearest entry).
//! 2. **environment**: those for the client's environment. None:
//!    [`DenialReason::WrongEnvironment`].
//! 3. **operation**: those that cover the operation. None:
//!    [`DenialReason::NoAuthorization`] (the operation is not authorised).
//! 4. **purpose**: those whose purpose is exactly the stated one (case-sensitive). None:
//!    [`DenialReason::PurposeNotAuthorized`].
//! 5. **access purpose**: those whose `access_purposes` list the BCSS purpose code the
//!    request carries (ManageAccess `Purpose`); a request without a code passes only for
//!    an operation that needs none (`list`). None:
//!    [`DenialReason::AccessPurposeNotAuthorized`].
//! 6. **program**: when the client states a program number, those that grant it. None:
//!    [`DenialReason::ProgramMismatch`].
//! 7. **validity**: those valid at the instant. The first of them, in file order, is the
//!    [`Grant`]. None: [`DenialReason::NotYetValid`] if one of them starts later (nearest:
//!    the one that starts first), otherwise [`DenialReason::Expired`] (nearest: the one
//!    that ended last).
//!
//! Filters 1 to 4 are index lookups (by service name, then environment, operation and
//! purpose); filters 5 to 7 walk only the entries that share the environment,
//! service, operation and purpose, so a decision does not depend on the manifest's size.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::diagnostic::Diagnostic;
use super::entry::{Bound, Entry};
use super::provenance::{ManifestRef, SignatureStatus};
use super::{Decision, Denial, DenialReason, Facts, Grant, Organization};
use crate::environment::Environment;
use crate::services::Service;

/// A valid manifest: the organisation, the entries in file order, the warnings found when
/// it was validated, and an index by service, environment, operation and purpose.
#[derive(Debug, Clone)]
pub struct Policy {
    source: String,
    manifest_ref: ManifestRef,
    signature: SignatureStatus,
    organization: Organization,
    entries: Vec<Entry>,
    warnings: Vec<Diagnostic>,
    /// By service name.
    by_service: HashMap<Box<str>, ServiceIndex>,
}

/// The position of an environment in [`Environment::ALL`].
fn env_slot(env: Environment) -> usize {
    match env {
        Environment::Test => 0,
        Environment::Acceptance => 1,
        Environment::Production => 2,
    }
}

/// Every entry of one service, whatever the environment.
#[derive(Debug, Clone)]
struct ServiceIndex {
    /// The service, as the entries name it (for its operations).
    service: Service,
    /// The first entry in file order.
    first: usize,
    /// The environments it has entries in, in [`Environment::ALL`] order.
    environments: Vec<Environment>,
    /// One bucket per environment, by [`env_slot`].
    by_env: [Option<Bucket>; 3],
}

/// The entries of one service in one environment.
#[derive(Debug, Clone)]
struct Bucket {
    /// The first entry in file order.
    first: usize,
    /// One per operation of the service, in the order of [`Service::operations`].
    operations: Vec<OperationIndex>,
}

/// The entries of one service in one environment that cover one operation.
#[derive(Debug, Clone, Default)]
struct OperationIndex {
    /// The first entry in file order.
    first: Option<usize>,
    /// By purpose, each list in file order.
    by_purpose: HashMap<Box<str>, Vec<usize>>,
}

const ADVISOR: &str = "ask your security advisor";

impl Policy {
    /// Build the index over entries that have been validated.
    pub(crate) fn build(
        source: String,
        bytes: &[u8],
        organization: Organization,
        entries: Vec<Entry>,
        warnings: Vec<Diagnostic>,
    ) -> Policy {
        let mut by_service: HashMap<Box<str>, ServiceIndex> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            let s = by_service
                .entry(e.service.name().into())
                .or_insert_with(|| ServiceIndex {
                    service: e.service.clone(),
                    first: i,
                    environments: Vec::new(),
                    by_env: [None, None, None],
                });
            if !s.environments.contains(&e.environment) {
                s.environments.push(e.environment);
                s.environments.sort();
            }
            let operations = s.service.operations();
            let bucket = s.by_env[env_slot(e.environment)].get_or_insert_with(|| Bucket {
                first: i,
                operations: vec![OperationIndex::default(); operations.len()],
            });
            for (op, slot) in operations.iter().zip(&mut bucket.operations) {
                if e.covers_operation(&op.name) {
                    slot.first.get_or_insert(i);
                    slot.by_purpose
                        .entry(e.purpose.as_str().into())
                        .or_default()
                        .push(i);
                }
            }
        }
        Policy {
            source,
            manifest_ref: ManifestRef::unsigned(bytes),
            signature: SignatureStatus::Unsigned,
            organization,
            entries,
            warnings,
            by_service,
        }
    }

    /// The file name the manifest was loaded from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The manifest this policy was built from: the SHA-256 of its exact bytes and, when
    /// it was loaded with a signature, the signer. Decision records name it.
    pub fn manifest_ref(&self) -> &ManifestRef {
        &self.manifest_ref
    }

    /// The signature it was loaded with.
    pub fn signature(&self) -> &SignatureStatus {
        &self.signature
    }

    /// Record the signature the manifest's bytes were checked with.
    pub(crate) fn with_signature(mut self, status: SignatureStatus) -> Policy {
        self.manifest_ref.signer = status.signer().map(|s| s.key_fingerprint.clone());
        self.manifest_ref.signed_by = status.signer().map(|s| format!("{} ({})", s.name, s.role));
        self.signature = status;
        self
    }

    /// The organisation.
    pub fn organization(&self) -> &Organization {
        &self.organization
    }

    /// The entries, in file order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The warnings found when the manifest was validated.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// Decide one call. Pure: no I/O, the instant passed in. See the module documentation
    /// for the order of the checks.
    pub fn decide(&self, facts: &Facts<'_>, at: DateTime<Utc>) -> Decision {
        match self.decide_inner(facts, at) {
            Ok(e) => Decision::Grant(Grant {
                authorization_id: e.id.clone(),
                purpose: e.purpose.clone(),
                program: e.program.clone(),
                deliberation: e.deliberation,
            }),
            Err(d) => Decision::Deny(d),
        }
    }

    fn decide_inner(&self, facts: &Facts<'_>, at: DateTime<Utc>) -> Result<&Entry, Denial> {
        let service = facts.service;
        let env = facts.environment;
        // 1. The service, in any environment.
        let Some(by_service) = self.by_service.get(service) else {
            return Err(Denial {
                reason: DenialReason::NoAuthorization,
                nearest_entry: None,
                message: format!(
                    "no entry authorises {service} in any environment; {ADVISOR} to request \
                     the authorisation from BCSS and add it to the manifest"
                ),
            });
        };
        // 2. The environment.
        let Some(bucket) = by_service.by_env[env_slot(env)].as_ref() else {
            let nearest = &self.entries[by_service.first];
            let envs: Vec<&str> = by_service.environments.iter().map(|e| e.as_str()).collect();
            return Err(self.deny(
                DenialReason::WrongEnvironment,
                nearest,
                format!(
                    "{service} is authorised only in {} (entry '{}'), not in {env}; check the \
                     client's environment, or {ADVISOR} for an authorisation in {env}",
                    envs.join(" and "),
                    nearest.id
                ),
            ));
        };
        // 3. The operation.
        let operations = by_service.service.operations();
        let position = operations.iter().position(|o| o.name == facts.operation);
        let op_index = position.and_then(|p| bucket.operations.get(p));
        let Some((op_index, first)) = op_index.and_then(|o| o.first.map(|f| (o, f))) else {
            let nearest = &self.entries[bucket.first];
            let message = if position.is_none() {
                format!(
                    "'{}' is not an operation of {service} (its operations: {})",
                    facts.operation,
                    by_service.service.operation_names().join(", ")
                )
            } else {
                format!(
                    "entry '{}' authorises {service} operation(s) {} in {env}, not '{}'; call \
                     an authorised operation, or {ADVISOR} to extend the authorisation",
                    nearest.id,
                    nearest.operations_label(),
                    facts.operation
                )
            };
            return Err(self.deny(DenialReason::NoAuthorization, nearest, message));
        };
        // 4. The purpose.
        let Some(candidates) = op_index.by_purpose.get(facts.purpose) else {
            let nearest = &self.entries[first];
            return Err(self.deny(
                DenialReason::PurposeNotAuthorized,
                nearest,
                format!(
                    "entry '{}' authorises {service}.{} in {env} for purpose '{}', not '{}'; \
                     state the authorised purpose, or {ADVISOR} for an authorisation for \
                     this purpose",
                    nearest.id, facts.operation, nearest.purpose, facts.purpose
                ),
            ));
        };
        // 5, 6 and 7. The BCSS purpose code, the program number and the validity dates.
        let mut access_matched: Option<&Entry> = None;
        let mut program_matched = false;
        let mut starts_first: Option<&Entry> = None;
        let mut ended_last: Option<&Entry> = None;
        for e in candidates.iter().filter_map(|i| self.entries.get(*i)) {
            if !e.covers_access_purpose(facts.operation, facts.access_purpose) {
                continue;
            }
            access_matched.get_or_insert(e);
            if facts.program.is_some_and(|p| *p != e.program) {
                continue;
            }
            program_matched = true;
            if e.is_valid_at(at) {
                return Ok(e);
            }
            if at < e.not_before {
                if starts_first.is_none_or(|s| e.not_before < s.not_before) {
                    starts_first = Some(e);
                }
            } else if ended_last.is_none_or(|s| e.not_after > s.not_after) {
                ended_last = Some(e);
            }
        }
        let Some(nearest) = access_matched else {
            let nearest = &self.entries[candidates[0]];
            return Err(self.deny(
                DenialReason::AccessPurposeNotAuthorized,
                nearest,
                access_purpose_message(nearest, facts),
            ));
        };
        if !program_matched {
            let client = facts.program.map(|p| p.as_str()).unwrap_or_default();
            return Err(self.deny(
                DenialReason::ProgramMismatch,
                nearest,
                format!(
                    "entry '{}' grants program number {}, but the client is configured with \
                     {client}; configure the program number BCSS granted, or {ADVISOR}",
                    nearest.id, nearest.program
                ),
            ));
        }
        if let Some(e) = starts_first {
            return Err(self.deny(
                DenialReason::NotYetValid,
                e,
                format!(
                    "entry '{}' is valid from {}, not yet at {}; wait, or {ADVISOR} if the \
                     dates in the manifest are wrong",
                    e.id,
                    describe_start(e.valid_from),
                    at.to_rfc3339()
                ),
            ));
        }
        match ended_last {
            Some(e) => Err(self.deny(
                DenialReason::Expired,
                e,
                format!(
                    "entry '{}' expired {}; {ADVISOR} to renew the authorisation with BCSS and \
                     update the manifest",
                    e.id,
                    describe_end(e.valid_until)
                ),
            )),
            // Unreachable: a matched entry is valid, starts later, or has ended.
            None => Err(Denial {
                reason: DenialReason::NoAuthorization,
                nearest_entry: None,
                message: "no entry matched".to_string(),
            }),
        }
    }

    fn deny(&self, reason: DenialReason, nearest: &Entry, message: String) -> Denial {
        Denial {
            reason,
            nearest_entry: Some(nearest.id.clone()),
            message,
        }
    }
}

fn access_purpose_message(nearest: &Entry, facts: &Facts<'_>) -> String {
    let call = format!(
        "{}.{} in {}",
        facts.service, facts.operation, facts.environment
    );
    match (facts.access_purpose, &nearest.access_purposes) {
        (Some(code), Some(_)) => format!(
            "entry '{}' authorises {call} for BCSS purpose code(s) {}, not {code}; use an \
             authorised purpose code, or {ADVISOR} to add {code} to the entry's \
             access_purposes",
            nearest.id,
            nearest.access_purposes_label()
        ),
        (Some(code), None) => format!(
            "entry '{}' authorises {call} but names no BCSS purpose codes (access_purposes), \
             so a request carrying purpose code {code} is refused; leave the purpose code \
             out, or {ADVISOR} to add it to the entry's access_purposes",
            nearest.id
        ),
        (None, _) => format!(
            "{call} must carry the BCSS purpose code it registers for, and entry '{}' \
             covers code(s) {}; state the purpose code",
            nearest.id,
            nearest.access_purposes_label()
        ),
    }
}

fn describe_start(b: Bound) -> String {
    match b {
        Bound::Date(d) => format!("{} (00:00 UTC)", d.format("%Y-%m-%d")),
        Bound::Instant(t) => t.to_rfc3339(),
    }
}

fn describe_end(b: Bound) -> String {
    match b {
        Bound::Date(d) => format!("at the end of {} (UTC)", d.format("%Y-%m-%d")),
        Bound::Instant(t) => format!("at {}", t.to_rfc3339()),
    }
}
