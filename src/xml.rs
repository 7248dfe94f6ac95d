//! A small, bounded XML tree: the one place that parses and writes XML.
//!
//! Parsing takes any bytes and returns an [`Element`] or an [`XmlError`]; it never panics,
//! refuses DTDs and entity declarations (so no entity expansion, no external fetch), and
//! is bounded by [`Limits`]: input size, nesting depth and node count. Namespaces are
//! resolved, so callers match on (namespace, local name) and prefixes do not matter.
//!
//! Writing uses the same tree: build an [`Element`] and call [`Element::to_xml`]. Text and
//! attribute values are escaped; namespace declarations are written where needed.

use std::borrow::Cow;
use std::fmt::Write as _;

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// Bounds on what reading a document may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest document accepted, in bytes (default 16 MiB).
    pub max_bytes: usize,
    /// The deepest element nesting accepted (default 128).
    pub max_depth: usize,
    /// The most elements, attributes and text nodes in one document (default 1,000,000).
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 * 1024 * 1024,
            max_depth: 128,
            max_nodes: 1_000_000,
        }
    }
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    /// The document is larger than [`Limits::max_bytes`].
    #[error("document of {size} bytes exceeds the {limit}-byte cap")]
    TooLarge {
        /// The document's size.
        size: usize,
        /// The cap.
        limit: usize,
    },
    /// Elements are nested deeper than [`Limits::max_depth`].
    #[error("elements nested deeper than {limit} levels (at byte {position})")]
    TooDeep {
        /// The cap.
        limit: usize,
        /// Where.
        position: u64,
    },
    /// More nodes than [`Limits::max_nodes`].
    #[error("document holds more than {limit} nodes")]
    TooManyNodes {
        /// The cap.
        limit: usize,
    },
    /// A DOCTYPE declaration: refused, so no entity can be declared or expanded.
    #[error("DOCTYPE declarations are refused (at byte {position})")]
    Doctype {
        /// Where.
        position: u64,
    },
    /// A reference to an entity other than the five predefined ones.
    #[error("reference to undeclared entity &{name}; (at byte {position})")]
    Entity {
        /// The entity name.
        name: String,
        /// Where.
        position: u64,
    },
    /// The bytes are not valid UTF-8.
    #[error("invalid UTF-8 near byte {position}")]
    Encoding {
        /// Where.
        position: u64,
    },
    /// A prefix that no namespace declaration binds.
    #[error("unbound namespace prefix {prefix:?} (at byte {position})")]
    UnboundPrefix {
        /// The prefix.
        prefix: String,
        /// Where.
        position: u64,
    },
    /// The document is not well-formed (including truncated documents).
    #[error("malformed XML at byte {position}: {reason}")]
    Malformed {
        /// Where.
        position: u64,
        /// What is wrong.
        reason: String,
    },
}

/// An attribute. Namespace declarations (`xmlns`, `xmlns:p`) are not kept as attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// The attribute's namespace, when prefixed.
    pub namespace: Option<String>,
    /// The local name.
    pub name: String,
    /// The unescaped value.
    pub value: String,
}

/// A child of an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A child element.
    Element(Element),
    /// Text (CDATA sections are merged into text).
    Text(String),
}

/// An element with its resolved namespace, attributes and children.
///
/// Equality ignores [`Element::prefix`]: two documents that differ only in prefixes and
/// namespace declarations compare equal.
#[derive(Debug, Clone, Default)]
pub struct Element {
    /// The namespace URI, or `None` for an unqualified element.
    pub namespace: Option<String>,
    /// The local name.
    pub name: String,
    /// The prefix it was read with, or to write it with (`None`: default namespace).
    pub prefix: Option<String>,
    /// The attributes, in document order.
    pub attributes: Vec<Attribute>,
    /// The children, in document order. Whitespace-only text between child elements is
    /// not kept.
    pub children: Vec<Node>,
}

