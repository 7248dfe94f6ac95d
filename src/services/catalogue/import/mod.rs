//! `bcss services import`: a common-v3 service's descriptor from the WSDL 1.1 files BCSS
//! gives an organisation (document/literal, SOAP 1.1).
//!
//! BCSS distributes one WSDL per environment; each gives the same operations and
//! soapActions and its environment's endpoint. [`import`] reads one or several of them
//! (and the XSD files they import, from the same folders: nothing is fetched), checks that
//! they agree, and returns a [`ServiceDescriptor`] with:
//!
//! - the operations with their request, response and fault elements and soapActions;
//! - the endpoint of each environment, told from the address's host
//!   (`bcssksz-services-{test,acpt,prod}`, `b2b-test`, `b2b-acpt`, `b2b`) or from a port
//!   named after an environment; [`ImportOptions::endpoints`] adds or replaces endpoints;
//! - from the schemas, when they are found: whether requests carry `informationCustomer`
//!   and `legalContext`, the closed list of legalContext values when the schema
//!   enumerates them, and the paths of the request elements of an SSIN type (the subjects).
//!
//! Writes cannot be told from a WSDL: every operation is imported with `write = false`,
//! to be marked by hand. [`Imported::notes`] says what else to check.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::descriptor::{
    LEGAL_CONTEXT_MAX_CHARS, LegalContextRule, OperationDescriptor, Origin, ServiceDescriptor,
    ServiceIds, V3Ids, is_service_name,
};
use super::write::to_toml;
use crate::environment::Environment;

mod wsdl;
mod xsd;

use xsd::LegalContextShape;

/// What to import beyond the WSDL files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// The service's name in manifests and the journal; default: the WSDL's name without
    /// a trailing `Service`.
    pub name: Option<String>,
    /// Endpoints to add or replace, per environment (for one WSDL whose address names no
    /// environment, or to use the B2B hosts).
    pub endpoints: BTreeMap<Environment, String>,
}

/// The WSDL files could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// No file was given.
    #[error("no WSDL file given")]
    NoFile,
    /// A file is not a WSDL bcss can import.
    #[error("{file}: {message}")]
    Wsdl {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// Two files describe different services.
    #[error("{first} and {second} disagree: {message}")]
    Disagree {
        /// The first file.
        first: String,
        /// The file that differs.
        second: String,
        /// What differs.
        message: String,
    },
    /// The result is not a valid descriptor (for instance, no usable name).
    #[error("{0}")]
    Invalid(String),
}

/// An imported descriptor, and what to check by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The descriptor (its origin names the first WSDL file).
    pub descriptor: ServiceDescriptor,
    /// What the WSDL and schemas could not say, one line each.
    pub notes: Vec<String>,
}

impl Imported {
    /// The `[[service]]` entry, with the notes as comments above it, ready to append to
    /// `bcss.toml`. A note quotes what the files hold (a schema location, an address, a
    /// parser's message); its control characters are written escaped (`\n`, `\u{0}`), so
    /// that each note stays one TOML comment, which TOML allows no control character in
    /// but tab, and no file can add lines to the entry.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "# {}: imported by bcss services import; mark write = true by hand where the \
             operation changes data\n",
            comment_text(&self.descriptor.name)
        ));
        for note in &self.notes {
            out.push_str(&format!("# NOTE: {}\n", comment_text(note)));
        }
        out.push_str(&to_toml(&self.descriptor));
        out
    }
}

/// `text` as the content of one TOML comment: control characters but tab escaped.
fn comment_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\t' {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// The environment a WSDL port serves: a port named after an environment, or a BCSS host.
pub fn environment_of(port: &str, url: &str) -> Option<Environment> {
    if let Ok(env) = port.parse() {
        return Some(env);
    }
    let host = reqwest::Url::parse(url)
        .ok()?
        .host_str()?
        .to_ascii_lowercase();
    let tagged = |tags: &[&str]| {
        tags.iter()
            .any(|t| host.contains(&format!("-{t}.")) || host.starts_with(&format!("b2b-{t}.")))
    };
    if tagged(&["test"]) {
        Some(Environment::Test)
    } else if tagged(&["acpt", "acc"]) {
        Some(Environment::Acceptance)
    } else if tagged(&["prod"]) || host == "b2b.ksz-bcss.fgov.be" {
        Some(Environment::Production)
    } else {
        None
    }
}

