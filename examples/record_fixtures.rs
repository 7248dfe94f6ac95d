//! Recording fixtures against BCSS's acceptance (or test) environment, redacted before
//! anything is written. Tests only compile this example: it needs an organisation
//! registered with BCSS (credentials, an allow-listed source IP) and contacts a BCSS host,
//! or a stand-in the configuration names.
//!
//! Recording is a transport of the configuration, as for `bcss call`:
//!
//! ```toml
//! environment = "acceptance"
//! # ...
//! [transport]
//! kind = "record-missing"              # replay what is recorded, record the rest
//! fixtures = "fixtures/recorded"
//! salt_file = "../secrets/redaction-salt"   # outside the fixtures folder; or salt_env
//! password_env = "BCSS_PASSWORD"       # HTTP Basic password, never inline
//! # base_url = "http://127.0.0.1:8080" # a local stand-in instead of BCSS
//! ```
//!
//! ```text
//! cargo run --example record_fixtures -- \
//!     --config acpt/bcss.toml \
//!     --user agent-042 --purpose PCSA:SOCIAL_INQUIRY \
//!     --ssin 68070100188 \
//!     --send                                       # without it, nothing is sent
//! ```
//!
//! The client is [`Client::from_config`]: the guard and the journal apply to recording as
//! to any call, and calls go to the endpoints the configuration resolves (`base_url`,
//! `[endpoints]`). The record transport sends what it has no fixture for and writes each
//! exchange, redacted, as `<fixtures>/<Service>/<operation>-<hash>.toml`. SSINs, names,
//! addresses and card numbers are replaced by fictitious ones, consistently across files,
//! through `<fixtures>/redaction-map.toml`, whose keys are salted hashes. Running it again
//! replays what was recorded and sends only the calls that are new.

use std::error::Error as StdError;
use std::path::PathBuf;

use bcss::Environment;
use bcss::client::{Actor, CallContext, Client};
use bcss::config::Config;
use bcss::ids::Ssin;
use bcss::services::retrieve_ti_groups::{self, Language, RetrieveTi};
use bcss::services::test_connection::{self, TestConnection};
use clap::Parser;

type Result<T> = std::result::Result<T, Box<dyn StdError>>;

/// Record fixtures through the configuration's record transport.
#[derive(Debug, Parser)]
struct Args {
    /// The client configuration, with `[transport] kind = "record"` or "record-missing".
    #[arg(long)]
    config: PathBuf,
    /// The physical user recording (WHO, in the journal).
    #[arg(long)]
    user: String,
    /// The purpose, as the manifest grants it.
    #[arg(long)]
    purpose: String,
    /// A test person of the environment.
    #[arg(long)]
    ssin: String,
    /// Really send the requests to the endpoints the configuration resolves.
    #[arg(long)]
    send: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let config = Config::load(&args.config)?;
    if config.environment == Environment::Production {
        return Err(format!(
            "{} is for production; fixtures are recorded in acceptance or test",
            args.config.display()
        )
        .into());
    }
    if !config.transport.kind.records() {
        return Err(format!(
            "{}: [transport] kind = \"{}\"; set kind = \"record-missing\" (or \"record\"), fixtures and salt_file (or salt_env)",
            args.config.display(),
            config.transport.kind.as_str()
        )
        .into());
    }
    let ssin = Ssin::new(&args.ssin)?;
    let endpoints = config.endpoints()?;
    let fixtures = config
        .transport
        .fixtures
        .as_ref()
        .map(|f| config.resolve(f))
        .unwrap_or_default();
    if !args.send {
        println!(
            "would record TestConnection at {} and RetrieveTIGroups ({ssin}) at {} into {}; add --send to send",
            endpoints.resolve(config.environment, test_connection::service())?,
            endpoints.resolve(config.environment, retrieve_ti_groups::service())?,
            fixtures.display()
        );
        return Ok(());
    }

    let configured = Client::from_config(&config).await?;
    let client = &configured.client;
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
    configured.close().await?;
    println!(
        "fixtures in {} (redacted; review them before committing)",
        fixtures.display()
    );
    Ok(())
}
