//! The client's single call path, end to end with test doubles: the guard decides, the
//! journal records durably before anything is sent, and every refusal sends zero bytes.
//!
//! Each test runs twice: on a journal in memory, and on the PostgreSQL journal of a
//! throwaway local cluster (`postgres`; `SKIP:` without PostgreSQL).

mod pg_support;
mod pipeline_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bcss::audit::pg::{PgJournal, PgJournalConfig, PgLocation};
use bcss::audit::{Appended, AuditError, CallRecord, Journal, Record};
use bcss::client::{Actor, CallContext, Client};
use bcss::clock::{Clock, ClockError, FixedClock};
use bcss::ids::{ProgramId, Ssin};
use bcss::manifest::{DenialReason, Guard};
use bcss::transport::BoxFuture;
use bcss::{Environment, Error};
use chrono::{DateTime, TimeZone, Utc};
use pipeline_support::{CountingTransport, MANIFEST, MemoryJournal, Probe, Recorded};

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
async fn journal(backend: Backend, failing: bool) -> Option<Arc<dyn TestJournal>> {
    match backend {
        Backend::Memory => Some(Arc::new(MemoryJournal {
            fail: failing,
            ..MemoryJournal::default()
        })),
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

fn marc() -> Ssin {
    Ssin::new("68070100188").unwrap()
}

fn tx25() -> Probe {
    Probe {
        service: bcss::services::retrieve_ti_groups::service(),
        operation: "retrieveTI",
        subject: marc(),
    }
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
    Setup {
        client: builder.build().unwrap(),
        journal,
        transport,
    }
}

async fn setup(backend: Backend, env: Environment, when: DateTime<Utc>) -> Option<Setup> {
    Some(setup_with(
        journal(backend, false).await?,
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
    assert!(body.contains("<program>00912345673</program>"), "{body}");
    assert!(body.contains(&reply.ticket.to_string()));

    let records = s.journal.recorded().await;
    assert_eq!(records.len(), 2);
    let (Record::Intent(intent), Record::Outcome(outcome)) = (&records[0], &records[1]) else {
        panic!("expected intent then outcome: {records:?}");
    };
    assert_eq!(intent.ticket, reply.ticket);
    assert_eq!(outcome.ticket, reply.ticket);
    assert_eq!(intent.who.user_id, "agent-042");
    assert_eq!(intent.who.user_name.as_deref(), Some("Sam Agent"));
    assert_eq!(intent.who.program.as_deref(), Some("00912345673"));
    assert_eq!(intent.what.subjects, vec!["68070100188".to_string()]);
    assert_eq!(intent.how.authorization_id.as_deref(), Some("tx25-test"));
    assert_eq!(intent.how.deliberation.as_deref(), Some("not-applicable"));
    assert_eq!(outcome.outcome, "ok");
    assert_eq!(outcome.bcss.ticket.as_deref(), Some("bcss-ticket-1"));
    assert_eq!(outcome.http_status, Some(200));
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
        request: Probe,
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
            request: Probe {
                service: bcss::services::identify_person::service(),
                operation: "identifyPerson",
                subject: marc(),
            },
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
        let Some(journal) = journal(backend, false).await else {
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
            .clock(Arc::new(FixedClock(case.when)));
        if let Some(p) = case.program {
            builder = builder.program(ProgramId::new(p).unwrap());
        }
        let client = builder.build().unwrap();
        let err = client
            .call(&ctx(case.purpose), &case.request)
            .await
            .expect_err(case.name);
        match &err {
            Error::Denied(denial) => {
                assert_eq!(denial.reason, case.expected, "{}: {denial}", case.name);
                assert!(!denial.message.is_empty(), "{}", case.name);
            }
            other => panic!("{}: expected a denial, got {other:?}", case.name),
        }
        assert_eq!(transport.bytes.load(Ordering::SeqCst), 0, "{}", case.name);
        let records = journal.recorded().await;
        assert_eq!(records.len(), 1, "{}", case.name);
        let Record::Denial(denial) = &records[0] else {
            panic!("{}: expected a denial record, got {records:?}", case.name);
        };
        assert_eq!(denial.reason_code, case.expected.code(), "{}", case.name);
        assert_eq!(denial.who.user_id, "agent-042");
        assert_eq!(denial.what.purpose, case.purpose);
        assert_eq!(denial.what.subjects, vec!["68070100188".to_string()]);
    }
}

async fn a_call_without_a_user_is_refused_and_journaled(backend: Backend) {
    let Some(s) = setup(backend, Environment::Test, at(2026, 6, 1)).await else {
        return;
    };
    let anonymous = CallContext::new(Actor::new("  "), "PCSA:SOCIAL_INQUIRY");
    let err = s.client.call(&anonymous, &tx25()).await.unwrap_err();
    assert!(matches!(err, Error::MissingUser(_)), "{err:?}");
    assert_eq!(s.transport.bytes.load(Ordering::SeqCst), 0);
    let records = s.journal.recorded().await;
    assert!(matches!(&records[..], [Record::Denial(d)] if d.reason_code == "missing_user"));
}

/// On PostgreSQL: a stopped database (tests/client_journal_faults.rs).
#[tokio::test]
async fn a_journal_that_cannot_write_refuses_the_call() {
    let s = setup_with(
        journal(Backend::Memory, true).await.unwrap(),
        Environment::Test,
        Guard::from_str(MANIFEST, "authorizations.toml").unwrap(),
        Arc::new(FixedClock(at(2026, 6, 1))),
        None,
    );
    let err = s
        .client
        .call(&ctx("PCSA:SOCIAL_INQUIRY"), &tx25())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::JournalRefused(_)), "{err:?}");
    assert!(err.to_string().contains("nothing was sent"), "{err}");
    assert_eq!(s.transport.bytes.load(Ordering::SeqCst), 0);
    // A denial that cannot be journaled is refused with the journal's error.
    let err = s.client.call(&ctx("MARKETING"), &tx25()).await.unwrap_err();
    assert!(matches!(err, Error::JournalRefused(_)), "{err:?}");
    assert_eq!(s.transport.bytes.load(Ordering::SeqCst), 0);
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
    let Some(journal) = journal(backend, false).await else {
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
    assert!(matches!(err, Error::Clock(_)), "{err:?}");
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
        matches!(&err, Error::Denied(d) if d.reason == DenialReason::PurposeNotAuthorized),
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
