//! The checks of single values: ids, environments, services, operations, purposes,
//! program numbers, deliberations, validity bounds and signatories.

use std::collections::HashMap;
use std::ops::Range;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};
use toml::de::{DeString, DeTable, DeValue};
use toml::value::{Datetime, Offset};

use super::{Value, required, string, text, unsigned};
use crate::environment::Environment;
use crate::ids::{Deliberation, ProgramId, ssin_checks};
use crate::manifest::DeliberationRef;
use crate::manifest::diagnostic::{Reporter, suggestion};
use crate::manifest::entry::{Bound, GrantedBy, has_access_purposes, requires_access_purpose};
use crate::services::{Catalogue, LegalContextRule, Service};

const ENVIRONMENTS: &[&str] = &["test", "acceptance", "production"];
const GRANTED_BY: &[&str] = &["leading-official", "deputy", "security-advisor"];
const NOT_APPLICABLE: &str = "not-applicable";
/// A service of the catalogue, by name.
pub(super) fn check_service(
    v: &Value<'_>,
    catalogue: &Catalogue,
    rep: &mut Reporter<'_>,
) -> Option<Service> {
    let s = string(v, "service", rep)?;
    let found = catalogue.get(s).cloned();
    if found.is_none() {
        let names = catalogue.names();
        rep.error(
            &v.span(),
            format!(
                "unknown service '{s}'{}; the services this client knows: {}{}",
                suggestion(s, &names),
                names.join(", "),
                catalogue.unknown_service_hint()
            ),
        );
    }
    found
}

/// The purpose: sent as the legalContext by the services whose requests carry one, so it
/// must be a value the service's schema accepts: at most 64 characters of free text, or
/// one of the service's closed list ([`LegalContextRule`]).
pub(super) fn check_purpose<'t>(
    v: &'t Value<'_>,
    service: Option<&Service>,
    rep: &mut Reporter<'_>,
) -> Option<&'t str> {
    let p = text(v, "purpose", rep)?;
    let Some(service) = service else {
        return Some(p);
    };
    match service.legal_context() {
        LegalContextRule::None => Some(p),
        LegalContextRule::Free { max_chars } => {
            let length = p.chars().count();
            if length > *max_chars {
                rep.error(
                    &v.span(),
                    format!(
                        "'purpose' is sent as the legalContext, at most {max_chars} \
                         characters; this one has {length}"
                    ),
                );
                return None;
            }
            Some(p)
        }
        LegalContextRule::Closed(values) => {
            if values.iter().any(|allowed| allowed == p) {
                return Some(p);
            }
            let candidates: Vec<&str> = values.iter().map(String::as_str).collect();
            let quoted: Vec<String> = values.iter().map(|a| format!("'{a}'")).collect();
            rep.error(
                &v.span(),
                format!(
                    "'purpose' is sent as the legalContext of {service}, whose schema allows \
                     only these values, not '{p}'{}: {}",
                    suggestion(p, &candidates),
                    quoted.join(", ")
                ),
            );
            None
        }
    }
}

pub(super) fn check_granted_by(v: &Value<'_>, rep: &mut Reporter<'_>) -> Option<GrantedBy> {
    let s = string(v, "granted_by", rep)?;
    let found = GrantedBy::from_name(s);
    if found.is_none() {
        rep.error(
            &v.span(),
            format!(
                "'granted_by' must be one of {}, not '{s}'{}",
                GRANTED_BY.join(", "),
                suggestion(s, GRANTED_BY)
            ),
        );
    }
    found
}

pub(super) fn check_id(
    t: &DeTable<'_>,
    header: &Range<usize>,
    ids: &mut HashMap<String, usize>,
    rep: &mut Reporter<'_>,
) -> Option<String> {
    let v = required(t, "id", header, "[[authorization]]", rep)?;
    let id = text(v, "id", rep)?;
    if let Some(bad) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/')))
    {
        rep.error(
            &v.span(),
            format!("'id' may hold only letters, digits and - _ . : / (found {bad:?} in '{id}')"),
        );
        return None;
    }
    let (line, _) = rep.line_col(v.span().start);
    if let Some(first) = ids.get(id) {
        rep.error(
            &v.span(),
            format!("duplicate id '{id}': already used on line {first}"),
        );
        return None;
    }
    ids.insert(id.to_string(), line);
    Some(id.to_string())
}

