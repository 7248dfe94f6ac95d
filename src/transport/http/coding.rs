//! Undoing a reply's `Content-Encoding` (RFC 9110, section 8.4): gzip and deflate,
//! bounded by the reply cap after decompression.
//!
//! bcss sends `Accept-Encoding: identity`, so BCSS answers uncompressed; a proxy on the
//! way may still compress. Any other coding (br, zstd, compress...) is refused by name.

use std::io::Read;

use flate2::read::{DeflateDecoder, MultiGzDecoder, ZlibDecoder};

/// A content coding bcss can undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    /// `gzip` or `x-gzip` (RFC 1952).
    Gzip,
    /// `deflate`: zlib (RFC 1950) as the HTTP specification says, or the raw deflate
    /// stream (RFC 1951) that some servers send instead.
    Deflate,
}

/// Why a body could not be decoded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CodingError {
    /// The header names a coding bcss does not undo.
    Unsupported(String),
    /// Decompressed, the body is longer than the cap.
    TooLarge,
    /// The body is not valid in its coding.
    Corrupt(String),
}

/// The codings a `Content-Encoding` header lists, in the order they were applied
/// (`identity` left out).
pub(crate) fn codings(header: &str) -> Result<Vec<Coding>, CodingError> {
    header
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("identity"))
        .map(|c| {
            if c.eq_ignore_ascii_case("gzip") || c.eq_ignore_ascii_case("x-gzip") {
                Ok(Coding::Gzip)
            } else if c.eq_ignore_ascii_case("deflate") {
                Ok(Coding::Deflate)
            } else {
                Err(CodingError::Unsupported(c.chars().take(40).collect()))
            }
        })
        .collect()
}

/// Undo `codings` (last applied first), never holding more than `limit` decoded bytes.
pub(crate) fn decode(
    mut body: Vec<u8>,
    codings: &[Coding],
    limit: usize,
) -> Result<Vec<u8>, CodingError> {
    for coding in codings.iter().rev() {
        body = match coding {
            Coding::Gzip => read_capped(MultiGzDecoder::new(&body[..]), limit),
            Coding::Deflate if is_zlib(&body) => read_capped(ZlibDecoder::new(&body[..]), limit),
            Coding::Deflate => read_capped(DeflateDecoder::new(&body[..]), limit),
        }?;
    }
    Ok(body)
}

/// Whether `body` starts with a zlib header (RFC 1950: method 8, check bits).
fn is_zlib(body: &[u8]) -> bool {
    match body {
        [cmf, flg, ..] => cmf & 0x0F == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

fn read_capped(decoder: impl Read, limit: usize) -> Result<Vec<u8>, CodingError> {
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    decoder
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| CodingError::Corrupt(e.to_string()))?;
    if out.len() > limit {
        return Err(CodingError::TooLarge);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn header_values() {
        assert_eq!(codings("gzip"), Ok(vec![Coding::Gzip]));
        assert_eq!(codings(" X-GZIP , identity"), Ok(vec![Coding::Gzip]));
        assert_eq!(
            codings("deflate, gzip"),
            Ok(vec![Coding::Deflate, Coding::Gzip])
        );
        assert_eq!(codings("identity"), Ok(vec![]));
        assert_eq!(
            codings("gzip, br"),
            Err(CodingError::Unsupported("br".to_string()))
        );
    }

    #[test]
    fn gzip_and_both_deflates_decode() {
        let text = b"<Envelope>".repeat(100);
        assert_eq!(decode(gzip(&text), &[Coding::Gzip], 10_000).unwrap(), text);
        let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(&text).unwrap();
        let zlib = z.finish().unwrap();
        assert_eq!(decode(zlib, &[Coding::Deflate], 10_000).unwrap(), text);
        let mut r = DeflateEncoder::new(Vec::new(), Compression::default());
        r.write_all(&text).unwrap();
        let raw = r.finish().unwrap();
        assert_eq!(decode(raw, &[Coding::Deflate], 10_000).unwrap(), text);
        // Applied in order deflate then gzip: undone gzip first.
        let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(&text).unwrap();
        let both = gzip(&z.finish().unwrap());
        assert_eq!(
            decode(both, &[Coding::Deflate, Coding::Gzip], 10_000).unwrap(),
            text
        );
    }

    #[test]
    fn the_cap_applies_after_decompression() {
        let bomb = gzip(&vec![b'a'; 1_000_000]);
        assert!(bomb.len() < 10_000);
        assert_eq!(
            decode(bomb.clone(), &[Coding::Gzip], 999_999),
            Err(CodingError::TooLarge)
        );
        assert_eq!(
            decode(bomb, &[Coding::Gzip], 1_000_000).unwrap().len(),
            1_000_000
        );
        assert!(matches!(
            decode(b"not gzip".to_vec(), &[Coding::Gzip], 100),
            Err(CodingError::Corrupt(_))
        ));
    }
}
