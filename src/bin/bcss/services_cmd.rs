//! `bcss services`: list the service catalogue, and import a service from BCSS's WSDL.
//!
//! Exit codes:
//! - `list`: 0 listed, 2 the configuration could not be read.
//! - `import`: 0 the entry is on stdout, 2 the WSDL files could not be read or imported
//!   (inputs that cannot be used), or bad arguments.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bcss::Environment;
use bcss::config::Config;
use bcss::services::catalogue::import::{ImportOptions, import};
use bcss::services::catalogue::{LegalContextRule, ServiceIds};
use bcss::services::{Catalogue, Service};

/// List the service catalogue, or import a service from its WSDL files.
#[derive(Debug, clap::Subcommand)]
pub enum ServicesCommand {
    /// The catalogue: built-in and configured services, with family, operations (writes
    /// flagged) and the endpoint in each environment.
    List {
        /// A bcss.toml whose [[service]] entries (and catalogue file) to include.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Print the descriptors as JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the [[service]] entry of a common-v3 service, read from the WSDL 1.1 files
    /// BCSS gave you (one per environment, or one plus --endpoint), ready to append to
    /// bcss.toml. Nothing is fetched: the XSDs they import are read from disk.
    Import {
        /// The WSDL files.
        #[arg(required = true, value_name = "WSDL")]
        wsdl: Vec<PathBuf>,
        /// The service's name in manifests and the journal (default: the WSDL's name
        /// without a trailing "Service").
        #[arg(long)]
        name: Option<String>,
        /// An endpoint to add or replace, as ENV=URL (test, acceptance or production).
        #[arg(long, value_name = "ENV=URL", value_parser = parse_endpoint)]
        endpoint: Vec<(Environment, String)>,
    },
}

fn parse_endpoint(s: &str) -> Result<(Environment, String), String> {
    let (env, url) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected ENV=URL, such as test=https://..."))?;
    let env: Environment = env.parse().map_err(|e| format!("{e}"))?;
    Ok((env, url.to_string()))
}

/// The built-in catalogue, with the services `config` configures.
pub fn catalogue_of(config: Option<&Path>) -> Result<Catalogue, String> {
    match config {
        None => Ok(Catalogue::builtin().clone()),
        Some(path) => Config::load(path)
            .and_then(|c| c.service_catalogue())
            .map_err(|e| e.to_string()),
    }
}

/// Run a `bcss services` subcommand.
pub fn run(cmd: ServicesCommand) -> ExitCode {
    match cmd {
        ServicesCommand::List { config, json } => list(config.as_deref(), json),
        ServicesCommand::Import {
            wsdl,
            name,
            endpoint,
        } => {
            let options = ImportOptions {
                name,
                endpoints: endpoint.into_iter().collect(),
            };
            match import(&wsdl, &options) {
                Ok(imported) => {
                    crate::exit::write_stdout(format_args!("{}", imported.to_toml()));
                    for note in &imported.notes {
                        crate::exit::notice("bcss services import", "", "note", note);
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => crate::exit::fail(
                    "bcss services import",
                    crate::exit::Exit::of_import(&e),
                    e,
                    crate::exit::Details::default(),
                ),
            }
        }
    }
}

fn family_label(service: &Service) -> String {
    match service.ids() {
        ServiceIds::Ssdn(ids) => format!("SSDN {} {}", ids.service_id, ids.version),
        ServiceIds::V3(ids) => format!("common v3 {}", ids.namespace),
    }
}

fn legal_context_label(rule: &LegalContextRule) -> String {
    match rule {
        LegalContextRule::None => "none (the purpose is journaled, not sent)".to_string(),
        LegalContextRule::Free { max_chars } => {
            format!("free text, at most {max_chars} characters")
        }
        LegalContextRule::Closed(values) => format!("one of: {}", values.join(" | ")),
    }
}

fn list(config: Option<&Path>, json: bool) -> ExitCode {
    let catalogue = match catalogue_of(config) {
        Ok(c) => c,
        Err(e) => return crate::exit::usage("bcss services list", e),
    };
    if json {
        let descriptors: Vec<_> = catalogue.iter().map(Service::descriptor).collect();
        match serde_json::to_string_pretty(&descriptors) {
            Ok(text) => outln!("{text}"),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
        return ExitCode::SUCCESS;
    }
    let configured = catalogue.configured().count();
    outln!(
        "{} services ({} built-in, {configured} configured)",
        catalogue.len(),
        catalogue.len() - configured
    );
    for service in &catalogue {
        outln!();
        outln!(
            "{}  {}  ({})",
            service.name(),
            family_label(service),
            service.origin()
        );
        let operations: Vec<String> = service
            .operations()
            .iter()
            .map(|op| {
                if op.write {
                    format!("{} [WRITE]", op.name)
                } else {
                    op.name.clone()
                }
            })
            .collect();
        outln!("  operations:   {}", operations.join(", "));
        outln!(
            "  legalContext: {}",
            legal_context_label(service.legal_context())
        );
        for env in Environment::ALL {
            outln!(
                "  {:<13} {}",
                format!("{env}:"),
                service.default_endpoint(env).unwrap_or("-")
            );
        }
    }
    ExitCode::SUCCESS
}
