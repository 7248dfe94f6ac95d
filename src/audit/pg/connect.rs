//! Connecting to the journal's database: TLS through rustls (ring, Mozilla's roots and the
//! location's `sslrootcert`), the password read from its source, and the session settings
//! an acknowledged append relies on.

use std::sync::Arc;

use rustls::RootCertStore;
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
pub(crate) async fn connect(location: &PgLocation) -> Result<Connection, AuditError> {
    let config = location.driver_config()?;
    let (client, task) = match config.get_ssl_mode() {
        SslMode::Disable => {
            let (client, connection) = config
                .connect(NoTls)
                .await
                .map_err(|e| db_error(location, "connect", &e))?;
            (client, tokio::spawn(drive(connection)))
        }
        _ => {
            let tls = tokio_postgres_rustls::MakeRustlsConnect::new(tls_config(location)?);
            let (client, connection) = config
                .connect(tls)
                .await
                .map_err(|e| db_error(location, "connect", &e))?;
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
        let bytes = std::fs::read(path)
            .map_err(|e| AuditError::io(path, "read the database's root certificates", e))?;
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
