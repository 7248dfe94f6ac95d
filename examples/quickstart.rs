//! bcss in one run, with no network and no setup: `cargo run --example quickstart`.
//!
//! 1. starts the mock BCSS on a free loopback port, serving the shipped fixtures;
//! 2. writes an example manifest (`authorizations.toml`); the security advisor's key pair
//!    is made and the manifest signed (`authorizations.toml.sig`); the configuration
//!    (`bcss.toml`) pins the advisor's public key and requires the signature;
//! 3. makes authorised calls (IdentifyPerson, RetrieveTIGroups, HealthCareInsurance) and
//!    prints their typed results;
//! 4. attempts unauthorised calls (a purpose that was not granted; a production call, for
//!    which the manifest has no entry) and shows each refusal with its reason;
//! 5. shows that a tampered copy of the signed manifest (one date moved) is refused, and
//!    that a manifest whose production entry lacks a deliberation number is rejected as a
//!    whole;
//! 6. prints the journal's entries and verifies its chain.
//!
//! `--workdir DIR` keeps the manifest in `DIR/authorizations.toml` (its signature beside
//! it), the advisor's keys in `DIR/keys/`, the configuration in `DIR/bcss.toml`, the
//! journal in `DIR/journal/` and the typed results in `DIR/results/`; without it, a new
//! temporary directory is used (and kept, so that you can look at it), and its path
//! printed.

use std::error::Error as StdError;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bcss::Environment;
use bcss::audit::{self, QueryFilter};
use bcss::client::{Actor, CallContext, Client};
use bcss::config::Config;
use bcss::endpoints::Endpoints;
use bcss::ids::Ssin;
use bcss::keys;
use bcss::manifest::{GrantedBy, Guard, sign_manifest, signature_path};
use bcss::mock::{MockConfig, MockServer};
use bcss::services::ServiceRequest;
use bcss::services::health_care_insurance::{
    DesiredData, HciOperation, HealthCareInsurance, ReferenceDate,
};
use bcss::services::identify_person::IdentifyPersonRequest;
use bcss::services::retrieve_ti_groups::{Language, RetrieveTi};
use bcss::transport::http::HttpTransport;
use chrono::{Datelike, Utc};
use serde::Serialize;

type Result<T> = std::result::Result<T, Box<dyn StdError>>;

/// The social worker making the calls (WHO).
const USER: &str = "agent-042";
/// The purpose granted for the social inquiry.
const INQUIRY: &str = "PCSA:SOCIAL_INQUIRY";
/// The purpose HealthCareInsurance accepts for it (its legalContext is a closed list).
const HCI_INQUIRY: &str = "social inquiry and financial help";

fn manifest(valid_until_year: i32) -> String {
    let entry = |id: &str, service: &str, purpose: &str| {
        format!(
            r#"
[[authorization]]
id = "{id}"
environment = "test"
service = "{service}"
purpose = "{purpose}"
program = "00912345673"
deliberation = "not-applicable"
valid_from = 2025-01-01
valid_until = {valid_until_year}-12-31
granted_by = "security-advisor"
"#
        )
    };
    format!(
        r#"# authorizations.toml written by the bcss quickstart: what CPAS de Fictiveville may ask
# BCSS in the test environment. Nothing here covers production.
[organization]
cbe = "0212344876"
name = "CPAS de Fictiveville"
sector = 17
{}{}{}"#,
        entry("identify-test", "IdentifyPerson", INQUIRY),
        entry("ti-groups-test", "RetrieveTIGroups", INQUIRY),
        entry("hci-test", "HealthCareInsurance", HCI_INQUIRY),
    )
}

fn configuration(base_url: &str) -> String {
    format!(
        r#"# bcss.toml written by the bcss quickstart.
environment = "test"

[manifest]
file = "authorizations.toml"
signers = ["keys/advisor.pub"]        # only the security advisor's key may sign it
require_signature = true              # the default in production; asked for here too

[journal]
dir = "journal"

[application]
name = "bcss-quickstart"
version = "{}"

[organization]
cbe = "0212344876"
contact_email = "it@cpas-fictiveville.example"
program = "00912345673"

[transport]
kind = "http"
base_url = "{base_url}"   # the mock BCSS on loopback; no credentials needed
"#,
        env!("CARGO_PKG_VERSION")
    )
}

