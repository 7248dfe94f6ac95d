//! How a reply is classified in the journal: the outcome kinds, and the rule that a reply
//! outside 2xx is never a success (issue 12, item 6).

use crate::error::{Error, ErrorKind};
use crate::services::{Decoded, Outcome};
use crate::ssdn::SsdnError;
use crate::v3::V3Error;

/// A reply whose HTTP status is outside 2xx is never a success. A SOAP fault that came
/// with 500 (as SOAP 1.1 sends every fault) is read as the fault it is, BCSS business error
/// or not; anything else becomes [`Outcome::HttpError`] and [`ErrorKind::HttpStatus`],
/// naming the status and saying what the body held, even a well-formed success.
pub(super) fn never_a_success<T>(status: u16, decoded: Decoded<T>) -> Decoded<T> {
    if (200..300).contains(&status) || (status == 500 && is_soap_fault(&decoded)) {
        return decoded;
    }
    let body = match &decoded.result {
        Ok(_) => format!(
            "the body is a well-formed reply ({})",
            outcome_parts(&decoded.outcome).0
        ),
        Err(e) => match e.kind() {
            ErrorKind::V3(V3Error::HttpStatus { reason, .. }) => {
                format!("the body is not a SOAP reply ({reason})")
            }
            ErrorKind::Ssdn(SsdnError::HttpStatus { cause, .. }) => {
                format!("the body is not a SOAP envelope ({cause})")
            }
            _ => format!("the body says: {e}"),
        },
    };
    Decoded {
        stamp: decoded.stamp,
        outcome: Outcome::HttpError { status },
        result: Err(Error::from(ErrorKind::HttpStatus { status, body })),
    }
}

/// Whether a decoded reply is a SOAP fault: a CBSSFault (a BCSS business error) or another.
fn is_soap_fault<T>(decoded: &Decoded<T>) -> bool {
    matches!(decoded.outcome, Outcome::SoapFault { .. })
        || decoded
            .result
            .as_ref()
            .err()
            .is_some_and(|e| matches!(e.kind(), ErrorKind::V3(V3Error::Fault { .. })))
}

/// The journal's name and code for an outcome: `ok`, `warning`, `no_data`,
/// `business_error`, `soap_fault`, `undecodable`, `http_error`, `transport_error` (a code
/// that is empty is none).
pub(super) fn outcome_parts(outcome: &Outcome) -> (&'static str, Option<String>) {
    let (kind, code) = match outcome {
        Outcome::Ok => ("ok", None),
        Outcome::Warning { code } => ("warning", Some(code)),
        Outcome::NoData { code } => ("no_data", Some(code)),
        Outcome::BusinessError { code } => ("business_error", Some(code)),
        Outcome::SoapFault { code } => ("soap_fault", Some(code)),
        Outcome::Undecodable { .. } => ("undecodable", None),
        Outcome::HttpError { .. } => ("http_error", None),
        Outcome::TransportError { .. } => ("transport_error", None),
    };
    (kind, code.filter(|c| !c.is_empty()).cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_kind_is_a_status_a_query_can_name() {
        let code = || "C".to_string();
        for outcome in [
            Outcome::Ok,
            Outcome::Warning { code: code() },
            Outcome::NoData { code: code() },
            Outcome::BusinessError { code: code() },
            Outcome::SoapFault { code: code() },
            Outcome::Undecodable {
                reason: String::new(),
            },
            Outcome::HttpError { status: 500 },
            Outcome::TransportError {
                reason: String::new(),
            },
        ] {
            let (kind, _) = outcome_parts(&outcome);
            assert!(crate::audit::Exchange::STATUSES.contains(&kind), "{kind}");
        }
    }
    use crate::services::{BcssStamp, ServiceReply};

    fn ok() -> Decoded<()> {
        Decoded {
            stamp: BcssStamp::default(),
            outcome: Outcome::Ok,
            result: Ok(ServiceReply {
                data: (),
                warnings: Vec::new(),
            }),
        }
    }

    #[test]
    fn outside_2xx_only_a_fault_with_500_is_read() {
        assert_eq!(never_a_success(200, ok()).outcome, Outcome::Ok);
        assert_eq!(never_a_success(204, ok()).outcome, Outcome::Ok);
        for status in [301, 404, 500, 503] {
            let d = never_a_success(status, ok());
            assert_eq!(d.outcome, Outcome::HttpError { status });
            let e = d.result.unwrap_err();
            assert!(e.to_string().contains(&format!("HTTP {status}")), "{e}");
            assert!(e.to_string().contains("well-formed reply (ok)"), "{e}");
        }
        let fault = |status| {
            never_a_success(
                status,
                Decoded::<()> {
                    stamp: BcssStamp::default(),
                    outcome: Outcome::SoapFault {
                        code: "soapenv:Server".into(),
                    },
                    result: Err(ErrorKind::Config("x".into()).into()),
                },
            )
            .outcome
        };
        assert!(matches!(fault(500), Outcome::SoapFault { .. }));
        assert_eq!(fault(502), Outcome::HttpError { status: 502 });
    }
}
