//! Building a [`Client`] from a `bcss.toml` [`Config`]: the manifest, the journal (a
//! directory or a PostgreSQL database) and the transport it names.

use std::sync::Arc;
use std::time::Duration;

use super::Client;
use crate::audit::AnyJournal;
use crate::config::{Config, TransportKind};
use crate::endpoints::Endpoints;
use crate::error::Error;
use crate::manifest::{Guard, ManifestError};
use crate::services::Catalogue;
use crate::soap::Limits;
use crate::transport::Transport;
use crate::transport::http::{ClientCertificate, HttpTransport, PasswordSource, is_loopback_host};
use crate::transport::replay::{Mode, ReplayTransport};

/// A client built from a configuration file, with the journal it opened. Call
/// [`ConfiguredClient::close`] at shutdown so the journal writes its closing checkpoint.
#[derive(Debug)]
pub struct ConfiguredClient {
    /// The client.
    pub client: Client,
    /// The journal the client writes to (`[journal] dir` or `url`).
    pub journal: Arc<AnyJournal>,
}

impl ConfiguredClient {
    /// Flush and close the journal (with a checkpoint).
    pub async fn close(self) -> Result<(), Error> {
        self.journal.close().await?;
        Ok(())
    }
}

impl Client {
    /// Build a client from a configuration: load the manifest and check its signature
    /// against `[manifest] signers` (an invalid manifest, or one whose signature does not
    /// satisfy `require_signature`, refuses to start, saying why), open the journal, and
    /// set up the transport. The journal is a directory or a PostgreSQL database, as
    /// `[journal] dir` or `url` says. `[manifest] require_signature = false` is what lets a
    /// production client decide under an unsigned manifest
    /// ([`ClientBuilder::allow_unsigned_manifest`](super::ClientBuilder::allow_unsigned_manifest)),
    /// and `[transport] drill = true` what lets it reach a stand-in
    /// ([`ClientBuilder::drill`](super::ClientBuilder::drill)).
    ///
    /// The transport is `[transport] kind`: `http`; `replay` of `fixtures`; or `record` /
    /// `record-missing`, a [`ReplayTransport`] that sends over the same HTTP transport
    /// and writes each exchange, redacted with the salt `salt_file` or `salt_env` names,
    /// under `fixtures`. Every kind reads the configured services' fixtures too, and
    /// calls go to the endpoints [`Config::endpoints`] resolves (`base_url`,
    /// `[endpoints]`). The HTTP Basic password is read only when `[transport]` names it
    /// and it is there, or when an endpoint is not on a loopback address (then it is
    /// required): a client of `bcss mock` needs none.
    pub async fn from_config(config: &Config) -> Result<ConfiguredClient, Error> {
        let catalogue = config
            .service_catalogue()
            .map_err(|e| Error::config(e.to_string()))?;
        let trust = config.manifest_trust().map_err(ManifestError::from)?;
        let guard = Arc::new(Guard::load_trusted_with(
            config.manifest_file(),
            trust,
            catalogue.clone(),
        )?);
        let endpoints = config.endpoints()?;
        let transport = transport_from(config, &catalogue, &endpoints)?;
        let defaults = Limits::default();
        let limits = Limits {
            max_bytes: config.limits.max_reply_bytes.unwrap_or(defaults.max_bytes),
            max_depth: config.limits.max_depth.unwrap_or(defaults.max_depth),
            ..defaults
        };
        let journal = Arc::new(AnyJournal::open(config.journal_config()?).await?);
        let mut builder = Client::builder()
            .environment(config.environment)
            .organization(config.organization.cbe.clone())
            .application(&config.application.name, &config.application.version)
            .contact_email(&config.organization.contact_email)
            .guard(guard)
            .journal(journal.clone())
            .transport(transport)
            .endpoints(endpoints)
            .limits(limits);
        if let Some(program) = &config.organization.program {
            builder = builder.program(program.clone());
        }
        if !config.require_manifest_signature() {
            // The file says so itself: `[manifest] require_signature = false` (production
            // requires a signature by default).
            builder = builder.allow_unsigned_manifest();
        }
        if config.transport.drill {
            builder = builder.drill(true);
        }
        if let Some(retry) = &config.retry {
            builder = builder.retry(retry.policy());
        }
        Ok(ConfiguredClient {
            client: builder.build()?,
            journal,
        })
    }
}

