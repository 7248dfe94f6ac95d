//! Writing an `SSDNRequest` and wrapping it in the connector's `sendXML` envelope.

use chrono::{DateTime, Utc};

use super::{CONNECTOR_NS, SERVICE_NS};
use crate::services::{RequestError, RequestHeader, Service};
use crate::soap;
use crate::xml::Element;

/// `TimeRequest`'s format, `yyyyMMddThhmmss`, in UTC (the schema type is `t_DateTimeUTC`).
///
/// ```
/// use chrono::{TimeZone, Utc};
/// let t = Utc.with_ymd_and_hms(2024, 3, 5, 9, 7, 3).unwrap();
/// assert_eq!(bcss::ssdn::format_time_request(t), "20240305T090703");
/// ```
pub fn format_time_request(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

/// The `SSDNRequest` document for one service request: the `RequestContext` from
/// `header` (`UserID` = the program number, `Email`, `OrgUnit` = the CBE number, `MatrixID`
/// = the sector, `MatrixSubID` when set; `Message/Reference` = our ticket, `TimeRequest`),
/// then the `ServiceRequest` with the service's `ServiceId` and `Version` (from its
/// catalogue entry) and `payload`.
///
/// Refused when `service` is not an SSDN service or the e-mail address cannot be valid
/// (`t_EmailAddress`: at most 100 characters, something on both sides of an `@`).
pub fn request_document(
    header: &RequestHeader,
    service: &Service,
    payload: Element,
) -> Result<Element, RequestError> {
    let Some(ids) = service.ssdn() else {
        return Err(RequestError::Invalid {
            service: service.name().to_string().into(),
            message: "not an SSDN service: it has no SSDN ServiceId".to_string(),
        });
    };
    let email = header.email.trim();
    let email_ok = email.chars().count() <= 100
        && email
            .split_once('@')
            .is_some_and(|(user, host)| !user.trim().is_empty() && !host.trim().is_empty());
    if !email_ok {
        return Err(RequestError::Invalid {
            service: service.name().to_string().into(),
            message: format!(
                "the contact e-mail {email:?} is not an address BCSS accepts \
                 (at most 100 characters, with an @)"
            ),
        });
    }
    let user = Element::ns(SERVICE_NS, "AuthorizedUser")
        .with_leaf("UserID", header.program.as_str())
        .with_leaf("Email", email)
        .with_leaf("OrgUnit", header.organization.as_str())
        .with_leaf("MatrixID", header.sector.to_string())
        .with_opt_leaf("MatrixSubID", header.sub_sector.map(|s| s.to_string()));
    let message = Element::ns(SERVICE_NS, "Message")
        .with_leaf("Reference", header.ticket.to_string())
        .with_leaf("TimeRequest", format_time_request(header.sent_at));
    let context = Element::ns(SERVICE_NS, "RequestContext")
        .with_child(user)
        .with_child(message);
    let request = Element::ns(SERVICE_NS, "ServiceRequest")
        .with_leaf("ServiceId", ids.service_id.as_str())
        .with_leaf("Version", ids.version.as_str())
        .with_child(payload);
    Ok(Element::ns(SERVICE_NS, "SSDNRequest")
        .with_child(context)
        .with_child(request))
}

/// The complete SOAP envelope for the connector's `sendXML`: the [`request_document`]
/// serialised to text (no XML declaration) and escaped as the content of
/// `<xmlString xmlns="http://ksz-bcss.fgov.be/connectors/WebServiceConnector">`, which
/// the connector's WSDL puts directly in the SOAP body (document/literal, no wrapper).
pub fn encode_request(
    header: &RequestHeader,
    service: &Service,
    payload: Element,
) -> Result<Vec<u8>, crate::Error> {
    let document = request_document(header, service, payload)?;
    let xml_string = Element::ns(CONNECTOR_NS, "xmlString")
        .with_prefix("wsc")
        .with_text(document.to_xml());
    Ok(soap::envelope(xml_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{Cbe, ProgramId};
    use crate::services::{identify_person, manage_access, test_connection};
    use crate::xml::{self, Limits};
    use chrono::TimeZone;

    fn header() -> RequestHeader {
        RequestHeader {
            ticket: uuid::Uuid::nil(),
            sent_at: Utc.with_ymd_and_hms(2024, 3, 5, 9, 7, 3).unwrap(),
            organization: Cbe::new("0212344876").unwrap(),
            sector: 17,
            sub_sector: None,
            program: ProgramId::new("00912345673").unwrap(),
            email: "it@cpas-fictiveville.example".to_string(),
            legal_context: "ignored by SSDN".to_string(),
        }
    }

    #[test]
    fn document_shape() {
        let payload = Element::ns("urn:p", "P").with_leaf("X", "a<b");
        let doc = request_document(&header(), identify_person::service(), payload).unwrap();
        let user = doc.find(&["RequestContext", "AuthorizedUser"]).unwrap();
        assert_eq!(user.child_text("UserID").as_deref(), Some("00912345673"));
        assert_eq!(user.child_text("OrgUnit").as_deref(), Some("0212344876"));
        assert_eq!(user.child_text("MatrixID").as_deref(), Some("17"));
        assert!(user.child("MatrixSubID").is_none());
        let msg = doc.find(&["RequestContext", "Message"]).unwrap();
        assert_eq!(
            msg.child_text("TimeRequest").as_deref(),
            Some("20240305T090703")
        );
        assert_eq!(
            msg.child_text("Reference").as_deref(),
            Some("00000000-0000-0000-0000-000000000000")
        );
        let sr = doc.child("ServiceRequest").unwrap();
        assert_eq!(
            sr.child_text("ServiceId").as_deref(),
            Some("OCMWCPASIdentifyPerson")
        );
        assert_eq!(sr.child_text("Version").as_deref(), Some("20050930"));
        assert_eq!(sr.child("P").unwrap().namespace.as_deref(), Some("urn:p"));
        for e in [user, msg, sr] {
            assert_eq!(e.namespace.as_deref(), Some(SERVICE_NS));
        }
    }

    #[test]
    fn envelope_carries_the_document_as_escaped_text() {
        let mut h = header();
        h.sub_sector = Some(3);
        let payload = Element::ns("urn:p", "P").with_leaf("X", "a<b & c");
        let bytes = encode_request(&h, manage_access::service(), payload).unwrap();
        let raw = String::from_utf8(bytes.clone()).unwrap();
        assert!(raw.contains("&lt;SSDNRequest"), "{raw}");
        let body = match soap::read(&bytes, &Limits::default()).unwrap() {
            soap::Body::Payload(p) => p,
            soap::Body::Fault(f) => panic!("{f:?}"),
        };
        assert_eq!(body.name, "xmlString");
        assert_eq!(body.namespace.as_deref(), Some(CONNECTOR_NS));
        assert!(body.elements().next().is_none(), "text only");
        let inner = xml::parse(body.text().as_bytes(), &Limits::default()).unwrap();
        assert_eq!(inner.name, "SSDNRequest");
        assert_eq!(
            inner.find(&["ServiceRequest", "P", "X"]).unwrap().text(),
            "a<b & c"
        );
        assert_eq!(
            inner
                .find(&["RequestContext", "AuthorizedUser", "MatrixSubID"])
                .unwrap()
                .text(),
            "3"
        );
    }

    #[test]
    fn refusals() {
        let p = || Element::ns("urn:p", "P");
        let err = request_document(&header(), test_connection::service(), p()).unwrap_err();
        assert!(matches!(
            err,
            RequestError::Invalid {
                ref service,
                ..
            } if service == "TestConnection"
        ));
        for bad in [
            "",
            "no-at-sign",
            "@host",
            "user@",
            &format!("{}@x.be", "a".repeat(100)),
        ] {
            let mut h = header();
            h.email = bad.to_string();
            let err = request_document(&h, identify_person::service(), p()).unwrap_err();
            assert!(err.to_string().contains("e-mail"), "{bad}: {err}");
        }
    }
}
