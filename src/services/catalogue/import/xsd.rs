//! Just enough XML Schema to describe a common-v3 request: whether its type carries
//! `informationCustomer` and `legalContext`, the values its `legalContext` type allows, and
//! which of its elements hold an SSIN.
//!
//! Schemas are read from local files only (`xsd:import`/`xsd:include` with a relative
//! `schemaLocation`); nothing is fetched. Names are matched by local name: BCSS's type
//! names are unique within one service's schemas.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::xml::{self, Element, Limits};

/// The XML Schema namespace.
pub(super) const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema";

/// The most schema files one import reads.
const MAX_FILES: usize = 256;
/// The deepest element nesting followed when looking for subjects.
const MAX_DEPTH: usize = 12;

/// A global element declaration.
#[derive(Debug, Clone)]
pub(super) struct GlobalElement {
    /// The target namespace of the schema that declares it.
    pub namespace: Option<String>,
    /// The element itself (its `type` attribute or inline type).
    pub element: Element,
}

/// Every schema read for one WSDL: global elements and named types, by local name.
#[derive(Debug, Default)]
pub(super) struct Schemas {
    pub elements: BTreeMap<String, GlobalElement>,
    complex_types: BTreeMap<String, Element>,
    simple_types: BTreeMap<String, Element>,
    read: BTreeSet<PathBuf>,
    /// Schema locations that could not be read, with why.
    pub missing: Vec<String>,
}

fn is_xsd(e: &Element, local: &str) -> bool {
    e.name == local && e.namespace.as_deref() == Some(XSD_NS)
}

/// The local part of a QName (`common:SsinType` → `SsinType`).
pub(super) fn local(qname: &str) -> &str {
    qname.rsplit(':').next().unwrap_or(qname)
}

impl Schemas {
    /// Add a schema element (inline in a WSDL's `types`, or a file's root) found in the
    /// file at `base`, following its imports and includes.
    pub fn add(&mut self, schema: &Element, base: &Path) {
        let namespace = schema.attr("targetNamespace").map(str::to_string);
        for child in schema.elements() {
            if child.namespace.as_deref() != Some(XSD_NS) {
                continue;
            }
            let Some(name) = child.attr("name") else {
                if matches!(child.name.as_str(), "import" | "include")
                    && let Some(location) = child.attr("schemaLocation")
                {
                    self.follow(location, base);
                }
                continue;
            };
            match child.name.as_str() {
                "element" => {
                    self.elements.insert(
                        name.to_string(),
                        GlobalElement {
                            namespace: namespace.clone(),
                            element: child.clone(),
                        },
                    );
                }
                "complexType" => {
                    self.complex_types.insert(name.to_string(), child.clone());
                }
                "simpleType" => {
                    self.simple_types.insert(name.to_string(), child.clone());
                }
                _ => {}
            }
        }
    }

    fn follow(&mut self, location: &str, base: &Path) {
        if location.contains("://") {
            self.missing.push(format!(
                "{location} (not fetched: bcss reads local files only; save it beside the WSDL)"
            ));
            return;
        }
        let path = base.parent().unwrap_or(Path::new(".")).join(location);
        let key = path.canonicalize().unwrap_or_else(|_| path.clone());
        if self.read.contains(&key) {
            return;
        }
        if self.read.len() >= MAX_FILES {
            self.missing.push(format!(
                "{} (more than {MAX_FILES} schema files)",
                path.display()
            ));
            return;
        }
        self.read.insert(key);
        let limits = Limits::default();
        let root = super::read_bounded(&path, limits.max_bytes)
            .and_then(|bytes| xml::parse(&bytes, &limits).map_err(|e| e.to_string()));
        match root {
            Ok(root) if is_xsd(&root, "schema") => self.add(&root, &path),
            Ok(root) => self.missing.push(format!(
                "{} (its root is {}, not an xsd:schema)",
                path.display(),
                root.name
            )),
            Err(e) => self.missing.push(format!("{}: {e}", path.display())),
        }
    }

    /// The type definition of an element: inline, or the named complex or simple type.
    fn type_of<'a>(&'a self, element: &'a Element) -> Option<&'a Element> {
        element
            .elements()
            .find(|c| is_xsd(c, "complexType") || is_xsd(c, "simpleType"))
            .or_else(|| {
                let name = local(element.attr("type")?);
                self.complex_types
                    .get(name)
                    .or_else(|| self.simple_types.get(name))
            })
    }

