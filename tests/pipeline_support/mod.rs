//! Test doubles for client pipeline tests: requests to the built-in services made with
//! the generic request, a journal in memory, and a transport that counts bytes, checks the
//! intent came first, and answers each service with a well-formed reply.
#![allow(dead_code)] // each test binary uses its own subset

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bcss::audit::{Appended, AuditError, CallRecord, Journal, Record};
use bcss::services::generic::GenericRequest;
use bcss::services::{Family, Service, identify_person, perform_investigation, retrieve_ti_groups};
use bcss::transport::{BoxFuture, SendPermit, Transport, TransportError, TransportResponse};

/// A RetrieveTIGroups `retrieveTI` request about Marc (68070100188), made generically.
pub fn tx25() -> GenericRequest {
    GenericRequest::new(
        retrieve_ti_groups::service(),
        "retrieveTI",
        "<searchInformation><ssin>68070100188</ssin><history>false</history></searchInformation>",
    )
    .unwrap()
}

/// An IdentifyPerson search by SSIN, made generically.
pub fn identify(ssin: &str) -> GenericRequest {
    GenericRequest::new(
        identify_person::service(),
        "identifyPerson",
        format!(
            "<IdentifyPersonRequest xmlns=\"{}\"><SearchCriteria><SSIN>{ssin}</SSIN></SearchCriteria></IdentifyPersonRequest>",
            identify_person::NAMESPACE
        ),
    )
    .unwrap()
}

/// A PerformInvestigation request about `ssin`, made generically.
pub fn investigate(ssin: &str) -> GenericRequest {
    GenericRequest::new(
        perform_investigation::service(),
        "performInvestigation",
        format!(
            "<PerformInvestigationRequest xmlns=\"{}\"><SocialSecurityUser>{ssin}</SocialSecurityUser><DataGroups><FamilyCompositionGroup>true</FamilyCompositionGroup></DataGroups></PerformInvestigationRequest>",
            perform_investigation::NAMESPACE
        ),
    )
    .unwrap()
}

/// A ManageAccess `register` of 85031204246 (purpose code 1, from 2026-01-01, SIS card
/// 1234567890): a write.
pub fn register() -> bcss::services::manage_access::ManageAccessRequest {
    bcss::services::manage_access::ManageAccessRequest::register("85031204246".parse().unwrap())
        .purpose(1)
        .period(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(), None)
        .sis_card_number("1234567890")
        .build()
        .unwrap()
}

/// A well-formed successful reply of `operation` of `service` (BCSS ticket
/// `bcss-ticket-1`), with a small business payload: common v3 `DATA_FOUND`, or an SSDN
/// reply `ok="YES"`.
pub fn ok_reply(service: &Service, operation: &str) -> Vec<u8> {
    let op = service
        .operation(operation)
        .expect("a catalogued operation");
    let body = match service.family() {
        Family::V3 => {
            let ns = &service.v3().unwrap().namespace;
            let status = if service.carries_information_customer() {
                "<informationCBSS><ticketCBSS>bcss-ticket-1</ticketCBSS><timestampReceive>2026-06-01T10:00:00.000Z</timestampReceive><timestampReply>2026-06-01T10:00:00.100Z</timestampReply></informationCBSS><status><value>DATA_FOUND</value><code>MSG00000</code><description>OK</description></status>"
            } else {
                ""
            };
            format!(
                "<ns:{r} xmlns:ns=\"{ns}\">{status}<answer>ok</answer></ns:{r}>",
                r = op.response
            )
        }
        Family::Ssdn => {
            let ids = service.ssdn().unwrap();
            let inner = format!(
                "<SSDNReply xmlns=\"http://www.ksz-bcss.fgov.be/XSD/SSDN/Service\" xmlns:c=\"http://www.ksz-bcss.fgov.be/XSD/SSDN/Common\"><ReplyContext><c:ResultSummary ok=\"YES\"><c:ReturnCode>0</c:ReturnCode></c:ResultSummary><Message><Ticket>bcss-ticket-1</Ticket><TimeRequest>20260601T100000</TimeRequest><TimeReceive>20260601T100000</TimeReceive><TimeResponse>20260601T100001</TimeResponse></Message></ReplyContext><ServiceReply><c:ResultSummary ok=\"YES\"><c:ReturnCode>0</c:ReturnCode></c:ResultSummary><ServiceId>{}</ServiceId><Version>{}</Version><{r} xmlns=\"{}\"><answer>ok</answer></{r}></ServiceReply></SSDNReply>",
                ids.service_id,
                ids.version,
                ids.payload_namespace,
                r = op.response
            );
            let escaped = inner
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            format!(
                "<xmlString xmlns=\"http://ksz-bcss.fgov.be/connectors/WebServiceConnector\">{escaped}</xmlString>"
            )
        }
    };
    format!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
    )
    .into_bytes()
}

