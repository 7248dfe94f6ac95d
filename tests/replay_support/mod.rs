//! The shipped fixtures, as code: every scenario of every service, its typed request
//! (encoded with the real encoders and a fixed header), the reply it gets (from the reply
//! files in `fixtures/replies/`), what it simulates, and the outcome decoding must give.
//!
//! `tests/replay_shipped_fixtures.rs` checks that `fixtures/exchanges/` holds exactly
//! these, and rewrites them with `BCSS_WRITE_FIXTURES=1`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use bcss::endpoints::Endpoints;
use bcss::fixture::{
    Behaviour, ExpectedOutcome, Fixture, RecordedReply, RecordedRequest, Simulation, TruncateMode,
    pretty_xml,
};
use bcss::ids::{Cbe, ProgramId, Ssin};
use bcss::services::health_care_insurance::{
    DesiredData, HciOperation, HealthCareInsurance, ReferenceDate,
};
use bcss::services::identify_person::{IdentifyPersonRequest, PersonData, PhoneticCriteria};
use bcss::services::manage_access::{ManageAccessRequest, Register};
use bcss::services::perform_investigation::PerformInvestigationRequest;
use bcss::services::retrieve_ti_groups::{Language, RetrieveTi};
use bcss::services::test_connection::TestConnection;
use bcss::services::{Catalogue, Outcome, RequestHeader, Service, ServiceRequest};
use bcss::soap::Limits;
use bcss::{Environment, xml};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

pub const MARC: &str = "68070100188";
pub const ANNA: &str = "85031204246";
pub const LINA: &str = "05031512367";
pub const IVAN: &str = "75411205787";
pub const OSCAR: &str = "50000000773";
pub const NOOR: &str = "12090508413";

/// The purpose (legalContext) of the shipped RetrieveTIGroups fixtures.
pub const TI_PURPOSE: &str = "PCSA:SOCIAL_INQUIRY";
/// The purpose (legalContext) of the shipped HealthCareInsurance fixtures.
pub const HCI_PURPOSE: &str = "social inquiry and financial help";
/// The purpose of the SSDN and TestConnection fixtures (not in their messages).
pub const SSDN_PURPOSE: &str = "PCSA:SOCIAL_INQUIRY";

/// The echo of the OK TestConnection reply file.
const OK_ECHO: &str = "Bonjour BCSS, ici le CPAS de Fictiveville";

