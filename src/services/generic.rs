//! Calls to any catalogued service, typed module or not: [`GenericRequest`] and
//! [`GenericReply`].
//!
//! The caller gives the service (its [`Service`] handle from the catalogue), the operation
//! and the *business part* of the request, as XML text or as [`Element`]s:
//! - common v3: the children of the request element after `legalContext` (such as
//!   `criteria`), unqualified as the schemas want them;
//! - SSDN: the payload element (such as `ListOfAttestationsRequest`), in the service's
//!   payload namespace.
//!
//! bcss builds the rest exactly as for the typed services, with the same encoders: the
//! common-v3 request element in the interface namespace with `informationCustomer` (our
//! ticket, the time, our CBE number) and `legalContext` (the granted purpose) when the
//! service carries them ([`crate::v3::service_request_root`]); or the `SSDNRequest` with
//! its `RequestContext` (the granted program number...) and a `ServiceRequest` with the
//! service's `ServiceId`, `Version` and the payload ([`crate::ssdn::encode_request`]).
//!
//! The subjects (WHAT, journaled) are the elements at the operation's declared subject
//! paths, each of which must be present and hold a valid SSIN; when the operation declares
//! none, every element of the business part whose text is a valid SSIN.
//!
//! The reply goes through the same decoding as the typed services' (status and codes,
//! `ticketCBSS` and timestamps, faults, warnings, no data); the business payload comes
//! back as an [`Element`] tree, which serialises to JSON as described on
//! [`GenericReply`].
//!
//! ```
//! use bcss::services::generic::GenericRequest;
//! use bcss::services::{ServiceRequest, retrieve_ti_groups};
//!
//! let request = GenericRequest::new(
//!     retrieve_ti_groups::service(),
//!     "retrieveTI",
//!     "<searchInformation><ssin>68070100188</ssin><history>false</history></searchInformation>",
//! )?;
//! assert_eq!(request.operation(), "retrieveTI");
//! assert_eq!(request.subjects()[0].reveal(), "68070100188");
//! // An operation the catalogue does not know, or malformed XML, is refused at once.
//! assert!(GenericRequest::new(retrieve_ti_groups::service(), "retrieveAll", "<a/>").is_err());
//! assert!(GenericRequest::new(retrieve_ti_groups::service(), "retrieveTI", "<a>").is_err());
//! # Ok::<(), bcss::services::RequestError>(())
//! ```

use std::fmt;

use serde::Serialize;

use super::{
    Decoded, Family, OperationDescriptor, RequestError, RequestHeader, Sealed, Service,
    ServiceRequest,
};
use crate::ids::Ssin;
use crate::soap::{self, Limits};
use crate::ssdn::{self, SsdnError};
use crate::v3::{self, Expect};
use crate::xml::{self, Element, Node};

/// The business part of a generic request: XML text, or elements already built.
#[derive(Debug, Clone)]
pub enum Business {
    /// XML text: one element or several (a fragment), read with the bounded parser.
    Xml(String),
    /// Elements.
    Elements(Vec<Element>),
}

impl From<&str> for Business {
    fn from(text: &str) -> Business {
        Business::Xml(text.to_string())
    }
}

impl From<String> for Business {
    fn from(text: String) -> Business {
        Business::Xml(text)
    }
}

impl From<Element> for Business {
    fn from(element: Element) -> Business {
        Business::Elements(vec![element])
    }
}

impl From<Vec<Element>> for Business {
    fn from(elements: Vec<Element>) -> Business {
        Business::Elements(elements)
    }
}

/// The elements bcss writes itself at the start of a common-v3 request.
const V3_HEADER_ELEMENTS: [&str; 3] = ["informationCustomer", "informationCBSS", "legalContext"];

/// The wrapper a fragment is parsed in (never sent).
const FRAGMENT_ROOT: &str = "bcss-business-part";

