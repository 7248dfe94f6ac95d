//! Validation of `authorizations.toml`: every problem reported at its line and column.
//!
//! The text is parsed into toml's spanned document tree ([`toml::de::DeTable`]), so every
//! key and value keeps its byte range; each check reports against the key or value it is
//! about. Syntax errors stop validation (what follows them cannot be trusted); otherwise
//! every error in the file is reported, not only the first.

use std::collections::HashMap;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::Organization;
use super::diagnostic::{Diagnostic, Reporter, suggestion};
use super::entry::Entry;
use super::policy::Policy;
use crate::ids::Cbe;
use crate::services::Catalogue;

mod fields;

use fields::{
    check_access_purposes, check_bound, check_deliberation, check_environment, check_granted_by,
    check_id, check_operations, check_program, check_purpose, check_service,
};

/// The largest manifest accepted, in bytes.
pub const MAX_MANIFEST_BYTES: usize = 64 * 1024 * 1024;

const TOP_KEYS: &[&str] = &["organization", "authorization"];
const ORGANIZATION_KEYS: &[&str] = &["cbe", "name", "sector", "sub_sector"];
const ENTRY_KEYS: &[&str] = &[
    "id",
    "environment",
    "service",
    "operations",
    "purpose",
    "program",
    "deliberation",
    "valid_from",
    "valid_until",
    "granted_by",
    "note",
    "access_purposes",
];

type Value<'i> = Spanned<DeValue<'i>>;

/// Validate a manifest's text against the built-in catalogue. `file_name` is used in the
/// diagnostics.
///
/// Returns the indexed [`Policy`] (with its warnings), or every error and warning found,
/// in source order.
pub fn validate(text: &str, file_name: &str) -> Result<Policy, Vec<Diagnostic>> {
    validate_with(text, file_name, Catalogue::builtin())
}

/// Validate a manifest's text against `catalogue` (the built-in services and the
/// configured ones): an entry naming a service or operation the catalogue does not know,
/// or a purpose outside the service's closed list of legalContext values, is an error at
/// its `FILE:line:col`.
pub fn validate_with(
    text: &str,
    file_name: &str,
    catalogue: &Catalogue,
) -> Result<Policy, Vec<Diagnostic>> {
    let mut rep = Reporter::new(file_name, text);
    if text.len() > MAX_MANIFEST_BYTES {
        rep.error(
            &(0..0),
            format!(
                "the manifest is {} bytes, above the limit of {MAX_MANIFEST_BYTES}",
                text.len()
            ),
        );
        return Err(rep.finish().0);
    }
    let (root, syntax_errors) = DeTable::parse_recoverable(text);
    if !syntax_errors.is_empty() {
        for e in &syntax_errors {
            let span = e.span().unwrap_or(0..0);
            rep.error(&span, format!("TOML syntax: {}", e.message().trim()));
        }
        return Err(rep.finish().0);
    }
    let root = root.into_inner();
    let validated = check_document(&root, catalogue, &mut rep);
    if rep.has_errors() {
        let (mut errors, warnings) = rep.finish();
        errors.extend(warnings);
        errors.sort_by_key(|d| (d.line, d.column));
        return Err(errors);
    }
    match validated {
        Some((organization, entries)) => {
            let (_, warnings) = rep.finish();
            Ok(Policy::build(
                file_name.to_string(),
                text.as_bytes(),
                organization,
                entries,
                warnings,
            ))
        }
        None => {
            rep.error(&(0..0), "the manifest could not be validated");
            Err(rep.finish().0)
        }
    }
}

