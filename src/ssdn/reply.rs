//! Reading an SSDN reply: the envelope, the inner `SSDNReply`, its `ResultSummary`s, and
//! the mapping to a typed result and an [`Outcome`].

use std::fmt;

use serde::{Serialize, Serializer};

use super::error::{GENERIC_REASON_CODES, SsdnError, details_mean_no_data};
use super::read::In;
use super::{COMMON_NS, CONNECTOR_NS, SERVICE_NS};
use crate::services::{BcssStamp, Decoded, Outcome, Service, ServiceReply, Warning};
use crate::soap::{self, Body, Limits, SoapError, qualified_name};
use crate::xml::{self, Element};

/// The `ok` attribute of a `ResultSummary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum ResultStatus {
    /// `YES`.
    Yes,
    /// `WARNING`: data, with details to read.
    Warning,
    /// `NO`: refused or failed.
    No,
}

impl ResultStatus {
    /// The value as written.
    pub fn as_str(self) -> &'static str {
        match self {
            ResultStatus::Yes => "YES",
            ResultStatus::Warning => "WARNING",
            ResultStatus::No => "NO",
        }
    }
}

/// The `Severity` of a `Detail`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Severity {
    /// `INFORMATION`.
    Information,
    /// `WARNING`.
    Warning,
    /// `ERROR`.
    Error,
    /// A value this client does not know, kept as written.
    Other(String),
}

impl Severity {
    /// Read a severity.
    pub fn parse(value: &str) -> Severity {
        match value {
            "INFORMATION" => Severity::Information,
            "WARNING" => Severity::Warning,
            "ERROR" => Severity::Error,
            other => Severity::Other(other.to_string()),
        }
    }

    /// The value as written.
    pub fn as_str(&self) -> &str {
        match self {
            Severity::Information => "INFORMATION",
            Severity::Warning => "WARNING",
            Severity::Error => "ERROR",
            Severity::Other(s) => s,
        }
    }
}

impl Serialize for Severity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A field name and value that caused a detail.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Information {
    /// `FieldName`.
    pub field_name: Option<String>,
    /// `FieldValue` (may be personal data: masked in `Debug` when it looks like an SSIN).
    pub field_value: Option<String>,
}

impl fmt::Debug for Information {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self.field_value.as_deref().map(|v| {
            let digits = v.chars().filter(char::is_ascii_digit).count();
            if digits >= 11 {
                format!("{}*****", v.chars().take(6).collect::<String>())
            } else {
                v.to_string()
            }
        });
        f.debug_struct("Information")
            .field("field_name", &self.field_name)
            .field("field_value", &value)
            .finish()
    }
}

/// One `Detail` of a `ResultSummary`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detail {
    /// INFORMATION, WARNING or ERROR.
    pub severity: Severity,
    /// `ReasonCode`, such as `32007004`.
    pub reason_code: Option<String>,
    /// `Diagnostic`: BCSS's text.
    pub diagnostic: Option<String>,
    /// `AuthorCodeList`: who defines the reason code.
    pub author_code_list: Option<String>,
    /// `Information`: the fields that caused it (0 to 5).
    pub information: Vec<Information>,
}

impl Detail {
    fn to_warning(&self) -> Warning {
        Warning {
            severity: self.severity.as_str().to_string(),
            code: self.reason_code.clone().unwrap_or_default(),
            description: self.diagnostic.clone().unwrap_or_default(),
            information: self
                .information
                .iter()
                .map(|i| {
                    (
                        i.field_name.clone().unwrap_or_default(),
                        i.field_value.clone().unwrap_or_default(),
                    )
                })
                .collect(),
        }
    }
}

/// A `ResultSummary`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResultSummary {
    /// The `ok` attribute.
    pub status: ResultStatus,
    /// `ReturnCode`: 0 OK, 1 WARNING, 10000 ERROR.
    pub return_code: Option<i64>,
    /// The details (0 to 30).
    pub details: Vec<Detail>,
}

/// One `ServiceReply` of an `SSDNReply`.
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceReplyPart {
    /// The service's own `ResultSummary`.
    pub summary: ResultSummary,
    /// `ServiceId`.
    pub service_id: String,
    /// `Version`.
    pub version: String,
    /// The reply body: the first child element outside the SSDN Service and Common
    /// namespaces (so unknown extra SSDN elements are skipped).
    pub payload: Option<Element>,
}