/// A journal in memory: records in order, or fails every append.
#[derive(Debug, Default)]
pub struct MemoryJournal {
    pub records: Mutex<Vec<Record>>,
    /// Set: every append fails from then on (a full disk).
    pub fail: std::sync::atomic::AtomicBool,
    /// The kind of record (`outcome`, `classification`...) this journal refuses.
    pub refuse: Mutex<Option<&'static str>>,
}

/// What the memory journal says it can hold (the file journal's default).
pub const MEMORY_JOURNAL_MAX_PAYLOAD: usize = 31 * 1024 * 1024;

impl MemoryJournal {
    pub fn records(&self) -> Vec<Record> {
        self.records.lock().unwrap().clone()
    }

    fn refuses(&self, record: &CallRecord) -> bool {
        *self.refuse.lock().unwrap() == Some(record.kind())
    }

    /// The records about calls (denials, intents, outcomes, classifications): without
    /// the manifest loads every client journals.
    pub fn call_records(&self) -> Vec<Record> {
        self.records()
            .into_iter()
            .filter(|r| !matches!(r, Record::ManifestLoad(_)))
            .collect()
    }
}

/// A journal whose call records a test can read back, in order (the journal's own records
/// aside): the memory journal, or a real one.
pub trait Recorded: Send + Sync + std::fmt::Debug {
    fn recorded(&self) -> BoxFuture<'_, Vec<Record>>;

    /// The sequence number of the journal's last record (its own records included).
    fn last_sequence(&self) -> BoxFuture<'_, u64> {
        Box::pin(async move { self.recorded().await.len() as u64 })
    }
}

impl Recorded for MemoryJournal {
    fn recorded(&self) -> BoxFuture<'_, Vec<Record>> {
        Box::pin(async move { self.records() })
    }
}

impl Journal for MemoryJournal {
    fn append(&self, record: CallRecord) -> BoxFuture<'_, Result<Appended, AuditError>> {
        Box::pin(async move {
            if self.fail.load(Ordering::SeqCst) || self.refuses(&record) {
                return Err(AuditError::Closed("disk full (test double)".to_string()));
            }
            let mut records = self.records.lock().unwrap();
            records.push(record.into());
            Ok(Appended {
                sequence: records.len() as u64,
                hash: [0; 32],
            })
        })
    }

    fn append_deferred(&self, record: CallRecord) -> Result<(), AuditError> {
        if self.fail.load(Ordering::SeqCst) || self.refuses(&record) {
            return Err(AuditError::Closed("disk full (test double)".to_string()));
        }
        self.records.lock().unwrap().push(record.into());
        Ok(())
    }

    fn max_payload_bytes(&self) -> usize {
        MEMORY_JOURNAL_MAX_PAYLOAD
    }
}

/// A transport that answers every request with one canned reply (status, content type,
/// body), counting the requests.
#[derive(Debug)]
pub struct Canned {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub calls: AtomicUsize,
}

impl Canned {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Arc<Canned> {
        Arc::new(Canned {
            status,
            content_type: Some("text/xml; charset=utf-8".to_string()),
            body: body.into(),
            calls: AtomicUsize::new(0),
        })
    }
}

