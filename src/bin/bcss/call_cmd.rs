//! `bcss call` and `bcss test-connection`: one call through the client configured by a
//! `bcss.toml`, with the guard and the journal, printing the typed reply as JSON. Thin:
//! this file only turns arguments into a typed request; the client does the rest.
//!
//! Exit codes: 0 the call succeeded (its JSON is on stdout); 1 the call was refused or
//! failed (the reason is on stderr, and the journal has it); 2 the command could not run
//! (bad arguments, configuration, manifest or journal problems).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bcss::client::{Actor, CallContext, Client, ConfiguredClient};
use bcss::config::Config;
use bcss::ids::Ssin;
use bcss::manifest::SignatureStatus;
use bcss::services::health_care_insurance::{
    self, DesiredData, HciOperation, HealthCareInsurance, ReferenceDate,
};
use bcss::services::identify_person::{self, IdentifyPersonRequest, PersonData, PhoneticCriteria};
use bcss::services::manage_access::{self, ManageAccessRequest, ProofPersonData, Register};
use bcss::services::perform_investigation::{self, DataGroups, PerformInvestigationRequest};
use bcss::services::retrieve_ti_groups::{self, Language, RetrieveTi};
use bcss::services::test_connection::{self, TestConnection};
use bcss::services::{Catalogue, ServiceRequest};
use bcss::ssdn::Gender;
use chrono::NaiveDate;

/// Who calls, why, and with which configuration.
#[derive(Debug, clap::Args)]
pub struct CallerArgs {
    /// The client configuration (bcss.toml).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// The physical user making the call (WHO, recorded in the journal).
    #[arg(long, value_name = "ID")]
    pub user: String,
    /// The user's display name, for the journal.
    #[arg(long, value_name = "NAME")]
    pub user_name: Option<String>,
    /// The purpose of the call, as the manifest grants it (sent as the legalContext by
    /// common-v3 services).
    #[arg(long, value_name = "PURPOSE")]
    pub purpose: String,
}

/// The request's own arguments. Each service uses some of them; `bcss call --help`
/// lists them all.
#[derive(Debug, Default, clap::Args)]
pub struct RequestArgs {
    /// The person (SSIN, 11 digits; dots, dashes and spaces are ignored).
    #[arg(long)]
    pub ssin: Option<String>,
    /// IdentifyPerson phonetic search, and proof of identity: the last name.
    #[arg(long)]
    pub last_name: Option<String>,
    /// IdentifyPerson phonetic search, and proof of identity: the first name.
    #[arg(long)]
    pub first_name: Option<String>,
    /// IdentifyPerson phonetic search: the middle name.
    #[arg(long)]
    pub middle_name: Option<String>,
    /// The birth date, YYYY-MM-DD; unknown parts as 00 (1938-00-00).
    #[arg(long)]
    pub birth_date: Option<String>,
    /// IdentifyPerson phonetic search: male or female.
    #[arg(long)]
    pub gender: Option<String>,
    /// IdentifyPerson phonetic search: the birth-year tolerance.
    #[arg(long)]
    pub tolerance: Option<u32>,
    /// IdentifyPerson phonetic search: the most candidates returned.
    #[arg(long)]
    pub maximum: Option<u8>,
    /// IdentifyPerson verification or ManageAccess proof: the SIS card number.
    #[arg(long)]
    pub sis_card: Option<String>,
    /// IdentifyPerson verification or ManageAccess proof: the identity card number.
    #[arg(long)]
    pub id_card: Option<String>,
    /// ManageAccess: the access purpose code BCSS assigned (a number; not the manifest
    /// purpose).
    #[arg(long)]
    pub access_purpose: Option<u32>,
    /// ManageAccess: the period start, YYYY-MM-DD.
    #[arg(long)]
    pub start: Option<NaiveDate>,
    /// ManageAccess: the period end, YYYY-MM-DD.
    #[arg(long)]
    pub end: Option<NaiveDate>,
    /// ManageAccess: the sector, when not the organisation's.
    #[arg(long)]
    pub sector: Option<u32>,
    /// ManageAccess list: primary, secondary or all.
    #[arg(long)]
    pub query_register: Option<String>,
    /// PerformInvestigation: family, citizen, address-history, wait-register or all
    /// (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub groups: Vec<String>,
    /// TestConnection: the message to echo.
    #[arg(long)]
    pub echo: Option<String>,
    /// RetrieveTIGroups: nl, fr or de.
    #[arg(long)]
    pub language: Option<String>,
    /// RetrieveTIGroups: include the history.
    #[arg(long)]
    pub history: bool,
    /// HealthCareInsurance: the reference day, YYYY-MM-DD (default today).
    #[arg(long)]
    pub date: Option<NaiveDate>,
    /// HealthCareInsurance: the data asked for, comma-separated (insuringOrganization,
    /// reimbursementRight, ct1ct2, payingThirdParty, maximumCharge, medicalHouse,
    /// increasedIntervention, statusComplementaryInsurance, globalMedicalFile, sfdfL891),
    /// or all. Default: what the operation is named after.
    #[arg(long, value_delimiter = ',')]
    pub desired: Vec<String>,
}

