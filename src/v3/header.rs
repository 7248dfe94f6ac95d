//! Writing the common-v3 request header: `informationCustomer` and `legalContext`.
//!
//! CommonV3.xsd's `BaseRequestType` is the sequence `informationCustomer`,
//! `informationCBSS?`, `legalContext`; a request's own content follows. The schemas are
//! `elementFormDefault="unqualified"`: only the request's root element is namespaced.

use chrono::SecondsFormat;

use crate::ids::{Ssin, SsinKind};
use crate::services::{LegalContextRule, RequestError, RequestHeader, Service};
use crate::xml::Element;

/// The prefix the request root is written with.
pub const ROOT_PREFIX: &str = "ns";

/// The longest `legalContext` CommonV3.xsd accepts.
pub const LEGAL_CONTEXT_MAX: usize = 64;

/// `informationCustomer`: our ticket (UUID v7), when we send, and our CBE number.
pub fn information_customer(header: &RequestHeader) -> Element {
    Element::new("informationCustomer")
        .with_child(Element::new("ticket").with_text(header.ticket.hyphenated().to_string()))
        .with_child(Element::new("timestampSent").with_text(timestamp(header)))
        .with_child(
            Element::new("customerIdentification")
                .with_child(Element::new("cbeNumber").with_text(header.organization.as_str())),
        )
}

/// `timestampSent` as an `xsd:dateTime` in UTC with milliseconds
/// (`2024-05-17T09:30:00.123Z`).
pub fn timestamp(header: &RequestHeader) -> String {
    header.sent_at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Check a `legalContext`: present, at most 64 characters, no control characters.
pub fn check_legal_context(service: &str, value: &str) -> Result<(), RequestError> {
    if value.trim().is_empty() {
        return Err(RequestError::Missing {
            service: service.to_string().into(),
            field: "legalContext (the purpose of the grant)",
        });
    }
    let chars = value.chars().count();
    if chars > LEGAL_CONTEXT_MAX {
        return Err(RequestError::Invalid {
            service: service.to_string().into(),
            message: format!(
                "legalContext has {chars} characters; BCSS accepts at most {LEGAL_CONTEXT_MAX}"
            ),
        });
    }
    if value.chars().any(char::is_control) {
        return Err(RequestError::Invalid {
            service: service.to_string().into(),
            message: "legalContext contains control characters".to_string(),
        });
    }
    Ok(())
}

/// Check that BCSS's `SsinType` accepts `ssin`: a National Register number's serial
/// number may not be `000` (BIS numbers may).
pub fn check_ssin(service: &'static str, ssin: &Ssin) -> Result<(), RequestError> {
    if ssin.kind() == SsinKind::NationalRegister && &ssin.reveal()[6..9] == "000" {
        return Err(RequestError::Invalid {
            service: service.into(),
            message: format!(
                "SSIN {ssin} has serial number 000, which no National Register number has"
            ),
        });
    }
    Ok(())
}

/// Check free text that will travel in a request: XML 1.0 cannot carry most control
/// characters, and BCSS would reject them.
pub fn check_text(service: &'static str, field: &str, value: &str) -> Result<(), RequestError> {
    if let Some(c) = value
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(RequestError::Invalid {
            service: service.into(),
            message: format!(
                "{field} contains the control character U+{:04X}",
                u32::from(c)
            ),
        });
    }
    Ok(())
}

/// The root of a request: `<ns:{element} xmlns:ns="{namespace}">` holding
/// `informationCustomer` and `legalContext`. The caller appends the operation's own
/// content.
pub fn request_root(
    namespace: &str,
    element: &str,
    service: &str,
    header: &RequestHeader,
) -> Result<Element, RequestError> {
    check_legal_context(service, &header.legal_context)?;
    Ok(Element::ns(namespace, element)
        .with_prefix(ROOT_PREFIX)
        .with_child(information_customer(header))
        .with_child(Element::new("legalContext").with_text(header.legal_context.as_str())))
}

