//! `bcss audit query` and `show` output: table, CSV and JSON lines.

use std::io::Write;

use bcss::audit::{Exchange, Payload, ReadChain, ReadEntry};

pub(super) const CSV_COLUMNS: [&str; 25] = [
    "decided_at",
    "ticket",
    "status",
    "code",
    "user_id",
    "user_name",
    "program",
    "service",
    "operation",
    "subjects",
    "purpose",
    "application",
    "application_version",
    "environment",
    "authorization_id",
    "deliberation",
    "sent_at",
    "replied_at",
    "duration_ms",
    "bcss_ticket",
    "attempt",
    "first_ticket",
    // Appended last so that existing consumers' column positions hold.
    "manifest_sha256",
    "manifest_signer",
    "write",
];

/// The summary fields of an exchange, in [`CSV_COLUMNS`] order.
pub(super) fn summary(e: &Exchange) -> Vec<String> {
    let opt = |o: Option<&String>| o.cloned().unwrap_or_default();
    let who = e.who();
    let what = e.what();
    let how = e.how();
    let outcome = e.outcome.as_ref();
    let attempt = e.intent.as_ref().and_then(|i| i.attempt);
    let code = match &e.denial {
        Some(d) => d.reason_code.clone(),
        None => e.code().unwrap_or_default().to_string(),
    };
    vec![
        e.decided_at().map(|t| t.to_rfc3339()).unwrap_or_default(),
        e.ticket.to_string(),
        e.status().to_string(),
        code,
        who.map(|w| w.user_id.clone()).unwrap_or_default(),
        opt(who.and_then(|w| w.user_name.as_ref())),
        opt(who.and_then(|w| w.program.as_ref())),
        what.map(|w| w.service.clone()).unwrap_or_default(),
        what.map(|w| w.operation.clone()).unwrap_or_default(),
        what.map(|w| w.subjects.join(" ")).unwrap_or_default(),
        what.map(|w| w.purpose.clone()).unwrap_or_default(),
        how.map(|h| h.application.clone()).unwrap_or_default(),
        how.map(|h| h.application_version.clone())
            .unwrap_or_default(),
        how.map(|h| h.environment.to_string()).unwrap_or_default(),
        opt(how.and_then(|h| h.authorization_id.as_ref())),
        opt(how.and_then(|h| h.deliberation.as_ref())),
        e.intent
            .as_ref()
            .map(|i| i.sent_at.to_rfc3339())
            .unwrap_or_default(),
        outcome
            .map(|o| o.replied_at.to_rfc3339())
            .unwrap_or_default(),
        outcome
            .map(|o| o.duration_ms.to_string())
            .unwrap_or_default(),
        opt(e.bcss().and_then(|b| b.ticket.as_ref())),
        // A retry: which attempt, and the ticket of the call's first attempt.
        attempt.map(|a| a.number.to_string()).unwrap_or_default(),
        attempt
            .map(|a| a.first_ticket.to_string())
            .unwrap_or_default(),
        // The manifest the decision was taken under, and its signing key's fingerprint.
        e.manifest().map(|m| m.sha256.clone()).unwrap_or_default(),
        opt(e.manifest().and_then(|m| m.signer.as_ref())),
        // Whether the operation writes at BCSS; empty without an intent (a denial).
        e.intent
            .as_ref()
            .map(|i| i.write.to_string())
            .unwrap_or_default(),
    ]
}

