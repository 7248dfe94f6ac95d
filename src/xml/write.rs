//! Writing an [`Element`] tree as XML, with escaping and namespace declarations.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::{Element, Node};

impl Element {
    /// Serialise to a string (no XML declaration).
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(INITIAL_CAPACITY);
        self.write_into(&mut out, &mut Scope::default());
        out
    }

    /// Serialise with an XML declaration, as bytes ready to send.
    pub fn to_document(&self) -> Vec<u8> {
        let mut out = String::with_capacity(INITIAL_CAPACITY);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        self.write_into(&mut out, &mut Scope::default());
        out.into_bytes()
    }

    /// Write this element. The qualified name is written where it is needed (no copy) and
    /// the scope borrows prefixes and namespaces from the tree.
    fn write_into<'a>(&'a self, out: &mut String, scope: &mut Scope<'a>) {
        let mark = scope.bindings.len();
        let prefix = match (&self.namespace, &self.prefix) {
            (Some(_), Some(p)) => Some(p.as_str()),
            _ => None,
        };
        out.push('<');
        push_qname(out, prefix, &self.name);
        match (&self.namespace, &self.prefix) {
            (Some(ns), Some(p)) => {
                if scope.lookup(Some(p)) != Some(ns.as_str()) {
                    let _ = write!(out, " xmlns:{p}=\"{}\"", escape_attr(ns));
                    scope.bindings.push((Some(p), Some(ns)));
                }
            }
            (Some(ns), None) => {
                if scope.lookup(None) != Some(ns.as_str()) {
                    let _ = write!(out, " xmlns=\"{}\"", escape_attr(ns));
                    scope.bindings.push((None, Some(ns)));
                }
            }
            (None, _) => {
                if scope.lookup(None).is_some() {
                    out.push_str(" xmlns=\"\"");
                    scope.bindings.push((None, None));
                }
            }
        }
        for (i, a) in self.attributes.iter().enumerate() {
            match &a.namespace {
                Some(ns) => {
                    let _ = write!(
                        out,
                        " xmlns:a{i}=\"{}\" a{i}:{}=\"{}\"",
                        escape_attr(ns),
                        a.name,
                        escape_attr(&a.value)
                    );
                }
                None => {
                    let _ = write!(out, " {}=\"{}\"", a.name, escape_attr(&a.value));
                }
            }
        }
        if self.children.is_empty() {
            out.push_str("/>");
        } else {
            out.push('>');
            for child in &self.children {
                match child {
                    Node::Element(e) => e.write_into(out, scope),
                    Node::Text(t) => out.push_str(&escape_text(t)),
                }
            }
            out.push_str("</");
            push_qname(out, prefix, &self.name);
            out.push('>');
        }
        scope.bindings.truncate(mark);
    }
}

/// What a request envelope usually needs: one allocation, no regrowth.
const INITIAL_CAPACITY: usize = 2048;

/// `prefix:name`, or `name`.
fn push_qname(out: &mut String, prefix: Option<&str>, name: &str) {
    if let Some(p) = prefix {
        out.push_str(p);
        out.push(':');
    }
    out.push_str(name);
}

/// The namespace bindings in force: (prefix, namespace), innermost last.
#[derive(Default)]
struct Scope<'a> {
    bindings: Vec<(Option<&'a str>, Option<&'a str>)>,
}

impl Scope<'_> {
    fn lookup(&self, prefix: Option<&str>) -> Option<&str> {
        self.bindings
            .iter()
            .rev()
            .find(|(p, _)| *p == prefix)
            .and_then(|(_, ns)| *ns)
    }
}

/// Escape text content (`&`, `<`, `>`).
pub fn escape_text(s: &str) -> Cow<'_, str> {
    quick_xml::escape::partial_escape(s)
}

/// Escape an attribute value (`&`, `<`, `>`, `"`, `'`).
pub fn escape_attr(s: &str) -> Cow<'_, str> {
    quick_xml::escape::escape(s)
}
