//! A small, bounded XML tree: the one place that parses and writes XML.
//!
//! Parsing takes any bytes and returns an [`Element`] or an [`XmlError`]; it never panics,
//! refuses DTDs and entity declarations (so no entity expansion, no external fetch), and
//! is bounded by [`Limits`]: input size, nesting depth, node count, attributes and
//! namespace declarations per element. Its cost is linear in the input's size. Namespaces
//! are resolved, so callers match on (namespace, local name) and prefixes do not matter.
//! Documents in UTF-16 or a declared single-byte encoding are transcoded to UTF-8 first
//! ([`parse`]).
//!
//! Writing uses the same tree: build an [`Element`] and call [`Element::to_xml`]. Text and
//! attribute values are escaped; namespace declarations are written where needed.

use std::borrow::Cow;

/// Bounds on what reading a document may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest document accepted, in bytes (default 16 MiB).
    pub max_bytes: usize,
    /// The deepest element nesting accepted (default 128).
    pub max_depth: usize,
    /// The most elements, attributes, namespace declarations and text nodes in one
    /// document (default 1,000,000).
    pub max_nodes: usize,
    /// The most attributes on one element, namespace declarations not included
    /// (default 64; BCSS's schemas use at most a handful).
    pub max_attributes: usize,
    /// The most namespace declarations (`xmlns`, `xmlns:p`) on one element (default 32);
    /// at most [`IN_SCOPE_FACTOR`] times as many may be in scope at once, which bounds
    /// the cost of resolving each name.
    pub max_namespace_declarations: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 * 1024 * 1024,
            max_depth: 128,
            max_nodes: 1_000_000,
            max_attributes: 64,
            max_namespace_declarations: 32,
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
    /// An element with more attributes than [`Limits::max_attributes`].
    #[error("an element has more than {limit} attributes (at byte {position})")]
    TooManyAttributes {
        /// The cap.
        limit: usize,
        /// Where the element starts.
        position: u64,
    },
    /// An element with more namespace declarations than
    /// [`Limits::max_namespace_declarations`], or more than [`IN_SCOPE_FACTOR`] times as
    /// many in scope.
    #[error(
        "too many namespace declarations: more than {limit} on one element, or {} in scope (at byte {position})",
        limit.saturating_mul(IN_SCOPE_FACTOR)
    )]
    TooManyNamespaces {
        /// The per-element cap.
        limit: usize,
        /// Where the element starts.
        position: u64,
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
    /// The bytes are not valid UTF-8 (the document declares no other encoding).
    #[error("invalid UTF-8 near byte {position}")]
    Encoding {
        /// Where.
        position: u64,
    },
    /// The bytes are not valid in the encoding the document declares or starts with.
    #[error("bytes that are not valid {encoding} near byte {position}")]
    Charset {
        /// The encoding, by its WHATWG name (`UTF-16LE`, `windows-1252`...).
        encoding: String,
        /// Where, in the original bytes.
        position: u64,
    },
    /// The document declares (or starts with the byte-order mark of) an encoding this
    /// reader does not know.
    #[error(
        "unsupported character encoding {label:?}; expected UTF-8, UTF-16 or a single-byte encoding such as ISO-8859-1"
    )]
    UnsupportedEncoding {
        /// The encoding as declared (at most 40 characters).
        label: String,
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

impl XmlError {
    /// The byte offset the error is at, when it has one.
    pub fn position(&self) -> Option<u64> {
        match self {
            XmlError::TooDeep { position, .. }
            | XmlError::TooManyAttributes { position, .. }
            | XmlError::TooManyNamespaces { position, .. }
            | XmlError::Doctype { position }
            | XmlError::Entity { position, .. }
            | XmlError::Encoding { position }
            | XmlError::Charset { position, .. }
            | XmlError::UnboundPrefix { position, .. }
            | XmlError::Malformed { position, .. } => Some(*position),
            XmlError::TooLarge { .. }
            | XmlError::TooManyNodes { .. }
            | XmlError::UnsupportedEncoding { .. } => None,
        }
    }

    /// The same error at `position` changed by `to`: for text parsed inside a wrapper,
    /// the offset in the text as given.
    pub(crate) fn map_position(mut self, to: impl FnOnce(u64) -> u64) -> XmlError {
        match &mut self {
            XmlError::TooDeep { position, .. }
            | XmlError::TooManyAttributes { position, .. }
            | XmlError::TooManyNamespaces { position, .. }
            | XmlError::Doctype { position }
            | XmlError::Entity { position, .. }
            | XmlError::Encoding { position }
            | XmlError::Charset { position, .. }
            | XmlError::UnboundPrefix { position, .. }
            | XmlError::Malformed { position, .. } => *position = to(*position),
            XmlError::TooLarge { .. }
            | XmlError::TooManyNodes { .. }
            | XmlError::UnsupportedEncoding { .. } => {}
        }
        self
    }
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
        self.trimmed().into_owned()
    }

    /// The element's text with surrounding whitespace removed, borrowed when it is one
    /// text node (the usual case: nothing is copied).
    pub fn trimmed(&self) -> Cow<'_, str> {
        match self.text() {
            Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
            Cow::Owned(s) if s.trim().len() == s.len() => Cow::Owned(s),
            Cow::Owned(s) => Cow::Owned(s.trim().to_string()),
        }
    }

    /// The trimmed text of the child with this local name, when present and not empty.
    pub fn child_text(&self, local: &str) -> Option<String> {
        self.child(local)
            .map(Element::trimmed)
            .filter(|t| !t.is_empty())
            .map(Cow::into_owned)
    }

    /// An unqualified attribute's value (or a qualified one, by local name).
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.name == local)
            .map(|a| a.value.as_str())
    }
}

mod charset;
mod parse;
mod write;

pub use parse::{IN_SCOPE_FACTOR, parse, parse_str};
pub use write::{escape_attr, escape_text};

#[cfg(test)]
mod tests;
