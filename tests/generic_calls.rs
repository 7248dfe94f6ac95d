//! Calls to services bcss has no typed module for (issue 13, items 3 and 4), with the
//! fictitious services of `tests/contracts/services.toml`: a common-v3 one
//! (FictitiousAllowances: a read and a write) and an SSDN one (FictitiousAttestations).
//! Each call is granted, journaled with its subjects (and as a write when it is one), sent
//! over loopback HTTP to a stand-in serving prepared replies, and its reply decoded into
//! the right outcome; a call the manifest does not cover is denied with zero bytes sent.
//! Encoded generic requests validate against the fictitious XSDs, and the headers bcss
//! adds against BCSS's CommonV3 and SSDN schemas (xmllint; `SKIP:` without it or without
//! `../shared/contracts`, or the folder `BCSS_SHARED_CONTRACTS` names).

mod pipeline_support;
mod transport_support;
mod v3_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bcss::audit::{IntentRecord, Record};
use bcss::client::{Actor, CallContext, Client};
use bcss::endpoints::Endpoints;
use bcss::services::generic::{GenericReply, GenericRequest};
use bcss::services::{Catalogue, Service, ServiceRequest};
use bcss::transport::http::HttpTransport;
use bcss::{Environment, Error, ErrorKind};
use pipeline_support::{MemoryJournal, envelope, rig_in};
use transport_support::{Reply, Server, start};
use v3_support::header;

const MARC: &str = "68070100188";
const ANNA: &str = "85031204246";
const ALLOWANCES_NS: &str = "http://kszbcss.fgov.be/intf/FictitiousAllowancesService/v1";
const ATTESTATIONS_NS: &str =
    "http://www.ksz-bcss.fgov.be/XSD/SSDN/OCMW_CPAS/FictitiousAttestations";

fn contracts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/contracts")
}

