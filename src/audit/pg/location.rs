//! A PostgreSQL journal's location: the server, database and role (a `postgres://` URL
//! without its password), the schema the journal lives in, the TLS roots, and where the
//! password comes from (an environment variable or a file, never the URL).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::audit::AuditError;
use crate::transport::http::PasswordSource;

/// The schema a journal lives in when the URL names none.
pub const DEFAULT_SCHEMA: &str = "bcss";

/// A PostgreSQL journal's location, parsed from a URL such as
/// `postgres://bcss_app@db.example:5432/cpas?schema=bcss&sslmode=require`.
///
/// - `schema` (bcss's own parameter, default `bcss`): the schema holding the journal (one
///   journal, one hash chain, per schema). A lowercase SQL identifier.
/// - `sslrootcert` (bcss's own parameter): a PEM file of CA certificates trusted for the
///   server's certificate, beside Mozilla's roots.
/// - `sslmode`: `disable`, `prefer` (TLS when the server offers it) or `require`. When
///   the URL names none: `require` when every host is reached over TCP (the journal holds
///   personal data: a server that does not offer TLS, or someone in the way who says so,
///   is refused rather than sent it in clear), `prefer` on a unix socket (PostgreSQL has no
///   TLS there). With TLS the server's certificate and name are always verified (rustls),
///   whatever the mode.
/// - every other parameter is PostgreSQL's own (`host=/run/postgresql` for a unix
///   socket, `connect_timeout`, `application_name`...).
///
/// The password is never part of the URL (a URL with one is refused, and the refusal does
/// not repeat it): it is read from a [`PasswordSource`] when connecting. `Display` and
/// `Debug` show the URL as given (it holds no secret) and where the password comes from.
#[derive(Clone, PartialEq, Eq)]
pub struct PgLocation {
    url: String,
    /// Boxed: the driver's configuration is large, and locations are moved around.
    config: Box<tokio_postgres::Config>,
    schema: String,
    root_certificates: Option<PathBuf>,
    password: Option<PasswordSource>,
}

impl fmt::Debug for PgLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgLocation")
            .field("url", &self.url)
            .field("schema", &self.schema)
            .field("root_certificates", &self.root_certificates)
            .field("password", &self.password)
            .finish()
    }
}

impl fmt::Display for PgLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

fn invalid(message: impl Into<String>) -> AuditError {
    AuditError::Config(format!("journal URL: {}", message.into()))
}

/// Whether `name` is a lowercase SQL identifier bcss accepts as a schema name.
pub(crate) fn valid_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z' | '_'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && name.len() <= 48
        && !name.starts_with("pg_")
}

impl PgLocation {
    /// Whether `text` is a PostgreSQL URL (`postgres://` or `postgresql://`).
    pub fn is_url(text: &str) -> bool {
        text.starts_with("postgres://") || text.starts_with("postgresql://")
    }

