//! Which fixtures a request to the mock may match: by path (the same paths as the real
//! environments) and SOAPAction, from the service catalogue.

use crate::environment::Environment;
use crate::services::{Catalogue, Family, Service};

/// A path the mock serves, and the services behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The URL path, such as `/SOA4520/RetrieveTIGroupsService/v2/retrieveTI`.
    pub path: String,
    /// The services reachable there: the SSDN services share the connector.
    pub services: Vec<Service>,
}

/// The path of `service` in the real environments: its test endpoint's path (or, when its
/// catalogue entry has no test endpoint, another environment's; `/<name>` when it has
/// none).
pub fn path_of(service: &Service) -> String {
    Environment::ALL
        .iter()
        .filter_map(|env| service.default_endpoint(*env))
        .find_map(|u| reqwest::Url::parse(u).ok())
        .map(|u| u.path().to_string())
        .unwrap_or_else(|| format!("/{}", service.name()))
}

/// Every route of the built-in catalogue, SSDN connector first.
pub fn routes() -> Vec<Route> {
    routes_of(Catalogue::builtin())
}

/// Every route of `catalogue`, in its order (services that share a path share a route).
pub fn routes_of(catalogue: &Catalogue) -> Vec<Route> {
    let mut routes: Vec<Route> = Vec::new();
    for service in catalogue {
        let path = path_of(service);
        match routes.iter_mut().find(|r| r.path == path) {
            Some(r) => r.services.push(service.clone()),
            None => routes.push(Route {
                path,
                services: vec![service.clone()],
            }),
        }
    }
    routes
}

/// The operation a SOAPAction names for one of `services`: `Ok(None)` when the action
/// does not decide it (no action, or the SSDN connector's one `sendXML`), an error naming
/// the expected actions when it names none of them.
pub fn operation_of<'s>(
    services: &'s [Service],
    soap_action: Option<&str>,
) -> Result<Option<&'s str>, String> {
    let action = match soap_action.map(|a| a.trim().trim_matches('"')) {
        None | Some("") => return Ok(None),
        Some(a) => a,
    };
    let mut expected: Vec<&str> = Vec::new();
    for service in services {
        for op in service.operations() {
            let known = op.soap_action.as_str();
            if known == action {
                return Ok(match service.family() {
                    Family::Ssdn => None,
                    Family::V3 => Some(op.name.as_str()),
                });
            }
            if !expected.contains(&known) {
                expected.push(known);
            }
        }
    }
    Err(format!(
        "SOAPAction {action:?} is not served on this path; expected {}",
        expected.join(" or ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_follow_the_real_paths() {
        let routes = routes();
        assert_eq!(routes.len(), 4);
        let connector = &routes[0];
        assert_eq!(
            connector.path,
            "/connectors/webservice/KSZBCSSWebServiceConnectorPort"
        );
        assert_eq!(connector.services.len(), 3);
        assert!(
            routes
                .iter()
                .any(|r| r.path == "/SOA4520/RetrieveTIGroupsService/v2/retrieveTI")
        );
    }

    #[test]
    fn soap_actions_pick_the_operation() {
        let hci = [crate::services::health_care_insurance::service().clone()];
        assert_eq!(
            operation_of(
                &hci,
                Some("\"http://kszbcss.fgov.be/HealthCareInsuranceService/consultMAF\"")
            ),
            Ok(Some("consultMAF"))
        );
        assert_eq!(operation_of(&hci, None), Ok(None));
        assert!(
            operation_of(&hci, Some("urn:other"))
                .unwrap_err()
                .contains("consultMAF")
        );
        let ssdn = [
            crate::services::identify_person::service().clone(),
            crate::services::manage_access::service().clone(),
        ];
        assert_eq!(
            operation_of(
                &ssdn,
                Some("http://ksz-bcss.fgov.be/connectors/WebServiceConnector/sendXML")
            ),
            Ok(None)
        );
    }
}