impl PartialEq for Element {
    fn eq(&self, other: &Self) -> bool {
        self.namespace == other.namespace
            && self.name == other.name
            && self.attributes == other.attributes
            && self.children == other.children
    }
}

impl Eq for Element {}

impl Element {
    /// An unqualified element.
    pub fn new(name: impl Into<String>) -> Element {
        Element {
            name: name.into(),
            ..Element::default()
        }
    }

    /// An element in `namespace`, written with the default namespace declaration unless a
    /// prefix is set with [`Element::with_prefix`].
    pub fn ns(namespace: impl Into<String>, name: impl Into<String>) -> Element {
        Element {
            namespace: Some(namespace.into()),
            name: name.into(),
            ..Element::default()
        }
    }

    /// Write this element with `prefix`.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Element {
        self.prefix = Some(prefix.into());
        self
    }

    /// Add an unqualified attribute.
    pub fn with_attr(mut self, name: impl Into<String>, value: impl Into<String>) -> Element {
        self.attributes.push(Attribute {
            namespace: None,
            name: name.into(),
            value: value.into(),
        });
        self
    }

    /// Add a child element.
    pub fn with_child(mut self, child: Element) -> Element {
        self.children.push(Node::Element(child));
        self
    }

    /// Add a child element when there is one.
    pub fn with_opt_child(mut self, child: Option<Element>) -> Element {
        if let Some(c) = child {
            self.children.push(Node::Element(c));
        }
        self
    }

    /// Add text.
    pub fn with_text(mut self, text: impl Into<String>) -> Element {
        self.children.push(Node::Text(text.into()));
        self
    }

    /// Add a child element holding only `text`, in the same namespace as `self` (useful for
    /// namespace-qualified schemas such as SSDN's).
    pub fn with_leaf(self, name: &str, text: impl Into<String>) -> Element {
        let child = Element {
            namespace: self.namespace.clone(),
            name: name.to_string(),
            prefix: self.prefix.clone(),
            attributes: Vec::new(),
            children: vec![Node::Text(text.into())],
        };
        self.with_child(child)
    }

    /// [`Element::with_leaf`] when the value is present.
    pub fn with_opt_leaf(self, name: &str, text: Option<impl Into<String>>) -> Element {
        match text {
            Some(t) => self.with_leaf(name, t),
            None => self,
        }
    }

    /// Append a child element.
    pub fn push(&mut self, child: Element) {
        self.children.push(Node::Element(child));
    }

    /// The child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The first child element with this local name, in any namespace.
    pub fn child(&self, local: &str) -> Option<&Element> {
        self.elements().find(|e| e.name == local)
    }

    /// The first child element with this namespace and local name.
    pub fn child_ns(&self, namespace: &str, local: &str) -> Option<&Element> {
        self.elements()
            .find(|e| e.name == local && e.namespace.as_deref() == Some(namespace))
    }

    /// Every child element with this local name, in any namespace.
    pub fn children_named<'a>(&'a self, local: &'a str) -> impl Iterator<Item = &'a Element> {
        self.elements().filter(move |e| e.name == local)
    }

    /// Follow a path of local names from this element: `find(&["a", "b"])` is the first
    /// `b` child of the first `a` child.
    pub fn find(&self, path: &[&str]) -> Option<&Element> {
        let mut here = self;
        for step in path {
            here = here.child(step)?;
        }
        Some(here)
    }

    /// The first descendant (depth first, not `self`) with this local name.
    pub fn descendant(&self, local: &str) -> Option<&Element> {
        for e in self.elements() {
            if e.name == local {
                return Some(e);
            }
            if let Some(found) = e.descendant(local) {
                return Some(found);
            }
        }
        None
    }

    /// The element's own text (its text children concatenated, CDATA included).
    pub fn text(&self) -> Cow<'_, str> {
        let mut texts = self.children.iter().filter_map(|n| match n {
            Node::Text(t) => Some(t.as_str()),
            Node::Element(_) => None,
        });
        match (texts.next(), texts.next()) {
            (None, _) => Cow::Borrowed(""),
            (Some(one), None) => Cow::Borrowed(one),
            (Some(a), Some(b)) => {
                let mut s = String::from(a);
                s.push_str(b);
                for t in texts {
                    s.push_str(t);
                }
                Cow::Owned(s)
            }
        }
    }

    /// The element's text with surrounding whitespace removed.
    pub fn trimmed_text(&self) -> String {
        self.text().trim().to_string()
    }

    /// The trimmed text of the child with this local name, when present and not empty.
    pub fn child_text(&self, local: &str) -> Option<String> {
        self.child(local)
            .map(Element::trimmed_text)
            .filter(|t| !t.is_empty())
    }

    /// An unqualified attribute's value (or a qualified one, by local name).
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.name == local)
            .map(|a| a.value.as_str())
    }

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