pub(super) fn check_environment(v: &Value<'_>, rep: &mut Reporter<'_>) -> Option<Environment> {
    if let DeValue::Array(items) = v.get_ref() {
        rep.error(
            &v.span(),
            format!(
                "an authorisation covers exactly one environment, but this entry lists {}: \
                 BCSS grants each environment separately, so write one [[authorization]] \
                 per environment",
                items.len()
            ),
        );
        return None;
    }
    let s = string(v, "environment", rep)?;
    let found = match s {
        "test" => Some(Environment::Test),
        "acceptance" => Some(Environment::Acceptance),
        "production" => Some(Environment::Production),
        _ => None,
    };
    if found.is_none() {
        let hint = match s {
            "acpt" => " (did you mean 'acceptance'?)".to_string(),
            "prod" => " (did you mean 'production'?)".to_string(),
            _ if s.contains(',') || s.contains(' ') => {
                " (an authorisation covers exactly one environment: write one \
                 [[authorization]] per environment)"
                    .to_string()
            }
            _ => suggestion(s, ENVIRONMENTS),
        };
        rep.error(
            &v.span(),
            format!(
                "'environment' must be exactly one of test, acceptance, production, not \
                 '{s}'{hint}"
            ),
        );
    }
    found
}

pub(super) fn check_operations(
    v: &Value<'_>,
    service: Option<&Service>,
    rep: &mut Reporter<'_>,
) -> Option<Option<Vec<String>>> {
    let DeValue::Array(items) = v.get_ref() else {
        rep.error(
            &v.span(),
            format!(
                "'operations' must be an array of strings, not {}",
                v.get_ref().type_str()
            ),
        );
        return None;
    };
    if items.is_empty() {
        rep.error(
            &v.span(),
            "'operations' is empty: list at least one operation, or leave the key out to \
             authorise every operation of the service",
        );
        return None;
    }
    let mut ops: Vec<String> = Vec::new();
    let mut ok = true;
    for item in items.iter() {
        let Some(name) = string(item, "operations", rep) else {
            ok = false;
            continue;
        };
        let Some(service) = service else {
            // The service is unknown (already reported): its operations cannot be checked.
            ok = false;
            continue;
        };
        let known = service.operation_names();
        match known.iter().find(|o| **o == name) {
            Some(_) if ops.iter().any(|o| o == name) => {
                rep.warning(&item.span(), format!("operation '{name}' is listed twice"));
            }
            Some(op) => ops.push((*op).to_string()),
            None => {
                ok = false;
                rep.error(
                    &item.span(),
                    format!(
                        "'{name}' is not an operation of {service}{} (its operations: {})",
                        suggestion(name, &known),
                        known.join(", ")
                    ),
                );
            }
        }
    }
    ok.then_some(Some(ops))
}

/// `access_purposes`: the BCSS purpose codes a ManageAccess entry covers. Only on
/// ManageAccess entries; required when the entry covers `register` or `unregister`.
pub(super) fn check_access_purposes(
    v: Option<&Value<'_>>,
    service: &Service,
    operations: Option<&[String]>,
    header: &Range<usize>,
    ctx: &str,
    rep: &mut Reporter<'_>,
) -> Option<Option<Vec<u32>>> {
    let covered: Vec<&str> = match operations {
        Some(ops) => ops.iter().map(String::as_str).collect(),
        None => service.operation_names(),
    }
    .into_iter()
    .filter(|op| requires_access_purpose(service, op))
    .collect();
    let Some(v) = v else {
        if covered.is_empty() {
            return Some(None);
        }
        rep.error(
            header,
            format!(
                "{ctx}: an entry that covers {service} {} needs 'access_purposes': the BCSS \
                 purpose codes it may {} for, e.g. access_purposes = [1]",
                covered.join(" and "),
                covered.join(" or ")
            ),
        );
        return None;
    };
    if !has_access_purposes(service) {
        rep.error(
            &v.span(),
            format!(
                "'access_purposes' applies only to ManageAccess entries (the BCSS purpose \
                 codes a registration covers), not to {service}"
            ),
        );
        return None;
    }
    let DeValue::Array(items) = v.get_ref() else {
        rep.error(
            &v.span(),
            format!(
                "'access_purposes' must be an array of purpose codes ([1, 7]), not {}",
                v.get_ref().type_str()
            ),
        );
        return None;
    };
    if items.is_empty() {
        rep.error(
            &v.span(),
            "'access_purposes' is empty: list the BCSS purpose codes the entry covers",
        );
        return None;
    }
    let mut codes: Vec<u32> = Vec::new();
    let mut ok = true;
    for item in items.iter() {
        match unsigned(item, "access_purposes", rep) {
            Some(code) if codes.contains(&code) => {
                rep.warning(&item.span(), format!("purpose code {code} is listed twice"));
            }
            Some(code) => codes.push(code),
            None => ok = false,
        }
    }
    ok.then_some(Some(codes))
}

pub(super) fn check_program(v: &Value<'_>, rep: &mut Reporter<'_>) -> Option<ProgramId> {
    if let DeValue::Integer(_) = v.get_ref() {
        rep.error(
            &v.span(),
            "'program' must be a quoted string (\"00912345678\"): as a number it loses its \
             leading zeros",
        );
        return None;
    }
    let s = string(v, "program", rep)?;
    match ProgramId::new(s) {
        Ok(p) => {
            if !check_digits_verify(&p) {
                rep.warning(
                    &v.span(),
                    format!(
                        "program number {p}: its check digits do not verify as an SSIN's; \
                         BCSS does not publish its rule for program numbers, so compare it \
                         with BCSS's letter"
                    ),
                );
            }
            Some(p)
        }
        Err(e) => {
            rep.error(&v.span(), format!("'program': {e}"));
            None
        }
    }
}

