//! Diagnostics (`FILE:line:col: message`) and the helpers that build them: byte offsets to
//! 1-based line and column, and "did you mean" suggestions for misspelt keys.

use std::fmt;
use std::ops::Range;

use serde::Serialize;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Severity {
    /// The manifest is refused.
    Error,
    /// The manifest loads, but something deserves a look.
    Warning,
}

/// One problem found in a manifest, at a 1-based line and column.
///
/// `Display` gives `FILE:line:col: message` for an error and
/// `FILE:line:col: warning: message` for a warning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file name, as given to the loader.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Turns byte offsets of one source text into line and column, and collects diagnostics.
pub(crate) struct Reporter<'a> {
    file: &'a str,
    /// Byte offset of the start of every line.
    line_starts: Vec<usize>,
    text: &'a str,
    /// Diagnostics with the byte offset they were reported at, for sorting.
    found: Vec<(usize, Diagnostic)>,
}

impl<'a> Reporter<'a> {
    pub(crate) fn new(file: &'a str, text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Reporter {
            file,
            line_starts,
            text,
            found: Vec::new(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset. Offsets past the end or
    /// inside a character are clamped to the nearest valid position.
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line_index = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts.get(line_index).copied().unwrap_or(0);
        let mut end = offset;
        while end > start && !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let column = self.text.get(start..end).map_or(0, |s| s.chars().count()) + 1;
        (line_index + 1, column)
    }

    fn push(&mut self, span: &Range<usize>, severity: Severity, message: String) {
        let (line, column) = self.line_col(span.start);
        self.found.push((
            span.start,
            Diagnostic {
                file: self.file.to_string(),
                line,
                column,
                severity,
                message,
            },
        ));
    }

    /// Report an error at the start of `span`.
    pub(crate) fn error(&mut self, span: &Range<usize>, message: impl Into<String>) {
        self.push(span, Severity::Error, message.into());
    }

    /// Report a warning at the start of `span`.
    pub(crate) fn warning(&mut self, span: &Range<usize>, message: impl Into<String>) {
        self.push(span, Severity::Warning, message.into());
    }

    /// Whether any error was reported.
    pub(crate) fn has_errors(&self) -> bool {
        self.found
            .iter()
            .any(|(_, d)| d.severity == Severity::Error)
    }

    /// The errors and the warnings, each in source order.
    pub(crate) fn finish(mut self) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
        self.found.sort_by_key(|(offset, _)| *offset);
        self.found
            .into_iter()
            .map(|(_, d)| d)
            .partition(|d| d.severity == Severity::Error)
    }
}

/// The number of single-character edits (insert, delete, substitute) between two strings,
/// ASCII case folded.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// The closest candidate to `word`, if it is close enough to be a likely typo: within a
/// third of the candidate's length (at least 1, at most 3 edits), or the same ignoring
/// case, `_` and `-`.
pub(crate) fn did_you_mean<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    if word.len() > 64 {
        return None;
    }
    let squash = |s: &str| {
        s.chars()
            .filter(|c| !matches!(c, '_' | '-'))
            .map(|c| c.to_ascii_lowercase())
            .collect::<String>()
    };
    let squashed = squash(word);
    if let Some(same) = candidates.iter().find(|c| squash(c) == squashed) {
        return Some(same);
    }
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= (c.chars().count() / 3).clamp(1, 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `did you mean 'x'?` or nothing, ready to append to a message.
pub(crate) fn suggestion(word: &str, candidates: &[&str]) -> String {
    did_you_mean(word, candidates)
        .map(|c| format!(" (did you mean '{c}'?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let text = "ab\nc\u{e9}d\n\nx";
        let r = Reporter::new("f.toml", text);
        assert_eq!(r.line_col(0), (1, 1));
        assert_eq!(r.line_col(1), (1, 2));
        assert_eq!(r.line_col(3), (2, 1));
        // 'd' is after the two-byte 'é'.
        assert_eq!(r.line_col(6), (2, 3));
        assert_eq!(r.line_col(8), (3, 1));
        assert_eq!(r.line_col(9), (4, 1));
        assert_eq!(r.line_col(1000), (4, 2));
        // Inside the 'é': clamped to its start.
        assert_eq!(r.line_col(5), (2, 2));
    }

    #[test]
    fn diagnostics_come_out_sorted_and_formatted() {
        let text = "a\nb\n";
        let mut r = Reporter::new("m.toml", text);
        r.error(&(2..3), "second");
        r.warning(&(0..1), "first");
        assert!(r.has_errors());
        let (errors, warnings) = r.finish();
        assert_eq!(errors[0].to_string(), "m.toml:2:1: second");
        assert_eq!(warnings[0].to_string(), "m.toml:1:1: warning: first");
    }

    #[test]
    fn suggestions_catch_typos_only() {
        let keys = ["valid_until", "valid_from", "purpose", "id"];
        assert_eq!(did_you_mean("valid_untill", &keys), Some("valid_until"));
        assert_eq!(did_you_mean("purpse", &keys), Some("purpose"));
        assert_eq!(did_you_mean("validFrom", &keys), Some("valid_from"));
        assert_eq!(did_you_mean("colour", &keys), None);
        assert_eq!(did_you_mean("ix", &keys), Some("id"));
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
