//! `[[service]]` entries: the TOML shape of a [`ServiceDescriptor`], read with every error
//! at its `FILE:line:col` ([`parse_services`], and `bcss.toml` through
//! [`crate::config::Config`]). [`super::to_toml`] writes them.
//!
//! ```toml
//! [[service]]
//! name = "FictitiousAllowances"     # the name manifests, fixtures and the journal use
//! family = "v3"                     # "v3" (common v3) or "ssdn"
//! namespace = "http://kszbcss.fgov.be/intf/FictitiousAllowancesService/v1"   # v3
//! version = "v1"                    # v3: interface version; ssdn: the 8-character Version
//! information_customer = true       # v3, default true: requests start with informationCustomer
//! legal_context = "free"            # "free" (at most 64 characters), "none", or the closed
//!                                   # list the schema allows: ["value one", "value two"]
//! # service_id = "OCMWCPASFictitious"   # ssdn: the ServiceId
//! # payload_namespace = "http://..."    # ssdn: the payload element's namespace
//!
//! [service.endpoints]               # default endpoint per environment (ssdn: the connector's)
//! test = "https://bcssksz-services-test.smals.be/SOA4520/FictitiousAllowancesService/v1"
//! acceptance = "https://bcssksz-services-acpt.smals.be/SOA4520/FictitiousAllowancesService/v1"
//! production = "https://bcssksz-services-prod.smals.be/SOA4520/FictitiousAllowancesService/v1"
//!
//! [[service.operation]]
//! name = "consultAllowances"
//! request = "consultAllowancesRequest"      # ssdn: the payload root element
//! response = "consultAllowancesResponse"    # ssdn: the reply payload root element
//! soap_action = "http://kszbcss.fgov.be/FictitiousAllowancesService/consultAllowances"
//! # fault = "consultAllowancesFault"        # v3, default <name>Fault
//! write = false                             # default false; a write is never resent
//! subjects = ["criteria/ssin"]              # default []: every element holding a valid SSIN
//! ```

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::builtin;
use super::descriptor::{
    DescriptorError, Family, LegalContextRule, OperationDescriptor, Origin, ServiceDescriptor,
    ServiceIds, SsdnIds, V3Ids,
};
use super::service::Service;
use crate::environment::Environment;

/// A `[[service]]` entry is not valid: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct SpecError {
    /// The file, as it was named.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// One `[[service]]` table as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawService {
    name: Spanned<String>,
    family: Spanned<String>,
    version: Spanned<String>,
    service_id: Option<Spanned<String>>,
    payload_namespace: Option<Spanned<String>>,
    namespace: Option<Spanned<String>>,
    information_customer: Option<Spanned<bool>>,
    legal_context: Option<Spanned<RawLegalContext>>,
    endpoints: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
    #[serde(default)]
    operation: Vec<Spanned<RawOperation>>,
}

/// `legal_context` as written: a word (`"free"`, `"none"`) or a list of values.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RawLegalContext {
    Word(String),
    List(Vec<String>),
}

