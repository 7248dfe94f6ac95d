//! The SSDN ResultSummary mapping: both the global and the service summary count, the
//! worse one decides; the connector's reply element is found with or without a wrapper.

mod ssdn_support;

use bcss::error::ErrorKind;
use bcss::services::Outcome;
use bcss::soap::Limits;
use bcss::ssdn::{self, ResultStatus, SsdnError};
use bcss::xml::Element;
use ssdn_support::*;

const COMMON: &str = "http://www.ksz-bcss.fgov.be/XSD/SSDN/Common";
const IP: &str = "http://www.ksz-bcss.fgov.be/XSD/SSDN/OCMW_CPAS/IdentifyPerson";

fn summary(ok: &str, rc: u32, code: Option<(&str, &str)>) -> String {
    let detail = code.map_or(String::new(), |(severity, reason)| {
        format!(
            "<c:Detail><c:Severity>{severity}</c:Severity><c:ReasonCode>{reason}</c:ReasonCode></c:Detail>"
        )
    });
    format!(
        r#"<c:ResultSummary xmlns:c="{COMMON}" ok="{ok}"><c:ReturnCode>{rc}</c:ReturnCode>{detail}</c:ResultSummary>"#
    )
}

fn document(global: &str, service: Option<&str>) -> String {
    let service_reply = service.map_or(String::new(), |s| {
        format!(
            r#"<ServiceReply>{s}<ServiceId>OCMWCPASIdentifyPerson</ServiceId><Version>20050930</Version><ip:IdentifyPersonReply xmlns:ip="{IP}"/></ServiceReply>"#
        )
    });
    format!(
        r#"<SSDNReply xmlns="http://www.ksz-bcss.fgov.be/XSD/SSDN/Service"><ReplyContext>{global}<Message><Ticket>T-1</Ticket><TimeReceive>20240603T140510</TimeReceive><TimeResponse>20240603T140512</TimeResponse></Message></ReplyContext>{service_reply}</SSDNReply>"#
    )
}

fn envelope(body: &str) -> Vec<u8> {
    format!(
        r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"#
    )
    .into_bytes()
}

fn escaped(doc: &str) -> Vec<u8> {
    let text = Element::new("t").with_text(doc).to_xml();
    let text = &text[3..text.len() - 4];
    envelope(&format!(
        r#"<xmlString xmlns="http://ksz-bcss.fgov.be/connectors/WebServiceConnector">{text}</xmlString>"#
    ))
}

/// Decode with a payload reader that only checks the reply element.
fn decode(bytes: &[u8]) -> bcss::services::Decoded<String> {
    ssdn::decode_reply(
        bcss::services::identify_person::service(),
        200,
        bytes,
        &Limits::default(),
        |p| Ok(p.map(|e| e.name.clone()).unwrap_or_default()),
    )
}

#[test]
fn global_yes_service_no_is_an_error() {
    let doc = document(
        &summary("YES", 0, None),
        Some(&summary("NO", 10000, Some(("ERROR", "31000005")))),
    );
    let d = decode(&escaped(&doc));
    assert_eq!(
        d.outcome,
        Outcome::BusinessError {
            code: "31000005".to_string()
        }
    );
    assert!(matches!(
        d.result.as_ref().map_err(bcss::Error::kind),
        Err(ErrorKind::Ssdn(SsdnError::Business {
            return_code: Some(10000),
            ..
        }))
    ));
}

#[test]
fn global_warning_service_yes_is_a_warning() {
    let doc = document(
        &summary("WARNING", 1, Some(("WARNING", "20000001"))),
        Some(&summary("YES", 0, None)),
    );
    let d = decode(&escaped(&doc));
    assert_eq!(
        d.outcome,
        Outcome::Warning {
            code: "20000001".to_string()
        }
    );
    let reply = d.result.unwrap();
    assert_eq!(reply.data, "IdentifyPersonReply");
    assert_eq!(reply.warnings[0].code, "20000001");
}

/// A refusal before any service ran (no ServiceReply): the global details decide.
#[test]
fn global_no_without_service_reply() {
    let doc = document(&summary("NO", 10000, Some(("ERROR", "31000007"))), None);
    let d = decode(&escaped(&doc));
    assert_eq!(
        d.outcome,
        Outcome::BusinessError {
            code: "31000007".to_string()
        }
    );
    assert_eq!(d.stamp.ticket.as_deref(), Some("T-1"));
    let Err(ErrorKind::Ssdn(e)) = d.result.as_ref().map_err(bcss::Error::kind) else {
        panic!("{:?}", d.result);
    };
    assert_eq!(e.reason_codes(), ["31000007"]);
    assert!(e.to_string().contains("ticket T-1"), "{e}");
}

#[test]
fn yes_without_service_reply_is_undecodable() {
    let d = decode(&escaped(&document(&summary("YES", 0, None), None)));
    assert!(matches!(d.outcome, Outcome::Undecodable { .. }));
    assert!(matches!(
        d.result.as_ref().map_err(bcss::Error::kind),
        Err(ErrorKind::Ssdn(SsdnError::Missing { element })) if element == "SSDNReply/ServiceReply"
    ));
    assert_eq!(d.stamp.time_reply.as_deref(), Some("20240603T140512"));
}

#[test]
fn no_with_only_no_data_codes_is_no_data() {
    let doc = document(
        &summary("NO", 10000, Some(("ERROR", "30000001"))),
        Some(&summary("NO", 10000, Some(("ERROR", "32007004")))),
    );
    let d = decode(&escaped(&doc));
    assert_eq!(
        d.outcome,
        Outcome::NoData {
            code: "32007004".to_string()
        }
    );
    let Err(ErrorKind::Ssdn(e)) = d.result.as_ref().map_err(bcss::Error::kind) else {
        panic!("{:?}", d.result);
    };
    assert!(e.is_no_data());
}

/// The connector's WSDL puts `xmlString` directly in the body; a `sendXMLResponse`
/// wrapper in the connector's namespace is accepted too.
#[test]
fn wrapped_xml_string_is_accepted() {
    let doc = document(&summary("YES", 0, None), Some(&summary("YES", 0, None)));
    let wrapped = envelope(&format!(
        r#"<w:sendXMLResponse xmlns:w="http://ksz-bcss.fgov.be/connectors/WebServiceConnector"><w:xmlString><![CDATA[{doc}]]></w:xmlString></w:sendXMLResponse>"#
    ));
    let d = decode(&wrapped);
    assert_eq!(d.outcome, Outcome::Ok);
    assert_eq!(d.result.unwrap().data, "IdentifyPersonReply");
}

#[test]
fn read_reply_exposes_both_summaries() {
    let reply = ssdn::read_reply(
        200,
        &fixture("IdentifyPerson", "warning"),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(reply.summary.status, ResultStatus::Warning);
    assert_eq!(reply.summary.return_code, Some(1));
    assert_eq!(
        reply.reference.as_deref(),
        Some("0190f5a2-7c3e-7d4a-9b1c-2e3f4a5b6c7d")
    );
    let [part] = reply.service_replies.as_slice() else {
        panic!("{reply:?}");
    };
    assert_eq!(part.service_id, "OCMWCPASIdentifyPerson");
    assert_eq!(part.version, "20050930");
    assert_eq!(
        part.summary.details[0].reason_code.as_deref(),
        Some("22007007")
    );
    assert_eq!(part.payload.as_ref().unwrap().name, "IdentifyPersonReply");
    // Debug names the payload without its (personal) content.
    let debug = format!("{part:?}");
    assert!(
        debug.contains("IdentifyPersonReply") && !debug.contains(ANNA),
        "{debug}"
    );
}
