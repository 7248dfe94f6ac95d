//! What the catalogue knows about one service: [`ServiceDescriptor`] and its
//! [`OperationDescriptor`]s, and the rules a descriptor must follow
//! ([`ServiceDescriptor::check`]).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::environment::Environment;

/// The generation of BCSS message a service uses (`bcss-protocol.md` §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Family {
    /// Classic SSDN services, sent as text through the connector's `sendXML`.
    Ssdn,
    /// Newer "common v3" services, one endpoint each.
    V3,
}

impl Family {
    /// The name used in `[[service]]` entries: `ssdn` or `v3`.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Ssdn => "ssdn",
            Family::V3 => "v3",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an SSDN service is named inside the `SSDNRequest` (SSDNRequest.xsd).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SsdnIds {
    /// The `ServiceId`, e.g. `OCMWCPASIdentifyPerson`.
    pub service_id: String,
    /// The `Version`: exactly 8 characters, a date such as `20050930`.
    pub version: String,
    /// The namespace of the payload element inside `ServiceRequest` (and of the reply's
    /// payload), e.g. `http://www.ksz-bcss.fgov.be/XSD/SSDN/OCMW_CPAS/IdentifyPerson`.
    pub payload_namespace: String,
}

/// How a common-v3 service is named: its interface namespace and version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct V3Ids {
    /// The interface namespace of the request and reply root elements, e.g.
    /// `http://kszbcss.fgov.be/intf/RetrieveTIGroupsService/v2`. The schemas are
    /// `elementFormDefault="unqualified"`: only the root element is in it.
    pub namespace: String,
    /// The interface version, e.g. `v2`.
    pub version: String,
}

/// The family of a service with the identifiers that family needs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "family", rename_all = "lowercase")]
pub enum ServiceIds {
    /// An SSDN service.
    Ssdn(SsdnIds),
    /// A common-v3 service.
    V3(V3Ids),
}

impl ServiceIds {
    /// The family.
    pub fn family(&self) -> Family {
        match self {
            ServiceIds::Ssdn(_) => Family::Ssdn,
            ServiceIds::V3(_) => Family::V3,
        }
    }

    /// The version: the SSDN `Version` or the common-v3 interface version.
    pub fn version(&self) -> &str {
        match self {
            ServiceIds::Ssdn(ids) => &ids.version,
            ServiceIds::V3(ids) => &ids.version,
        }
    }
}

/// The longest `legalContext` CommonV3.xsd's `LegalContextType` accepts, in characters.
pub const LEGAL_CONTEXT_MAX_CHARS: usize = 64;

/// Which purposes a service's requests can carry as their `legalContext`. A manifest
/// entry's `purpose` is checked against it, so the guard never grants a purpose the
/// service's schema would refuse.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "values", rename_all = "lowercase")]
pub enum LegalContextRule {
    /// The requests carry no `legalContext` (SSDN services, TestConnection): the purpose
    /// is recorded in the journal only.
    None,
    /// Free text of at most `max_chars` characters (CommonV3.xsd `LegalContextType`: 64).
    Free {
        /// The longest value accepted, in characters.
        max_chars: usize,
    },
    /// Only these values, exactly (an enumeration in the service's schema, such as
    /// HealthCareInsuranceTypesV1.xsd's `InsuranceLegalContextType`).
    Closed(Vec<String>),
}

impl LegalContextRule {
    /// The free-text rule of CommonV3.xsd: at most 64 characters.
    pub fn free() -> LegalContextRule {
        LegalContextRule::Free {
            max_chars: LEGAL_CONTEXT_MAX_CHARS,
        }
    }

    /// Whether `purpose` may be sent as the legalContext. Always true for
    /// [`LegalContextRule::None`]: nothing is sent.
    pub fn allows(&self, purpose: &str) -> bool {
        match self {
            LegalContextRule::None => true,
            LegalContextRule::Free { max_chars } => purpose.chars().count() <= *max_chars,
            LegalContextRule::Closed(values) => values.iter().any(|v| v == purpose),
        }
    }

    /// The closed list, if the rule is one.
    pub fn closed_values(&self) -> Option<&[String]> {
        match self {
            LegalContextRule::Closed(values) => Some(values),
            _ => None,
        }
    }
}