pub fn ssin(s: &str) -> Ssin {
    Ssin::new(s).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The text of a reply file under `fixtures/replies/`.
pub fn reply_file(path: &str) -> String {
    let path = root().join("fixtures/replies").join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `fixtures/exchanges/`: the shipped fixtures.
pub fn exchanges_dir() -> PathBuf {
    root().join("fixtures/exchanges")
}

/// The fixed header the shipped requests are encoded with (its ticket and time are
/// volatile and ignored by matching).
pub fn header(legal_context: &str) -> RequestHeader {
    RequestHeader {
        ticket: "0190f5a2-7c3e-7d4a-9b1c-2e3f4a5b6c7d".parse().unwrap(),
        sent_at: Utc.with_ymd_and_hms(2025, 1, 15, 9, 0, 0).unwrap(),
        organization: Cbe::new("0212344876").unwrap(),
        sector: 17,
        sub_sector: None,
        program: ProgramId::new("00912345673").unwrap(),
        email: "it@cpas-fictiveville.example".to_string(),
        legal_context: legal_context.to_string(),
    }
}

/// A manifest that authorises every shipped scenario in the test environment, with the
/// purposes the scenarios state.
pub fn manifest() -> String {
    let mut text = String::from(
        "[organization]\ncbe = \"0212344876\"\nname = \"CPAS de Fictiveville\"\nsector = 17\n",
    );
    for service in Catalogue::builtin() {
        let purpose = match service.name() {
            "RetrieveTIGroups" => TI_PURPOSE,
            "HealthCareInsurance" => HCI_PURPOSE,
            _ => SSDN_PURPOSE,
        };
        // The shipped ManageAccess exchanges register and list for purpose code 1.
        let codes = match service.name() {
            "ManageAccess" => "access_purposes = [1]\n",
            _ => "",
        };
        text.push_str(&format!(
            "\n[[authorization]]\nid = \"{service}-test\"\nenvironment = \"test\"\nservice = \"{service}\"\npurpose = \"{purpose}\"\nprogram = \"00912345673\"\n{codes}valid_from = 2025-01-01\nvalid_until = 2099-12-31\ngranted_by = \"security-advisor\"\n"
        ));
    }
    text
}

/// A client of the test environment, authorised by [`manifest`], that sends through
/// `transport` to `endpoints` and journals into `journal`.
pub fn client(
    transport: std::sync::Arc<dyn bcss::transport::Transport>,
    endpoints: Endpoints,
    journal: std::sync::Arc<bcss::audit::FileJournal>,
) -> bcss::client::Client {
    bcss::client::Client::builder()
        .environment(Environment::Test)
        .organization(Cbe::new("0212344876").unwrap())
        .application("bcss-tests", "1")
        .contact_email("it@cpas-fictiveville.example")
        .guard(std::sync::Arc::new(
            bcss::manifest::Guard::from_str(&manifest(), "authorizations.toml").unwrap(),
        ))
        .journal(journal)
        .transport(transport)
        .endpoints(endpoints)
        .build()
        .unwrap()
}

/// A typed request of any service.
#[derive(Debug, Clone)]
pub enum Req {
    Identify(IdentifyPersonRequest),
    Manage(ManageAccessRequest),
    Investigate(PerformInvestigationRequest),
    Test(TestConnection),
    Ti(RetrieveTi),
    Hci(HealthCareInsurance),
}

macro_rules! each {
    ($self:expr, $r:ident => $e:expr) => {
        match $self {
            Req::Identify($r) => $e,
            Req::Manage($r) => $e,
            Req::Investigate($r) => $e,
            Req::Test($r) => $e,
            Req::Ti($r) => $e,
            Req::Hci($r) => $e,
        }
    };
}

impl Req {
    /// The request's service, as the built-in catalogue holds it.
    pub fn service(&self) -> &'static Service {
        let name = each!(self, r => r.service()).name().to_string();
        Catalogue::builtin().get(&name).unwrap()
    }

    pub fn operation(&self) -> &'static str {
        let service = self.service();
        let op = each!(self, r => service.operation(r.operation()));
        op.map(|o| o.name.as_str()).unwrap()
    }

    /// The purpose this request is made for (the legalContext of common-v3 services).
    pub fn purpose(&self) -> &'static str {
        match self {
            Req::Ti(_) => TI_PURPOSE,
            Req::Hci(_) => HCI_PURPOSE,
            _ => SSDN_PURPOSE,
        }
    }

    pub fn encode_with(&self, header: &RequestHeader) -> Vec<u8> {
        each!(self, r => r.encode(header).unwrap())
    }

    pub fn encode(&self) -> Vec<u8> {
        self.encode_with(&header(self.purpose()))
    }

    pub fn soap_action(&self) -> &'static str {
        Endpoints::soap_action(self.service(), self.operation()).unwrap()
    }

    /// Decode a reply and say how it ended.
    pub fn outcome(&self, status: u16, body: &[u8]) -> Outcome {
        each!(self, r => r.decode(status, body, &Limits::default()).outcome)
    }
}

impl Req {
    /// This request through a client of `environment` (granted for the request's service
    /// and purpose, replies capped at 1 MiB) that sends through `transport` to
    /// `endpoints`: what the transport answered, as the journal keeps it, or its error.
    /// The only way a transport sends is through a client.
    pub async fn exchange(
        &self,
        transport: std::sync::Arc<dyn bcss::transport::Transport>,
        environment: Environment,
        endpoints: Endpoints,
    ) -> Result<bcss::transport::TransportResponse, bcss::transport::TransportError> {
        let rig = crate::pipeline_support::rig(
            transport,
            environment,
            &[(self.service(), self.purpose())],
        );
        let through = crate::pipeline_support::Rig {
            builder: rig.builder.endpoints(endpoints).limits(Limits {
                max_bytes: 1 << 20,
                ..Limits::default()
            }),
            journal: rig.journal,
        }
        .build();
        each!(self, r => through.exchange(self.purpose(), r).await)
    }

    /// Make this call through a client; the reply's data is dropped.
    pub async fn call(
        &self,
        client: &bcss::client::Client,
        ctx: &bcss::client::CallContext,
    ) -> Result<(), bcss::Error> {
        each!(self, r => client.call(ctx, r).await.map(|_| ()))
    }
}

pub fn identify(s: &str) -> Req {
    Req::Identify(IdentifyPersonRequest::by_ssin(ssin(s)))
}

pub fn phonetic(last: &str, birth: &str) -> Req {
    Req::Identify(
        IdentifyPersonRequest::builder()
            .phonetic(PhoneticCriteria::new(last, birth.parse().unwrap()).tolerance(1))
            .build()
            .unwrap(),
    )
}

pub fn register(s: &str) -> Req {
    Req::Manage(
        ManageAccessRequest::register(ssin(s))
            .purpose(1)
            .period(day(2025, 1, 1), Some(day(2025, 12, 31)))
            .sis_card_number("1234567890")
            .build()
            .unwrap(),
    )
}

