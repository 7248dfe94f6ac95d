//! Production never talks to a stand-in by accident (issue 12, item 9).
//!
//! A production client refuses the replay transport and any loopback or plain `http://`
//! endpoint, unless it is configured for a drill ([`ClientBuilder::drill`], `[transport]
//! drill = true`); then every record it writes says so (`how.drill`). The rule is checked
//! when the client is built, for the transport and every endpoint it knows, and again at
//! each call on the endpoint resolved (a refusal journaled after the grant).
//!
//! [`ClientBuilder::drill`]: super::ClientBuilder::drill

use reqwest::Url;

use super::Client;
use super::steps::AfterGrant;
use crate::endpoints::Endpoints;
use crate::environment::Environment;
use crate::error::Error;
use crate::services::Catalogue;
use crate::transport::Transport;
use crate::transport::http::is_loopback_host;

/// What to do about it, said once in every refusal.
const HOW_TO_DRILL: &str = "a production client talks to BCSS only; for a drill against a \
    stand-in, say so explicitly (ClientBuilder::drill(true), or [transport] drill = true in \
    bcss.toml), and every journal record will say it was a drill";

/// Why `endpoint` is not BCSS: plain `http://`, or a loopback host. `None` for an
/// `https://` endpoint elsewhere (or one that is not a URL: the transport refuses it).
pub(super) fn stand_in_endpoint(endpoint: &str) -> Option<&'static str> {
    let url = Url::parse(endpoint).ok()?;
    if url.host_str().is_some_and(is_loopback_host) {
        Some("a loopback address")
    } else if url.scheme() == "http" {
        Some("plain http://")
    } else {
        None
    }
}

/// At build: a production client that is not a drill refuses a stand-in transport and any
/// stand-in endpoint among those its catalogue's services resolve to.
pub(super) fn check_at_build(
    environment: Environment,
    drill: bool,
    transport: &dyn Transport,
    endpoints: &Endpoints,
    catalogue: &Catalogue,
) -> Result<(), Error> {
    if environment != Environment::Production || drill {
        return Ok(());
    }
    if let Some(what) = transport.stand_in() {
        return Err(Error::config(format!(
            "a production client refuses {what}: it answers without BCSS; {HOW_TO_DRILL}"
        )));
    }
    for service in catalogue {
        let Ok(url) = endpoints.resolve(environment, service) else {
            continue;
        };
        if let Some(why) = stand_in_endpoint(&url) {
            return Err(Error::config(format!(
                "a production client refuses the endpoint of {service}, {url} ({why}); {HOW_TO_DRILL}"
            )));
        }
    }
    Ok(())
}

impl Client {
    /// At each call, on the endpoint resolved: refused (after the grant, journaled) when
    /// a production client that is not a drill would reach a stand-in.
    pub(super) fn check_endpoint_is_bcss(&self, endpoint: &str) -> Result<(), AfterGrant> {
        let inner = &*self.inner;
        if inner.environment != Environment::Production || inner.drill {
            return Ok(());
        }
        match stand_in_endpoint(endpoint) {
            None => Ok(()),
            Some(why) => Err(AfterGrant::new(
                "stand_in_endpoint",
                Error::config(format!(
                    "a production client refuses the endpoint {endpoint} ({why}); {HOW_TO_DRILL}"
                )),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stand_ins_are_loopback_or_plain_http() {
        for url in [
            "http://127.0.0.1:8080/x",
            "https://127.0.0.1/x",
            "https://localhost/x",
            "http://[::1]/x",
            "http://bcss.example/x",
        ] {
            assert!(stand_in_endpoint(url).is_some(), "{url}");
        }
        assert_eq!(
            stand_in_endpoint("https://bcssksz-services-prod.smals.be/SOA4520/x"),
            None
        );
    }
}
