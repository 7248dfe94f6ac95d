//! Turning reqwest/hyper/rustls errors into [`TransportError`]s with readable reasons.
//!
//! The interesting cause is usually deep in the source chain (reqwest → hyper-util → I/O →
//! rustls), so the chain is walked. Nothing here can quote a secret: requests are never
//! echoed, URLs carry no credentials (the endpoint policy refuses them), and the
//! Authorization header is not part of any error.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use rustls::{AlertDescription, CertificateError, InvalidMessage};

use crate::transport::TransportError;

/// Each error of the chain, from `top` down. An [`io::Error`] wrapping another error is
/// followed by that error itself (`io::Error::source` skips it).
fn chain<'a>(
    top: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(top), |&e: &&'a (dyn StdError + 'static)| {
        if let Some(inner) = e.downcast_ref::<io::Error>().and_then(io::Error::get_ref) {
            let inner: &(dyn StdError + 'static) = inner;
            Some(inner)
        } else {
            e.source()
        }
    })
}

fn find_rustls<'a>(top: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    chain(top).find_map(|e| e.downcast_ref::<rustls::Error>())
}

/// The messages of the chain below `top`, joined, without repeats: e.g.
/// `client error (Connect): tcp connect error: Connection refused (os error 111)`.
fn reason(top: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in chain(top).skip(1) {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p == &text) {
            parts.push(text);
        }
    }
    if parts.is_empty() {
        top.to_string()
    } else {
        parts.join(": ")
    }
}

/// Classifies a reqwest error from sending the request or reading the reply.
pub(crate) fn classify(
    err: &reqwest::Error,
    endpoint: &str,
    connect_timeout: Duration,
) -> TransportError {
    let top: &(dyn StdError + 'static) = err;
    if let Some(tls) = find_rustls(top) {
        return TransportError::Tls {
            endpoint: endpoint.to_owned(),
            reason: describe_tls(tls),
        };
    }
    if err.is_timeout() && err.is_connect() {
        return TransportError::Timeout {
            endpoint: endpoint.to_owned(),
            phase: "connect",
            after: connect_timeout,
            status: None,
        };
    }
    if err.is_connect() {
        return TransportError::Connect {
            endpoint: endpoint.to_owned(),
            reason: reason(top),
        };
    }
    TransportError::Http {
        endpoint: endpoint.to_owned(),
        reason: reason(top),
        status: None,
    }
}

/// Classifies an error from sending the request, before the reply's status line: a
/// connection the server closed or reset once the request was written is
/// [`TransportError::Closed`] (no answer began; a read may be retried).
pub(crate) fn classify_send(
    err: &reqwest::Error,
    endpoint: &str,
    connect_timeout: Duration,
) -> TransportError {
    match classify(err, endpoint, connect_timeout) {
        TransportError::Http { reason, .. } if closed_before_reply(err) => TransportError::Closed {
            endpoint: endpoint.to_owned(),
            reason,
        },
        other => other,
    }
}

/// Whether the chain says the connection ended before a complete reply head: hyper's
/// "connection closed before message completed", or a reset, abort or broken pipe.
fn closed_before_reply(err: &reqwest::Error) -> bool {
    let top: &(dyn StdError + 'static) = err;
    chain(top).any(|e| {
        e.downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_incomplete_message)
            || e.downcast_ref::<io::Error>().is_some_and(|io| {
                matches!(
                    io.kind(),
                    io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::BrokenPipe
                        | io::ErrorKind::UnexpectedEof
                )
            })
    })
}

/// A readable reason for a TLS failure, with what to do about it.
pub(crate) fn describe_tls(e: &rustls::Error) -> String {
    use rustls::Error as E;
    match e {
        E::InvalidCertificate(cert) => describe_server_certificate(cert),
        E::AlertReceived(AlertDescription::CertificateRequired) => {
            "the server requires a client certificate and none was presented \
             (configure a client certificate; TLS alert certificate_required)"
                .to_owned()
        }
        E::AlertReceived(
            alert @ (AlertDescription::BadCertificate
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateUnknown
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::CertificateRevoked
            | AlertDescription::CertificateExpired
            | AlertDescription::AccessDenied),
        ) => format!(
            "the server refused the client certificate (TLS alert {}); check that it is the \
             certificate registered with BCSS, not expired, and sent with its chain",
            alert_name(*alert)
        ),
        E::AlertReceived(AlertDescription::HandshakeFailure) => {
            "the server aborted the handshake (TLS alert handshake_failure): it may require a \
             client certificate, or share no protocol version or cipher suite with us"
                .to_owned()
        }
        E::AlertReceived(alert) => format!("the server sent the TLS alert {}", alert_name(*alert)),
        // The first bytes back are no TLS record: another protocol answered, most often
        // a plain-HTTP server (its `HTTP/1.1 400` to our ClientHello).
        E::InvalidMessage(
            InvalidMessage::InvalidContentType | InvalidMessage::UnknownProtocolVersion,
        ) => format!(
            "the server's answer is not TLS ({e}): a plain-HTTP server or another protocol \
             listens on this port; check the endpoint's scheme and port"
        ),
        E::NoApplicationProtocol => {
            "the server accepted neither HTTP/2 nor HTTP/1.1 (ALPN)".to_owned()
        }
        other => other.to_string(),
    }
}

fn describe_server_certificate(e: &CertificateError) -> String {
    use CertificateError as C;
    match e {
        C::UnknownIssuer => {
            "the server's certificate is untrusted: unknown issuer (it is not signed by a \
             trusted root CA; for a test setup, add the CA as an extra trusted root)"
                .to_owned()
        }
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            format!("the server's certificate is not valid for this host name ({e})")
        }
        C::Expired | C::ExpiredContext { .. } => {
            format!("the server's certificate has expired ({e})")
        }
        C::NotValidYet | C::NotValidYetContext { .. } => {
            format!("the server's certificate is not valid yet ({e}); check this machine's clock")
        }
        C::Revoked => "the server's certificate is revoked".to_owned(),
        C::BadSignature => "the server's certificate has a bad signature".to_owned(),
        other => format!("the server's certificate is not acceptable ({other})"),
    }
}

