//! Reading common-v3 replies: `informationCBSS`, `status`, the CBSSFault inside a SOAP
//! fault, and [`decode`], which maps a whole reply to a [`Decoded`] with its outcome.

use crate::services::{BcssStamp, Decoded, Outcome, ServiceReply, Warning};
use crate::soap::{self, Body, Fault, Limits, SoapError};
use crate::xml::Element;

use super::V3Error;
use super::status::{FaultDetail, Information, Severity, Status, StatusCode, StatusValue};

/// What one operation answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expect<'a> {
    /// The interface namespace of the reply's root element.
    pub namespace: &'a str,
    /// The operation (for errors), e.g. `retrieveTI`.
    pub operation: &'a str,
    /// The reply's root element, e.g. `retrieveTIGroupsResponse`.
    pub response: &'a str,
    /// Whether the reply carries a `status` (TestConnection's does not).
    pub has_status: bool,
}

/// A CBSSFault found in a SOAP fault's detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CbssFault {
    /// The fault element's local name, e.g. `retrieveTIGroupsFault`.
    pub element: String,
    /// Its `informationCBSS`.
    pub information_cbss: BcssStamp,
    /// Its `detail` (or older `error`) elements, in order.
    pub details: Vec<FaultDetail>,
}

/// Read an `informationCBSS` block (lenient: each part is kept when present).
pub fn read_information_cbss(e: &Element) -> BcssStamp {
    BcssStamp {
        ticket: e.child_text("ticketCBSS"),
        time_receive: e.child_text("timestampReceive"),
        time_reply: e.child_text("timestampReply"),
    }
}

fn read_information(e: &Element) -> Information {
    Information {
        field_name: e.child_text("fieldName").unwrap_or_default(),
        field_value: e.child_text("fieldValue"),
    }
}

/// Read a `status` element.
pub fn read_status(e: &Element) -> Result<Status, V3Error> {
    let raw_value = e
        .child_text("value")
        .ok_or_else(|| V3Error::malformed("status", "no value"))?;
    let value = StatusValue::parse(&raw_value).ok_or_else(|| {
        V3Error::malformed(
            "status/value",
            format!("{raw_value:?} is not DATA_FOUND, NO_DATA_FOUND or NO_RESULT"),
        )
    })?;
    let code = e
        .child_text("code")
        .ok_or_else(|| V3Error::malformed("status", "no code"))?;
    Ok(Status {
        value,
        code: StatusCode::parse(&code),
        description: e.child_text("description"),
        information: e
            .children_named("information")
            .map(read_information)
            .collect(),
    })
}

fn read_fault_detail(e: &Element) -> FaultDetail {
    FaultDetail {
        severity: Severity::parse(&e.child_text("severity").unwrap_or_default()),
        reason_code: StatusCode::parse(&e.child_text("reasonCode").unwrap_or_default()),
        diagnostic: e.child_text("diagnostic").unwrap_or_default(),
        author_code: e.child_text("authorCode").unwrap_or_default(),
        information: e
            .children_named("information")
            .map(read_information)
            .collect(),
    }
}

/// Find a CBSSFault in a SOAP fault's `detail`: an element named `<operation>Fault`
/// (any namespace) holding at least one `detail` or, as older versions spell it, `error`.
pub fn cbss_fault(fault: &Fault) -> Option<CbssFault> {
    let detail = fault.detail.as_ref()?;
    detail.elements().find_map(|candidate| {
        if !candidate.name.ends_with("Fault") {
            return None;
        }
        let details: Vec<FaultDetail> = candidate
            .elements()
            .filter(|e| e.name == "detail" || e.name == "error")
            .map(read_fault_detail)
            .collect();
        if details.is_empty() {
            return None;
        }
        Some(CbssFault {
            element: candidate.name.clone(),
            information_cbss: candidate
                .child("informationCBSS")
                .map(read_information_cbss)
                .unwrap_or_default(),
            details,
        })
    })
}

/// The warnings a successful status carries: its `information` elements, and a code
/// other than MSG00000.
pub fn status_warnings(status: &Status) -> Vec<Warning> {
    if status.code == StatusCode::Ok && status.information.is_empty() {
        return Vec::new();
    }
    vec![Warning {
        severity: if status.code == StatusCode::Ok {
            "INFORMATION".to_string()
        } else {
            "WARNING".to_string()
        },
        code: status.code.as_str().to_string(),
        description: status
            .description
            .clone()
            .unwrap_or_else(|| status.code.description().to_string()),
        information: status
            .information
            .iter()
            .map(|i| {
                (
                    i.field_name.clone(),
                    i.field_value.clone().unwrap_or_default(),
                )
            })
            .collect(),
    }]
}

/// What a status says about the reply.
enum Verdict {
    /// Data came back, with these warnings.
    Data(Vec<Warning>),
    /// No data for the subject.
    NoData,
    /// A business error.
    Refused,
}

