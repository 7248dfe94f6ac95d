//! [`HttpTransportBuilder`]: credentials, certificates, trusted roots, timeouts, proxy.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use reqwest::header::HeaderValue;
use zeroize::Zeroizing;

use super::endpoint::{LOCALHOST, redact_userinfo};
use super::secret::PasswordSource;
use super::tls::{self, ClientCertificate};
use super::{HttpTransport, USER_AGENT};
use crate::ids::Cbe;
use crate::transport::TransportError;

/// The default time allowed to open a connection, TLS handshake included: 10 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default time allowed for a whole call, from connecting to the last byte of the
/// reply: 60 s.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Configures and builds an [`HttpTransport`].
///
/// The builder holds only where secrets live (environment variable names, file paths);
/// [`build`](Self::build) reads them once. Defaults: no credentials, no client
/// certificate, Mozilla's root CAs (webpki-roots), connect timeout 10 s, call timeout
/// 60 s, no proxy (proxy environment variables such as `HTTPS_PROXY` are ignored).
///
/// ```no_run
/// use std::time::Duration;
/// use bcss::ids::Cbe;
/// use bcss::transport::http::{ClientCertificate, HttpTransport, PasswordSource};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let transport = HttpTransport::builder()
///     .basic_auth(Cbe::new("0212344876")?, PasswordSource::Env("BCSS_PASSWORD".into()))
///     .client_certificate(ClientCertificate::Pkcs12 {
///         path: "/etc/bcss/client.p12".into(),
///         password: PasswordSource::File("/etc/bcss/client.p12.pass".into()),
///     })
///     .call_timeout(Duration::from_secs(30))
///     .build()?;
/// # let _ = transport;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct HttpTransportBuilder {
    basic_auth: Option<(Cbe, PasswordSource)>,
    client_certificate: Option<ClientCertificate>,
    extra_root_cas: Vec<PathBuf>,
    connect_timeout: Duration,
    call_timeout: Duration,
    proxy: Option<String>,
}

impl Default for HttpTransportBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpTransportBuilder {
    /// A builder with the defaults above.
    pub fn new() -> Self {
        Self {
            basic_auth: None,
            client_certificate: None,
            extra_root_cas: Vec::new(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            proxy: None,
        }
    }

    /// HTTP Basic credentials: user `E` + the organisation's CBE number, and the password
    /// read from `password` when the transport is built.
    pub fn basic_auth(mut self, organisation: Cbe, password: PasswordSource) -> Self {
        self.basic_auth = Some((organisation, password));
        self
    }

    /// A client certificate for mutual TLS.
    pub fn client_certificate(mut self, certificate: ClientCertificate) -> Self {
        self.client_certificate = Some(certificate);
        self
    }

    /// Also trust the CA certificates in this PEM file (for test setups with a private
    /// CA). Mozilla's roots stay trusted. May be called several times.
    pub fn extra_root_ca(mut self, pem_file: impl Into<PathBuf>) -> Self {
        self.extra_root_cas.push(pem_file.into());
        self
    }

    /// The time allowed to open a connection, TLS handshake included.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The time allowed for a whole call, from connecting to the last byte of the reply.
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// Send HTTPS calls through this proxy (`http://host:port`; HTTPS goes through a
    /// `CONNECT` tunnel, so the proxy sees no content). Loopback destinations bypass it.
    /// Without this, no proxy is used, whatever the environment says. The URL must not
    /// carry credentials.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(url.into());
        self
    }

    /// Reads the password and certificate files and builds the transport.
    ///
    /// Errors are [`TransportError::Config`] naming the variable or file at fault, never a
    /// secret.
    pub fn build(self) -> Result<HttpTransport, TransportError> {
        for (name, value) in [
            ("connect timeout", self.connect_timeout),
            ("call timeout", self.call_timeout),
        ] {
            if value.is_zero() {
                return Err(TransportError::Config(format!(
                    "the {name} must be above zero"
                )));
            }
        }
        let authorization = match &self.basic_auth {
            None => None,
            Some((cbe, source)) => Some(basic_authorization(cbe, source)?),
        };
        let identity = self
            .client_certificate
            .as_ref()
            .map(ClientCertificate::load)
            .transpose()?;
        let tls = tls::client_config(&self.extra_root_cas, identity)?;

        let loopback = [
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 0),
        ];
        let mut client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .user_agent(USER_AGENT)
            // A SOAP client must not follow redirects with its credentials.
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .connect_timeout(self.connect_timeout)
            // Ignore HTTP(S)_PROXY & co: a proxy is used only when configured here.
            .no_proxy()
            // `localhost` never goes to the system resolver: it is loopback, full stop.
            .resolve_to_addrs(LOCALHOST, &loopback);
        if let Some(url) = &self.proxy {
            client = client.proxy(proxy(url)?);
        }
        let client = client
            .build()
            .map_err(|e| TransportError::Config(format!("HTTP client setup failed: {e}")))?;

        Ok(HttpTransport {
            client,
            authorization,
            basic_auth_user: self
                .basic_auth
                .as_ref()
                .map(|(cbe, _)| cbe.basic_auth_user()),
            client_certificate: self.client_certificate,
            extra_root_cas: self.extra_root_cas,
            connect_timeout: self.connect_timeout,
            call_timeout: self.call_timeout,
            proxy: self.proxy,
            checked: super::endpoint::Checked::default(),
        })
    }
}

/// The `Authorization: Basic ...` value, marked sensitive (kept out of HTTP/2 header
/// compression tables and printed as `Sensitive` by `Debug`).
fn basic_authorization(cbe: &Cbe, source: &PasswordSource) -> Result<HeaderValue, TransportError> {
    let password = source.read("HTTP Basic password")?;
    if password.chars().any(char::is_control) {
        return Err(TransportError::Config(format!(
            "HTTP Basic password: {source} contains control characters"
        )));
    }
    let credentials = Zeroizing::new(format!("{}:{}", cbe.basic_auth_user(), password.as_str()));
    let mut header = Zeroizing::new(String::from("Basic "));
    base64::engine::general_purpose::STANDARD.encode_string(credentials.as_bytes(), &mut header);
    let mut value = HeaderValue::from_str(&header).map_err(|_| {
        TransportError::Config("HTTP Basic credentials are not encodable".to_owned())
    })?;
    value.set_sensitive(true);
    Ok(value)
}

fn proxy(url: &str) -> Result<reqwest::Proxy, TransportError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        TransportError::Config(format!(
            "proxy {}: not a valid URL ({e})",
            redact_userinfo(url)
        ))
    })?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(TransportError::Config(format!(
            "proxy {}: credentials in the proxy URL are not accepted",
            redact_userinfo(url)
        )));
    }
    let proxy = reqwest::Proxy::all(parsed)
        .map_err(|e| TransportError::Config(format!("proxy {url}: {e}")))?;
    Ok(proxy.no_proxy(reqwest::NoProxy::from_string("localhost,127.0.0.0/8,::1")))
}
