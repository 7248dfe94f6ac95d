//! Reading one WSDL 1.1 file (document/literal, SOAP 1.1) into what the catalogue needs.

use std::collections::BTreeMap;
use std::path::Path;

use super::ImportError;
use super::xsd::{Schemas, XSD_NS, local};
use crate::xml::{self, Element, Limits};

const WSDL_NS: &str = "http://schemas.xmlsoap.org/wsdl/";
const WSDL2_NS: &str = "http://www.w3.org/ns/wsdl";
const SOAP11_NS: &str = "http://schemas.xmlsoap.org/wsdl/soap/";
const SOAP12_NS: &str = "http://schemas.xmlsoap.org/wsdl/soap12/";

/// The largest WSDL file read, in bytes.
pub(super) const MAX_WSDL_BYTES: usize = 8 * 1024 * 1024;

/// One operation as a WSDL describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct WsdlOperation {
    pub name: String,
    pub request: String,
    pub response: String,
    pub fault: Option<String>,
    pub soap_action: String,
}

/// The (input, output, fault) elements of a port type's operation.
type PortOperation = (Option<String>, Option<String>, Option<String>);

/// One WSDL file, read.
#[derive(Debug)]
pub(super) struct Wsdl {
    /// `definitions/@name`, or the service's name.
    pub name: Option<String>,
    /// The namespace of the request elements (the schema that declares them, else the
    /// WSDL's `targetNamespace`).
    pub namespace: String,
    /// The operations of the SOAP 1.1 binding, in order.
    pub operations: Vec<WsdlOperation>,
    /// (port name, address) of every SOAP 1.1 port.
    pub addresses: Vec<(String, String)>,
    /// The schemas the WSDL declares and imports.
    pub schemas: Schemas,
}

fn in_ns<'a>(
    parent: &'a Element,
    ns: &'a str,
    local: &'a str,
) -> impl Iterator<Item = &'a Element> {
    parent
        .elements()
        .filter(move |e| e.name == local && e.namespace.as_deref() == Some(ns))
}

fn attr(e: &Element, name: &str) -> Option<String> {
    e.attr(name).map(str::to_string)
}

