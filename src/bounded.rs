//! Bounding text that comes from a reply before it goes into an error message or a journal
//! record's JSON part. A reply under the reply limit may carry a 16 MiB `faultstring` or
//! `description`; a message or a classification record keeps its start, then a marker
//! with the full length. Nothing is lost: the raw reply is in the call's outcome record.

use std::borrow::Cow;
use std::fmt;

/// The most bytes of one reply text (a `faultstring`, a `description`, a diagnostic)
/// quoted in an error message.
pub(crate) const REPLY_TEXT_MAX: usize = 4 * 1024;

/// The most bytes of a whole error message.
pub(crate) const MESSAGE_MAX: usize = 16 * 1024;

/// The most bytes of a short reply value (a code, a ticket, a timestamp) in a journal
/// record.
pub(crate) const REPLY_VALUE_MAX: usize = 256;

/// `text` when it is at most `max` bytes; else its first `max` bytes (cut at a character
/// boundary) and a marker giving its full length.
pub(crate) fn bounded(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let mut out = head(text, max).to_string();
    out.push_str(&marker(text.len()));
    Cow::Owned(out)
}

/// The first `max` bytes of `text`, cut at a character boundary.
fn head(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn marker(total: usize) -> String {
    format!(
        "… [truncated: {total} bytes in all; the whole reply is kept in the journal's outcome record]"
    )
}

/// A [`fmt::Write`] that keeps the first `max` bytes written and counts the rest: formats
/// a message of any length in bounded memory.
pub(crate) struct BoundedWriter {
    kept: String,
    max: usize,
    total: usize,
}

impl BoundedWriter {
    /// A writer keeping at most `max` bytes.
    pub(crate) fn new(max: usize) -> Self {
        BoundedWriter {
            kept: String::new(),
            max,
            total: 0,
        }
    }

    /// What was kept, with the marker when something was cut.
    pub(crate) fn finish(mut self) -> String {
        if self.total > self.kept.len() {
            self.kept.push_str(&marker(self.total));
        }
        self.kept
    }
}

impl fmt::Write for BoundedWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.total = self.total.saturating_add(s.len());
        let room = self.max.saturating_sub(self.kept.len());
        if room > 0 {
            self.kept.push_str(head(s, room));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;

    use super::*;

    #[test]
    fn short_text_is_kept_and_long_text_is_cut_at_a_character_with_its_length() {
        assert!(matches!(
            bounded("MSG00100", 256),
            Cow::Borrowed("MSG00100")
        ));
        let long = "é".repeat(3000); // 6000 bytes
        let cut = bounded(&long, 4001);
        assert!(cut.starts_with(&"é".repeat(2000)));
        assert!(!cut.starts_with(&"é".repeat(2001)));
        assert!(cut.ends_with("[truncated: 6000 bytes in all; the whole reply is kept in the journal's outcome record]"));
    }

    #[test]
    fn the_writer_keeps_the_start_and_counts_everything() {
        let mut w = BoundedWriter::new(10);
        let code = "Server";
        write!(w, "fault {code}: {}", "x".repeat(1_000_000)).unwrap();
        let text = w.finish();
        assert!(text.starts_with("fault Serv…"), "{text}");
        assert!(text.contains("1000014 bytes in all"), "{text}");
        let mut w = BoundedWriter::new(100);
        write!(w, "short").unwrap();
        assert_eq!(w.finish(), "short");
    }
}