/// Import a common-v3 service from its WSDL files (one per environment, or one).
pub fn import(files: &[PathBuf], options: &ImportOptions) -> Result<Imported, ImportError> {
    let Some(first_path) = files.first() else {
        return Err(ImportError::NoFile);
    };
    let mut notes = Vec::new();
    let first = wsdl::read(first_path)?;
    let mut endpoints: BTreeMap<Environment, (String, String)> = BTreeMap::new();
    let mut add_addresses = |file: &Path, w: &wsdl::Wsdl, notes: &mut Vec<String>| {
        for (port, url) in &w.addresses {
            let Some(env) = environment_of(port, url) else {
                notes.push(format!(
                    "{}: the address {url} names no BCSS environment; give it with \
                     --endpoint ENV=URL",
                    file.display()
                ));
                continue;
            };
            if let Some((other_file, other)) = endpoints.get(&env)
                && other != url
            {
                return Err(ImportError::Disagree {
                    first: other_file.clone(),
                    second: file.display().to_string(),
                    message: format!("the {env} endpoint is {other} in one, {url} in the other"),
                });
            }
            endpoints.insert(env, (file.display().to_string(), url.clone()));
        }
        Ok(())
    };
    add_addresses(first_path, &first, &mut notes)?;
    let mut shapes_from = &first;
    let others: Vec<(PathBuf, wsdl::Wsdl)> = files[1..]
        .iter()
        .map(|p| wsdl::read(p).map(|w| (p.clone(), w)))
        .collect::<Result<_, _>>()?;
    for (path, other) in &others {
        let disagree = |message: String| ImportError::Disagree {
            first: first_path.display().to_string(),
            second: path.display().to_string(),
            message,
        };
        if other.namespace != first.namespace {
            return Err(disagree(format!(
                "namespace {} and {}",
                first.namespace, other.namespace
            )));
        }
        if other.operations != first.operations {
            return Err(disagree(
                "their operations, elements or soapActions differ (are they the same \
                 version of the service?)"
                    .into(),
            ));
        }
        add_addresses(path, other, &mut notes)?;
        if shapes_from.schemas.elements.len() < other.schemas.elements.len() {
            shapes_from = other;
        }
    }
    for (env, url) in &options.endpoints {
        endpoints.insert(*env, ("--endpoint".into(), url.clone()));
    }
    for env in Environment::ALL {
        if !endpoints.contains_key(&env) {
            notes.push(format!(
                "no {env} endpoint: import that environment's WSDL too, or give --endpoint \
                 {env}=URL"
            ));
        }
    }

    let name = match &options.name {
        Some(n) => n.clone(),
        None => first
            .name
            .as_deref()
            .map(|n| n.strip_suffix("Service").unwrap_or(n).to_string())
            .unwrap_or_default(),
    };
    if !is_service_name(&name) {
        return Err(ImportError::Invalid(format!(
            "{name:?} is not a usable service name (an ASCII letter, then letters, digits, _ \
             or -); give one with --name"
        )));
    }
    let version = version_of(&first.namespace, &mut notes);

    let schemas = &shapes_from.schemas;
    for missing in &schemas.missing {
        notes.push(format!("schema not read: {missing}"));
    }
    let mut operations = Vec::new();
    let mut information_customer: Option<bool> = None;
    let mut legal_context: Option<LegalContextRule> = None;
    for op in &first.operations {
        let mut subjects = Vec::new();
        match schemas.describe_request(&op.request) {
            Some(shape)
                if !shape.unresolved.is_empty()
                    && (!shape.information_customer || shape.legal_context.is_none()) =>
            {
                notes.push(format!(
                    "operation {}: the base type {} of {} was not found; \
                     information_customer and legal_context are common v3's defaults",
                    op.name,
                    shape.unresolved.join(", "),
                    op.request
                ));
                subjects = shape.subjects;
            }
            Some(shape) => {
                if information_customer.is_some_and(|ic| ic != shape.information_customer) {
                    notes.push(format!(
                        "operation {}: informationCustomer differs from the other \
                         operations'; check the schema",
                        op.name
                    ));
                }
                information_customer.get_or_insert(shape.information_customer);
                let rule = match shape.legal_context {
                    None => LegalContextRule::None,
                    Some(LegalContextShape::Closed(values)) => LegalContextRule::Closed(values),
                    Some(LegalContextShape::Free { max_length }) => LegalContextRule::Free {
                        max_chars: max_length
                            .unwrap_or(LEGAL_CONTEXT_MAX_CHARS)
                            .clamp(1, LEGAL_CONTEXT_MAX_CHARS),
                    },
                    Some(LegalContextShape::Unknown) => {
                        notes.push(format!(
                            "operation {}: the legalContext's type was not found; assumed \
                             free text",
                            op.name
                        ));
                        LegalContextRule::free()
                    }
                };
                if legal_context.as_ref().is_some_and(|lc| *lc != rule) {
                    notes.push(format!(
                        "operation {}: its legalContext differs from the other operations'; \
                         the first one's is kept",
                        op.name
                    ));
                }
                legal_context.get_or_insert(rule);
                subjects = shape.subjects;
            }
            None => notes.push(format!(
                "operation {}: the type of {} was not found in the schemas; \
                 information_customer and legal_context are common v3's defaults, and \
                 subjects is empty (every valid SSIN in the request)",
                op.name, op.request
            )),
        }
        operations.push(OperationDescriptor {
            name: op.name.clone(),
            request: op.request.clone(),
            response: op.response.clone(),
            fault: Some(
                op.fault
                    .clone()
                    .unwrap_or_else(|| format!("{}Fault", op.name)),
            ),
            soap_action: op.soap_action.clone(),
            write: false,
            subjects,
        });
    }
    let descriptor = ServiceDescriptor {
        name,
        ids: ServiceIds::V3(V3Ids {
            namespace: first.namespace.clone(),
            version,
        }),
        information_customer: information_customer.unwrap_or(true),
        legal_context: legal_context.unwrap_or_else(LegalContextRule::free),
        operations,
        endpoints: endpoints
            .into_iter()
            .map(|(env, (_, url))| (env, url))
            .collect(),
        origin: Origin::Configured {
            file: first_path.display().to_string(),
            line: 1,
        },
    };
    descriptor
        .check()
        .map_err(|e| ImportError::Invalid(e.to_string()))?;
    Ok(Imported { descriptor, notes })
}

