//! The configuration parser (`bcss::config::Config::parse`, bcss.toml with its
//! `[[service]]` entries) and the catalogue file parser (`bcss::services::parse_services`).
//!
//! Checks: no panic, hang or unbounded memory; an error names the file and a line and
//! column inside the text; a configured service written back (`catalogue::to_toml`)
//! reads again as the same service.
#![no_main]

use bcss::config::{Config, ConfigError};
use bcss::services::catalogue::{Origin, to_toml};
use bcss::services::{Service, parse_services};
use bcss_fuzz::check_position;
use libfuzzer_sys::fuzz_target;

const FILE: &str = "bcss.toml";

fn check_error(text: &str, e: &ConfigError) {
    match e {
        ConfigError::Invalid {
            path, line, column, ..
        } => {
            assert_eq!(path, FILE, "{e}");
            check_position(text, *line, *column, e);
        }
        other => panic!("parsing text gave {other}"),
    }
}

/// Written back and read again, a configured service is the same (but for its origin).
fn check_round_trip(service: &Service) {
    let written = to_toml(service.descriptor());
    let again = match parse_services(&written, "written.toml") {
        Ok(mut s) if s.len() == 1 => s.remove(0),
        other => panic!("{written}\nwritten back, reads as {other:?}"),
    };
    let mut expected = service.descriptor().clone();
    let mut found = again.descriptor().clone();
    expected.origin = Origin::BuiltIn;
    found.origin = Origin::BuiltIn;
    assert_eq!(expected, found, "{written}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Config::parse(text, FILE) {
        Ok(config) => {
            let _ = format!("{config:?}");
            let _ = config.service_catalogue().map(|c| c.len());
            for service in &config.services {
                check_round_trip(service);
            }
        }
        Err(e) => check_error(text, &e),
    }
    match parse_services(text, FILE) {
        Ok(services) => {
            for service in &services {
                check_round_trip(service);
            }
        }
        Err(e) => {
            assert_eq!(e.file, FILE, "{e}");
            check_position(text, e.line, e.column, &e);
        }
    }
});
