//! [`Payload`]: request or reply bytes kept in a record, raw.

use std::cell::RefCell;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use serde::de::Error as _;
use serde::ser::SerializeStruct as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes kept in a record: a request or reply envelope, exactly as sent or received.
///
/// The journal stores them raw, outside the record's JSON, as an *attachment* of the
/// record body (see [`codec`](crate::audit::codec)): nothing is escaped or base64-encoded,
/// so a reply of `n` bytes takes `n` bytes of the record whatever its content. Cloning is
/// cheap (the bytes are shared).
///
/// `Debug` shows only the encoding and the length: a request or reply holds personal data.
///
/// ```
/// use bcss::audit::Payload;
/// let text = Payload::from_bytes(b"<soap:Envelope/>");
/// assert_eq!(text.encoding(), "text");
/// assert_eq!(text.as_text(), Some("<soap:Envelope/>"));
/// let binary = Payload::from_bytes(&[0xff, 0x00]);
/// assert_eq!(binary.encoding(), "binary");
/// assert_eq!(binary.to_bytes(), vec![0xff, 0x00]);
/// assert_eq!(format!("{binary:?}"), "Payload(binary, 2 bytes)");
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Payload {
    bytes: Bytes,
}

impl Payload {
    /// Keep a copy of `bytes`. To keep bytes already owned without copying them, use
    /// `Payload::from(vec)` or `Payload::from(bytes::Bytes)`.
    pub fn from_bytes(bytes: &[u8]) -> Payload {
        Payload {
            bytes: Bytes::copy_from_slice(bytes),
        }
    }

    /// A copy of the bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bytes.to_vec()
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes, shared (no copy).
    pub fn bytes(&self) -> Bytes {
        self.bytes.clone()
    }

    /// The bytes as text, when they are valid UTF-8.
    pub fn as_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.bytes).ok()
    }

    /// The number of bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// `text` when the bytes are valid UTF-8, else `binary`. Informative only: the bytes
    /// are stored the same way either way.
    pub fn encoding(&self) -> &'static str {
        if self.as_text().is_some() {
            "text"
        } else {
            "binary"
        }
    }
}

impl From<Vec<u8>> for Payload {
    fn from(bytes: Vec<u8>) -> Self {
        Payload {
            bytes: Bytes::from(bytes),
        }
    }
}

impl From<Bytes> for Payload {
    fn from(bytes: Bytes) -> Self {
        Payload { bytes }
    }
}

impl From<String> for Payload {
    fn from(text: String) -> Self {
        Payload::from(text.into_bytes())
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Payload({}, {} bytes)", self.encoding(), self.len())
    }
}

/// The attachments of the record being encoded or decoded on this thread, set by the codec
/// around one `serde_json` call. Outside it, a payload serializes inline (see
/// [`Payload`]'s `Serialize`).
enum Scope {
    /// Encoding: each payload serialized is appended here; the JSON names its index.
    Writing(Vec<Bytes>),
    /// Decoding: each payload takes its attachment (once) by the index its JSON names.
    Reading(Vec<Option<Bytes>>),
}

thread_local! {
    static SCOPE: RefCell<Option<Scope>> = const { RefCell::new(None) };
}

/// Run `f` with payloads collected as attachments; returns them in order.
pub(crate) fn collecting<T>(f: impl FnOnce() -> T) -> (T, Vec<Bytes>) {
    let _reset = ScopeGuard::enter(Scope::Writing(Vec::new()));
    let out = f();
    let attachments = match SCOPE.with(|s| s.borrow_mut().take()) {
        Some(Scope::Writing(v)) => v,
        _ => Vec::new(),
    };
    (out, attachments)
}

/// Run `f` with `attachments` available to the payloads it deserializes; returns how many
/// were not taken (a record must use each of its attachments exactly once).
pub(crate) fn providing<T>(attachments: Vec<Bytes>, f: impl FnOnce() -> T) -> (T, usize) {
    let _reset = ScopeGuard::enter(Scope::Reading(attachments.into_iter().map(Some).collect()));
    let out = f();
    let unused = match SCOPE.with(|s| s.borrow_mut().take()) {
        Some(Scope::Reading(v)) => v.iter().filter(|a| a.is_some()).count(),
        _ => 0,
    };
    (out, unused)
}

/// Clears the scope when dropped (also when the serde call panicked).
struct ScopeGuard;

