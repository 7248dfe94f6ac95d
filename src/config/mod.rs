//! The client configuration file (`bcss.toml`).
//!
//! It names the environment, the application (HOW), the organisation, where the manifest
//! and the journal are, and how to reach BCSS. Secrets are never inline: a password or key
//! passphrase is named by an environment variable or a file. Unknown keys are errors, so a
//! typo never silently changes behaviour. Relative paths are relative to the file's folder.
//!
//! ```toml
//! environment = "test"
//! manifest = "authorizations.toml"   # or the [manifest] table below
//!
//! # [manifest]
//! # file = "authorizations.toml"
//! # signers = ["keys/advisor.pub"]   # the public keys allowed to sign it
//! # require_signature = true         # default: true in production, false elsewhere
//!
//! [journal]
//! dir = "journal"                    # or url = "postgres://bcss_app@db/cpas?schema=bcss"
//!                                    # with password_env = "..." or password_file = "..."
//! signing_key = "keys/journal-ed25519.pem"   # optional: signs genesis, checkpoints, heads
//! witness = "/mnt/audit-witness/cpas.witness" # optional: heads kept on another volume
//! lock_wait_seconds = 30                      # wait while another process writes it
//!
//! [application]
//! name = "cpas-social-desk"
//! version = "2.3.1"
//!
//! [organization]
//! cbe = "0212344876"
//! contact_email = "it@cpas-fictiveville.example"
//! program = "00912345673"
//!
//! [transport]
//! kind = "http"                      # "http" or "replay"
//! base_url = "http://127.0.0.1:8080" # optional: all services of this environment there
//! connect_timeout_seconds = 10
//! timeout_seconds = 60
//! password_env = "BCSS_PASSWORD"     # or password_file = "secrets/bcss-password"
//! # drill = true                     # production only: allow a stand-in (journaled)
//!
//! # [retry]                          # optional: retry reads that may pass later
//! # max_attempts = 3                 # (see crate::client::RetryConfig)
//! ```
//!
//! Services beyond the built-in ones are `[[service]]` entries, here or in a file named by
//! `catalogue = "services.toml"` (see [`crate::services::catalogue`]); they are checked
//! when the file is read, with `FILE:line:col`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::environment::Environment;
use crate::ids::{Cbe, ProgramId};
use crate::services::catalogue::spec::{RawService, Source, build_all};
use crate::services::{Catalogue, Service};

mod journal;
mod manifest;

pub use journal::JournalConfig;
pub use manifest::ManifestConfig;

/// A configuration file could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The file is not valid.
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

/// The `[application]` table: HOW calls are made.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationConfig {
    /// The application's name.
    pub name: String,
    /// The application's version.
    pub version: String,
}

/// The `[organization]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationConfig {
    /// The organisation's CBE number (must match the manifest's).
    pub cbe: Cbe,
    /// The contact e-mail sent as the SSDN `Email`.
    pub contact_email: String,
    /// The program number this application was granted, if it uses one.
    pub program: Option<ProgramId>,
}

/// How to reach BCSS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TransportKind {
    /// HTTPS to BCSS (or plain HTTP to a loopback mock).
    #[default]
    Http,
    /// Replay recorded fixtures; never touches the network.
    Replay,
    /// Send every call over HTTP(S) as `http` does, and write each exchange, redacted, as
    /// a fixture under `fixtures` (replacing an earlier recording of the same request).
    /// Needs the redaction salt (`salt_file` or `salt_env`).
    Record,
    /// Replay what `fixtures` holds; send the rest over HTTP(S) and record it, redacted.
    /// Needs the redaction salt.
    RecordMissing,
}

impl TransportKind {
    /// The name in `bcss.toml`: `http`, `replay`, `record` or `record-missing`.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Http => "http",
            TransportKind::Replay => "replay",
            TransportKind::Record => "record",
            TransportKind::RecordMissing => "record-missing",
        }
    }

    /// Whether this kind writes fixtures (`record`, `record-missing`).
    pub fn records(self) -> bool {
        matches!(self, TransportKind::Record | TransportKind::RecordMissing)
    }

    /// Whether this kind sends over HTTP(S) (`http`, and the record kinds for what they
    /// record).
    pub fn sends(self) -> bool {
        self != TransportKind::Replay
    }
}