fn classify(status: &Status) -> Verdict {
    if status.value == StatusValue::NoDataFound || status.code == StatusCode::NoDataAtSupplier {
        return Verdict::NoData;
    }
    match status.value {
        StatusValue::DataFound => Verdict::Data(status_warnings(status)),
        StatusValue::NoResult | StatusValue::NoDataFound => Verdict::Refused,
    }
}

fn fail<T>(stamp: BcssStamp, outcome: Outcome, error: impl Into<crate::Error>) -> Decoded<T> {
    Decoded {
        stamp,
        outcome,
        result: Err(error.into()),
    }
}

fn undecodable<T>(stamp: BcssStamp, error: impl Into<crate::Error>) -> Decoded<T> {
    let error = error.into();
    Decoded {
        stamp,
        outcome: Outcome::Undecodable {
            reason: error.to_string(),
        },
        result: Err(error),
    }
}

/// Decode a common-v3 reply: the SOAP envelope, a CBSSFault or other SOAP fault, the
/// expected root element, `informationCBSS` and `status`; then, when the status says data
/// came back, `read` decodes the operation's own content from the root element.
///
/// | reply | outcome | result |
/// | --- | --- | --- |
/// | DATA_FOUND, MSG00000, no information | `Ok` | `Ok` |
/// | DATA_FOUND with information or another code | `Warning` | `Ok` with warnings |
/// | NO_DATA_FOUND, or code MSG00100 | `NoData` | [`V3Error::NoData`] |
/// | NO_RESULT | `BusinessError` | [`V3Error::Status`] |
/// | SOAP fault holding a CBSSFault | `BusinessError` | [`V3Error::Fault`] |
/// | other SOAP fault | `SoapFault` | [`SoapError::Fault`] |
/// | anything unreadable | `Undecodable` | the reason |
pub fn decode<T>(
    expect: &Expect<'_>,
    http_status: u16,
    body: &[u8],
    limits: &Limits,
    read: impl FnOnce(&Element) -> Result<T, V3Error>,
) -> Decoded<T> {
    let payload = match soap::read(body, limits) {
        Ok(Body::Payload(p)) => p,
        Ok(Body::Fault(fault)) => return decode_fault(expect, fault),
        Err(e) if !(200..300).contains(&http_status) => {
            return undecodable(
                BcssStamp::default(),
                V3Error::HttpStatus {
                    status: http_status,
                    reason: e.to_string(),
                },
            );
        }
        Err(e) => return undecodable(BcssStamp::default(), e),
    };
    if payload.name != expect.response || payload.namespace.as_deref() != Some(expect.namespace) {
        return undecodable(
            BcssStamp::default(),
            SoapError::UnexpectedBody {
                found: soap::qualified_name(&payload),
                expected: format!("{{{}}}{}", expect.namespace, expect.response),
            },
        );
    }
    let stamp = payload
        .child("informationCBSS")
        .map(read_information_cbss)
        .unwrap_or_default();
    let warnings = if expect.has_status {
        let status = match payload.child("status") {
            Some(s) => match read_status(s) {
                Ok(status) => status,
                Err(e) => return undecodable(stamp, e),
            },
            None => {
                return undecodable(
                    stamp,
                    V3Error::malformed(expect.response, "no status element"),
                );
            }
        };
        let code = status.code.as_str().to_string();
        match classify(&status) {
            Verdict::Data(warnings) => warnings,
            Verdict::NoData => {
                return fail(stamp, Outcome::NoData { code }, V3Error::NoData { status });
            }
            Verdict::Refused => {
                return fail(
                    stamp,
                    Outcome::BusinessError { code },
                    V3Error::Status { status },
                );
            }
        }
    } else {
        Vec::new()
    };
    match read(&payload) {
        Ok(data) => Decoded {
            stamp,
            outcome: match warnings.first() {
                Some(w) => Outcome::Warning {
                    code: w.code.clone(),
                },
                None => Outcome::Ok,
            },
            result: Ok(ServiceReply { data, warnings }),
        },
        Err(e) => undecodable(stamp, e),
    }
}

fn decode_fault<T>(expect: &Expect<'_>, fault: Fault) -> Decoded<T> {
    match cbss_fault(&fault) {
        Some(cbss) => {
            let code = cbss
                .details
                .first()
                .map(|d| d.reason_code.as_str().to_string())
                .unwrap_or_default();
            fail(
                cbss.information_cbss.clone(),
                Outcome::BusinessError { code },
                V3Error::Fault {
                    operation: expect.operation.to_string(),
                    details: cbss.details,
                    information_cbss: cbss.information_cbss,
                },
            )
        }
        None => fail(
            BcssStamp::default(),
            Outcome::SoapFault {
                code: fault.code.clone(),
            },
            SoapError::Fault(fault),
        ),
    }
}
