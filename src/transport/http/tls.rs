//! The rustls client configuration: ring provider, Mozilla's roots (webpki-roots) plus
//! any extra trusted CA, and the optional client certificate (PEM or PKCS#12).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::secret::{PasswordSource, read_capped};
use crate::transport::TransportError;

/// A client certificate for mutual TLS, with its private key.
///
/// Only where the files are is held here; they are read when the transport is built.
#[derive(Clone, PartialEq, Eq)]
pub enum ClientCertificate {
    /// PEM files: the certificate chain (leaf first, then any intermediates) and the
    /// unencrypted private key (PKCS#8, PKCS#1 or SEC1). Both may be the same file.
    Pem {
        /// The certificate chain.
        certificate_chain: PathBuf,
        /// The private key.
        private_key: PathBuf,
    },
    /// A PKCS#12 (`.p12`, `.pfx`) file holding one private key and its certificate chain,
    /// encrypted with a password (PBES2/AES or the legacy 3DES/RC2 schemes). Needs the
    /// cargo feature `pkcs12` (on by default); without it, loading this is a
    /// [`TransportError::Config`] that says to use PEM files.
    Pkcs12 {
        /// The PKCS#12 file.
        path: PathBuf,
        /// Where its password is read from.
        password: PasswordSource,
    },
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Paths and the password's source only: neither is secret.
        match self {
            Self::Pem {
                certificate_chain,
                private_key,
            } => f
                .debug_struct("Pem")
                .field("certificate_chain", certificate_chain)
                .field("private_key", private_key)
                .finish(),
            Self::Pkcs12 { path, password } => f
                .debug_struct("Pkcs12")
                .field("path", path)
                .field("password", password)
                .finish(),
        }
    }
}

/// A loaded certificate chain and key. Not `Debug`: it holds the private key, which
/// rustls-pki-types wipes on drop.
pub(crate) struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl ClientCertificate {
    /// Reads the files (and the PKCS#12 password).
    pub(crate) fn load(&self) -> Result<Identity, TransportError> {
        match self {
            Self::Pem {
                certificate_chain,
                private_key,
            } => Ok(Identity {
                chain: read_pem_certificates(certificate_chain, "client certificate chain")?,
                key: read_pem_key(private_key)?,
            }),
            Self::Pkcs12 { path, password } => read_pkcs12(path, password),
        }
    }
}

/// The ring crypto provider, chosen explicitly: no process-wide default is installed or
/// relied upon.
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the rustls configuration.
pub(crate) fn client_config(
    extra_roots: &[PathBuf],
    identity: Option<Identity>,
) -> Result<rustls::ClientConfig, TransportError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for path in extra_roots {
        for cert in read_pem_certificates(path, "extra trusted root CA")? {
            roots.add(cert).map_err(|e| {
                TransportError::Config(format!(
                    "extra trusted root CA {}: not a usable CA certificate ({e})",
                    path.display()
                ))
            })?;
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::Config(format!("TLS setup: {e}")))?
        .with_root_certificates(roots);
    let mut config = match identity {
        None => builder.with_no_client_auth(),
        Some(Identity { chain, key }) => {
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| match e {
                    rustls::Error::InconsistentKeys(_) => TransportError::Config(
                        "client certificate: the private key does not belong to the certificate"
                            .to_owned(),
                    ),
                    // rustls's messages about keys name the problem (e.g. an unsupported
                    // algorithm), never key material.
                    other => TransportError::Config(format!("client certificate: {other}")),
                })?
        }
    };
    // reqwest leaves ALPN to a preconfigured TLS setup.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn read_pem_certificates(
    path: &Path,
    what: &str,
) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let bytes = read_capped(path, what)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            TransportError::Config(format!(
                "{what}: {} is not valid PEM ({})",
                path.display(),
                describe_pem_error(&e)
            ))
        })?;
    if certs.is_empty() {
        return Err(TransportError::Config(format!(
            "{what}: {} holds no PEM `CERTIFICATE` section",
            path.display()
        )));
    }
    Ok(certs)
}