/// The root of a request to `service` as its catalogue entry describes it:
/// `<ns:{element}>` in the interface namespace, starting with `informationCustomer` when
/// the service carries it and `legalContext` (the grant's purpose, checked against the
/// service's [`LegalContextRule`]) when it carries one. The caller appends the operation's
/// own content. Typed and generic requests share it.
///
/// Refused when `service` is not a common-v3 service, or the purpose is not one the
/// service's schema accepts.
pub fn service_request_root(
    service: &Service,
    element: &str,
    header: &RequestHeader,
) -> Result<Element, RequestError> {
    let Some(ids) = service.v3() else {
        return Err(RequestError::Invalid {
            service: service.name().to_string().into(),
            message: "not a common-v3 service: it has no interface namespace".to_string(),
        });
    };
    let mut root = Element::ns(ids.namespace.as_str(), element).with_prefix(ROOT_PREFIX);
    if service.carries_information_customer() {
        root.push(information_customer(header));
    }
    let rule = service.legal_context();
    if *rule != LegalContextRule::None {
        check_legal_context(service.name(), &header.legal_context)?;
        if !rule.allows(&header.legal_context) {
            return Err(RequestError::Invalid {
                service: service.name().to_string().into(),
                message: format!(
                    "legalContext {:?} is not one the service accepts{}",
                    header.legal_context,
                    rule.closed_values()
                        .map(|v| format!(" ({})", v.join(", ")))
                        .unwrap_or_default()
                ),
            });
        }
        root.push(Element::new("legalContext").with_text(header.legal_context.as_str()));
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{Cbe, ProgramId};
    use chrono::TimeZone;

    fn header(legal_context: &str) -> RequestHeader {
        RequestHeader {
            ticket: uuid::Uuid::now_v7(),
            sent_at: chrono::Utc
                .with_ymd_and_hms(2024, 5, 17, 9, 30, 0)
                .single()
                .unwrap(),
            organization: Cbe::new("0212344876").unwrap(),
            sector: 17,
            sub_sector: None,
            program: ProgramId::new("00912345673").unwrap(),
            email: "it@cpas-fictiveville.example".to_string(),
            legal_context: legal_context.to_string(),
        }
    }

    #[test]
    fn root_carries_the_header_in_schema_order() {
        let h = header("PCSA:SOCIAL_INQUIRY");
        let root = request_root("urn:x", "req", "X", &h).unwrap();
        let names: Vec<_> = root.elements().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["informationCustomer", "legalContext"]);
        let ic = root.child("informationCustomer").unwrap();
        let names: Vec<_> = ic.elements().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["ticket", "timestampSent", "customerIdentification"]);
        assert_eq!(
            ic.child_text("ticket").unwrap(),
            h.ticket.hyphenated().to_string()
        );
        assert_eq!(
            ic.child_text("timestampSent").unwrap(),
            "2024-05-17T09:30:00.000Z"
        );
        assert_eq!(
            ic.find(&["customerIdentification", "cbeNumber"])
                .unwrap()
                .text(),
            "0212344876"
        );
        assert!(root.elements().all(|e| e.namespace.is_none()));
        assert!(root.to_xml().starts_with("<ns:req xmlns:ns=\"urn:x\">"));
    }

    #[test]
    fn legal_context_is_checked() {
        assert!(matches!(
            request_root("urn:x", "r", "X", &header(" ")),
            Err(RequestError::Missing { .. })
        ));
        let long = "x".repeat(65);
        assert!(matches!(
            request_root("urn:x", "r", "X", &header(&long)),
            Err(RequestError::Invalid { .. })
        ));
        assert!(request_root("urn:x", "r", "X", &header(&"x".repeat(64))).is_ok());
        assert!(request_root("urn:x", "r", "X", &header("a\u{7}b")).is_err());
    }

    #[test]
    fn serial_000_is_refused() {
        // 680701 000 + check digits: valid under Ssin::new, refused by SsinType.
        let zero = Ssin::from_parts("680701", 0, crate::ids::Century::Nineteen).unwrap();
        assert!(check_ssin("X", &zero).is_err());
        let marc = Ssin::new("68070100188").unwrap();
        assert!(check_ssin("X", &marc).is_ok());
        let ivan = Ssin::new("75411205787").unwrap();
        assert!(check_ssin("X", &ivan).is_ok());
    }
}
