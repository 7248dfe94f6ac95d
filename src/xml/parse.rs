//! Reading bytes into an [`Element`] tree, bounded by [`Limits`].
//!
//! One pass over quick-xml's events, with as few allocations as the tree allows: each
//! element's children are gathered on one shared stack and moved into a vector of exactly
//! their size when the element ends; whitespace between elements is never copied (it is
//! kept only when an element holds nothing else); namespaces are resolved here, against a
//! small stack of the declarations in scope, so nothing is resolved twice or copied to be
//! resolved.
//!
//! Every loop is bounded by the input or by [`Limits`], so the cost is linear in the
//! document's size: attributes and namespace declarations are counted before they are
//! kept or resolved, and resolving a prefix looks at no more than
//! [`IN_SCOPE_FACTOR`] × [`Limits::max_namespace_declarations`] declarations.

use std::borrow::Cow;

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::PrefixDeclaration;
use quick_xml::reader::Reader;

use super::{Attribute, Element, Limits, Node, XmlError, charset};

/// How many namespace declarations may be in scope at once, as a multiple of the
/// per-element cap [`Limits::max_namespace_declarations`].
pub const IN_SCOPE_FACTOR: usize = 4;

/// The namespace the `xml` prefix is bound to, without a declaration.
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Parse a document into its root element, within `limits`.
///
/// The character encoding is read from the bytes as XML 1.0 (appendix F) says: a
/// byte-order mark (UTF-8 or UTF-16), else the encoding declaration
/// (`<?xml version="1.0" encoding="ISO-8859-1"?>`), else UTF-8. A document in any
/// encoding of the WHATWG Encoding Standard is transcoded to UTF-8 first (ISO-8859-1 is
/// read as its superset windows-1252, as browsers do); positions in errors then count
/// bytes of the transcoded document. Text that is already decoded (the SSDN document
/// inside `xmlString`) goes to [`parse_str`] instead, which ignores any declaration.
///
/// # Errors
/// [`XmlError`]: too large, too deep, too many nodes, attributes or namespace
/// declarations, a DOCTYPE, an undeclared entity, bytes that are not valid in the
/// document's encoding, an encoding this reader does not know, an unbound prefix, or
/// anything not well-formed.
pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Element, XmlError> {
    check_size(bytes.len(), limits)?;
    match charset::to_utf8(bytes)? {
        Cow::Borrowed(utf8) => parse_utf8(utf8, limits),
        Cow::Owned(text) => parse_utf8(&text, limits),
    }
}

/// Parse a document that is already text, within `limits`. An encoding declaration in it
/// is ignored: the characters are decoded already.
///
/// # Errors
/// As [`parse`].
pub fn parse_str(text: &str, limits: &Limits) -> Result<Element, XmlError> {
    check_size(text.len(), limits)?;
    parse_utf8(text.as_bytes(), limits)
}

fn check_size(size: usize, limits: &Limits) -> Result<(), XmlError> {
    if size > limits.max_bytes {
        return Err(XmlError::TooLarge {
            size,
            limit: limits.max_bytes,
        });
    }
    Ok(())
}

fn parse_utf8(bytes: &[u8], limits: &Limits) -> Result<Element, XmlError> {
    let mut reader = Reader::from_reader(bytes);
    {
        let config = reader.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        config.trim_text_start = false;
        config.trim_text_end = false;
    }
    let mut tree = Builder::new(limits, bytes.len());
    loop {
        let position = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| map_error(e, reader.error_position()))?;
        match event {
            Event::Start(start) => tree.start(&start, position, false)?,
            Event::Empty(start) => tree.start(&start, position, true)?,
            Event::End(_) => tree.end(position)?,
            Event::Text(text) => tree.text(text.xml10_content(), position)?,
            Event::CData(cdata) => tree.text(cdata.xml10_content(), position)?,
            Event::GeneralRef(reference) => {
                let text = match reference
                    .resolve_char_ref()
                    .map_err(|e| map_error(e, position))?
                {
                    Some(c) => Cow::Owned(c.to_string()),
                    None => match predefined_entity(&reference) {
                        Some(s) => Cow::Borrowed(s),
                        None => {
                            return Err(XmlError::Entity {
                                name: reference.to_string(),
                                position,
                            });
                        }
                    },
                };
                tree.text(text, position)?;
            }
            Event::DocType(_) => return Err(XmlError::Doctype { position }),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => return tree.finish(position),
        }
    }
}

/// A namespace declaration in scope.
struct Binding {
    /// The prefix (empty for the default namespace).
    prefix: String,
    /// The namespace, or `None` for `xmlns=""` (no default namespace).
    namespace: Option<String>,
}

