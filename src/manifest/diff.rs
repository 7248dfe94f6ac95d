//! [`diff`]: what a new version of the manifest changes, field by field, in plain words,
//! for the advisor who reviews it before signing.

use std::collections::HashMap;
use std::fmt;

use super::entry::Entry;
use super::policy::Policy;
use super::provenance::ManifestRef;

/// One difference between two manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// A field of `[organization]` changed.
    Organization {
        /// The field (`cbe`, `name`, `sector`, `sub_sector`).
        field: &'static str,
        /// Its old value, as written for people.
        old: String,
        /// Its new value.
        new: String,
    },
    /// An authorisation was added.
    Added {
        /// Its id.
        id: String,
        /// What it authorises, in words.
        summary: String,
    },
    /// An authorisation was removed.
    Removed {
        /// Its id.
        id: String,
        /// What it authorised, in words.
        summary: String,
    },
    /// A field of an authorisation (matched by id) changed.
    Changed {
        /// The entry's id.
        id: String,
        /// The field, as named in the manifest (`valid_until`).
        field: &'static str,
        /// Its old value, as written for people.
        old: String,
        /// Its new value.
        new: String,
    },
    /// The authorisations kept in both changed their order: the first entry that matches
    /// a call, in file order, grants it.
    Reordered {
        /// The ids of the entries in both, in the old order.
        old: Vec<String>,
        /// The same ids, in the new order.
        new: Vec<String>,
    },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Organization { field, old, new } => {
                write!(f, "organization: {field} {old} -> {new}")
            }
            Change::Added { id, summary } => write!(f, "added {id}: {summary}"),
            Change::Removed { id, summary } => write!(f, "removed {id}: {summary}"),
            Change::Changed {
                id,
                field,
                old,
                new,
            } => write!(f, "{id}: {field} {old} -> {new}"),
            Change::Reordered { old, new } => write!(
                f,
                "order of entries: {} -> {} (the first entry that matches a call, in file \
                 order, grants it)",
                old.join(", "),
                new.join(", ")
            ),
        }
    }
}

/// The differences between two manifests: organisation fields first, then the entries
/// added (in the new file's order), removed (in the old file's order) and changed (field
/// by field, in the new file's order), then a change of order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestDiff {
    /// The old manifest.
    pub old: ManifestRef,
    /// The new manifest.
    pub new: ManifestRef,
    /// Every difference; empty when the two authorise the same calls in the same order.
    pub changes: Vec<Change>,
}

impl ManifestDiff {
    /// Whether nothing differs (comments and layout aside).
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// A one-line count: `3 change(s): 1 added, 1 removed, 1 field(s) changed`.
    pub fn summary(&self) -> String {
        let count = |p: fn(&Change) -> bool| self.changes.iter().filter(|c| p(c)).count();
        let added = count(|c| matches!(c, Change::Added { .. }));
        let removed = count(|c| matches!(c, Change::Removed { .. }));
        let changed = count(|c| matches!(c, Change::Changed { .. }));
        let organization = count(|c| matches!(c, Change::Organization { .. }));
        let reordered = count(|c| matches!(c, Change::Reordered { .. }));
        let mut parts = vec![
            format!("{added} added"),
            format!("{removed} removed"),
            format!("{changed} field(s) of entries changed"),
        ];
        if organization > 0 {
            parts.push(format!("{organization} organisation field(s) changed"));
        }
        if reordered > 0 {
            parts.push("order changed".to_string());
        }
        format!("{} change(s): {}", self.changes.len(), parts.join(", "))
    }
}

