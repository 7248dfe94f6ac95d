//! Query, show and prune.

#[path = "audit_support/mod.rs"]
mod support;

use bcss::audit::{self, FileJournal, Journal, QueryFilter};
use chrono::{Duration, Utc};
use support::*;
use uuid::Uuid;

struct Fixture {
    tmp: tempfile::TempDir,
    alice_ok: Uuid,
    bob_error: Uuid,
    carol_denied: Uuid,
    dave_pending: Uuid,
    alice_binary: Uuid,
}

async fn fixture() -> Fixture {
    let tmp = tempdir();
    let j = FileJournal::open(config(tmp.path())).await.unwrap();
    let (alice_ok, bob_error, carol_denied, dave_pending, alice_binary) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    let records = vec![
        intent(alice_ok, "alice", "IdentifyPerson", &ssin(1), 50),
        intent(bob_error, "bob", "HealthCareInsurance", &ssin(2), 50),
        outcome(alice_ok, "ok", Some(b"<reply>alice</reply>")),
        denial(carol_denied, "carol", "IdentifyPerson", &ssin(1)),
        intent(dave_pending, "dave", "IdentifyPerson", &ssin(3), 50),
        outcome(
            bob_error,
            "business_error",
            Some(b"<reply>MSG00012</reply>"),
        ),
        intent(alice_binary, "alice", "IdentifyPerson", &ssin(2), 50),
        outcome(alice_binary, "ok", Some(&[0xff, 0xfe, 0x00, 0x01])),
    ];
    for r in records {
        j.append(r).await.unwrap();
    }
    j.close().await.unwrap();
    Fixture {
        tmp,
        alice_ok,
        bob_error,
        carol_denied,
        dave_pending,
        alice_binary,
    }
}

fn tickets(f: &Fixture, filter: QueryFilter) -> Vec<Uuid> {
    let r = audit::query(f.tmp.path(), &filter).unwrap();
    assert!(r.problem.is_none());
    r.tickets().collect()
}

#[tokio::test]
async fn who_consulted_this_person() {
    let f = fixture().await;
    let s = ssin(1);
    // Written the way people write SSINs: punctuation is ignored.
    let formatted = format!(
        "{}.{}.{}-{}.{}",
        &s[0..2],
        &s[2..4],
        &s[4..6],
        &s[6..9],
        &s[9..]
    );
    let by_subject = QueryFilter {
        subject: Some(formatted),
        ..Default::default()
    };
    assert_eq!(tickets(&f, by_subject), vec![f.alice_ok, f.carol_denied]);
    let r = audit::query(
        f.tmp.path(),
        &QueryFilter {
            subject: Some(s),
            ..Default::default()
        },
    )
    .unwrap();
    let exchanges: Vec<_> = r.exchanges().map(Result::unwrap).collect();
    assert_eq!(exchanges[0].status(), "ok");
    assert_eq!(exchanges[0].who().unwrap().user_id, "alice");
    assert_eq!(
        exchanges[0].sequences,
        vec![2, 4],
        "after the genesis record"
    );
    assert_eq!(exchanges[1].status(), "denied");
    assert_eq!(
        exchanges[1].denial.as_ref().unwrap().reason_code,
        "purpose_not_authorized"
    );
}

#[tokio::test]
async fn filters_combine() {
    let f = fixture().await;
    let q = |filter| tickets(&f, filter);
    assert_eq!(
        q(QueryFilter {
            who: Some("alice".into()),
            ..Default::default()
        }),
        vec![f.alice_ok, f.alice_binary]
    );
    assert_eq!(
        q(QueryFilter {
            service: Some("healthcareinsurance".into()),
            ..Default::default()
        }),
        vec![f.bob_error]
    );
    assert_eq!(
        q(QueryFilter {
            outcome: Some("business_error".into()),
            ..Default::default()
        }),
        vec![f.bob_error]
    );
    assert_eq!(
        q(QueryFilter {
            outcome: Some("no_outcome".into()),
            ..Default::default()
        }),
        vec![f.dave_pending]
    );
    assert_eq!(
        q(QueryFilter {
            outcome: Some("denied".into()),
            ..Default::default()
        }),
        vec![f.carol_denied]
    );
    assert_eq!(
        q(QueryFilter {
            who: Some("alice".into()),
            subject: Some(ssin(2)),
            ..Default::default()
        }),
        vec![f.alice_binary]
    );
    let now = Utc::now();
    assert_eq!(
        q(QueryFilter {
            since: Some(now - Duration::hours(1)),
            until: Some(now + Duration::hours(1)),
            ..Default::default()
        })
        .len(),
        5
    );
    assert!(
        q(QueryFilter {
            since: Some(now + Duration::hours(1)),
            ..Default::default()
        })
        .is_empty()
    );
    assert!(
        q(QueryFilter {
            until: Some(now - Duration::hours(1)),
            ..Default::default()
        })
        .is_empty()
    );
}

#[tokio::test]
async fn show_returns_request_and_reply() {
    let f = fixture().await;
    let e = audit::show(f.tmp.path(), f.bob_error).unwrap().unwrap();
    let request = e.intent.as_ref().unwrap().request.to_bytes();
    assert!(String::from_utf8(request).unwrap().contains(&ssin(2)));
    let outcome = e.outcome.as_ref().unwrap();
    assert_eq!(outcome.code.as_deref(), Some("MSG00012"));
    assert_eq!(
        outcome.reply.as_ref().unwrap().to_bytes(),
        b"<reply>MSG00012</reply>"
    );
    let binary = audit::show(f.tmp.path(), f.alice_binary).unwrap().unwrap();
    let reply = binary.outcome.unwrap().reply.unwrap();
    assert_eq!(reply.encoding(), "binary");
    assert_eq!(reply.to_bytes(), vec![0xff, 0xfe, 0x00, 0x01]);
    let pending = audit::show(f.tmp.path(), f.dave_pending).unwrap().unwrap();
    assert_eq!(pending.status(), "no_outcome");
    assert!(audit::show(f.tmp.path(), Uuid::now_v7()).unwrap().is_none());
}