/// The payload may hold personal data; `Debug` names it only.
impl fmt::Debug for ServiceReplyPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceReplyPart")
            .field("summary", &self.summary)
            .field("service_id", &self.service_id)
            .field("version", &self.version)
            .field("payload", &self.payload.as_ref().map(qualified_name))
            .finish()
    }
}

/// A decoded `SSDNReply`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsdnReply {
    /// The global `ReplyContext/ResultSummary`.
    pub summary: ResultSummary,
    /// `ReplyContext/Message/Reference`: our ticket, echoed.
    pub reference: Option<String>,
    /// BCSS's ticket and times from `ReplyContext/Message`.
    pub stamp: BcssStamp,
    /// The service replies.
    pub service_replies: Vec<ServiceReplyPart>,
}

/// The text of the connector's `xmlString` in a SOAP envelope (a request or a reply):
/// the SSDN document. The element may sit directly in the body, as the connector's WSDL
/// says, or inside a wrapper element of the connector's namespace (`sendXMLResponse`).
///
/// A SOAP fault gives [`ErrorKind::Soap`](crate::error::ErrorKind::Soap)`(`[`SoapError::Fault`]`)`.
pub fn xml_string_of(envelope: &[u8], limits: &Limits) -> Result<String, crate::Error> {
    match soap::read(envelope, limits)? {
        Body::Fault(f) => Err(SoapError::Fault(f).into()),
        Body::Payload(p) => Ok(xml_string_text(&p)?),
    }
}

fn xml_string_text(body: &Element) -> Result<String, SsdnError> {
    let in_connector = body.namespace.as_deref() == Some(CONNECTOR_NS);
    let element = if in_connector && body.name == "xmlString" {
        Some(body)
    } else if in_connector {
        body.child_ns(CONNECTOR_NS, "xmlString").or_else(|| {
            body.elements()
                .find(|e| e.name == "xmlString" && e.namespace.is_none())
        })
    } else {
        None
    };
    let element = element.ok_or_else(|| SsdnError::NoXmlString {
        found: qualified_name(body),
    })?;
    let text = element.text();
    if text.trim().is_empty() {
        return Err(SsdnError::EmptyDocument);
    }
    Ok(text.into_owned())
}

/// Parse the SSDN document found in `xmlString`, within `limits`.
pub fn parse_reply_document(document: &str, limits: &Limits) -> Result<SsdnReply, SsdnError> {
    let mut root =
        xml::parse_str(document.trim_start(), limits).map_err(SsdnError::InnerDocument)?;
    if root.name != "SSDNReply" || root.namespace.as_deref() != Some(SERVICE_NS) {
        return Err(SsdnError::UnexpectedRoot {
            found: qualified_name(&root),
        });
    }
    let reply = In::new(&root, SERVICE_NS);
    let context = reply.req("ReplyContext")?;
    let summary = result_summary(&context)?;
    let message = context.child("Message");
    let text = |name: &str| message.and_then(|m| m.text(name));
    let stamp = BcssStamp {
        ticket: text("Ticket"),
        time_receive: text("TimeReceive"),
        time_reply: text("TimeResponse"),
    };
    let reference = text("Reference");
    // Read every ServiceReply, noting where its payload is; the payloads are then moved
    // out of the tree, not copied.
    let mut parts = Vec::new();
    for (at, node) in root.children.iter().enumerate() {
        let xml::Node::Element(e) = node else {
            continue;
        };
        if e.name != "ServiceReply" || e.namespace.as_deref() != Some(SERVICE_NS) {
            continue;
        }
        let part = In::new(e, SERVICE_NS);
        let payload_at = e.children.iter().position(|n| {
            matches!(n, xml::Node::Element(c)
                if !matches!(c.namespace.as_deref(), Some(SERVICE_NS) | Some(COMMON_NS)))
        });
        parts.push((
            at,
            payload_at,
            result_summary(&part)?,
            part.req_text("ServiceId")?,
            part.req_text("Version")?,
        ));
    }
    let service_replies = parts
        .into_iter()
        .map(|(at, payload_at, summary, service_id, version)| {
            let slot = match (root.children.get_mut(at), payload_at) {
                (Some(xml::Node::Element(part)), Some(i)) => part.children.get_mut(i),
                _ => None,
            };
            let payload = match slot.map(|n| std::mem::replace(n, xml::Node::Text(String::new()))) {
                Some(xml::Node::Element(payload)) => Some(payload),
                _ => None,
            };
            ServiceReplyPart {
                summary,
                service_id,
                version,
                payload,
            }
        })
        .collect();
    Ok(SsdnReply {
        summary,
        reference,
        stamp,
        service_replies,
    })
}

