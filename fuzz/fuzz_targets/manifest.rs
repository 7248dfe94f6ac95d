//! The manifest parser (`bcss::manifest::validate_with`), against the built-in catalogue
//! and the configured services of tests/contracts/services.toml, and the manifest's
//! signature file (`SignatureFile::parse`).
//!
//! Checks: no panic, hang or unbounded memory; a refused manifest has at least one error;
//! every diagnostic names the file and a line and column inside the text; a manifest
//! that validates grants, for each entry, each operation it covers, for its purpose,
//! program and first access purpose, at the first instant of its validity.
#![no_main]

use std::sync::LazyLock;

use bcss::manifest::{self, Decision, Facts, Severity, SignatureFile};
use bcss::services::{Catalogue, parse_services};
use bcss_fuzz::check_position;
use libfuzzer_sys::fuzz_target;

const FILE: &str = "authorizations.toml";

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| {
    let text = include_str!("../../tests/contracts/services.toml");
    let services = match parse_services(text, "services.toml") {
        Ok(s) => s,
        Err(e) => panic!("tests/contracts/services.toml: {e}"),
    };
    match Catalogue::with_configured(services) {
        Ok(c) => c,
        Err(e) => panic!("tests/contracts/services.toml: {e}"),
    }
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = SignatureFile::parse(text).map(|s| s.to_toml());
    match manifest::validate_with(text, FILE, &CATALOGUE) {
        Err(diagnostics) => {
            assert!(
                diagnostics.iter().any(|d| d.severity == Severity::Error),
                "refused without an error: {diagnostics:?}"
            );
            for d in &diagnostics {
                assert_eq!(d.file, FILE);
                check_position(text, d.line, d.column, d);
            }
        }
        Ok(policy) => {
            for d in policy.warnings() {
                assert_eq!(d.severity, Severity::Warning);
                check_position(text, d.line, d.column, d);
            }
            assert!(manifest::diff(&policy, &policy).is_empty());
            for entry in policy.entries() {
                let access_purpose = entry
                    .access_purposes
                    .as_ref()
                    .and_then(|c| c.first().copied());
                for operation in entry.service.operation_names() {
                    if !entry.covers_operation(operation)
                        || !entry.covers_access_purpose(operation, access_purpose)
                    {
                        continue;
                    }
                    let facts = Facts {
                        environment: entry.environment,
                        service: entry.service.name(),
                        operation,
                        purpose: &entry.purpose,
                        program: Some(&entry.program),
                        access_purpose,
                    };
                    match policy.decide(&facts, entry.not_before()) {
                        Decision::Grant(_) => {}
                        Decision::Deny(d) => panic!(
                            "entry '{}' does not grant {operation} at its first valid instant: {d:?}",
                            entry.id
                        ),
                    }
                }
            }
        }
    }
});