/// A request to any operation of any catalogued service, checked when it is made: the
/// operation is the service's, the business part is well-formed, and the subjects are
/// found. See the [module documentation](self).
#[derive(Clone)]
pub struct GenericRequest {
    service: Service,
    operation: String,
    business: Vec<Element>,
    subjects: Vec<Ssin>,
}

/// Names the call and counts its subjects; the business part (personal data) is not shown.
impl fmt::Debug for GenericRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GenericRequest")
            .field("service", &self.service)
            .field("operation", &self.operation)
            .field(
                "business",
                &self
                    .business
                    .iter()
                    .map(soap::qualified_name)
                    .collect::<Vec<_>>(),
            )
            .field(
                "subjects",
                &self.subjects.iter().map(Ssin::masked).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl GenericRequest {
    /// A request to `operation` of `service` carrying `business` (XML text or
    /// [`Element`]s, see the [module documentation](self)).
    ///
    /// Errors ([`RequestError`], before anything is journaled or sent):
    /// [`UnknownOperation`](RequestError::UnknownOperation) for an operation the catalogue
    /// does not list; [`Xml`](RequestError::Xml) for text that is not well-formed (or has a
    /// DOCTYPE, or is over the parser's limits); [`Subject`](RequestError::Subject) when a
    /// declared subject element is missing or holds no valid SSIN;
    /// [`Invalid`](RequestError::Invalid) for a business part of the wrong shape (an SSDN
    /// payload that is not the operation's request element in the payload namespace; a
    /// common-v3 part that repeats `informationCustomer` or `legalContext`, which bcss
    /// writes from the grant; an operation whose payload cannot be told from a write's).
    pub fn new(
        service: &Service,
        operation: &str,
        business: impl Into<Business>,
    ) -> Result<GenericRequest, RequestError> {
        let name = || service.name().to_string().into();
        let op = service
            .operation(operation)
            .ok_or_else(|| RequestError::UnknownOperation {
                service: name(),
                operation: operation.to_string(),
                known: service.operation_names().join(", "),
            })?;
        check_distinct_from_writes(service, op)?;
        let business = match business.into() {
            Business::Elements(elements) => elements,
            Business::Xml(text) => parse_fragment(&text).map_err(|error| RequestError::Xml {
                service: name(),
                error,
            })?,
        };
        check_shape(service, op, &business)?;
        let subjects = subjects_of(service, op, &business)?;
        Ok(GenericRequest {
            service: service.clone(),
            operation: op.name.clone(),
            business,
            subjects,
        })
    }

    /// The business part, as given.
    pub fn business(&self) -> &[Element] {
        &self.business
    }

    fn descriptor(&self) -> Option<&OperationDescriptor> {
        self.service.operation(&self.operation)
    }

    /// The request element: common v3's in the interface namespace with bcss's header,
    /// then the business part; SSDN's payload, as given.
    fn request_element(&self, header: &RequestHeader) -> Result<Element, RequestError> {
        let op = self.descriptor().ok_or_else(|| self.unknown())?;
        match self.service.family() {
            Family::V3 => {
                let mut root = v3::service_request_root(&self.service, &op.request, header)?;
                for e in &self.business {
                    root.push(e.clone());
                }
                Ok(root)
            }
            Family::Ssdn => self.business.first().cloned().ok_or_else(|| self.unknown()),
        }
    }

    fn unknown(&self) -> RequestError {
        RequestError::UnknownOperation {
            service: self.service.name().to_string().into(),
            operation: self.operation.clone(),
            known: self.service.operation_names().join(", "),
        }
    }
}

/// Parse `text` as a fragment: one or more elements (an XML declaration or byte-order mark
/// in front is skipped), with no text outside them.
fn parse_fragment(text: &str) -> Result<Vec<Element>, xml::XmlError> {
    let mut body = text.trim_start_matches('\u{feff}').trim_start();
    if body.starts_with("<?xml") {
        body = body.find("?>").map_or("", |end| &body[end + 2..]);
    }
    let wrapped = format!("<{FRAGMENT_ROOT}>{body}</{FRAGMENT_ROOT}>");
    // Errors point into the text as given, and never name the wrapper: its end tag is
    // where the text ends.
    let skipped = (text.len() - body.len()) as u64;
    let opening = FRAGMENT_ROOT.len() as u64 + 2;
    let end = text.len() as u64;
    let root = xml::parse_str(&wrapped, &Limits::default()).map_err(|e| {
        let e = e.map_position(|p| (p.saturating_sub(opening) + skipped).min(end));
        match e {
            xml::XmlError::Malformed { position, reason } => xml::XmlError::Malformed {
                position,
                reason: reason
                    .replace(&format!("`</{FRAGMENT_ROOT}>` was found"), "the text ends")
                    .replace(&format!("</{FRAGMENT_ROOT}>"), "the end of the text")
                    .replace(FRAGMENT_ROOT, "the business part"),
            },
            other => other,
        }
    })?;
    let mut elements = Vec::new();
    for node in root.children {
        match node {
            Node::Element(e) => elements.push(e),
            Node::Text(t) if t.trim().is_empty() => {}
            Node::Text(_) => {
                return Err(xml::XmlError::Malformed {
                    position: 0,
                    reason: "text outside any element: give the business part as elements"
                        .to_string(),
                });
            }
        }
    }
    Ok(elements)
}

/// An SSDN service can share one payload element between operations (ManageAccess's
/// `register`, `unregister` and `list` differ by its `Action`). When the payload alone
/// cannot tell a read from a write, a generic request could claim the read and carry the
/// write: refused, the typed request names its action itself.
fn check_distinct_from_writes(
    service: &Service,
    op: &OperationDescriptor,
) -> Result<(), RequestError> {
    let shared: Vec<&str> = service
        .operations()
        .iter()
        .filter(|o| o.name != op.name && o.request == op.request)
        .filter(|o| o.write || op.write)
        .map(|o| o.name.as_str())
        .collect();
    if shared.is_empty() {
        return Ok(());
    }
    Err(RequestError::Invalid {
        service: service.name().to_string().into(),
        message: format!(
            "operation {:?} shares its request element {} with {} (a write is among them), so \
             the payload alone cannot tell which is sent; use the service's typed request",
            op.name,
            op.request,
            shared.join(", ")
        ),
    })
}

fn check_shape(
    service: &Service,
    op: &OperationDescriptor,
    business: &[Element],
) -> Result<(), RequestError> {
    let invalid = |message: String| RequestError::Invalid {
        service: service.name().to_string().into(),
        message,
    };
    match service.ssdn() {
        Some(ids) => match business {
            [payload]
                if payload.name == op.request
                    && payload.namespace.as_deref() == Some(ids.payload_namespace.as_str()) =>
            {
                Ok(())
            }
            [payload] => Err(invalid(format!(
                "the SSDN payload of {} is {{{}}}{}, not {}",
                op.name,
                ids.payload_namespace,
                op.request,
                soap::qualified_name(payload)
            ))),
            _ => Err(invalid(format!(
                "an SSDN request carries one payload element ({{{}}}{}); {} given",
                ids.payload_namespace,
                op.request,
                business.len()
            ))),
        },
        None => {
            if let Some(e) = business
                .iter()
                .find(|e| V3_HEADER_ELEMENTS.contains(&e.name.as_str()))
            {
                return Err(invalid(format!(
                    "the business part holds {}: bcss writes informationCustomer and \
                     legalContext itself, from the grant; give only what follows legalContext",
                    e.name
                )));
            }
            Ok(())
        }
    }
}

/// The subjects: the elements at the declared paths (relative to the request element:
/// for common v3 their first step is a business element, for SSDN the payload's child),
/// or every element whose text is a valid SSIN.
fn subjects_of(
    service: &Service,
    op: &OperationDescriptor,
    business: &[Element],
) -> Result<Vec<Ssin>, RequestError> {
    let mut subjects: Vec<Ssin> = Vec::new();
    let mut add = |ssin: Ssin| {
        if !subjects.contains(&ssin) {
            subjects.push(ssin);
        }
    };
    if op.subjects.is_empty() {
        for e in business {
            every_ssin(e, &mut add);
        }
    } else {
        for path in &op.subjects {
            let steps: Vec<&str> = path.split('/').collect();
            let found: Vec<&Element> = match service.family() {
                Family::V3 => business.iter().flat_map(|e| at_path(e, &steps)).collect(),
                Family::Ssdn => business
                    .iter()
                    .flat_map(|payload| {
                        payload
                            .elements()
                            .flat_map(|c| at_path(c, &steps))
                            .collect::<Vec<_>>()
                    })
                    .collect(),
            };
            let fail = |reason: &str| RequestError::Subject {
                service: service.name().to_string().into(),
                operation: op.name.clone(),
                path: path.clone(),
                reason: reason.to_string(),
            };
            if found.is_empty() {
                return Err(fail(
                    "the catalogue declares this element as the request's subject, and the \
                     request has none; the journal must record whom the call is about",
                ));
            }
            for e in found {
                let ssin = Ssin::new(e.trimmed().as_ref())
                    .map_err(|_| fail("the element does not hold a valid SSIN"))?;
                add(ssin);
            }
        }
    }
    Ok(subjects)
}

/// The elements reached from `e` by `steps`, whose first step names `e` itself.
fn at_path<'e>(e: &'e Element, steps: &[&str]) -> Vec<&'e Element> {
    match steps {
        [] => Vec::new(),
        [only] if e.name == *only => vec![e],
        [first, rest @ ..] if e.name == *first => {
            e.elements().flat_map(|c| at_path(c, rest)).collect()
        }
        _ => Vec::new(),
    }
}

