//! The client's single call path, end to end with test doubles: the guard decides, the
//! journal records durably before anything is sent, and every refusal sends zero bytes.
//!
//! The tests of the journal's part run twice: on a journal in memory, and on the
//! PostgreSQL journal of a throwaway local cluster (`postgres`; `SKIP:` without
//! PostgreSQL).

mod pg_support;
mod pipeline_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bcss::Environment;
use bcss::audit::pg::{PgJournal, PgJournalConfig, PgLocation};
use bcss::audit::{Appended, AuditError, CallRecord, Journal, Record};
use bcss::client::{Actor, CallContext, Client};
use bcss::clock::{Clock, ClockError, FixedClock};
use bcss::error::ErrorKind;
use bcss::ids::ProgramId;
use bcss::manifest::{DenialReason, Guard};
use bcss::services::generic::GenericRequest;
use bcss::transport::BoxFuture;
use chrono::{DateTime, TimeZone, Utc};
use pipeline_support::{
    CountingTransport, MANIFEST, MemoryJournal, Recorded, identify, investigate, tx25,
};

/// Where a test's records go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Memory,
    Postgres,
}

/// The PostgreSQL journal, its call records read back from the database.
#[derive(Debug)]
struct PgRecorded {
    journal: PgJournal,
    location: PgLocation,
}

impl Recorded for PgRecorded {
    fn recorded(&self) -> BoxFuture<'_, Vec<Record>> {
        Box::pin(async move {
            bcss::audit::pg::records(&self.location, 1..=u64::MAX)
                .await
                .unwrap()
                .into_iter()
                .map(|(_, r)| r)
                .filter(|r| !r.is_journal_kind())
                .collect()
        })
    }

    fn last_sequence(&self) -> BoxFuture<'_, u64> {
        Box::pin(async move {
            let head = bcss::audit::pg::head(&self.location)
                .await
                .unwrap()
                .unwrap();
            head.next_sequence - 1
        })
    }
}

impl Journal for PgRecorded {
    fn append(&self, record: CallRecord) -> BoxFuture<'_, Result<Appended, AuditError>> {
        self.journal.append(record)
    }
    fn append_deferred(&self, record: CallRecord) -> Result<(), AuditError> {
        self.journal.append_deferred(record)
    }
    fn max_payload_bytes(&self) -> usize {
        self.journal.max_payload_bytes()
    }
}

/// A journal the tests append through and read back.
trait TestJournal: Journal + Recorded {}
impl<T: Journal + Recorded> TestJournal for T {}

/// A new journal of `backend`; `None` (after `SKIP:`) without PostgreSQL.
async fn journal(backend: Backend) -> Option<Arc<dyn TestJournal>> {
    match backend {
        Backend::Memory => Some(Arc::new(MemoryJournal::default())),
        Backend::Postgres => {
            let cluster = pg_support::shared("the client pipeline on PostgreSQL")?;
            let location = cluster.database().init("bcss").await;
            let mut config = PgJournalConfig::new(location.clone());
            config.checkpoint_every = std::time::Duration::ZERO;
            let journal = PgJournal::open(config).await.unwrap();
            Some(Arc::new(PgRecorded { journal, location }))
        }
    }
}

/// Runs the test `$name(backend)` on both backends.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn memory() {
                super::$name(super::Backend::Memory).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$name(super::Backend::Postgres).await
            }
        }
    )*};
}

on_both_backends!(
    granted_call_is_journaled_before_and_after_sending,
    every_denial_sends_zero_bytes,
    a_call_without_a_user_is_refused_and_journaled,
    an_untrustworthy_clock_refuses_the_call,
    a_manifest_reload_changes_decisions_without_restarting,
);

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
}

/// The records about calls (without the manifest loads every client journals).
fn call_records(records: Vec<Record>) -> Vec<Record> {
    records
        .into_iter()
        .filter(|r| !matches!(r, Record::ManifestLoad(_)))
        .collect()
}

struct Setup {
    client: Client,
    journal: Arc<dyn TestJournal>,
    transport: Arc<CountingTransport>,
}

fn setup_with(
    journal: Arc<dyn TestJournal>,
    env: Environment,
    guard: Guard,
    clock: Arc<dyn Clock>,
    program: Option<&str>,
) -> Setup {
    let transport = CountingTransport::new(journal.clone());
    let mut builder = Client::builder()
        .environment(env)
        .application("pipeline-test", "1.0.0")
        .contact_email("it@cpas-fictiveville.example")
        .guard(Arc::new(guard))
        .journal(journal.clone())
        .transport(transport.clone())
        .clock(clock);
    if let Some(p) = program {
        builder = builder.program(ProgramId::new(p).unwrap());
    }
    let client = builder.build().unwrap();
    Setup {
        client,
        journal,
        transport,
    }
}