fn result_summary(parent: &In<'_>) -> Result<ResultSummary, SsdnError> {
    let rs = parent
        .child_in(COMMON_NS, "ResultSummary")
        .ok_or_else(|| SsdnError::Missing {
            element: format!("{}/ResultSummary", parent.e.name),
        })?;
    let ok = rs.attr("ok").ok_or_else(|| SsdnError::Missing {
        element: format!("{}/ResultSummary/@ok", parent.e.name),
    })?;
    let status = match ok.as_str() {
        "YES" => ResultStatus::Yes,
        "WARNING" => ResultStatus::Warning,
        "NO" => ResultStatus::No,
        other => {
            return Err(SsdnError::Invalid {
                element: format!("{}/ResultSummary/@ok", parent.e.name),
                reason: format!("{other:?} is not YES, NO or WARNING"),
            });
        }
    };
    let mut details = Vec::new();
    for d in rs.all("Detail") {
        details.push(Detail {
            severity: Severity::parse(&d.req_text("Severity")?),
            reason_code: d.text("ReasonCode"),
            diagnostic: d.text("Diagnostic"),
            author_code_list: d.text("AuthorCodeList"),
            information: d
                .all("Information")
                .map(|i| Information {
                    field_name: i.text("FieldName"),
                    field_value: i.text("FieldValue"),
                })
                .collect(),
        });
    }
    Ok(ResultSummary {
        status,
        return_code: rs.number("ReturnCode")?,
        details,
    })
}

/// Read a reply to `sendXML`: the envelope, then the inner `SSDNReply`.
///
/// A SOAP fault gives [`ErrorKind::Soap`](crate::error::ErrorKind::Soap)`(`[`SoapError::Fault`]`)`; a body that is not
/// SOAP at all with a non-2xx `http_status` gives [`SsdnError::HttpStatus`].
pub fn read_reply(
    http_status: u16,
    body: &[u8],
    limits: &Limits,
) -> Result<SsdnReply, crate::Error> {
    match read_envelope(http_status, body, limits)? {
        Body::Fault(f) => Err(SoapError::Fault(f).into()),
        Body::Payload(document) => Ok(parse_reply_document(&xml_string_text(&document)?, limits)?),
    }
}

/// Read the envelope; a body that is not SOAP at all with a non-2xx `http_status` gives
/// [`SsdnError::HttpStatus`].
fn read_envelope(http_status: u16, body: &[u8], limits: &Limits) -> Result<Body, crate::Error> {
    match soap::read(body, limits) {
        Ok(body) => Ok(body),
        Err(e) if (200..300).contains(&http_status) => Err(e.into()),
        Err(e) => Err(SsdnError::HttpStatus {
            status: http_status,
            cause: e.to_string(),
        }
        .into()),
    }
}

fn failed<T>(stamp: BcssStamp, error: crate::Error) -> Decoded<T> {
    Decoded {
        stamp,
        outcome: Outcome::Undecodable {
            reason: error.to_string(),
        },
        result: Err(error),
    }
}

/// The code to journal: the first reason code of the given severity that is not generic,
/// service details first; else any reason code; else the return code; else `fallback`.
fn outcome_code(
    service: &[Detail],
    global: &[Detail],
    severity: &Severity,
    return_code: Option<i64>,
    fallback: &str,
) -> String {
    let all = || service.iter().chain(global);
    all()
        .filter(|d| &d.severity == severity)
        .filter_map(|d| d.reason_code.as_deref())
        .find(|c| !GENERIC_REASON_CODES.contains(c))
        .or_else(|| all().find_map(|d| d.reason_code.as_deref()))
        .map(str::to_string)
        .or_else(|| return_code.map(|rc| rc.to_string()))
        .unwrap_or_else(|| fallback.to_string())
}