fn check_document(
    root: &DeTable<'_>,
    catalogue: &Catalogue,
    rep: &mut Reporter<'_>,
) -> Option<(Organization, Vec<Entry>)> {
    check_keys(root, TOP_KEYS, "at the top level", rep);
    let organization = match root.get("organization") {
        None => {
            rep.error(
                &(0..0),
                "missing [organization] table (with cbe, name and sector)",
            );
            None
        }
        Some(v) => match v.get_ref() {
            DeValue::Table(t) => check_organization(t, &v.span(), rep),
            _ => {
                rep.error(
                    &v.span(),
                    "'organization' must be a single table: write [organization]",
                );
                None
            }
        },
    };
    let mut entries = Vec::new();
    match root.get("authorization") {
        None => rep.warning(
            &(0..0),
            "no [[authorization]] entries: every call will be refused",
        ),
        Some(v) => match v.get_ref() {
            DeValue::Array(items) => {
                let mut ids: HashMap<String, usize> = HashMap::new();
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::Table(t) => {
                            if let Some(e) = check_entry(t, &item.span(), &mut ids, catalogue, rep)
                            {
                                entries.push(e);
                            }
                        }
                        _ => rep.error(
                            &item.span(),
                            "each authorisation must be a table: write [[authorization]]",
                        ),
                    }
                }
            }
            _ => rep.error(
                &v.span(),
                "'authorization' must be an array of tables: write [[authorization]] (double \
                 brackets) before each entry",
            ),
        },
    }
    Some((organization?, entries))
}

/// Report every key of `table` that is not in `allowed`.
fn check_keys(table: &DeTable<'_>, allowed: &[&str], context: &str, rep: &mut Reporter<'_>) {
    for (key, _) in table.iter() {
        let k: &str = key.get_ref();
        if !allowed.contains(&k) {
            let hint = suggestion(k, allowed);
            let list = if hint.is_empty() {
                format!("; expected one of: {}", allowed.join(", "))
            } else {
                String::new()
            };
            rep.error(
                &key.span(),
                format!("unknown key '{k}' {context}{hint}{list}"),
            );
        }
    }
}

/// The value of `key`, or an error at `header` when it is required and missing.
fn required<'t, 'i>(
    table: &'t DeTable<'i>,
    key: &str,
    header: &Range<usize>,
    context: &str,
    rep: &mut Reporter<'_>,
) -> Option<&'t Value<'i>> {
    let v = table.get(key);
    if v.is_none() {
        rep.error(header, format!("{context}: missing required key '{key}'"));
    }
    v
}

/// A string value, or an error naming the type found.
fn string<'t>(v: &'t Value<'_>, key: &str, rep: &mut Reporter<'_>) -> Option<&'t str> {
    match v.get_ref() {
        DeValue::String(s) => Some(s.as_ref()),
        other => {
            rep.error(
                &v.span(),
                format!("'{key}' must be a string, not {}", other.type_str()),
            );
            None
        }
    }
}

/// A non-blank string without surrounding spaces.
fn text<'t>(v: &'t Value<'_>, key: &str, rep: &mut Reporter<'_>) -> Option<&'t str> {
    let s = string(v, key, rep)?;
    if s.trim().is_empty() {
        rep.error(&v.span(), format!("'{key}' is blank"));
        None
    } else if s.trim() != s {
        rep.error(
            &v.span(),
            format!("'{key}' has leading or trailing spaces: {s:?}"),
        );
        None
    } else {
        Some(s)
    }
}

/// A non-negative integer that fits in a `u32`.
fn unsigned(v: &Value<'_>, key: &str, rep: &mut Reporter<'_>) -> Option<u32> {
    match v.get_ref() {
        DeValue::Integer(i) => match u32::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Some(n),
            Err(_) => {
                rep.error(
                    &v.span(),
                    format!("'{key}' must be a whole number from 0 to {}", u32::MAX),
                );
                None
            }
        },
        other => {
            rep.error(
                &v.span(),
                format!("'{key}' must be an integer, not {}", other.type_str()),
            );
            None
        }
    }
}