/// An element being read.
struct Frame<'i> {
    /// The element, without its children.
    element: Element,
    /// Where its children start on [`Builder::children`].
    first_child: usize,
    /// How many bindings were in scope before it.
    scope_len: usize,
    /// Whether it has a child element (whitespace-only text is then not kept).
    has_elements: bool,
    /// Whitespace-only text not yet known to be kept.
    pending: Option<Cow<'i, str>>,
}

struct Builder<'i, 'l> {
    limits: &'l Limits,
    nodes: usize,
    frames: Vec<Frame<'i>>,
    /// The children of every open element, in document order.
    children: Vec<Node>,
    scope: Vec<Binding>,
    root: Option<Element>,
}

impl<'i, 'l> Builder<'i, 'l> {
    fn new(limits: &'l Limits, size: usize) -> Self {
        Builder {
            limits,
            nodes: 0,
            frames: Vec::with_capacity(16),
            // Room for the children of the open elements of a typical reply.
            children: Vec::with_capacity((size / 256).clamp(16, 256)),
            scope: Vec::new(),
            root: None,
        }
    }

    fn count_node(&mut self) -> Result<(), XmlError> {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            return Err(XmlError::TooManyNodes {
                limit: self.limits.max_nodes,
            });
        }
        Ok(())
    }

    fn start(
        &mut self,
        start: &BytesStart<'_>,
        position: u64,
        empty: bool,
    ) -> Result<(), XmlError> {
        if self.root.is_some() {
            return Err(XmlError::Malformed {
                position,
                reason: "content after the root element".to_string(),
            });
        }
        if self.frames.len() >= self.limits.max_depth {
            return Err(XmlError::TooDeep {
                limit: self.limits.max_depth,
                position,
            });
        }
        self.count_node()?;
        let scope_len = self.scope.len();
        let has_attributes = !start.attributes_raw().trim_ascii_start().is_empty();
        let plain = if has_attributes {
            self.declare(start, position)?
        } else {
            0
        };
        let qname = start.name();
        let (local, prefix) = qname.decompose();
        let namespace = self.resolve(prefix.map(|p| p.into_inner()), position)?;
        let attributes = if plain > 0 {
            self.attributes(start, plain, position)?
        } else {
            Vec::new()
        };
        let element = Element {
            namespace,
            name: local.into_inner().to_string(),
            prefix: prefix.map(|p| p.into_inner().to_string()),
            attributes,
            children: Vec::new(),
        };
        if let Some(parent) = self.frames.last_mut() {
            parent.has_elements = true;
            parent.pending = None;
        }
        if empty {
            self.scope.truncate(scope_len);
            self.close(element);
        } else {
            self.frames.push(Frame {
                element,
                first_child: self.children.len(),
                scope_len,
                has_elements: false,
                pending: None,
            });
        }
        Ok(())
    }

    /// Count the attributes of a start tag (quick-xml refuses duplicates in linear
    /// time), bring its namespace declarations into scope, and return how many other
    /// attributes it has. Caps are checked before anything is kept.
    fn declare(&mut self, start: &BytesStart<'_>, position: u64) -> Result<usize, XmlError> {
        let limits = self.limits;
        let mut declarations = 0usize;
        let mut plain = 0usize;
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|e| XmlError::Malformed {
                position,
                reason: e.to_string(),
            })?;
            self.count_node()?;
            let prefix = match attribute.key.as_namespace_binding() {
                None => {
                    plain += 1;
                    if plain > limits.max_attributes {
                        return Err(XmlError::TooManyAttributes {
                            limit: limits.max_attributes,
                            position,
                        });
                    }
                    continue;
                }
                Some(PrefixDeclaration::Default) => "",
                Some(PrefixDeclaration::Named(p)) => p,
            };
            declarations += 1;
            let in_scope = limits
                .max_namespace_declarations
                .saturating_mul(IN_SCOPE_FACTOR);
            if declarations > limits.max_namespace_declarations || self.scope.len() >= in_scope {
                return Err(XmlError::TooManyNamespaces {
                    limit: limits.max_namespace_declarations,
                    position,
                });
            }
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| map_error(e, position))?;
            if prefix == "xmlns" || (prefix == "xml" && value != XML_NS) {
                return Err(XmlError::Malformed {
                    position,
                    reason: format!("the prefix {prefix:?} cannot be declared"),
                });
            }
            self.scope.push(Binding {
                prefix: prefix.to_string(),
                namespace: (!value.is_empty()).then(|| value.into_owned()),
            });
        }
        Ok(plain)
    }

    /// The attributes that are not namespace declarations, resolved (after [`declare`],
    /// since a declaration may follow the attribute that uses it).
    ///
    /// [`declare`]: Builder::declare
    fn attributes(
        &self,
        start: &BytesStart<'_>,
        count: usize,
        position: u64,
    ) -> Result<Vec<Attribute>, XmlError> {
        let mut attributes = Vec::with_capacity(count);
        let mut all = start.attributes();
        // Checked already by `declare`.
        all.with_checks(false);
        for attribute in all {
            let attribute = attribute.map_err(|e| XmlError::Malformed {
                position,
                reason: e.to_string(),
            })?;
            if attribute.key.as_namespace_binding().is_some() {
                continue;
            }
            let (local, prefix) = attribute.key.decompose();
            // Unprefixed attributes are in no namespace, whatever the default namespace.
            let namespace = match prefix {
                Some(p) => self.resolve(Some(p.into_inner()), position)?,
                None => None,
            };
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| map_error(e, position))?;
            attributes.push(Attribute {
                namespace,
                name: local.into_inner().to_string(),
                value: value.into_owned(),
            });
        }
        Ok(attributes)
    }

    /// The namespace of a prefix (`None`: the default namespace).
    fn resolve(&self, prefix: Option<&str>, position: u64) -> Result<Option<String>, XmlError> {
        let wanted = prefix.unwrap_or("");
        if let Some(binding) = self.scope.iter().rev().find(|b| b.prefix == wanted) {
            return match (&binding.namespace, prefix) {
                (Some(ns), _) => Ok(Some(ns.clone())),
                (None, None) => Ok(None),
                (None, Some(p)) => Err(unbound(p, position)),
            };
        }
        match prefix {
            None => Ok(None),
            Some("xml") => Ok(Some(XML_NS.to_string())),
            Some(p) => Err(unbound(p, position)),
        }
    }

    fn end(&mut self, position: u64) -> Result<(), XmlError> {
        let Some(frame) = self.frames.pop() else {
            return Err(XmlError::Malformed {
                position,
                reason: "closing tag without an opening tag".to_string(),
            });
        };
        let mut element = frame.element;
        if let Some(whitespace) = frame.pending {
            // An element that holds only whitespace keeps it.
            self.count_node()?;
            element.children = vec![Node::Text(whitespace.into_owned())];
        } else if self.children.len() > frame.first_child {
            element.children = self.children.drain(frame.first_child..).collect();
        }
        self.scope.truncate(frame.scope_len);
        self.close(element);
        Ok(())
    }

    fn close(&mut self, element: Element) {
        if self.frames.is_empty() {
            self.root = Some(element);
        } else {
            self.children.push(Node::Element(element));
        }
    }

    /// A piece of text: merged into the text just before it, kept aside while it is
    /// only whitespace (dropped if a child element follows), or a new text node.
    fn text(&mut self, piece: Cow<'i, str>, position: u64) -> Result<(), XmlError> {
        let Some(frame) = self.frames.last_mut() else {
            if is_blank(&piece) {
                return Ok(());
            }
            return Err(XmlError::Malformed {
                position,
                reason: "text outside the root element".to_string(),
            });
        };
        if self.children.len() > frame.first_child
            && let Some(Node::Text(last)) = self.children.last_mut()
        {
            last.push_str(&piece);
            return Ok(());
        }
        let blank = is_blank(&piece);
        let text = match frame.pending.take() {
            Some(mut before) => {
                before.to_mut().push_str(&piece);
                if blank && !frame.has_elements {
                    frame.pending = Some(before);
                    return Ok(());
                }
                before.into_owned()
            }
            None if blank => {
                if !frame.has_elements {
                    frame.pending = Some(piece);
                }
                return Ok(());
            }
            None => piece.into_owned(),
        };
        self.count_node()?;
        self.children.push(Node::Text(text));
        Ok(())
    }

    fn finish(self, position: u64) -> Result<Element, XmlError> {
        if let Some(open) = self.frames.last() {
            return Err(XmlError::Malformed {
                position,
                reason: format!("document ends inside <{}> (truncated?)", open.element.name),
            });
        }
        self.root.ok_or(XmlError::Malformed {
            position,
            reason: "no root element".to_string(),
        })
    }
}

/// Whether `text` is only XML whitespace (space, tab, CR, LF), looking no further than
/// its first other character.
fn is_blank(text: &str) -> bool {
    text.bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

fn unbound(prefix: &str, position: u64) -> XmlError {
    XmlError::UnboundPrefix {
        prefix: prefix.to_string(),
        position,
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

fn map_error(e: quick_xml::Error, position: u64) -> XmlError {
    match e {
        quick_xml::Error::Encoding(_) => XmlError::Encoding { position },
        other => XmlError::Malformed {
            position,
            reason: other.to_string(),
        },
    }
}