    /// Parse a `postgres://` URL (see the type's documentation); the password, when the
    /// server asks for one, is read from `password`.
    ///
    /// Fails with [`AuditError::Config`] for a URL that is not a PostgreSQL URL, holds a
    /// password, names an invalid schema, or has a parameter PostgreSQL does not know. The
    /// error never repeats a password.
    pub fn parse(text: &str, password: Option<PasswordSource>) -> Result<Self, AuditError> {
        if !Self::is_url(text) {
            return Err(invalid(
                "it does not start with postgres:// or postgresql://",
            ));
        }
        let (base, query) = match text.split_once('?') {
            Some((base, query)) => (base, query),
            None => (text, ""),
        };
        let rest = base.split_once("://").map_or("", |(_, rest)| rest);
        let authority = rest.split('/').next().unwrap_or_default();
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && userinfo.contains(':')
        {
            return Err(invalid(
                "it holds a password; give the password through an environment variable or a file instead ([journal] password_env or password_file, or --password-env / --password-file)",
            ));
        }
        let mut schema = DEFAULT_SCHEMA.to_string();
        let mut root_certificates = None;
        let mut passed = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            // Which one would count is a guess: refuse the doubt.
            if !seen.insert(key) {
                return Err(invalid(format!("the parameter {key} is given twice")));
            }
            match key {
                "schema" => schema = value.to_string(),
                "sslrootcert" => {
                    let path = percent_encoding::percent_decode_str(value)
                        .decode_utf8()
                        .map_err(|_| invalid("sslrootcert is not valid UTF-8"))?;
                    root_certificates = Some(PathBuf::from(path.as_ref()));
                }
                "sslmode" if !matches!(value, "disable" | "prefer" | "require") => {
                    return Err(invalid(format!(
                        "sslmode={value} is not accepted: give sslmode=disable, prefer or require (require, and prefer when TLS is used, always verify the server's certificate and host name, as verify-full does elsewhere; add sslrootcert=FILE for a private CA)"
                    )));
                }
                "password" => {
                    return Err(invalid(
                        "it holds a password parameter; give the password through an environment variable or a file instead",
                    ));
                }
                _ => passed.push(pair),
            }
        }
        if !valid_identifier(&schema) {
            return Err(invalid(format!(
                "schema {schema:?} is not a lowercase SQL identifier (a-z, 0-9, _; at most 48 characters; not starting with pg_ or a digit)"
            )));
        }
        let driver_url = if passed.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", passed.join("&"))
        };
        let mut config = tokio_postgres::Config::from_str(&driver_url)
            .map_err(|e| invalid(super::describe(&e)))?;
        if config.get_password().is_some() {
            return Err(invalid(
                "it holds a password; give the password through an environment variable or a file instead",
            ));
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(super::connect::DEFAULT_CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("bcss");
        }
        if config.get_hosts().is_empty() {
            return Err(invalid("it names no host"));
        }
        let mode_given = passed.iter().any(|p| p.starts_with("sslmode="));
        let all_tcp = config
            .get_hosts()
            .iter()
            .all(|h| matches!(h, tokio_postgres::config::Host::Tcp(_)));
        if !mode_given && all_tcp {
            config.ssl_mode(tokio_postgres::config::SslMode::Require);
        }
        Ok(PgLocation {
            url: text.to_string(),
            config: Box::new(config),
            schema,
            root_certificates,
            password,
        })
    }

    /// The same location with a relative `sslrootcert` taken relative to `base` (the
    /// folder of the configuration file that named it, as every path in `bcss.toml` is).
    pub fn resolve_files_against(mut self, base: &std::path::Path) -> Self {
        if let Some(path) = self.root_certificates.take() {
            self.root_certificates = Some(if path.is_absolute() {
                path
            } else {
                base.join(path)
            });
        }
        self
    }

    /// The same location in another schema (e.g. a witness's).
    pub fn with_schema(&self, schema: &str) -> Result<Self, AuditError> {
        if !valid_identifier(schema) {
            return Err(invalid(format!(
                "schema {schema:?} is not a lowercase SQL identifier (a-z, 0-9, _; at most 48 characters; not starting with pg_ or a digit)"
            )));
        }
        let mut other = self.clone();
        other.schema = schema.to_string();
        other.url = replace_schema(&self.url, schema);
        Ok(other)
    }

    /// The same location with its password read from `password`.
    pub fn with_password(mut self, password: Option<PasswordSource>) -> Self {
        self.password = password;
        self
    }

    /// The schema holding the journal.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The role bcss connects as, when the URL names one.
    pub fn user(&self) -> Option<&str> {
        self.config.get_user()
    }

    /// Where the password comes from.
    pub fn password_source(&self) -> Option<&PasswordSource> {
        self.password.as_ref()
    }

    /// The driver's configuration, the password read now (when a source is given).
    pub(crate) fn driver_config(&self) -> Result<tokio_postgres::Config, AuditError> {
        let mut config = (*self.config).clone();
        if let Some(source) = &self.password {
            let password = source
                .read("PostgreSQL journal password")
                .map_err(|e| match e {
                    // Not the transport's: say it without its "transport configuration" prefix.
                    crate::transport::TransportError::Config(reason) => {
                        AuditError::Config(format!("{self}: {reason}"))
                    }
                    other => AuditError::Config(other.to_string()),
                })?;
            config.password(password.as_bytes());
        }
        Ok(config)
    }

    /// How long connecting may take, per host (the URL's `connect_timeout`, default 10 s).
    pub(crate) fn connect_timeout(&self) -> std::time::Duration {
        self.config
            .get_connect_timeout()
            .copied()
            .unwrap_or(std::time::Duration::from_secs(10))
    }

    /// The CA certificates file trusted beside Mozilla's roots.
    pub(crate) fn root_certificates(&self) -> Option<&PathBuf> {
        self.root_certificates.as_ref()
    }
}