#[tokio::test]
async fn verify_reports_intents_without_outcome() {
    let f = fixture().await;
    let report = audit::verify(f.tmp.path(), &plain()).unwrap();
    assert!(report.is_ok());
    let pending: Vec<Uuid> = report
        .intents_without_outcome
        .iter()
        .map(|p| p.ticket)
        .collect();
    assert_eq!(pending, vec![f.dave_pending]);
    // After the genesis record (sequence 1).
    assert_eq!(report.intents_without_outcome[0].sequence, 6);
}

async fn multi_segment_journal() -> tempfile::TempDir {
    let tmp = tempdir();
    let mut c = config(tmp.path());
    c.segment_max_bytes = 4096;
    let j = FileJournal::open(c).await.unwrap();
    for i in 0..30 {
        j.append(intent(Uuid::now_v7(), &format!("u{i}"), "S", &ssin(5), 500))
            .await
            .unwrap();
    }
    j.close().await.unwrap();
    tmp
}

#[tokio::test]
async fn prune_keeps_everything_younger_than_ten_years() {
    let tmp = multi_segment_journal().await;
    let before = segments(tmp.path());
    let far_future = Utc::now() + Duration::days(365 * 20);
    let report = audit::prune(config(tmp.path()), far_future).await.unwrap();
    assert!(report.removed.is_empty());
    assert!(
        report
            .kept_because
            .unwrap()
            .contains("not before the cut-off")
    );
    assert_eq!(segments(tmp.path()), before);
}

#[tokio::test]
async fn prune_removes_old_segments_and_the_rest_still_verifies() {
    let tmp = multi_segment_journal().await;
    let segs = segments(tmp.path());
    assert!(segs.len() >= 4);
    let report_before = audit::verify(tmp.path(), &plain()).unwrap();
    let head = report_before.head.unwrap();
    // Eleven years from now, everything written today is older than 10 years.
    let later = eleven_years_later();
    let report = audit::prune_at(later_config(tmp.path()), later, later)
        .await
        .unwrap();
    assert_eq!(
        report.removed.len(),
        segs.len() - 1,
        "all but the last segment"
    );
    assert!(report.kept_because.unwrap().contains("last segment"));
    // The last segment is left, and the one the prune record went to (written 11 years
    // later, a new UTC day).
    let left = segments(tmp.path());
    assert_eq!(left.len(), 2);
    assert_eq!(left[0], segs.last().unwrap().clone());
    // Verified 11 years later, when the prune record was written.
    let then = bcss::audit::VerifyOptions {
        now: Some(later),
        ..trusting(&head.into())
    };
    let verified = audit::verify(tmp.path(), &then).unwrap();
    assert!(verified.is_ok(), "{:?}", verified.problem);
    assert_eq!(verified.anchored_at, report.first_remaining_sequence);
    assert_eq!(verified.attested_by_prune, report.prune_record);
    assert!(verified.trusted_head_confirmed);
    // The journal can be reopened and appended to after a prune.
    let j = FileJournal::open(later_config(tmp.path())).await.unwrap();
    j.append(intent(Uuid::now_v7(), "u", "S", &ssin(5), 10))
        .await
        .unwrap();
    j.close().await.unwrap();
    let then = bcss::audit::VerifyOptions {
        now: Some(later),
        ..plain()
    };
    assert!(audit::verify(tmp.path(), &then).unwrap().is_ok());
}

/// 11 years and a few days from now (records written today are then older than 10 years).
fn eleven_years_later() -> chrono::DateTime<Utc> {
    static LATER: std::sync::OnceLock<chrono::DateTime<Utc>> = std::sync::OnceLock::new();
    *LATER.get_or_init(|| Utc::now() + Duration::days(365 * 11 + 3))
}

/// A journal configuration whose clock is [`eleven_years_later`], so that a prune then
/// is written then.
fn later_config(dir: &std::path::Path) -> bcss::audit::FileJournalConfig {
    let mut c = config(dir);
    c.clock = eleven_years_later;
    c
}

#[tokio::test]
async fn prune_stops_at_the_before_date() {
    let tmp = multi_segment_journal().await;
    let segs = segments(tmp.path());
    let later = eleven_years_later();
    // Before a date earlier than every record: nothing goes, even 11 years later.
    let early = Utc::now() - Duration::days(1);
    let report = audit::prune_at(later_config(tmp.path()), early, later)
        .await
        .unwrap();
    assert!(report.removed.is_empty());
    assert_eq!(segments(tmp.path()), segs);
}

#[tokio::test]
async fn prune_refuses_a_damaged_journal() {
    let tmp = multi_segment_journal().await;
    let segs = segments(tmp.path());
    let mut bytes = std::fs::read(&segs[1]).unwrap();
    bytes[200] ^= 1;
    std::fs::write(&segs[1], &bytes).unwrap();
    let later = eleven_years_later();
    let err = audit::prune_at(later_config(tmp.path()), later, later)
        .await
        .unwrap_err();
    assert!(matches!(err, audit::AuditError::Damaged { .. }), "{err}");
    assert_eq!(segments(tmp.path()), segs);
}