/// Where a descriptor comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// One of the typed services this crate ships (its descriptor is in its own file).
    BuiltIn,
    /// A `[[service]]` entry of a configuration or catalogue file.
    Configured {
        /// The file, as it was named.
        file: String,
        /// The 1-based line of the entry's `[[service]]` header.
        line: usize,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::BuiltIn => f.write_str("built-in"),
            Origin::Configured { file, line } => write!(f, "{file}:{line}"),
        }
    }
}

/// One operation of a service.
///
/// For a common-v3 service, the request element is the SOAP Body's child, in the
/// interface namespace ([`V3Ids::namespace`]); it starts with `informationCustomer`,
/// `informationCBSS?` and `legalContext` when the service carries them, and the caller's
/// business content follows. For an SSDN service, the request element is the payload
/// inside `ServiceRequest`, in [`SsdnIds::payload_namespace`]; every SSDN operation
/// travels through the connector's one `sendXML`, so several operations may share one
/// payload element (ManageAccess's `register`, `unregister` and `list` differ by its
/// `Action`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct OperationDescriptor {
    /// The operation's name in manifests, fixtures and the journal (the WSDL operation
    /// for common v3, e.g. `consultMAF`).
    pub name: String,
    /// The local name of the request element (common v3: `consultMAFRequest`; SSDN: the
    /// payload root, `IdentifyPersonRequest`).
    pub request: String,
    /// The local name of the reply element (common v3: `consultMAFResponse`; SSDN: the
    /// reply payload root, `IdentifyPersonReply`).
    pub response: String,
    /// The local name of the CBSSFault element a business error carries in the SOAP
    /// fault's detail (common v3 only, e.g. `retrieveTIGroupsFault`; `None` for SSDN).
    pub fault: Option<String>,
    /// The SOAPAction header value (SSDN: the connector's `sendXML` action).
    pub soap_action: String,
    /// Whether the operation changes something at BCSS (ManageAccess `register`): a write
    /// is never resent blindly.
    pub write: bool,
    /// The elements that name the people the request is about (WHAT), as `/`-separated
    /// paths of local names relative to the request element, e.g. `criterion/ssin`.
    /// Empty: the subjects are every element whose text is a valid SSIN.
    pub subjects: Vec<String>,
}

/// Everything the catalogue knows about one service, enough to authorise, route, encode
/// and decode a call to it.
///
/// Built-in services declare theirs in their own files (`services/<name>.rs`); configured
/// services come from `[[service]]` entries ([`crate::services::catalogue`]). Make a
/// descriptor usable with [`crate::services::Service::new`], which checks it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ServiceDescriptor {
    /// The name in manifests, configuration, fixtures and the journal, e.g.
    /// `RetrieveTIGroups`: an ASCII letter, then up to 63 ASCII letters, digits, `_` or
    /// `-`.
    pub name: String,
    /// The family and its identifiers.
    pub ids: ServiceIds,
    /// Whether requests start with `informationCustomer` (our ticket, time and CBE
    /// number; common v3 only). A common-v3 service whose requests do not (TestConnection)
    /// also has no `status` in its replies.
    pub information_customer: bool,
    /// Whether and how requests carry the granted purpose as their `legalContext`.
    pub legal_context: LegalContextRule,
    /// The operations, in a stable order (the order of the WSDL or of the file).
    pub operations: Vec<OperationDescriptor>,
    /// The default endpoint in each environment (an absolute `https://` or `http://`
    /// URL). An environment may be missing: a call there then needs an `[endpoints]`
    /// override.
    pub endpoints: BTreeMap<Environment, String>,
    /// Where the descriptor comes from.
    pub origin: Origin,
}

/// A descriptor breaks a rule. `field` names the offending field as a path
/// (`name`, `version`, `operation.1.request`, `legal_context.2`, `endpoints.test`...),
/// so that a reader of `[[service]]` entries can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("service {service:?}: {field}: {message}")]
pub struct DescriptorError {
    /// The service's name, as given.
    pub service: String,
    /// The offending field, as a path.
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// The longest service name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Whether `s` is a service name: an ASCII letter, then ASCII letters, digits, `_` or `-`,
/// at most [`MAX_NAME_CHARS`] in all. Such a name is safe as a directory name.
pub fn is_service_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && s.len() <= MAX_NAME_CHARS
}

