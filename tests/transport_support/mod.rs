//! Loopback test rig for the HTTP transport: a throw-away PKI made with rcgen, and a
//! minimal HTTP/1.1 responder over plain TCP or rustls (optionally requiring a client
//! certificate). Everything binds to 127.0.0.1; nothing reaches beyond this machine.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bcss::Environment;
use bcss::endpoints::Endpoints;
use bcss::services::generic::GenericRequest;
use bcss::services::{Service, test_connection};
use bcss::soap::Limits;
use bcss::transport::http::HttpTransport;
use bcss::transport::{TransportError, TransportResponse};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;

use crate::pipeline_support::{Rig, Through, rig};

/// The SOAPAction of the test requests: TestConnection's `sendTestMessage`.
pub fn action() -> &'static str {
    test_connection::service()
        .soap_action("sendTestMessage")
        .unwrap()
}

/// The business part of the test requests (with a non-ASCII character, sent as UTF-8).
pub const ECHO: &str = "<echo>é</echo>";
/// The body of a successful reply.
pub const REPLY: &str = "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><pong/></soapenv:Body></soapenv:Envelope>";
/// The purpose the test client is granted TestConnection for.
pub const PURPOSE: &str = "connectivity check";

/// The TestConnection request the tests send, made generically.
pub fn echo_request() -> GenericRequest {
    GenericRequest::new(test_connection::service(), "sendTestMessage", ECHO).unwrap()
}

/// A client (test environment) that sends TestConnection to `endpoint` through
/// `transport`, with replies capped at `max_reply_bytes`; an endpoint the client cannot be
/// configured with is the configuration's error.
pub fn client_for(
    transport: &Arc<HttpTransport>,
    endpoint: &str,
    max_reply_bytes: usize,
) -> Result<Through, String> {
    rig_for(
        transport,
        test_connection::service(),
        PURPOSE,
        endpoint,
        max_reply_bytes,
    )
    .map(Rig::build)
}

/// A [`Rig`] (test environment) granting `service` for `purpose`, whose client sends it to
/// `endpoint` through `transport`, with replies capped at `max_reply_bytes`.
pub fn rig_for(
    transport: &Arc<HttpTransport>,
    service: &Service,
    purpose: &str,
    endpoint: &str,
    max_reply_bytes: usize,
) -> Result<Rig, String> {
    let endpoints = Endpoints::defaults()
        .with_service_url(Environment::Test, service, endpoint)
        .map_err(|e| e.to_string())?;
    let r = rig(transport.clone(), Environment::Test, &[(service, purpose)]);
    let limits = Limits {
        max_bytes: max_reply_bytes,
        ..Limits::default()
    };
    Ok(Rig {
        builder: r.builder.endpoints(endpoints).limits(limits),
        journal: r.journal,
    })
}

/// Sends [`echo_request`] to `endpoint` through a client, replies capped at
/// `max_reply_bytes`: what the transport answered (as the journal keeps it) or its error.
pub async fn send_capped(
    transport: &Arc<HttpTransport>,
    endpoint: &str,
    max_reply_bytes: usize,
) -> Result<TransportResponse, TransportError> {
    let through = client_for(transport, endpoint, max_reply_bytes)
        .unwrap_or_else(|e| panic!("the client refused endpoint {endpoint}: {e}"));
    through.exchange(PURPOSE, &echo_request()).await
}

/// [`send_capped`] with a 16 MiB reply cap.
pub async fn send(
    transport: &Arc<HttpTransport>,
    endpoint: &str,
) -> Result<TransportResponse, TransportError> {
    send_capped(transport, endpoint, 16 * 1024 * 1024).await
}

/// A certificate authority that can issue server and client certificates.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// An issued certificate with its key.
pub struct Issued {
    pub cert_pem: String,
    pub cert_der: CertificateDer<'static>,
    pub key: KeyPair,
}

impl TestCa {
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Self { issuer }
    }

    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    pub fn cert_der(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }

    /// A server certificate for 127.0.0.1 and localhost.
    pub fn server(&self) -> Issued {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "bcss loopback test server");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue(params)
    }

    /// A client certificate (fictitious organisation).
    pub fn client(&self) -> Issued {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "E0212344876 test client");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.issue(params)
    }

    fn issue(&self, params: CertificateParams) -> Issued {
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Issued {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            key,
        }
    }
}

impl Issued {
    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.serialize_der()))
    }

    /// Writes `<name>.crt` and `<name>.key` (PEM) into `dir`.
    pub fn write_pem(&self, dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let cert = dir.join(format!("{name}.crt"));
        let key = dir.join(format!("{name}.key"));
        std::fs::write(&cert, &self.cert_pem).unwrap();
        std::fs::write(&key, self.key.serialize_pem()).unwrap();
        (cert, key)
    }
}

