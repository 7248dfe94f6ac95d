//! The HTTP transport over TLS against loopback servers: mutual TLS with a throw-away CA
//! (PEM and PKCS#12 client certificates), the TLS failures a user meets (no client
//! certificate, a refused one, an untrusted server), the streamed reply cap, timeouts and
//! secret redaction. Plain-HTTP rules are in transport_http.rs. Nothing here leaves
//! 127.0.0.1.

mod pipeline_support;
mod transport_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use bcss::ids::Cbe;
use bcss::transport::http::{
    ClientCertificate, HttpTransport, HttpTransportBuilder, PasswordSource,
};
use bcss::transport::{TransportError, TransportResponse};
use tempfile::TempDir;
use transport_support::{
    Issued, PURPOSE, REPLY, Reply, Server, TestCa, action, client_for, echo_request, send,
    send_capped, start, tls_acceptor,
};

const PASSWORD: &str = "Fict1ve-Pa55word!";
const CBE: &str = "0212344876";

/// Files of one test: the CA, a client certificate, the password file.
struct Setup {
    dir: TempDir,
    ca: TestCa,
    client: Issued,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("password"), format!("{PASSWORD}\n")).unwrap();
        let ca = TestCa::new("bcss test CA");
        std::fs::write(dir.path().join("ca.pem"), ca.cert_pem()).unwrap();
        let client = ca.client();
        client.write_pem(dir.path(), "client");
        Self { dir, ca, client }
    }

    /// Trusts the test CA, sends Basic credentials; no client certificate yet.
    fn builder(&self) -> HttpTransportBuilder {
        HttpTransport::builder()
            .basic_auth(
                Cbe::new(CBE).unwrap(),
                PasswordSource::File(self.dir.path().join("password")),
            )
            .extra_root_ca(self.dir.path().join("ca.pem"))
    }

    fn pem_identity(&self) -> ClientCertificate {
        ClientCertificate::Pem {
            certificate_chain: self.dir.path().join("client.crt"),
            private_key: self.dir.path().join("client.key"),
        }
    }

    /// A server whose certificate comes from the test CA and that requires a client
    /// certificate from it.
    async fn mtls_server(&self, reply: Reply) -> Server {
        start(
            Some(tls_acceptor(&self.ca.server(), vec![], Some(&self.ca))),
            reply,
        )
        .await
    }
}

fn tls_reason(result: Result<TransportResponse, TransportError>) -> String {
    match result {
        Err(TransportError::Tls { reason, .. }) => reason,
        other => panic!("expected a TLS error, got {other:?}"),
    }
}
#[tokio::test]
async fn mutual_tls_with_client_certificate_gets_the_reply() {
    let setup = Setup::new();
    let transport = Arc::new(
        setup
            .builder()
            .client_certificate(setup.pem_identity())
            .build()
            .unwrap(),
    );
    let mut server = setup.mtls_server(Reply::ok(REPLY)).await;

    for host in ["127.0.0.1", "localhost"] {
        let url = server.url("https", host);
        let through = client_for(&transport, &url, 16 * 1024 * 1024).unwrap();
        let response = through.exchange(PURPOSE, &echo_request()).await.unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.body, REPLY.as_bytes());
        assert_eq!(
            response.content_type.as_deref(),
            Some("text/xml; charset=utf-8")
        );

        let seen = server.next_event().await.unwrap();
        assert_eq!(seen.method, "POST");
        assert_eq!(seen.path, "/SOA4520/TestService");
        let expected =
            base64::engine::general_purpose::STANDARD.encode(format!("E{CBE}:{PASSWORD}"));
        assert_eq!(
            seen.header("authorization"),
            Some(format!("Basic {expected}").as_str())
        );
        assert_eq!(
            seen.header("soapaction"),
            Some(format!("\"{}\"", action()).as_str())
        );
        assert_eq!(seen.header("content-type"), Some("text/xml; charset=utf-8"));
        assert_eq!(
            seen.header("user-agent"),
            Some(concat!("bcss/", env!("CARGO_PKG_VERSION")))
        );
        assert_eq!(
            seen.body,
            through.last_request(),
            "body sent exactly as the intent holds it"
        );
        let sent = String::from_utf8(seen.body.clone()).unwrap();
        assert!(sent.contains("<echo>é</echo>"), "{sent}");
    }
}

