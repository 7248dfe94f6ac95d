//! The built-in catalogue: the six typed services, each declared in its own file, and the
//! endpoint and soapAction table build.rs reads from the project's `wsdl/` files.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use super::descriptor::{
    LegalContextRule, OperationDescriptor, Origin, ServiceDescriptor, ServiceIds, SsdnIds, V3Ids,
};
use super::{Catalogue, Service};
use crate::environment::Environment;
use crate::services::{
    health_care_insurance, identify_person, manage_access, perform_investigation,
    retrieve_ti_groups, test_connection,
};

include!(concat!(env!("OUT_DIR"), "/wsdl_table.rs"));

/// The typed services, in the catalogue's order. Adding a typed service adds its
/// `service()` here, its file in `services/` and its WSDL in `wsdl/`.
static BUILTIN: LazyLock<Catalogue> = LazyLock::new(|| Catalogue {
    services: vec![
        identify_person::service().clone(),
        manage_access::service().clone(),
        perform_investigation::service().clone(),
        test_connection::service().clone(),
        retrieve_ti_groups::service().clone(),
        health_care_insurance::service().clone(),
    ],
});

/// The built-in catalogue.
pub(super) fn catalogue() -> &'static Catalogue {
    &BUILTIN
}

/// The default endpoints of the service `name`, from its WSDL in `wsdl/` (whose port names
/// are the environments).
pub(crate) fn wsdl_endpoints(name: &str) -> BTreeMap<Environment, String> {
    WSDL_ENDPOINTS
        .iter()
        .filter(|(s, _, _)| *s == name)
        .filter_map(|(_, env, url)| Some((env.parse().ok()?, (*url).to_string())))
        .collect()
}

/// The soapAction of `wsdl_operation` in the WSDL of the service `name` (empty when the
/// WSDL has none: the crate's tests check that every built-in operation has one).
pub(crate) fn wsdl_soap_action(name: &str, wsdl_operation: &str) -> String {
    WSDL_SOAP_ACTIONS
        .iter()
        .find(|(s, op, _)| *s == name && *op == wsdl_operation)
        .map(|(_, _, action)| (*action).to_string())
        .unwrap_or_default()
}

/// The SSDN connector's endpoints (every SSDN service shares them; `wsdl/IdentifyPerson.wsdl`
/// describes the connector).
pub(crate) fn connector_endpoints() -> BTreeMap<Environment, String> {
    wsdl_endpoints(identify_person::NAME)
}

/// One operation of a built-in service, as its file declares it.
pub(crate) struct Op {
    /// The operation's name.
    pub name: &'static str,
    /// The request element (SSDN: the payload root).
    pub request: &'static str,
    /// The reply element (SSDN: the reply payload root).
    pub response: &'static str,
    /// The CBSSFault element (common v3); `None` means `<name>Fault` for common v3.
    pub fault: Option<&'static str>,
    /// Whether it is a write.
    pub write: bool,
    /// The subject element paths.
    pub subjects: &'static [&'static str],
}

impl Op {
    fn descriptor(&self, fault: Option<String>, soap_action: String) -> OperationDescriptor {
        OperationDescriptor {
            name: self.name.to_string(),
            request: self.request.to_string(),
            response: self.response.to_string(),
            fault,
            soap_action,
            write: self.write,
            subjects: self.subjects.iter().map(|s| (*s).to_string()).collect(),
        }
    }
}

/// A built-in SSDN service: every operation travels through the connector's `sendXML`,
/// at the connector's endpoints.
pub(crate) fn ssdn(
    name: &str,
    service_id: &str,
    version: &str,
    payload_namespace: &str,
    operations: &[Op],
) -> ServiceDescriptor {
    let soap_action = wsdl_soap_action(name, crate::ssdn::OPERATION);
    ServiceDescriptor {
        name: name.to_string(),
        ids: ServiceIds::Ssdn(SsdnIds {
            service_id: service_id.to_string(),
            version: version.to_string(),
            payload_namespace: payload_namespace.to_string(),
        }),
        information_customer: false,
        legal_context: LegalContextRule::None,
        operations: operations
            .iter()
            .map(|op| op.descriptor(None, soap_action.clone()))
            .collect(),
        endpoints: wsdl_endpoints(name),
        origin: Origin::BuiltIn,
    }
}

/// A built-in common-v3 service: soapActions and endpoints from its WSDL in `wsdl/`.
pub(crate) fn v3(
    name: &str,
    namespace: &str,
    version: &str,
    information_customer: bool,
    legal_context: LegalContextRule,
    operations: &[Op],
) -> ServiceDescriptor {
    ServiceDescriptor {
        name: name.to_string(),
        ids: ServiceIds::V3(V3Ids {
            namespace: namespace.to_string(),
            version: version.to_string(),
        }),
        information_customer,
        legal_context,
        operations: operations
            .iter()
            .map(|op| {
                let fault = op
                    .fault
                    .map_or_else(|| format!("{}Fault", op.name), str::to_string);
                op.descriptor(Some(fault), wsdl_soap_action(name, op.name))
            })
            .collect(),
        endpoints: wsdl_endpoints(name),
        origin: Origin::BuiltIn,
    }
}

/// The handle of a built-in descriptor.
pub(crate) fn service(descriptor: ServiceDescriptor) -> Service {
    Service::builtin(descriptor)
}