/// `bcss call SERVICE OPERATION ...`
#[derive(Debug, clap::Args)]
pub struct CallArgs {
    /// IdentifyPerson, ManageAccess, PerformInvestigation, TestConnection,
    /// RetrieveTIGroups or HealthCareInsurance.
    pub service: String,
    /// The operation: identifyPerson; register, unregister or list;
    /// performInvestigation; sendTestMessage; retrieveTI;
    /// getInsuranceOrganizationInformations, consultMAF or consultHolderCode.
    pub operation: String,
    #[command(flatten)]
    pub caller: CallerArgs,
    /// Boxed: the request arguments are many, and the command enum stays small.
    #[command(flatten)]
    pub request: Box<RequestArgs>,
}

/// `bcss test-connection ...`
#[derive(Debug, clap::Args)]
pub struct TestConnectionArgs {
    /// The client configuration (bcss.toml).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// The physical user (default: the operating-system user).
    #[arg(long, value_name = "ID")]
    pub user: Option<String>,
    /// The purpose (default: the purpose of the manifest's TestConnection entry for the
    /// configured environment, when there is exactly one).
    #[arg(long, value_name = "PURPOSE")]
    pub purpose: Option<String>,
    /// The message to echo.
    #[arg(long, default_value = "bcss test-connection")]
    pub echo: String,
}

/// A typed request of any service.
enum AnyRequest {
    Identify(IdentifyPersonRequest),
    Manage(ManageAccessRequest),
    Investigate(PerformInvestigationRequest),
    Test(TestConnection),
    Ti(RetrieveTi),
    Hci(HealthCareInsurance),
}

/// A command-line problem: exit code 2.
struct Usage(String);

/// Any error as a [`Usage`] problem.
fn u(e: impl std::fmt::Display) -> Usage {
    Usage(e.to_string())
}

fn need<'a>(value: &'a Option<String>, flag: &str, service: &str) -> Result<&'a str, Usage> {
    value
        .as_deref()
        .ok_or_else(|| Usage(format!("{service} needs --{flag}")))
}

fn ssin_of(args: &RequestArgs, service: &str) -> Result<Ssin, Usage> {
    Ssin::new(need(&args.ssin, "ssin", service)?).map_err(u)
}

fn gender(value: &str) -> Result<Gender, Usage> {
    match value.to_ascii_lowercase().as_str() {
        "male" | "m" => Ok(Gender::Male),
        "female" | "f" => Ok(Gender::Female),
        "unknown" => Ok(Gender::Unknown),
        other => Err(Usage(format!(
            "--gender {other:?}: expected male, female or unknown"
        ))),
    }
}

