//! Turning `bcss call`'s arguments into a request: the typed services' own flags, or a
//! generic request from `--body`; problems said in the words of the flags.

use std::path::Path;

use bcss::ids::Ssin;
use bcss::services::Catalogue;
use bcss::services::generic::GenericRequest;
use bcss::services::health_care_insurance::{
    self, DesiredData, HciOperation, HealthCareInsurance, ReferenceDate,
};
use bcss::services::identify_person::{self, IdentifyPersonRequest, PersonData, PhoneticCriteria};
use bcss::services::manage_access::{self, ManageAccessRequest, ProofPersonData, Register};
use bcss::services::perform_investigation::{self, DataGroups, PerformInvestigationRequest};
use bcss::services::retrieve_ti_groups::{self, Language, RetrieveTi};
use bcss::services::test_connection::{self, TestConnection};
use bcss::ssdn::Gender;

use super::RequestArgs;

/// A typed request of any service.
pub(super) enum AnyRequest {
    Identify(IdentifyPersonRequest),
    Manage(ManageAccessRequest),
    Investigate(PerformInvestigationRequest),
    Test(TestConnection),
    Ti(RetrieveTi),
    Hci(HealthCareInsurance),
    Generic(GenericRequest),
}

/// A command-line problem: exit code 2.
pub(super) struct Usage(pub(super) String);

/// Any error as a [`Usage`] problem, in the words of the command line's flags.
pub(super) fn u(e: impl std::fmt::Display) -> Usage {
    Usage(in_flag_words(&e.to_string()))
}

/// The request builders' words for fields, and the flags that set them.
const FLAG_WORDS: [(&str, &str); 9] = [
    (
        "DataGroups (name the groups, or ask for all_groups()) is required",
        "needs --groups: family, citizen, address-history, wait-register (comma-separated) or all",
    ),
    (
        "all_groups() already asks for every group: name groups or ask for all",
        "--groups all already asks for every group: give all alone, or name the groups",
    ),
    (
        "ProofOfAuthentication (a SIS card, an identity card or personal data) is required",
        "needs a proof of identity: --sis-card, --id-card, or --last-name with --birth-date",
    ),
    ("Period/StartDate is required", "needs --start YYYY-MM-DD"),
    (
        "Purpose (to register or unregister) is required",
        "needs --access-purpose (the code BCSS assigned) to register or unregister",
    ),
    (
        "Sector applies to LIST only",
        "--sector applies to list only",
    ),
    (
        "QueryRegister applies to LIST only",
        "--query-register applies to list only",
    ),
    ("maximum must be", "--maximum must be"),
    (
        "desiredData selects nothing; set at least one flag",
        "--desired selects nothing; name at least one, or all",
    ),
];

/// `message` with the request builders' field names replaced by the flags that set them.
fn in_flag_words(message: &str) -> String {
    let mut said = message.to_string();
    for (api, flag) in FLAG_WORDS {
        said = said.replace(api, flag);
    }
    said.replace("give a tolerance", "give --tolerance")
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

/// A generic request to any catalogued service, its business part read from `body`.
fn generic(
    service: &bcss::services::Service,
    operation: &str,
    body: &Path,
) -> Result<GenericRequest, Usage> {
    let xml = std::fs::read_to_string(body)
        .map_err(|e| Usage(format!("--body {}: {e}", body.display())))?;
    GenericRequest::new(service, operation, xml.as_str()).map_err(|e| match &e {
        // Not well-formed: FILE:line:column, as an editor reads it.
        bcss::services::RequestError::Xml { error, .. } if error.position().is_some() => {
            let at = error.position().unwrap_or_default();
            let (line, column) = line_column(&xml, usize::try_from(at).unwrap_or(usize::MAX));
            let said = error.to_string();
            let said = [
                format!(" at byte {at}"),
                format!(" (at byte {at})"),
                format!(" near byte {at}"),
            ]
            .iter()
            .fold(said, |said, byte| said.replace(byte.as_str(), ""));
            Usage(format!(
                "--body {}:{line}:{column}: {}: the business part is not acceptable XML: {said}",
                body.display(),
                service.name()
            ))
        }
        _ => Usage(format!("--body {}: {e}", body.display())),
    })
}

/// The 1-based line and column (in characters) of a byte offset of `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line, column)
}

