//! Where each service lives in each environment, and the soapAction of each operation.
//!
//! The defaults are each service's catalogue entry: for the built-in services, the
//! project's own WSDL files in `wsdl/`, read at build time (`build.rs`;
//! `tests/endpoints_wsdl.rs` checks that the table and the files agree); for configured
//! services, their `[[service]]` entry.
//! A client never fetches `?wsdl` at run time: behind BCSS's reverse proxy the address it
//! returns is wrong.
//!
//! Overrides: a base URL per environment (for example the local mock, or BCSS's direct
//! B2B hosts) keeps each service's path and replaces scheme, host and port; a full URL per
//! environment and service replaces one endpoint.

use std::collections::BTreeMap;

use reqwest::Url;

use crate::environment::Environment;
use crate::services::Service;
use crate::services::catalogue::builtin::{WSDL_ENDPOINTS, WSDL_SOAP_ACTIONS};

/// An endpoint override is not a usable URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("endpoint {url:?} is not usable: {reason}")]
pub struct EndpointError {
    /// The URL given.
    pub url: String,
    /// Why.
    pub reason: String,
}

/// The default endpoints with any overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    base_urls: BTreeMap<Environment, Url>,
    /// By environment and service name.
    service_urls: BTreeMap<(Environment, String), Url>,
}

fn parse_url(url: &str) -> Result<Url, EndpointError> {
    let parsed = Url::parse(url).map_err(|e| EndpointError {
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(EndpointError {
            url: url.to_string(),
            reason: "expected an http:// or https:// URL with a host".to_string(),
        });
    }
    Ok(parsed)
}

impl Endpoints {
    /// The defaults from `wsdl/`, with no overrides.
    pub fn defaults() -> Endpoints {
        Endpoints::default()
    }

    /// The default endpoint of `service` in `environment`, as its catalogue entry gives
    /// it (for a built-in service, its WSDL file).
    pub fn default_url(environment: Environment, service: &Service) -> Option<&str> {
        service.default_endpoint(environment)
    }

    /// Every (service, environment, default endpoint) the built-in WSDL files define.
    pub fn default_table() -> &'static [(&'static str, &'static str, &'static str)] {
        WSDL_ENDPOINTS
    }

    /// Every (service, WSDL operation, soapAction) the built-in WSDL files define.
    pub fn soap_action_table() -> &'static [(&'static str, &'static str, &'static str)] {
        WSDL_SOAP_ACTIONS
    }

    /// The soapAction of an operation, from the service's catalogue entry. SSDN services
    /// travel through the connector's one `sendXML` operation, whatever their business
    /// operation. `None` for an operation the service does not have.
    pub fn soap_action<'s>(service: &'s Service, operation: &str) -> Option<&'s str> {
        service.soap_action(operation)
    }

    /// Send every service of `environment` to `base_url` (scheme, host and port), keeping
    /// each service's path. For example `http://127.0.0.1:8080` for the local mock.
    pub fn with_base_url(
        mut self,
        environment: Environment,
        base_url: &str,
    ) -> Result<Endpoints, EndpointError> {
        let url = parse_url(base_url)?;
        self.base_urls.insert(environment, url);
        Ok(self)
    }

    /// Send one service of `environment` to `url`.
    pub fn with_service_url(
        mut self,
        environment: Environment,
        service: &Service,
        url: &str,
    ) -> Result<Endpoints, EndpointError> {
        let url = parse_url(url)?;
        self.service_urls
            .insert((environment, service.name().to_string()), url);
        Ok(self)
    }

    /// The endpoint to use for `service` in `environment`.
    pub fn resolve(
        &self,
        environment: Environment,
        service: &Service,
    ) -> Result<String, EndpointError> {
        if let Some(url) = self
            .service_urls
            .get(&(environment, service.name().to_string()))
        {
            return Ok(url.to_string());
        }
        let default =
            Endpoints::default_url(environment, service).ok_or_else(|| EndpointError {
                url: String::new(),
                reason: format!(
                    "no endpoint is known for {service} in {environment}; give one in \
                     [endpoints] or in its [[service]] entry's [service.endpoints]"
                ),
            })?;
        let Some(base) = self.base_urls.get(&environment) else {
            return Ok(default.to_string());
        };
        let mut url = parse_url(default)?;
        let base_path = base.path().trim_end_matches('/');
        let path = format!("{base_path}{}", url.path());
        url.set_path(&path);
        let bad = |reason: &str| EndpointError {
            url: base.to_string(),
            reason: reason.to_string(),
        };
        url.set_scheme(base.scheme())
            .map_err(|_| bad("cannot use this scheme"))?;
        url.set_host(base.host_str())
            .map_err(|e| bad(&e.to_string()))?;
        url.set_port(base.port())
            .map_err(|_| bad("cannot use this port"))?;
        Ok(url.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::{
        Catalogue, identify_person, manage_access, retrieve_ti_groups, test_connection,
    };

    #[test]
    fn every_service_has_endpoints_and_actions() {
        for service in Catalogue::builtin() {
            for env in Environment::ALL {
                let url = Endpoints::default_url(env, service).unwrap();
                assert!(url.starts_with("https://"), "{url}");
                assert!(url.contains(env.host_tag()), "{url}");
            }
            for op in service.operation_names() {
                assert!(
                    Endpoints::soap_action(service, op).is_some(),
                    "{service} {op}"
                );
            }
        }
        assert_eq!(
            Endpoints::soap_action(manage_access::service(), "list"),
            Some("http://ksz-bcss.fgov.be/connectors/WebServiceConnector/sendXML")
        );
        assert_eq!(
            Endpoints::soap_action(retrieve_ti_groups::service(), "nope"),
            None
        );
    }

    #[test]
    fn overrides() {
        let e = Endpoints::defaults()
            .with_base_url(Environment::Test, "http://127.0.0.1:8080")
            .unwrap()
            .with_service_url(
                Environment::Acceptance,
                test_connection::service(),
                "https://b2b-acpt.ksz-bcss.fgov.be:4520/x",
            )
            .unwrap();
        assert_eq!(
            e.resolve(Environment::Test, retrieve_ti_groups::service())
                .unwrap(),
            "http://127.0.0.1:8080/SOA4520/RetrieveTIGroupsService/v2/retrieveTI"
        );
        assert_eq!(
            e.resolve(Environment::Acceptance, test_connection::service())
                .unwrap(),
            "https://b2b-acpt.ksz-bcss.fgov.be:4520/x"
        );
        assert!(
            e.resolve(Environment::Production, identify_person::service())
                .unwrap()
                .starts_with("https://bcssksz-services-prod.smals.be/")
        );
        assert!(
            Endpoints::defaults()
                .with_base_url(Environment::Test, "ftp://x")
                .is_err()
        );
        assert!(
            Endpoints::defaults()
                .with_base_url(Environment::Test, "not a url")
                .is_err()
        );
    }
}