async fn setup(backend: Backend, env: Environment, when: DateTime<Utc>) -> Option<Setup> {
    Some(setup_with(
        journal(backend).await?,
        env,
        Guard::from_str(MANIFEST, "authorizations.toml").unwrap(),
        Arc::new(FixedClock(when)),
        None,
    ))
}

fn ctx(purpose: &str) -> CallContext {
    CallContext::new(Actor::new("agent-042").with_name("Sam Agent"), purpose)
}

async fn granted_call_is_journaled_before_and_after_sending(backend: Backend) {
    let Some(s) = setup(backend, Environment::Test, at(2026, 6, 1)).await else {
        return;
    };
    let reply = s
        .client
        .call(&ctx("PCSA:SOCIAL_INQUIRY"), &tx25())
        .await
        .unwrap();
    assert_eq!(reply.authorization_id, "tx25-test");
    assert_eq!(reply.bcss.ticket.as_deref(), Some("bcss-ticket-1"));

    let seen = s.transport.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let (endpoint, action, body) = &seen[0];
    assert_eq!(
        endpoint,
        "https://bcssksz-services-test.smals.be/SOA4520/RetrieveTIGroupsService/v2/retrieveTI"
    );
    assert_eq!(
        action,
        "http://kszbcss.fgov.be/RetrieveTIGroupsService/retrieveTI"
    );
    let body = String::from_utf8(body.clone()).unwrap();
    // The grant supplied the legalContext and the program number.
    assert!(
        body.contains("<legalContext>PCSA:SOCIAL_INQUIRY</legalContext>"),
        "{body}"
    );
    assert!(body.contains(&reply.ticket.to_string()));

    let records = s.journal.recorded().await;
    assert_eq!(records.len(), 4);
    // The manifest the client started with, then the call: its intent, the raw reply
    // (durable before decoding), and how the reply was classified.
    let (
        Record::ManifestLoad(start),
        Record::Intent(intent),
        Record::Outcome(outcome),
        Record::Classification(classification),
    ) = (&records[0], &records[1], &records[2], &records[3])
    else {
        panic!("expected manifest load, intent, outcome, classification: {records:?}");
    };
    assert_eq!(start.trigger, "start");
    assert!(start.accepted);
    let manifest = s.client.guard().manifest_ref().unwrap();
    assert_eq!(start.new.as_ref(), Some(&manifest));
    assert_eq!(
        intent.manifest.as_ref(),
        Some(&manifest),
        "the decision names its manifest"
    );
    assert!(!intent.write);
    assert_eq!(intent.attempt, None);
    assert_eq!(intent.ticket, reply.ticket);
    assert_eq!(outcome.ticket, reply.ticket);
    assert_eq!(classification.ticket, reply.ticket);
    assert_eq!(intent.who.user_id, "agent-042");
    assert_eq!(intent.who.user_name.as_deref(), Some("Sam Agent"));
    assert_eq!(intent.who.program.as_deref(), Some("00912345673"));
    assert_eq!(intent.what.subjects, vec!["68070100188".to_string()]);
    assert_eq!(intent.how.authorization_id.as_deref(), Some("tx25-test"));
    assert_eq!(intent.how.deliberation.as_deref(), Some("not-applicable"));
    assert_eq!(outcome.outcome, "received");
    assert_eq!(outcome.http_status, Some(200));
    assert_eq!(
        outcome.reply.as_ref().unwrap().as_bytes(),
        &pipeline_support::ok_reply(bcss::services::retrieve_ti_groups::service(), "retrieveTI")[..]
    );
    assert_eq!(classification.outcome, "ok");
    assert_eq!(classification.bcss.ticket.as_deref(), Some("bcss-ticket-1"));
}

/// The grant supplies the program number an SSDN request carries as its UserID.
#[tokio::test]
async fn the_grant_supplies_the_program_number_of_an_ssdn_request() {
    let s = setup(Backend::Memory, Environment::Test, at(2026, 6, 1))
        .await
        .unwrap();
    let reply = s
        .client
        .call(&ctx("PCSA:SOCIAL_INQUIRY"), &investigate("68070100188"))
        .await
        .unwrap();
    assert_eq!(reply.authorization_id, "investigate-test");
    let seen = s.transport.seen.lock().unwrap().clone();
    let body = String::from_utf8(seen[0].2.clone()).unwrap();
    assert!(
        body.contains("&lt;UserID&gt;00912345673&lt;/UserID&gt;"),
        "{body}"
    );
    assert!(body.contains(&reply.ticket.to_string()), "{body}");
}