/// Whether `s` is an XML NCName made of ASCII characters (the element names BCSS uses).
pub fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn is_clean_text(s: &str) -> bool {
    !s.trim().is_empty() && s.trim() == s && !s.chars().any(char::is_control)
}

fn is_http_url(s: &str) -> bool {
    reqwest::Url::parse(s)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

impl ServiceDescriptor {
    /// The family.
    pub fn family(&self) -> Family {
        self.ids.family()
    }

    /// The operation named `name`.
    pub fn operation(&self, name: &str) -> Option<&OperationDescriptor> {
        self.operations.iter().find(|o| o.name == name)
    }

    /// Check every rule; the first broken one is returned.
    ///
    /// - the name is a service name ([`is_service_name`]);
    /// - SSDN: `ServiceId` is an NCName, `Version` has exactly 8 characters, the payload
    ///   namespace is an absolute URI; no `informationCustomer`, no `legalContext`;
    /// - common v3: the namespace is an absolute URI, the version is not blank;
    /// - a closed legalContext list is not empty, has no duplicates, and each value has
    ///   1 to 64 characters without control characters;
    /// - at least one operation; names unique; request, response and fault element names
    ///   are NCNames; the soapAction is not blank; every subject path is a `/`-separated
    ///   list of NCNames;
    /// - every endpoint is an absolute `http://` or `https://` URL with a host.
    pub fn check(&self) -> Result<(), DescriptorError> {
        let fail = |field: String, message: String| DescriptorError {
            service: self.name.clone(),
            field,
            message,
        };
        if !is_service_name(&self.name) {
            return Err(fail(
                "name".into(),
                format!(
                    "{:?} is not a service name: an ASCII letter, then letters, digits, _ or -, \
                     at most {MAX_NAME_CHARS} characters",
                    self.name
                ),
            ));
        }
        self.check_ids().map_err(|(f, m)| fail(f, m))?;
        self.check_legal_context().map_err(|(f, m)| fail(f, m))?;
        if self.operations.is_empty() {
            return Err(fail(
                "operation".into(),
                "a service needs at least one operation".into(),
            ));
        }
        for (i, op) in self.operations.iter().enumerate() {
            if self.operations[..i].iter().any(|o| o.name == op.name) {
                return Err(fail(
                    format!("operation.{i}.name"),
                    format!("operation {:?} is described twice", op.name),
                ));
            }
            check_operation(op, self.family())
                .map_err(|(f, m)| fail(format!("operation.{i}.{f}"), m))?;
        }
        for (env, url) in &self.endpoints {
            if !is_http_url(url) {
                return Err(fail(
                    format!("endpoints.{env}"),
                    format!("{url:?} is not an absolute http:// or https:// URL with a host"),
                ));
            }
        }
        Ok(())
    }

    fn check_ids(&self) -> Result<(), (String, String)> {
        let uri = |field: &str, value: &str| {
            if is_clean_text(value) && value.contains(':') && !value.contains(char::is_whitespace) {
                Ok(())
            } else {
                Err((
                    field.to_string(),
                    format!("{value:?} is not an absolute namespace URI"),
                ))
            }
        };
        match &self.ids {
            ServiceIds::Ssdn(ids) => {
                if !is_ncname(&ids.service_id) {
                    return Err((
                        "service_id".into(),
                        format!("{:?} is not an SSDN ServiceId", ids.service_id),
                    ));
                }
                let chars = ids.version.chars().count();
                if chars != 8 || !is_clean_text(&ids.version) {
                    return Err((
                        "version".into(),
                        format!(
                            "the SSDN Version has exactly 8 characters (a date such as \
                             20050930); {:?} has {chars}",
                            ids.version
                        ),
                    ));
                }
                uri("payload_namespace", &ids.payload_namespace)?;
                if self.information_customer {
                    return Err((
                        "information_customer".into(),
                        "SSDN requests carry a RequestContext, not an informationCustomer".into(),
                    ));
                }
                if self.legal_context != LegalContextRule::None {
                    return Err((
                        "legal_context".into(),
                        "SSDN requests carry no legalContext: use \"none\"".into(),
                    ));
                }
            }
            ServiceIds::V3(ids) => {
                uri("namespace", &ids.namespace)?;
                if !is_clean_text(&ids.version) {
                    return Err((
                        "version".into(),
                        "the interface version (such as v1) is blank".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_legal_context(&self) -> Result<(), (String, String)> {
        match &self.legal_context {
            LegalContextRule::None => Ok(()),
            LegalContextRule::Free { max_chars } => {
                if (1..=LEGAL_CONTEXT_MAX_CHARS).contains(max_chars) {
                    Ok(())
                } else {
                    Err((
                        "legal_context".into(),
                        format!(
                            "a free legalContext holds 1 to {LEGAL_CONTEXT_MAX_CHARS} characters, \
                             not {max_chars}"
                        ),
                    ))
                }
            }
            LegalContextRule::Closed(values) => {
                if values.is_empty() {
                    return Err((
                        "legal_context".into(),
                        "the closed list of legalContext values is empty: list the values \
                         the schema allows, or write \"free\""
                            .into(),
                    ));
                }
                for (i, v) in values.iter().enumerate() {
                    let chars = v.chars().count();
                    if chars == 0
                        || chars > LEGAL_CONTEXT_MAX_CHARS
                        || v.chars().any(char::is_control)
                    {
                        return Err((
                            format!("legal_context.{i}"),
                            format!(
                                "a legalContext value has 1 to {LEGAL_CONTEXT_MAX_CHARS} \
                                 characters and no control characters; {v:?} has {chars}"
                            ),
                        ));
                    }
                    if values[..i].contains(v) {
                        return Err((
                            format!("legal_context.{i}"),
                            format!("{v:?} is listed twice"),
                        ));
                    }
                }
                Ok(())
            }
        }
    }
}

fn check_operation(op: &OperationDescriptor, family: Family) -> Result<(), (String, String)> {
    if !is_ncname(&op.name) {
        return Err((
            "name".into(),
            format!("{:?} is not an operation name (an XML name)", op.name),
        ));
    }
    for (field, value) in [("request", &op.request), ("response", &op.response)] {
        if !is_ncname(value) {
            return Err((
                field.into(),
                format!("{value:?} is not an element's local name"),
            ));
        }
    }
    match (&op.fault, family) {
        (Some(f), Family::V3) if !is_ncname(f) => {
            return Err((
                "fault".into(),
                format!("{f:?} is not an element's local name"),
            ));
        }
        (Some(_), Family::Ssdn) => {
            return Err((
                "fault".into(),
                "SSDN errors come in the reply's ResultSummary, not in a CBSSFault element".into(),
            ));
        }
        _ => {}
    }
    if !is_clean_text(&op.soap_action) || op.soap_action.contains('"') {
        return Err((
            "soap_action".into(),
            format!("{:?} is not a soapAction", op.soap_action),
        ));
    }
    for (i, path) in op.subjects.iter().enumerate() {
        if path.split('/').any(|segment| !is_ncname(segment)) {
            return Err((
                format!("subjects.{i}"),
                format!(
                    "{path:?} is not a path of element names relative to the request element \
                     (such as criterion/ssin)"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_service_name("RetrieveTIGroups"));
        assert!(is_service_name("Unemployment-Data_v3"));
        for bad in ["", "3x", "a/b", "a.b", "..", "é", &"a".repeat(65)] {
            assert!(!is_service_name(bad), "{bad}");
        }
        assert!(is_ncname("consultMAFRequest"));
        assert!(is_ncname("rrn_it.implicit"));
        for bad in ["", "1a", "a b", "a:b", "a/b"] {
            assert!(!is_ncname(bad), "{bad}");
        }
    }

    #[test]
    fn legal_context_rules() {
        assert!(LegalContextRule::None.allows(&"x".repeat(500)));
        assert!(LegalContextRule::free().allows(&"x".repeat(64)));
        assert!(!LegalContextRule::free().allows(&"x".repeat(65)));
        let closed = LegalContextRule::Closed(vec!["a b".into()]);
        assert!(closed.allows("a b"));
        assert!(!closed.allows("A B"));
        assert_eq!(closed.closed_values().map(<[String]>::len), Some(1));
    }
}
