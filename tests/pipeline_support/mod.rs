//! Test doubles for client pipeline tests: a request standing in for a service, a journal
//! in memory, and a transport that counts bytes and checks the intent came first.
#![allow(dead_code)] // each test binary uses its own subset

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bcss::audit::{Appended, AuditError, CallRecord, Journal, Record};
use bcss::transport::{BoxFuture, Transport, TransportError, TransportRequest, TransportResponse};

use bcss::Error;
use bcss::ids::Ssin;
use bcss::services::{
    BcssStamp, Decoded, Outcome, RequestHeader, Service, ServiceReply, ServiceRequest,
};
use bcss::soap::Limits;
use bcss::xml::Element;

/// A minimal request standing in for a service: it encodes what the header gives it so
/// the test can see what the grant supplied.
pub struct Probe {
    pub service: &'static Service,
    pub operation: &'static str,
    pub subject: Ssin,
}

impl ServiceRequest for Probe {
    type Response = String;

    fn service(&self) -> Service {
        self.service.clone()
    }

    fn operation(&self) -> &'static str {
        self.operation
    }

    fn subjects(&self) -> Vec<Ssin> {
        vec![self.subject.clone()]
    }

    fn encode(&self, header: &RequestHeader) -> Result<Vec<u8>, Error> {
        Ok(bcss::soap::envelope(
            Element::new("probe")
                .with_leaf("legalContext", header.legal_context.clone())
                .with_leaf("program", header.program.to_string())
                .with_leaf("ticket", header.ticket.to_string())
                .with_leaf("ssin", self.subject.reveal()),
        ))
    }

    fn decode(&self, _status: u16, body: &[u8], _limits: &Limits) -> Decoded<String> {
        Decoded {
            stamp: BcssStamp {
                ticket: Some("bcss-ticket-1".to_string()),
                ..BcssStamp::default()
            },
            outcome: Outcome::Ok,
            result: Ok(ServiceReply {
                data: String::from_utf8_lossy(body).into_owned(),
                warnings: Vec::new(),
            }),
        }
    }
}

/// A journal in memory: records in order, or fails every append.
#[derive(Debug, Default)]
pub struct MemoryJournal {
    pub records: Mutex<Vec<Record>>,
    pub fail: bool,
}

/// What the memory journal says it can hold (the file journal's default).
pub const MEMORY_JOURNAL_MAX_PAYLOAD: usize = 31 * 1024 * 1024;

impl MemoryJournal {
    pub fn records(&self) -> Vec<Record> {
        self.records.lock().unwrap().clone()
    }
}

/// A journal whose call records a test can read back, in order (the journal's own records
/// aside): the memory journal, or a real one.
pub trait Recorded: Send + Sync + std::fmt::Debug {
    fn recorded(&self) -> BoxFuture<'_, Vec<Record>>;
}

impl Recorded for MemoryJournal {
    fn recorded(&self) -> BoxFuture<'_, Vec<Record>> {
        Box::pin(async move { self.records() })
    }
}

impl Journal for MemoryJournal {
    fn append(&self, record: CallRecord) -> BoxFuture<'_, Result<Appended, AuditError>> {
        Box::pin(async move {
            if self.fail {
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
        if self.fail {
            return Err(AuditError::Closed("disk full (test double)".to_string()));
        }
        self.records.lock().unwrap().push(record.into());
        Ok(())
    }

    fn max_payload_bytes(&self) -> usize {
        MEMORY_JOURNAL_MAX_PAYLOAD
    }
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
        request: TransportRequest<'a>,
    ) -> BoxFuture<'a, Result<TransportResponse, TransportError>> {
        Box::pin(async move {
            // The one promise: the intent, with these exact bytes, is already journaled.
            let records = self.journal.recorded().await;
            let Some(Record::Intent(intent)) = records.last() else {
                panic!("transport called without a journaled intent: {records:?}");
            };
            assert_eq!(intent.request.as_bytes(), request.body);
            self.bytes.fetch_add(request.body.len(), Ordering::SeqCst);
            self.seen.lock().unwrap().push((
                request.endpoint.to_string(),
                request.soap_action.to_string(),
                request.body.to_vec(),
            ));
            Ok(TransportResponse {
                status: 200,
                content_type: Some("text/xml".to_string()),
                body: b"<reply>ok</reply>".to_vec(),
            })
        })
    }
}

/// The manifest the pipeline tests share: RetrieveTIGroups in test, HealthCareInsurance in
/// acceptance, both for 2026.
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