/// Every kind of unauthorised call returns its typed denial, is journaled, and sends
/// nothing.
async fn every_denial_sends_zero_bytes(backend: Backend) {
    struct Case {
        name: &'static str,
        env: Environment,
        when: DateTime<Utc>,
        program: Option<&'static str>,
        guard: Option<Guard>,
        purpose: &'static str,
        request: GenericRequest,
        expected: DenialReason,
    }
    let cases = vec![
        Case {
            name: "purpose not granted",
            env: Environment::Test,
            when: at(2026, 6, 1),
            program: None,
            guard: None,
            purpose: "MARKETING",
            request: tx25(),
            expected: DenialReason::PurposeNotAuthorized,
        },
        Case {
            name: "authorised only in another environment",
            env: Environment::Production,
            when: at(2026, 6, 1),
            program: None,
            guard: None,
            purpose: "PCSA:SOCIAL_INQUIRY",
            request: tx25(),
            expected: DenialReason::WrongEnvironment,
        },
        Case {
            name: "service not in the manifest",
            env: Environment::Test,
            when: at(2026, 6, 1),
            program: None,
            guard: None,
            purpose: "PCSA:SOCIAL_INQUIRY",
            request: identify("68070100188"),
            expected: DenialReason::NoAuthorization,
        },
        Case {
            name: "expired",
            env: Environment::Test,
            when: at(2027, 1, 2),
            program: None,
            guard: None,
            purpose: "PCSA:SOCIAL_INQUIRY",
            request: tx25(),
            expected: DenialReason::Expired,
        },
        Case {
            name: "not yet valid",
            env: Environment::Test,
            when: at(2025, 12, 1),
            program: None,
            guard: None,
            purpose: "PCSA:SOCIAL_INQUIRY",
            request: tx25(),
            expected: DenialReason::NotYetValid,
        },
        Case {
            name: "program number mismatch",
            env: Environment::Test,
            when: at(2026, 6, 1),
            program: Some("00912345772"),
            guard: None,
            purpose: "PCSA:SOCIAL_INQUIRY",
            request: tx25(),
            expected: DenialReason::ProgramMismatch,
        },
        Case {
            name: "no valid manifest",
            env: Environment::Test,
            when: at(2026, 6, 1),
            program: None,
            guard: Some(Guard::empty()),
            purpose: "PCSA:SOCIAL_INQUIRY",
            request: tx25(),
            expected: DenialReason::NoValidManifest,
        },
    ];
    for case in cases {
        let guard = case
            .guard
            .unwrap_or_else(|| Guard::from_str(MANIFEST, "authorizations.toml").unwrap());
        // A guard without a manifest has no organisation: name it on the builder.
        let Some(journal) = journal(backend).await else {
            return;
        };
        let transport = CountingTransport::new(journal.clone());
        let mut builder = Client::builder()
            .environment(case.env)
            .organization("0212344876".parse().unwrap())
            .application("pipeline-test", "1.0.0")
            .contact_email("it@cpas-fictiveville.example")
            .guard(Arc::new(guard))
            .journal(journal.clone())
            .transport(transport.clone())
            .clock(Arc::new(FixedClock(case.when)))
            // The guard of these cases requires no signature (see the production tests).
            .allow_unsigned_manifest();
        if let Some(p) = case.program {
            builder = builder.program(ProgramId::new(p).unwrap());
        }
        let client = builder.build().unwrap();
        let err = client
            .call(&ctx(case.purpose), &case.request)
            .await
            .expect_err(case.name);
        match err.kind() {
            ErrorKind::Denied(denial) => {
                assert_eq!(denial.reason, case.expected, "{}: {denial}", case.name);
                assert!(!denial.message.is_empty(), "{}", case.name);
            }
            other => panic!("{}: expected a denial, got {other:?}", case.name),
        }
        assert_eq!(transport.bytes.load(Ordering::SeqCst), 0, "{}", case.name);
        let records = call_records(journal.recorded().await);
        assert_eq!(records.len(), 1, "{}", case.name);
        let Record::Denial(denial) = &records[0] else {
            panic!("{}: expected a denial record, got {records:?}", case.name);
        };
        assert_eq!(denial.reason_code, case.expected.code(), "{}", case.name);
        assert_eq!(denial.who.user_id, "agent-042");
        assert_eq!(denial.what.purpose, case.purpose);
        assert_eq!(denial.what.subjects, vec!["68070100188".to_string()]);
        assert_eq!(denial.stage, "guard", "{}", case.name);
        assert_eq!(
            denial.manifest,
            client.guard().manifest_ref(),
            "{}: the denial names the manifest in force",
            case.name
        );
    }
}