/// Parse a document into its root element, within `limits`.
pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Element, XmlError> {
    if bytes.len() > limits.max_bytes {
        return Err(XmlError::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let mut reader = NsReader::from_reader(bytes);
    {
        let config = reader.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        config.trim_text_start = false;
        config.trim_text_end = false;
    }
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut nodes: usize = 0;
    loop {
        let position = reader.buffer_position();
        let (resolved, event) = match reader.read_resolved_event() {
            Ok((r, e)) => (owned_resolve(r), e),
            Err(e) => {
                return Err(map_error(e, reader.error_position()));
            }
        };
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err(XmlError::Malformed {
                    position,
                    reason: "content after the root element".to_string(),
                });
            }
            Event::Start(ref start) | Event::Empty(ref start) => {
                let is_empty = matches!(event, Event::Empty(_));
                if stack.len() >= limits.max_depth {
                    return Err(XmlError::TooDeep {
                        limit: limits.max_depth,
                        position,
                    });
                }
                nodes += 1;
                let namespace = namespace_of(resolved, position)?;
                let name = utf8(start.local_name().into_inner(), position)?.to_string();
                let prefix = match start.name().prefix() {
                    Some(p) => Some(utf8(p.into_inner(), position)?.to_string()),
                    None => None,
                };
                let mut attributes = Vec::new();
                for attr in start.attributes() {
                    let attr = attr.map_err(|e| XmlError::Malformed {
                        position,
                        reason: e.to_string(),
                    })?;
                    let key = attr.key;
                    if key.as_namespace_binding().is_some() {
                        continue;
                    }
                    nodes += 1;
                    if nodes > limits.max_nodes {
                        return Err(XmlError::TooManyNodes {
                            limit: limits.max_nodes,
                        });
                    }
                    let (res, local) = reader.resolve_attribute(key);
                    let namespace = namespace_of(owned_resolve(res), position)?;
                    let value = attr
                        .unescape_value()
                        .map_err(|e| map_error(e, position))?
                        .into_owned();
                    attributes.push(Attribute {
                        namespace,
                        name: utf8(local.into_inner(), position)?.to_string(),
                        value,
                    });
                }
                if nodes > limits.max_nodes {
                    return Err(XmlError::TooManyNodes {
                        limit: limits.max_nodes,
                    });
                }
                let element = Element {
                    namespace,
                    name,
                    prefix,
                    attributes,
                    children: Vec::new(),
                };
                if is_empty {
                    close(element, &mut stack, &mut root);
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => match stack.pop() {
                Some(mut element) => {
                    if element.elements().next().is_some() {
                        element.children.retain(|n| match n {
                            Node::Text(t) => !t.trim().is_empty(),
                            Node::Element(_) => true,
                        });
                    }
                    close(element, &mut stack, &mut root);
                }
                None => {
                    return Err(XmlError::Malformed {
                        position,
                        reason: "closing tag without an opening tag".to_string(),
                    });
                }
            },
            Event::Text(text) => {
                let content = text
                    .xml10_content()
                    .map_err(|_| XmlError::Encoding { position })?;
                push_text(&mut stack, &content, position, &mut nodes, limits)?;
            }
            Event::CData(cdata) => {
                let content = cdata
                    .decode()
                    .map_err(|_| XmlError::Encoding { position })?;
                push_text(&mut stack, &content, position, &mut nodes, limits)?;
            }
            Event::GeneralRef(reference) => {
                let resolved_char = reference
                    .resolve_char_ref()
                    .map_err(|e| map_error(e, position))?;
                let text: Cow<'_, str> = match resolved_char {
                    Some(c) => Cow::Owned(c.to_string()),
                    None => {
                        let name = reference
                            .decode()
                            .map_err(|_| XmlError::Encoding { position })?;
                        match predefined_entity(&name) {
                            Some(s) => Cow::Borrowed(s),
                            None => {
                                return Err(XmlError::Entity {
                                    name: name.into_owned(),
                                    position,
                                });
                            }
                        }
                    }
                };
                push_text(&mut stack, &text, position, &mut nodes, limits)?;
            }
            Event::DocType(_) => return Err(XmlError::Doctype { position }),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => {
                if !stack.is_empty() {
                    return Err(XmlError::Malformed {
                        position,
                        reason: format!(
                            "document ends inside <{}> (truncated?)",
                            stack.last().map(|e| e.name.as_str()).unwrap_or("")
                        ),
                    });
                }
                return root.ok_or(XmlError::Malformed {
                    position,
                    reason: "no root element".to_string(),
                });
            }
        }
    }
}

fn predefined_entity(name: &str) -> Option<&'static str> {
    match name {
        "amp" => Some("&"),
        "lt" => Some("<"),
        "gt" => Some(">"),
        "quot" => Some("\""),
        "apos" => Some("'"),
        _ => None,
    }
}

