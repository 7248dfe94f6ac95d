//! Reading typed values out of an SSDN document, with errors that name the element.
//!
//! SSDN schemas are namespace-qualified, so every lookup names the namespace: an element
//! in the wrong namespace counts as missing. Unknown extra elements are ignored. Text is
//! whitespace-collapsed, as the schemas' `xs:whiteSpace value="collapse"` says.

use std::borrow::Cow;
use std::str::FromStr;

use chrono::NaiveDate;

use super::error::SsdnError;
use super::types::{Gender, IncompleteDate, Origin, parse_xs_date};
use crate::ids::Ssin;
use crate::xml::Element;

/// An element being read, with the namespace its children are expected in.
#[derive(Clone, Copy)]
pub(crate) struct In<'a> {
    /// The element.
    pub e: &'a Element,
    ns: &'a str,
}

/// Trim and collapse runs of whitespace to one space.
pub(crate) fn collapse(s: &str) -> String {
    collapsed(s).into_owned()
}

/// [`collapse`], borrowing when `s` is collapsed already (the usual case).
fn collapsed(s: &str) -> Cow<'_, str> {
    let t = s.trim();
    let mut previous_space = false;
    let clean = t.bytes().all(|b| {
        let doubled = b == b' ' && previous_space;
        let ok = !(doubled || matches!(b, b'\t' | b'\n' | b'\r' | 0x0B | 0x0C));
        previous_space = b == b' ';
        ok
    });
    if clean && (t.is_ascii() || t.chars().all(|c| c.is_ascii() || !c.is_whitespace())) {
        return Cow::Borrowed(t);
    }
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    Cow::Owned(out)
}