/// Every element under `e` (itself included) whose whole text is a valid SSIN (exactly 11
/// digits with valid check digits).
fn every_ssin(e: &Element, add: &mut impl FnMut(Ssin)) {
    let text = e.trimmed();
    if text.len() == 11
        && text.bytes().all(|b| b.is_ascii_digit())
        && let Ok(ssin) = Ssin::new(&text)
    {
        add(ssin);
    }
    for c in e.elements() {
        every_ssin(c, add);
    }
}

/// The reply to a [`GenericRequest`]: its business payload as an element tree.
///
/// - common v3: the reply's root element (such as `consultPaymentsResponse`) without the
///   parts every reply shares and [`Reply`](crate::client::Reply) already gives
///   (`informationCustomer`, `informationCBSS`, `status`);
/// - SSDN: the service reply's payload element (such as `ListOfAttestationsReply`).
///
/// It serialises to JSON (`{"payload": ELEMENT}`), each element as an object with, in this
/// order and only when they apply:
/// - `name`: the local name;
/// - `namespace`: the namespace URI, present when it differs from the parent element's
///   (`null` for an unqualified element under a qualified one; on the payload itself,
///   present when it has one);
/// - `attributes`: an object from attribute name (`{namespace}name` for a qualified
///   attribute) to value;
/// - `text`: the element's own text (its text children joined, CDATA included), when not
///   empty;
/// - `children`: the child elements, in document order.
///
/// ```
/// use bcss::services::generic::GenericReply;
/// use bcss::xml::Element;
/// let payload = Element::ns("urn:x", "reply")
///     .with_child(Element::new("ssin").with_text("68070100188"))
///     .with_child(Element::ns("urn:x", "kind").with_attr("code", "1"));
/// let json = serde_json::to_value(GenericReply { payload }).unwrap();
/// assert_eq!(json, serde_json::json!({"payload": {
///     "name": "reply", "namespace": "urn:x", "children": [
///         {"name": "ssin", "namespace": null, "text": "68070100188"},
///         {"name": "kind", "attributes": {"code": "1"}},
///     ]}}));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct GenericReply {
    /// The business payload.
    pub payload: Element,
}