impl Transport for Canned {
    fn send<'a>(
        &'a self,
        _permit: &'a SendPermit<'_>,
    ) -> BoxFuture<'a, Result<TransportResponse, TransportError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            Ok(TransportResponse {
                status: self.status,
                content_type: self.content_type.clone(),
                body: self.body.clone(),
            })
        })
    }
}

/// A SOAP 1.1 envelope around `body`.
pub fn envelope(body: &str) -> String {
    format!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
    )
}

/// A transport that counts what it is given and checks the intent was journaled first.
#[derive(Debug)]
pub struct CountingTransport {
    pub bytes: AtomicUsize,
    pub journal: Arc<dyn Recorded>,
    pub seen: Mutex<Vec<(String, String, Vec<u8>)>>,
}

impl CountingTransport {
    pub fn new(journal: Arc<dyn Recorded>) -> Arc<Self> {
        Arc::new(CountingTransport {
            bytes: AtomicUsize::new(0),
            journal,
            seen: Mutex::new(Vec::new()),
        })
    }
}

impl Transport for CountingTransport {
    fn send<'a>(
        &'a self,
        permit: &'a SendPermit<'_>,
    ) -> BoxFuture<'a, Result<TransportResponse, TransportError>> {
        Box::pin(async move {
            // The one promise: the intent, with these exact bytes, is already journaled.
            let records = self.journal.recorded().await;
            let Some(Record::Intent(intent)) = records.last() else {
                panic!("transport called without a journaled intent: {records:?}");
            };
            assert_eq!(intent.request.as_bytes(), permit.body());
            assert_eq!(intent.ticket, permit.ticket());
            assert_eq!(permit.intent().sequence, self.journal.last_sequence().await);
            self.bytes.fetch_add(permit.body().len(), Ordering::SeqCst);
            self.seen.lock().unwrap().push((
                permit.endpoint().to_string(),
                permit.soap_action().to_string(),
                permit.body().to_vec(),
            ));
            Ok(TransportResponse {
                status: 200,
                content_type: Some("text/xml".to_string()),
                body: ok_reply(permit.service(), permit.operation()),
            })
        })
    }
}

/// The manifest the pipeline tests share: RetrieveTIGroups and PerformInvestigation in
/// test, HealthCareInsurance in acceptance, all for 2026.
pub const MANIFEST: &str = r#"
[organization]
cbe = "0212344876"
name = "CPAS de Fictiveville"
sector = 17

[[authorization]]
id = "tx25-test"
environment = "test"
service = "RetrieveTIGroups"
purpose = "PCSA:SOCIAL_INQUIRY"
program = "00912345673"
deliberation = "not-applicable"
valid_from = 2026-01-01
valid_until = 2026-12-31
granted_by = "security-advisor"

[[authorization]]
id = "investigate-test"
environment = "test"
service = "PerformInvestigation"
purpose = "PCSA:SOCIAL_INQUIRY"
program = "00912345673"
deliberation = "not-applicable"
valid_from = 2026-01-01
valid_until = 2026-12-31
granted_by = "security-advisor"

[[authorization]]
id = "hci-acpt"
environment = "acceptance"
service = "HealthCareInsurance"
purpose = "social inquiry and financial help"
program = "00912345673"
deliberation = "not-applicable"
valid_from = 2026-01-01
valid_until = 2026-12-31
granted_by = "security-advisor"
"#;

/// A manifest of organisation 0212344876 granting every operation of each service, in
/// `environment`, for the purpose given with it (program 00912345673, 2000 to 2099; the
/// ManageAccess purpose codes 1 to 9).
pub fn permissive_manifest(environment: bcss::Environment, grants: &[(&Service, &str)]) -> String {
    let mut text = String::from(
        "[organization]\ncbe = \"0212344876\"\nname = \"CPAS de Fictiveville\"\nsector = 17\n",
    );
    for (i, (service, purpose)) in grants.iter().enumerate() {
        text.push_str(&format!(
            "\n[[authorization]]\nid = \"grant-{i}\"\nenvironment = \"{environment}\"\nservice = \"{}\"\npurpose = \"{purpose}\"\nprogram = \"00912345673\"\ndeliberation = \"not-applicable\"\nvalid_from = 2000-01-01\nvalid_until = 2099-12-31\ngranted_by = \"security-advisor\"\n",
            service.name()
        ));
        if service.name() == "ManageAccess" {
            text.push_str("access_purposes = [1, 2, 3, 4, 5, 6, 7, 8, 9]\n");
        }
    }
    text
}

