//! Connecting to the journal's database: TLS through rustls (ring, Mozilla's roots and the
//! location's `sslrootcert`), the password read from its source, and the session settings
//! an acknowledged append relies on.

use std::sync::Arc;
use std::time::Duration;

use rustls::{CertificateError, RootCertStore};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio_postgres::config::SslMode;
use tokio_postgres::{Client, NoTls};

use super::{PgLocation, db_error};
use crate::audit::AuditError;

/// An open connection: the client, and the task driving its socket (stopped when dropped).
pub(crate) struct Connection {
    pub client: Client,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Connect to `location` and set up the session: `synchronous_commit = on` (a commit
/// returns once its WAL is flushed: what an acknowledged append rests on), and no JIT
/// compilation (bcss's statements are short; compiling them costs more than it saves).
///
/// The whole setup (TCP, TLS, the startup and authentication exchange, the session's
/// settings) is bounded by the URL's `connect_timeout` (10 s by default) per host named: a
/// server that accepts the connection and never answers fails with
/// [`AuditError::Database`] saying it "timed out after N s". The driver's own timeout
/// covers only the TCP connection.
pub(crate) async fn connect(location: &PgLocation) -> Result<Connection, AuditError> {
    let config = location.driver_config()?;
    let limit = setup_limit(&config);
    match tokio::time::timeout(limit, connect_unbounded(location, config)).await {
        Ok(result) => result,
        Err(_) => Err(AuditError::Database {
            location: location.to_string(),
            operation: "connect",
            message: format!(
                "timed out after {} s: the server accepted no session in that time (TCP, TLS and the startup/authentication exchange are bounded by the URL's connect_timeout, default 10 s); check the host and port name a PostgreSQL server",
                limit.as_secs_f64()
            ),
        }),
    }
}

/// How long connecting may take: `connect_timeout` (10 s when the URL gives none, or
/// gives 0) for each host the URL names, as the driver tries them in turn.
fn setup_limit(config: &tokio_postgres::Config) -> Duration {
    let per_host = config
        .get_connect_timeout()
        .copied()
        .filter(|t| !t.is_zero())
        .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    let hosts = u32::try_from(config.get_hosts().len().max(1)).unwrap_or(u32::MAX);
    per_host.saturating_mul(hosts)
}

/// The connection timeout when the URL gives none.
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

async fn connect_unbounded(
    location: &PgLocation,
    config: tokio_postgres::Config,
) -> Result<Connection, AuditError> {
    let (client, task) = match config.get_ssl_mode() {
        SslMode::Disable => {
            let (client, connection) = config
                .connect(NoTls)
                .await
                .map_err(|e| connect_error(location, &e))?;
            (client, tokio::spawn(drive(connection)))
        }
        _ => {
            let tls = tokio_postgres_rustls::MakeRustlsConnect::new(tls_config(location)?);
            let (client, connection) = config
                .connect(tls)
                .await
                .map_err(|e| connect_error(location, &e))?;
            (client, tokio::spawn(drive(connection)))
        }
    };
    let connection = Connection { client, task };
    connection
        .client
        .batch_execute("SET synchronous_commit = on; SET jit = off")
        .await
        .map_err(|e| db_error(location, "set up the session", &e))?;
    Ok(connection)
}

/// A failed connection as [`AuditError::Database`], with what to do about the usual
/// causes: no password source, a server without TLS, a certificate not trusted.
fn connect_error(location: &PgLocation, e: &tokio_postgres::Error) -> AuditError {
    let mut message = super::describe(e);
    if let Some(words) = certificate_problem(e) {
        message = format!("the server's TLS certificate is refused: {words}");
    } else if message.contains("password missing") {
        message.push_str(
            ": the server asks for a password and none was given: give [journal] password_env or password_file, --password-env/--password-file, or set PGPASSWORD",
        );
    } else if message.contains("server does not support TLS") {
        message.push_str(
            ": add sslmode=disable (or prefer) to the URL for a server without TLS, on a trusted network or a unix socket",
        );
    }
    AuditError::Database {
        location: location.to_string(),
        operation: "connect",
        message,
    }
}

/// The rustls certificate error behind `e`, in words, when there is one.
fn certificate_problem(e: &tokio_postgres::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(cause) = source {
        let tls = cause.downcast_ref::<rustls::Error>().or_else(|| {
            cause
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(rustls::Error::InvalidCertificate(problem)) = tls {
            return Some(certificate_words(problem));
        }
        source = cause.source();
    }
    None
}

/// A rustls certificate error as what it means and what to do.
pub(crate) fn certificate_words(problem: &CertificateError) -> String {
    const ROOTS: &str =
        "give sslrootcert=FILE with the CA that signed it (Mozilla's roots are trusted otherwise)";
    match problem {
        CertificateError::UnknownIssuer => format!(
            "it is not signed by a certificate authority bcss trusts (unknown issuer): {ROOTS}"
        ),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "it has expired: the database's administrator must renew it".to_string()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "it is not valid yet: check this machine's clock, or the certificate's dates"
                .to_string()
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            "it does not name the host in the URL (name mismatch): connect by a name the certificate holds, or have it reissued for this one".to_string()
        }
        CertificateError::Revoked => "it was revoked".to_string(),
        CertificateError::BadSignature => {
            "its signature does not check against its issuer's key".to_string()
        }
        CertificateError::Other(other) if format!("{other:?}").contains("CaUsedAsEndEntity") => {
            "the server presents a CA certificate as its own: give sslrootcert=FILE with the CA that signed it, or a server certificate signed by a CA".to_string()
        }
        other => format!("{other:?}: {ROOTS}, or check the server's certificate"),
    }
}

async fn drive<S, T>(connection: tokio_postgres::Connection<S, T>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio_postgres::tls::TlsStream + Unpin,
{
    if let Err(e) = connection.await {
        tracing::warn!(error = %super::describe(&e), "PostgreSQL journal connection ended");
    }
}

/// rustls with the ring provider, Mozilla's roots and the location's extra roots.
fn tls_config(location: &PgLocation) -> Result<rustls::ClientConfig, AuditError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = location.root_certificates() {
        let bytes = std::fs::read(path).map_err(|e| {
            AuditError::Config(format!(
                "{location}: sslrootcert {} (the database's root certificates) cannot be read: {e}",
                path.display()
            ))
        })?;
        let certs = CertificateDer::pem_slice_iter(&bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| {
                AuditError::Config(format!(
                    "sslrootcert {} is not a PEM file of certificates",
                    path.display()
                ))
            })?;
        if certs.is_empty() {
            return Err(AuditError::Config(format!(
                "sslrootcert {} holds no certificate",
                path.display()
            )));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| {
                AuditError::Config(format!(
                    "sslrootcert {}: not a usable CA certificate ({e})",
                    path.display()
                ))
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| AuditError::Config(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// webpki's error for a CA certificate presented as the server's own, as rustls
    /// carries it (`Other`): only its name is known here.
    #[derive(Debug)]
    struct CaUsedAsEndEntity;

    impl std::fmt::Display for CaUsedAsEndEntity {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("CaUsedAsEndEntity")
        }
    }

    impl std::error::Error for CaUsedAsEndEntity {}

    #[test]
    fn certificate_errors_are_said_in_words() {
        let self_signed = CertificateError::Other(rustls::OtherError(Arc::new(CaUsedAsEndEntity)));
        for (problem, expected) in [
            (
                self_signed,
                "the server presents a CA certificate as its own: give sslrootcert=FILE with the CA that signed it, or a server certificate signed by a CA",
            ),
            (CertificateError::UnknownIssuer, "unknown issuer"),
            (CertificateError::Expired, "it has expired"),
            (CertificateError::NotValidForName, "name mismatch"),
        ] {
            let words = certificate_words(&problem);
            assert!(words.contains(expected), "{words}");
        }
    }
}
