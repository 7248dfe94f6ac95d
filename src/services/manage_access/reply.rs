//! The ManageAccess reply: BCSS's copy of the request and the registrations.

use serde::Serialize;

use super::{Action, NAMESPACE, Period, Register};
use crate::ids::Ssin;
use crate::ssdn::read::In;
use crate::ssdn::{SsdnError, expect_payload};
use crate::xml::Element;

/// The reply: the request as BCSS understood it, and the registrations that overlap it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManageAccessResponse {
    /// BCSS's copy of the request.
    pub original_request: OriginalRequest,
    /// The registrations (for LIST, those found; for REGISTER, those that overlap).
    pub registrations: Vec<Registration>,
}

/// BCSS's copy of the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OriginalRequest {
    /// The person.
    pub ssin: Ssin,
    /// The purpose code.
    pub purpose: Option<u32>,
    /// The period.
    pub period: Period,
    /// The action.
    pub action: Action,
    /// For LIST, the directory queried.
    pub register: Option<Register>,
}

/// A registration in a directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Registration {
    /// The purpose code.
    pub purpose: u32,
    /// The period.
    pub period: Period,
    /// The organisation (or sector) holding it.
    pub org_unit: String,
    /// The directory it comes from.
    pub register: Register,
}

fn register_of(e: &In<'_>, name: &str) -> Result<Option<Register>, SsdnError> {
    match e.text(name) {
        None => Ok(None),
        Some(v) => Register::parse(&v)
            .map(Some)
            .ok_or_else(|| SsdnError::Invalid {
                element: format!("{}/{name}", e.e.name),
                reason: format!("{v:?} is not PRIMARY, SECONDARY or ALL"),
            }),
    }
}

/// Read a `ManageAccessReply` element.
pub fn read_reply(payload: Option<&Element>) -> Result<ManageAccessResponse, SsdnError> {
    let reply = In::new(
        expect_payload(payload, NAMESPACE, "ManageAccessReply")?,
        NAMESPACE,
    );
    let original = reply.req("OriginalRequest")?;
    let action = original.req_text("Action")?;
    let original_request = OriginalRequest {
        ssin: original.ssin("SSIN")?,
        purpose: original.number("Purpose")?,
        period: Period::read(&original.req("Period")?)?,
        action: Action::parse(&action).ok_or_else(|| SsdnError::Invalid {
            element: "OriginalRequest/Action".to_string(),
            reason: format!("{action:?} is not REGISTER, UNREGISTER or LIST"),
        })?,
        register: register_of(&original, "Register")?,
    };
    let mut registrations = Vec::new();
    for r in reply.all("Registrations") {
        registrations.push(Registration {
            purpose: r.req_number("Purpose")?,
            period: Period::read(&r.req("Period")?)?,
            org_unit: r.req_text("OrgUnit")?,
            register: register_of(&r, "Register")?.ok_or_else(|| SsdnError::Missing {
                element: "Registrations/Register".to_string(),
            })?,
        });
    }
    Ok(ManageAccessResponse {
        original_request,
        registrations,
    })
}
