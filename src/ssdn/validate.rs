//! Checks the SSDN request builders share, so that a value the schema refuses is refused
//! before anything is encoded.

use crate::services::RequestError;

/// A card number of exactly `len` digits (`t_SISCardNumber`: 10, `t_IdentityCardNumber`:
/// 12). Spaces, dots and dashes people type are removed. The number is not repeated in
/// the error.
pub(crate) fn card_number(
    service: &'static str,
    field: &'static str,
    value: &str,
    len: usize,
) -> Result<String, RequestError> {
    let digits: String = value
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-'))
        .collect();
    if digits.len() != len || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RequestError::Invalid {
            service: service.into(),
            message: format!("{field} must be {len} digits"),
        });
    }
    Ok(digits)
}

/// A name: not empty, no control characters; whitespace is collapsed as the schema's
/// `xs:whiteSpace value="collapse"` does.
pub(crate) fn name(
    service: &'static str,
    field: &'static str,
    value: &str,
) -> Result<String, RequestError> {
    if value.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err(RequestError::Invalid {
            service: service.into(),
            message: format!("{field} contains control characters"),
        });
    }
    let collapsed = super::read::collapse(value);
    if collapsed.is_empty() {
        return Err(RequestError::Missing {
            service: service.into(),
            field,
        });
    }
    Ok(collapsed)
}

/// An optional name: `None` stays `None`, a blank one is dropped.
pub(crate) fn opt_name(
    service: &'static str,
    field: &'static str,
    value: Option<&str>,
) -> Result<Option<String>, RequestError> {
    match value {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => name(service, field, v).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_and_names() {
        assert_eq!(
            card_number("S", "SIS", "1234 5678-90", 10).unwrap(),
            "1234567890"
        );
        assert!(card_number("S", "SIS", "123456789", 10).is_err());
        assert!(card_number("S", "SIS", "12345678901", 10).is_err());
        assert!(card_number("S", "SIS", "12345678x0", 10).is_err());
        assert_eq!(
            name("S", "LastName", "  VAN   DE  BEEK ").unwrap(),
            "VAN DE BEEK"
        );
        assert!(matches!(
            name("S", "LastName", "  "),
            Err(RequestError::Missing { .. })
        ));
        assert!(name("S", "LastName", "A\u{0}B").is_err());
        assert_eq!(opt_name("S", "FirstName", Some(" ")).unwrap(), None);
        assert_eq!(opt_name("S", "FirstName", None).unwrap(), None);
    }
}