#[tokio::test]
async fn without_client_certificate_the_tls_error_says_it_was_required() {
    let setup = Setup::new();
    let transport = Arc::new(setup.builder().build().unwrap());
    let mut server = setup.mtls_server(Reply::ok(REPLY)).await;

    let error = send(&transport, &server.url("https", "127.0.0.1"))
        .await
        .unwrap_err();
    let text = error.to_string();
    let reason = tls_reason(Err(error));
    assert!(reason.contains("requires a client certificate"), "{reason}");
    assert!(
        text.contains("TLS handshake") && text.contains("127.0.0.1"),
        "{text}"
    );
    // The server refused the handshake, and never saw a request.
    let event = server.next_event().await.unwrap_err();
    assert!(event.contains("TLS handshake"), "{event}");
}

#[tokio::test]
async fn a_client_certificate_from_another_ca_is_refused() {
    let setup = Setup::new();
    let rogue = TestCa::new("not the CA the server trusts");
    rogue.client().write_pem(setup.dir.path(), "rogue");
    let transport = Arc::new(
        setup
            .builder()
            .client_certificate(ClientCertificate::Pem {
                certificate_chain: setup.dir.path().join("rogue.crt"),
                private_key: setup.dir.path().join("rogue.key"),
            })
            .build()
            .unwrap(),
    );
    let server = setup.mtls_server(Reply::ok(REPLY)).await;

    let reason = tls_reason(send(&transport, &server.url("https", "127.0.0.1")).await);
    assert!(
        reason.contains("refused the client certificate"),
        "{reason}"
    );
}

#[tokio::test]
async fn an_untrusted_server_certificate_fails_with_unknown_issuer() {
    let setup = Setup::new();
    let rogue = TestCa::new("a CA nobody trusts");
    let server = start(
        Some(tls_acceptor(&rogue.server(), vec![], None)),
        Reply::ok(REPLY),
    )
    .await;
    let transport = Arc::new(
        setup
            .builder()
            .client_certificate(setup.pem_identity())
            .build()
            .unwrap(),
    );

    let reason = tls_reason(send(&transport, &server.url("https", "127.0.0.1")).await);
    assert!(
        reason.contains("untrusted") && reason.contains("unknown issuer"),
        "{reason}"
    );

    // Without the extra root, the test CA itself is unknown too: Mozilla's roots alone.
    let server = setup.mtls_server(Reply::ok(REPLY)).await;
    let plain = Arc::new(HttpTransport::builder().build().unwrap());
    let reason = tls_reason(send(&plain, &server.url("https", "127.0.0.1")).await);
    assert!(reason.contains("unknown issuer"), "{reason}");
}

#[cfg(not(feature = "pkcs12"))]
#[test]
fn without_the_pkcs12_feature_a_pkcs12_certificate_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p12.pass"), "p12-Fict1ve-secret").unwrap();
    let err = HttpTransport::builder()
        .client_certificate(ClientCertificate::Pkcs12 {
            path: dir.path().join("client.p12"),
            password: PasswordSource::File(dir.path().join("p12.pass")),
        })
        .build()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, TransportError::Config(_))
            && text.contains("feature `pkcs12`")
            && text.contains("PEM"),
        "{text}"
    );
}

#[cfg(feature = "pkcs12")]
#[tokio::test]
async fn pkcs12_client_certificate() {
    let setup = Setup::new();
    let p12_password = "p12-Fict1ve-secret";
    let chain = p12_keystore::PrivateKeyChain::new(
        "client",
        p12_keystore::PrivateKey::from_der(&setup.client.key.serialize_der()).unwrap(),
        [
            p12_keystore::Certificate::from_der(&setup.client.cert_der).unwrap(),
            p12_keystore::Certificate::from_der(&setup.ca.cert_der()).unwrap(),
        ],
    );
    let mut store = p12_keystore::KeyStore::new();
    store.add_entry(
        "client",
        p12_keystore::KeyStoreEntry::PrivateKeyChain(chain),
    );
    let p12 = store.writer(p12_password).write().unwrap();
    let p12_path = setup.dir.path().join("client.p12");
    std::fs::write(&p12_path, p12).unwrap();
    std::fs::write(setup.dir.path().join("p12.pass"), p12_password).unwrap();
    std::fs::write(setup.dir.path().join("wrong.pass"), "not-the-p12-password").unwrap();

    let transport = Arc::new(
        setup
            .builder()
            .client_certificate(ClientCertificate::Pkcs12 {
                path: p12_path.clone(),
                password: PasswordSource::File(setup.dir.path().join("p12.pass")),
            })
            .build()
            .unwrap(),
    );
    let mut server = setup.mtls_server(Reply::ok(REPLY)).await;
    let response = send(&transport, &server.url("https", "127.0.0.1"))
        .await
        .unwrap();
    assert_eq!(response.body, REPLY.as_bytes());
    assert!(server.next_event().await.is_ok());
    let debug = format!("{transport:?}");
    assert!(
        !debug.contains(p12_password) && debug.contains("client.p12"),
        "{debug}"
    );

    let error = setup
        .builder()
        .client_certificate(ClientCertificate::Pkcs12 {
            path: p12_path,
            password: PasswordSource::File(setup.dir.path().join("wrong.pass")),
        })
        .build()
        .unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, TransportError::Config(_)), "{error:?}");
    assert!(
        text.contains("wrong password") && text.contains("client.p12"),
        "{text}"
    );
    assert!(
        !text.contains("not-the-p12-password") && !text.contains(p12_password),
        "{text}"
    );
}