pub(super) fn csv_line(fields: impl IntoIterator<Item = String>) -> String {
    fields
        .into_iter()
        .map(|f| {
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The table's columns: indexes into [`summary`] and their titles.
const TABLE_COLUMNS: [(usize, &str); 12] = [
    (0, "DECIDED"),
    (1, "TICKET"),
    (4, "WHO"),
    (6, "PROGRAM"),
    (7, "SERVICE"),
    (8, "OPERATION"),
    (9, "SUBJECTS"),
    (10, "PURPOSE"),
    (2, "STATUS"),
    (3, "CODE"),
    (20, "ATTEMPT"),
    (21, "FIRST_TICKET"),
];

pub(super) fn print_table(out: &mut impl Write, rows: &[Vec<String>]) {
    print_columns(out, &TABLE_COLUMNS, rows);
    let _ = writeln!(out, "{} exchange(s)", rows.len());
}

/// The reads' fields, in [`read_summary`] order.
pub(super) const READ_CSV_COLUMNS: [&str; 9] = [
    "at",
    "reader",
    "command",
    "arguments",
    "exchanges",
    "subjects",
    "journal_head",
    "chain",
    "sequence",
];

/// A read's fields, in [`READ_CSV_COLUMNS`] order.
pub(super) fn read_summary(r: &ReadEntry) -> Vec<String> {
    let read = &r.record;
    let mut subjects = read.subjects.join(" ");
    if read.subjects_omitted > 0 {
        subjects.push_str(&format!(" (+{} more)", read.subjects_omitted));
    }
    vec![
        read.at.to_rfc3339(),
        read.reader.clone(),
        read.command.clone(),
        read.arguments.join(" "),
        read.exchanges.map(|n| n.to_string()).unwrap_or_default(),
        subjects,
        read.head.clone().unwrap_or_default(),
        chain_name(r).to_string(),
        r.sequence.to_string(),
    ]
}

/// Where a read is recorded: `reads` (the reads chain) or `journal`.
fn chain_name(r: &ReadEntry) -> &'static str {
    match r.chain {
        ReadChain::Reads => "reads",
        _ => "journal",
    }
}

const READ_TABLE_COLUMNS: [(usize, &str); 6] = [
    (0, "AT"),
    (1, "READER"),
    (2, "COMMAND"),
    (3, "ARGUMENTS"),
    (4, "SHOWN"),
    (5, "SUBJECTS"),
];

pub(super) fn print_read_table(out: &mut impl Write, rows: &[Vec<String>]) {
    print_columns(out, &READ_TABLE_COLUMNS, rows);
    let _ = writeln!(out, "{} read(s)", rows.len());
}

pub(super) fn read_json_line(r: &ReadEntry) -> String {
    let mut value = serde_json::json!(r.record);
    if let Some(map) = value.as_object_mut() {
        map.insert("chain".into(), serde_json::json!(chain_name(r)));
        map.insert("sequence".into(), serde_json::json!(r.sequence));
    }
    value.to_string()
}

/// Aligned columns (indexes into each row, and titles).
fn print_columns(out: &mut impl Write, columns: &[(usize, &str)], rows: &[Vec<String>]) {
    let cell = |row: &Vec<String>, i: usize| row.get(i).map(|s| one_line(s)).unwrap_or_default();
    let widths: Vec<usize> = columns
        .iter()
        .map(|(i, title)| {
            rows.iter()
                .map(|r| cell(r, *i).chars().count())
                .chain(std::iter::once(title.len()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let _ = writeln!(
        out,
        "{}",
        line(columns.iter().map(|(_, t)| t.to_string()).collect())
    );
    for row in rows {
        let _ = writeln!(
            out,
            "{}",
            line(columns.iter().map(|(i, _)| cell(row, *i)).collect())
        );
    }
}

/// `show`'s output: the summary fields, then the request and reply.
pub(super) fn print_exchange(out: &mut impl Write, e: &Exchange) {
    let row = summary(e);
    for (name, value) in CSV_COLUMNS.iter().zip(&row) {
        // The manifest has its own line below, with who signed it.
        if !value.is_empty() && !name.starts_with("manifest_") {
            let _ = writeln!(out, "{name}: {value}");
        }
    }
    if let Some(m) = e.manifest() {
        // The digest, signer and key in one line: what the decision was taken under.
        let _ = writeln!(out, "manifest: {m}");
    }
    if let Some(d) = &e.denial {
        let _ = writeln!(out, "message: {}", d.message);
    }
    if let Some(i) = &e.intent {
        let _ = writeln!(out, "soap_action: {}", i.soap_action);
    }
    if let Some(c) = &e.classification
        && let Some(error) = &c.error
    {
        let _ = writeln!(out, "decoding error: {error}");
    }
    if let Some(o) = &e.outcome {
        if let Some(status) = o.http_status {
            let _ = writeln!(out, "http_status: {status}");
        }
        if let Some(t) = &o.bcss.time_receive {
            let _ = writeln!(out, "bcss_time_receive: {t}");
        }
        if let Some(t) = &o.bcss.time_reply {
            let _ = writeln!(out, "bcss_time_reply: {t}");
        }
        if let Some(error) = &o.error {
            let _ = writeln!(out, "error: {error}");
        }
    }
    let seqs: Vec<String> = e.sequences.iter().map(u64::to_string).collect();
    let _ = writeln!(out, "sequences: {}", seqs.join(" "));
    if let Some(i) = &e.intent {
        let (encoding, text) = shown(&i.request);
        let _ = writeln!(out, "--- request ({encoding}) ---");
        let _ = writeln!(out, "{text}");
    }
    if let Some(reply) = e.outcome.as_ref().and_then(|o| o.reply.as_ref()) {
        let (encoding, text) = shown(reply);
        let _ = writeln!(out, "--- reply ({encoding}) ---");
        let _ = writeln!(out, "{text}");
    }
}

/// Control characters would break the table's lines.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A payload as printed: its text when it is UTF-8, else base64 (with the encoding's
/// name).
pub(super) fn shown(payload: &Payload) -> (&'static str, String) {
    use base64::Engine as _;
    match payload.as_text() {
        Some(text) => ("text", text.to_string()),
        None => (
            "base64",
            base64::engine::general_purpose::STANDARD.encode(payload.as_bytes()),
        ),
    }
}

fn payload_fields(
    map: &mut serde_json::Map<String, serde_json::Value>,
    name: &str,
    payload: Option<&Payload>,
) {
    let (text, encoding) = match payload.map(shown) {
        Some((encoding, text)) => (
            serde_json::Value::String(text),
            serde_json::Value::String(encoding.to_string()),
        ),
        None => (serde_json::Value::Null, serde_json::Value::Null),
    };
    map.insert(name.to_string(), text);
    map.insert(format!("{name}_encoding"), encoding);
}

pub(super) fn json_line(e: &Exchange) -> String {
    use serde_json::{Value, json};
    let mut map = serde_json::Map::new();
    map.insert("ticket".into(), json!(e.ticket));
    map.insert("status".into(), json!(e.status()));
    map.insert("decided_at".into(), json!(e.decided_at()));
    map.insert("who".into(), json!(e.who()));
    map.insert("what".into(), json!(e.what()));
    map.insert("how".into(), json!(e.how()));
    // {"sha256", "signer", "signed_by"}: the manifest the decision was taken under.
    map.insert("manifest".into(), json!(e.manifest()));
    if let Some(d) = &e.denial {
        map.insert("reason_code".into(), json!(d.reason_code));
        map.insert("message".into(), json!(d.message));
    }
    let intent = e.intent.as_ref();
    map.insert("sent_at".into(), json!(intent.map(|i| i.sent_at)));
    map.insert("soap_action".into(), json!(intent.map(|i| &i.soap_action)));
    // A retry: {"first_ticket", "number"}; null for a first attempt.
    map.insert("attempt".into(), json!(intent.and_then(|i| i.attempt)));
    // Whether the operation writes at BCSS; null without an intent (a denial).
    map.insert("write".into(), json!(intent.map(|i| i.write)));
    payload_fields(&mut map, "request", intent.map(|i| &i.request));
    let outcome = e.outcome.as_ref();
    map.insert("replied_at".into(), json!(outcome.map(|o| o.replied_at)));
    map.insert("duration_ms".into(), json!(outcome.map(|o| o.duration_ms)));
    map.insert("code".into(), json!(e.code()));
    map.insert(
        "http_status".into(),
        json!(outcome.and_then(|o| o.http_status)),
    );
    map.insert("bcss".into(), json!(e.bcss()));
    map.insert(
        "content_type".into(),
        json!(outcome.and_then(|o| o.content_type.as_ref())),
    );
    payload_fields(&mut map, "reply", outcome.and_then(|o| o.reply.as_ref()));
    let error = e
        .classification
        .as_ref()
        .and_then(|c| c.error.as_ref())
        .or(outcome.and_then(|o| o.error.as_ref()));
    map.insert("error".into(), json!(error));
    map.insert("sequences".into(), json!(e.sequences));
    Value::Object(map).to_string()
}
