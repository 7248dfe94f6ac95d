//! A CPAS application's first steps with a new applicant: identify the person, register
//! them in BCSS's reference directory for the CPAS, then consult the National Register.
//!
//! `cargo run --example cpas_new_applicant`
//!
//! It runs against the mock BCSS serving the shipped fixtures, with a client assembled in
//! code (the builder) rather than from `bcss.toml`: a manifest, a file journal, the HTTP
//! transport and the endpoints pointed at the mock. Against BCSS itself, only the
//! endpoints, the credentials and the manifest change.

use std::error::Error as StdError;
use std::path::Path;
use std::sync::Arc;

use bcss::Environment;
use bcss::audit::{FileJournal, FileJournalConfig};
use bcss::client::{Actor, CallContext, Client};
use bcss::endpoints::Endpoints;
use bcss::ids::{Cbe, ProgramId, Ssin};
use bcss::manifest::Guard;
use bcss::mock::{MockConfig, MockServer};
use bcss::services::identify_person::IdentifyPersonRequest;
use bcss::services::manage_access::ManageAccessRequest;
use bcss::services::retrieve_ti_groups::{Language, RetrieveTi};
use bcss::transport::http::HttpTransport;
use chrono::{Datelike, NaiveDate, Utc};

type Result<T> = std::result::Result<T, Box<dyn StdError>>;

const PURPOSE: &str = "PCSA:SOCIAL_INQUIRY";

fn manifest() -> String {
    let until = Utc::now().year() + 1;
    let mut text = String::from(
        "[organization]\ncbe = \"0212344876\"\nname = \"CPAS de Fictiveville\"\nsector = 17\n",
    );
    for (id, service, operations) in [
        ("identify-test", "IdentifyPerson", ""),
        // Registering is a write: the manifest names the operations it allows.
        // It names the BCSS purpose codes it may register for.
        (
            "access-test",
            "ManageAccess",
            "operations = [\"register\", \"list\"]\naccess_purposes = [1]\n",
        ),
        ("tx25-test", "RetrieveTIGroups", ""),
    ] {
        text.push_str(&format!(
            "\n[[authorization]]\nid = \"{id}\"\nenvironment = \"test\"\nservice = \"{service}\"\n{operations}purpose = \"{PURPOSE}\"\nprogram = \"00912345673\"\nvalid_from = 2025-01-01\nvalid_until = {until}-12-31\ngranted_by = \"security-advisor\"\n"
        ));
    }
    text
}

#[tokio::main]
async fn main() -> Result<()> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/exchanges");
    let mock = MockServer::start(MockConfig::from_dir(&fixtures)?).await?;
    // Kept after the run, so that the journal can be read with `bcss audit`.
    let work = tempfile::Builder::new()
        .prefix("bcss-cpas-example-")
        .tempdir()?
        .keep();

    // The client, assembled in code.
    let journal = Arc::new(FileJournal::open(FileJournalConfig::new(work.join("journal"))).await?);
    let client = Client::builder()
        .environment(Environment::Test)
        .organization(Cbe::new("0212344876")?)
        .program(ProgramId::new("00912345673")?)
        .application("cpas-social-desk", "2.3.1")
        .contact_email("it@cpas-fictiveville.example")
        .guard(Arc::new(Guard::from_str(
            &manifest(),
            "authorizations.toml",
        )?))
        .journal(journal.clone())
        .transport(Arc::new(HttpTransport::builder().build()?))
        .endpoints(Endpoints::defaults().with_base_url(Environment::Test, &mock.base_url())?)
        .build()?;
    let ctx = CallContext::new(Actor::new("agent-042"), PURPOSE);
    let applicant = Ssin::new("68070100188")?;

    // 1. Who is this? The National Register's identity for the SSIN given.
    let identified = client
        .call(&ctx, &IdentifyPersonRequest::by_ssin(applicant.clone()))
        .await?;
    let person = identified
        .data
        .persons
        .first()
        .ok_or("BCSS identified no one")?;
    println!(
        "1. identified {} {} {}, born {}",
        person.ssin,
        person.last_name,
        person.first_name.as_deref().unwrap_or(""),
        person.birth_date
    );

    // 2. Register them in BCSS's reference directory for this CPAS (a write: the
    //    manifest allows it explicitly, and it is never resent blindly).
    let register = ManageAccessRequest::register(person.ssin.clone())
        .purpose(1)
        .period(
            NaiveDate::from_ymd_opt(2025, 1, 1).ok_or("date")?,
            NaiveDate::from_ymd_opt(2025, 12, 31),
        )
        .sis_card_number("1234567890")
        .build()?;
    let registered = client.call(&ctx, &register).await?;
    for w in &registered.warnings {
        println!("   warning {} {}: {}", w.severity, w.code, w.description);
    }
    for r in &registered.data.registrations {
        println!(
            "2. registered for purpose {} in the {:?} register, {}",
            r.purpose,
            r.register,
            serde_json::to_string(&r.period)?
        );
    }

    // 3. The National Register's data (Tx25).
    let tx25 = client
        .call(
            &ctx,
            &RetrieveTi::new(person.ssin.clone())?.language(Language::Fr),
        )
        .await?;
    let record = &tx25.data.person;
    println!(
        "3. National Register, {} name record(s):",
        record.names.len()
    );
    for name in &record.names {
        println!("   {}", serde_json::to_string(name)?);
    }
    for address in &record.addresses {
        println!("   address {}", serde_json::to_string(address)?);
    }

    journal.close().await?;
    mock.shutdown().await;
    println!(
        "every call is in the journal: bcss audit query {} --reader YOUR-ID",
        work.join("journal").display()
    );
    Ok(())
}
