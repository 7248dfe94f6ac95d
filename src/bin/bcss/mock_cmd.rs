//! `bcss mock`: serve recorded fixtures as a local BCSS until interrupted. Thin: the
//! server is `bcss::mock`.
//!
//! Exit codes: 0 stopped by Ctrl-C (or SIGTERM); 2 the mock could not start (fixtures
//! invalid, address refused or taken).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use bcss::mock::{MockConfig, MockServer, routes};

/// `bcss mock`
#[derive(Debug, clap::Args)]
pub struct MockArgs {
    /// The fixtures directory (`<Service>/<name>.toml` files).
    #[arg(long, value_name = "DIR", default_value = "fixtures/exchanges")]
    pub fixtures: PathBuf,
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
    let config = match MockConfig::from_dir(&args.fixtures) {
        Ok(c) => c
            .listen(args.listen)
            .allow_non_loopback(args.allow_non_loopback)
            .simulate_delays(!args.no_delays),
        Err(e) => {
            eprintln!("bcss mock: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bcss mock: {e}");
            return ExitCode::from(2);
        }
    };
    rt.block_on(async {
        let mock = match MockServer::start(config).await {
            Ok(m) => m,
            Err(e) => {
                eprintln!("bcss mock: {e}");
                return ExitCode::from(2);
            }
        };
        println!("bcss mock: listening on {}", mock.base_url());
        println!(
            "{} fixtures from {}; point a configuration at it with [transport] base_url = \"{}\"",
            mock.fixture_count(),
            args.fixtures.display(),
            mock.base_url()
        );
        for route in routes::routes() {
            let names: Vec<&str> = route.services.iter().map(|s| s.name()).collect();
            println!(
                "  POST {}{}  ({})",
                mock.base_url(),
                route.path,
                names.join(", ")
            );
        }
        println!("Ctrl-C stops it.");
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