fn read_pem_key(path: &Path) -> Result<PrivateKeyDer<'static>, TransportError> {
    const WHAT: &str = "client private key";
    let bytes = read_capped(path, WHAT)?;
    match PrivateKeyDer::from_pem_slice(&bytes) {
        Ok(key) => Ok(key),
        Err(pem::Error::NoItemsFound) => {
            let encrypted = bytes
                .windows(b"ENCRYPTED PRIVATE KEY".len())
                .any(|w| w == b"ENCRYPTED PRIVATE KEY")
                || bytes
                    .windows(b"Proc-Type: 4,ENCRYPTED".len())
                    .any(|w| w == b"Proc-Type: 4,ENCRYPTED");
            Err(TransportError::Config(if encrypted {
                format!(
                    "{WHAT}: {} is encrypted; use a PKCS#12 file with a password source, \
                     or an unencrypted PEM key readable only by this account",
                    path.display()
                )
            } else {
                format!(
                    "{WHAT}: {} holds no PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)",
                    path.display()
                )
            }))
        }
        // Never quote the parser's detail here: it could echo bytes of the key.
        Err(_) => Err(TransportError::Config(format!(
            "{WHAT}: {} is not valid PEM",
            path.display()
        ))),
    }
}

fn describe_pem_error(e: &pem::Error) -> String {
    match e {
        pem::Error::MissingSectionEnd { .. } => "a section has no END line".to_owned(),
        pem::Error::IllegalSectionStart { .. } => "malformed BEGIN line".to_owned(),
        pem::Error::Base64Decode(_) => "invalid base64".to_owned(),
        pem::Error::SectionTooLarge => "a section is too large".to_owned(),
        other => other.to_string(),
    }
}

/// Without the `pkcs12` feature: a clear refusal, before any file or password is read.
#[cfg(not(feature = "pkcs12"))]
fn read_pkcs12(path: &Path, _password: &PasswordSource) -> Result<Identity, TransportError> {
    Err(TransportError::Config(format!(
        "client certificate (PKCS#12): {}: this build of bcss has no PKCS#12 support \
         (cargo feature `pkcs12`); give the certificate chain and key as PEM files \
         (client_certificate and client_key), or build bcss with the feature",
        path.display()
    )))
}

#[cfg(feature = "pkcs12")]
fn read_pkcs12(path: &Path, password: &PasswordSource) -> Result<Identity, TransportError> {
    const WHAT: &str = "client certificate (PKCS#12)";
    let bytes = read_capped(path, WHAT)?;
    let password = password.read("PKCS#12 password")?;
    let store = p12_keystore::KeyStore::from_pkcs12(
        &bytes,
        &password,
        p12_keystore::Pkcs12ImportPolicy::Strict,
    )
    .map_err(|e| {
        let reason = match e {
            p12_keystore::error::Error::MacError(_) => {
                "wrong password, or the file is corrupt (integrity check failed)".to_owned()
            }
            // The crate's other errors describe the structure, never key material.
            other => format!("cannot be read ({other})"),
        };
        TransportError::Config(format!("{WHAT}: {}: {reason}", path.display()))
    })?;
    let mut chains = store.entries().filter_map(|(_, entry)| match entry {
        p12_keystore::KeyStoreEntry::PrivateKeyChain(chain) => Some(chain),
        _ => None,
    });
    let (Some(chain), None) = (chains.next(), chains.next()) else {
        return Err(TransportError::Config(format!(
            "{WHAT}: {} must hold exactly one private key with its certificate",
            path.display()
        )));
    };
    if chain.certs().is_empty() {
        return Err(TransportError::Config(format!(
            "{WHAT}: {} holds a private key without its certificate",
            path.display()
        )));
    }
    Ok(Identity {
        chain: chain
            .certs()
            .iter()
            .map(|c| CertificateDer::from(c.as_der().to_vec()))
            .collect(),
        key: PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
            chain.key().as_der().to_vec(),
        )),
    })
}