/// The built-in services and the fictitious ones.
fn catalogue() -> Catalogue {
    let file = contracts().join("services.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let services = bcss::services::parse_services(&text, &file.display().to_string()).unwrap();
    Catalogue::with_configured(services).unwrap()
}

fn allowances() -> Service {
    catalogue().get("FictitiousAllowances").unwrap().clone()
}

fn attestations() -> Service {
    catalogue().get("FictitiousAttestations").unwrap().clone()
}

fn consult(ssin: &str) -> GenericRequest {
    GenericRequest::new(
        &allowances(),
        "consultAllowances",
        format!(
            "<criteria><ssin>{ssin}</ssin><period><beginDate>2025-01-01</beginDate></period></criteria>"
        ),
    )
    .unwrap()
}

fn declare(ssin: &str) -> GenericRequest {
    GenericRequest::new(
        &allowances(),
        "declareAllowance",
        format!(
            "<declaration><beneficiary>{ssin}</beneficiary><allowance><kind>HEATING</kind>\
             <monthlyAmount>125.50</monthlyAmount><period><beginDate>2025-01-01</beginDate>\
             </period></allowance></declaration>"
        ),
    )
    .unwrap()
}

fn attest(ssin: &str) -> GenericRequest {
    GenericRequest::new(
        &attestations(),
        "listAttestations",
        format!(
            "<FictitiousAttestationsRequest xmlns=\"{ATTESTATIONS_NS}\"><SSIN>{ssin}</SSIN>\
             <Kind>INCOME</Kind></FictitiousAttestationsRequest>"
        ),
    )
    .unwrap()
}

/// A common-v3 reply of `consultAllowances` with `status`.
fn allowances_reply(value: &str, code: &str) -> String {
    let allowance = if value == "DATA_FOUND" {
        "<allowance><kind>HEATING</kind><monthlyAmount>125.50</monthlyAmount><period><beginDate>2025-01-01</beginDate></period></allowance>"
    } else {
        ""
    };
    envelope(&format!(
        "<ns:consultAllowancesResponse xmlns:ns=\"{ALLOWANCES_NS}\"><informationCustomer><ticket>t</ticket><timestampSent>2025-06-02T09:30:00.000Z</timestampSent><customerIdentification><cbeNumber>0212344876</cbeNumber></customerIdentification></informationCustomer><informationCBSS><ticketCBSS>cbss-7</ticketCBSS><timestampReceive>2025-06-02T09:30:00.100Z</timestampReceive><timestampReply>2025-06-02T09:30:00.200Z</timestampReply></informationCBSS><legalContext>social inquiry</legalContext><criteria><ssin>{MARC}</ssin></criteria><status><value>{value}</value><code>{code}</code><description>d</description></status>{allowance}</ns:consultAllowancesResponse>"
    ))
}

fn cbss_fault(code: &str) -> String {
    envelope(&format!(
        "<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>refused</faultstring><detail><ns:consultAllowancesFault xmlns:ns=\"{ALLOWANCES_NS}\"><informationCBSS><ticketCBSS>cbss-8</ticketCBSS></informationCBSS><detail><severity>FATAL</severity><reasonCode>{code}</reasonCode><diagnostic>unavailable</diagnostic><authorCode>CBSS</authorCode></detail></ns:consultAllowancesFault></detail></soapenv:Fault>"
    ))
}

fn soap_fault() -> String {
    envelope(
        "<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>Internal error</faultstring></soapenv:Fault>",
    )
}

/// An SSDN reply of FictitiousAttestations: `ok`, with the details given, and the payload
/// when `ok` is YES.
fn attestations_reply(ok: &str, reason: Option<&str>) -> String {
    let detail = reason.map_or(String::new(), |r| {
        format!("<c:Detail><c:Severity>ERROR</c:Severity><c:ReasonCode>{r}</c:ReasonCode><c:Diagnostic>d</c:Diagnostic></c:Detail>")
    });
    let payload = if ok == "YES" {
        format!(
            "<FictitiousAttestationsReply xmlns=\"{ATTESTATIONS_NS}\"><SSIN>{MARC}</SSIN><Attestation><Kind>INCOME</Kind><IssueDate>2025-03-01</IssueDate><Reference>A-1</Reference></Attestation></FictitiousAttestationsReply>"
        )
    } else {
        String::new()
    };
    let inner = format!(
        "<SSDNReply xmlns=\"http://www.ksz-bcss.fgov.be/XSD/SSDN/Service\" xmlns:c=\"http://www.ksz-bcss.fgov.be/XSD/SSDN/Common\"><ReplyContext><c:ResultSummary ok=\"{ok}\"><c:ReturnCode>0</c:ReturnCode></c:ResultSummary><Message><Ticket>SSDNTICKET12345</Ticket><TimeResponse>20250602T093001</TimeResponse></Message></ReplyContext><ServiceReply><c:ResultSummary ok=\"{ok}\"><c:ReturnCode>0</c:ReturnCode>{detail}</c:ResultSummary><ServiceId>OCMWCPASFictitiousAttestations</ServiceId><Version>20250101</Version>{payload}</ServiceReply></SSDNReply>"
    );
    envelope(&format!(
        "<xmlString xmlns=\"http://ksz-bcss.fgov.be/connectors/WebServiceConnector\"><![CDATA[{inner}]]></xmlString>"
    ))
}

/// A client of the test environment granted `service` (for `purpose`), sending it to
/// `server` over loopback HTTP.
fn client_to(service: &Service, purpose: &str, server: &Server) -> (Client, Arc<MemoryJournal>) {
    let http = Arc::new(HttpTransport::builder().build().unwrap());
    let r = rig_in(http, Environment::Test, &[(service, purpose)], catalogue());
    let endpoints = Endpoints::defaults()
        .with_service_url(Environment::Test, service, &server.url("http", "127.0.0.1"))
        .unwrap();
    (r.builder.endpoints(endpoints).build().unwrap(), r.journal)
}

fn intent_of(journal: &MemoryJournal) -> IntentRecord {
    journal
        .records()
        .into_iter()
        .find_map(|r| match r {
            Record::Intent(i) => Some(i),
            _ => None,
        })
        .expect("an intent")
}

fn classification_of(journal: &MemoryJournal) -> (String, Option<String>) {
    journal
        .records()
        .into_iter()
        .find_map(|r| match r {
            Record::Classification(c) => Some((c.outcome, c.code)),
            _ => None,
        })
        .expect("a classification")
}

/// One call of `request` to a stand-in answering `status` and `body`: the result, the
/// journal, and what the stand-in received.
async fn call(
    service: &Service,
    purpose: &str,
    request: &GenericRequest,
    status: u16,
    body: String,
) -> (
    Result<bcss::client::Reply<GenericReply>, Error>,
    Arc<MemoryJournal>,
    Vec<u8>,
    Option<String>,
) {
    let mut server = start(
        None,
        Reply::Fixed {
            status,
            headers: vec![("Content-Type".into(), "text/xml; charset=utf-8".into())],
            body: body.into_bytes(),
        },
    )
    .await;
    let (client, journal) = client_to(service, purpose, &server);
    let result = client
        .call(&CallContext::new(Actor::new("agent-042"), purpose), request)
        .await;
    let seen = server.next_event().await.unwrap();
    let action = seen.header("soapaction").map(str::to_string);
    (result, journal, seen.body, action)
}

#[tokio::test]
async fn a_common_v3_service_without_a_typed_module_goes_through_the_one_call_path() {
    let service = allowances();
    let purpose = "social inquiry";
    // DATA_FOUND: the business payload comes back as an element tree.
    let (result, journal, sent, action) = call(
        &service,
        purpose,
        &consult(MARC),
        200,
        allowances_reply("DATA_FOUND", "MSG00000"),
    )
    .await;
    let reply = result.unwrap();
    assert_eq!(reply.bcss.ticket.as_deref(), Some("cbss-7"));
    let payload = &reply.data.payload;
    assert_eq!(payload.name, "consultAllowancesResponse");
    assert_eq!(payload.namespace.as_deref(), Some(ALLOWANCES_NS));
    let names: Vec<&str> = payload.elements().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["legalContext", "criteria", "allowance"]);
    let json = serde_json::to_value(&reply.data).unwrap();
    assert_eq!(
        json["payload"]["children"][2]["children"][1],
        serde_json::json!({"name": "monthlyAmount", "text": "125.50"})
    );
    assert!(
        !format!("{reply:?}").contains(MARC),
        "Debug masks the payload"
    );
    // Granted, journaled with its subject, not a write; the bytes sent are the intent's.
    let intent = intent_of(&journal);
    assert_eq!(intent.what.service, "FictitiousAllowances");
    assert_eq!(intent.what.operation, "consultAllowances");
    assert_eq!(intent.what.subjects, [MARC]);
    assert_eq!(intent.what.purpose, purpose);
    assert!(!intent.write);
    assert_eq!(intent.request.as_bytes(), &sent[..]);
    assert_eq!(
        action.as_deref(),
        Some("\"http://kszbcss.fgov.be/FictitiousAllowancesService/consultAllowances\"")
    );
    let text = String::from_utf8(sent).unwrap();
    assert!(
        text.contains(&format!(
            "<informationCustomer><ticket>{}</ticket>",
            reply.ticket
        )),
        "{text}"
    );
    assert!(
        text.contains("<legalContext>social inquiry</legalContext><criteria>"),
        "{text}"
    );
    assert_eq!(classification_of(&journal), ("ok".to_string(), None));

    // NO_DATA_FOUND, a CBSSFault, a SOAP fault: the shared decoding names each.
    let cases = [
        (
            200,
            allowances_reply("NO_DATA_FOUND", "MSG00100"),
            "no_data",
            Some("MSG00100"),
        ),
        (
            500,
            cbss_fault("MSG00001"),
            "business_error",
            Some("MSG00001"),
        ),
        (500, soap_fault(), "soap_fault", Some("soapenv:Server")),
    ];
    for (status, body, kind, code) in cases {
        let (result, journal, _, _) = call(&service, purpose, &consult(MARC), status, body).await;
        let e = result.unwrap_err();
        assert_eq!(
            classification_of(&journal),
            (kind.to_string(), code.map(str::to_string))
        );
        assert_eq!(e.code(), code, "{kind}");
        assert_eq!(e.is_no_data(), kind == "no_data", "{kind}");
        assert_eq!(e.is_retryable(), code == Some("MSG00001"), "{kind}");
        assert!(e.was_sent() && e.ticket().is_some(), "{kind}");
    }
}