enum Resolved {
    Unbound,
    Bound(Vec<u8>),
    Unknown(Vec<u8>),
}

fn owned_resolve(r: ResolveResult<'_>) -> Resolved {
    match r {
        ResolveResult::Unbound => Resolved::Unbound,
        ResolveResult::Bound(ns) => Resolved::Bound(ns.into_inner().to_vec()),
        ResolveResult::Unknown(p) => Resolved::Unknown(p),
    }
}

fn namespace_of(r: Resolved, position: u64) -> Result<Option<String>, XmlError> {
    match r {
        Resolved::Unbound => Ok(None),
        Resolved::Bound(ns) => Ok(Some(utf8(&ns, position)?.to_string())),
        Resolved::Unknown(prefix) => Err(XmlError::UnboundPrefix {
            prefix: String::from_utf8_lossy(&prefix).into_owned(),
            position,
        }),
    }
}

fn utf8(bytes: &[u8], position: u64) -> Result<&str, XmlError> {
    std::str::from_utf8(bytes).map_err(|_| XmlError::Encoding { position })
}

fn close(element: Element, stack: &mut [Element], root: &mut Option<Element>) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(Node::Element(element)),
        None => *root = Some(element),
    }
}

fn push_text(
    stack: &mut [Element],
    text: &str,
    position: u64,
    nodes: &mut usize,
    limits: &Limits,
) -> Result<(), XmlError> {
    let Some(parent) = stack.last_mut() else {
        if text.trim().is_empty() {
            return Ok(());
        }
        return Err(XmlError::Malformed {
            position,
            reason: "text outside the root element".to_string(),
        });
    };
    if let Some(Node::Text(last)) = parent.children.last_mut() {
        last.push_str(text);
        return Ok(());
    }
    *nodes += 1;
    if *nodes > limits.max_nodes {
        return Err(XmlError::TooManyNodes {
            limit: limits.max_nodes,
        });
    }
    parent.children.push(Node::Text(text.to_string()));
    Ok(())
}

