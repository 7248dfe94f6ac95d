//! The guard: loading, reloading (a bad reload keeps the last good manifest), expired
//! manifests, denial explanations, and atomic swaps under concurrent decisions.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bcss::Environment;
use bcss::ids::ProgramId;
use bcss::manifest::{Decision, Denial, DenialReason, Facts, Grant, Guard, ManifestError};
use bcss::services::Service;
use chrono::{DateTime, Utc};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/manifests")
        .join(name)
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

const PURPOSE: &str = "PCSA:SOCIAL_INQUIRY";

fn facts(env: Environment, service: &'static Service, operation: &'static str) -> Facts<'static> {
    Facts {
        environment: env,
        service: service.name(),
        operation,
        purpose: PURPOSE,
        program: None,
        access_purpose: None,
    }
}

fn identify(env: Environment) -> Facts<'static> {
    facts(
        env,
        bcss::services::identify_person::service(),
        "identifyPerson",
    )
}

fn grant(d: Decision) -> Grant {
    match d {
        Decision::Grant(g) => g,
        Decision::Deny(d) => panic!("expected a grant, got {d}"),
    }
}

fn deny(d: Decision) -> Denial {
    match d {
        Decision::Deny(d) => d,
        Decision::Grant(g) => panic!("expected a denial, got {g:?}"),
    }
}

/// A one-entry manifest for acceptance IdentifyPerson, with the given id and purpose.
fn manifest(id: &str, purpose: &str) -> String {
    format!(
        r#"[organization]
cbe = "0212344876"
name = "CPAS de Testville"
sector = 17

[[authorization]]
id = "{id}"
environment = "acceptance"
service = "IdentifyPerson"
purpose = "{purpose}"
program = "00912345673"
valid_from = 2025-01-01
valid_until = 2030-12-31
granted_by = "security-advisor"
"#
    )
}

const NOW: &str = "2026-01-15T10:00:00Z";

#[test]
fn an_empty_guard_refuses_everything() {
    let guard = Guard::empty();
    let d = deny(guard.decide(&identify(Environment::Acceptance), at(NOW)));
    assert_eq!(d.reason, DenialReason::NoValidManifest);
    assert_eq!(d.nearest_entry, None);
    assert!(guard.organization().is_none());
    assert!(matches!(guard.reload(), Err(ManifestError::NoSource)));
}