pub fn list(s: &str) -> Req {
    Req::Manage(
        ManageAccessRequest::list(ssin(s))
            .purpose(1)
            .period(day(2025, 1, 1), None)
            .query_register(Register::All)
            .sis_card_number("1234567890")
            .build()
            .unwrap(),
    )
}

pub fn investigate_all(s: &str) -> Req {
    Req::Investigate(
        PerformInvestigationRequest::builder(ssin(s))
            .all_groups()
            .build()
            .unwrap(),
    )
}

pub fn echo(text: &str) -> Req {
    Req::Test(TestConnection::new(text).unwrap())
}

pub fn ti(s: &str, language: Language, history: bool) -> Req {
    Req::Ti(
        RetrieveTi::new(ssin(s))
            .unwrap()
            .language(language)
            .with_history(history),
    )
}

pub fn hci(op: HciOperation, s: &str) -> Req {
    hci_on(op, s, ReferenceDate::Today)
}

pub fn hci_on(op: HciOperation, s: &str, reference: ReferenceDate) -> Req {
    let desired = match op {
        HciOperation::GetInsuranceOrganizationInformations => DesiredData {
            insuring_organization: true,
            reimbursement_right: true,
            ..DesiredData::none()
        },
        HciOperation::ConsultMaf => DesiredData {
            maximum_charge: true,
            ..DesiredData::none()
        },
        HciOperation::ConsultHolderCode => DesiredData {
            ct1ct2: true,
            ..DesiredData::none()
        },
    };
    Req::Hci(HealthCareInsurance::new(op, ssin(s), reference, desired).unwrap())
}

/// One shipped fixture.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The file stem under `fixtures/exchanges/<Service>/`.
    pub stem: &'static str,
    pub description: &'static str,
    pub request: Req,
    /// The reply file under `fixtures/replies/`, if the reply is recorded.
    pub reply: Option<&'static str>,
    pub status: u16,
    pub simulate: Simulation,
    pub expected: ExpectedOutcome,
}

fn sc(
    stem: &'static str,
    description: &'static str,
    request: Req,
    reply: Option<&'static str>,
    status: u16,
    expected: ExpectedOutcome,
) -> Scenario {
    Scenario {
        stem,
        description,
        request,
        reply,
        status,
        simulate: Simulation::default(),
        expected,
    }
}

impl Scenario {
    fn simulating(mut self, delay_ms: Option<u64>, behaviour: Behaviour) -> Scenario {
        self.simulate = Simulation {
            delay: delay_ms.map(Duration::from_millis),
            behaviour,
        };
        self
    }

    pub fn service(&self) -> &'static Service {
        self.request.service()
    }

    pub fn name(&self) -> String {
        format!("{}/{}", self.service(), self.stem)
    }

    pub fn path(&self, dir: &Path) -> PathBuf {
        dir.join(self.service().name())
            .join(format!("{}.toml", self.stem))
    }

    /// The fixture this scenario ships as.
    pub fn fixture(&self) -> Fixture {
        let request = pretty(&self.request.encode());
        let reply = self.reply.map(|file| {
            let path = root().join("fixtures/replies").join(file);
            let mut text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if let Req::Test(t) = &self.request {
                text = text.replace(OK_ECHO, t.echo());
            }
            pretty(text.as_bytes())
        });
        Fixture {
            name: self.name(),
            path: None,
            service: self.service().clone(),
            operation: self.request.operation().to_string(),
            environment: Environment::Test,
            recorded_at: recorded_at(),
            description: self.description.to_string(),
            expected_outcome: Some(self.expected),
            simulate: self.simulate.clone(),
            request: RecordedRequest {
                soap_action: Some(self.request.soap_action().to_string()),
                body: request,
            },
            reply: RecordedReply {
                status: self.status,
                content_type: Some("text/xml; charset=utf-8".to_string()),
                body: reply,
            },
        }
    }
}

fn recorded_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 15, 9, 0, 0).unwrap()
}

/// Pretty-print a document the way fixture files hold it (ending with a newline).
pub fn pretty(bytes: &[u8]) -> String {
    let tree = xml::parse(bytes, &Limits::default()).unwrap();
    format!("{}\n", pretty_xml(&tree))
}

mod scenarios;
pub use scenarios::scenarios;

/// The scenario whose fixture has this name (`Service/stem`).
pub fn scenario(name: &str) -> Scenario {
    scenarios()
        .into_iter()
        .find(|s| s.name() == name)
        .unwrap_or_else(|| panic!("no scenario {name}"))
}