#[tokio::test]
async fn an_ssdn_service_without_a_typed_module_goes_through_the_one_call_path() {
    let service = attestations();
    let purpose = "PCSA:SOCIAL_INQUIRY";
    let (result, journal, sent, action) = call(
        &service,
        purpose,
        &attest(MARC),
        200,
        attestations_reply("YES", None),
    )
    .await;
    let reply = result.unwrap();
    assert_eq!(reply.bcss.ticket.as_deref(), Some("SSDNTICKET12345"));
    assert_eq!(reply.data.payload.name, "FictitiousAttestationsReply");
    assert_eq!(
        reply.data.payload.namespace.as_deref(),
        Some(ATTESTATIONS_NS)
    );
    let json = serde_json::to_value(&reply.data).unwrap();
    assert_eq!(json["payload"]["namespace"], ATTESTATIONS_NS);
    assert_eq!(json["payload"]["children"][0]["text"], MARC);
    assert!(json["payload"]["children"][0].get("namespace").is_none());
    let intent = intent_of(&journal);
    assert_eq!(intent.what.subjects, [MARC]);
    assert!(!intent.write);
    assert_eq!(intent.request.as_bytes(), &sent[..]);
    // Through the connector's sendXML, with the grant's program number.
    assert_eq!(
        action.as_deref(),
        Some("\"http://ksz-bcss.fgov.be/connectors/WebServiceConnector/sendXML\"")
    );
    let text = String::from_utf8(sent).unwrap();
    assert!(
        text.contains("&lt;UserID&gt;00912345673&lt;/UserID&gt;"),
        "{text}"
    );
    assert!(
        text.contains("&lt;ServiceId&gt;OCMWCPASFictitiousAttestations&lt;/ServiceId&gt;"),
        "{text}"
    );
    assert_eq!(classification_of(&journal), ("ok".to_string(), None));

    let cases = [
        (
            200,
            attestations_reply("NO", Some("32007004")),
            "no_data",
            Some("32007004"),
        ),
        (
            200,
            attestations_reply("NO", Some("31000005")),
            "business_error",
            Some("31000005"),
        ),
        (500, soap_fault(), "soap_fault", Some("soapenv:Server")),
    ];
    for (status, body, kind, code) in cases {
        let (result, journal, _, _) = call(&service, purpose, &attest(MARC), status, body).await;
        let e = result.unwrap_err();
        assert_eq!(
            classification_of(&journal),
            (kind.to_string(), code.map(str::to_string))
        );
        assert_eq!(e.is_no_data(), kind == "no_data", "{kind}");
        assert_eq!(e.code(), code, "{kind}");
    }
}

