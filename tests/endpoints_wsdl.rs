//! The client's endpoint and soapAction table (built from wsdl/ at build time) and the WSDL
//! files agree, and cover every service, environment and operation the client knows.

use std::collections::BTreeSet;
use std::path::Path;

use bcss::Environment;
use bcss::endpoints::Endpoints;
use bcss::services::{Catalogue, Family};
use bcss::xml::{self, Element, Limits};

const WSDL_NS: &str = "http://schemas.xmlsoap.org/wsdl/";
const SOAP_NS: &str = "http://schemas.xmlsoap.org/wsdl/soap/";

type Rows = BTreeSet<(String, String, String)>;

fn read_wsdl_files() -> (Rows, Rows) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("wsdl");
    let mut endpoints = Rows::new();
    let mut actions = Rows::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "wsdl") {
            continue;
        }
        let root = xml::parse(&std::fs::read(&path).unwrap(), &Limits::default()).unwrap();
        assert_eq!(
            root.namespace.as_deref(),
            Some(WSDL_NS),
            "{}",
            path.display()
        );
        let service = root.attr("name").unwrap().to_string();
        let in_wsdl = |e: &&Element| e.namespace.as_deref() == Some(WSDL_NS);
        for binding in root.children_named("binding").filter(in_wsdl) {
            for op in binding.children_named("operation").filter(in_wsdl) {
                let soap_op = op
                    .elements()
                    .find(|e| e.name == "operation" && e.namespace.as_deref() == Some(SOAP_NS))
                    .unwrap();
                actions.insert((
                    service.clone(),
                    op.attr("name").unwrap().to_string(),
                    soap_op.attr("soapAction").unwrap().to_string(),
                ));
            }
        }
        for svc in root.children_named("service").filter(in_wsdl) {
            for port in svc.children_named("port").filter(in_wsdl) {
                let address = port.child_ns(SOAP_NS, "address").unwrap();
                endpoints.insert((
                    service.clone(),
                    port.attr("name").unwrap().to_string(),
                    address.attr("location").unwrap().to_string(),
                ));
            }
        }
    }
    (endpoints, actions)
}

fn owned(rows: &[(&str, &str, &str)]) -> Rows {
    rows.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

#[test]
fn table_and_wsdl_files_agree() {
    let (endpoints, actions) = read_wsdl_files();
    assert_eq!(owned(Endpoints::default_table()), endpoints);
    assert_eq!(owned(Endpoints::soap_action_table()), actions);
}

#[test]
fn every_service_environment_and_operation_is_covered() {
    let (endpoints, actions) = read_wsdl_files();
    for service in Catalogue::builtin() {
        for env in Environment::ALL {
            let url = Endpoints::default_url(env, service)
                .unwrap_or_else(|| panic!("{service} has no {env} endpoint in wsdl/"));
            assert!(endpoints.contains(&(
                service.name().to_string(),
                env.as_str().to_string(),
                url.to_string()
            )));
            let expected_host = format!("https://bcssksz-services-{}.smals.be/", env.host_tag());
            assert!(url.starts_with(&expected_host), "{url}");
            let expected_path = match service.family() {
                Family::Ssdn => "/connectors/webservice/KSZBCSSWebServiceConnectorPort",
                Family::V3 => "/SOA4520/",
            };
            assert!(url.contains(expected_path), "{url}");
        }
        for op in service.operation_names() {
            let action = Endpoints::soap_action(service, op)
                .unwrap_or_else(|| panic!("{service} {op} has no soapAction"));
            assert!(
                actions
                    .iter()
                    .any(|(s, _, a)| s == service.name() && a == action)
            );
            match service.family() {
                Family::Ssdn => assert_eq!(
                    action,
                    "http://ksz-bcss.fgov.be/connectors/WebServiceConnector/sendXML"
                ),
                Family::V3 => assert!(action.ends_with(&format!("/{op}")), "{action}"),
            }
        }
    }
}
