//! Reading bytes into an [`Element`] tree, bounded by [`Limits`].

use std::borrow::Cow;

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use super::{Attribute, Element, Limits, Node, XmlError};

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
