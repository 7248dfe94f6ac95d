//! `bcss mock`: serve recorded fixtures as a local BCSS until interrupted, or list the
//! cast they hold. Thin: the server is `bcss::mock`, the cast `bcss::fixture::cast`.
//!
//! Exit codes: 0 stopped by Ctrl-C (or SIGTERM), or the list printed (or its reader went
//! away); 2 the mock could not start (configuration or fixtures invalid, address refused
//! or taken).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bcss::Environment;
use bcss::config::Config;
use bcss::fixture::cast::Cast;
use bcss::fixture::{Behaviour, Fixture, FixtureSet};
use bcss::mock::{MockConfig, MockServer};
use bcss::services::Catalogue;

use crate::exit;

/// `bcss mock`
#[derive(Debug, clap::Args)]
pub struct MockArgs {
    /// The fixtures directory (`<Service>/<name>.toml` files).
    #[arg(long, value_name = "DIR", default_value = "fixtures/exchanges")]
    pub fixtures: PathBuf,
    /// A client configuration (bcss.toml) whose `[[service]]` entries the fixtures may
    /// name: the mock serves those services too, each on its endpoint's path.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The address to listen on; port 0 picks a free port. Loopback only unless
    /// --allow-non-loopback.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Listen on a non-loopback address. The mock has no authentication: anyone who can
    /// reach it can read the fixtures.
    #[arg(long)]
    pub allow_non_loopback: bool,
    /// Answer at once, ignoring the fixtures' simulated delays.
    #[arg(long)]
    pub no_delays: bool,
    /// Serve the fixtures recorded in this environment first (test, acceptance or
    /// production) when the same request was recorded in several; without it, the first
    /// fixture in file order answers.
    #[arg(long, value_name = "ENV")]
    pub environment: Option<Environment>,
    /// Print the cast (person with masked SSIN and name, service, operation, scenario of
    /// every fixture) and where the fixtures disagree about someone, then exit.
    #[arg(long)]
    pub list: bool,
}

async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Run the mock until interrupted. The first line on stdout is the address served:
/// `bcss mock: listening on http://127.0.0.1:PORT`.
pub fn run(args: MockArgs) -> ExitCode {
    const COMMAND: &str = "bcss mock";
    let catalogue = match &args.config {
        None => Catalogue::builtin().clone(),
        Some(file) => match Config::load(file).and_then(|c| c.service_catalogue()) {
            Ok(catalogue) => catalogue,
            Err(e) => return exit::usage(COMMAND, e),
        },
    };
    let config = match MockConfig::from_dir_in(&args.fixtures, catalogue) {
        Ok(c) => c
            .listen(args.listen)
            .allow_non_loopback(args.allow_non_loopback)
            .simulate_delays(!args.no_delays)
            .environment(args.environment),
        Err(e) => return exit::usage(COMMAND, e),
    };
    if args.list {
        // A closed pipe (`| head`) ends the listing quietly.
        let _ = list(config.fixtures(), &args.fixtures, args.environment);
        return ExitCode::SUCCESS;
    }
    let serving = serving(config.fixtures(), args.environment);
    let routes = config.routes();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return exit::usage(COMMAND, e),
    };
    rt.block_on(async {
        let mock = match MockServer::start(config).await {
            Ok(m) => m,
            Err(e) => return exit::usage(COMMAND, e),
        };
        // The banner is for a person or a script reading the address; a reader that
        // goes away (`| head -2`) does not stop the mock: it serves until Ctrl-C or
        // SIGTERM, whatever happens to standard output.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "bcss mock: listening on {}", mock.base_url());
        let _ = writeln!(
            out,
            "{} fixtures from {}; point a configuration at it with [transport] base_url = \"{}\"",
            mock.fixture_count(),
            args.fixtures.display(),
            mock.base_url()
        );
        let _ = writeln!(out, "{serving}");
        for route in routes {
            let names: Vec<&str> = route.services.iter().map(|s| s.name()).collect();
            let _ = writeln!(
                out,
                "  POST {}{}  ({})",
                mock.base_url(),
                route.path,
                names.join(", ")
            );
        }
        let _ = writeln!(out, "Ctrl-C stops it.");
        let _ = out.flush();
        drop(out);
        stopped().await;
        let stats = mock.stats();
        mock.shutdown().await;
        eprintln!(
            "bcss mock: stopped; {} served, {} unmatched, {} refused",
            stats.served, stats.unmatched, stats.refused
        );
        ExitCode::SUCCESS
    })
}

