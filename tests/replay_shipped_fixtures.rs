//! The shipped fixtures (`fixtures/exchanges/`): generated from the real encoders and
//! the reply files, kept in sync, covering every service, and each replaying to the
//! outcome it declares.
//!
//! To regenerate them after an encoder or a reply file changed:
//!
//! ```text
//! BCSS_WRITE_FIXTURES=1 cargo test --test replay_shipped_fixtures
//! ```

mod pipeline_support;
mod replay_support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bcss::Environment;
use bcss::endpoints::Endpoints;
use bcss::fixture::{ExpectedOutcome, FixtureSet, format};
use bcss::services::{Catalogue, Outcome, Service};
use bcss::transport::replay::ReplayTransport;
use replay_support::{Scenario, exchanges_dir, scenarios};

const REGENERATE: &str = "BCSS_WRITE_FIXTURES=1 cargo test --test replay_shipped_fixtures";

#[test]
fn shipped_fixtures_are_in_sync_with_the_encoders() {
    let dir = exchanges_dir();
    let scenarios = scenarios();
    let fixtures: Vec<_> = scenarios.iter().map(Scenario::fixture).collect();
    // No two scenarios record the same request: replay would be ambiguous.
    FixtureSet::from_fixtures(fixtures.clone()).unwrap();

    let wanted: BTreeSet<_> = scenarios.iter().map(|s| s.path(&dir)).collect();
    if std::env::var_os("BCSS_WRITE_FIXTURES").is_some() {
        for (s, f) in scenarios.iter().zip(&fixtures) {
            let path = s.path(&dir);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, format::to_toml(f)).unwrap();
        }
        for service in Catalogue::builtin() {
            let Ok(entries) = std::fs::read_dir(dir.join(service.name())) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "toml") && !wanted.contains(&path) {
                    std::fs::remove_file(&path).unwrap();
                }
            }
        }
    }

    let mut problems = Vec::new();
    for (s, f) in scenarios.iter().zip(&fixtures) {
        let path = s.path(&dir);
        match std::fs::read_to_string(&path) {
            Ok(text) if text == format::to_toml(f) => {}
            Ok(_) => problems.push(format!(
                "{} differs from what the encoders give",
                path.display()
            )),
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    let loaded = FixtureSet::load(&dir).unwrap();
    for f in loaded.iter() {
        if !scenarios.iter().any(|s| s.name() == f.name) {
            problems.push(format!("{} is not a generated fixture", f.origin()));
        }
    }
    assert!(
        problems.is_empty(),
        "{}\nregenerate with: {REGENERATE}",
        problems.join("\n")
    );
    assert_eq!(loaded.len(), scenarios.len());
}

#[test]
fn every_service_has_ok_warning_no_data_business_error_and_fault_fixtures() {
    let mut kinds: BTreeMap<&Service, BTreeSet<&str>> = BTreeMap::new();
    let mut operations: BTreeMap<&Service, BTreeSet<&str>> = BTreeMap::new();
    for s in scenarios() {
        kinds
            .entry(s.service())
            .or_default()
            .insert(s.expected.as_str());
        operations
            .entry(s.service())
            .or_default()
            .insert(s.request.operation());
    }
    for service in Catalogue::builtin() {
        let have = &kinds[service];
        let mut need = vec!["ok", "business_error", "soap_fault"];
        // TestConnection's reply has no status, so it cannot warn or lack data.
        if service != bcss::services::test_connection::service() {
            need.extend(["warning"]);
        }
        for kind in need {
            assert!(
                have.contains(kind),
                "{service} has no {kind} fixture: {have:?}"
            );
        }
    }
    for service in [
        bcss::services::identify_person::service(),
        bcss::services::retrieve_ti_groups::service(),
        bcss::services::health_care_insurance::service(),
    ] {
        assert!(kinds[service].contains("no_data"), "{service}");
    }
    // Empty answers of ManageAccess and PerformInvestigation are OK replies with nothing
    // in them: their "no data" fixtures say so.
    for stem in [
        "ManageAccess/anna-list-empty",
        "PerformInvestigation/marc-wait-register-empty",
    ] {
        assert_eq!(replay_support::scenario(stem).expected, ExpectedOutcome::Ok);
    }
    for op in bcss::services::health_care_insurance::service().operation_names() {
        assert!(
            operations[bcss::services::health_care_insurance::service()].contains(op),
            "{op}"
        );
    }
    // The cast: someone born after 2000 and a BIS number take part.
    let all = format!("{:?}", scenarios());
    assert!(all.contains("050315*****") && all.contains("754112*****"));
}

#[tokio::test]
async fn every_shipped_fixture_replays_to_its_expected_outcome() {
    let transport = Arc::new(
        ReplayTransport::builder(exchanges_dir())
            .simulate_delays(false)
            .build()
            .unwrap(),
    );
    assert_eq!(transport.fixture_count(), scenarios().len());
    let mut failures = Vec::new();
    for s in scenarios() {
        // Through a client: another ticket and time than the fixture's (volatile fields
        // do not matter).
        let outcome = match s
            .request
            .exchange(transport.clone(), Environment::Test, Endpoints::defaults())
            .await
        {
            Ok(reply) => s.request.outcome(reply.status, &reply.body),
            Err(e) => Outcome::TransportError {
                reason: e.to_string(),
            },
        };
        if !s.expected.matches(&outcome) {
            failures.push(format!(
                "{}: expected {}, got {outcome:?}",
                s.name(),
                s.expected
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_shipped_fixtures_tell_one_story_about_one_cast() {
    let set = FixtureSet::load(&exchanges_dir()).unwrap();
    let cast = bcss::fixture::cast::Cast::of(&set);
    let conflicts: Vec<String> = cast.conflicts().iter().map(|c| c.to_string()).collect();
    assert!(conflicts.is_empty(), "{}", conflicts.join("\n"));
    for (ssin, name) in [
        (replay_support::MARC, "Marc Émile FICTIF"),
        (replay_support::ANNA, "Anna VOORBEELD"),
        (replay_support::LINA, "Lina TESTMANS"),
        (replay_support::IVAN, "Ivan BISNUMMER"),
        (replay_support::OSCAR, "Oscar ONBEKEND"),
        (replay_support::NOOR, "Noor KIND"),
    ] {
        assert_eq!(cast.name(&replay_support::ssin(ssin)), Some(name), "{ssin}");
    }
}