#[tokio::test]
async fn a_call_the_manifest_does_not_cover_is_denied_and_sends_nothing() {
    let server = start(None, Reply::ok(&allowances_reply("DATA_FOUND", "MSG00000"))).await;
    // Granted the SSDN service only.
    let http = Arc::new(HttpTransport::builder().build().unwrap());
    let attestations = attestations();
    let r = rig_in(
        http,
        Environment::Test,
        &[(&attestations, "PCSA:SOCIAL_INQUIRY")],
        catalogue(),
    );
    let endpoints = Endpoints::defaults()
        .with_service_url(
            Environment::Test,
            &allowances(),
            &server.url("http", "127.0.0.1"),
        )
        .unwrap();
    let client = r.builder.endpoints(endpoints).build().unwrap();
    let e = client
        .call(
            &CallContext::new(Actor::new("agent-042"), "social inquiry"),
            &consult(MARC),
        )
        .await
        .unwrap_err();
    assert!(e.is_denied() && !e.was_sent(), "{e:?}");
    assert!(matches!(e.kind(), ErrorKind::Denied(_)));
    assert_eq!(
        server.connections.load(Ordering::SeqCst),
        0,
        "zero bytes sent"
    );
    let records = r.journal.call_records();
    let [Record::Denial(d)] = &records[..] else {
        panic!("{records:?}");
    };
    assert_eq!(d.what.service, "FictitiousAllowances");
    assert_eq!(d.what.subjects, [MARC]);
}

