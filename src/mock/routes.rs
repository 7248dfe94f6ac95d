//! Which fixtures a request to the mock may match: by path (the same paths as the real
//! environments) and SOAPAction.

use crate::endpoints::Endpoints;
use crate::environment::Environment;
use crate::services::{Family, ServiceKind};

/// A path the mock serves, and the services behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The URL path, such as `/SOA4520/RetrieveTIGroupsService/v2/retrieveTI`.
    pub path: String,
    /// The services reachable there: the three SSDN services share the connector.
    pub services: Vec<ServiceKind>,
}

/// Paths used when the endpoint table has none (it always has, from `wsdl/`).
fn fallback_path(service: ServiceKind) -> &'static str {
    match service {
        ServiceKind::IdentifyPerson
        | ServiceKind::ManageAccess
        | ServiceKind::PerformInvestigation => {
            "/connectors/webservice/KSZBCSSWebServiceConnectorPort"
        }
        ServiceKind::TestConnection => "/SOA4520/TestConnectionServiceService/sendTestMessage",
        ServiceKind::RetrieveTIGroups => "/SOA4520/RetrieveTIGroupsService/v2/retrieveTI",
        ServiceKind::HealthCareInsurance => "/SOA4520/HealthCareInsuranceService/consult_01",
    }
}

/// The path of `service` in the real environments (the test environment's endpoint).
pub fn path_of(service: ServiceKind) -> String {
    Endpoints::default_url(Environment::Test, service)
        .and_then(|u| reqwest::Url::parse(u).ok())
        .map(|u| u.path().to_string())
        .unwrap_or_else(|| fallback_path(service).to_string())
}

/// Every route, SSDN connector first.
pub fn routes() -> Vec<Route> {
    let mut routes: Vec<Route> = Vec::new();
    for service in ServiceKind::ALL {
        let path = path_of(service);
        match routes.iter_mut().find(|r| r.path == path) {
            Some(r) => r.services.push(service),
            None => routes.push(Route {
                path,
                services: vec![service],
            }),
        }
    }
    routes
}

/// The operation a SOAPAction names for one of `services`: `Ok(None)` when the action
/// does not decide it (no action, or the SSDN connector's one `sendXML`), an error naming
/// the expected actions when it names none of them.
pub fn operation_of(
    services: &[ServiceKind],
    soap_action: Option<&str>,
) -> Result<Option<&'static str>, String> {
    let action = match soap_action.map(|a| a.trim().trim_matches('"')) {
        None | Some("") => return Ok(None),
        Some(a) => a,
    };
    let mut expected = Vec::new();
    for &service in services {
        for &op in service.operations() {
            let Some(known) = Endpoints::soap_action(service, op) else {
                continue;
            };
            if known == action {
                return Ok(match service.family() {
                    Family::Ssdn => None,
                    Family::V3 => Some(op),
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
        let hci = [ServiceKind::HealthCareInsurance];
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
        let ssdn = [ServiceKind::IdentifyPerson, ServiceKind::ManageAccess];
        assert_eq!(
            operation_of(
                &ssdn,
                Some("http://ksz-bcss.fgov.be/connectors/WebServiceConnector/sendXML")
            ),
            Ok(None)
        );
    }
}