fn identify(args: &RequestArgs) -> Result<IdentifyPersonRequest, Usage> {
    let service = identify_person::NAME;
    let mut b = IdentifyPersonRequest::builder();
    let by_ssin = args.ssin.is_some();
    if by_ssin {
        b = b.ssin(ssin_of(args, service)?);
    }
    let name_and_birth = match (&args.last_name, &args.birth_date) {
        (Some(last), Some(birth)) => Some((last.clone(), birth.parse().map_err(u)?)),
        (None, None) => None,
        _ => return Err(Usage("give --last-name and --birth-date together".into())),
    };
    match (by_ssin, name_and_birth) {
        // By SSIN, the name and birth date verify the identity.
        (true, Some((last, birth))) => {
            let mut data = PersonData::new(last, birth);
            if let Some(f) = &args.first_name {
                data = data.first_name(f);
            }
            if let Some(m) = &args.middle_name {
                data = data.middle_name(m);
            }
            b = b.person_data(data);
        }
        (false, Some((last, birth))) => {
            let mut c = PhoneticCriteria::new(last, birth);
            if let Some(f) = &args.first_name {
                c = c.first_name(f);
            }
            if let Some(m) = &args.middle_name {
                c = c.middle_name(m);
            }
            if let Some(g) = &args.gender {
                c = c.gender(gender(g)?);
            }
            if let Some(t) = args.tolerance {
                c = c.tolerance(t);
            }
            if let Some(m) = args.maximum {
                c = c.maximum(m);
            }
            b = b.phonetic(c);
        }
        (true, None) => {}
        (false, None) => {
            return Err(Usage(
                "IdentifyPerson needs --ssin, or --last-name and --birth-date for a phonetic search"
                    .into(),
            ));
        }
    }
    if let Some(n) = &args.sis_card {
        b = b.sis_card_number(n);
    }
    if let Some(n) = &args.id_card {
        b = b.identity_card_number(n);
    }
    b.build().map_err(u)
}

fn manage(operation: &str, args: &RequestArgs) -> Result<ManageAccessRequest, Usage> {
    let ssin = ssin_of(args, manage_access::NAME)?;
    let mut b = match operation {
        "register" => ManageAccessRequest::register(ssin),
        "unregister" => ManageAccessRequest::unregister(ssin),
        _ => ManageAccessRequest::list(ssin),
    };
    if let Some(p) = args.access_purpose {
        b = b.purpose(p);
    }
    if let Some(start) = args.start {
        b = b.period(start, args.end);
    }
    if let Some(s) = args.sector {
        b = b.sector(s);
    }
    if let Some(r) = &args.query_register {
        b = b.query_register(match r.to_ascii_lowercase().as_str() {
            "primary" => Register::Primary,
            "secondary" => Register::Secondary,
            "all" => Register::All,
            other => {
                return Err(Usage(format!(
                    "--query-register {other:?}: expected primary, secondary or all"
                )));
            }
        });
    }
    if let Some(n) = &args.sis_card {
        b = b.sis_card_number(n);
    }
    if let Some(n) = &args.id_card {
        b = b.identity_card_number(n);
    }
    if let (Some(last), Some(birth)) = (&args.last_name, &args.birth_date) {
        let mut p = ProofPersonData::new(last, birth.parse().map_err(u)?);
        if let Some(f) = &args.first_name {
            p = p.first_name(f);
        }
        b = b.person_data(p);
    }
    b.build().map_err(u)
}

fn investigate(args: &RequestArgs) -> Result<PerformInvestigationRequest, Usage> {
    let mut b = PerformInvestigationRequest::builder(ssin_of(args, perform_investigation::NAME)?);
    let mut groups = DataGroups::default();
    for g in &args.groups {
        match g.as_str() {
            "all" => b = b.all_groups(),
            "family" => groups.family_composition = true,
            "citizen" => groups.citizen = true,
            "address-history" => groups.address_history = true,
            "wait-register" => groups.wait_register = true,
            other => {
                return Err(Usage(format!(
                    "--groups {other:?}: expected family, citizen, address-history, wait-register or all"
                )));
            }
        }
    }
    if groups != DataGroups::default() {
        b = b.groups(groups);
    }
    b.build().map_err(u)
}