async fn a_call_without_a_user_is_refused_and_journaled(backend: Backend) {
    let Some(s) = setup(backend, Environment::Test, at(2026, 6, 1)).await else {
        return;
    };
    let anonymous = CallContext::new(Actor::new("  "), "PCSA:SOCIAL_INQUIRY");
    let err = s.client.call(&anonymous, &tx25()).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::MissingUser(_)), "{err:?}");
    assert_eq!(s.transport.bytes.load(Ordering::SeqCst), 0);
    let records = call_records(s.journal.recorded().await);
    assert!(
        matches!(&records[..], [Record::Denial(d)] if d.reason_code == "missing_user" && d.stage == "before_guard")
    );
}

#[tokio::test]
async fn a_journal_that_cannot_write_refuses_the_call() {
    let memory = Arc::new(MemoryJournal::default());
    let s = setup_with(
        memory.clone(),
        Environment::Test,
        Guard::from_str(MANIFEST, "authorizations.toml").unwrap(),
        Arc::new(FixedClock(at(2026, 6, 1))),
        None,
    );
    // The journal fails once the client is built (it refuses to build on one that
    // already fails: see below).
    memory.fail.store(true, Ordering::SeqCst);
    let err = s
        .client
        .call(&ctx("PCSA:SOCIAL_INQUIRY"), &tx25())
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::JournalRefused(_)),
        "{err:?}"
    );
    assert!(err.to_string().contains("nothing was sent"), "{err}");
    assert_eq!(s.transport.bytes.load(Ordering::SeqCst), 0);
    // A denial that cannot be journaled is refused with the journal's error.
    let err = s.client.call(&ctx("MARKETING"), &tx25()).await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::JournalRefused(_)),
        "{err:?}"
    );
    assert_eq!(s.transport.bytes.load(Ordering::SeqCst), 0);
    // A client is not built on a journal that cannot record the manifest it starts with.
    let journal = Arc::new(MemoryJournal::default());
    journal.fail.store(true, Ordering::SeqCst);
    let err = Client::builder()
        .environment(Environment::Test)
        .application("pipeline-test", "1.0.0")
        .guard(Arc::new(
            Guard::from_str(MANIFEST, "authorizations.toml").unwrap(),
        ))
        .journal(journal.clone())
        .transport(CountingTransport::new(journal))
        .build()
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::JournalRefused(_)),
        "{err:?}"
    );
}

#[derive(Debug)]
struct BrokenClock;

impl Clock for BrokenClock {
    fn now(&self) -> Result<DateTime<Utc>, ClockError> {
        Err(ClockError::BeforeFloor {
            now: Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap(),
            floor: Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
        })
    }
}

async fn an_untrustworthy_clock_refuses_the_call(backend: Backend) {
    let Some(journal) = journal(backend).await else {
        return;
    };
    let s = setup_with(
        journal,
        Environment::Test,
        Guard::from_str(MANIFEST, "authorizations.toml").unwrap(),
        Arc::new(BrokenClock),
        None,
    );
    let err = s
        .client
        .call(&ctx("PCSA:SOCIAL_INQUIRY"), &tx25())
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Clock(_)), "{err:?}");
    assert!(err.to_string().contains("NTP"), "{err}");
    assert_eq!(s.transport.bytes.load(Ordering::SeqCst), 0);
}

#[test]
fn the_builder_refuses_an_organisation_the_manifest_is_not_for() {
    let journal = Arc::new(MemoryJournal::default());
    let err = Client::builder()
        .environment(Environment::Test)
        .organization("0123456749".parse().unwrap())
        .application("pipeline-test", "1.0.0")
        .guard(Arc::new(
            Guard::from_str(MANIFEST, "authorizations.toml").unwrap(),
        ))
        .journal(journal.clone())
        .transport(CountingTransport::new(journal))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("0212344876"), "{err}");
}

async fn a_manifest_reload_changes_decisions_without_restarting(backend: Backend) {
    let Some(s) = setup(backend, Environment::Test, at(2026, 6, 1)).await else {
        return;
    };
    assert!(
        s.client
            .call(&ctx("PCSA:SOCIAL_INQUIRY"), &tx25())
            .await
            .is_ok()
    );
    let narrowed = MANIFEST.replace(
        "purpose = \"PCSA:SOCIAL_INQUIRY\"\nprogram",
        "purpose = \"PCSA:OTHER\"\nprogram",
    );
    s.client
        .guard()
        .reload_from_str(&narrowed, "authorizations.toml")
        .unwrap();
    let err = s
        .client
        .call(&ctx("PCSA:SOCIAL_INQUIRY"), &tx25())
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Denied(d) if d.reason == DenialReason::PurposeNotAuthorized),
        "{err:?}"
    );
    // A reload that fails validation keeps the last good manifest.
    assert!(
        s.client
            .guard()
            .reload_from_str("[organization]\ncbe = 1", "bad.toml")
            .is_err()
    );
    assert!(s.client.call(&ctx("PCSA:OTHER"), &tx25()).await.is_ok());
}
