//! Decisions tied to their manifest (issue 9, item 9) and production without stand-ins
//! (issue 12, item 9): every decision names the manifest in force; every load of it is
//! journaled (at start, by `Client::reload_manifest`, accepted or refused, and when a
//! decision finds it changed behind the client's back); a production client refuses an
//! unsigned manifest, the replay transport and loopback or plain-http endpoints unless it
//! says so explicitly, and then every record says it is a drill.

mod pipeline_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bcss::Environment;
use bcss::audit::{ManifestRef, Record};
use bcss::client::{Actor, CallContext, Client};
use bcss::clock::FixedClock;
use bcss::endpoints::Endpoints;
use bcss::error::ErrorKind;
use bcss::fixture::FixtureSet;
use bcss::manifest::Guard;
use bcss::transport::replay::ReplayTransport;
use chrono::{TimeZone, Utc};
use pipeline_support::{CountingTransport, MANIFEST, MemoryJournal, tx25};

fn ctx(purpose: &str) -> CallContext {
    CallContext::new(Actor::new("agent-042"), purpose)
}

fn june() -> Arc<FixedClock> {
    Arc::new(FixedClock(
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap(),
    ))
}

fn manifest_loads(journal: &MemoryJournal) -> Vec<bcss::audit::ManifestLoadRecord> {
    journal
        .records()
        .into_iter()
        .filter_map(|r| match r {
            Record::ManifestLoad(m) => Some(m),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn the_manifest_in_force_is_journaled_at_start_at_reload_and_when_found_changed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("authorizations.toml");
    std::fs::write(&file, MANIFEST).unwrap();
    let first = ManifestRef::unsigned(MANIFEST.as_bytes());
    let journal = Arc::new(MemoryJournal::default());
    let transport = CountingTransport::new(journal.clone());
    let client = Client::builder()
        .environment(Environment::Test)
        .application("manifest-test", "1.0.0")
        .guard(Arc::new(Guard::load(&file).unwrap()))
        .journal(journal.clone())
        .transport(transport.clone())
        .clock(june())
        .build()
        .unwrap();

    // At start.
    let loads = manifest_loads(&journal);
    assert_eq!(loads.len(), 1);
    assert_eq!(loads[0].trigger, "start");
    assert!(loads[0].accepted);
    assert_eq!(loads[0].new.as_ref(), Some(&first));
    assert_eq!(loads[0].old, None);
    assert!(loads[0].source.ends_with("authorizations.toml"));
    let reply = client
        .call(&ctx("PCSA:SOCIAL_INQUIRY"), &tx25())
        .await
        .unwrap();
    let intent = journal
        .records()
        .into_iter()
        .find_map(|r| match r {
            Record::Intent(i) if i.ticket == reply.ticket => Some(i),
            _ => None,
        })
        .unwrap();
    assert_eq!(intent.manifest.as_ref(), Some(&first));

    // A reload through the client, accepted: durable when it returns.
    let narrowed = MANIFEST.replace(
        "purpose = \"PCSA:SOCIAL_INQUIRY\"\nprogram = \"00912345673\"\ndeliberation = \"not-applicable\"\nvalid_from = 2026-01-01\nvalid_until = 2026-12-31\ngranted_by = \"security-advisor\"\n\n[[authorization]]\nid = \"investigate-test\"",
        "purpose = \"PCSA:OTHER\"\nprogram = \"00912345673\"\ndeliberation = \"not-applicable\"\nvalid_from = 2026-01-01\nvalid_until = 2026-12-31\ngranted_by = \"security-advisor\"\n\n[[authorization]]\nid = \"investigate-test\"",
    );
    assert_ne!(narrowed, MANIFEST);
    std::fs::write(&file, &narrowed).unwrap();
    let second = ManifestRef::unsigned(narrowed.as_bytes());
    let report = client.reload_manifest("SIGHUP").await.unwrap();
    assert_eq!(report.manifest, second);
    let loads = manifest_loads(&journal);
    let reload = loads.last().unwrap();
    assert_eq!(reload.trigger, "SIGHUP");
    assert!(reload.accepted);
    assert_eq!(reload.old.as_ref(), Some(&first));
    assert_eq!(reload.new.as_ref(), Some(&second));

    // A reload refused: the error, the manifest that stays, the refused file's digest.
    let broken = "[organization]\ncbe = 1\n";
    std::fs::write(&file, broken).unwrap();
    let err = client.reload_manifest("file-watch").await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Manifest(_)), "{err:?}");
    let loads = manifest_loads(&journal);
    let refused = loads.last().unwrap();
    assert_eq!(refused.trigger, "file-watch");
    assert!(!refused.accepted);
    assert_eq!(refused.old.as_ref(), Some(&second));
    assert_eq!(
        refused.new.as_ref(),
        Some(&ManifestRef::unsigned(broken.as_bytes()))
    );
    assert!(
        refused.error.as_deref().unwrap().contains("cbe"),
        "{refused:?}"
    );
    assert_eq!(client.guard().manifest_ref(), Some(second.clone()));

    // Reloaded on the guard itself, behind the client's back: the next decision journals
    // the change first, then itself under the new manifest.
    client
        .guard()
        .reload_from_str(MANIFEST, "authorizations.toml")
        .unwrap();
    let before = journal.records().len();
    let denied = client.call(&ctx("PCSA:OTHER"), &tx25()).await.unwrap_err();
    assert!(matches!(denied.kind(), ErrorKind::Denied(_)), "{denied:?}");
    let records = journal.records();
    let [Record::ManifestLoad(detected), Record::Denial(denial)] = &records[before..] else {
        panic!("{:?}", &records[before..]);
    };
    assert_eq!(detected.trigger, "detected");
    assert_eq!(detected.old.as_ref(), Some(&second));
    assert_eq!(detected.new.as_ref(), Some(&first));
    assert_eq!(denial.manifest.as_ref(), Some(&first));
    // Once journaled, it is not journaled again.
    let before = journal.records().len();
    client
        .call(&ctx("PCSA:SOCIAL_INQUIRY"), &tx25())
        .await
        .unwrap();
    assert!(
        journal.records()[before..]
            .iter()
            .all(|r| !matches!(r, Record::ManifestLoad(_)))
    );
}

