//! Tracing: one span per call with service, operation, environment and our ticket, and
//! SSINs masked. Its own test binary: tracing caches which callsites are enabled
//! process-wide, so other tests running without a subscriber must not share the process.

mod pipeline_support;

use std::sync::{Arc, Mutex};

use bcss::Environment;
use bcss::client::{Actor, CallContext, Client};
use bcss::clock::FixedClock;
use bcss::manifest::Guard;
use chrono::{TimeZone, Utc};
use pipeline_support::{CountingTransport, MANIFEST, MemoryJournal, tx25};

fn ctx(purpose: &str) -> CallContext {
    CallContext::new(Actor::new("agent-042").with_name("Sam Agent"), purpose)
}

/// A writer that keeps what tracing prints.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn tracing_has_one_span_per_call_and_masks_ssins() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    // Global, not per thread: the only test in this binary.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let journal = Arc::new(MemoryJournal::default());
    let client = Client::builder()
        .environment(Environment::Test)
        .application("tracing-test", "1.0.0")
        .guard(Arc::new(
            Guard::from_str(MANIFEST, "authorizations.toml").unwrap(),
        ))
        .journal(journal.clone())
        .transport(CountingTransport::new(journal))
        .clock(Arc::new(FixedClock(
            Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap(),
        )))
        .build()
        .unwrap();
    let reply = client
        .call(&ctx("PCSA:SOCIAL_INQUIRY"), &tx25())
        .await
        .unwrap();
    let _ = client.call(&ctx("MARKETING"), &tx25()).await.unwrap_err();

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        !text.contains("68070100188"),
        "a full SSIN reached tracing:\n{text}"
    );
    assert!(text.contains("680701*****"), "{text}");
    let closed = text
        .lines()
        .filter(|l| l.contains("bcss.call{") && l.contains("close time.busy"))
        .count();
    assert_eq!(closed, 2, "one span per call:\n{text}");
    assert!(text.contains("service=\"RetrieveTIGroups\""), "{text}");
    assert!(text.contains("operation=\"retrieveTI\""), "{text}");
    assert!(text.contains("environment=\"test\""), "{text}");
    assert!(text.contains(&format!("ticket={}", reply.ticket)), "{text}");
    assert!(text.contains("outcome=\"denied\""), "{text}");
}