#[test]
fn the_example_manifest_decides_as_documented() {
    let guard = Guard::load(fixture("example-authorizations.toml")).unwrap();
    assert_eq!(guard.organization().unwrap().name, "CPAS de Testville");
    let now = at(NOW);

    let g = grant(guard.decide(&identify(Environment::Acceptance), now));
    assert_eq!(g.authorization_id, "identify-acpt");
    assert_eq!(g.purpose, PURPOSE);
    assert_eq!(g.program.as_str(), "00912345673");
    assert_eq!(g.deliberation.to_string(), "not-applicable");

    let g = grant(guard.decide(&identify(Environment::Production), now));
    assert_eq!(g.authorization_id, "identify-prod");
    assert_eq!(g.deliberation.to_string(), "13/084");

    // Nothing for the service anywhere.
    let d = deny(guard.decide(
        &facts(
            Environment::Production,
            bcss::services::health_care_insurance::service(),
            "consultMAF",
        ),
        now,
    ));
    assert_eq!(d.reason, DenialReason::NoAuthorization);
    assert_eq!(d.nearest_entry, None);
    assert!(d.message.contains("HealthCareInsurance in any environment"));

    // Authorised only in another environment.
    let d = deny(guard.decide(&identify(Environment::Test), now));
    assert_eq!(d.reason, DenialReason::WrongEnvironment);
    assert_eq!(d.nearest_entry.as_deref(), Some("identify-acpt"));
    assert!(
        d.message
            .contains("authorised only in acceptance and production"),
        "{}",
        d.message
    );

    // Reading the register is authorised, writing is not.
    let list = facts(
        Environment::Production,
        bcss::services::manage_access::service(),
        "list",
    );
    assert_eq!(
        grant(guard.decide(&list, now)).authorization_id,
        "manage-access-list-prod"
    );
    let register = facts(
        Environment::Production,
        bcss::services::manage_access::service(),
        "register",
    );
    let d = deny(guard.decide(&register, now));
    assert_eq!(d.reason, DenialReason::NoAuthorization);
    assert!(d.message.contains("operation(s) list"), "{}", d.message);

    // The wrong purpose.
    let marketing = Facts {
        purpose: "MARKETING",
        ..identify(Environment::Acceptance)
    };
    let d = deny(guard.decide(&marketing, now));
    assert_eq!(d.reason, DenialReason::PurposeNotAuthorized);
    assert!(
        d.message.contains(
            "entry 'identify-acpt' authorises IdentifyPerson.identifyPerson in acceptance for \
             purpose 'PCSA:SOCIAL_INQUIRY', not 'MARKETING'; state the authorised purpose, or \
             ask your security advisor"
        ),
        "{}",
        d.message
    );

    // The wrong program number.
    let other = ProgramId::new("00912345772").unwrap();
    let d = deny(guard.decide(
        &Facts {
            program: Some(&other),
            ..identify(Environment::Acceptance)
        },
        now,
    ));
    assert_eq!(d.reason, DenialReason::ProgramMismatch);
    assert!(d.message.contains("grants program number 00912345673"));
    assert!(d.message.contains("configured with 00912345772"));

    // Before and after the validity of identify-prod (2025-03-01 to 2026-02-28).
    let d = deny(guard.decide(
        &identify(Environment::Production),
        at("2025-02-28T23:59:59Z"),
    ));
    assert_eq!(d.reason, DenialReason::NotYetValid);
    assert!(d.message.contains("valid from 2025-03-01"), "{}", d.message);
    let last = at("2026-02-28T23:59:59.999999999Z");
    assert!(matches!(
        guard.decide(&identify(Environment::Production), last),
        Decision::Grant(_)
    ));
    let d = deny(guard.decide(
        &identify(Environment::Production),
        at("2026-03-01T00:00:00Z"),
    ));
    assert_eq!(d.reason, DenialReason::Expired);
    assert!(
        d.message.contains("expired at the end of 2026-02-28 (UTC)"),
        "{}",
        d.message
    );

    // Datetime bounds are exact instants: 08:00+02:00 is 06:00Z.
    let ti = facts(
        Environment::Production,
        bcss::services::retrieve_ti_groups::service(),
        "retrieveTI",
    );
    assert_eq!(
        deny(guard.decide(&ti, at("2025-06-01T05:59:59Z"))).reason,
        DenialReason::NotYetValid
    );
    assert!(matches!(
        guard.decide(&ti, at("2025-06-01T06:00:00Z")),
        Decision::Grant(_)
    ));
}

#[test]
fn a_manifest_that_has_all_expired_loads_and_refuses_as_expired() {
    let guard = Guard::load(fixture("all-expired.toml")).unwrap();
    let d = deny(guard.decide(&identify(Environment::Acceptance), at(NOW)));
    assert_eq!(d.reason, DenialReason::Expired);
    // The one that ended last is the nearest.
    assert_eq!(d.nearest_entry.as_deref(), Some("identify-acpt-2024"));
    assert!(d.message.contains("renew"), "{}", d.message);
    // Still valid in 2024.
    assert_eq!(
        grant(guard.decide(
            &identify(Environment::Acceptance),
            at("2024-06-01T00:00:00Z")
        ))
        .authorization_id,
        "identify-acpt-2024"
    );
}

