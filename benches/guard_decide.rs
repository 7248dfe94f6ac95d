//! Nanoseconds per guard decision for manifests of 10, 1,000 and 100,000 entries, beside
//! the cost of one SHA-256 over 1 KiB measured in the same run.
//!
//! Run with `cargo bench --bench guard_decide`. Target: under 1 µs per decision at
//! 100,000 entries.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bcss::Environment;
use bcss::ids::ProgramId;
use bcss::manifest::{Decision, Facts, Guard};
use bcss::services::{Catalogue, Service};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

const ROUNDS: usize = 5;

/// The best of a few rounds: ns per iteration of `f` run `n` times.
fn best_ns(n: usize, mut f: impl FnMut(usize)) -> f64 {
    let mut best = Duration::MAX;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for i in 0..n {
            f(i);
        }
        best = best.min(start.elapsed());
    }
    best.as_nanos() as f64 / n as f64
}

/// Entry `i`: spread over the environments and services, in pairs (an expired entry and
/// its renewal) that share the environment, service and purpose.
/// The services whose legalContext is free (HealthCareInsurance's is a closed list, which
/// the generated purposes are not in).
fn services() -> Vec<&'static Service> {
    Catalogue::builtin()
        .iter()
        .filter(|s| s.legal_context().closed_values().is_none())
        .collect()
}

fn entry(i: usize) -> (Environment, &'static Service, String, bool) {
    let pair = i / 2;
    let env = Environment::ALL[pair % 3];
    let services = services();
    let service = services[(pair / 3) % services.len()];
    let purpose = format!("PURPOSE:{:06}", pair / 18);
    (env, service, purpose, i % 2 == 1)
}

fn manifest(n: usize) -> String {
    let mut s =
        String::from("[organization]\ncbe = \"0212344876\"\nname = \"Bench\"\nsector = 17\n\n");
    for i in 0..n {
        let (env, service, purpose, renewal) = entry(i);
        let (from, until) = if renewal {
            ("2025-01-01", "2027-12-31")
        } else {
            ("2022-01-01", "2024-12-31")
        };
        s += &format!(
            "[[authorization]]\nid = \"e{i}\"\nenvironment = \"{}\"\nservice = \"{}\"\n\
             purpose = \"{purpose}\"\nprogram = \"00912345673\"\ndeliberation = \"13/084\"\n\
             {codes}valid_from = {from}\nvalid_until = {until}\ngranted_by = \"deputy\"\n\n",
            env.as_str(),
            service.name(),
            codes = access_purposes(service),
        );
    }
    s
}

/// ManageAccess entries name the BCSS purpose codes they cover.
fn access_purposes(service: &Service) -> &'static str {
    match service.name() {
        "ManageAccess" => "access_purposes = [1, 7]\n",
        _ => "",
    }
}

/// The BCSS purpose code a call carries: 7 for ManageAccess, none elsewhere.
fn access_purpose(service: &Service) -> Option<u32> {
    (service.name() == "ManageAccess").then_some(7)
}

struct Call {
    env: Environment,
    service: &'static Service,
    operation: &'static str,
    purpose: String,
}

/// Calls that are granted: entry `k`'s environment, service and purpose.
fn granted_calls(n: usize) -> Vec<Call> {
    (0..1024)
        .map(|k| {
            let (env, service, purpose, _) = entry((k * 7919) % n);
            Call {
                env,
                service,
                operation: service.operation_names()[0],
                purpose,
            }
        })
        .collect()
}

/// Calls that are refused, each for a different reason.
fn denied_calls(n: usize) -> Vec<Call> {
    (0..1024)
        .map(|k| {
            let (env, service, purpose, _) = entry((k * 7919) % n);
            match k % 3 {
                0 => Call {
                    env,
                    service,
                    operation: service.operation_names()[0],
                    purpose: "MARKETING".to_string(),
                },
                1 => Call {
                    env,
                    service,
                    operation: "bogus",
                    purpose,
                },
                _ => Call {
                    env: Environment::ALL
                        [(Environment::ALL.iter().position(|e| *e == env).unwrap_or(0) + 1) % 3],
                    service,
                    operation: service.operation_names()[0],
                    purpose: format!("{purpose}-other"),
                },
            }
        })
        .collect()
}

fn main() {
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-01-15T10:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|_| Utc::now());
    let program = ProgramId::new("00912345673").ok();

    let block = [0x5au8; 1024];
    let sha_ns = best_ns(20_000, |i| {
        let mut h = Sha256::new();
        h.update(block);
        h.update(i.to_le_bytes());
        black_box(h.finalize());
    });
    println!("baseline: SHA-256 over 1 KiB: {sha_ns:.0} ns");
    println!();
    println!(
        "{:>8}  {:>9}  {:>12}  {:>10}  {:>12}  {:>10}",
        "entries", "load ms", "grant ns", "x sha", "deny ns", "x sha"
    );
    for n in [10usize, 1_000, 100_000] {
        let text = manifest(n);
        let start = Instant::now();
        let guard = match Guard::from_str(&text, "bench.toml") {
            Ok(g) => g,
            Err(e) => {
                eprintln!("the bench manifest is invalid: {e}");
                std::process::exit(1);
            }
        };
        let load_ms = start.elapsed().as_secs_f64() * 1000.0;

        let run = |calls: &[Call], expect_grant: bool| {
            // Check once that the calls decide as intended.
            for c in calls {
                let facts = Facts {
                    environment: c.env,
                    service: c.service.name(),
                    operation: c.operation,
                    purpose: &c.purpose,
                    program: program.as_ref(),
                    access_purpose: access_purpose(c.service),
                };
                let granted = matches!(guard.decide(&facts, now), Decision::Grant(_));
                assert_eq!(
                    granted, expect_grant,
                    "{} {} {}",
                    c.env, c.service, c.purpose
                );
            }
            best_ns(1_000_000, |i| {
                let c = &calls[i % calls.len()];
                let facts = Facts {
                    environment: c.env,
                    service: c.service.name(),
                    operation: c.operation,
                    purpose: &c.purpose,
                    program: program.as_ref(),
                    access_purpose: access_purpose(c.service),
                };
                black_box(guard.decide(black_box(&facts), now));
            })
        };
        let grant_ns = run(&granted_calls(n), true);
        let deny_ns = run(&denied_calls(n), false);
        println!(
            "{n:>8}  {load_ms:>9.1}  {grant_ns:>12.0}  {:>10.2}  {deny_ns:>12.0}  {:>10.2}",
            grant_ns / sha_ns,
            deny_ns / sha_ns
        );
        if n == 100_000 {
            let worst = grant_ns.max(deny_ns);
            println!();
            println!(
                "target: under 1000 ns per decision at 100,000 entries: {} ({worst:.0} ns)",
                if worst < 1000.0 { "met" } else { "NOT met" }
            );
        }
    }
}
