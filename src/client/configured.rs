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
use crate::soap::Limits;
use crate::transport::Transport;
use crate::transport::http::{ClientCertificate, HttpTransport, PasswordSource};
use crate::transport::replay::ReplayTransport;

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
    /// `[journal] dir` or `url` says.
    pub async fn from_config(config: &Config) -> Result<ConfiguredClient, Error> {
        let catalogue = config
            .service_catalogue()
            .map_err(|e| Error::Config(e.to_string()))?;
        let trust = config.manifest_trust().map_err(ManifestError::from)?;
        let guard = Arc::new(Guard::load_trusted_with(
            config.manifest_file(),
            trust,
            catalogue.clone(),
        )?);
        let transport = transport_from(config)?;
        let mut endpoints = Endpoints::defaults();
        if let Some(base) = &config.transport.base_url {
            endpoints = endpoints
                .with_base_url(config.environment, base)
                .map_err(|e| Error::Config(e.to_string()))?;
        }
        for (name, url) in &config.endpoints {
            let service = catalogue
                .lookup(name)
                .map_err(|e| Error::Config(format!("[endpoints]: {e}")))?;
            endpoints = endpoints
                .with_service_url(config.environment, service, url)
                .map_err(|e| Error::Config(e.to_string()))?;
        }
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
        Ok(ConfiguredClient {
            client: builder.build()?,
            journal,
        })
    }
}

fn transport_from(config: &Config) -> Result<Arc<dyn Transport>, Error> {
    let t = &config.transport;
    match t.kind {
        TransportKind::Replay => {
            let dir = t.fixtures.as_ref().ok_or_else(|| {
                Error::Config("[transport] kind = \"replay\" needs fixtures".to_string())
            })?;
            let replay = ReplayTransport::replay(config.resolve(dir))
                .map_err(|e| Error::Config(format!("fixtures: {e}")))?;
            Ok(Arc::new(replay))
        }
        TransportKind::Http => {
            let mut builder = HttpTransport::builder();
            let password = match (&t.password_env, &t.password_file) {
                (Some(var), _) => Some(PasswordSource::Env(var.clone())),
                (None, Some(file)) => Some(PasswordSource::File(config.resolve(file))),
                (None, None) => None,
            };
            if let Some(password) = password {
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
                        Error::Config(
                            "[transport] client_pkcs12 needs client_pkcs12_password_env"
                                .to_string(),
                        )
                    })?;
                    builder = builder.client_certificate(ClientCertificate::Pkcs12 {
                        path: config.resolve(p12),
                        password: PasswordSource::Env(var),
                    });
                }
                (None, None, None) => {}
                _ => {
                    return Err(Error::Config(
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
            Ok(Arc::new(builder.build()?))
        }
    }
}