fn map_error(e: quick_xml::Error, position: u64) -> XmlError {
    match e {
        quick_xml::Error::Encoding(_) => XmlError::Encoding { position },
        other => XmlError::Malformed {
            position,
            reason: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_default(s: &str) -> Result<Element, XmlError> {
        parse(s.as_bytes(), &Limits::default())
    }

    #[test]
    fn namespaces_resolve_and_prefixes_do_not_matter() {
        let a = parse_default(r#"<a:x xmlns:a="urn:n"><a:y k="1">t &amp; u</a:y></a:x>"#).unwrap();
        let b =
            parse_default("<x xmlns=\"urn:n\">\n  <y k=\"1\"><![CDATA[t & u]]></y>\n</x>").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.namespace.as_deref(), Some("urn:n"));
        assert_eq!(a.child("y").unwrap().text(), "t & u");
        assert_eq!(a.child("y").unwrap().attr("k"), Some("1"));
    }

    #[test]
    fn round_trip_through_writer() {
        let doc = Element::ns("urn:outer", "Root")
            .with_prefix("o")
            .with_child(Element::new("plain").with_text("a<b & \"c\""))
            .with_child(
                Element::ns("urn:inner", "In")
                    .with_attr("ok", "YES")
                    .with_leaf("Leaf", "v"),
            );
        let xml = doc.to_xml();
        let again = parse_default(&xml).unwrap();
        assert_eq!(doc, again, "{xml}");
        assert_eq!(
            again.find(&["In", "Leaf"]).unwrap().namespace.as_deref(),
            Some("urn:inner")
        );
        assert_eq!(again.child("plain").unwrap().namespace, None);
    }

    #[test]
    fn unqualified_child_under_default_namespace_is_undeclared() {
        let doc = Element::ns("urn:x", "a").with_child(Element::new("b"));
        let again = parse_default(&doc.to_xml()).unwrap();
        assert_eq!(again.child("b").unwrap().namespace, None);
    }

    #[test]
    fn hostile_documents_are_errors() {
        let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><lolz>&lol2;</lolz>"#;
        assert!(matches!(
            parse_default(laughs),
            Err(XmlError::Doctype { .. })
        ));
        assert!(matches!(
            parse_default("<a>&ext;</a>"),
            Err(XmlError::Entity { .. })
        ));
        assert!(matches!(
            parse_default("<a><b>"),
            Err(XmlError::Malformed { .. })
        ));
        assert!(matches!(
            parse_default("<a></b>"),
            Err(XmlError::Malformed { .. })
        ));
        assert!(matches!(
            parse_default("<p:a/>"),
            Err(XmlError::UnboundPrefix { .. })
        ));
        assert!(matches!(
            parse_default("<a/><b/>"),
            Err(XmlError::Malformed { .. })
        ));
        assert!(matches!(parse_default(""), Err(XmlError::Malformed { .. })));
        assert!(matches!(
            parse(b"<a>\xff\xfe</a>", &Limits::default()),
            Err(XmlError::Encoding { .. })
        ));
        let deep = "<a>".repeat(100_000);
        assert!(matches!(
            parse_default(&deep),
            Err(XmlError::TooDeep { .. })
        ));
        let small = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        assert!(matches!(
            parse(b"<a>0123456789</a>", &small),
            Err(XmlError::TooLarge { .. })
        ));
        let few = Limits {
            max_nodes: 3,
            ..Limits::default()
        };
        assert!(matches!(
            parse(b"<a><b/><b/><b/></a>", &few),
            Err(XmlError::TooManyNodes { .. })
        ));
    }

    #[test]
    fn char_refs_resolve() {
        let e = parse_default("<a>&#233;t&#xE9;</a>").unwrap();
        assert_eq!(e.text(), "été");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse(&bytes, &Limits::default());
        }

        #[test]
        fn mutated_documents_never_panic(pos in 0usize..200, byte in proptest::num::u8::ANY) {
            let base = br#"<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><x a="1">t&amp;<![CDATA[c]]></x></s:Body></s:Envelope>"#;
            let mut v = base.to_vec();
            let p = pos % v.len();
            v[p] = byte;
            let _ = parse(&v, &Limits::default());
        }
    }
}