#[test]
fn a_bad_reload_keeps_the_last_good_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("authorizations.toml");
    std::fs::write(&path, manifest("first", PURPOSE)).unwrap();
    let guard = Guard::load(&path).unwrap();
    let call = identify(Environment::Acceptance);
    assert_eq!(
        grant(guard.decide(&call, at(NOW))).authorization_id,
        "first"
    );

    // Two errors: both reported, with line and column; the old manifest stays.
    let broken = manifest("second", PURPOSE)
        .replace("\"acceptance\"", "\"acpt\"")
        .replace("\"security-advisor\"", "\"advisor\"");
    std::fs::write(&path, broken).unwrap();
    match guard.reload() {
        Err(ManifestError::Invalid(errors)) => {
            let file = path.display().to_string();
            assert_eq!(errors.len(), 2, "{errors:?}");
            assert!(
                errors[0].starts_with(&format!("{file}:8:15: ")),
                "{errors:?}"
            );
            assert!(
                errors[1].starts_with(&format!("{file}:14:14: ")),
                "{errors:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        grant(guard.decide(&call, at(NOW))).authorization_id,
        "first"
    );

    // An unreadable file keeps it too.
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(
        guard.reload(),
        Err(ManifestError::Unreadable { .. })
    ));
    assert_eq!(
        grant(guard.decide(&call, at(NOW))).authorization_id,
        "first"
    );

    // A good reload replaces it.
    std::fs::write(&path, manifest("second", "OTHER_PURPOSE")).unwrap();
    let report = guard.reload().unwrap();
    assert_eq!(report.entries, 1);
    assert!(report.replaced);
    assert!(report.warnings.is_empty());
    let d = deny(guard.decide(&call, at(NOW)));
    assert_eq!(d.reason, DenialReason::PurposeNotAuthorized);
    assert_eq!(d.nearest_entry.as_deref(), Some("second"));
}

#[test]
fn a_guard_can_wait_for_its_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("authorizations.toml");
    let guard = Guard::with_source(&path);
    let call = identify(Environment::Acceptance);
    assert!(matches!(
        guard.reload(),
        Err(ManifestError::Unreadable { .. })
    ));
    assert_eq!(
        deny(guard.decide(&call, at(NOW))).reason,
        DenialReason::NoValidManifest
    );
    std::fs::write(&path, manifest("late", PURPOSE)).unwrap();
    let report = guard.reload().unwrap();
    assert!(!report.replaced);
    assert_eq!(grant(guard.decide(&call, at(NOW))).authorization_id, "late");
}

#[test]
fn reload_from_text_and_non_utf8_files() {
    let guard = Guard::from_str(&manifest("a", PURPOSE), "inline.toml").unwrap();
    assert!(matches!(guard.reload(), Err(ManifestError::NoSource)));
    assert!(
        guard
            .reload_from_str("[organization]\ncbe = 1\n", "inline.toml")
            .is_err()
    );
    let call = identify(Environment::Acceptance);
    assert_eq!(grant(guard.decide(&call, at(NOW))).authorization_id, "a");
    guard
        .reload_from_str(&manifest("b", PURPOSE), "inline.toml")
        .unwrap();
    assert_eq!(grant(guard.decide(&call, at(NOW))).authorization_id, "b");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.toml");
    std::fs::write(&path, b"[organization]\nname = \"CPAS de Li\xe8ge\"\n").unwrap();
    match Guard::load(&path) {
        Err(e @ ManifestError::Unreadable { .. }) => {
            assert!(e.to_string().contains("not UTF-8"), "{e}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn decisions_never_see_a_half_loaded_manifest() {
    // Manifest A grants "a" for the purpose; manifest B grants "b". While one thread swaps
    // them as fast as it can, every decision must be a grant from one or the other.
    let a = manifest("a", PURPOSE);
    let b = manifest("b", PURPOSE);
    let guard = Arc::new(Guard::from_str(&a, "a.toml").unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let guard = Arc::clone(&guard);
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut swaps = 0u32;
            while !stop.load(Ordering::Relaxed) || swaps < 100 {
                let text = if swaps & 1 == 0 { &b } else { &a };
                guard.reload_from_str(text, "swap.toml").unwrap();
                swaps += 1;
            }
            swaps
        })
    };
    let deciders: Vec<_> = (0..2)
        .map(|_| {
            let guard = Arc::clone(&guard);
            std::thread::spawn(move || {
                let mut seen = [0u32; 2];
                for _ in 0..20_000 {
                    let g = grant(guard.decide(&identify(Environment::Acceptance), at(NOW)));
                    match g.authorization_id.as_str() {
                        "a" => seen[0] += 1,
                        "b" => seen[1] += 1,
                        other => panic!("unexpected entry {other}"),
                    }
                }
                seen
            })
        })
        .collect();
    for d in deciders {
        let seen = d.join().unwrap();
        assert_eq!(seen[0] + seen[1], 20_000);
    }
    stop.store(true, Ordering::Relaxed);
    assert!(swapper.join().unwrap() >= 100);
}