#[tokio::test]
async fn a_write_is_flagged_in_the_journal_typed_or_generic() {
    let service = allowances();
    let body = envelope(&format!(
        "<ns:declareAllowanceResponse xmlns:ns=\"{ALLOWANCES_NS}\"><informationCBSS><ticketCBSS>cbss-9</ticketCBSS></informationCBSS><legalContext>allowance management</legalContext><declaration><beneficiary>{ANNA}</beneficiary></declaration><status><value>DATA_FOUND</value><code>MSG00000</code></status><declarationId>DECL00000001</declarationId></ns:declareAllowanceResponse>"
    ));
    let (result, journal, _, action) =
        call(&service, "allowance management", &declare(ANNA), 200, body).await;
    let reply = result.unwrap();
    assert_eq!(
        reply.data.payload.child_text("declarationId").as_deref(),
        Some("DECL00000001")
    );
    let intent = intent_of(&journal);
    assert!(
        intent.write,
        "the descriptor marks declareAllowance as a write"
    );
    assert_eq!(intent.what.subjects, [ANNA]);
    assert!(action.unwrap().contains("declareAllowance"));

    // A typed write (ManageAccess register) is flagged the same way.
    let journal = Arc::new(MemoryJournal::default());
    let manage = bcss::services::manage_access::service();
    let client = Client::builder()
        .environment(Environment::Test)
        .application("generic-test", "1")
        .contact_email("it@cpas-fictiveville.example")
        .guard(Arc::new(
            bcss::manifest::Guard::from_str(
                &pipeline_support::permissive_manifest(
                    Environment::Test,
                    &[(manage, "PCSA:SOCIAL_INQUIRY")],
                ),
                "authorizations.toml",
            )
            .unwrap(),
        ))
        .journal(journal.clone())
        .transport(pipeline_support::CountingTransport::new(journal.clone()))
        .build()
        .unwrap();
    let register =
        bcss::services::manage_access::ManageAccessRequest::register(ANNA.parse().unwrap())
            .purpose(1)
            .period(chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(), None)
            .sis_card_number("1234567890")
            .build()
            .unwrap();
    let _ = client
        .call(
            &CallContext::new(Actor::new("agent-042"), "PCSA:SOCIAL_INQUIRY"),
            &register,
        )
        .await;
    assert!(intent_of(&journal).write);
}

/// `None` (after printing why) when xmllint or `../shared/contracts` (or the folder
/// `BCSS_SHARED_CONTRACTS` names) is missing.
fn shared_contracts() -> Option<PathBuf> {
    let shared = std::env::var_os("BCSS_SHARED_CONTRACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/contracts"));
    if !shared.join("kszbcss").is_dir() || !shared.join("ssdn").is_dir() {
        println!("SKIP: ../shared/contracts missing; generic requests not validated");
        return None;
    }
    if Command::new("xmllint").arg("--version").output().is_err() {
        println!(
            "SKIP: xmllint not found (apt-get install libxml2-utils); generic requests not validated"
        );
        return None;
    }
    Some(shared.canonicalize().unwrap())
}

fn xmllint(schema: &Path, file: &Path) -> Result<(), String> {
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema)
        .arg(file)
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The SOAP body's element of an encoded request.
fn body_of(envelope: &[u8]) -> bcss::xml::Element {
    match bcss::soap::read(envelope, &bcss::soap::Limits::default()).unwrap() {
        bcss::soap::Body::Payload(p) => p,
        bcss::soap::Body::Fault(f) => panic!("{f:?}"),
    }
}