fn check_organization(
    t: &DeTable<'_>,
    header: &Range<usize>,
    rep: &mut Reporter<'_>,
) -> Option<Organization> {
    const CTX: &str = "[organization]";
    check_keys(t, ORGANIZATION_KEYS, "in [organization]", rep);
    let cbe = required(t, "cbe", header, CTX, rep).and_then(|v| match v.get_ref() {
        DeValue::Integer(_) => {
            rep.error(
                &v.span(),
                "'cbe' must be a quoted string (\"0123456749\"): as a number it loses its \
                 leading zero",
            );
            None
        }
        _ => {
            let s = string(v, "cbe", rep)?;
            Cbe::new(s)
                .map_err(|e| rep.error(&v.span(), format!("'cbe': {e}")))
                .ok()
        }
    });
    let name = required(t, "name", header, CTX, rep).and_then(|v| text(v, "name", rep));
    let sector = required(t, "sector", header, CTX, rep).and_then(|v| unsigned(v, "sector", rep));
    let sub_sector = match t.get("sub_sector") {
        None => Some(None),
        Some(v) => unsigned(v, "sub_sector", rep).map(Some),
    };
    Some(Organization {
        cbe: cbe?,
        name: name?.to_string(),
        sector: sector?,
        sub_sector: sub_sector?,
    })
}

fn check_entry(
    t: &DeTable<'_>,
    header: &Range<usize>,
    ids: &mut HashMap<String, usize>,
    catalogue: &Catalogue,
    rep: &mut Reporter<'_>,
) -> Option<Entry> {
    check_keys(t, ENTRY_KEYS, "in [[authorization]]", rep);
    let id = check_id(t, header, ids, rep);
    let ctx = match t.get("id").map(|v| v.get_ref()) {
        Some(DeValue::String(id)) if !id.trim().is_empty() => {
            format!("[[authorization]] '{id}'")
        }
        _ => "[[authorization]]".to_string(),
    };
    let ctx = ctx.as_str();
    let environment =
        required(t, "environment", header, ctx, rep).and_then(|v| check_environment(v, rep));
    let service =
        required(t, "service", header, ctx, rep).and_then(|v| check_service(v, catalogue, rep));
    let operations = match t.get("operations") {
        None => Some(None),
        Some(v) => check_operations(v, service.as_ref(), rep),
    };
    let purpose = required(t, "purpose", header, ctx, rep)
        .and_then(|v| check_purpose(v, service.as_ref(), rep));
    let program = required(t, "program", header, ctx, rep).and_then(|v| check_program(v, rep));
    let deliberation = check_deliberation(t.get("deliberation"), environment, header, ctx, rep);
    let valid_from = required(t, "valid_from", header, ctx, rep)
        .and_then(|v| check_bound(v, "valid_from", rep).map(|b| (b, v.span())));
    let valid_until = required(t, "valid_until", header, ctx, rep)
        .and_then(|v| check_bound(v, "valid_until", rep).map(|b| (b, v.span())));
    let mut dates_in_order = true;
    if let (Some((from, _)), Some((until, span))) = (&valid_from, &valid_until)
        && until.last_instant() < from.first_instant()
    {
        rep.error(
            span,
            format!("'valid_until' ({until}) is before 'valid_from' ({from})"),
        );
        dates_in_order = false;
    }
    let granted_by =
        required(t, "granted_by", header, ctx, rep).and_then(|v| check_granted_by(v, rep));
    let note = match t.get("note") {
        None => Some(None),
        Some(v) => string(v, "note", rep).map(|s| Some(s.to_string())),
    };
    let access_purposes = match (&service, &operations) {
        (Some(service), Some(operations)) => check_access_purposes(
            t.get("access_purposes"),
            service,
            operations.as_deref(),
            header,
            ctx,
            rep,
        ),
        // The service or the operations are wrong (already reported).
        _ => None,
    };
    let (valid_from, _) = valid_from?;
    let (valid_until, _) = valid_until?;
    if !dates_in_order {
        return None;
    }
    let (line, _) = rep.line_col(header.start);
    Some(Entry {
        id: id?,
        environment: environment?,
        service: service?,
        operations: operations?,
        purpose: purpose?.to_string(),
        program: program?,
        deliberation: deliberation?,
        valid_from,
        valid_until,
        granted_by: granted_by?,
        note: note?,
        access_purposes: access_purposes?,
        line,
        not_before: valid_from.first_instant(),
        not_after: valid_until.last_instant(),
    })
}