    /// The element declarations a complex type's content holds, in order, through
    /// `complexContent` extensions and restrictions, sequences, choices and `all`. Base
    /// types that were not found are added to `unresolved`.
    fn content<'a>(
        &'a self,
        complex: &'a Element,
        depth: usize,
        out: &mut Vec<&'a Element>,
        unresolved: &mut Vec<String>,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        for child in complex.elements() {
            if child.namespace.as_deref() != Some(XSD_NS) {
                continue;
            }
            match child.name.as_str() {
                "element" => out.push(child),
                "sequence" | "choice" | "all" | "complexContent" => {
                    self.content(child, depth + 1, out, unresolved)
                }
                "extension" | "restriction" => {
                    if let Some(base) = child.attr("base") {
                        match self.complex_types.get(local(base)) {
                            Some(definition) => {
                                self.content(definition, depth + 1, out, unresolved)
                            }
                            None if local(base) != "anyType" => {
                                unresolved.push(base.to_string());
                            }
                            None => {}
                        }
                    }
                    self.content(child, depth + 1, out, unresolved);
                }
                _ => {}
            }
        }
    }

    /// What the request element `name` says about the header and the subjects, or `None`
    /// when its declaration or type was not found.
    pub fn describe_request(&self, name: &str) -> Option<RequestShape> {
        let global = self.elements.get(name)?;
        let complex = self.type_of(&global.element)?;
        let mut children = Vec::new();
        let mut unresolved = Vec::new();
        self.content(complex, 0, &mut children, &mut unresolved);
        let named = |n: &str| children.iter().find(|c| c.attr("name") == Some(n));
        let information_customer = named("informationCustomer").is_some();
        let legal_context = named("legalContext").map(|lc| self.legal_context_values(lc));
        let mut subjects = Vec::new();
        for child in &children {
            let Some(child_name) = child.attr("name") else {
                continue;
            };
            if matches!(
                child_name,
                "informationCustomer" | "informationCBSS" | "legalContext"
            ) {
                continue;
            }
            self.ssin_paths(child, child_name.to_string(), 0, &mut subjects);
        }
        Some(RequestShape {
            information_customer,
            legal_context,
            subjects,
            unresolved,
        })
    }

    /// The enumeration of a `legalContext` element's type: `Some(values)` for a closed
    /// list, `None` for free text.
    fn legal_context_values(&self, element: &Element) -> LegalContextShape {
        let Some(simple) = self.type_of(element) else {
            return LegalContextShape::Unknown;
        };
        let mut values = Vec::new();
        let mut max_length = None;
        for restriction in simple.elements().filter(|e| is_xsd(e, "restriction")) {
            for facet in restriction.elements() {
                if is_xsd(facet, "enumeration")
                    && let Some(v) = facet.attr("value")
                {
                    values.push(v.to_string());
                }
                if is_xsd(facet, "maxLength") {
                    max_length = facet.attr("value").and_then(|v| v.parse().ok());
                }
            }
        }
        if values.is_empty() {
            LegalContextShape::Free { max_length }
        } else {
            LegalContextShape::Closed(values)
        }
    }

    /// Paths (from `path`) of the elements under `element` whose type is an SSIN type.
    fn ssin_paths(&self, element: &Element, path: String, depth: usize, out: &mut Vec<String>) {
        if depth > MAX_DEPTH {
            return;
        }
        let type_name = element.attr("type").map(local).unwrap_or_default();
        if type_name.to_ascii_lowercase().contains("ssin") {
            out.push(path);
            return;
        }
        let Some(definition) = self.type_of(element) else {
            return;
        };
        if !is_xsd(definition, "complexType") {
            return;
        }
        let mut children = Vec::new();
        self.content(definition, 0, &mut children, &mut Vec::new());
        for child in children {
            if let Some(name) = child.attr("name") {
                self.ssin_paths(child, format!("{path}/{name}"), depth + 1, out);
            }
        }
    }
}

/// What a request element's type says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RequestShape {
    /// It holds `informationCustomer`.
    pub information_customer: bool,
    /// Its `legalContext`, if it has one.
    pub legal_context: Option<LegalContextShape>,
    /// The paths of its elements of an SSIN type.
    pub subjects: Vec<String>,
    /// Base types of the request type that were not found (their content is unknown).
    pub unresolved: Vec<String>,
}

/// What a `legalContext` element's type allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum LegalContextShape {
    /// Free text, with the type's `maxLength` when it has one.
    Free {
        /// The `maxLength` facet.
        max_length: Option<usize>,
    },
    /// Only these values.
    Closed(Vec<String>),
    /// The type was not found.
    Unknown,
}