fn workdir() -> Result<PathBuf> {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next()) {
        (None, _) => {
            let dir = tempfile::Builder::new()
                .prefix("bcss-quickstart-")
                .tempdir()?
                .keep();
            Ok(dir)
        }
        (Some("--workdir"), Some(dir)) => {
            std::fs::create_dir_all(&dir)?;
            Ok(PathBuf::from(dir))
        }
        _ => Err("usage: cargo run --example quickstart [-- --workdir DIR]".into()),
    }
}

/// How many lines of each typed result are printed; the whole is saved beside.
const SHOWN_LINES: usize = 14;

/// Print the start of a typed result as JSON, and save all of it in `results/`.
fn show<T: Serialize>(value: &T, save_as: &Path) -> String {
    let json =
        serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("(not printable: {e})"));
    let saved = std::fs::create_dir_all(save_as.parent().unwrap_or(Path::new(".")))
        .and_then(|()| std::fs::write(save_as, &json));
    let lines: Vec<&str> = json.lines().collect();
    let mut out: Vec<String> = lines
        .iter()
        .take(SHOWN_LINES)
        .map(|l| format!("      {l}"))
        .collect();
    if lines.len() > SHOWN_LINES {
        out.push(match saved {
            Ok(()) => format!(
                "      ... {} more lines in {}",
                lines.len() - SHOWN_LINES,
                save_as.display()
            ),
            Err(e) => {
                format!("      ... {} more lines", lines.len() - SHOWN_LINES)
                    + &format!(" (could not save them: {e})")
            }
        });
    }
    out.join("\n")
}