impl<'de> Deserialize<'de> for RawLegalContext {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawLegalContext;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "\"free\" (at most 64 characters), \"none\", or the list of the values \
                     the service's schema allows ([\"value one\", \"value two\"])",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawLegalContext, E> {
                Ok(RawLegalContext::Word(v.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RawLegalContext, A::Error> {
                let mut values = Vec::new();
                while let Some(v) = seq.next_element::<String>()? {
                    values.push(v);
                }
                Ok(RawLegalContext::List(values))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// One `[[service.operation]]` table as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOperation {
    name: Spanned<String>,
    request: Spanned<String>,
    response: Spanned<String>,
    fault: Option<Spanned<String>>,
    soap_action: Option<Spanned<String>>,
    #[serde(default)]
    write: bool,
    subjects: Option<Spanned<Vec<Spanned<String>>>>,
}

/// A file that holds only `[[service]]` entries (`catalogue = "FILE"` in `bcss.toml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    #[serde(default)]
    service: Vec<Spanned<RawService>>,
}

/// Where errors are reported: the file's name and text.
pub(crate) struct Source<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

impl Source<'_> {
    pub(crate) fn at(&self, offset: usize, message: impl Into<String>) -> SpecError {
        let (line, column) = crate::config::line_col(self.text, offset);
        SpecError {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
        }
    }
}

/// Read a catalogue file's text: only `[[service]]` entries, each checked. `file` names
/// the file in errors and in each service's [`Origin`]. The first problem is returned, at
/// its `FILE:line:col`. Names are not checked against other catalogues here: see
/// [`super::Catalogue::with_configured`].
///
/// ```
/// let text = r#"
/// [[service]]
/// name = "FictitiousSsdn"
/// family = "ssdn"
/// service_id = "OCMWCPASFictitious"
/// version = "20240101"
/// payload_namespace = "urn:example:fictitious"
///
/// [[service.operation]]
/// name = "consult"
/// request = "FictitiousRequest"
/// response = "FictitiousReply"
/// subjects = ["SSIN"]
/// "#;
/// let services = bcss::services::parse_services(text, "services.toml").unwrap();
/// assert_eq!(services[0].ssdn_service_id(), Some("OCMWCPASFictitious"));
/// assert!(services[0].default_endpoint(bcss::Environment::Test).is_some());
/// let bad = text.replace("20240101", "2024");
/// let err = bcss::services::parse_services(&bad, "services.toml").unwrap_err();
/// assert_eq!((err.line, err.column), (6, 11));
/// ```
pub fn parse_services(text: &str, file: &str) -> Result<Vec<Service>, SpecError> {
    let src = Source { file, text };
    let parsed: CatalogueFile = toml::from_str(text).map_err(|e| {
        src.at(
            e.span().map_or(0, |s| s.start),
            e.message().trim().to_string(),
        )
    })?;
    build_all(&parsed.service, &src)
}

/// Check raw entries, in order, into services.
pub(crate) fn build_all(
    raw: &[Spanned<RawService>],
    src: &Source<'_>,
) -> Result<Vec<Service>, SpecError> {
    let mut services: Vec<Service> = Vec::new();
    for entry in raw {
        let service = build(entry, src)?;
        if let Some(first) = services.iter().find(|s| s.name() == service.name()) {
            return Err(src.at(
                entry.get_ref().name.span().start,
                format!(
                    "service {:?} is already described at {}",
                    service.name(),
                    first.origin()
                ),
            ));
        }
        services.push(service);
    }
    Ok(services)
}

/// Spans of the fields of one entry, by the field paths [`DescriptorError`] uses.
#[derive(Default)]
struct Spans(HashMap<String, Range<usize>>);

impl Spans {
    fn put<T>(&mut self, field: impl Into<String>, value: &Spanned<T>) {
        self.0.insert(field.into(), value.span());
    }

