//! What both sides call with: the mock BCSS serving the shipped RetrieveTIGroups fixtures,
//! bcss's client (guard, encode, durable file journal, HTTP transport, decode) and a bare
//! reqwest client posting the same envelope, prebuilt.

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use bcss::Environment;
use bcss::audit::{FileJournal, FileJournalConfig};
use bcss::client::{Actor, CallContext, Client};
use bcss::endpoints::Endpoints;
use bcss::ids::{Cbe, ProgramId, Ssin};
use bcss::manifest::Guard;
use bcss::mock::{MockConfig, MockHandle, MockServer};
use bcss::services::retrieve_ti_groups::{self, Language, RetrieveTi};
use bcss::services::{RequestHeader, ServiceRequest};
use bcss::transport::http::HttpTransport;
use bytes::Bytes;
use chrono::Utc;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_TYPE, HeaderValue};
use uuid::Uuid;

/// Marc FICTIF, whose RetrieveTIGroups reply (`marc-fr-ok`, 6.6 KB) is served.
pub const SSIN: &str = "68070100188";
const PURPOSE: &str = "PCSA:SOCIAL_INQUIRY";
const CBE: &str = "0212344876";
const PROGRAM: &str = "00912345673";
const MANIFEST: &str = r#"
[organization]
cbe = "0212344876"
name = "CPAS de Fictiveville"
sector = 17

[[authorization]]
id = "tx25-test"
environment = "test"
service = "RetrieveTIGroups"
purpose = "PCSA:SOCIAL_INQUIRY"
program = "00912345673"
valid_from = 2025-01-01
valid_until = 2099-12-31
granted_by = "security-advisor"
"#;

/// Which side of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The whole bcss call.
    Bcss,
    /// reqwest posting the prebuilt envelope.
    Raw,
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Side::Bcss => "bcss",
            Side::Raw => "raw",
        }
    }
}

/// The repository's fixtures of RetrieveTIGroups.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/exchanges/RetrieveTIGroups")
}

/// Where journals are written: a real directory under the target directory (not tmpfs),
/// or BCSS_BENCH_DIR.
pub fn bench_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("BCSS_BENCH_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("bench-e2e")
}

/// Start the mock BCSS (delays of fixtures not simulated: none is served here).
async fn start_mock() -> MockHandle {
    let config = MockConfig::from_dir(fixtures())
        .expect("load the RetrieveTIGroups fixtures")
        .simulate_delays(false);
    MockServer::start(config).await.expect("start the mock")
}

/// `--serve-mock`: serve the mock on two worker threads, print `port N`, stop when stdin
/// closes.
pub fn serve_mock() {
    let rt = crate::runtime("mock");
    let mock = rt.block_on(start_mock());
    println!("port {}", mock.addr().port());
    let _ = std::io::stdout().flush();
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    rt.block_on(mock.shutdown());
}

/// The mock BCSS in a child process (this binary with `--serve-mock`), so that what this
/// process allocates and executes is the client's alone (and valgrind, which does not
/// follow children, counts only the client). Dropping it stops the child.
pub struct MockChild {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
}

impl MockChild {
    pub fn start() -> MockChild {
        let exe = std::env::current_exe().expect("this binary's path");
        let mut child = Command::new(exe)
            .arg("--serve-mock")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the mock child");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("child stdout"))
            .read_line(&mut line)
            .expect("the mock's port");
        let port = line.trim().strip_prefix("port ").expect("`port N`");
        MockChild {
            base_url: format!("http://127.0.0.1:{port}"),
            child,
        }
    }
}