#[tokio::test]
async fn a_streamed_reply_over_the_cap_is_cut_off() {
    let setup = Setup::new();
    let sent = Arc::new(AtomicUsize::new(0));
    let total = 256 * 1024 * 1024;
    let server = setup
        .mtls_server(Reply::Stream {
            total,
            sent: sent.clone(),
        })
        .await;
    let transport = Arc::new(
        setup
            .builder()
            .client_certificate(setup.pem_identity())
            .build()
            .unwrap(),
    );
    let cap = 1024 * 1024;
    let url = server.url("https", "127.0.0.1");
    match send_capped(&transport, &url, cap).await {
        Err(TransportError::ReplyTooLarge { limit, .. }) => assert_eq!(limit, cap),
        other => panic!("expected ReplyTooLarge, got {other:?}"),
    }
    // The client hung up early: the server could not push the 256 MiB it meant to.
    assert!(
        sent.load(Ordering::SeqCst) < total,
        "client stopped reading"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_hits_the_call_timeout() {
    let setup = Setup::new();
    let server = setup.mtls_server(Reply::Silent).await;
    let transport = Arc::new(
        setup
            .builder()
            .client_certificate(setup.pem_identity())
            .call_timeout(Duration::from_millis(800))
            .build()
            .unwrap(),
    );
    let error = send(&transport, &server.url("https", "127.0.0.1"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, TransportError::Timeout { phase: "call", .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("did not answer within 800 ms (call)"),
        "{error}"
    );
}

#[tokio::test]
async fn a_handshake_that_never_completes_hits_the_connect_timeout() {
    // The kernel completes the TCP handshake, but nobody ever accepts or speaks TLS.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let transport = Arc::new(
        HttpTransport::builder()
            .connect_timeout(Duration::from_millis(500))
            .call_timeout(Duration::from_secs(120))
            .build()
            .unwrap(),
    );
    let error = send(&transport, &format!("https://127.0.0.1:{port}/x"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            TransportError::Timeout {
                phase: "connect",
                ..
            }
        ),
        "{error:?}"
    );
    drop(silent);
}

#[test]
fn debug_output_never_shows_the_password() {
    let setup = Setup::new();
    let builder = setup.builder().client_certificate(setup.pem_identity());
    let transport = builder.clone().build().unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    for debug in [
        format!("{builder:?}"),
        format!("{transport:?}"),
        format!("{transport:#?}"),
    ] {
        assert!(!debug.contains(PASSWORD), "{debug}");
        assert!(
            !debug.contains(&b64.encode(format!("E{CBE}:{PASSWORD}"))),
            "{debug}"
        );
        assert!(!debug.contains("PRIVATE KEY"), "{debug}");
    }
    let debug = format!("{transport:?}");
    assert!(
        debug.contains("E0212344876") && debug.contains("<redacted>"),
        "{debug}"
    );
}

#[test]
fn unusable_certificate_files_are_clear_config_errors() {
    let setup = Setup::new();
    let dir = setup.dir.path();
    // A key that is not the client certificate's.
    let other = setup.ca.client();
    other.write_pem(dir, "other");
    let error = setup
        .builder()
        .client_certificate(ClientCertificate::Pem {
            certificate_chain: dir.join("client.crt"),
            private_key: dir.join("other.key"),
        })
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("does not belong"), "{error}");
    // A certificate where the key should be, and an encrypted key.
    for (content, expected) in [
        (setup.client.cert_pem.clone(), "holds no PEM private key"),
        (
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n"
                .to_owned(),
            "is encrypted",
        ),
    ] {
        std::fs::write(dir.join("bad.key"), content).unwrap();
        let error = setup
            .builder()
            .client_certificate(ClientCertificate::Pem {
                certificate_chain: dir.join("client.crt"),
                private_key: dir.join("bad.key"),
            })
            .build()
            .unwrap_err();
        assert!(matches!(error, TransportError::Config(_)));
        assert!(error.to_string().contains(expected), "{error}");
    }
    // An extra root that is not PEM.
    std::fs::write(dir.join("junk.pem"), "not a certificate").unwrap();
    let error = HttpTransport::builder()
        .extra_root_ca(dir.join("junk.pem"))
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("junk.pem"), "{error}");
}
