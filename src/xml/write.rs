//! Writing an [`Element`] tree as XML, with escaping and namespace declarations.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::{Element, Node};

impl Element {
    /// Serialise to a string (no XML declaration).
    pub fn to_xml(&self) -> String {
        let mut out = String::new();
        let mut scope = Scope::default();
        self.write_into(&mut out, &mut scope);
        out
    }

    /// Serialise with an XML declaration, as bytes ready to send.
    pub fn to_document(&self) -> Vec<u8> {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        let mut scope = Scope::default();
        self.write_into(&mut out, &mut scope);
        out.into_bytes()
    }

    fn write_into(&self, out: &mut String, scope: &mut Scope) {
        let mark = scope.bindings.len();
        let mut declarations = String::new();
        let qname = match (&self.namespace, &self.prefix) {
            (Some(ns), Some(p)) => {
                if scope.lookup(Some(p)) != Some(ns.as_str()) {
                    let _ = write!(declarations, " xmlns:{p}=\"{}\"", escape_attr(ns));
                    scope.bindings.push((Some(p.clone()), Some(ns.clone())));
                }
                format!("{p}:{}", self.name)
            }
            (Some(ns), None) => {
                if scope.lookup(None) != Some(ns.as_str()) {
                    let _ = write!(declarations, " xmlns=\"{}\"", escape_attr(ns));
                    scope.bindings.push((None, Some(ns.clone())));
                }
                self.name.clone()
            }
            (None, _) => {
                if scope.lookup(None).is_some() {
                    declarations.push_str(" xmlns=\"\"");
                    scope.bindings.push((None, None));
                }
                self.name.clone()
            }
        };
        out.push('<');
        out.push_str(&qname);
        out.push_str(&declarations);
        for (i, a) in self.attributes.iter().enumerate() {
            match &a.namespace {
                Some(ns) => {
                    let p = format!("a{i}");
                    let _ = write!(
                        out,
                        " xmlns:{p}=\"{}\" {p}:{}=\"{}\"",
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
            out.push_str(&qname);
            out.push('>');
        }
        scope.bindings.truncate(mark);
    }
}

#[derive(Default)]
struct Scope {
    bindings: Vec<(Option<String>, Option<String>)>,
}

impl Scope {
    fn lookup(&self, prefix: Option<&String>) -> Option<&str> {
        self.bindings
            .iter()
            .rev()
            .find(|(p, _)| p.as_ref() == prefix)
            .and_then(|(_, ns)| ns.as_deref())
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
