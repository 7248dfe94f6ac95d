//! The `status` of a common-v3 reply and the `MSG000xx` codes BCSS uses in it and in
//! CBSSFault details.

use std::fmt;

use serde::{Serialize, Serializer};

use super::mask_ssins;
use crate::bounded::{REPLY_TEXT_MAX, bounded};

/// A common-v3 status or reason code (`MSG000xx`).
///
/// Every code BCSS documents has its own variant; any other code is kept, verbatim, in
/// [`StatusCode::Other`] so that nothing BCSS said is dropped.
///
/// ```
/// use bcss::v3::StatusCode;
/// let code = StatusCode::parse("MSG00001");
/// assert_eq!(code, StatusCode::TemporarilyUnavailable);
/// assert!(code.is_retryable());
/// assert_eq!(StatusCode::parse("MSG00999"), StatusCode::Other("MSG00999".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StatusCode {
    /// `MSG00000`: OK.
    Ok,
    /// `MSG00001`: BCSS is temporarily unavailable (retry later).
    TemporarilyUnavailable,
    /// `MSG00002`: communication error with the supplier (retry later).
    SupplierCommunicationError,
    /// `MSG00003`: unexpected internal error.
    UnexpectedInternalError,
    /// `MSG00005`: the SSIN does not exist.
    SsinDoesNotExist,
    /// `MSG00006`: the SSIN has been replaced.
    SsinReplaced,
    /// `MSG00007`: the SSIN has been cancelled.
    SsinCancelled,
    /// `MSG00008`: invalid data.
    InvalidData,
    /// `MSG00011`: invalid SSIN structure.
    InvalidSsinStructure,
    /// `MSG00012`: the SSIN is not integrated for this client.
    SsinNotIntegrated,
    /// `MSG00013`: operation not allowed with this legalContext and these credentials.
    LegalContextNotAllowed,
    /// `MSG00014`: the credentials do not match the customer.
    CredentialsMismatch,
    /// `MSG00015`: authorisation refused.
    AuthorisationRefused,
    /// `MSG00020`: the supplier is unavailable (retry later).
    SupplierUnavailable,
    /// `MSG00100`: success, but the supplier has no data.
    NoDataAtSupplier,
    /// A code this client does not know, kept as BCSS wrote it.
    Other(String),
}

impl StatusCode {
    /// Every code this client knows, in numeric order.
    pub const KNOWN: [StatusCode; 15] = [
        StatusCode::Ok,
        StatusCode::TemporarilyUnavailable,
        StatusCode::SupplierCommunicationError,
        StatusCode::UnexpectedInternalError,
        StatusCode::SsinDoesNotExist,
        StatusCode::SsinReplaced,
        StatusCode::SsinCancelled,
        StatusCode::InvalidData,
        StatusCode::InvalidSsinStructure,
        StatusCode::SsinNotIntegrated,
        StatusCode::LegalContextNotAllowed,
        StatusCode::CredentialsMismatch,
        StatusCode::AuthorisationRefused,
        StatusCode::SupplierUnavailable,
        StatusCode::NoDataAtSupplier,
    ];

    /// Read a code as BCSS wrote it (surrounding whitespace ignored). Never fails: an
    /// unknown code becomes [`StatusCode::Other`].
    pub fn parse(code: &str) -> StatusCode {
        let code = code.trim();
        StatusCode::KNOWN
            .into_iter()
            .find(|k| k.as_str() == code)
            .unwrap_or_else(|| StatusCode::Other(code.to_string()))
    }

    /// The code as BCSS writes it (`MSG00000`...).
    pub fn as_str(&self) -> &str {
        match self {
            StatusCode::Ok => "MSG00000",
            StatusCode::TemporarilyUnavailable => "MSG00001",
            StatusCode::SupplierCommunicationError => "MSG00002",
            StatusCode::UnexpectedInternalError => "MSG00003",
            StatusCode::SsinDoesNotExist => "MSG00005",
            StatusCode::SsinReplaced => "MSG00006",
            StatusCode::SsinCancelled => "MSG00007",
            StatusCode::InvalidData => "MSG00008",
            StatusCode::InvalidSsinStructure => "MSG00011",
            StatusCode::SsinNotIntegrated => "MSG00012",
            StatusCode::LegalContextNotAllowed => "MSG00013",
            StatusCode::CredentialsMismatch => "MSG00014",
            StatusCode::AuthorisationRefused => "MSG00015",
            StatusCode::SupplierUnavailable => "MSG00020",
            StatusCode::NoDataAtSupplier => "MSG00100",
            StatusCode::Other(code) => code,
        }
    }

