//! Which character encoding a document's bytes are in, and transcoding to UTF-8.
//!
//! As XML 1.0 appendix F says: a byte-order mark decides; without one, the first bytes
//! tell UTF-16 (`<?` as two 16-bit units) from an ASCII-compatible encoding, whose name is
//! then read from the encoding declaration; without a declaration, UTF-8. The decoding
//! itself is encoding_rs's (the WHATWG Encoding Standard), which maps labels such as
//! `ISO-8859-1`, `latin1` or `US-ASCII` to windows-1252, as browsers do.
//!
//! A UTF-8 document is returned as it is, borrowed: the common case costs a look at its
//! first bytes.

use std::borrow::Cow;

use encoding_rs::{DecoderResult, Encoding, UTF_8, UTF_16BE, UTF_16LE};

use super::XmlError;

/// How far into the document the encoding declaration is looked for.
const DECLARATION_WINDOW: usize = 512;

/// The document as UTF-8: borrowed when it is UTF-8 already (a UTF-8 byte-order mark is
/// left for the reader to skip), else transcoded.
pub(super) fn to_utf8(bytes: &[u8]) -> Result<Cow<'_, [u8]>, XmlError> {
    let (encoding, skip) = match detect(bytes)? {
        None => return Ok(Cow::Borrowed(bytes)),
        Some(found) => found,
    };
    decode(encoding, &bytes[skip..], skip).map(|text| Cow::Owned(text.into_bytes()))
}

/// The encoding of a document that is not UTF-8, and how many bytes of byte-order mark
/// to skip; `None` for UTF-8.
fn detect(bytes: &[u8]) -> Result<Option<(&'static Encoding, usize)>, XmlError> {
    match bytes {
        [0xEF, 0xBB, 0xBF, ..] => Ok(None),
        [0xFF, 0xFE, 0x00, 0x00, ..] | [0x00, 0x00, 0xFE, 0xFF, ..] => Err(unsupported("UTF-32")),
        [0xFF, 0xFE, ..] => Ok(Some((UTF_16LE, 2))),
        [0xFE, 0xFF, ..] => Ok(Some((UTF_16BE, 2))),
        [b'<', 0x00, b'?', 0x00, ..] => Ok(Some((UTF_16LE, 0))),
        [0x00, b'<', 0x00, b'?', ..] => Ok(Some((UTF_16BE, 0))),
        [0x00, 0x00, 0x00, b'<', ..] | [b'<', 0x00, 0x00, 0x00, ..] => Err(unsupported("UTF-32")),
        [0x4C, 0x6F, 0xA7, 0x94, ..] => Err(unsupported("EBCDIC")),
        _ => declared(bytes),
    }
}

/// The encoding named by the declaration of an ASCII-compatible document, when it is
/// not UTF-8.
fn declared(bytes: &[u8]) -> Result<Option<(&'static Encoding, usize)>, XmlError> {
    let Some(label) = declaration_encoding(bytes) else {
        return Ok(None);
    };
    match Encoding::for_label(label) {
        // A UTF-16 declaration on bytes that are not UTF-16 (no mark, `<?` in single
        // bytes) is a leftover of a transcoding: the bytes themselves are the authority.
        Some(e) if e == UTF_8 || e == UTF_16LE || e == UTF_16BE => Ok(None),
        Some(e) => Ok(Some((e, 0))),
        None => Err(unsupported(&String::from_utf8_lossy(label))),
    }
}

/// The value of `encoding` in an XML declaration at the very start of `bytes`.
fn declaration_encoding(bytes: &[u8]) -> Option<&[u8]> {
    let window = &bytes[..bytes.len().min(DECLARATION_WINDOW)];
    let rest = window.strip_prefix(b"<?xml")?;
    if !rest.first().is_some_and(u8::is_ascii_whitespace) {
        return None;
    }
    let end = rest.windows(2).position(|w| w == b"?>")?;
    let declaration = &rest[..end];
    let at = declaration
        .windows(b"encoding".len())
        .position(|w| w == b"encoding")?;
    let after = declaration[at + b"encoding".len()..].trim_ascii_start();
    let after = after.strip_prefix(b"=")?.trim_ascii_start();
    let quote = *after.first().filter(|q| matches!(q, b'"' | b'\''))?;
    let value = &after[1..];
    let close = value.iter().position(|b| *b == quote)?;
    Some(value[..close].trim_ascii())
}

