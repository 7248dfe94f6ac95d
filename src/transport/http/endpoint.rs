//! The endpoint policy: HTTPS everywhere, plain HTTP only to this machine.
//!
//! Checked on every call before anything touches the network (no DNS lookup, no
//! connection): a refused endpoint costs nothing and leaks nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Mutex, PoisonError};

use reqwest::Url;

use crate::transport::TransportError;

/// The host name accepted for plain `http://` besides loopback IP literals. The transport
/// pins its resolution to 127.0.0.1 and ::1, so it never reaches the system resolver.
pub(crate) const LOCALHOST: &str = "localhost";

/// Checks `endpoint` against the transport policy and returns it parsed.
///
/// Accepted: `https://` to any host; `http://` only to a loopback address (127.0.0.0/8,
/// `::1`, an IPv4-mapped loopback address, or the name `localhost`). Refused with
/// [`TransportError::Endpoint`]: malformed URLs, other schemes, URLs without a host, and
/// URLs carrying a user name or password (credentials are configured on the transport,
/// never inline in a URL).
///
/// ```
/// use bcss::transport::TransportError;
/// use bcss::transport::http::check_endpoint;
///
/// assert!(check_endpoint("https://bcssksz-services-test.smals.be/SOA4520/x").is_ok());
/// assert!(check_endpoint("http://127.0.0.1:8080/x").is_ok());
/// assert!(matches!(
///     check_endpoint("http://bcssksz-services-test.smals.be/SOA4520/x"),
///     Err(TransportError::Endpoint { .. })
/// ));
/// ```
pub fn check_endpoint(endpoint: &str) -> Result<Url, TransportError> {
    let url =
        Url::parse(endpoint).map_err(|e| refuse(endpoint, format!("not a valid URL ({e})")))?;
    let scheme = url.scheme();
    if scheme != "https" && scheme != "http" {
        return Err(refuse(
            endpoint,
            format!(
                "scheme `{scheme}` is not supported; use https:// (or http:// to a loopback address)"
            ),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse(
            endpoint,
            "the URL carries credentials; configure HTTP Basic credentials on the transport instead"
                .to_owned(),
        ));
    }
    let Some(host) = url.host_str() else {
        return Err(refuse(endpoint, "the URL has no host".to_owned()));
    };
    if scheme == "http" && !is_loopback_host(host) {
        return Err(refuse(
            endpoint,
            format!(
                "plain http:// is only allowed to a loopback address (127.0.0.0/8, ::1, localhost), \
                 not to {host}; use https://"
            ),
        ));
    }
    Ok(url)
}

/// The endpoints a transport has accepted, parsed: a call to one of them skips parsing
/// (URL parsing with IDNA host processing was about 13 thousand instructions a call,
/// 1.5% of a whole RetrieveTIGroups call). Only accepted endpoints are kept, at most
/// [`Checked::CAPACITY`]; a refused one is checked, and refused, every time.
#[derive(Debug, Default)]
pub(crate) struct Checked(Mutex<Vec<(Box<str>, Url)>>);

impl Checked {
    /// More distinct endpoints than this (a client calls one per service and
    /// environment) empty the list, which then refills.
    pub(crate) const CAPACITY: usize = 32;

    /// [`check_endpoint`], remembered.
    pub(crate) fn check(&self, endpoint: &str) -> Result<Url, TransportError> {
        let lock = || self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, url)) = lock().iter().find(|(e, _)| &**e == endpoint) {
            return Ok(url.clone());
        }
        let url = check_endpoint(endpoint)?;
        let mut known = lock();
        if known.len() >= Self::CAPACITY {
            known.clear();
        }
        known.push((endpoint.into(), url.clone()));
        Ok(url)
    }
}

/// `host` as [`Url::host_str`] gives it: IPv6 literals in brackets, IPv4 literals
/// normalised to dotted decimal, domain names lower-cased.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    if host == LOCALHOST {
        return true;
    }
    let literal = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    literal.parse::<IpAddr>().is_ok_and(is_loopback_ip)
}

fn is_loopback_v6(ip: &Ipv6Addr) -> bool {
    ip.is_loopback()
        || ip
            .to_ipv4_mapped()
            .is_some_and(|v4: Ipv4Addr| v4.is_loopback())
}