impl<'a> In<'a> {
    /// Read `e`, whose children are in `ns`.
    pub fn new(e: &'a Element, ns: &'a str) -> In<'a> {
        In { e, ns }
    }

    /// The same element, with its children expected in `ns` (for an element declared in
    /// one schema with a type from another: its children are in the type's namespace).
    pub fn with_ns(self, ns: &'a str) -> In<'a> {
        In { e: self.e, ns }
    }

    fn path(&self, name: &str) -> String {
        format!("{}/{}", self.e.name, name)
    }

    /// The first child `name` in this reader's namespace.
    pub fn child(&self, name: &str) -> Option<In<'a>> {
        self.child_in(self.ns, name)
    }

    /// The first child `name` in namespace `ns`; its own children are read in `ns` too.
    pub fn child_in(&self, ns: &'a str, name: &str) -> Option<In<'a>> {
        self.e.child_ns(ns, name).map(|e| In { e, ns })
    }

    /// The child `name`, which the schema requires.
    pub fn req(&self, name: &str) -> Result<In<'a>, SsdnError> {
        self.child(name).ok_or_else(|| SsdnError::Missing {
            element: self.path(name),
        })
    }

    /// Every child `name` in this reader's namespace.
    pub fn all(&self, name: &'a str) -> impl Iterator<Item = In<'a>> + 'a {
        self.all_in(self.ns, name)
    }

    /// Every child `name` in namespace `ns`; their own children are read in `ns` too.
    pub fn all_in(&self, ns: &'a str, name: &'a str) -> impl Iterator<Item = In<'a>> + 'a {
        self.e
            .elements()
            .filter(move |c| c.name == name && c.namespace.as_deref() == Some(ns))
            .map(move |e| In { e, ns })
    }

    /// This element's own text, collapsed.
    pub fn own_text(&self) -> String {
        collapse(&self.e.text())
    }

    /// The collapsed text of child `name`, when present and not empty.
    pub fn text(&self, name: &str) -> Option<String> {
        self.value(name).map(Cow::into_owned)
    }

    /// [`In::text`], borrowed when nothing had to be collapsed.
    fn value(&self, name: &str) -> Option<Cow<'a, str>> {
        let child = self.e.child_ns(self.ns, name)?;
        let text = match child.text() {
            Cow::Borrowed(t) => collapsed(t),
            Cow::Owned(t) => Cow::Owned(collapse(&t)),
        };
        (!text.is_empty()).then_some(text)
    }

    /// The collapsed text of child `name`, which the schema requires.
    pub fn req_text(&self, name: &str) -> Result<String, SsdnError> {
        self.text(name).ok_or_else(|| SsdnError::Missing {
            element: self.path(name),
        })
    }

    /// An attribute, collapsed, when present and not empty.
    pub fn attr(&self, name: &str) -> Option<String> {
        self.e.attr(name).map(collapse).filter(|t| !t.is_empty())
    }

    fn invalid(&self, name: &str, reason: impl Into<String>) -> SsdnError {
        SsdnError::Invalid {
            element: self.path(name),
            reason: reason.into(),
        }
    }

    /// Child `name` as a number, when present.
    pub fn number<T: FromStr>(&self, name: &str) -> Result<Option<T>, SsdnError> {
        match self.value(name) {
            None => Ok(None),
            Some(t) => t
                .parse::<T>()
                .map(Some)
                .map_err(|_| self.invalid(name, format!("{t:?} is not a number in range"))),
        }
    }

    /// Child `name` as a number, which the schema requires.
    pub fn req_number<T: FromStr>(&self, name: &str) -> Result<T, SsdnError> {
        self.number(name)?.ok_or_else(|| SsdnError::Missing {
            element: self.path(name),
        })
    }

    /// Child `name` as an SSIN, which the schema requires. The value is not repeated in
    /// the error: it is personal data.
    pub fn ssin(&self, name: &str) -> Result<Ssin, SsdnError> {
        let t = self.value(name).ok_or_else(|| SsdnError::Missing {
            element: self.path(name),
        })?;
        Ssin::new(&t).map_err(|e| self.invalid(name, format!("not a valid SSIN ({e})")))
    }

    /// Child `name` as an SSIN, when present.
    pub fn opt_ssin(&self, name: &str) -> Result<Option<Ssin>, SsdnError> {
        match self.child(name) {
            Some(c) if !c.own_text().is_empty() => self.ssin(name).map(Some),
            _ => Ok(None),
        }
    }

    /// Child `name` as a possibly incomplete date, when present (month and day may lack
    /// their leading zero).
    pub fn incomplete_date(&self, name: &str) -> Result<Option<IncompleteDate>, SsdnError> {
        match self.value(name) {
            None => Ok(None),
            Some(t) => IncompleteDate::parse_received(&t)
                .map(Some)
                .map_err(|e| self.invalid(name, e.reason)),
        }
    }

    /// Child `name` as a possibly incomplete date, which the schema requires.
    pub fn req_incomplete_date(&self, name: &str) -> Result<IncompleteDate, SsdnError> {
        self.incomplete_date(name)?
            .ok_or_else(|| SsdnError::Missing {
                element: self.path(name),
            })
    }

    /// Child `name` (in namespace `ns`) as an `xs:date`, when present.
    pub fn date_in(&self, ns: &'a str, name: &str) -> Result<Option<NaiveDate>, SsdnError> {
        match self.child_in(ns, name).map(|c| c.own_text()) {
            None => Ok(None),
            Some(t) if t.is_empty() => Ok(None),
            Some(t) => parse_xs_date(&t)
                .map(Some)
                .ok_or_else(|| self.invalid(name, format!("{t:?} is not a date (yyyy-mm-dd)"))),
        }
    }

    /// Child `name` as a gender code, when present.
    pub fn gender(&self, name: &str) -> Result<Option<Gender>, SsdnError> {
        match self.value(name) {
            None => Ok(None),
            Some(t) => Gender::from_code(&t)
                .map(Some)
                .ok_or_else(|| self.invalid(name, format!("{t:?} is not a gender code 0, 1 or 2"))),
        }
    }

    /// Child `name` as a boolean, when present.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, SsdnError> {
        match self.value(name).as_deref() {
            None => Ok(None),
            Some("true" | "1") => Ok(Some(true)),
            Some("false" | "0") => Ok(Some(false)),
            Some(other) => Err(self.invalid(name, format!("{other:?} is not a boolean"))),
        }
    }

    /// The `origin` attribute.
    pub fn origin(&self) -> Option<Origin> {
        self.attr("origin").map(|v| Origin::parse(&v))
    }

    /// The `modificationDate` attribute, when present and valid (an invalid one is an
    /// error).
    pub fn modification_date(&self) -> Result<Option<IncompleteDate>, SsdnError> {
        match self.attr("modificationDate") {
            None => Ok(None),
            Some(v) => IncompleteDate::parse_received(&v).map(Some).map_err(
                |e: super::types::InvalidDate| SsdnError::Invalid {
                    element: format!("{}/@modificationDate", self.e.name),
                    reason: e.reason.to_string(),
                },
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapsing_borrows_what_is_collapsed_already() {
        assert!(matches!(
            collapsed(" Marc Émile "),
            Cow::Borrowed("Marc Émile")
        ));
        for (raw, expected) in [
            ("Marc   Émile", "Marc Émile"),
            ("a\tb", "a b"),
            ("a\nb", "a b"),
            ("a\u{a0}b", "a b"),
            ("a\u{b}b", "a b"),
            ("\n  x  \n", "x"),
        ] {
            let out = collapsed(raw);
            assert_eq!(out, expected, "{raw:?}");
            assert_eq!(collapse(raw), expected);
        }
        assert_eq!(collapsed("   "), "");
    }
}
