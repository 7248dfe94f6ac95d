//! Recording fixtures against BCSS's acceptance environment, redacted before anything is
//! written. Tests only compile this example: it needs an organisation registered with
//! BCSS (credentials, an allow-listed source IP) and contacts a real BCSS host.
//!
//! ```text
//! export BCSS_PASSWORD=...                         # HTTP Basic password, never inline
//! cargo run --example record_fixtures -- \
//!     --config acpt/bcss.toml \                    # environment = "acceptance"
//!     --fixtures fixtures/recorded \
//!     --salt ~/.config/bcss/redaction-salt \       # outside the fixtures directory
//!     --user agent-042 --purpose PCSA:SOCIAL_INQUIRY \
//!     --ssin 68070100188 \
//!     --contact-acceptance                         # without it, nothing is sent
//! ```
//!
//! The client is built from `bcss.toml` as usual (the guard and the journal apply to
//! recording like to any call); only its transport is wrapped: a
//! [`ReplayTransport`] in `record-missing` mode sends what it has no fixture for through
//! the HTTP transport, and writes each exchange, redacted, as
//! `<fixtures>/<Service>/<operation>-<hash>.toml`. SSINs, names, addresses and card
//! numbers are replaced by fictitious ones, consistently across files, through
//! `<fixtures>/redaction-map.toml`, whose keys are salted hashes; the salt stays outside
//! the fixtures directory. Running it again replays what was recorded and sends only the
//! calls that are new.

use std::error::Error as StdError;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bcss::Environment;
use bcss::audit::AnyJournal;
use bcss::client::{Actor, CallContext, Client};
use bcss::config::Config;
use bcss::endpoints::Endpoints;
use bcss::fixture::redact::RedactionSalt;
use bcss::ids::Ssin;
use bcss::manifest::Guard;
use bcss::services::retrieve_ti_groups::{Language, RetrieveTi};
use bcss::services::test_connection::TestConnection;
use bcss::transport::http::{HttpTransport, PasswordSource};
use bcss::transport::replay::{Mode, ReplayTransport};
use clap::Parser;

type Result<T> = std::result::Result<T, Box<dyn StdError>>;

/// Record fixtures against the acceptance environment.
#[derive(Debug, Parser)]
struct Args {
    /// The client configuration; its environment must be "acceptance".
    #[arg(long)]
    config: PathBuf,
    /// Where the fixtures are written.
    #[arg(long, default_value = "fixtures/recorded")]
    fixtures: PathBuf,
    /// The redaction salt file (created when missing), outside the fixtures directory.
    #[arg(long)]
    salt: PathBuf,
    /// The physical user recording (WHO, in the journal).
    #[arg(long)]
    user: String,
    /// The purpose, as the manifest grants it.
    #[arg(long)]
    purpose: String,
    /// A test person of the acceptance environment.
    #[arg(long)]
    ssin: String,
    /// Really send requests to BCSS's acceptance environment.
    #[arg(long)]
    contact_acceptance: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let config = Config::load(&args.config)?;
    if config.environment != Environment::Acceptance {
        return Err(format!(
            "{} is for the {} environment; fixtures are recorded against acceptance",
            args.config.display(),
            config.environment
        )
        .into());
    }
    // The salt is refused inside the fixtures directory, where it would be committed.
    let salt = RedactionSalt::load_or_create_outside(&args.salt, &args.fixtures)?;
    let ssin = Ssin::new(&args.ssin)?;
    if !args.contact_acceptance {
        println!(
            "would record TestConnection and RetrieveTIGroups ({}) against {} into {}; add --contact-acceptance to send",
            ssin,
            Endpoints::default_url(
                Environment::Acceptance,
                bcss::services::test_connection::service()
            )
            .unwrap_or("?"),
            args.fixtures.display()
        );
        return Ok(());
    }

    // The real transport: Basic credentials from the environment, never inline.
    let password = match (
        &config.transport.password_env,
        &config.transport.password_file,
    ) {
        (Some(var), _) => PasswordSource::Env(var.clone()),
        (None, Some(file)) => PasswordSource::File(config.resolve(file)),
        (None, None) => PasswordSource::Env("BCSS_PASSWORD".into()),
    };
    let http = HttpTransport::builder()
        .basic_auth(config.organization.cbe.clone(), password)
        .call_timeout(Duration::from_secs(60))
        .build()?;
    // Wrapped: replay what is recorded, record what is not, redacted.
    let recorder = ReplayTransport::builder(&args.fixtures)
        .mode(Mode::RecordMissing)
        .inner(Arc::new(http))
        .redaction_salt(salt)
        .build()?;
    println!(
        "{} fixtures already in {}",
        recorder.fixture_count(),
        args.fixtures.display()
    );

    let journal = Arc::new(AnyJournal::open(config.journal_config()?).await?);
    let mut builder = Client::builder()
        .environment(config.environment)
        .organization(config.organization.cbe.clone())
        .application(&config.application.name, &config.application.version)
        .contact_email(&config.organization.contact_email)
        .guard(Arc::new(Guard::load_trusted(
            config.manifest_file(),
            config.manifest_trust()?,
        )?))
        .journal(journal.clone())
        .transport(Arc::new(recorder));
    if let Some(program) = &config.organization.program {
        builder = builder.program(program.clone());
    }
    let client = builder.build()?;
    let ctx = CallContext::new(Actor::new(args.user), args.purpose);

    let echo = client
        .call(&ctx, &TestConnection::new("bcss fixture recording")?)
        .await?;
    println!("TestConnection: echo matches: {}", echo.data.echo_matches);
    match client
        .call(&ctx, &RetrieveTi::new(ssin)?.language(Language::Fr))
        .await
    {
        Ok(reply) => println!(
            "RetrieveTIGroups: {} name record(s)",
            reply.data.person.names.len()
        ),
        // A refusal is recorded too: it makes a useful fixture.
        Err(e) => println!("RetrieveTIGroups: {e}"),
    }
    journal.close().await?;
    println!(
        "fixtures in {} (redacted; review them before committing)",
        args.fixtures.display()
    );
    Ok(())
}