/// A client under test: its builder already has an environment, an application, a
/// contact e-mail, a guard granting what it was asked for, a journal in memory and the
/// transport under test.
pub struct Rig {
    pub builder: bcss::client::ClientBuilder,
    pub journal: Arc<MemoryJournal>,
}

/// A [`Rig`] for `transport` in `environment`, granting each service for its purpose;
/// services outside the built-in catalogue need [`rig_in`]. A production rig is a drill
/// with an unsigned manifest, said explicitly (its transport is a test double or a
/// stand-in).
pub fn rig(
    transport: Arc<dyn Transport>,
    environment: bcss::Environment,
    grants: &[(&Service, &str)],
) -> Rig {
    rig_in(
        transport,
        environment,
        grants,
        bcss::services::Catalogue::builtin().clone(),
    )
}

/// [`rig`], with the manifest validated against `catalogue`.
pub fn rig_in(
    transport: Arc<dyn Transport>,
    environment: bcss::Environment,
    grants: &[(&Service, &str)],
    catalogue: bcss::services::Catalogue,
) -> Rig {
    let guard = bcss::manifest::Guard::from_str_with(
        &permissive_manifest(environment, grants),
        "authorizations.toml",
        catalogue,
    )
    .unwrap();
    let journal = Arc::new(MemoryJournal::default());
    let mut builder = bcss::client::Client::builder()
        .environment(environment)
        .application("transport-test", "1.0.0")
        .contact_email("it@cpas-fictiveville.example")
        .guard(Arc::new(guard))
        .journal(journal.clone())
        .transport(transport);
    if environment == bcss::Environment::Production {
        builder = builder.allow_unsigned_manifest().drill(true);
    }
    Rig { builder, journal }
}

impl Rig {
    pub fn build(self) -> Through {
        Through {
            client: self.builder.build().unwrap(),
            journal: self.journal,
        }
    }
}

/// A client and its journal.
pub struct Through {
    pub client: bcss::client::Client,
    pub journal: Arc<MemoryJournal>,
}

impl Through {
    /// Make `request` through the client (user `agent-042`, for `purpose`) and return what
    /// the transport answered, as the journal keeps it: the reply's status, content type
    /// and raw bytes (whatever decoding then made of them), or the transport's error.
    /// Anything else (a denial, a journal failure) fails the test.
    pub async fn exchange<R: bcss::services::ServiceRequest>(
        &self,
        purpose: &str,
        request: &R,
    ) -> Result<TransportResponse, TransportError> {
        let ctx = bcss::client::CallContext::new(bcss::client::Actor::new("agent-042"), purpose);
        let before = self.journal.records().len();
        let result = self.client.call(&ctx, request).await;
        let failure = match result.map_err(bcss::Error::into_kind) {
            Ok(_) => None,
            Err(bcss::error::ErrorKind::Transport(t)) => return Err(t),
            Err(other) => Some(other),
        };
        let records = self.journal.records();
        let outcome = records[before..].iter().find_map(|r| match r {
            Record::Outcome(o) => o.reply.as_ref().map(|reply| (o, reply)),
            _ => None,
        });
        match outcome {
            Some((o, reply)) => Ok(TransportResponse {
                status: o.http_status.unwrap(),
                content_type: o.content_type.clone(),
                body: reply.as_bytes().to_vec(),
            }),
            None => panic!("the call did not reach the transport: {failure:?}"),
        }
    }

    /// The request bytes of the last intent: what the transport was given.
    pub fn last_request(&self) -> Vec<u8> {
        self.journal
            .records()
            .iter()
            .rev()
            .find_map(|r| match r {
                Record::Intent(i) => Some(i.request.as_bytes().to_vec()),
                _ => None,
            })
            .expect("an intent was journaled")
    }
}