/// Make one call and print its typed result (saved as `save_as`), or the refusal.
async fn call<R: ServiceRequest>(
    client: &Client,
    ctx: &CallContext,
    what: &str,
    request: &R,
    save_as: &Path,
) -> bool {
    println!("  - {what}");
    match client.call(ctx, request).await {
        Ok(reply) => {
            println!(
                "    granted by {}, ticket {}, BCSS ticket {}",
                reply.authorization_id,
                reply.ticket,
                reply.bcss.ticket.as_deref().unwrap_or("-")
            );
            for w in &reply.warnings {
                println!("    warning {} {}: {}", w.severity, w.code, w.description);
            }
            println!("{}", show(&reply.data, save_as));
            true
        }
        Err(e) => {
            println!("    refused: {e}");
            false
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    println!("bcss quickstart: a mock BCSS on loopback, a manifest, a journal. No network.\n");

    // 1. The mock.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/exchanges");
    let mock = MockServer::start(MockConfig::from_dir(&fixtures)?).await?;
    println!(
        "[1/6] mock BCSS at {} ({} fixtures from {})",
        mock.base_url(),
        mock.fixture_count(),
        fixtures.display()
    );

    // 2. The files a user keeps: the manifest, signed by the security advisor, and the
    //    configuration that pins the advisor's key.
    let dir = workdir()?;
    let manifest_text = manifest(Utc::now().year() + 1);
    let manifest_path = dir.join("authorizations.toml");
    std::fs::write(&manifest_path, &manifest_text)?;
    std::fs::write(dir.join("bcss.toml"), configuration(&mock.base_url()))?;
    println!(
        "[2/6] wrote {}/authorizations.toml and bcss.toml; the journal goes to {}/journal/",
        dir.display(),
        dir.display()
    );
    let advisor = advisor_key(&dir.join("keys"))?;
    let (sig_path, signature) = sign_manifest(
        &manifest_path,
        &advisor,
        "Ada Advisor",
        GrantedBy::SecurityAdvisor,
        Utc::now(),
    )?;
    println!(
        "      signed by {}\n      signature: {} (SHA-256 of the manifest {})",
        signature.signer,
        sig_path.display(),
        signature.manifest_sha256
    );

    let config = Config::load(dir.join("bcss.toml"))?;
    let configured = Client::from_config(&config).await?;
    if let Some(r) = configured.client.guard().manifest_ref() {
        println!("      the client loaded the manifest: {r}");
    }
    let client = &configured.client;
    let marc = Ssin::new("68070100188")?;
    let lina = Ssin::new("05031512367")?;
    let inquiry = CallContext::new(Actor::new(USER), INQUIRY);
    let hci_inquiry = CallContext::new(Actor::new(USER), HCI_INQUIRY);

    // 3. Authorised calls.
    println!("\n[3/6] authorised calls, by {USER} for {INQUIRY}:");
    let identify = IdentifyPersonRequest::by_ssin(marc.clone());
    let tx25 = RetrieveTi::new(marc.clone())?.language(Language::Fr);
    let tx25_lina = RetrieveTi::new(lina.clone())?.language(Language::Nl);
    let insurance = HealthCareInsurance::new(
        HciOperation::GetInsuranceOrganizationInformations,
        marc.clone(),
        ReferenceDate::Today,
        DesiredData {
            insuring_organization: true,
            reimbursement_right: true,
            ..DesiredData::none()
        },
    )?;
    let results = dir.join("results");
    let mut granted = 0;
    for ok in [
        call(
            client,
            &inquiry,
            &format!("IdentifyPerson {marc}"),
            &identify,
            &results.join("identify-person.json"),
        )
        .await,
        call(
            client,
            &inquiry,
            &format!("RetrieveTIGroups {marc}"),
            &tx25,
            &results.join("retrieve-ti-groups.json"),
        )
        .await,
        call(
            client,
            &inquiry,
            &format!("RetrieveTIGroups {lina} (with a warning)"),
            &tx25_lina,
            &results.join("retrieve-ti-groups-warning.json"),
        )
        .await,
        call(
            client,
            &hci_inquiry,
            &format!("HealthCareInsurance {marc}"),
            &insurance,
            &results.join("health-care-insurance.json"),
        )
        .await,
    ] {
        granted += u32::from(ok);
    }

    // 4. Refusals: nothing is sent, and each is journaled.
    println!("\n[4/6] calls the manifest does not cover:");
    let debt = CallContext::new(Actor::new(USER), "PCSA:DEBT_MEDIATION");
    let unused = results.join("unused.json");
    let refused_purpose = !call(
        client,
        &debt,
        &format!("RetrieveTIGroups {marc} for PCSA:DEBT_MEDIATION"),
        &tx25,
        &unused,
    )
    .await;
    let production = Client::builder()
        .environment(Environment::Production)
        .organization(config.organization.cbe.clone())
        .application(&config.application.name, &config.application.version)
        .contact_email(&config.organization.contact_email)
        .guard(Arc::clone(client.guard()))
        .journal(configured.journal.clone())
        .transport(Arc::new(HttpTransport::builder().build()?))
        // Even so, anything sent would go to the mock, never to BCSS. A production client
        // refuses a local stand-in unless it is declared a drill, and then every journal
        // record it writes says so.
        .endpoints(Endpoints::defaults().with_base_url(Environment::Production, &mock.base_url())?)
        .drill(true)
        .build()?;
    let refused_production = !call(
        &production,
        &inquiry,
        &format!("IdentifyPerson {marc} in production"),
        &identify,
        &unused,
    )
    .await;

    // 5. A tampered copy of the signed manifest, and a manifest with a production entry and
    //    no deliberation number.
    println!("\n[5/6] a tampered copy of the signed manifest (its entries extended by a year):");
    let tampered_refused = tampered_copy_is_refused(&dir, &config)?;
    println!("\n      a manifest whose production entry has no deliberation number:");
    let broken = format!(
        "{manifest_text}
[[authorization]]
id = \"identify-prod\"
environment = \"production\"
service = \"IdentifyPerson\"
purpose = \"{INQUIRY}\"
program = \"00912345673\"
valid_from = 2025-01-01
valid_until = 2026-12-31
granted_by = \"leading-official\"
"
    );
    let rejected = match Guard::from_str(&broken, "authorizations-with-production.toml") {
        Ok(_) => {
            println!("    accepted (unexpected)");
            false
        }
        Err(e) => {
            println!("    rejected as a whole; not one entry of it is used:");
            for line in e.to_string().lines() {
                println!("      {line}");
            }
            true
        }
    };

    configured.close().await?;
    mock.shutdown().await;

    // 6. The journal.
    let journal = dir.join("journal");
    println!("\n[6/6] the journal ({}):", journal.display());
    let found = audit::query(&journal, &QueryFilter::default())?;
    for exchange in found.exchanges() {
        let e = exchange?;
        let what = e.what();
        let subjects: Vec<String> = what
            .map(|w| w.subjects.iter().map(|s| mask(s)).collect())
            .unwrap_or_default();
        println!(
            "  {} {} {:<10} {:<20} {:<12} {:<35} {}",
            e.decided_at()
                .map(|t| t.format("%H:%M:%S").to_string())
                .unwrap_or_default(),
            e.ticket,
            e.who().map(|w| w.user_id.as_str()).unwrap_or("-"),
            what.map(|w| w.service.as_str()).unwrap_or("-"),
            subjects.join(","),
            what.map(|w| w.purpose.as_str()).unwrap_or("-"),
            e.status()
        );
    }
    let report = audit::verify(&journal, &audit::VerifyOptions::default())?;
    match &report.problem {
        None => println!(
            "  chain verified: {} records in {} segment(s), head {}",
            report.records,
            report.segments,
            report.head.map(|h| h.to_string()).unwrap_or_default()
        ),
        Some(p) => println!("  chain DOES NOT verify: {p:?}"),
    }

    println!("\nfiles kept in {}", dir.display());
    let all_good = granted == 4
        && refused_purpose
        && refused_production
        && tampered_refused
        && rejected
        && report.is_ok();
    if !all_good {
        return Err("the quickstart did not go as expected".into());
    }
    Ok(())
}

/// The security advisor's signing key: made once (`keys/advisor.key`, mode 0600, and
/// `keys/advisor.pub`), then reused, as `bcss manifest keygen keys/advisor` would.
fn advisor_key(keys_dir: &Path) -> Result<ed25519_dalek::SigningKey> {
    std::fs::create_dir_all(keys_dir)?;
    let name = keys_dir.join("advisor");
    let private = keys_dir.join("advisor.key");
    if !private.exists() {
        let made = keys::generate_key_pair(&name)?;
        println!(
            "      made the advisor's key pair {} and {} ({})",
            made.private_key.display(),
            made.public_key.display(),
            made.fingerprint
        );
    }
    Ok(keys::load_signing_key(&private)?)
}

/// Copy the signed manifest and its signature elsewhere, move one date in the copy, and
/// load it under the configuration's trust: it must be refused, saying why.
fn tampered_copy_is_refused(dir: &Path, config: &Config) -> Result<bool> {
    let copy_dir = dir.join("tampered");
    std::fs::create_dir_all(&copy_dir)?;
    let original = config.manifest_file();
    let copy = copy_dir.join("authorizations.toml");
    let text = std::fs::read_to_string(&original)?;
    let next = Utc::now().year() + 1;
    std::fs::write(
        &copy,
        text.replace(&format!("{next}-12-31"), &format!("{}-12-31", next + 1)),
    )?;
    std::fs::copy(signature_path(&original), signature_path(&copy))?;
    match Guard::load_trusted(&copy, config.manifest_trust()?) {
        Ok(_) => {
            println!("    accepted (unexpected)");
            Ok(false)
        }
        Err(e) => {
            println!("    refused: {e}");
            Ok(true)
        }
    }
}

fn mask(ssin: &str) -> String {
    Ssin::new(ssin)
        .map(|s| s.masked())
        .unwrap_or_else(|_| "*".repeat(ssin.len()))
}
