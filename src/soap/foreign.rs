//! Telling what a reply that is not a SOAP 1.1 envelope is, so that the error names it:
//! an HTML page (a proxy's or web server's error page), a MIME multipart body
//! (multipart/related: MTOM/XOP or SOAP with attachments), or compressed bytes whose
//! `Content-Encoding` was not undone. Only the first bytes are looked at.

use std::fmt;

use crate::xml::Element;

/// How far into a reply its kind is looked for.
const WINDOW: usize = 4096;

/// The longest title quoted in an error.
const TITLE_MAX: usize = 80;

/// What a reply that is not a SOAP envelope turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Foreign {
    /// An HTML page, with its `<title>` when it has one (at most 80 characters,
    /// 11-digit numbers masked).
    Html {
        /// The page's title.
        title: Option<String>,
    },
    /// A MIME multipart body (`multipart/related`: MTOM/XOP or SOAP with attachments);
    /// BCSS services answer with a plain SOAP envelope.
    Multipart {
        /// The `Content-Type` of its first part, when it has one.
        first_part: Option<String>,
    },
    /// Compressed bytes (`gzip` or `zlib`) that were not decompressed.
    Compressed {
        /// The format recognised.
        format: &'static str,
    },
}

impl fmt::Display for Foreign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Foreign::Html { title: Some(t) } => write!(f, "an HTML page titled {t:?}"),
            Foreign::Html { title: None } => f.write_str("an HTML page"),
            Foreign::Multipart { first_part } => {
                f.write_str("a MIME multipart body (multipart/related")?;
                if let Some(t) = first_part {
                    write!(f, ", first part {t}")?;
                }
                f.write_str(")")
            }
            Foreign::Compressed { format } => write!(
                f,
                "{format}-compressed bytes (a Content-Encoding that was not undone)"
            ),
        }
    }
}

/// What `bytes` are, when their first bytes tell.
pub(crate) fn sniff(bytes: &[u8]) -> Option<Foreign> {
    match bytes {
        [0x1F, 0x8B, ..] => return Some(Foreign::Compressed { format: "gzip" }),
        [0x78, 0x01 | 0x5E | 0x9C | 0xDA, ..] => {
            return Some(Foreign::Compressed { format: "zlib" });
        }
        _ => {}
    }
    let head = &bytes[..bytes.len().min(WINDOW)];
    let start = head
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(head)
        .trim_ascii_start();
    if start.starts_with(b"--") {
        let first_part = header_value(start, b"content-type:");
        if first_part.is_some() || start.windows(2).any(|w| w == b"\r\n") {
            return Some(Foreign::Multipart { first_part });
        }
    }
    let lower = start.to_ascii_lowercase();
    let html = lower.starts_with(b"<!doctype html")
        || lower.starts_with(b"<html")
        || find(&lower, b"<html").is_some() && find(&lower, b"<body").is_some();
    html.then(|| Foreign::Html {
        title: title_in(start, &lower),
    })
}

/// An HTML root element (`<html>`, in any namespace), read as XML.
pub(crate) fn html_root(root: &Element) -> Option<Foreign> {
    root.name
        .eq_ignore_ascii_case("html")
        .then(|| Foreign::Html {
            title: root
                .descendant("title")
                .map(|t| clean_title(&t.text()))
                .filter(|t| !t.is_empty()),
        })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The value of a MIME header in the first part's head.
fn header_value(part: &[u8], name: &[u8]) -> Option<String> {
    let lower = part.to_ascii_lowercase();
    let at = find(&lower, name)? + name.len();
    let rest = &part[at..];
    let end = rest
        .iter()
        .position(|b| matches!(b, b'\r' | b'\n'))
        .unwrap_or(rest.len());
    let value = String::from_utf8_lossy(rest[..end].trim_ascii());
    (!value.is_empty()).then(|| value.chars().take(TITLE_MAX).collect())
}

fn title_in(text: &[u8], lower: &[u8]) -> Option<String> {
    let open = find(lower, b"<title")?;
    let start = open + lower[open..].iter().position(|b| *b == b'>')? + 1;
    let end = start + find(&lower[start..], b"</title")?;
    let title = clean_title(&String::from_utf8_lossy(&text[start..end]));
    (!title.is_empty()).then_some(title)
}

/// Whitespace collapsed, at most [`TITLE_MAX`] characters, SSIN-shaped numbers masked.
fn clean_title(raw: &str) -> String {
    let collapsed: String = raw
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(TITLE_MAX)
        .collect();
    crate::ids::mask_ssins_in(&collapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_pages() {
        let page = b"\r\n<!DOCTYPE html>\n<html><head><title>\n 502  Bad Gateway </title></head>";
        assert_eq!(
            sniff(page),
            Some(Foreign::Html {
                title: Some("502 Bad Gateway".to_string())
            })
        );
        assert_eq!(
            sniff(b"<HTML><BODY>down</BODY></HTML>"),
            Some(Foreign::Html { title: None })
        );
        assert_eq!(
            sniff(b"<?xml version='1.0'?><html><body>x</body></html>"),
            Some(Foreign::Html { title: None })
        );
        assert_eq!(sniff(b"<Envelope/>"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn multipart_and_compressed() {
        let mime = b"--uuid:1234\r\nContent-Type: application/xop+xml; type=\"text/xml\"\r\n\r\n<soap:Envelope/>\r\n--uuid:1234--";
        assert_eq!(
            sniff(mime),
            Some(Foreign::Multipart {
                first_part: Some("application/xop+xml; type=\"text/xml\"".to_string())
            })
        );
        assert_eq!(
            sniff(&[0x1F, 0x8B, 8, 0]),
            Some(Foreign::Compressed { format: "gzip" })
        );
        assert!(
            Foreign::Html {
                title: Some("x".into())
            }
            .to_string()
            .contains("HTML page titled \"x\"")
        );
    }
}