/// The TLS alert name as the RFCs spell it (`certificate_required`).
fn alert_name(alert: AlertDescription) -> String {
    use AlertDescription as A;
    let name = match alert {
        A::CertificateRequired => "certificate_required",
        A::BadCertificate => "bad_certificate",
        A::UnknownCA => "unknown_ca",
        A::CertificateUnknown => "certificate_unknown",
        A::UnsupportedCertificate => "unsupported_certificate",
        A::CertificateRevoked => "certificate_revoked",
        A::CertificateExpired => "certificate_expired",
        A::AccessDenied => "access_denied",
        A::HandshakeFailure => "handshake_failure",
        A::ProtocolVersion => "protocol_version",
        A::DecryptError => "decrypt_error",
        A::InternalError => "internal_error",
        A::NoApplicationProtocol => "no_application_protocol",
        A::UnrecognisedName => "unrecognized_name",
        other => return format!("{other:?}"),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_names_follow_the_rfc_spelling() {
        assert_eq!(
            alert_name(AlertDescription::CertificateRequired),
            "certificate_required"
        );
        assert_eq!(alert_name(AlertDescription::UnknownCA), "unknown_ca");
    }

    #[test]
    fn timeouts_say_their_duration_as_configured() {
        let message = |after| {
            TransportError::Timeout {
                endpoint: "https://bcss.example".to_owned(),
                phase: "call",
                after,
                status: None,
            }
            .to_string()
        };
        assert!(message(Duration::from_millis(600)).contains("within 600 ms"));
        assert!(message(Duration::from_secs(10)).contains("within 10 s"));
        assert!(message(Duration::from_millis(1_500)).contains("within 1.5 s"));
    }

    #[test]
    fn tls_reasons_name_the_problem() {
        let unknown = describe_tls(&rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer,
        ));
        assert!(
            unknown.contains("untrusted") && unknown.contains("unknown issuer"),
            "{unknown}"
        );
        let required = describe_tls(&rustls::Error::AlertReceived(
            AlertDescription::CertificateRequired,
        ));
        assert!(
            required.contains("requires a client certificate"),
            "{required}"
        );
        let not_tls = describe_tls(&rustls::Error::InvalidMessage(
            InvalidMessage::InvalidContentType,
        ));
        assert!(
            not_tls.contains("not TLS") && not_tls.contains("plain-HTTP"),
            "{not_tls}"
        );
        let refused = describe_tls(&rustls::Error::AlertReceived(
            AlertDescription::BadCertificate,
        ));
        assert!(
            refused.contains("refused the client certificate")
                && refused.contains("bad_certificate"),
            "{refused}"
        );
    }

    #[test]
    fn the_chain_looks_inside_io_errors() {
        let io = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        let top: &(dyn StdError + 'static) = &io;
        assert!(matches!(
            find_rustls(top),
            Some(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer
            ))
        ));
    }
}