/// The line that says which environment's fixtures answer.
fn serving(set: &FixtureSet, environment: Option<Environment>) -> String {
    let count = |env: Environment| set.iter().filter(|f| f.environment == env).count();
    let recorded: Vec<String> = Environment::ALL
        .into_iter()
        .filter(|e| count(*e) > 0)
        .map(|e| format!("{} in {e}", count(e)))
        .collect();
    let recorded = if recorded.is_empty() {
        "none recorded".to_string()
    } else {
        format!("recorded {}", recorded.join(", "))
    };
    match environment {
        Some(env) => format!(
            "serving the {env} fixtures first ({recorded}); a request {env} has no fixture for is answered from another environment's"
        ),
        None => format!(
            "serving fixtures of every environment ({recorded}); when a request was recorded in several, the first file answers (--environment ENV prefers one)"
        ),
    }
}

/// What a fixture shows, in a few words: its file name, the outcome it declares and
/// what it simulates.
fn scenario(f: &Fixture) -> String {
    let stem = f.name.rsplit('/').next().unwrap_or(&f.name);
    let mut tags = Vec::new();
    if let Some(outcome) = f.expected_outcome {
        tags.push(outcome.as_str().to_string());
    }
    match &f.simulate.behaviour {
        Behaviour::HttpStatus(code) => tags.push(format!("HTTP {code}")),
        Behaviour::Unavailable => tags.push("MSG00001".to_string()),
        Behaviour::SoapFault { .. } => tags.push("SOAP fault".to_string()),
        Behaviour::Truncated { after, .. } => tags.push(format!("cut after {after} bytes")),
        _ => {}
    }
    if let Some(delay) = f.simulate.delay {
        tags.push(format!("{} ms", delay.as_millis()));
    }
    let tags = if tags.is_empty() {
        String::new()
    } else {
        format!(" [{}]", tags.join(", "))
    };
    if f.description.is_empty() {
        format!("{stem}{tags}")
    } else {
        format!("{stem}{tags}: {}", f.description)
    }
}

/// `bcss mock --list`: one line per fixture, by person, then where the fixtures disagree.
fn list(set: &FixtureSet, dir: &Path, environment: Option<Environment>) -> std::io::Result<()> {
    let cast = Cast::of(set);
    let mut rows: Vec<(String, String, String, String, String)> = cast
        .roles()
        .iter()
        .map(|role| {
            let f = &role.fixture;
            let person = if role.people.is_empty() {
                "-".to_string()
            } else {
                role.people
                    .iter()
                    .map(|p| match cast.name(p) {
                        Some(name) => format!("{p} {name}"),
                        None => p.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            (
                person,
                f.service.name().to_string(),
                f.operation.clone(),
                f.environment.to_string(),
                scenario(f),
            )
        })
        .collect();
    rows.sort();
    let width = |pick: fn(&(String, String, String, String, String)) -> &String, title: &str| {
        rows.iter()
            .map(|r| pick(r).chars().count())
            .chain([title.len()])
            .max()
            .unwrap_or(0)
    };
    let w = [
        width(|r| &r.0, "PERSON"),
        width(|r| &r.1, "SERVICE"),
        width(|r| &r.2, "OPERATION"),
        width(|r| &r.3, "ENV"),
    ];
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} fixtures in {}, about {} people; {}",
        set.len(),
        dir.display(),
        cast.people(),
        serving(set, environment)
    )?;
    let pad = |s: &str, n: usize| format!("{s}{}", " ".repeat(n.saturating_sub(s.chars().count())));
    writeln!(
        out,
        "{}  {}  {}  {}  SCENARIO",
        pad("PERSON", w[0]),
        pad("SERVICE", w[1]),
        pad("OPERATION", w[2]),
        pad("ENV", w[3])
    )?;
    for (person, service, operation, env, scenario) in &rows {
        writeln!(
            out,
            "{}  {}  {}  {}  {scenario}",
            pad(person, w[0]),
            pad(service, w[1]),
            pad(operation, w[2]),
            pad(env, w[3])
        )?;
    }
    for conflict in cast.conflicts() {
        writeln!(out, "warning: {conflict}")?;
    }
    Ok(())
}
