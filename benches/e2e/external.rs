//! The two measurements made by other programs: zeep (`benches/zeep/run.sh`) and the
//! instruction counts under valgrind (`benches/callgrind.sh`, which runs this binary in
//! its `--callgrind-once` mode). Both print `key=value` lines that are parsed here.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};

/// One `key=value ...` line of a program's output whose first word is `tag`.
pub fn fields(line: &str, tag: &str) -> Option<HashMap<String, String>> {
    let mut words = line.split_whitespace();
    if words.next()? != tag {
        return None;
    }
    Some(
        words
            .filter_map(|w| w.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// A number from parsed fields.
pub fn number(fields: &HashMap<String, String>, key: &str) -> f64 {
    fields
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Whether `program --version` runs.
pub fn available(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// zeep at each thread count, against `url`.
#[derive(Debug, Clone)]
pub struct Zeep {
    /// `version=... python=...`.
    pub version: String,
    /// (threads, calls/s, p50 ms, p99 ms).
    pub levels: Vec<(usize, f64, f64, f64)>,
}

/// Run `benches/zeep/run.sh`; `Err` says why zeep was skipped.
pub fn zeep(url: &str, seconds: f64, threads: &str) -> Result<Zeep, String> {
    if !available("python3") {
        return Err("python3 is not installed".to_string());
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/zeep/run.sh");
    let output = Command::new("bash")
        .arg(&script)
        .arg(url)
        .arg(seconds.to_string())
        .arg(threads)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if let Some(skip) = stdout.lines().find(|l| l.starts_with("SKIP:")) {
        return Err(skip.to_string());
    }
    if !output.status.success() {
        return Err(format!(
            "{} failed ({}): {stdout}",
            script.display(),
            output.status
        ));
    }
    let mut zeep = Zeep {
        version: String::new(),
        levels: Vec::new(),
    };
    for line in stdout.lines() {
        let Some(f) = fields(line, "zeep") else {
            continue;
        };
        if f.contains_key("version") {
            zeep.version = format!(
                "zeep {} on Python {}",
                f["version"],
                f.get("python").map_or("?", String::as_str)
            );
        } else {
            zeep.levels.push((
                number(&f, "threads") as usize,
                number(&f, "calls_per_s"),
                number(&f, "p50_ms"),
                number(&f, "p99_ms"),
            ));
        }
    }
    Ok(zeep)
}

/// Instructions per call of each side, from `benches/callgrind.sh`.
#[derive(Debug, Clone, Copy)]
pub struct Instructions {
    pub bcss: f64,
    pub raw: f64,
    /// Of `bcss`, sha2's software block function (valgrind hides SHA-NI).
    pub bcss_sha256: f64,
    /// Calls the per-call figure is the difference over.
    pub calls: u64,
}

/// Run `benches/callgrind.sh` on this very binary; `Err` says why it was skipped.
pub fn callgrind() -> Result<Instructions, String> {
    if !available("valgrind") {
        return Err("valgrind is not installed".to_string());
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/callgrind.sh");
    let exe = std::env::current_exe().map_err(|e| format!("this binary's path: {e}"))?;
    let output = Command::new("bash")
        .arg(&script)
        .env("E2E_BIN", exe)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "{} failed ({}): {stdout}",
            script.display(),
            output.status
        ));
    }
    let mut found = Instructions {
        bcss: f64::NAN,
        raw: f64::NAN,
        bcss_sha256: f64::NAN,
        calls: 0,
    };
    for line in stdout.lines() {
        if let Some(f) = fields(line, "callgrind") {
            let per_call = number(&f, "instructions_per_call");
            found.calls = number(&f, "calls") as u64;
            match f.get("side").map(String::as_str) {
                Some("bcss") => {
                    found.bcss = per_call;
                    found.bcss_sha256 = number(&f, "sha256_software_per_call");
                }
                Some("raw") => found.raw = per_call,
                _ => {}
            }
        }
    }
    Ok(found)
}
