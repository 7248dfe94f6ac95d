//! The HTTP transport's rules without TLS, against loopback servers: plain http:// only
//! to loopback (refused beyond it before anything reaches the network), no proxy from
//! the environment, redirects not followed, statuses returned with their body, the
//! announced-length cap, connect errors, password sources. Every request goes through a
//! client, the only way a transport sends (header injection through a soapAction is
//! refused by the catalogue and by the transport's unit tests).

mod pipeline_support;
mod transport_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bcss::ids::Cbe;
use bcss::transport::TransportError;
use bcss::transport::http::{HttpTransport, PasswordSource};
use transport_support::{REPLY, Reply, client_for, echo_request, send, send_capped, start};

const CBE: &str = "0212344876";

#[tokio::test]
async fn plain_http_beyond_loopback_is_refused_before_connecting() {
    // A proxy that counts connections: had the transport tried to send any of these
    // requests, it would have gone there (the proxy applies to every non-loopback host).
    let trap = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let trap_port = trap.local_addr().unwrap().port();
    let attempts = Arc::new(AtomicUsize::new(0));
    let counter = attempts.clone();
    tokio::spawn(async move {
        while let Ok((_socket, _)) = trap.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let transport = Arc::new(
        HttpTransport::builder()
            .proxy(format!("http://127.0.0.1:{trap_port}"))
            .build()
            .unwrap(),
    );

    for endpoint in [
        "http://bcssksz-services-test.smals.be/SOA4520/TestConnectionServiceService",
        "http://bcss-loopback-test.invalid/SOA4520/x",
        "http://10.255.255.1/SOA4520/x",
        "http://[2001:db8::1]/SOA4520/x",
        "http://127.0.0.1.example/SOA4520/x",
        "http://localhost.example/SOA4520/x",
        "ftp://127.0.0.1/x",
        "not a url",
        "https://",
        "https://E0212344876:hunter2-secret@127.0.0.1/x",
    ] {
        // Through a client, the only way a transport sends: a URL that is not an http(s)
        // URL with a host is already refused by the client's endpoint configuration; the
        // transport refuses the others before connecting.
        let text = match client_for(&transport, endpoint, 1 << 20) {
            Err(config) => {
                assert!(config.contains("is not usable"), "{endpoint}: {config}");
                config
            }
            Ok(through) => {
                let error = through
                    .exchange(transport_support::PURPOSE, &echo_request())
                    .await
                    .unwrap_err();
                assert!(
                    matches!(error, TransportError::Endpoint { .. }),
                    "{endpoint}: {error:?}"
                );
                error.to_string()
            }
        };
        assert!(!text.contains("hunter2-secret"), "{text}");
    }
    let error = send(
        &transport,
        "http://bcssksz-services-test.smals.be/SOA4520/x",
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("loopback"), "{error}");
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        0,
        "nothing reached the network"
    );
}

#[tokio::test]
async fn plain_http_to_loopback_works_and_bypasses_the_proxy() {
    let trap = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let trap_port = trap.local_addr().unwrap().port();
    let transport = Arc::new(
        HttpTransport::builder()
            .proxy(format!("http://127.0.0.1:{trap_port}"))
            .build()
            .unwrap(),
    );
    let mut server = start(None, Reply::ok(REPLY)).await;
    for host in ["127.0.0.1", "localhost"] {
        let response = send(&transport, &server.url("http", host)).await.unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.body, REPLY.as_bytes());
        assert!(server.next_event().await.is_ok());
    }
    drop(trap);
}

#[tokio::test]
async fn an_announced_length_over_the_cap_is_refused_up_front() {
    let server = start(
        None,
        Reply::Announce {
            declared: 10 * 1024 * 1024 * 1024,
        },
    )
    .await;
    // The server never sends the body it announced: only the up-front check can end
    // this call before the (long) call timeout.
    let transport = Arc::new(
        HttpTransport::builder()
            .call_timeout(Duration::from_secs(120))
            .build()
            .unwrap(),
    );
    let url = server.url("http", "127.0.0.1");
    assert!(matches!(
        send_capped(&transport, &url, 1024 * 1024).await,
        Err(TransportError::ReplyTooLarge {
            limit: 1_048_576,
            ..
        })
    ));
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let transport = Arc::new(HttpTransport::builder().build().unwrap());
    let error = send(&transport, &format!("http://127.0.0.1:{port}/x"))
        .await
        .unwrap_err();
    match &error {
        TransportError::Connect { reason, .. } => {
            assert!(reason.to_lowercase().contains("refused"), "{reason}")
        }
        other => panic!("expected a connect error, got {other:?}"),
    }
}

#[tokio::test]
async fn redirects_are_returned_not_followed_and_faults_come_back_with_their_body() {
    let mut server = start(
        None,
        Reply::Fixed {
            status: 302,
            headers: vec![("Location".into(), "http://127.0.0.1:9/elsewhere".into())],
            body: Vec::new(),
        },
    )
    .await;
    let transport = Arc::new(HttpTransport::builder().build().unwrap());
    let response = send(&transport, &server.url("http", "127.0.0.1"))
        .await
        .unwrap();
    assert_eq!(response.status, 302);
    assert!(server.next_event().await.is_ok());
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);

    let fault = "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>x</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>";
    let server = start(
        None,
        Reply::Fixed {
            status: 500,
            headers: vec![],
            body: fault.as_bytes().to_vec(),
        },
    )
    .await;
    let response = send(&transport, &server.url("http", "127.0.0.1"))
        .await
        .unwrap();
    assert_eq!(response.status, 500);
    assert_eq!(response.body, fault.as_bytes());
    assert_eq!(response.content_type, None);
}

#[test]
fn password_sources_that_are_missing_or_empty_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let cbe = Cbe::new(CBE).unwrap();
    let build = |source: PasswordSource| {
        HttpTransport::builder()
            .basic_auth(cbe.clone(), source)
            .build()
            .unwrap_err()
            .to_string()
    };
    let text = build(PasswordSource::Env(
        "BCSS_TEST_PASSWORD_THAT_IS_NOT_SET_5E1F".into(),
    ));
    assert!(
        text.contains("BCSS_TEST_PASSWORD_THAT_IS_NOT_SET_5E1F") && text.contains("not set"),
        "{text}"
    );
    let missing = dir.path().join("no-such-password-file");
    let text = build(PasswordSource::File(missing));
    assert!(text.contains("no-such-password-file"), "{text}");
    let empty = dir.path().join("empty-password");
    std::fs::write(&empty, "\n").unwrap();
    let text = build(PasswordSource::File(empty));
    assert!(
        text.contains("empty-password") && text.contains("is empty"),
        "{text}"
    );
}

#[tokio::test]
async fn the_reply_cap_is_inclusive() {
    let body = vec![b'x'; 4096];
    let reply = Reply::Fixed {
        status: 200,
        headers: vec![],
        body: body.clone(),
    };
    let transport = Arc::new(HttpTransport::builder().build().unwrap());
    let server = start(None, reply.clone()).await;
    let url = server.url("http", "127.0.0.1");
    let response = send_capped(&transport, &url, 4096).await.unwrap();
    assert_eq!(response.body, body);
    assert!(matches!(
        send_capped(&transport, &url, 4095).await,
        Err(TransportError::ReplyTooLarge { limit: 4095, .. })
    ));
}
