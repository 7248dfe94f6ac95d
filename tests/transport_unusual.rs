//! Unusual replies that are a transport matter, from a loopback server: a reply a proxy
//! compressed although bcss asked for `identity` (gzip, deflate: decoded, bounded by the
//! cap after decompression), a coding bcss cannot undo (named), and a reply whose body
//! stalls after its headers arrived (a time-out that does not blame an unregistered IP).

mod pipeline_support;
mod transport_support;

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use bcss::services::ServiceRequest;
use bcss::services::retrieve_ti_groups::RetrieveTi;
use bcss::soap::Limits;
use bcss::transport::TransportError;
use bcss::transport::http::HttpTransport;
use flate2::Compression;
use flate2::write::{GzEncoder, ZlibEncoder};
use transport_support::{REPLY, Reply, send, send_capped, start};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn compressed(encoding: &str, body: Vec<u8>) -> Reply {
    Reply::Fixed {
        status: 200,
        headers: vec![
            ("Content-Type".into(), "text/xml; charset=utf-8".into()),
            ("Content-Encoding".into(), encoding.into()),
        ],
        body,
    }
}

#[tokio::test]
async fn identity_is_asked_for_and_a_proxys_gzip_is_decoded() {
    // The shipped RetrieveTIGroups reply, gzip-compressed by a proxy: before, this gave
    // "invalid UTF-8 near byte 0".
    let reply = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/replies/v3/RetrieveTIGroups/ok_marc.xml"
    ))
    .unwrap();
    let mut server = start(None, compressed("gzip", gzip(&reply))).await;
    let transport = Arc::new(HttpTransport::builder().build().unwrap());
    let response = send(&transport, &server.url("http", "127.0.0.1"))
        .await
        .unwrap();
    assert_eq!(response.body, reply);
    let seen = server.next_event().await.unwrap();
    assert_eq!(seen.header("accept-encoding"), Some("identity"));
    let ssin = bcss::ids::Ssin::new("68070100188").unwrap();
    let decoded =
        RetrieveTi::new(ssin)
            .unwrap()
            .decode(response.status, &response.body, &Limits::default());
    assert!(decoded.result.is_ok(), "{:?}", decoded.result.err());
}

#[tokio::test]
async fn deflate_is_decoded() {
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    z.write_all(REPLY.as_bytes()).unwrap();
    let server = start(None, compressed("deflate", z.finish().unwrap())).await;
    let transport = Arc::new(HttpTransport::builder().build().unwrap());
    let response = send(&transport, &server.url("http", "127.0.0.1"))
        .await
        .unwrap();
    assert_eq!(response.body, REPLY.as_bytes());
}

#[tokio::test]
async fn the_cap_applies_after_decompression() {
    // 8 MiB of zeros compress to a few KiB: under the cap on the wire, over it decoded.
    let bomb = gzip(&vec![0u8; 8 * 1024 * 1024]);
    assert!(bomb.len() < 64 * 1024);
    let server = start(None, compressed("gzip", bomb)).await;
    let transport = Arc::new(HttpTransport::builder().build().unwrap());
    let url = server.url("http", "127.0.0.1");
    match send_capped(&transport, &url, 1024 * 1024).await {
        Err(TransportError::ReplyTooLarge { limit, .. }) => assert_eq!(limit, 1024 * 1024),
        other => panic!("expected ReplyTooLarge, got {other:?}"),
    }
}

#[tokio::test]
async fn unsupported_or_broken_codings_are_named() {
    let transport = Arc::new(HttpTransport::builder().build().unwrap());
    let server = start(None, compressed("br", b"\x1b\x03\x00".to_vec())).await;
    let error = send(&transport, &server.url("http", "127.0.0.1"))
        .await
        .unwrap_err();
    match &error {
        TransportError::ContentEncoding { encoding, .. } => assert_eq!(encoding, "br"),
        other => panic!("expected ContentEncoding, got {other:?}"),
    }
    assert!(error.to_string().contains("\"br\""), "{error}");

    let server = start(None, compressed("gzip", REPLY.as_bytes().to_vec())).await;
    let error = send(&transport, &server.url("http", "127.0.0.1"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, TransportError::ContentEncoding { reason, .. } if reason.contains("not valid")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_body_that_stalls_after_the_headers_is_not_blamed_on_the_source_ip() {
    // Headers and a few bytes of a 1000-byte body, then nothing.
    let server = start(None, Reply::Announce { declared: 1000 }).await;
    let transport = Arc::new(
        HttpTransport::builder()
            .call_timeout(Duration::from_millis(500))
            .build()
            .unwrap(),
    );
    let error = send(&transport, &server.url("http", "127.0.0.1"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, TransportError::Timeout { phase: "reply", .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains("headers arrived") && !text.contains("unregistered"),
        "{text}"
    );
    // Before any header, the hint stays.
    let silent = start(None, Reply::Silent).await;
    let error = send(&transport, &silent.url("http", "127.0.0.1"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, TransportError::Timeout { phase: "call", .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("unregistered source IP"),
        "{error}"
    );
}