/// Read and check one WSDL file.
pub(super) fn read(path: &Path) -> Result<Wsdl, ImportError> {
    let fail = |message: String| ImportError::Wsdl {
        file: path.display().to_string(),
        message,
    };
    let bytes = super::read_bounded(path, MAX_WSDL_BYTES).map_err(fail)?;
    let limits = Limits {
        max_bytes: MAX_WSDL_BYTES,
        ..Limits::default()
    };
    let root =
        xml::parse(&bytes, &limits).map_err(|e| fail(format!("not well-formed XML: {e}")))?;
    match root.namespace.as_deref() {
        Some(WSDL_NS) if root.name == "definitions" => {}
        Some(WSDL2_NS) => {
            return Err(fail(
                "WSDL 2.0 is not supported: BCSS distributes WSDL 1.1".into(),
            ));
        }
        _ => {
            return Err(fail(format!(
                "not a WSDL 1.1 file: the root is {:?}, not wsdl:definitions",
                root.name
            )));
        }
    }
    let target = attr(&root, "targetNamespace").unwrap_or_default();

    let mut schemas = Schemas::default();
    for types in in_ns(&root, WSDL_NS, "types") {
        for schema in in_ns(types, XSD_NS, "schema") {
            schemas.add(schema, path);
        }
    }

    // Messages: name -> the element of their (first) part.
    let mut messages: BTreeMap<String, String> = BTreeMap::new();
    for message in in_ns(&root, WSDL_NS, "message") {
        let Some(name) = message.attr("name") else {
            continue;
        };
        let Some(part) = in_ns(message, WSDL_NS, "part").next() else {
            continue;
        };
        match (part.attr("element"), part.attr("type")) {
            (Some(element), _) => {
                messages.insert(name.to_string(), local(element).to_string());
            }
            (None, Some(_)) => {
                return Err(fail(format!(
                    "message {name:?} has a part with a type, not an element: that is rpc \
                     style; bcss calls document/literal services"
                )));
            }
            (None, None) => {}
        }
    }

    // The port type: operation -> its input, output and fault elements.
    let mut port_ops: BTreeMap<String, PortOperation> = BTreeMap::new();
    for port_type in in_ns(&root, WSDL_NS, "portType") {
        for op in in_ns(port_type, WSDL_NS, "operation") {
            let Some(name) = op.attr("name") else {
                continue;
            };
            let element_of = |tag: &str| {
                in_ns(op, WSDL_NS, tag)
                    .next()
                    .and_then(|io| io.attr("message"))
                    .and_then(|m| messages.get(local(m)).cloned())
            };
            port_ops.insert(
                name.to_string(),
                (
                    element_of("input"),
                    element_of("output"),
                    element_of("fault"),
                ),
            );
        }
    }

    // The SOAP 1.1 binding.
    let bindings: Vec<&Element> = in_ns(&root, WSDL_NS, "binding")
        .filter(|b| in_ns(b, SOAP11_NS, "binding").next().is_some())
        .collect();
    let Some(binding) = bindings.first() else {
        let soap12 = in_ns(&root, WSDL_NS, "binding")
            .any(|b| in_ns(b, SOAP12_NS, "binding").next().is_some());
        return Err(fail(if soap12 {
            "only a SOAP 1.2 binding: bcss speaks SOAP 1.1, as BCSS's services do".into()
        } else {
            "no SOAP 1.1 binding (soap:binding)".into()
        }));
    };
    if let Some(style) = in_ns(binding, SOAP11_NS, "binding")
        .next()
        .and_then(|b| b.attr("style"))
        && style != "document"
    {
        return Err(fail(format!(
            "the binding's style is {style:?}: bcss calls document/literal services"
        )));
    }
    let mut operations = Vec::new();
    for op in in_ns(binding, WSDL_NS, "operation") {
        let Some(name) = op.attr("name") else {
            continue;
        };
        if name == crate::ssdn::OPERATION && target == crate::ssdn::CONNECTOR_NS {
            return Err(fail(
                "this is the SSDN connector's WSDL (sendXML): SSDN services share it, so \
                 describe an SSDN service by hand in a [[service]] entry with family = \
                 \"ssdn\", its service_id, version and payload_namespace"
                    .into(),
            ));
        }
        let soap_action = in_ns(op, SOAP11_NS, "operation")
            .next()
            .and_then(|o| o.attr("soapAction"))
            .map(str::to_string)
            .unwrap_or_default();
        for io in ["input", "output"] {
            let use_ = in_ns(op, WSDL_NS, io)
                .next()
                .and_then(|i| in_ns(i, SOAP11_NS, "body").next())
                .and_then(|b| b.attr("use"));
            if let Some(u) = use_
                && u != "literal"
            {
                return Err(fail(format!(
                    "operation {name:?}: soap:body use {u:?}; bcss calls document/literal \
                     services"
                )));
            }
        }
        let Some((Some(request), Some(response), fault)) = port_ops.get(name).cloned() else {
            return Err(fail(format!(
                "operation {name:?}: the port type does not give its input and output \
                 elements"
            )));
        };
        operations.push(WsdlOperation {
            name: name.to_string(),
            request,
            response,
            fault,
            soap_action,
        });
    }
    if operations.is_empty() {
        return Err(fail("the SOAP 1.1 binding has no operation".into()));
    }

    let binding_name = binding.attr("name").unwrap_or_default();
    let mut addresses = Vec::new();
    let mut service_name = None;
    for service in in_ns(&root, WSDL_NS, "service") {
        for port in in_ns(service, WSDL_NS, "port") {
            let uses_binding = port
                .attr("binding")
                .is_none_or(|b| local(b) == binding_name);
            if let (true, Some(address)) = (uses_binding, in_ns(port, SOAP11_NS, "address").next())
                && let Some(location) = address.attr("location")
            {
                addresses.push((
                    port.attr("name").unwrap_or_default().to_string(),
                    location.to_string(),
                ));
                service_name = service_name.or_else(|| attr(service, "name"));
            }
        }
    }

    let namespace = operations
        .first()
        .and_then(|op| schemas.elements.get(&op.request))
        .and_then(|g| g.namespace.clone())
        .unwrap_or(target);
    Ok(Wsdl {
        name: attr(&root, "name").or(service_name),
        namespace,
        operations,
        addresses,
        schemas,
    })
}