/// Compare two valid manifests. Entries are matched by `id`.
///
/// ```
/// use bcss::manifest::{Policy, diff};
/// let entry = |until: &str| format!(
///     "[organization]\ncbe = \"0212344876\"\nname = \"CPAS\"\nsector = 17\n\
///      [[authorization]]\nid = \"tx25-test\"\nenvironment = \"test\"\n\
///      service = \"RetrieveTIGroups\"\npurpose = \"P\"\nprogram = \"00912345673\"\n\
///      valid_from = 2025-01-01\nvalid_until = {until}\ngranted_by = \"deputy\"\n");
/// let old = Policy::parse(&entry("2026-12-31"), "old.toml").unwrap();
/// let new = Policy::parse(&entry("2027-12-31"), "new.toml").unwrap();
/// let d = diff(&old, &new);
/// assert_eq!(d.changes[0].to_string(), "tx25-test: valid_until 2026-12-31 -> 2027-12-31");
/// ```
pub fn diff(old: &Policy, new: &Policy) -> ManifestDiff {
    let mut changes = Vec::new();
    let (o, n) = (old.organization(), new.organization());
    let opt = |v: Option<u32>| v.map_or_else(|| "none".to_string(), |v| v.to_string());
    for (field, a, b) in [
        ("cbe", o.cbe.to_string(), n.cbe.to_string()),
        ("name", quoted(&o.name), quoted(&n.name)),
        ("sector", o.sector.to_string(), n.sector.to_string()),
        ("sub_sector", opt(o.sub_sector), opt(n.sub_sector)),
    ] {
        if a != b {
            changes.push(Change::Organization {
                field,
                old: a,
                new: b,
            });
        }
    }
    let old_by_id: HashMap<&str, &Entry> =
        old.entries().iter().map(|e| (e.id.as_str(), e)).collect();
    let new_by_id: HashMap<&str, &Entry> =
        new.entries().iter().map(|e| (e.id.as_str(), e)).collect();
    for e in new.entries() {
        if !old_by_id.contains_key(e.id.as_str()) {
            changes.push(Change::Added {
                id: e.id.clone(),
                summary: summary(e),
            });
        }
    }
    for e in old.entries() {
        if !new_by_id.contains_key(e.id.as_str()) {
            changes.push(Change::Removed {
                id: e.id.clone(),
                summary: summary(e),
            });
        }
    }
    for b in new.entries() {
        let Some(a) = old_by_id.get(b.id.as_str()) else {
            continue;
        };
        for ((field, old_value), (_, new_value)) in fields(a).into_iter().zip(fields(b)) {
            if old_value != new_value {
                changes.push(Change::Changed {
                    id: b.id.clone(),
                    field,
                    old: old_value,
                    new: new_value,
                });
            }
        }
    }
    let kept_old: Vec<String> = old
        .entries()
        .iter()
        .filter(|e| new_by_id.contains_key(e.id.as_str()))
        .map(|e| e.id.clone())
        .collect();
    let kept_new: Vec<String> = new
        .entries()
        .iter()
        .filter(|e| old_by_id.contains_key(e.id.as_str()))
        .map(|e| e.id.clone())
        .collect();
    if kept_old != kept_new {
        changes.push(Change::Reordered {
            old: kept_old,
            new: kept_new,
        });
    }
    ManifestDiff {
        old: old.manifest_ref().clone(),
        new: new.manifest_ref().clone(),
        changes,
    }
}

fn quoted(s: &str) -> String {
    format!("{s:?}")
}

/// Every field of an entry but its id, as written for people, in manifest order.
fn fields(e: &Entry) -> [(&'static str, String); 11] {
    [
        ("environment", e.environment.to_string()),
        ("service", e.service.to_string()),
        ("operations", operations(e)),
        ("purpose", quoted(&e.purpose)),
        ("access_purposes", e.access_purposes_label()),
        ("program", e.program.to_string()),
        ("deliberation", e.deliberation.to_string()),
        ("valid_from", e.valid_from.to_string()),
        ("valid_until", e.valid_until.to_string()),
        ("granted_by", e.granted_by.to_string()),
        (
            "note",
            e.note.as_deref().map_or_else(|| "none".to_string(), quoted),
        ),
    ]
}

fn operations(e: &Entry) -> String {
    match &e.operations {
        None => "every operation".to_string(),
        Some(ops) => ops.join(", "),
    }
}

/// What an entry authorises, in one line.
fn summary(e: &Entry) -> String {
    let codes = match &e.access_purposes {
        None => String::new(),
        Some(_) => format!(" with BCSS purpose code(s) {}", e.access_purposes_label()),
    };
    format!(
        "{} ({}) in {} for purpose {}{codes}, program {}, deliberation {}, valid {} through \
         {}, granted by {}",
        e.service,
        operations(e),
        e.environment,
        quoted(&e.purpose),
        e.program,
        e.deliberation,
        e.valid_from,
        e.valid_until,
        e.granted_by
    )
}