/// The `[transport]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TransportConfig {
    /// `http` (default), `replay`, `record` or `record-missing`.
    #[serde(default)]
    pub kind: TransportKind,
    /// Send every service of the configured environment to this base URL (scheme, host,
    /// port), keeping each service's path.
    pub base_url: Option<String>,
    /// Connect timeout in seconds (default 10).
    pub connect_timeout_seconds: Option<u64>,
    /// Whole-call timeout in seconds (default 60).
    pub timeout_seconds: Option<u64>,
    /// The environment variable holding the HTTP Basic password.
    pub password_env: Option<String>,
    /// The file holding the HTTP Basic password.
    pub password_file: Option<PathBuf>,
    /// A PEM file with the client certificate chain, for mutual TLS.
    pub client_certificate: Option<PathBuf>,
    /// A PEM file with the client certificate's private key.
    pub client_key: Option<PathBuf>,
    /// A PKCS#12 file holding the client certificate and key (instead of the two above).
    pub client_pkcs12: Option<PathBuf>,
    /// The environment variable holding the PKCS#12 password.
    pub client_pkcs12_password_env: Option<String>,
    /// An extra trusted root CA (PEM), for test setups.
    pub extra_root_ca: Option<PathBuf>,
    /// The fixtures folder: read by `kind = "replay"`, written by `"record"` and
    /// `"record-missing"` (created when missing).
    pub fixtures: Option<PathBuf>,
    /// The file holding the redaction salt (hex), created (0600) with a random salt when
    /// missing; refused inside the fixtures folder. For the record kinds (required, or
    /// `salt_env`); with `replay`, optional: it lets real requests match redacted
    /// fixtures.
    pub salt_file: Option<PathBuf>,
    /// The environment variable holding the redaction salt (hex), instead of `salt_file`.
    pub salt_env: Option<String>,
    /// A drill: let a production client reach a stand-in (the replay transport, a
    /// loopback or plain `http://` endpoint such as `bcss mock`), which it otherwise
    /// refuses; every journal record then says `drill`. Default false.
    #[serde(default)]
    pub drill: bool,
}

/// The `[limits]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// The largest reply accepted, in bytes (default 16 MiB). It must fit in one journal
    /// record: at most `[journal] max_record_bytes` less 1 MiB and a few bytes (see
    /// [`FileJournalConfig::max_payload_bytes`](crate::audit::FileJournalConfig::max_payload_bytes)).
    pub max_reply_bytes: Option<usize>,
    /// The deepest XML nesting accepted (default 128).
    pub max_depth: Option<usize>,
}

/// A whole `bcss.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The environment every call goes to.
    pub environment: Environment,
    /// The authorisation manifest and who may sign it.
    pub manifest: ManifestConfig,
    /// The audit journal.
    pub journal: JournalConfig,
    /// HOW.
    pub application: ApplicationConfig,
    /// The organisation.
    pub organization: OrganizationConfig,
    /// How to reach BCSS.
    #[serde(default)]
    pub transport: TransportConfig,
    /// Per-service endpoint overrides for the configured environment: service name to URL.
    #[serde(default)]
    pub endpoints: BTreeMap<String, String>,
    /// Reply limits.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Retries (`[retry]`); none when left out.
    pub retry: Option<crate::client::RetryConfig>,
    /// A file of `[[service]]` entries (relative to this file's folder), read by
    /// [`Config::load`].
    pub catalogue: Option<PathBuf>,
    /// The `[[service]]` entries as written; checked into [`Config::services`].
    #[serde(default, rename = "service")]
    service_entries: Vec<toml::Spanned<RawService>>,
    /// The configured services: this file's `[[service]]` entries, then (after
    /// [`Config::load`]) those of the `catalogue` file, checked.
    #[serde(skip)]
    pub services: Vec<Service>,
    /// The folder the file was read from; relative paths are resolved against it.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// The file's name, as given to [`Config::load`] or [`Config::parse`] (for messages).
    #[serde(skip)]
    source: String,
}