/// `url` with its `schema` parameter set to `schema`.
fn replace_schema(url: &str, schema: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("schema="))
        .map(str::to_string)
        .collect();
    pairs.insert(0, format!("schema={schema}"));
    format!("{base}?{}", pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_parameter_given_twice_is_refused() {
        for url in [
            "postgres://app@db/cpas?schema=nosuch&schema=cpas_a",
            "postgres://app@db/cpas?sslmode=disable&sslmode=require",
        ] {
            let err = PgLocation::parse(url, None).unwrap_err().to_string();
            assert!(err.contains("is given twice"), "{err}");
        }
    }

    #[test]
    fn parses_schema_and_passes_the_rest() {
        let l = PgLocation::parse(
            "postgres://app@127.0.0.1:5433/cpas?schema=cpas_a&sslmode=disable&connect_timeout=3",
            None,
        )
        .unwrap();
        assert_eq!(l.schema(), "cpas_a");
        assert_eq!(l.user(), Some("app"));
        assert_eq!(l.config.get_ports(), &[5433]);
        assert_eq!(
            l.config.get_connect_timeout(),
            Some(&Duration::from_secs(3))
        );
        let w = l.with_schema("cpas_a_witness").unwrap();
        assert_eq!(w.schema(), "cpas_a_witness");
        assert!(w.to_string().contains("schema=cpas_a_witness"));
        assert!(!w.to_string().contains("schema=cpas_a&"));
        let socket = PgLocation::parse("postgresql://app@%2Frun%2Fpostgresql/cpas", None).unwrap();
        assert_eq!(socket.schema(), DEFAULT_SCHEMA);
    }

    #[test]
    fn tls_is_required_over_tcp_unless_the_url_says_otherwise() {
        use tokio_postgres::config::SslMode;
        for (url, mode) in [
            ("postgres://app@db.example/cpas", SslMode::Require),
            (
                "postgres://app@db1,db2:5433/cpas?schema=a",
                SslMode::Require,
            ),
            (
                "postgres://app@db.example/cpas?sslmode=prefer",
                SslMode::Prefer,
            ),
            (
                "postgres://app@db.example/cpas?sslmode=disable",
                SslMode::Disable,
            ),
            ("postgres://app@%2Frun%2Fpostgresql/cpas", SslMode::Prefer),
            (
                "postgres://app@localhost/cpas?host=/run/postgresql",
                SslMode::Prefer,
            ),
        ] {
            let l = PgLocation::parse(url, None).unwrap();
            assert_eq!(l.config.get_ssl_mode(), mode, "{url}");
        }
    }

    #[test]
    fn refuses_passwords_without_repeating_them() {
        for url in [
            "postgres://app:Sup3rS3cret@db/cpas",
            "postgres://app:Sup3rS3cret@db1,db2/cpas?schema=x",
            "postgres://app@db/cpas?password=Sup3rS3cret",
        ] {
            let err = PgLocation::parse(url, None).unwrap_err().to_string();
            assert!(err.contains("password"), "{err}");
            assert!(!err.contains("Sup3rS3cret"), "{err}");
        }
    }

    #[test]
    fn refuses_bad_schemas_and_options() {
        for (url, expected) in [
            ("postgres://app@db/cpas?schema=Bad-Name", "schema"),
            ("postgres://app@db/cpas?schema=pg_catalog", "schema"),
            (
                "postgres://app@db/cpas?frobnicate=1",
                "invalid connection string",
            ),
            ("postgres:///cpas", "no host"),
            (
                "postgres://app@db/cpas?sslmode=verify-full",
                "give sslmode=disable, prefer or require",
            ),
        ] {
            let err = PgLocation::parse(url, None).unwrap_err().to_string();
            assert!(err.contains(expected), "{url}: {err}");
        }
    }
}