/// Names the payload only: it holds personal data.
impl fmt::Debug for GenericReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GenericReply")
            .field("payload", &soap::qualified_name(&self.payload))
            .finish_non_exhaustive()
    }
}

impl Serialize for GenericReply {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("GenericReply", 1)?;
        st.serialize_field("payload", &Json::root(&self.payload))?;
        st.end()
    }
}

/// An element in the JSON mapping of [`GenericReply`].
struct Json<'a> {
    element: &'a Element,
    /// The parent's namespace, or `None` for the payload itself.
    parent: Option<Option<&'a str>>,
}

impl<'a> Json<'a> {
    fn root(element: &'a Element) -> Json<'a> {
        Json {
            element,
            parent: None,
        }
    }
}

impl Serialize for Json<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let e = self.element;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("name", &e.name)?;
        let ns = e.namespace.as_deref();
        let show_ns = match self.parent {
            None => ns.is_some(),
            Some(parent) => parent != ns,
        };
        if show_ns {
            map.serialize_entry("namespace", &ns)?;
        }
        if !e.attributes.is_empty() {
            let attributes: std::collections::BTreeMap<String, &str> = e
                .attributes
                .iter()
                .map(|a| {
                    let key = match &a.namespace {
                        Some(ns) => format!("{{{ns}}}{}", a.name),
                        None => a.name.clone(),
                    };
                    (key, a.value.as_str())
                })
                .collect();
            map.serialize_entry("attributes", &attributes)?;
        }
        let text = e.text();
        if !text.is_empty() {
            map.serialize_entry("text", &text)?;
        }
        let children: Vec<Json<'_>> = e
            .elements()
            .map(|c| Json {
                element: c,
                parent: Some(ns),
            })
            .collect();
        if !children.is_empty() {
            map.serialize_entry("children", &children)?;
        }
        map.end()
    }
}