    /// The span of `field`, or of its nearest recorded parent.
    fn of(&self, field: &str) -> Option<Range<usize>> {
        let mut path = field;
        loop {
            if let Some(span) = self.0.get(path) {
                return Some(span.clone());
            }
            path = &path[..path.rfind('.')?];
        }
    }
}

fn build(entry: &Spanned<RawService>, src: &Source<'_>) -> Result<Service, SpecError> {
    let header = entry.span().start;
    let raw = entry.get_ref();
    let mut spans = Spans::default();
    let name = raw.name.get_ref().clone();
    spans.put("name", &raw.name);
    spans.put("version", &raw.version);
    let family = match raw.family.get_ref().as_str() {
        "ssdn" => Family::Ssdn,
        "v3" => Family::V3,
        other => {
            return Err(src.at(
                raw.family.span().start,
                format!("family {other:?}: expected \"v3\" (common v3) or \"ssdn\""),
            ));
        }
    };
    let required = |value: &Option<Spanned<String>>, key: &str| {
        value.as_ref().map(|v| v.get_ref().clone()).ok_or_else(|| {
            src.at(
                header,
                format!("[[service]] {name:?} (family {family}): missing key '{key}'"),
            )
        })
    };
    let forbidden = |value: &Option<Spanned<String>>, key: &str, applies: &str| match value {
        Some(v) => Err(src.at(
            v.span().start,
            format!("'{key}' applies to {applies} services only; {name:?} is {family}"),
        )),
        None => Ok(()),
    };
    let ids = match family {
        Family::Ssdn => {
            forbidden(&raw.namespace, "namespace", "common-v3")?;
            ServiceIds::Ssdn(SsdnIds {
                service_id: required(&raw.service_id, "service_id")?,
                version: raw.version.get_ref().clone(),
                payload_namespace: required(&raw.payload_namespace, "payload_namespace")?,
            })
        }
        Family::V3 => {
            forbidden(&raw.service_id, "service_id", "SSDN")?;
            forbidden(&raw.payload_namespace, "payload_namespace", "SSDN")?;
            ServiceIds::V3(V3Ids {
                namespace: required(&raw.namespace, "namespace")?,
                version: raw.version.get_ref().clone(),
            })
        }
    };
    for (key, value) in [
        ("service_id", &raw.service_id),
        ("payload_namespace", &raw.payload_namespace),
        ("namespace", &raw.namespace),
    ] {
        if let Some(v) = value {
            spans.put(key, v);
        }
    }
    let information_customer = match &raw.information_customer {
        Some(v) => {
            spans.put("information_customer", v);
            *v.get_ref()
        }
        None => family == Family::V3,
    };
    let legal_context = match &raw.legal_context {
        Some(v) => {
            spans.put("legal_context", v);
            legal_context_of(v, src)?
        }
        None if family == Family::V3 && information_customer => LegalContextRule::free(),
        None => LegalContextRule::None,
    };
    let endpoints = endpoints_of(raw, family, src, &mut spans)?;
    let mut operations = Vec::new();
    for (i, op) in raw.operation.iter().enumerate() {
        operations.push(operation_of(op, i, family, &name, src, &mut spans)?);
    }
    if operations.is_empty() {
        return Err(src.at(
            header,
            format!(
                "[[service]] {name:?} has no operation: add a [[service.operation]] table \
                 after it"
            ),
        ));
    }
    let descriptor = ServiceDescriptor {
        name,
        ids,
        information_customer,
        legal_context,
        operations,
        endpoints,
        origin: Origin::Configured {
            file: src.file.to_string(),
            line: crate::config::line_col(src.text, header).0,
        },
    };
    Service::new(descriptor).map_err(|e: DescriptorError| {
        let at = spans.of(&e.field).map_or(header, |s| s.start);
        src.at(at, format!("'{}': {}", e.field, e.message))
    })
}

fn legal_context_of(
    v: &Spanned<RawLegalContext>,
    src: &Source<'_>,
) -> Result<LegalContextRule, SpecError> {
    match v.get_ref() {
        RawLegalContext::Word(w) if w == "free" => Ok(LegalContextRule::free()),
        RawLegalContext::Word(w) if w == "none" => Ok(LegalContextRule::None),
        RawLegalContext::Word(w) => Err(src.at(
            v.span().start,
            format!(
                "legal_context {w:?}: expected \"free\" (at most 64 characters), \"none\", \
                 or the list of the values the service's schema allows"
            ),
        )),
        RawLegalContext::List(values) => Ok(LegalContextRule::Closed(values.clone())),
    }
}

fn endpoints_of(
    raw: &RawService,
    family: Family,
    src: &Source<'_>,
    spans: &mut Spans,
) -> Result<BTreeMap<Environment, String>, SpecError> {
    let mut endpoints = match family {
        Family::Ssdn => builtin::connector_endpoints(),
        Family::V3 => BTreeMap::new(),
    };
    let mut seen: Vec<Environment> = Vec::new();
    for (key, url) in raw.endpoints.iter().flatten() {
        let env: Environment = key.get_ref().parse().map_err(|_| {
            src.at(
                key.span().start,
                format!(
                    "[service.endpoints] key {:?}: expected test, acceptance or production",
                    key.get_ref()
                ),
            )
        })?;
        if seen.contains(&env) {
            return Err(src.at(
                key.span().start,
                format!("[service.endpoints] names {env} twice"),
            ));
        }
        seen.push(env);
        spans.put(format!("endpoints.{env}"), url);
        endpoints.insert(env, url.get_ref().clone());
    }
    Ok(endpoints)
}

fn operation_of(
    op: &Spanned<RawOperation>,
    i: usize,
    family: Family,
    service: &str,
    src: &Source<'_>,
    spans: &mut Spans,
) -> Result<OperationDescriptor, SpecError> {
    let raw = op.get_ref();
    let prefix = format!("operation.{i}");
    spans.put(prefix.clone(), op);
    spans.put(format!("{prefix}.name"), &raw.name);
    spans.put(format!("{prefix}.request"), &raw.request);
    spans.put(format!("{prefix}.response"), &raw.response);
    let soap_action = match (&raw.soap_action, family) {
        (Some(a), _) => {
            spans.put(format!("{prefix}.soap_action"), a);
            a.get_ref().clone()
        }
        (None, Family::Ssdn) => crate::ssdn::SOAP_ACTION.to_string(),
        (None, Family::V3) => {
            return Err(src.at(
                op.span().start,
                format!(
                    "operation {:?} of {service:?}: missing key 'soap_action' (the WSDL \
                     binding's soapAction)",
                    raw.name.get_ref()
                ),
            ));
        }
    };
    let fault = match (&raw.fault, family) {
        (Some(f), _) => {
            spans.put(format!("{prefix}.fault"), f);
            Some(f.get_ref().clone())
        }
        (None, Family::V3) => Some(format!("{}Fault", raw.name.get_ref())),
        (None, Family::Ssdn) => None,
    };
    let mut subjects = Vec::new();
    if let Some(list) = &raw.subjects {
        spans.put(format!("{prefix}.subjects"), list);
        for (j, path) in list.get_ref().iter().enumerate() {
            spans.put(format!("{prefix}.subjects.{j}"), path);
            subjects.push(path.get_ref().clone());
        }
    }
    Ok(OperationDescriptor {
        name: raw.name.get_ref().clone(),
        request: raw.request.get_ref().clone(),
        response: raw.response.get_ref().clone(),
        fault,
        soap_action,
        write: raw.write,
        subjects,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::catalogue::to_toml;

    const V3: &str = r#"
[[service]]
name = "Fictitious"
family = "v3"
namespace = "http://kszbcss.fgov.be/intf/FictitiousService/v1"
version = "v1"
legal_context = ["a purpose", "another purpose"]

[service.endpoints]
test = "https://bcssksz-services-test.smals.be/SOA4520/FictitiousService/v1"
acpt = "https://bcssksz-services-acpt.smals.be/SOA4520/FictitiousService/v1"

[[service.operation]]
name = "consult"
request = "consultRequest"
response = "consultResponse"
soap_action = "http://kszbcss.fgov.be/FictitiousService/consult"
subjects = ["criteria/ssin"]

[[service.operation]]
name = "declare"
request = "declareRequest"
response = "declareResponse"
soap_action = "http://kszbcss.fgov.be/FictitiousService/declare"
write = true
"#;

    fn err(text: &str) -> SpecError {
        parse_services(text, "s.toml").unwrap_err()
    }

    #[test]
    fn reads_a_v3_entry_with_defaults() {
        let services = parse_services(V3, "s.toml").unwrap();
        let s = &services[0];
        assert_eq!(s.family(), Family::V3);
        assert!(s.carries_information_customer());
        assert_eq!(
            s.legal_context(),
            &LegalContextRule::Closed(vec!["a purpose".into(), "another purpose".into()])
        );
        assert_eq!(
            s.operation("consult").unwrap().fault.as_deref(),
            Some("consultFault")
        );
        assert!(s.is_write("declare") && !s.is_write("consult"));
        assert_eq!(s.default_endpoint(Environment::Production), None);
        assert!(s.default_endpoint(Environment::Acceptance).is_some());
        assert_eq!(
            s.origin(),
            &Origin::Configured {
                file: "s.toml".into(),
                line: 2
            }
        );
    }

    #[test]
    fn round_trips_through_to_toml() {
        let services = parse_services(V3, "s.toml").unwrap();
        let text = to_toml(services[0].descriptor());
        let again = parse_services(&text, "again.toml").unwrap();
        let mut expected = services[0].descriptor().clone();
        expected.origin = again[0].origin().clone();
        assert_eq!(again[0].descriptor(), &expected, "{text}");
    }

    #[test]
    fn errors_point_at_the_offending_value() {
        let e = err(&V3.replace("name = \"consult\"", "name = \"con sult\""));
        assert_eq!((e.line, e.column), (14, 8), "{e}");
        assert!(e.message.contains("operation.0.name"), "{e}");
        let e = err(&V3.replace("\"v3\"", "\"v4\""));
        assert_eq!(e.line, 4, "{e}");
        let e = err(&V3.replace("acpt =", "staging ="));
        assert_eq!((e.line, e.column), (11, 1), "{e}");
        let e = err(&V3.replace("\"criteria/ssin\"", "\"criteria//ssin\""));
        assert_eq!((e.line, e.column), (18, 13), "{e}");
        let e = err(&V3.replace("namespace = ", "nmespace = "));
        assert_eq!(e.line, 5, "{e}");
        assert!(e.message.contains("nmespace"), "{e}");
        let e = err(&V3.replace(
            "soap_action = \"http://kszbcss.fgov.be/FictitiousService/declare\"",
            "",
        ));
        assert!(e.message.contains("soap_action"), "{e}");
        let e = err(&V3.replace("\"another purpose\"", "\"a purpose\""));
        assert_eq!(e.line, 7, "{e}");
        let e = err(&format!("{V3}\n{}", &V3[V3.find("[[service]]").unwrap()..]));
        assert!(e.message.contains("already described at s.toml:2"), "{e}");
        let e = err(
            "[[service]]\nname = \"X\"\nfamily = \"ssdn\"\nversion = \"20240101\"\nnamespace = \"urn:x\"\n",
        );
        assert_eq!(e.line, 5, "{e}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// Any text is an entry or a located error, never a panic: the valid entry with
        /// one stretch of it replaced.
        #[test]
        fn any_text_is_read_or_refused(start in 0usize..700, len in 0usize..40, junk in ".{0,12}") {
            let start = start.min(V3.len());
            let end = (start + len).min(V3.len());
            if V3.is_char_boundary(start) && V3.is_char_boundary(end) {
                let text = format!("{}{junk}{}", &V3[..start], &V3[end..]);
                if let Err(e) = parse_services(&text, "s.toml") {
                    proptest::prop_assert!(e.line >= 1 && e.column >= 1);
                }
            }
        }
    }
}