/// How the responder answers.
#[derive(Clone)]
pub enum Reply {
    /// A complete reply with `Content-Length`.
    Fixed {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// A chunked reply of `total` bytes, written 64 KiB at a time; the bytes actually
    /// written before the client hung up are counted in `sent`.
    Stream {
        total: usize,
        sent: Arc<AtomicUsize>,
    },
    /// Announces `Content-Length: declared`, sends a few bytes, then waits forever.
    Announce { declared: u64 },
    /// Reads the request and never answers.
    Silent,
    /// Announces `Content-Length: declared`, sends `body` (shorter), then closes the
    /// connection: a reply cut off mid-body.
    Cut { declared: u64, body: Vec<u8> },
    /// A complete 200 reply with `Content-Length`, its head at once, then its body
    /// `piece` bytes at a time, waiting `every` before each piece.
    Dribble {
        body: Vec<u8>,
        piece: usize,
        every: Duration,
    },
    /// Reads the request, then closes the connection without a byte of reply.
    Hangup,
    /// Speaks no HTTP: on the first bytes the client sends (a TLS ClientHello), answers
    /// with these bytes and closes.
    Garbage(Vec<u8>),
}

impl Reply {
    pub fn ok(body: &str) -> Self {
        Reply::Fixed {
            status: 200,
            headers: vec![("Content-Type".into(), "text/xml; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
        }
    }
}

/// A request as the responder read it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the server observed per connection: the request, or why the connection failed
/// (TLS handshake error, malformed request...).
pub type Event = Result<Seen, String>;

/// A running loopback server.
pub struct Server {
    pub port: u16,
    pub events: mpsc::UnboundedReceiver<Event>,
    pub connections: Arc<AtomicUsize>,
}

impl Server {
    pub fn url(&self, scheme: &str, host: &str) -> String {
        format!("{scheme}://{host}:{}/SOA4520/TestService", self.port)
    }

    pub async fn next_event(&mut self) -> Event {
        self.events.recv().await.expect("server stopped")
    }
}

/// A TLS server configuration with `server` as its certificate; when `client_ca` is
/// given, a client certificate issued by it is REQUIRED.
pub fn tls_acceptor(
    server: &Issued,
    chain: Vec<CertificateDer<'static>>,
    client_ca: Option<&TestCa>,
) -> TlsAcceptor {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(ca.cert_der()).unwrap();
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut certs = vec![server.cert_der.clone()];
    certs.extend(chain);
    let config = builder.with_single_cert(certs, server.key_der()).unwrap();
    TlsAcceptor::from(Arc::new(config))
}

/// Starts a server on 127.0.0.1 answering every request with `reply`, over TLS when
/// `tls` is given.
pub async fn start(tls: Option<TlsAcceptor>, reply: Reply) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, events) = mpsc::unbounded_channel();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            let tx = tx.clone();
            let tls = tls.clone();
            let reply = reply.clone();
            tokio::spawn(async move {
                match tls {
                    None => handle(tcp, reply, tx).await,
                    Some(acceptor) => match acceptor.accept(tcp).await {
                        Ok(stream) => handle(stream, reply, tx).await,
                        Err(e) => {
                            let _ = tx.send(Err(format!("TLS handshake: {e}")));
                        }
                    },
                }
            });
        }
    });
    Server {
        port,
        events,
        connections,
    }
}

async fn handle<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    reply: Reply,
    tx: mpsc::UnboundedSender<Event>,
) {
    if let Reply::Garbage(bytes) = &reply {
        let mut hello = [0u8; 512];
        let _ = stream.read(&mut hello).await;
        let _ = stream.write_all(bytes).await;
        let _ = stream.shutdown().await;
        let _ = tx.send(Err("answered with garbage".into()));
        return;
    }
    let seen = match read_request(&mut stream).await {
        Ok(seen) => seen,
        Err(e) => {
            let _ = tx.send(Err(e));
            return;
        }
    };
    let _ = tx.send(Ok(seen));
    match reply {
        Reply::Fixed {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} Test\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&body).await;
            let _ = stream.shutdown().await;
        }
        Reply::Stream { total, sent } => {
            let head =
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n";
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b'x'; 64 * 1024];
            let mut written = 0;
            while written < total {
                let framed =
                    [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
                if stream.write_all(&framed).await.is_err() {
                    return;
                }
                written += chunk.len();
                sent.store(written, Ordering::SeqCst);
            }
            let _ = stream.write_all(b"0\r\n\r\n").await;
        }
        Reply::Announce { declared } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {declared}\r\n\r\n<soap"
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.flush().await;
            std::future::pending::<()>().await;
        }
        Reply::Silent | Reply::Garbage(_) => std::future::pending::<()>().await,
        Reply::Hangup => {
            let _ = stream.shutdown().await;
        }
        Reply::Cut { declared, body } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {declared}\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&body).await;
            let _ = stream.shutdown().await;
        }
        Reply::Dribble { body, piece, every } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            for part in body.chunks(piece.max(1)) {
                tokio::time::sleep(every).await;
                if stream.write_all(part).await.is_err() || stream.flush().await.is_err() {
                    return;
                }
            }
            let _ = stream.shutdown().await;
        }
    }
}

async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> Result<Seen, String> {
    const MAX_HEAD: usize = 64 * 1024;
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > MAX_HEAD {
            return Err("request head too large".into());
        }
        let mut chunk = [0u8; 4096];
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("connection closed before a request".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).map_err(|_| "head not UTF-8")?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 4096];
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("read body: {e}"))?;
        if n == 0 {
            return Err("connection closed inside the body".into());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Seen {
        method,
        path,
        headers,
        body,
    })
}