/// Decode a reply to an SSDN service call into a [`Decoded`]: the BCSS stamp, the
/// [`Outcome`] for the journal, and the typed result that `payload` reads from the
/// service's reply element (or `None` when the `ServiceReply` has none).
///
/// See the [module documentation](super) for the mapping of `ResultSummary` to results.
pub fn decode_reply<T>(
    service: &Service,
    http_status: u16,
    body: &[u8],
    limits: &Limits,
    payload: impl FnOnce(Option<&Element>) -> Result<T, SsdnError>,
) -> Decoded<T> {
    let document = match read_envelope(http_status, body, limits) {
        Ok(Body::Payload(document)) => document,
        Ok(Body::Fault(fault)) => {
            return Decoded {
                stamp: BcssStamp::default(),
                outcome: Outcome::SoapFault {
                    code: fault.code.clone(),
                },
                result: Err(SoapError::Fault(fault).into()),
            };
        }
        Err(e) => return Decoded::undecodable(e),
    };
    let parsed = xml_string_text(&document).and_then(|text| parse_reply_document(&text, limits));
    let reply = match parsed {
        Ok(r) => r,
        Err(e) => return Decoded::undecodable(e.into()),
    };
    let stamp = reply.stamp.clone();
    let expected = service.ssdn_service_id().unwrap_or_default();
    let part = reply
        .service_replies
        .iter()
        .find(|p| p.service_id == expected);
    if part.is_none() && !reply.service_replies.is_empty() {
        let found: Vec<&str> = reply
            .service_replies
            .iter()
            .map(|p| p.service_id.as_str())
            .collect();
        let error = SsdnError::UnexpectedService {
            expected: expected.to_string(),
            found: found.join(", "),
        };
        return failed(stamp, error.into());
    }
    let status = part.map_or(reply.summary.status, |p| {
        p.summary.status.max(reply.summary.status)
    });
    let service_details: &[Detail] = part.map_or(&[], |p| &p.summary.details);
    let global_details = &reply.summary.details;
    let return_code = part
        .and_then(|p| p.summary.return_code)
        .or(reply.summary.return_code);
    if status == ResultStatus::No {
        let details: Vec<Detail> = global_details
            .iter()
            .chain(service_details)
            .cloned()
            .collect();
        let code = outcome_code(
            service_details,
            global_details,
            &Severity::Error,
            return_code,
            "NO",
        );
        let outcome = if details_mean_no_data(&details) {
            Outcome::NoData { code }
        } else {
            Outcome::BusinessError { code }
        };
        let error = SsdnError::Business {
            details,
            ticket: stamp.ticket.clone(),
            return_code,
        };
        return Decoded {
            stamp,
            outcome,
            result: Err(error.into()),
        };
    }
    let Some(part) = part else {
        let error = SsdnError::Missing {
            element: "SSDNReply/ServiceReply".to_string(),
        };
        return failed(stamp, error.into());
    };
    let data = match payload(part.payload.as_ref()) {
        Ok(d) => d,
        Err(e) => return failed(stamp, e.into()),
    };
    let warnings: Vec<Warning> = global_details
        .iter()
        .chain(service_details)
        .map(Detail::to_warning)
        .collect();
    let outcome = match status {
        ResultStatus::Warning => Outcome::Warning {
            code: outcome_code(
                service_details,
                global_details,
                &Severity::Warning,
                return_code,
                "WARNING",
            ),
        },
        _ => Outcome::Ok,
    };
    Decoded {
        stamp,
        outcome,
        result: Ok(ServiceReply { data, warnings }),
    }
}

/// Check that a service's reply element is `{namespace}name`, and return it.
pub(crate) fn expect_payload<'a>(
    payload: Option<&'a Element>,
    namespace: &str,
    name: &str,
) -> Result<&'a Element, SsdnError> {
    match payload {
        Some(e) if e.name == name && e.namespace.as_deref() == Some(namespace) => Ok(e),
        other => Err(SsdnError::UnexpectedPayload {
            expected: format!("{{{namespace}}}{name}"),
            found: other.map_or_else(|| "nothing".to_string(), qualified_name),
        }),
    }
}