/// Whether `ip` counts as loopback for the plain-HTTP rule.
pub(crate) fn is_loopback_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => is_loopback_v6(&v6),
    }
}

fn refuse(endpoint: &str, reason: String) -> TransportError {
    TransportError::Endpoint {
        endpoint: redact_userinfo(endpoint),
        reason,
    }
}

/// `endpoint` with anything between `://` and the first `@` of the authority replaced, so
/// that a password typed into a URL never reaches an error message. Works on malformed
/// input too; very long input is shortened.
pub(crate) fn redact_userinfo(endpoint: &str) -> String {
    const MAX: usize = 512;
    let mut text = match endpoint.find("://") {
        Some(start) => {
            let authority_start = start + 3;
            let rest = &endpoint[authority_start..];
            let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!("{}***@{}", &endpoint[..authority_start], &rest[at + 1..]),
                None => endpoint.to_owned(),
            }
        }
        None => endpoint.to_owned(),
    };
    if text.len() > MAX {
        let mut cut = MAX;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_endpoints_are_remembered_refused_ones_never() {
        let checked = Checked::default();
        let ok = "http://127.0.0.1:8080/SOA4520/x";
        assert_eq!(checked.check(ok).unwrap().as_str(), ok);
        assert_eq!(checked.check(ok).unwrap().as_str(), ok);
        let bad = "http://10.0.0.1/x";
        for _ in 0..2 {
            assert!(matches!(
                checked.check(bad),
                Err(TransportError::Endpoint { .. })
            ));
        }
        assert_eq!(checked.0.lock().unwrap().len(), 1);
        for port in 0..Checked::CAPACITY + 5 {
            let url = format!("https://b2b-test.ksz-bcss.fgov.be:{}/x", 4000 + port);
            assert_eq!(checked.check(&url).unwrap().as_str(), url);
        }
        assert!(checked.0.lock().unwrap().len() <= Checked::CAPACITY);
    }

    fn refused(endpoint: &str) -> String {
        match check_endpoint(endpoint) {
            Err(TransportError::Endpoint { endpoint, reason }) => format!("{endpoint}: {reason}"),
            other => panic!("{endpoint} should be refused, got {other:?}"),
        }
    }

    #[test]
    fn https_anywhere_http_only_to_loopback() {
        for ok in [
            "https://bcssksz-services-test.smals.be/SOA4520/TestConnectionServiceService",
            "https://b2b-test.ksz-bcss.fgov.be:4520/x",
            "http://127.0.0.1:8080/x",
            "http://127.1.2.3/x",
            "http://[::1]:8080/x",
            "http://[::ffff:127.0.0.1]/x",
            "http://localhost:8080/x",
            "http://LOCALHOST/x",
            "HTTP://127.0.0.1/x",
        ] {
            assert!(check_endpoint(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://bcssksz-services-test.smals.be/x",
            "http://10.0.0.1/x",
            "http://128.0.0.1/x",
            "http://[::2]/x",
            "http://localhost./x",
            "http://localhost.evil.example/x",
            "http://0.0.0.0/x",
        ] {
            assert!(refused(bad).contains("loopback"), "{bad}");
        }
    }

    #[test]
    fn malformed_odd_schemes_and_inline_credentials_are_refused() {
        assert!(refused("not a url").contains("not a valid URL"));
        assert!(refused("https://").contains("not a valid URL"));
        assert!(refused("file:///etc/passwd").contains("scheme"));
        assert!(refused("ftp://127.0.0.1/").contains("scheme"));
        let text = refused("https://E0212344876:s3cret@host.example/x");
        assert!(
            text.contains("credentials") && !text.contains("s3cret"),
            "{text}"
        );
        let text = refused("http://user:s3cret@[bad/x");
        assert!(!text.contains("s3cret"), "{text}");
    }

    #[test]
    fn redaction_keeps_the_host_and_bounds_the_length() {
        assert_eq!(
            redact_userinfo("https://u:p@host.example/a@b"),
            "https://***@host.example/a@b"
        );
        assert_eq!(
            redact_userinfo("https://host.example/a@b"),
            "https://host.example/a@b"
        );
        assert!(redact_userinfo(&"é".repeat(1000)).len() <= 512 + '…'.len_utf8());
    }
}