impl Drop for MockChild {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// Everything a call needs, shared by the tasks of a round.
pub struct Bench {
    /// The mock's base URL (`http://127.0.0.1:PORT`).
    pub base_url: String,
    /// The RetrieveTIGroups endpoint on the mock.
    pub endpoint: reqwest::Url,
    transport: Arc<HttpTransport>,
    guard: Arc<Guard>,
    raw: reqwest::Client,
    envelope: Bytes,
    soap_action: HeaderValue,
    request: RetrieveTi,
    ctx: CallContext,
}

impl Bench {
    /// Both clients, for the mock at `base_url`. The HTTP transport and the reqwest client
    /// live as long as the bench: their connection pools are warm after the first round.
    pub fn new(base_url: &str) -> Bench {
        let service = retrieve_ti_groups::service();
        let endpoint = reqwest::Url::parse(&format!("{base_url}{}", bcss::mock::path_of(service)))
            .expect("endpoint URL");
        let request = RetrieveTi::new(Ssin::new(SSIN).expect("SSIN"))
            .expect("request")
            .language(Language::Fr);
        // The envelope bcss would send, built once with a header like the client's.
        let header = RequestHeader {
            ticket: Uuid::now_v7(),
            sent_at: Utc::now(),
            organization: Cbe::new(CBE).expect("CBE"),
            sector: 17,
            sub_sector: None,
            program: ProgramId::new(PROGRAM).expect("program"),
            email: String::new(),
            legal_context: PURPOSE.to_string(),
        };
        let envelope = Bytes::from(request.encode(&header).expect("encode"));
        let action = Endpoints::soap_action(service, request.operation()).expect("soapAction");
        let soap_action = HeaderValue::from_str(&format!("\"{action}\"")).expect("header");
        Bench {
            base_url: base_url.to_string(),
            endpoint,
            transport: Arc::new(HttpTransport::builder().build().expect("HTTP transport")),
            guard: Arc::new(Guard::from_str(MANIFEST, "authorizations.toml").expect("manifest")),
            raw: raw_client(),
            envelope,
            soap_action,
            request,
            ctx: CallContext::new(Actor::new("agent-042").with_name("Sam Agent"), PURPOSE),
        }
    }

    /// The prebuilt envelope's length.
    pub fn envelope_len(&self) -> usize {
        self.envelope.len()
    }

    /// A bcss client journaling into `journal`.
    pub fn client(&self, journal: Arc<FileJournal>) -> Client {
        Client::builder()
            .environment(Environment::Test)
            .application("bcss-bench", env!("CARGO_PKG_VERSION"))
            .contact_email("it@cpas-fictiveville.example")
            .guard(self.guard.clone())
            .journal(journal)
            .transport(self.transport.clone())
            .endpoints(
                Endpoints::defaults()
                    .with_base_url(Environment::Test, &self.base_url)
                    .expect("base URL"),
            )
            .build()
            .expect("client")
    }

    /// One whole bcss call, which must succeed (the reply decoded, journaled).
    pub async fn bcss_call(&self, client: &Client) {
        let reply = client
            .call(&self.ctx, &self.request)
            .await
            .expect("a bcss call against the mock");
        assert_eq!(reply.authorization_id, "tx25-test");
    }

    /// One raw post of the prebuilt envelope, reading the whole reply.
    pub async fn raw_call(&self) {
        let response = self
            .raw
            .post(self.endpoint.clone())
            .header(CONTENT_TYPE, "text/xml; charset=utf-8")
            .header(ACCEPT_ENCODING, "identity")
            .header("SOAPAction", self.soap_action.clone())
            .body(self.envelope.clone())
            .send()
            .await
            .expect("a raw post to the mock");
        assert_eq!(response.status(), 200, "the mock answers the raw post");
        let body = response.bytes().await.expect("the raw reply");
        assert!(body.len() > 1000, "the raw reply is the fixture's");
    }
}

/// A journal in a fresh directory under `root`.
pub async fn open_journal(root: &Path, name: &str) -> (Arc<FileJournal>, PathBuf) {
    let dir = root.join(format!("{name}-{}", Uuid::now_v7()));
    let journal = FileJournal::open(FileJournalConfig::new(&dir))
        .await
        .expect("open the journal");
    (Arc::new(journal), dir)
}

/// Close a journal and delete its directory (bench data is kept small).
pub async fn discard_journal(journal: Arc<FileJournal>, dir: &Path) {
    journal.close().await.expect("close the journal");
    drop(journal);
    let _ = std::fs::remove_dir_all(dir);
}

/// reqwest as a user would set it up for plain HTTP: rustls with ring (the crate is built
/// without a default provider), no proxy.
fn raw_client() -> reqwest::Client {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .build()
        .expect("reqwest client")
}
