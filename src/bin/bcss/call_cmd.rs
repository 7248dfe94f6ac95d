//! `bcss call` and `bcss test-connection`: one call through the client configured by a
//! `bcss.toml`, with the guard and the journal, printing the typed reply as JSON. Thin:
//! this file only turns arguments into a typed request; the client does the rest.
//!
//! A catalogued service without a typed module (or any service, with `--body`) is called
//! with a [`GenericRequest`] built from the business part in `--body FILE.xml`.
//!
//! Exit codes: see [`crate::exit`] (`bcss call --help` lists them).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bcss::client::{Actor, CallContext, Client, ConfiguredClient};
use bcss::config::Config;
use bcss::manifest::SignatureStatus;
use bcss::services::ServiceRequest;
use bcss::services::test_connection::{self, TestConnection};
use chrono::NaiveDate;

use crate::exit::{self, Exit};

mod request;

use request::{AnyRequest, Usage, build, u};

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
    /// Any catalogued service (`bcss services list --config FILE`): the typed
    /// IdentifyPerson, ManageAccess, PerformInvestigation, TestConnection,
    /// RetrieveTIGroups or HealthCareInsurance (with their flags below), or a service
    /// the configuration's `[[service]]` entries describe (with --body).
    pub service: String,
    /// The operation: identifyPerson; register, unregister or list;
    /// performInvestigation; sendTestMessage; retrieveTI;
    /// getInsuranceOrganizationInformations, consultMAF or consultHolderCode; or an
    /// operation of a configured service.
    pub operation: String,
    #[command(flatten)]
    pub caller: CallerArgs,
    /// The business part of the request, as XML (for common v3 the children after
    /// legalContext, such as `<criteria>`; for SSDN the payload element): a generic call,
    /// for which bcss writes the rest from the grant and the configuration. The reply is
    /// printed as `{"ticket", "bcss", "authorization_id", "data": {"payload": ELEMENT},
    /// "warnings"}`, each ELEMENT `{"name", "namespace", "attributes", "text",
    /// "children"}` (see `bcss::services::generic::GenericReply`).
    #[arg(long, value_name = "FILE.xml")]
    pub body: Option<PathBuf>,
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
    /// The physical user (default: $USER or $USERNAME; required when neither is set).
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
        AnyRequest::Generic(r) => invoke(client, ctx, r).await,
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Usage> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(u)
}

/// The client `config` describes, its journal open. Fails, reported on stderr, with
/// [`Exit::Error`] when the journal is there but cannot be taken now (another process
/// holds a file journal's lock past the wait, or the database cannot be reached): trying
/// again later may work. Any other problem is [`Exit::Usage`]: the configuration, the
/// manifest or the journal as given cannot be used.
async fn open(command: &str, config: &Config) -> Result<ConfiguredClient, ExitCode> {
    let configured = match Client::from_config(config).await {
        Ok(c) => c,
        Err(e) => {
            use bcss::audit::AuditError as A;
            use bcss::error::ErrorKind as K;
            let busy = matches!(
                e.kind(),
                K::Audit(A::Locked { .. } | A::Database { .. })
                    | K::JournalRefused(A::Locked { .. } | A::Database { .. })
            );
            if busy {
                return Err(exit::fail(
                    command,
                    Exit::Error,
                    e,
                    exit::Details::default(),
                ));
            }
            return Err(usage(command, u(e)));
        }
    };
    // Once per load: say when nothing proves the manifest was approved.
    if let Some(policy) = configured.client.guard().policy()
        && !matches!(policy.signature(), SignatureStatus::Verified(_))
    {
        crate::exit::notice(
            command,
            "bcss: ",
            "warning",
            format_args!(
                "manifest {} loaded {} (SHA-256 {})",
                policy.source(),
                policy.signature(),
                policy.manifest_ref().sha256
            ),
        );
    }
    // Once per run: a drill is never mistaken for production traffic.
    if configured.client.is_drill() {
        crate::exit::notice(
            command,
            "bcss: ",
            "DRILL",
            format_args!(
                "this {} client may reach a stand-in for BCSS ([transport] drill = true); every journal record says drill",
                configured.client.environment()
            ),
        );
    }
    Ok(configured)
}

/// Run the call, close the journal, print; the exit code says how it went
/// ([`Exit::of`]). The journal is closed before anything is printed, so a reader that
/// goes away early (`| head`) loses nothing.
///
/// A journal that does not close cleanly (its shutdown checkpoint or witness could not be
/// written) is said as a warning, and never hides how the call went: the call's own
/// result (its reply, or its error with `sent` and the ticket) decides the exit code, so
/// a script never takes a write that reached BCSS for one that did not.
async fn run_call(
    command: &str,
    configured: ConfiguredClient,
    ctx: CallContext,
    request: AnyRequest,
) -> ExitCode {
    let result = call_any(&configured.client, &ctx, &request).await;
    if let Err(e) = configured.close().await {
        let recorded = match &result {
            Ok(_) => "; the exchange itself was recorded before its reply was taken".to_string(),
            Err(_) => String::new(),
        };
        exit::notice(
            command,
            "bcss: ",
            "warning",
            format_args!("the journal did not close cleanly: {e}{recorded}"),
        );
    }
    match result {
        Ok(json) => {
            outln!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => exit::fail_call(command, &e),
    }
}

fn usage(command: &str, e: Usage) -> ExitCode {
    exit::usage(command, e.0)
}

fn load(config: &Path) -> Result<Config, Usage> {
    Config::load(config).map_err(u)
}

/// `bcss call`.
pub fn run(args: CallArgs) -> ExitCode {
    const COMMAND: &str = "bcss call";
    let prepared = load(&args.caller.config).and_then(|config| {
        let catalogue = config.service_catalogue().map_err(u)?;
        let request = build(
            &catalogue,
            &args.service,
            &args.operation,
            &args.request,
            args.body.as_deref(),
        )?;
        Ok((config, request))
    });
    let (config, request) = match prepared {
        Ok(p) => p,
        Err(e) => return usage(COMMAND, e),
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return usage(COMMAND, e),
    };
    rt.block_on(async {
        let configured = match open(COMMAND, &config).await {
            Ok(c) => c,
            Err(code) => return code,
        };
        let mut actor = Actor::new(args.caller.user);
        if let Some(name) = args.caller.user_name {
            actor = actor.with_name(name);
        }
        run_call(
            COMMAND,
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
    let config = match load(&args.config) {
        Ok(c) => c,
        Err(e) => return usage(COMMAND, e),
    };
    rt.block_on(async {
        let configured = match open(COMMAND, &config).await {
            Ok(c) => c,
            Err(code) => return code,
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
            COMMAND,
            configured,
            CallContext::new(Actor::new(user), purpose),
            request,
        )
        .await
    })
}