/// RetrieveTIGroups in production, under deliberation 13/084.
fn production_manifest() -> String {
    MANIFEST
        .replace(
            "id = \"tx25-test\"\nenvironment = \"test\"",
            "id = \"tx25-prod\"\nenvironment = \"production\"",
        )
        .replacen(
            "deliberation = \"not-applicable\"",
            "deliberation = \"13/084\"",
            1,
        )
}

fn production(journal: &Arc<MemoryJournal>) -> bcss::client::ClientBuilder {
    Client::builder()
        .environment(Environment::Production)
        .application("manifest-test", "1.0.0")
        .guard(Arc::new(
            Guard::from_str(&production_manifest(), "authorizations.toml").unwrap(),
        ))
        .journal(journal.clone())
        .transport(CountingTransport::new(journal.clone()))
        .clock(june())
}

#[test]
fn a_production_client_needs_a_signed_manifest_unless_it_says_otherwise() {
    let journal = Arc::new(MemoryJournal::default());
    let err = production(&journal).build().unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Config(_)), "{err:?}");
    assert!(err.to_string().contains("allow_unsigned_manifest"), "{err}");
    assert!(
        production(&journal)
            .allow_unsigned_manifest()
            .build()
            .is_ok()
    );
    // Outside production an unsigned manifest is the default.
    assert!(
        Client::builder()
            .environment(Environment::Acceptance)
            .application("manifest-test", "1.0.0")
            .guard(Arc::new(
                Guard::from_str(MANIFEST, "authorizations.toml").unwrap()
            ))
            .journal(journal.clone())
            .transport(CountingTransport::new(journal))
            .build()
            .is_ok()
    );
}

#[tokio::test]
async fn production_refuses_a_stand_in_unless_it_is_a_drill_and_then_every_record_says_so() {
    let journal = Arc::new(MemoryJournal::default());
    let replay = Arc::new(ReplayTransport::from_set(FixtureSet::new()));
    let err = production(&journal)
        .allow_unsigned_manifest()
        .transport(replay)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("replay transport"), "{err}");
    assert!(err.to_string().contains("drill"), "{err}");

    for base in [
        "http://127.0.0.1:8080",
        "https://localhost:8443",
        "http://bcss.example",
    ] {
        let endpoints = Endpoints::defaults()
            .with_base_url(Environment::Production, base)
            .unwrap();
        let err = production(&journal)
            .allow_unsigned_manifest()
            .endpoints(endpoints.clone())
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("drill"), "{base}: {err}");
        assert!(err.to_string().contains(base), "{base}: {err}");
    }

    // Said explicitly: a drill. Every record says so.
    let journal = Arc::new(MemoryJournal::default());
    let transport = CountingTransport::new(journal.clone());
    let client = production(&journal)
        .allow_unsigned_manifest()
        .transport(transport.clone())
        .endpoints(
            Endpoints::defaults()
                .with_base_url(Environment::Production, "http://127.0.0.1:8080")
                .unwrap(),
        )
        .drill(true)
        .build()
        .unwrap();
    assert!(client.is_drill());
    client
        .call(&ctx("PCSA:SOCIAL_INQUIRY"), &tx25())
        .await
        .unwrap();
    let _ = client.call(&ctx("MARKETING"), &tx25()).await.unwrap_err();
    assert!(transport.bytes.load(Ordering::SeqCst) > 0);
    let mut hows = 0;
    for record in journal.records() {
        let how = match record {
            Record::Intent(r) => r.how,
            Record::Denial(r) => r.how,
            _ => continue,
        };
        assert!(how.drill, "{how:?}");
        hows += 1;
    }
    assert_eq!(hows, 2);
}

#[test]
fn a_drill_is_configured_explicitly() {
    let text = "environment = \"production\"\nmanifest = { file = \"a.toml\", require_signature = false }\n[journal]\ndir = \"j\"\n[application]\nname = \"x\"\nversion = \"1\"\n[organization]\ncbe = \"0212344876\"\ncontact_email = \"it@x.example\"\n[transport]\nbase_url = \"http://127.0.0.1:8080\"\ndrill = true\n";
    let config = bcss::config::Config::parse(text, "bcss.toml").unwrap();
    assert!(config.transport.drill);
    let without =
        bcss::config::Config::parse(&text.replace("drill = true\n", ""), "bcss.toml").unwrap();
    assert!(!without.transport.drill);
}
