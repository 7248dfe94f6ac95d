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
use bcss::services::{Outcome, RequestHeader, ServiceKind, ServiceRequest};
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
    pub fn service(&self) -> ServiceKind {
        each!(self, r => r.service())
    }

    pub fn operation(&self) -> &'static str {
        each!(self, r => r.operation())
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

    pub fn service(&self) -> ServiceKind {
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
            service: self.service(),
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

/// Every shipped fixture.
pub fn scenarios() -> Vec<Scenario> {
    use ExpectedOutcome::*;
    use HciOperation::*;
    use Language::*;
    vec![
        // IdentifyPerson
        sc(
            "marc-by-ssin-ok",
            "Marc FICTIF identified by SSIN: identity validated (12007001)",
            identify(MARC),
            Some("ssdn/IdentifyPerson/ok.xml"),
            200,
            Ok,
        ),
        sc(
            "bisnummer-phonetic-ok",
            "Phonetic search BISNUMMER born 1975-01: two candidates",
            phonetic("BISNUMMER", "1975-01-00"),
            Some("ssdn/IdentifyPerson/ok_phonetic.xml"),
            200,
            Ok,
        ),
        sc(
            "anna-person-data-warning",
            "Anna VOORBEELD by SSIN with person data that do not match: warning 22007007",
            Req::Identify(
                IdentifyPersonRequest::builder()
                    .ssin(ssin(ANNA))
                    .person_data(
                        PersonData::new("VOORBELD", "1985-03-12".parse().unwrap())
                            .first_name("Anna"),
                    )
                    .build()
                    .unwrap(),
            ),
            Some("ssdn/IdentifyPerson/warning.xml"),
            200,
            Warning,
        ),
        sc(
            "niemand-phonetic-no-data",
            "Phonetic search for nobody: no phonetic match (32007004)",
            phonetic("NIEMAND", "1990-00-00"),
            Some("ssdn/IdentifyPerson/no_data.xml"),
            200,
            NoData,
        ),
        sc(
            "lina-business-error",
            "Lina TESTMANS: BCSS refuses the request (30000001, 31000005)",
            identify(LINA),
            Some("ssdn/IdentifyPerson/error.xml"),
            200,
            BusinessError,
        ),
        sc(
            "oscar-soap-fault",
            "Oscar ONBEKEND: BCSS answers a SOAP fault (internal error)",
            identify(OSCAR),
            Some("ssdn/IdentifyPerson/fault.xml"),
            500,
            SoapFault,
        ),
        sc(
            "noor-unavailable",
            "Noor KIND: BCSS is temporarily unavailable (MSG00001, simulated)",
            identify(NOOR),
            None,
            500,
            SoapFault,
        )
        .simulating(None, Behaviour::Unavailable),
        // ManageAccess
        sc(
            "anna-register-ok",
            "Anna VOORBEELD registered in the reference directory",
            register(ANNA),
            Some("ssdn/ManageAccess/ok.xml"),
            200,
            Ok,
        ),
        sc(
            "anna-list-empty",
            "Listing Anna VOORBEELD's registrations: none (an empty list, not an error)",
            list(ANNA),
            Some("ssdn/ManageAccess/no_data.xml"),
            200,
            Ok,
        ),
        sc(
            "marc-register-warning",
            "Marc FICTIF registered with a warning (22007007)",
            register(MARC),
            Some("ssdn/ManageAccess/warning.xml"),
            200,
            Warning,
        ),
        sc(
            "lina-register-business-error",
            "Registering Lina TESTMANS is refused (31000005)",
            register(LINA),
            Some("ssdn/ManageAccess/error.xml"),
            200,
            BusinessError,
        ),
        sc(
            "ivan-register-soap-fault",
            "Registering Ivan BISNUMMER: SOAP fault, caller not authorised",
            register(IVAN),
            Some("ssdn/ManageAccess/fault.xml"),
            500,
            SoapFault,
        ),
        // PerformInvestigation
        sc(
            "anna-all-groups-ok",
            "Social investigation of Anna VOORBEELD: family, citizen, address history, wait register",
            investigate_all(ANNA),
            Some("ssdn/PerformInvestigation/ok.xml"),
            200,
            Ok,
        ),
        sc(
            "ivan-warning",
            "Social investigation of Ivan BISNUMMER: partial data, warning",
            Req::Investigate(
                PerformInvestigationRequest::builder(ssin(IVAN))
                    .family_composition()
                    .citizen()
                    .wait_register()
                    .build()
                    .unwrap(),
            ),
            Some("ssdn/PerformInvestigation/warning.xml"),
            200,
            Warning,
        ),
        sc(
            "marc-wait-register-empty",
            "Marc FICTIF's wait register: no entry (an empty answer, not an error)",
            Req::Investigate(
                PerformInvestigationRequest::builder(ssin(MARC))
                    .wait_register()
                    .build()
                    .unwrap(),
            ),
            Some("ssdn/PerformInvestigation/no_data.xml"),
            200,
            Ok,
        ),
        sc(
            "lina-business-error",
            "Social investigation of Lina TESTMANS is refused (31000005)",
            investigate_all(LINA),
            Some("ssdn/PerformInvestigation/error.xml"),
            200,
            BusinessError,
        ),
        sc(
            "oscar-soap-fault",
            "Social investigation of Oscar ONBEKEND: SOAP fault, service unavailable",
            investigate_all(OSCAR),
            Some("ssdn/PerformInvestigation/fault.xml"),
            500,
            SoapFault,
        ),
        sc(
            "marc-slow",
            "Social investigation of Marc FICTIF, answered after 300 ms (simulated)",
            Req::Investigate(
                PerformInvestigationRequest::builder(ssin(MARC))
                    .family_composition()
                    .build()
                    .unwrap(),
            ),
            Some("ssdn/PerformInvestigation/no_data.xml"),
            200,
            Ok,
        )
        .simulating(Some(300), Behaviour::None),
        // TestConnection
        sc(
            "echo-ok",
            "The connection test echoes its message",
            echo(OK_ECHO),
            Some("v3/TestConnection/ok.xml"),
            200,
            Ok,
        ),
        sc(
            "echo-cli-default",
            "The echo `bcss test-connection` sends by default",
            echo("bcss test-connection"),
            Some("v3/TestConnection/ok.xml"),
            200,
            Ok,
        ),
        sc(
            "echo-credentials-refused",
            "Credentials of another organisation: CBSS fault MSG00014",
            echo("Test with the wrong credentials"),
            Some("v3/TestConnection/cbss_fault.xml"),
            500,
            BusinessError,
        ),
        sc(
            "echo-policy-fault",
            "A security policy failure: plain SOAP fault",
            echo("Test without a client certificate"),
            Some("v3/TestConnection/soap_fault.xml"),
            500,
            SoapFault,
        ),
        sc(
            "echo-slow",
            "The echo, answered after 300 ms (simulated)",
            echo("slow"),
            Some("v3/TestConnection/ok.xml"),
            200,
            Ok,
        )
        .simulating(Some(300), Behaviour::None),
        sc(
            "echo-http-503",
            "A reverse proxy answers HTTP 503 with an HTML page (simulated)",
            echo("http 503"),
            None,
            503,
            Undecodable,
        )
        .simulating(None, Behaviour::HttpStatus(503)),
        sc(
            "echo-unavailable",
            "BCSS is temporarily unavailable: CBSS fault MSG00001 (simulated)",
            echo("unavailable"),
            None,
            500,
            BusinessError,
        )
        .simulating(None, Behaviour::Unavailable),
        sc(
            "echo-soap-fault",
            "A SOAP fault (simulated)",
            echo("soap fault"),
            None,
            500,
            SoapFault,
        )
        .simulating(
            None,
            Behaviour::SoapFault {
                code: "soapenv:Server".into(),
                string: "Simulated internal error".into(),
            },
        ),
        sc(
            "echo-truncated",
            "The reply body stops after 200 bytes (simulated)",
            echo("truncated"),
            Some("v3/TestConnection/ok.xml"),
            200,
            Undecodable,
        )
        .simulating(
            None,
            Behaviour::Truncated {
                after: 200,
                mode: TruncateMode::CutBody,
            },
        ),
        sc(
            "echo-connection-dropped",
            "The connection drops after 200 bytes of the reply (simulated)",
            echo("dropped"),
            Some("v3/TestConnection/ok.xml"),
            200,
            TransportError,
        )
        .simulating(
            None,
            Behaviour::Truncated {
                after: 200,
                mode: TruncateMode::DropConnection,
            },
        ),
        // RetrieveTIGroups
        sc(
            "marc-fr-ok",
            "National Register data of Marc FICTIF, in French",
            ti(MARC, Fr, false),
            Some("v3/RetrieveTIGroups/ok_marc.xml"),
            200,
            Ok,
        ),
        sc(
            "anna-nl-history-ok",
            "National Register data of Anna VOORBEELD with history (earlier address in Brugge)",
            ti(ANNA, Nl, true),
            Some("v3/RetrieveTIGroups/ok_anna_history.xml"),
            200,
            Ok,
        ),
        sc(
            "oscar-fr-deceased-ok",
            "National Register data of Oscar ONBEKEND, deceased 2020-02-02",
            ti(OSCAR, Fr, false),
            Some("v3/RetrieveTIGroups/ok_oscar_deceased.xml"),
            200,
            Ok,
        ),
        sc(
            "lina-nl-warning",
            "National Register data of Lina TESTMANS, with information: warning",
            ti(LINA, Nl, false),
            Some("v3/RetrieveTIGroups/warning_lina.xml"),
            200,
            Warning,
        ),
        sc(
            "ivan-fr-no-data",
            "Ivan BISNUMMER (BIS number): the Register has no data (MSG00100)",
            ti(IVAN, Fr, false),
            Some("v3/RetrieveTIGroups/no_data.xml"),
            200,
            NoData,
        ),
        sc(
            "noor-fr-not-integrated",
            "Noor KIND is not integrated for this client: MSG00012, NO_RESULT",
            ti(NOOR, Fr, false),
            Some("v3/RetrieveTIGroups/status_business_error.xml"),
            200,
            BusinessError,
        ),
        sc(
            "marc-de-not-allowed",
            "Marc FICTIF in German: operation not allowed with this legalContext (CBSS fault MSG00013)",
            ti(MARC, De, false),
            Some("v3/RetrieveTIGroups/fault_detail.xml"),
            500,
            BusinessError,
        ),
        sc(
            "anna-fr-soap-fault",
            "Anna VOORBEELD in French: the server's unmarshalling fails (SOAP fault)",
            ti(ANNA, Fr, false),
            Some("v3/RetrieveTIGroups/soap_fault.xml"),
            500,
            SoapFault,
        ),
        sc(
            "lina-fr-unavailable",
            "Lina TESTMANS in French: BCSS and the Register are temporarily unavailable (MSG00001)",
            ti(LINA, Fr, false),
            Some("v3/RetrieveTIGroups/fault_error.xml"),
            500,
            BusinessError,
        ),
        sc(
            "marc-nl-slow",
            "National Register data of Marc FICTIF in Dutch, answered after 300 ms (simulated)",
            ti(MARC, Nl, false),
            Some("v3/RetrieveTIGroups/ok_marc.xml"),
            200,
            Ok,
        )
        .simulating(Some(300), Behaviour::None),
        sc(
            "oscar-nl-http-502",
            "Oscar ONBEKEND in Dutch: a reverse proxy answers HTTP 502 (simulated)",
            ti(OSCAR, Nl, false),
            None,
            502,
            Undecodable,
        )
        .simulating(None, Behaviour::HttpStatus(502)),
        sc(
            "anna-fr-history-truncated",
            "Anna VOORBEELD with history: the reply stops after 400 bytes (simulated)",
            ti(ANNA, Fr, true),
            Some("v3/RetrieveTIGroups/ok_anna_history.xml"),
            200,
            Undecodable,
        )
        .simulating(
            None,
            Behaviour::Truncated {
                after: 400,
                mode: TruncateMode::CutBody,
            },
        ),
        // HealthCareInsurance
        sc(
            "marc-insuring-organization-ok",
            "Marc FICTIF's mutuality and reimbursement right",
            hci(GetInsuranceOrganizationInformations, MARC),
            Some("v3/HealthCareInsurance/get_ok_marc.xml"),
            200,
            Ok,
        ),
        sc(
            "lina-insuring-organization-warning",
            "Lina TESTMANS's mutuality, with information: warning",
            hci(GetInsuranceOrganizationInformations, LINA),
            Some("v3/HealthCareInsurance/warning_lina.xml"),
            200,
            Warning,
        ),
        sc(
            "ivan-insuring-organization-no-data",
            "Ivan BISNUMMER is not insured in Belgium: MSG00100",
            hci(GetInsuranceOrganizationInformations, IVAN),
            Some("v3/HealthCareInsurance/no_data_ivan.xml"),
            200,
            NoData,
        ),
        sc(
            "oscar-insuring-organization-no-right",
            "Oscar ONBEKEND (deceased): no reimbursement right",
            hci(GetInsuranceOrganizationInformations, OSCAR),
            Some("v3/HealthCareInsurance/no_right_oscar.xml"),
            200,
            Ok,
        ),
        sc(
            "anna-insuring-organization-unavailable",
            "Anna VOORBEELD: the insurers are unavailable (CBSS fault MSG00002, MSG00020)",
            hci(GetInsuranceOrganizationInformations, ANNA),
            Some("v3/HealthCareInsurance/fault_error.xml"),
            500,
            BusinessError,
        ),
        sc(
            "noor-insuring-organization-soap-fault",
            "Noor KIND: SOAP fault, internal error",
            hci(GetInsuranceOrganizationInformations, NOOR),
            Some("v3/HealthCareInsurance/soap_fault.xml"),
            500,
            SoapFault,
        ),
        sc(
            "anna-maf-ok",
            "Anna VOORBEELD's maximum billing (MAF)",
            hci(ConsultMaf, ANNA),
            Some("v3/HealthCareInsurance/consult_maf_anna.xml"),
            200,
            Ok,
        ),
        sc(
            "marc-maf-refused",
            "Marc FICTIF's MAF: authorisation refused (CBSS fault MSG00015)",
            hci(ConsultMaf, MARC),
            Some("v3/HealthCareInsurance/fault_detail.xml"),
            500,
            BusinessError,
        ),
        sc(
            "anna-maf-2025-unknown-code",
            "Anna VOORBEELD's MAF on 2025-01-01, with a status code this client does not know: warning",
            hci_on(ConsultMaf, ANNA, ReferenceDate::Date(day(2025, 1, 1))),
            Some("v3/HealthCareInsurance/unknown_code.xml"),
            200,
            Warning,
        ),
        sc(
            "noor-holder-code-ok",
            "Noor KIND's holder codes CT1/CT2",
            hci(ConsultHolderCode, NOOR),
            Some("v3/HealthCareInsurance/consult_holder_code_noor.xml"),
            200,
            Ok,
        ),
        sc(
            "marc-holder-code-unavailable",
            "Marc FICTIF's holder codes: BCSS temporarily unavailable (MSG00001, simulated)",
            hci(ConsultHolderCode, MARC),
            None,
            500,
            BusinessError,
        )
        .simulating(None, Behaviour::Unavailable),
    ]
}

/// The scenario whose fixture has this name (`Service/stem`).
pub fn scenario(name: &str) -> Scenario {
    scenarios()
        .into_iter()
        .find(|s| s.name() == name)
        .unwrap_or_else(|| panic!("no scenario {name}"))
}