/// The bytes of a file of at most `max` bytes (a larger one is refused before it is read
/// whole).
fn read_bounded(path: &Path, max: usize) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut bytes = Vec::new();
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() > max {
        return Err(format!("larger than the limit of {max} bytes"));
    }
    Ok(bytes)
}

/// The interface version: the namespace's last path segment when it is `v<N>`.
fn version_of(namespace: &str, notes: &mut Vec<String>) -> String {
    let last = namespace
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("");
    let is_version =
        last.len() > 1 && last.starts_with('v') && last[1..].chars().all(|c| c.is_ascii_digit());
    if is_version {
        last.to_string()
    } else {
        notes.push(format!(
            "the namespace {namespace} does not end with a version (/v1): version = \"v1\" \
             assumed"
        ));
        "v1".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments_from_hosts_and_ports() {
        let e = |port: &str, url: &str| environment_of(port, url);
        assert_eq!(
            e("p", "https://bcssksz-services-test.smals.be/SOA4520/X"),
            Some(Environment::Test)
        );
        assert_eq!(
            e("p", "https://bcssksz-services-acpt.smals.be:443/SOA4520/X"),
            Some(Environment::Acceptance)
        );
        assert_eq!(
            e("p", "https://bcssksz-services-acc.smals.be/SOA4520/X"),
            Some(Environment::Acceptance)
        );
        assert_eq!(
            e("p", "https://bcssksz-services-prod.smals.be/X"),
            Some(Environment::Production)
        );
        assert_eq!(
            e("p", "https://b2b-acpt.ksz-bcss.fgov.be:4520/X"),
            Some(Environment::Acceptance)
        );
        assert_eq!(
            e("p", "https://b2b.ksz-bcss.fgov.be:4520/X"),
            Some(Environment::Production)
        );
        assert_eq!(
            e("production", "http://127.0.0.1/x"),
            Some(Environment::Production)
        );
        assert_eq!(e("p", "http://127.0.0.1/x"), None);
        assert_eq!(e("p", "not a url"), None);
    }

    #[test]
    fn versions() {
        let mut notes = Vec::new();
        assert_eq!(
            version_of("http://kszbcss.fgov.be/intf/XService/v3", &mut notes),
            "v3"
        );
        assert!(notes.is_empty());
        assert_eq!(version_of("urn:x", &mut notes), "v1");
        assert_eq!(notes.len(), 1);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Any bytes given as a WSDL are refused with a reason, never a panic.
        #[test]
        fn any_bytes_are_refused_not_a_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("x.wsdl");
            std::fs::write(&path, &bytes).unwrap();
            proptest::prop_assert!(import(&[path], &ImportOptions::default()).is_err());
        }
    }
}