fn unsupported(label: &str) -> XmlError {
    XmlError::UnsupportedEncoding {
        label: label.chars().take(40).collect(),
    }
}

/// Decode `bytes` (which start `offset` bytes into the document) from `encoding`,
/// refusing malformed sequences rather than replacing them.
fn decode(encoding: &'static Encoding, bytes: &[u8], offset: usize) -> Result<String, XmlError> {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let invalid = |at: usize| XmlError::Charset {
        encoding: encoding.name().to_string(),
        position: (offset + at) as u64,
    };
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .ok_or_else(|| invalid(0))?;
    let mut text = String::with_capacity(capacity);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut text, true);
    match result {
        DecoderResult::InputEmpty => Ok(text),
        DecoderResult::Malformed(bad, _) => Err(invalid(read.saturating_sub(usize::from(bad)))),
        DecoderResult::OutputFull => Err(invalid(read)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        for unit in s.encode_utf16() {
            out.extend_from_slice(&unit.to_le_bytes());
        }
        out
    }

    #[test]
    fn utf8_is_borrowed() {
        let doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>é</a>".as_bytes();
        assert!(matches!(to_utf8(doc), Ok(Cow::Borrowed(_))));
        assert!(matches!(to_utf8(b"<a/>"), Ok(Cow::Borrowed(_))));
        assert!(matches!(to_utf8(b""), Ok(Cow::Borrowed(_))));
        // A UTF-16 declaration on single-byte text is not believed.
        let stale = b"<?xml version='1.0' encoding='UTF-16'?><a/>";
        assert!(matches!(to_utf8(stale), Ok(Cow::Borrowed(_))));
    }

    #[test]
    fn utf16_with_and_without_a_mark() {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>Ærø</a>";
        for bom in [true, false] {
            let bytes = utf16le(text, bom);
            let out = to_utf8(&bytes).unwrap();
            assert_eq!(std::str::from_utf8(&out).unwrap(), text);
        }
        let mut be = vec![0xFE, 0xFF];
        for unit in "<a>é</a>".encode_utf16() {
            be.extend_from_slice(&unit.to_be_bytes());
        }
        assert_eq!(&*to_utf8(&be).unwrap(), "<a>é</a>".as_bytes());
    }

    #[test]
    fn declared_single_byte_encodings() {
        let latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>Li\xe8ge \x80</a>";
        let out = to_utf8(latin1).unwrap();
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>Liège €</a>"
        );
        let cp1252 = b"<?xml version='1.0' encoding = 'windows-1252' ?><a>\x93x\x94</a>";
        assert!(
            std::str::from_utf8(&to_utf8(cp1252).unwrap())
                .unwrap()
                .ends_with("<a>\u{201c}x\u{201d}</a>")
        );
    }

    #[test]
    fn unknown_and_broken_encodings_are_errors() {
        let unknown = b"<?xml version=\"1.0\" encoding=\"x-klingon\"?><a/>";
        assert!(matches!(
            to_utf8(unknown),
            Err(XmlError::UnsupportedEncoding { label }) if label == "x-klingon"
        ));
        assert!(matches!(
            to_utf8(&[0xFF, 0xFE, 0, 0, b'<', 0, 0, 0]),
            Err(XmlError::UnsupportedEncoding { .. })
        ));
        // An unpaired surrogate in UTF-16.
        let mut broken = utf16le("<a>", true);
        broken.extend_from_slice(&[0x00, 0xD8, b'x', 0x00]);
        assert!(matches!(
            to_utf8(&broken),
            Err(XmlError::Charset { encoding, .. }) if encoding == "UTF-16LE"
        ));
    }
}