impl Config {
    /// Read and validate a configuration file, and the catalogue file it names.
    ///
    /// `?` turns its [`ConfigError`] into a [`crate::Error`].
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text = read(path)?;
        let mut config = Config::parse_only(&text, &path.display().to_string())?;
        config.base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        if let Some(file) = &config.catalogue {
            let file = config.resolve(file);
            let text = read(&file)?;
            let services = crate::services::parse_services(&text, &file.display().to_string())
                .map_err(|e| ConfigError::Invalid {
                    path: e.file,
                    line: e.line,
                    column: e.column,
                    message: e.message,
                })?;
            config.services.extend(services);
        }
        config.check_services(&path.display().to_string())?;
        Ok(config)
    }

    /// Parse configuration text; `name` is used in error messages. A `catalogue` file is
    /// not read (there is no folder to resolve it against): use [`Config::load`].
    pub fn parse(text: &str, name: &str) -> Result<Config, ConfigError> {
        let config = Config::parse_only(text, name)?;
        if config.catalogue.is_none() {
            config.check_services(name)?;
        }
        Ok(config)
    }

    /// The built-in catalogue with the configured services.
    pub fn service_catalogue(&self) -> Result<Catalogue, ConfigError> {
        Catalogue::with_configured(self.services.iter().cloned()).map_err(|e| {
            let (path, line) = match &e {
                crate::services::catalogue::CatalogueError::Duplicate {
                    origin: crate::services::catalogue::Origin::Configured { file, line },
                    ..
                } => (file.clone(), *line),
                _ => (String::new(), 1),
            };
            ConfigError::Invalid {
                path,
                line,
                column: 1,
                message: e.to_string(),
            }
        })
    }

    /// Names are unique, and `[endpoints]` names catalogued services.
    fn check_services(&self, name: &str) -> Result<(), ConfigError> {
        let catalogue = self.service_catalogue()?;
        for service in self.endpoints.keys() {
            if catalogue.get(service).is_none() {
                return Err(ConfigError::Invalid {
                    path: name.to_string(),
                    line: 1,
                    column: 1,
                    message: format!(
                        "[endpoints] names unknown service {service:?}; known: {}",
                        catalogue.names().join(", ")
                    ),
                });
            }
        }
        Ok(())
    }

    fn parse_only(text: &str, name: &str) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|span| line_col(text, span.start))
                .unwrap_or((1, 1));
            ConfigError::Invalid {
                path: name.to_string(),
                line,
                column,
                message: e.message().to_string(),
            }
        })?;
        config.source = name.to_string();
        let src = Source { file: name, text };
        config.services =
            build_all(&config.service_entries, &src).map_err(|e| ConfigError::Invalid {
                path: e.file,
                line: e.line,
                column: e.column,
                message: e.message,
            })?;
        config.service_entries.clear();
        let invalid = |message: String| ConfigError::Invalid {
            path: name.to_string(),
            line: 1,
            column: 1,
            message,
        };
        if config.require_manifest_signature() && config.manifest.signers.is_empty() {
            let (line, column) = manifest_key_position(text);
            let why = if config.manifest.require_signature == Some(true) {
                "require_signature = true".to_string()
            } else {
                format!(
                    "environment = \"{}\" requires a signed manifest by default",
                    config.environment
                )
            };
            return Err(ConfigError::Invalid {
                path: name.to_string(),
                line,
                column,
                message: format!(
                    "{why}, but no key may sign it: name the security advisor's public keys \
                     ([manifest] signers = [\"keys/advisor.pub\"]), or set \
                     require_signature = false in [manifest]"
                ),
            });
        }
        if config.transport.password_env.is_some() && config.transport.password_file.is_some() {
            return Err(invalid(
                "[transport] give password_env or password_file, not both".to_string(),
            ));
        }
        config.check_limits(text, name)?;
        if let Some(retry) = &config.retry
            && let Err(e) = retry.policy().check()
        {
            let (line, column) = text.find("[retry]").map_or((1, 1), |o| line_col(text, o));
            return Err(ConfigError::Invalid {
                path: name.to_string(),
                line,
                column,
                message: format!("[retry] {e}"),
            });
        }
        config.check_transport(text, name)?;
        Ok(config)
    }

    /// The `[transport]` settings that go together: fixtures for replay and recording, a
    /// salt (never inline) for recording, one salt source.
    fn check_transport(&self, text: &str, name: &str) -> Result<(), ConfigError> {
        let t = &self.transport;
        let (line, column) = text
            .find("[transport]")
            .map_or((1, 1), |offset| line_col(text, offset));
        let invalid = |message: String| ConfigError::Invalid {
            path: name.to_string(),
            line,
            column,
            message,
        };
        let kind = t.kind.as_str();
        if t.kind != TransportKind::Http && t.fixtures.is_none() {
            return Err(invalid(format!(
                "[transport] kind = \"{kind}\" needs fixtures = \"<folder>\" (where the fixtures are {})",
                if t.kind.records() { "written" } else { "read" }
            )));
        }
        if t.salt_file.is_some() && t.salt_env.is_some() {
            return Err(invalid(
                "[transport] give salt_file or salt_env, not both".to_string(),
            ));
        }
        if t.kind.records() && t.salt_file.is_none() && t.salt_env.is_none() {
            return Err(invalid(format!(
                "[transport] kind = \"{kind}\" needs the redaction salt: salt_file = \"<file outside the fixtures folder>\" (created when missing) or salt_env = \"<VARIABLE>\"; nothing is recorded without redaction"
            )));
        }
        if t.kind == TransportKind::Http && (t.salt_file.is_some() || t.salt_env.is_some()) {
            return Err(invalid(
                "[transport] a redaction salt is for kind = \"record\", \"record-missing\" or \"replay\"; kind = \"http\" records nothing".to_string(),
            ));
        }
        Ok(())
    }

    /// The endpoints a client of this configuration calls: each catalogued service's
    /// default (its WSDL, or its `[[service]]` entry), moved to `[transport] base_url`
    /// when one is given, then the `[endpoints]` overrides.
    ///
    /// Errors: a base URL or override that is not an `http://` or `https://` URL with a
    /// host, or an override naming a service the catalogue does not know.
    pub fn endpoints(&self) -> Result<crate::endpoints::Endpoints, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: self.source.clone(),
            line: 1,
            column: 1,
            message,
        };
        let catalogue = self.service_catalogue()?;
        let mut endpoints = crate::endpoints::Endpoints::defaults();
        if let Some(base) = &self.transport.base_url {
            endpoints = endpoints
                .with_base_url(self.environment, base)
                .map_err(|e| invalid(format!("[transport] base_url: {e}")))?;
        }
        for (name, url) in &self.endpoints {
            let service = catalogue
                .lookup(name)
                .map_err(|e| invalid(format!("[endpoints]: {e}")))?;
            endpoints = endpoints
                .with_service_url(self.environment, service, url)
                .map_err(|e| invalid(format!("[endpoints] {name}: {e}")))?;
        }
        Ok(endpoints)
    }

    /// The redaction salt `[transport]` names (`salt_file`, created when missing and
    /// refused inside the fixtures folder, or `salt_env`), or `None` when it names none.
    pub fn redaction_salt(
        &self,
    ) -> Result<Option<crate::fixture::redact::RedactionSalt>, crate::fixture::FixtureError> {
        use crate::fixture::redact::RedactionSalt;
        let t = &self.transport;
        match (&t.salt_file, &t.salt_env) {
            (Some(file), _) => {
                let fixtures = t
                    .fixtures
                    .as_ref()
                    .map(|f| self.resolve(f))
                    .unwrap_or_else(|| self.base_dir.join("fixtures"));
                RedactionSalt::load_or_create_outside(&self.resolve(file), &fixtures).map(Some)
            }
            (None, Some(var)) => RedactionSalt::from_env(var).map(Some),
            (None, None) => Ok(None),
        }
    }

    /// Every reply the transport accepts must fit in one journal record: refuse a
    /// `[limits] max_reply_bytes` above the journal's payload room, naming both limits.
    fn check_limits(&self, text: &str, name: &str) -> Result<(), ConfigError> {
        let at_key = |key: &str, message: String| {
            let (line, column) = text
                .find(&format!("{key} ="))
                .or_else(|| text.find(key))
                .map_or((1, 1), |offset| line_col(text, offset));
            ConfigError::Invalid {
                path: name.to_string(),
                line,
                column,
                message,
            }
        };
        let journal = self.journal_config().map_err(|e| {
            let why = match e {
                crate::audit::AuditError::Config(m) => m,
                other => other.to_string(),
            };
            at_key("[journal]", format!("[journal] {why}"))
        })?;
        if let Err(e) = journal.validate() {
            return Err(at_key("max_record_bytes", format!("[journal] {e}")));
        }
        let max_payload = journal.max_payload_bytes();
        let reply = self
            .limits
            .max_reply_bytes
            .unwrap_or(crate::soap::Limits::default().max_bytes);
        if reply > max_payload {
            return Err(at_key(
                "max_reply_bytes",
                format!(
                    "[limits] max_reply_bytes = {reply} does not fit in one journal record: [journal] max_record_bytes = {} leaves {max_payload} bytes for the request or reply, so a reply the transport accepts could not be journaled; lower max_reply_bytes to at most {max_payload}, or raise max_record_bytes (at most 67108864)",
                    journal.max_record_bytes()
                ),
            ));
        }
        Ok(())
    }

    /// Resolve a path from the file against the file's folder.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir.join(path)
        }
    }
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Where the manifest is configured: the `[manifest]` header or the `manifest =` key (the
/// first line of the file when neither is found).
fn manifest_key_position(text: &str) -> (usize, usize) {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let key = trimmed
            .strip_prefix("manifest")
            .is_some_and(|rest| rest.trim_start().starts_with('='));
        if key || trimmed.starts_with("[manifest]") {
            return line_col(text, offset + (line.len() - trimmed.len()));
        }
        offset += line.len();
    }
    (1, 1)
}

/// 1-based line and column of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map(|i| i + 1)
        .unwrap_or(0);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests;
