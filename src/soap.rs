//! SOAP 1.1 envelopes: writing, reading, faults, and the limits that keep reading bounded.
//!
//! This module knows nothing of BCSS services: it wraps a body element in an envelope,
//! and reads a reply into its body element or its [`Fault`]. A reply that is something
//! else is named in the error when it can be told: an HTML page, a MIME multipart body,
//! compressed bytes ([`Foreign`]), or a SOAP 1.2 envelope (with its fault's code and
//! reason).

use std::fmt;

mod foreign;

use crate::bounded::{REPLY_TEXT_MAX, REPLY_VALUE_MAX, bounded};
pub use crate::xml::Limits;
use crate::xml::{self, Element, XmlError};
pub use foreign::Foreign;

/// The SOAP 1.1 envelope namespace.
pub const ENVELOPE_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";

/// The SOAP 1.2 envelope namespace (recognised only to refuse it clearly).
const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";

/// Wrap `body` in a SOAP 1.1 envelope (with an empty header), as bytes to send.
pub fn envelope(body: Element) -> Vec<u8> {
    Element::ns(ENVELOPE_NS, "Envelope")
        .with_prefix("soapenv")
        .with_child(Element::ns(ENVELOPE_NS, "Header").with_prefix("soapenv"))
        .with_child(
            Element::ns(ENVELOPE_NS, "Body")
                .with_prefix("soapenv")
                .with_child(body),
        )
        .to_document()
}

/// A SOAP 1.1 fault.
#[derive(Clone, PartialEq, Eq)]
pub struct Fault {
    /// `faultcode` as written (a QName such as `soapenv:Server`).
    pub code: String,
    /// `faultstring`.
    pub string: String,
    /// `faultactor`, if any.
    pub actor: Option<String>,
    /// `detail`, if any, with its content (boxed: it keeps errors small).
    pub detail: Option<Box<Element>>,
}

impl Fault {
    /// The local part of the fault code (`Server`, `Client`...).
    pub fn code_local(&self) -> &str {
        self.code.rsplit(':').next().unwrap_or(&self.code)
    }
}

/// The detail may hold personal data; `Debug` shows only which elements it holds.
impl fmt::Debug for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fault")
            .field("code", &self.code)
            .field("string", &self.string)
            .field("actor", &self.actor)
            .field(
                "detail",
                &self
                    .detail
                    .as_ref()
                    .map(|d| d.elements().map(|e| e.name.clone()).collect::<Vec<_>>()),
            )
            .finish()
    }
}

/// What a reply's body holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// The body's (first) element.
    Payload(Element),
    /// A SOAP fault.
    Fault(Fault),
}

/// A reply could not be read as a SOAP 1.1 envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SoapError {
    /// The reply is not well-formed or exceeds a limit.
    #[error("reply is not acceptable XML: {0}")]
    Xml(#[from] XmlError),
    /// The reply is not XML, or not SOAP, and its first bytes tell what it is.
    #[error("reply is {0}, not a SOAP envelope")]
    Foreign(Foreign),
    /// The root element is not a SOAP 1.1 envelope.
    #[error("reply is not a SOAP 1.1 envelope: root element is {found}")]
    NotAnEnvelope {
        /// The root element found, as `{namespace}name`.
        found: String,
    },
    /// The envelope has no body, or an empty one.
    #[error("SOAP envelope has no body element")]
    NoBody,
    /// A fault that the service layer did not recognise as a business error.
    #[error(
        "SOAP fault {}: {}",
        bounded(&.0.code, REPLY_VALUE_MAX),
        bounded(&.0.string, REPLY_TEXT_MAX)
    )]
    Fault(Fault),
    /// The body is not the element the operation answers with.
    #[error("unexpected reply element {found}; expected {expected}")]
    UnexpectedBody {
        /// The element found, as `{namespace}name`.
        found: String,
        /// What was expected.
        expected: String,
    },
}

/// `{namespace}name`, for messages.
pub fn qualified_name(e: &Element) -> String {
    match &e.namespace {
        Some(ns) => format!("{{{ns}}}{}", e.name),
        None => e.name.clone(),
    }
}

/// Read a SOAP 1.1 reply into its body element or fault, within `limits`.
///
/// # Errors
/// [`SoapError::Xml`] for bytes that are not acceptable XML, except that an HTML page, a
/// MIME multipart body or compressed bytes give [`SoapError::Foreign`]; see
/// [`read_element`] for the rest.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<Body, SoapError> {
    let root = match xml::parse(bytes, limits) {
        Ok(root) => root,
        Err(e) if limit_error(&e) => return Err(e.into()),
        Err(e) => return Err(foreign::sniff(bytes).map_or(SoapError::Xml(e), SoapError::Foreign)),
    };
    if let Some(html) = foreign::html_root(&root) {
        return Err(SoapError::Foreign(html));
    }
    read_element(root)
}