/// Whether a program number's last two digits are the SSIN check of its first nine
/// (either century). Only the check digits: program numbers such as `009…` have no
/// birth date part, so [`ProgramId::check_digits_verify`], which validates a whole SSIN,
/// would refuse them.
fn check_digits_verify(p: &ProgramId) -> bool {
    let digits = p.as_str();
    match (
        digits.get(..9).and_then(|d| d.parse::<u64>().ok()),
        digits.get(9..).and_then(|d| d.parse::<u32>().ok()),
    ) {
        (Some(base), Some(check)) => {
            let (before, after) = ssin_checks(base);
            check == before || check == after
        }
        _ => false,
    }
}

pub(super) fn check_deliberation(
    v: Option<&Value<'_>>,
    environment: Option<Environment>,
    header: &Range<usize>,
    ctx: &str,
    rep: &mut Reporter<'_>,
) -> Option<DeliberationRef> {
    let Some(v) = v else {
        if environment == Some(Environment::Production) {
            rep.error(
                header,
                format!(
                    "{ctx}: a production entry needs 'deliberation': the deliberation number \
                     (YY/NNN), or \"{NOT_APPLICABLE}\" when BCSS confirmed none is required"
                ),
            );
            return None;
        }
        return Some(DeliberationRef::NotApplicable);
    };
    let s = string(v, "deliberation", rep)?;
    if s == NOT_APPLICABLE {
        return Some(DeliberationRef::NotApplicable);
    }
    if s.trim().is_empty() {
        rep.error(
            &v.span(),
            format!(
                "'deliberation' is blank: write the deliberation number (YY/NNN), or \
                 \"{NOT_APPLICABLE}\" when none is required (blank is not {NOT_APPLICABLE})"
            ),
        );
        return None;
    }
    match Deliberation::new(s) {
        Ok(d) => Some(DeliberationRef::Number(d)),
        Err(_) => {
            let lower = s.trim().to_ascii_lowercase();
            let hint = if matches!(
                lower.as_str(),
                "n/a" | "na" | "none" | "not applicable" | "not_applicable" | "-"
            ) {
                format!(" (write \"{NOT_APPLICABLE}\" exactly)")
            } else {
                String::new()
            };
            rep.error(
                &v.span(),
                format!(
                    "'deliberation' must be YY/NNN (for example 13/084) or \
                     \"{NOT_APPLICABLE}\", not {s:?}{hint}"
                ),
            );
            None
        }
    }
}

/// A date (`2025-01-01`, a whole UTC day) or an RFC 3339 datetime with an offset, written
/// as a TOML value or as a string.
pub(super) fn check_bound(v: &Value<'_>, key: &str, rep: &mut Reporter<'_>) -> Option<Bound> {
    let parsed = match v.get_ref() {
        DeValue::Datetime(d) => bound_of_toml(d),
        DeValue::String(s) => bound_of_str(s),
        other => Err(format!("not {}", other.type_str())),
    };
    parsed
        .map_err(|why| {
            rep.error(
                &v.span(),
                format!(
                    "'{key}' must be a date (2025-01-31) or a datetime with an offset \
                     (2025-01-31T00:00:00Z): {why}"
                ),
            )
        })
        .ok()
}

fn bound_of_toml(d: &Datetime) -> Result<Bound, String> {
    let Some(date) = d.date else {
        return Err(format!("{d} has no date"));
    };
    let day = NaiveDate::from_ymd_opt(i32::from(date.year), date.month.into(), date.day.into())
        .ok_or_else(|| format!("{date} is not a date"))?;
    let Some(time) = d.time else {
        return Ok(Bound::Date(day));
    };
    let Some(offset) = d.offset else {
        return Err(format!("{d} has no offset (add Z for UTC, or +01:00)"));
    };
    let seconds = match offset {
        Offset::Z => 0,
        Offset::Custom { minutes } => i32::from(minutes) * 60,
    };
    let offset = FixedOffset::east_opt(seconds).ok_or_else(|| format!("bad offset in {d}"))?;
    let clock = NaiveTime::from_hms_nano_opt(
        time.hour.into(),
        time.minute.into(),
        time.second.unwrap_or(0).into(),
        time.nanosecond.unwrap_or(0),
    )
    .ok_or_else(|| format!("{d} is not a time of day"))?;
    day.and_time(clock)
        .and_local_timezone(offset)
        .single()
        .map(Bound::Instant)
        .ok_or_else(|| format!("{d} is not an instant"))
}

fn bound_of_str(s: &DeString<'_>) -> Result<Bound, String> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(Bound::Date(d));
    }
    DateTime::parse_from_rfc3339(s)
        .map(Bound::Instant)
        .map_err(|e| format!("{s:?}: {e}"))
}