impl ScopeGuard {
    fn enter(scope: Scope) -> ScopeGuard {
        SCOPE.with(|s| *s.borrow_mut() = Some(scope));
        ScopeGuard
    }
}

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        SCOPE.with(|s| *s.borrow_mut() = None);
    }
}

/// In the journal (inside the codec): `{"attachment": i, "len": n, "encoding": "text" |
/// "binary"}`, the bytes being attachment `i` of the body. Anywhere else (a record turned
/// into JSON by an application): self-contained, `{"encoding": "text", "data": "..."}` or
/// `{"encoding": "base64", "data": "..."}`.
impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let index = SCOPE.with(|s| match &mut *s.borrow_mut() {
            Some(Scope::Writing(attachments)) => {
                attachments.push(self.bytes.clone());
                Some(attachments.len() - 1)
            }
            _ => None,
        });
        match index {
            Some(index) => {
                let mut st = serializer.serialize_struct("Payload", 3)?;
                st.serialize_field("attachment", &index)?;
                st.serialize_field("len", &self.len())?;
                st.serialize_field("encoding", self.encoding())?;
                st.end()
            }
            None => {
                let mut st = serializer.serialize_struct("Payload", 2)?;
                match self.as_text() {
                    Some(text) => {
                        st.serialize_field("encoding", "text")?;
                        st.serialize_field("data", text)?;
                    }
                    None => {
                        st.serialize_field("encoding", "base64")?;
                        st.serialize_field("data", &BASE64.encode(&self.bytes))?;
                    }
                }
                st.end()
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredPayload {
    #[serde(default)]
    attachment: Option<usize>,
    #[serde(default)]
    len: Option<u64>,
    encoding: String,
    #[serde(default)]
    data: Option<String>,
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stored = StoredPayload::deserialize(deserializer)?;
        match (stored.attachment, stored.data) {
            (Some(index), None) => {
                let taken = SCOPE.with(|s| match &mut *s.borrow_mut() {
                    Some(Scope::Reading(attachments)) => {
                        attachments.get_mut(index).map(Option::take)
                    }
                    _ => None,
                });
                let bytes = match taken {
                    Some(Some(bytes)) => bytes,
                    Some(None) => {
                        return Err(D::Error::custom(format!(
                            "attachment {index} is used twice"
                        )));
                    }
                    None => {
                        return Err(D::Error::custom(format!(
                            "the record has no attachment {index}"
                        )));
                    }
                };
                if stored.len != Some(bytes.len() as u64) {
                    return Err(D::Error::custom(format!(
                        "attachment {index} is {} bytes but its reference says {:?}",
                        bytes.len(),
                        stored.len
                    )));
                }
                Ok(Payload { bytes })
            }
            (None, Some(data)) => match stored.encoding.as_str() {
                "text" => Ok(Payload::from(data)),
                "base64" => BASE64
                    .decode(data)
                    .map(Payload::from)
                    .map_err(|e| D::Error::custom(format!("payload is not valid base64: {e}"))),
                other => Err(D::Error::custom(format!(
                    "unknown inline payload encoding {other:?}"
                ))),
            },
            _ => Err(D::Error::custom(
                "a payload names either an attachment or inline data",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_json_round_trips_text_and_binary() {
        for p in [
            Payload::from_bytes("héllo \"x\"\n".as_bytes()),
            Payload::from_bytes(&[0, 0xff, 0xfe]),
        ] {
            let json = serde_json::to_string(&p).unwrap();
            assert!(!json.contains("attachment"), "{json}");
            let back: Payload = serde_json::from_str(&json).unwrap();
            assert_eq!(back, p);
        }
    }

    #[test]
    fn scoped_json_names_attachments() {
        let p = Payload::from_bytes(b"<x/>");
        let (json, attachments) = collecting(|| serde_json::to_string(&p).unwrap());
        assert_eq!(json, r#"{"attachment":0,"len":4,"encoding":"text"}"#);
        assert_eq!(attachments, vec![Bytes::from_static(b"<x/>")]);
        let (back, unused) = providing(attachments, || {
            serde_json::from_str::<Payload>(&json).unwrap()
        });
        assert_eq!((back, unused), (p, 0));
        // Outside the scope the attachment cannot be found.
        assert!(serde_json::from_str::<Payload>(&json).is_err());
    }
}
