//! A request that stands in for a service in client pipeline tests.

use bcss::Error;
use bcss::ids::Ssin;
use bcss::services::{
    BcssStamp, Decoded, Outcome, RequestHeader, ServiceKind, ServiceReply, ServiceRequest,
};
use bcss::soap::Limits;
use bcss::xml::Element;

/// A minimal request standing in for a service: it encodes what the header gives it so
/// the test can see what the grant supplied.
pub struct Probe {
    pub service: ServiceKind,
    pub operation: &'static str,
    pub subject: Ssin,
}

impl ServiceRequest for Probe {
    type Response = String;

    fn service(&self) -> ServiceKind {
        self.service
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