/// The request flags given on the command line, as `--name`.
fn given(args: &RequestArgs) -> Vec<&'static str> {
    let mut flags = Vec::new();
    let mut note = |set: bool, flag: &'static str| {
        if set {
            flags.push(flag);
        }
    };
    note(args.ssin.is_some(), "--ssin");
    note(args.last_name.is_some(), "--last-name");
    note(args.first_name.is_some(), "--first-name");
    note(args.middle_name.is_some(), "--middle-name");
    note(args.birth_date.is_some(), "--birth-date");
    note(args.gender.is_some(), "--gender");
    note(args.tolerance.is_some(), "--tolerance");
    note(args.maximum.is_some(), "--maximum");
    note(args.sis_card.is_some(), "--sis-card");
    note(args.id_card.is_some(), "--id-card");
    note(args.access_purpose.is_some(), "--access-purpose");
    note(args.start.is_some(), "--start");
    note(args.end.is_some(), "--end");
    note(args.sector.is_some(), "--sector");
    note(args.query_register.is_some(), "--query-register");
    note(!args.groups.is_empty(), "--groups");
    note(args.echo.is_some(), "--echo");
    note(args.language.is_some(), "--language");
    note(args.history, "--history");
    note(args.date.is_some(), "--date");
    note(!args.desired.is_empty(), "--desired");
    flags
}

/// The request flags a typed service reads; `None` for a service without a typed module.
fn flags_of(service: &str) -> Option<&'static [&'static str]> {
    Some(match service {
        identify_person::NAME => &[
            "--ssin",
            "--last-name",
            "--first-name",
            "--middle-name",
            "--birth-date",
            "--gender",
            "--tolerance",
            "--maximum",
            "--sis-card",
            "--id-card",
        ],
        manage_access::NAME => &[
            "--ssin",
            "--access-purpose",
            "--start",
            "--end",
            "--sector",
            "--query-register",
            "--sis-card",
            "--id-card",
            "--last-name",
            "--first-name",
            "--birth-date",
        ],
        perform_investigation::NAME => &["--ssin", "--groups"],
        test_connection::NAME => &["--echo"],
        retrieve_ti_groups::NAME => &["--ssin", "--language", "--history"],
        health_care_insurance::NAME => &["--ssin", "--date", "--desired"],
        _ => return None,
    })
}

/// Refuse the request flags that would be ignored: any of them beside `--body` (the body
/// is the whole business part), or one the typed service does not read.
fn refuse_ignored(
    service: &str,
    operation: &str,
    args: &RequestArgs,
    body: Option<&Path>,
) -> Result<(), Usage> {
    let given = given(args);
    if given.is_empty() {
        return Ok(());
    }
    if body.is_some() {
        return Err(Usage(format!(
            "--body conflicts with {}: the body file is the whole business part of the request; give one or the other",
            given.join(", ")
        )));
    }
    let Some(reads) = flags_of(service) else {
        return Ok(());
    };
    let ignored: Vec<&str> = given
        .iter()
        .copied()
        .filter(|f| !reads.contains(f))
        .collect();
    if ignored.is_empty() {
        return Ok(());
    }
    Err(Usage(format!(
        "{} {} not apply to {service} {operation} (it reads {})",
        ignored.join(", "),
        if ignored.len() == 1 { "does" } else { "do" },
        reads.join(", ")
    )))
}

pub(super) fn build(
    catalogue: &Catalogue,
    service: &str,
    operation: &str,
    args: &RequestArgs,
    body: Option<&Path>,
) -> Result<AnyRequest, Usage> {
    let found = catalogue.get(service).ok_or_else(|| {
        Usage(format!(
            "unknown service {service:?}; expected one of {} (a service of your own: describe it in a [[service]] entry of the --config file, see bcss services import)",
            catalogue.names().join(", ")
        ))
    })?;
    if !found.has_operation(operation) {
        return Err(Usage(format!(
            "{found} has no operation {operation:?}; expected one of {}",
            found.operation_names().join(", ")
        )));
    }
    refuse_ignored(found.name(), operation, args, body)?;
    if let Some(body) = body {
        return Ok(AnyRequest::Generic(generic(found, operation, body)?));
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
                "{other} has no typed module: give the business part of the request with --body FILE.xml"
            )));
        }
    })
}
