//! Writing a descriptor as the `[[service]]` entry [`super::parse_services`] reads (for
//! `bcss services import`).

use std::fmt::Write as _;

use super::descriptor::{LegalContextRule, ServiceDescriptor, ServiceIds};

/// A TOML string (quoted and escaped).
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The `[[service]]` entry of a descriptor, ready to append to `bcss.toml`:
/// [`parse_services`](super::parse_services) reads it back into an equal descriptor (apart from its origin).
pub fn to_toml(d: &ServiceDescriptor) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "[[service]]");
    let _ = writeln!(out, "name = {}", quoted(&d.name));
    let _ = writeln!(out, "family = {}", quoted(d.family().as_str()));
    match &d.ids {
        ServiceIds::Ssdn(ids) => {
            let _ = writeln!(out, "service_id = {}", quoted(&ids.service_id));
            let _ = writeln!(out, "version = {}", quoted(&ids.version));
            let _ = writeln!(
                out,
                "payload_namespace = {}",
                quoted(&ids.payload_namespace)
            );
        }
        ServiceIds::V3(ids) => {
            let _ = writeln!(out, "namespace = {}", quoted(&ids.namespace));
            let _ = writeln!(out, "version = {}", quoted(&ids.version));
            let _ = writeln!(out, "information_customer = {}", d.information_customer);
        }
    }
    match &d.legal_context {
        LegalContextRule::None => {
            let _ = writeln!(out, "legal_context = \"none\"");
        }
        LegalContextRule::Free { .. } => {
            let _ = writeln!(
                out,
                "legal_context = \"free\"            # at most 64 characters; or the closed list the schema allows"
            );
        }
        LegalContextRule::Closed(values) => {
            let _ = writeln!(
                out,
                "legal_context = [                  # the only values the schema allows"
            );
            for v in values {
                let _ = writeln!(out, "    {},", quoted(v));
            }
            let _ = writeln!(out, "]");
        }
    }
    if !d.endpoints.is_empty() {
        let _ = writeln!(out, "\n[service.endpoints]");
        for (env, url) in &d.endpoints {
            let _ = writeln!(out, "{env} = {}", quoted(url));
        }
    }
    for op in &d.operations {
        let _ = writeln!(out, "\n[[service.operation]]");
        let _ = writeln!(out, "name = {}", quoted(&op.name));
        let _ = writeln!(out, "request = {}", quoted(&op.request));
        let _ = writeln!(out, "response = {}", quoted(&op.response));
        if let Some(fault) = &op.fault {
            let _ = writeln!(out, "fault = {}", quoted(fault));
        }
        let _ = writeln!(out, "soap_action = {}", quoted(&op.soap_action));
        let _ = writeln!(
            out,
            "write = {}                       # true when the operation changes data at BCSS",
            op.write
        );
        let paths: Vec<String> = op.subjects.iter().map(|s| quoted(s)).collect();
        let _ = writeln!(
            out,
            "subjects = [{}]{}",
            paths.join(", "),
            if paths.is_empty() {
                "                    # paths of the elements naming the people (e.g. \"criteria/ssin\"); [] = every valid SSIN"
            } else {
                ""
            }
        );
    }
    out
}