    /// What the code means, in English.
    pub fn description(&self) -> &'static str {
        match self {
            StatusCode::Ok => "OK",
            StatusCode::TemporarilyUnavailable => "BCSS temporarily unavailable",
            StatusCode::SupplierCommunicationError => "supplier communication error",
            StatusCode::UnexpectedInternalError => "unexpected internal error",
            StatusCode::SsinDoesNotExist => "SSIN does not exist",
            StatusCode::SsinReplaced => "SSIN replaced",
            StatusCode::SsinCancelled => "SSIN cancelled",
            StatusCode::InvalidData => "invalid data",
            StatusCode::InvalidSsinStructure => "invalid SSIN structure",
            StatusCode::SsinNotIntegrated => "SSIN not integrated for this client",
            StatusCode::LegalContextNotAllowed => {
                "operation not allowed with this legalContext and credentials"
            }
            StatusCode::CredentialsMismatch => "credentials do not match the customer",
            StatusCode::AuthorisationRefused => "authorisation refused",
            StatusCode::SupplierUnavailable => "supplier unavailable",
            StatusCode::NoDataAtSupplier => "success, but no data at the supplier",
            StatusCode::Other(_) => "status code unknown to this client",
        }
    }

    /// Whether the same request may succeed later: true only for MSG00001, MSG00002 and
    /// MSG00020.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            StatusCode::TemporarilyUnavailable
                | StatusCode::SupplierCommunicationError
                | StatusCode::SupplierUnavailable
        )
    }

    /// Whether this client knows the code (it is not [`StatusCode::Other`]).
    pub fn is_known(&self) -> bool {
        !matches!(self, StatusCode::Other(_))
    }
}