fn desired(op: HciOperation, names: &[String]) -> Result<DesiredData, Usage> {
    if names.is_empty() {
        return Ok(match op {
            HciOperation::GetInsuranceOrganizationInformations => DesiredData {
                insuring_organization: true,
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
        });
    }
    if names.iter().any(|n| n == "all") {
        return Ok(DesiredData::all());
    }
    let mut d = DesiredData::none();
    for name in names {
        let flag = match name.as_str() {
            "insuringOrganization" => &mut d.insuring_organization,
            "reimbursementRight" => &mut d.reimbursement_right,
            "ct1ct2" => &mut d.ct1ct2,
            "payingThirdParty" => &mut d.paying_third_party,
            "maximumCharge" => &mut d.maximum_charge,
            "medicalHouse" => &mut d.medical_house,
            "increasedIntervention" => &mut d.increased_intervention,
            "statusComplementaryInsurance" => &mut d.status_complementary_insurance,
            "globalMedicalFile" => &mut d.global_medical_file,
            "sfdfL891" => &mut d.sfdf_l891,
            other => {
                let known: Vec<&str> = DesiredData::all().flags().iter().map(|(n, _)| *n).collect();
                return Err(Usage(format!(
                    "--desired {other:?}: expected all or some of {}",
                    known.join(", ")
                )));
            }
        };
        *flag = true;
    }
    Ok(d)
}

fn build(service: &str, operation: &str, args: &RequestArgs) -> Result<AnyRequest, Usage> {
    let catalogue = Catalogue::builtin();
    let found = catalogue.get(service).ok_or_else(|| {
        Usage(format!(
            "unknown service {service:?}; expected one of {}",
            catalogue.names().join(", ")
        ))
    })?;
    if !found.has_operation(operation) {
        return Err(Usage(format!(
            "{found} has no operation {operation:?}; expected one of {}",
            found.operation_names().join(", ")
        )));
    }
    let kind = found.name();
    // The typed services' own flags build their typed requests.
    Ok(match kind {
        identify_person::NAME => AnyRequest::Identify(identify(args)?),
        manage_access::NAME => AnyRequest::Manage(manage(operation, args)?),
        perform_investigation::NAME => AnyRequest::Investigate(investigate(args)?),
        test_connection::NAME => {
            AnyRequest::Test(TestConnection::new(need(&args.echo, "echo", kind)?).map_err(u)?)
        }
        retrieve_ti_groups::NAME => {
            let mut r = RetrieveTi::new(ssin_of(args, kind)?)
                .map_err(u)?
                .with_history(args.history);
            if let Some(l) = &args.language {
                r = r
                    .language(Language::parse(l).ok_or_else(|| {
                        Usage(format!("--language {l:?}: expected nl, fr or de"))
                    })?);
            }
            AnyRequest::Ti(r)
        }
        health_care_insurance::NAME => {
            let op = HciOperation::from_name(operation)
                .ok_or_else(|| Usage(format!("unknown operation {operation:?}")))?;
            let reference = args.date.map_or(ReferenceDate::Today, ReferenceDate::Date);
            AnyRequest::Hci(
                HealthCareInsurance::new(
                    op,
                    ssin_of(args, kind)?,
                    reference,
                    desired(op, &args.desired)?,
                )
                .map_err(u)?,
            )
        }
        other => {
            return Err(Usage(format!(
                "{other} has no typed request in this command line"
            )));
        }
    })
}

/// Make the call and return the whole reply as JSON.
async fn invoke<R: ServiceRequest>(
    client: &Client,
    ctx: &CallContext,
    request: &R,
) -> Result<String, bcss::Error> {
    let reply = client.call(ctx, request).await?;
    serde_json::to_string_pretty(&reply).map_err(|e| {
        bcss::error::ErrorKind::Config(format!("the reply could not be printed: {e}")).into()
    })
}

async fn call_any(
    client: &Client,
    ctx: &CallContext,
    request: &AnyRequest,
) -> Result<String, bcss::Error> {
    match request {
        AnyRequest::Identify(r) => invoke(client, ctx, r).await,
        AnyRequest::Manage(r) => invoke(client, ctx, r).await,
        AnyRequest::Investigate(r) => invoke(client, ctx, r).await,
        AnyRequest::Test(r) => invoke(client, ctx, r).await,
        AnyRequest::Ti(r) => invoke(client, ctx, r).await,
        AnyRequest::Hci(r) => invoke(client, ctx, r).await,
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Usage> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(u)
}

async fn open(config: &Path) -> Result<ConfiguredClient, Usage> {
    let config = Config::load(config).map_err(u)?;
    let configured = Client::from_config(&config).await.map_err(u)?;
    // Once per load: say when nothing proves the manifest was approved.
    if let Some(policy) = configured.client.guard().policy()
        && !matches!(policy.signature(), SignatureStatus::Verified(_))
    {
        eprintln!(
            "bcss: warning: manifest {} loaded {} (SHA-256 {})",
            policy.source(),
            policy.signature(),
            policy.manifest_ref().sha256
        );
    }
    // Once per run: a drill is never mistaken for production traffic.
    if configured.client.is_drill() {
        eprintln!(
            "bcss: DRILL: this {} client may reach a stand-in for BCSS ([transport] drill = true); every journal record says drill",
            configured.client.environment()
        );
    }
    Ok(configured)
}

/// Run the call, close the journal, print; the exit code says how it went.
async fn run_call(configured: ConfiguredClient, ctx: CallContext, request: AnyRequest) -> ExitCode {
    let result = call_any(&configured.client, &ctx, &request).await;
    let closed = configured.close().await;
    let code = match result {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bcss call: {e}");
            ExitCode::from(1)
        }
    };
    if let Err(e) = closed {
        eprintln!("bcss call: the journal did not close cleanly: {e}");
        return ExitCode::from(2);
    }
    code
}

fn usage(command: &str, e: Usage) -> ExitCode {
    eprintln!("{command}: {}", e.0);
    ExitCode::from(2)
}

/// `bcss call`.
pub fn run(args: CallArgs) -> ExitCode {
    let request = match build(&args.service, &args.operation, &args.request) {
        Ok(r) => r,
        Err(e) => return usage("bcss call", e),
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return usage("bcss call", e),
    };
    rt.block_on(async {
        let configured = match open(&args.caller.config).await {
            Ok(c) => c,
            Err(e) => return usage("bcss call", e),
        };
        let mut actor = Actor::new(args.caller.user);
        if let Some(name) = args.caller.user_name {
            actor = actor.with_name(name);
        }
        run_call(
            configured,
            CallContext::new(actor, args.caller.purpose),
            request,
        )
        .await
    })
}

/// The purpose of the manifest's one TestConnection entry for the client's environment.
fn test_connection_purpose(client: &Client) -> Result<String, Usage> {
    let policy = client
        .guard()
        .policy()
        .ok_or_else(|| Usage("no manifest is loaded".into()))?;
    let mut purposes: Vec<&str> = policy
        .entries()
        .iter()
        .filter(|e| {
            e.service.name() == test_connection::NAME && e.environment == client.environment()
        })
        .map(|e| e.purpose.as_str())
        .collect();
    purposes.sort_unstable();
    purposes.dedup();
    match purposes.as_slice() {
        [one] => Ok((*one).to_string()),
        [] => Err(Usage(format!(
            "the manifest has no TestConnection entry for {}; add one, or give --purpose",
            client.environment()
        ))),
        many => Err(Usage(format!(
            "the manifest has several TestConnection purposes for {} ({}); give --purpose",
            client.environment(),
            many.join(", ")
        ))),
    }
}

/// `bcss test-connection`.
pub fn run_test_connection(args: TestConnectionArgs) -> ExitCode {
    const COMMAND: &str = "bcss test-connection";
    let request = match TestConnection::new(args.echo) {
        Ok(r) => AnyRequest::Test(r),
        Err(e) => return usage(COMMAND, u(e)),
    };
    let user = match args
        .user
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("USERNAME").ok())
    {
        Some(u) if !u.trim().is_empty() => u,
        _ => {
            return usage(
                COMMAND,
                Usage("give --user: the person running the test".into()),
            );
        }
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return usage(COMMAND, e),
    };
    rt.block_on(async {
        let configured = match open(&args.config).await {
            Ok(c) => c,
            Err(e) => return usage(COMMAND, e),
        };
        let purpose = match args
            .purpose
            .map_or_else(|| test_connection_purpose(&configured.client), Ok)
        {
            Ok(p) => p,
            Err(e) => {
                let _ = configured.close().await;
                return usage(COMMAND, e);
            }
        };
        run_call(
            configured,
            CallContext::new(Actor::new(user), purpose),
            request,
        )
        .await
    })
}