#[test]
fn encoded_generic_requests_validate_against_the_services_and_bcss_schemas() {
    let Some(shared) = shared_contracts() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Common v3: the interface schema of the fictitious WSDL, its types, and BCSS's
    // CommonV3.xsd (informationCustomer, the header bcss adds) beside them.
    std::fs::copy(
        contracts().join("fictitious_allowances/FictitiousAllowancesTypesV1.xsd"),
        dir.path().join("FictitiousAllowancesTypesV1.xsd"),
    )
    .unwrap();
    std::fs::copy(
        shared.join("kszbcss/be/fgov/kszbcss/types/common/CommonV3.xsd"),
        dir.path().join("CommonV3.xsd"),
    )
    .unwrap();
    let wsdl = std::fs::read_to_string(
        contracts().join("fictitious_allowances/FictitiousAllowancesV1-test.wsdl"),
    )
    .unwrap();
    let start = wsdl.find("<xsd:schema").unwrap();
    let end = wsdl.find("</xsd:schema>").unwrap() + "</xsd:schema>".len();
    let interface = dir.path().join("interface.xsd");
    std::fs::write(
        &interface,
        wsdl[start..end].replace(
            "<xsd:schema ",
            "<xsd:schema xmlns:fa=\"http://kszbcss.fgov.be/types/FictitiousAllowances/v1\" \
             xmlns:common=\"http://kszbcss.fgov.be/types/common/v3\" ",
        ),
    )
    .unwrap();
    for (name, request, purpose) in [
        ("consult", consult(MARC), "social inquiry"),
        ("declare", declare(ANNA), "allowance management"),
    ] {
        let body = body_of(&request.encode(&header(purpose)).unwrap());
        let file = dir.path().join(format!("{name}.xml"));
        std::fs::write(&file, body.to_xml()).unwrap();
        if let Err(e) = xmllint(&interface, &file) {
            panic!("{name} does not validate:\n{e}\n{}", body.to_xml());
        }
    }

    // SSDN: the SSDNRequest inside xmlString against BCSS's SSDNRequest.xsd (the
    // RequestContext bcss adds) with the fictitious payload schema loaded, so that the
    // ServiceRequest's lax payload is validated too.
    let wrapper = dir.path().join("ssdn-wrapper.xsd");
    std::fs::write(
        &wrapper,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">\
             <xs:import namespace=\"{}\" schemaLocation=\"{}\"/>\
             <xs:import namespace=\"{ATTESTATIONS_NS}\" schemaLocation=\"{}\"/></xs:schema>\n",
            bcss::ssdn::SERVICE_NS,
            shared.join("ssdn/Service/SSDNRequest.xsd").display(),
            contracts()
                .join("fictitious_attestations/FictitiousAttestations.xsd")
                .canonicalize()
                .unwrap()
                .display(),
        ),
    )
    .unwrap();
    let envelope = attest(MARC).encode(&header("unused")).unwrap();
    let document = bcss::ssdn::xml_string_of(&envelope, &bcss::soap::Limits::default()).unwrap();
    let file = dir.path().join("attest.xml");
    std::fs::write(&file, &document).unwrap();
    if let Err(e) = xmllint(&wrapper, &file) {
        panic!("the SSDN request does not validate:\n{e}\n{document}");
    }
    // A payload the schema refuses is caught (the check has teeth).
    let bad = document.replace("<Kind>INCOME</Kind>", "<Kind>SALARY</Kind>");
    assert_ne!(bad, document);
    std::fs::write(&file, &bad).unwrap();
    assert!(xmllint(&wrapper, &file).is_err());
}

#[test]
fn a_malformed_business_part_is_located_in_the_text_as_given() {
    let text = "<?xml version=\"1.0\"?>\n<criteria>\n  <ssin>68070100188</sn>\n</criteria>\n";
    let Err(bcss::services::RequestError::Xml { error, .. }) =
        GenericRequest::new(&allowances(), "consultAllowances", text)
    else {
        panic!("a mismatched end tag is refused");
    };
    // The offset is in the text given (inside its third line), not in bcss's wrapper.
    let at = usize::try_from(error.position().unwrap()).unwrap();
    let line_start = text.find("  <ssin>").unwrap();
    assert!(
        (line_start..text.find("\n</criteria>").unwrap()).contains(&at),
        "{at}: {error}"
    );
    // An unclosed element: the text ends, whatever bcss wraps it in.
    let Err(e) = GenericRequest::new(&allowances(), "consultAllowances", "<criteria>\n") else {
        panic!("an unclosed element is refused");
    };
    let said = e.to_string();
    assert!(
        said.contains("`</criteria>`") && !said.contains("bcss-business-part"),
        "{said}"
    );
}