/// Whether an XML error is about a limit (then it is the answer, whatever the bytes are).
fn limit_error(e: &XmlError) -> bool {
    matches!(
        e,
        XmlError::TooLarge { .. }
            | XmlError::TooDeep { .. }
            | XmlError::TooManyNodes { .. }
            | XmlError::TooManyAttributes { .. }
            | XmlError::TooManyNamespaces { .. }
    )
}

/// Read an already parsed envelope.
pub fn read_element(root: Element) -> Result<Body, SoapError> {
    if root.name != "Envelope" || root.namespace.as_deref() != Some(ENVELOPE_NS) {
        let mut found = qualified_name(&root);
        if root.namespace.as_deref() == Some(SOAP12_NS) {
            found.push_str(" (SOAP 1.2; BCSS services speak SOAP 1.1)");
            if let Some(fault) = soap12_fault(&root) {
                found.push_str(": ");
                found.push_str(&fault);
            }
        }
        return Err(SoapError::NotAnEnvelope { found });
    }
    let mut body = root
        .children
        .into_iter()
        .filter_map(|n| match n {
            xml::Node::Element(e)
                if e.name == "Body" && e.namespace.as_deref() == Some(ENVELOPE_NS) =>
            {
                Some(e)
            }
            _ => None,
        })
        .next()
        .ok_or(SoapError::NoBody)?;
    let first = body
        .children
        .drain(..)
        .find_map(|n| match n {
            xml::Node::Element(e) => Some(e),
            xml::Node::Text(_) => None,
        })
        .ok_or(SoapError::NoBody)?;
    if first.name == "Fault" && first.namespace.as_deref() == Some(ENVELOPE_NS) {
        return Ok(Body::Fault(read_fault(first)));
    }
    Ok(Body::Payload(first))
}

/// A SOAP 1.2 fault, as `fault CODE: REASON` (`Code/Value`, its `Subcode/Value`s and
/// the first `Reason/Text`), when the envelope holds one.
fn soap12_fault(root: &Element) -> Option<String> {
    let fault = root
        .child_ns(SOAP12_NS, "Body")?
        .child_ns(SOAP12_NS, "Fault")?;
    let mut code = String::new();
    let mut level = fault.child_ns(SOAP12_NS, "Code");
    while let Some(c) = level {
        if let Some(value) = c.child_text("Value") {
            if !code.is_empty() {
                code.push('/');
            }
            code.push_str(&value);
        }
        level = c.child_ns(SOAP12_NS, "Subcode");
    }
    let reason = fault
        .child_ns(SOAP12_NS, "Reason")
        .and_then(|r| r.child_text("Text"))
        .unwrap_or_default();
    Some(format!("fault {code}: {reason}"))
}

/// Decode a `Fault` element. The SOAP 1.1 fault children are unqualified; some servers
/// qualify them, so they are matched by local name.
fn read_fault(fault: Element) -> Fault {
    let text = |name: &str| fault.child(name).map(Element::trimmed_text);
    Fault {
        code: text("faultcode").unwrap_or_default(),
        string: text("faultstring").unwrap_or_default(),
        actor: text("faultactor").filter(|s| !s.is_empty()),
        detail: fault.child("detail").cloned().map(Box::new),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_round_trip() {
        let bytes = envelope(Element::ns("urn:x", "ping").with_leaf("echo", "hello"));
        match read(&bytes, &Limits::default()).unwrap() {
            Body::Payload(p) => {
                assert_eq!(p.name, "ping");
                assert_eq!(p.child_text("echo").as_deref(), Some("hello"));
            }
            other => panic!("expected a payload, got {other:?}"),
        }
    }

    #[test]
    fn fault_is_decoded() {
        let reply = br#"<?xml version="1.0"?>
<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/">
  <S:Body>
    <S:Fault>
      <faultcode>S:Server</faultcode>
      <faultstring>Something failed</faultstring>
      <detail><x:info xmlns:x="urn:x">more</x:info></detail>
    </S:Fault>
  </S:Body>
</S:Envelope>"#;
        match read(reply, &Limits::default()).unwrap() {
            Body::Fault(f) => {
                assert_eq!(f.code, "S:Server");
                assert_eq!(f.code_local(), "Server");
                assert_eq!(f.string, "Something failed");
                let d = f.detail.unwrap();
                assert_eq!(d.child("info").unwrap().text(), "more");
            }
            other => panic!("expected a fault, got {other:?}"),
        }
    }

    #[test]
    fn not_an_envelope() {
        let r = read(
            b"<Envelope><Body><x/></Body></Envelope>",
            &Limits::default(),
        );
        assert!(matches!(r, Err(SoapError::NotAnEnvelope { .. })));
        let r = read(
            br#"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>"#,
            &Limits::default(),
        );
        assert!(matches!(r, Err(SoapError::NotAnEnvelope { found }) if found.contains("SOAP 1.2")));
        let r = read(
            br#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body> </e:Body></e:Envelope>"#,
            &Limits::default(),
        );
        assert!(matches!(r, Err(SoapError::NoBody)));
    }
}
