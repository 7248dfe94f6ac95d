//! Unit tests of the pieces that need no server (the loopback server tests are in
//! tests/transport_https.rs).

use super::*;

#[test]
fn soap_action_is_quoted_and_checked() {
    assert_eq!(
        soap_action_header("urn:be:fgov:ehealth:x").unwrap(),
        "\"urn:be:fgov:ehealth:x\""
    );
    assert_eq!(soap_action_header("").unwrap(), "\"\"");
    for bad in ["a\"b", "a\\b", "a\r\nX-Injected: 1", "é"] {
        assert!(soap_action_header(bad).is_none(), "{bad:?}");
    }
}

/// A soapAction that could inject headers is refused before anything is sent. Only the
/// client builds permits, and the catalogue refuses such a soapAction when a service is
/// described; this is the transport's own check behind it.
#[tokio::test]
async fn a_soap_action_that_could_inject_headers_is_refused_before_connecting() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/x", listener.local_addr().unwrap());
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        while let Ok((_socket, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let transport = HttpTransport::builder().build().unwrap();
    let permit = crate::transport::SendPermit::new(
        crate::Environment::Test,
        crate::services::test_connection::service(),
        "sendTestMessage",
        &url,
        "x\r\nX-Injected: yes",
        b"<x/>",
        1024,
        uuid::Uuid::nil(),
        crate::audit::Appended {
            sequence: 1,
            hash: [0; 32],
        },
    );
    assert!(matches!(
        transport.send(&permit).await,
        Err(TransportError::Http { .. })
    ));
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 0);
}