impl From<&str> for StatusCode {
    fn from(code: &str) -> Self {
        StatusCode::parse(code)
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for StatusCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The global result of a consultation: `status/value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StatusValue {
    /// `DATA_FOUND`.
    DataFound,
    /// `NO_DATA_FOUND`.
    NoDataFound,
    /// `NO_RESULT`: the request could not be answered.
    NoResult,
}

impl StatusValue {
    /// Read the value as BCSS writes it; `None` for anything else.
    pub fn parse(value: &str) -> Option<StatusValue> {
        match value.trim() {
            "DATA_FOUND" => Some(StatusValue::DataFound),
            "NO_DATA_FOUND" => Some(StatusValue::NoDataFound),
            "NO_RESULT" => Some(StatusValue::NoResult),
            _ => None,
        }
    }

    /// The value as BCSS writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusValue::DataFound => "DATA_FOUND",
            StatusValue::NoDataFound => "NO_DATA_FOUND",
            StatusValue::NoResult => "NO_RESULT",
        }
    }
}

impl fmt::Display for StatusValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `fieldName` / `fieldValue` pair that BCSS adds to a status or a fault detail.
///
/// The value may be personal data: `Debug` masks anything that looks like an SSIN;
/// serialisation (for the journal) keeps it in full.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Information {
    /// `fieldName`.
    pub field_name: String,
    /// `fieldValue`, when given.
    pub field_value: Option<String>,
}

impl fmt::Debug for Information {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Information")
            .field("field_name", &self.field_name)
            .field("field_value", &self.field_value.as_deref().map(mask_ssins))
            .finish()
    }
}

/// A reply's `status`.
///
/// The description may name a person: `Debug` and `Display` mask anything that looks like
/// an SSIN; serialisation (for the journal) keeps it in full.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// `value`: DATA_FOUND, NO_DATA_FOUND or NO_RESULT.
    pub value: StatusValue,
    /// `code` (`MSG00000`...).
    pub code: StatusCode,
    /// `description`, when given.
    pub description: Option<String>,
    /// `information*`.
    pub information: Vec<Information>,
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Status")
            .field("value", &self.value)
            .field("code", &self.code)
            .field("description", &self.description.as_deref().map(mask_ssins))
            .field("information", &self.information)
            .finish()
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} ({})",
            self.value,
            self.code,
            self.code.description()
        )?;
        if let Some(d) = &self.description {
            write!(f, ": {}", bounded(&mask_ssins(d), REPLY_TEXT_MAX))?;
        }
        Ok(())
    }
}

/// The severity of a CBSSFault detail.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Severity {
    /// `INFORMATION`.
    Information,
    /// `WARNING`.
    Warning,
    /// `FATAL`.
    Fatal,
    /// Another value, kept as BCSS wrote it.
    Other(String),
}

impl Severity {
    /// Read a severity (never fails).
    pub fn parse(value: &str) -> Severity {
        match value.trim() {
            "INFORMATION" => Severity::Information,
            "WARNING" => Severity::Warning,
            "FATAL" => Severity::Fatal,
            other => Severity::Other(other.to_string()),
        }
    }

    /// The severity as BCSS writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Severity::Information => "INFORMATION",
            Severity::Warning => "WARNING",
            Severity::Fatal => "FATAL",
            Severity::Other(s) => s,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Severity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One `detail` (or, in older versions, `error`) of a CBSSFault.
///
/// The diagnostic may name a person: `Debug` and `Display` mask anything that looks like
/// an SSIN.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct FaultDetail {
    /// `severity`.
    pub severity: Severity,
    /// `reasonCode`.
    pub reason_code: StatusCode,
    /// `diagnostic`: BCSS's explanation.
    pub diagnostic: String,
    /// `authorCode`: who raised it (BCSS or a supplier).
    pub author_code: String,
    /// `information*`.
    pub information: Vec<Information>,
}

impl fmt::Debug for FaultDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultDetail")
            .field("severity", &self.severity)
            .field("reason_code", &self.reason_code)
            .field("diagnostic", &mask_ssins(&self.diagnostic))
            .field("author_code", &self.author_code)
            .field("information", &self.information)
            .finish()
    }
}

impl fmt::Display for FaultDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} ({})",
            self.severity,
            self.reason_code,
            self.reason_code.description()
        )?;
        if !self.diagnostic.is_empty() {
            write!(
                f,
                ": {}",
                bounded(&mask_ssins(&self.diagnostic), REPLY_TEXT_MAX)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_code_round_trips() {
        for code in StatusCode::KNOWN {
            assert_eq!(StatusCode::parse(code.as_str()), code);
            assert!(code.is_known());
            assert!(code.as_str().starts_with("MSG00"));
            assert_ne!(
                code.description(),
                StatusCode::Other(String::new()).description()
            );
        }
        assert_eq!(
            StatusCode::parse("  MSG00100\n"),
            StatusCode::NoDataAtSupplier
        );
    }

    #[test]
    fn only_three_codes_are_retryable() {
        let retryable: Vec<_> = StatusCode::KNOWN
            .iter()
            .filter(|c| c.is_retryable())
            .map(StatusCode::as_str)
            .collect();
        assert_eq!(retryable, ["MSG00001", "MSG00002", "MSG00020"]);
        assert!(!StatusCode::parse("MSG00042").is_retryable());
    }

    #[test]
    fn unknown_code_is_kept() {
        let c = StatusCode::parse("MSG04711");
        assert_eq!(c, StatusCode::Other("MSG04711".to_string()));
        assert_eq!(c.to_string(), "MSG04711");
        assert!(!c.is_known());
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"MSG04711\"");
    }

    #[test]
    fn debug_masks_ssins() {
        let d = FaultDetail {
            severity: Severity::Fatal,
            reason_code: StatusCode::SsinDoesNotExist,
            diagnostic: "SSIN 68070100188 unknown".to_string(),
            author_code: "CBSS".to_string(),
            information: vec![Information {
                field_name: "ssin".to_string(),
                field_value: Some("68070100188".to_string()),
            }],
        };
        let dbg = format!("{d:?}");
        assert!(!dbg.contains("68070100188"), "{dbg}");
        assert!(dbg.contains("680701*****"), "{dbg}");
        assert!(!d.to_string().contains("68070100188"));
        assert!(serde_json::to_string(&d).unwrap().contains("68070100188"));
    }
}