fn transport_from(
    config: &Config,
    catalogue: &Catalogue,
    endpoints: &Endpoints,
) -> Result<Arc<dyn Transport>, Error> {
    let t = &config.transport;
    let fixtures = || {
        t.fixtures
            .as_ref()
            .map(|dir| config.resolve(dir))
            .ok_or_else(|| {
                Error::config(format!(
                    "[transport] kind = \"{}\" needs fixtures",
                    t.kind.as_str()
                ))
            })
    };
    let salt = || {
        config
            .redaction_salt()
            .map_err(|e| Error::config(format!("[transport] redaction salt: {e}")))
    };
    let mode = match t.kind {
        TransportKind::Http => return Ok(Arc::new(http_transport(config, catalogue, endpoints)?)),
        TransportKind::Replay => Mode::Replay,
        TransportKind::Record => Mode::Record,
        TransportKind::RecordMissing => Mode::RecordMissing,
    };
    let mut builder = ReplayTransport::builder(fixtures()?)
        .mode(mode)
        .catalogue(catalogue.clone());
    if let Some(salt) = salt()? {
        builder = builder.redaction_salt(salt);
    }
    if t.kind.records() {
        builder = builder.inner(Arc::new(http_transport(config, catalogue, endpoints)?));
    }
    let replay = builder
        .build()
        .map_err(|e| Error::config(format!("fixtures: {e}")))?;
    Ok(Arc::new(replay))
}

/// The HTTP Basic password, when the client needs one: when `[transport]` names it and
/// it is there, or when some endpoint the client may call is not on a loopback address
/// (BCSS itself: then a missing password fails the build). A password named but missing
/// is not needed when every endpoint is a loopback stand-in such as `bcss mock`.
fn password(
    config: &Config,
    catalogue: &Catalogue,
    endpoints: &Endpoints,
) -> Option<PasswordSource> {
    let t = &config.transport;
    let source = match (&t.password_env, &t.password_file) {
        (Some(var), _) => PasswordSource::Env(var.clone()),
        (None, Some(file)) => PasswordSource::File(config.resolve(file)),
        (None, None) => return None,
    };
    let available = match &source {
        PasswordSource::Env(var) => std::env::var_os(var).is_some_and(|v| !v.is_empty()),
        PasswordSource::File(path) => path.exists(),
    };
    let all_loopback = catalogue.iter().all(|service| {
        endpoints
            .resolve(config.environment, service)
            .ok()
            .and_then(|url| reqwest::Url::parse(&url).ok())
            .is_some_and(|url| url.host_str().is_some_and(is_loopback_host))
    });
    if !available && all_loopback {
        tracing::debug!(
            "no HTTP Basic password: every endpoint is on a loopback address (a stand-in)"
        );
        return None;
    }
    Some(source)
}

fn http_transport(
    config: &Config,
    catalogue: &Catalogue,
    endpoints: &Endpoints,
) -> Result<HttpTransport, Error> {
    let t = &config.transport;
    let mut builder = HttpTransport::builder();
    if let Some(password) = password(config, catalogue, endpoints) {
        builder = builder.basic_auth(config.organization.cbe.clone(), password);
    }
    match (&t.client_certificate, &t.client_key, &t.client_pkcs12) {
        (Some(cert), Some(key), None) => {
            builder = builder.client_certificate(ClientCertificate::Pem {
                certificate_chain: config.resolve(cert),
                private_key: config.resolve(key),
            });
        }
        (None, None, Some(p12)) => {
            let var = t.client_pkcs12_password_env.clone().ok_or_else(|| {
                Error::config(
                    "[transport] client_pkcs12 needs client_pkcs12_password_env".to_string(),
                )
            })?;
            builder = builder.client_certificate(ClientCertificate::Pkcs12 {
                path: config.resolve(p12),
                password: PasswordSource::Env(var),
            });
        }
        (None, None, None) => {}
        _ => {
            return Err(Error::config(
                "[transport] give client_certificate and client_key together, or client_pkcs12 alone"
                    .to_string(),
            ));
        }
    }
    if let Some(ca) = &t.extra_root_ca {
        builder = builder.extra_root_ca(config.resolve(ca));
    }
    if let Some(s) = t.connect_timeout_seconds {
        builder = builder.connect_timeout(Duration::from_secs(s));
    }
    if let Some(s) = t.timeout_seconds {
        builder = builder.call_timeout(Duration::from_secs(s));
    }
    Ok(builder.build()?)
}