impl Sealed for GenericRequest {}

impl ServiceRequest for GenericRequest {
    type Response = GenericReply;

    fn service(&self) -> Service {
        self.service.clone()
    }

    fn operation(&self) -> &str {
        &self.operation
    }

    fn subjects(&self) -> Vec<Ssin> {
        self.subjects.clone()
    }

    fn encode(&self, header: &RequestHeader) -> Result<Vec<u8>, crate::Error> {
        let element = self.request_element(header)?;
        match self.service.family() {
            Family::V3 => Ok(soap::envelope(element)),
            Family::Ssdn => ssdn::encode_request(header, &self.service, element),
        }
    }

    fn decode(&self, http_status: u16, body: &[u8], limits: &Limits) -> Decoded<GenericReply> {
        let Some(op) = self.descriptor() else {
            return Decoded::undecodable(self.unknown().into());
        };
        match (self.service.v3(), self.service.ssdn()) {
            (Some(ids), _) => {
                let expect = Expect {
                    namespace: &ids.namespace,
                    operation: &op.name,
                    response: &op.response,
                    has_status: self.service.carries_information_customer(),
                };
                v3::decode(&expect, http_status, body, limits, |root| {
                    let mut payload = root.clone();
                    payload.children.retain(|n| {
                        !matches!(n, Node::Element(e)
                            if e.namespace.is_none()
                                && matches!(e.name.as_str(), "informationCustomer" | "informationCBSS" | "status"))
                    });
                    Ok(GenericReply { payload })
                })
            }
            (None, Some(ids)) => {
                ssdn::decode_reply(&self.service, http_status, body, limits, |payload| {
                    let payload =
                        ssdn::expect_payload(payload, &ids.payload_namespace, &op.response)?;
                    Ok::<_, SsdnError>(GenericReply {
                        payload: payload.clone(),
                    })
                })
            }
            (None, None) => Decoded::undecodable(self.unknown().into()),
        }
    }
}

#[cfg(test)]
mod tests;
