//! SSDN `OCMWCPASPerformInvestigation` (version 20080604): the social investigation data
//! of a person: family composition, legal data of the family's citizens, address
//! history, and the wait register.
//!
//! ```
//! use bcss::services::perform_investigation::PerformInvestigationRequest;
//!
//! let anna = "85031204246".parse()?;
//! let request = PerformInvestigationRequest::builder(anna)
//!     .family_composition()
//!     .address_history()
//!     .build()?;
//! assert!(request.groups().is_some_and(|g| g.family_composition && !g.citizen));
//!
//! // Asking for nothing is refused; ask for every group explicitly instead.
//! assert!(PerformInvestigationRequest::builder("85031204246".parse()?).build().is_err());
//! let everything = PerformInvestigationRequest::builder("85031204246".parse()?)
//!     .all_groups()
//!     .build()?;
//! assert!(everything.groups().is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::LazyLock;

use chrono::NaiveDate;
use serde::Serialize;

use super::catalogue::builtin;
use super::{Decoded, RequestError, RequestHeader, Service, ServiceDescriptor, ServiceRequest};
use crate::ids::Ssin;
use crate::soap::Limits;
use crate::ssdn::person::{Citizen, ManagerLocation, StandardAddress};
use crate::ssdn::read::{In, collapse};
use crate::ssdn::{self, Origin, PERSON_NS, SsdnError, expect_payload};
use crate::xml::Element;

/// The PerformInvestigation namespace.
pub const NAMESPACE: &str = "http://www.ksz-bcss.fgov.be/XSD/SSDN/OCMW_CPAS/PerformInvestigation";

/// The service's name in the catalogue, manifests and the journal.
pub const NAME: &str = "PerformInvestigation";

const SERVICE: &str = NAME;

/// The SSDN `ServiceId`.
pub const SERVICE_ID: &str = "OCMWCPASPerformInvestigation";

/// The SSDN `Version`.
pub const VERSION: &str = "20080604";

/// PerformInvestigation's catalogue entry: one operation about one person.
pub fn descriptor() -> ServiceDescriptor {
    builtin::ssdn(
        NAME,
        SERVICE_ID,
        VERSION,
        NAMESPACE,
        &[builtin::Op {
            name: "performInvestigation",
            request: "PerformInvestigationRequest",
            response: "PerformInvestigationReply",
            fault: None,
            write: false,
            subjects: &["SocialSecurityUser"],
        }],
    )
}

static SERVICE_HANDLE: LazyLock<Service> = LazyLock::new(|| builtin::service(descriptor()));

/// PerformInvestigation's handle in the catalogue.
pub fn service() -> &'static Service {
    &SERVICE_HANDLE
}

/// The data groups to ask for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DataGroups {
    /// The family composition (the other groups then cover every family member).
    pub family_composition: bool,
    /// The full legal data (`Citizen`).
    pub citizen: bool,
    /// The history of legal and declared addresses.
    pub address_history: bool,
    /// The wait register.
    pub wait_register: bool,
}

impl DataGroups {
    fn any(&self) -> bool {
        self.family_composition || self.citizen || self.address_history || self.wait_register
    }

    fn element(&self) -> Element {
        let b = |v: bool| if v { "true" } else { "false" };
        Element::ns(NAMESPACE, "DataGroups")
            .with_prefix("pi")
            .with_leaf("FamilyCompositionGroup", b(self.family_composition))
            .with_leaf("CitizenGroup", b(self.citizen))
            .with_leaf("AddressHistoryGroup", b(self.address_history))
            .with_leaf("WaitRegisterGroup", b(self.wait_register))
    }
}

/// A request to PerformInvestigation. Build it with
/// [`PerformInvestigationRequest::builder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerformInvestigationRequest {
    ssin: Ssin,
    groups: Option<DataGroups>,
}

/// Builds a [`PerformInvestigationRequest`].
#[derive(Debug, Clone)]
pub struct PerformInvestigationBuilder {
    ssin: Ssin,
    groups: DataGroups,
    all: bool,
}

impl PerformInvestigationBuilder {
    /// Ask for the family composition.
    pub fn family_composition(mut self) -> Self {
        self.groups.family_composition = true;
        self
    }

    /// Ask for the citizens' legal data.
    pub fn citizen(mut self) -> Self {
        self.groups.citizen = true;
        self
    }

    /// Ask for the address history.
    pub fn address_history(mut self) -> Self {
        self.groups.address_history = true;
        self
    }

    /// Ask for the wait register.
    pub fn wait_register(mut self) -> Self {
        self.groups.wait_register = true;
        self
    }

    /// Ask for these groups.
    pub fn groups(mut self, groups: DataGroups) -> Self {
        self.groups = groups;
        self
    }

    /// Ask for every available group (the request then carries no `DataGroups`).
    pub fn all_groups(mut self) -> Self {
        self.all = true;
        self
    }

    /// The request, or why it cannot be sent: no group asked for, or groups named
    /// together with [`PerformInvestigationBuilder::all_groups`].
    pub fn build(self) -> Result<PerformInvestigationRequest, RequestError> {
        match (self.all, self.groups.any()) {
            (true, true) => Err(RequestError::Invalid {
                service: SERVICE.into(),
                message: "all_groups() already asks for every group: name groups or ask for all"
                    .to_string(),
            }),
            (false, false) => Err(RequestError::Missing {
                service: SERVICE.into(),
                field: "DataGroups (name the groups, or ask for all_groups())",
            }),
            (true, false) => Ok(PerformInvestigationRequest {
                ssin: self.ssin,
                groups: None,
            }),
            (false, true) => Ok(PerformInvestigationRequest {
                ssin: self.ssin,
                groups: Some(self.groups),
            }),
        }
    }
}

impl PerformInvestigationRequest {
    /// A builder for the person `ssin`.
    pub fn builder(ssin: Ssin) -> PerformInvestigationBuilder {
        PerformInvestigationBuilder {
            ssin,
            groups: DataGroups::default(),
            all: false,
        }
    }

    /// The groups asked for; `None` means every available group.
    pub fn groups(&self) -> Option<DataGroups> {
        self.groups
    }

    /// The soapAction (the connector's `sendXML`).
    pub fn soap_action(&self) -> &'static str {
        ssdn::SOAP_ACTION
    }

    /// The `PerformInvestigationRequest` payload element.
    pub fn payload(&self) -> Element {
        Element::ns(NAMESPACE, "PerformInvestigationRequest")
            .with_prefix("pi")
            .with_leaf("SocialSecurityUser", self.ssin.reveal())
            .with_opt_child(self.groups.as_ref().map(DataGroups::element))
    }
}

/// The investigation's results, per data group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PerformInvestigationResponse {
    /// The person investigated.
    pub ssin: Ssin,
    /// The family composition, when returned.
    pub family_composition: Option<FamilyComposition>,
    /// The citizens' legal data (the person, and the family members when the family
    /// composition was asked for).
    pub citizens: Vec<Citizen>,
    /// The address histories.
    pub address_histories: Vec<AddressHistory>,
    /// The wait register entries.
    pub wait_register: Vec<WaitRegisterEntry>,
}

/// A family (`FamilyComposition`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FamilyComposition {
    /// Where the information comes from.
    pub origin: Option<Origin>,
    /// The members.
    pub members: Vec<FamilyMember>,
}

/// A member of the family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FamilyMember {
    /// The member's SSIN.
    pub ssin: Ssin,
    /// The member's position relative to the head of the family (0-99; 1 is the head).
    pub relationship: u8,
    /// When the member entered the family.
    pub entry_date: Option<NaiveDate>,
}

/// A person's address history (`AddressHistory`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddressHistory {
    /// The person.
    pub ssin: Ssin,
    /// The municipalities that managed the address, over time.
    pub manager_locations: Vec<ManagerLocation>,
    /// The legal addresses, most recent first.
    pub legal_addresses: Vec<StandardAddress>,
    /// The declared addresses (for people in the wait register).
    pub declared_addresses: Vec<StandardAddress>,
}

/// An entry of the wait register. Its schema (`WaitRegister.xsd`) is not among BCSS's
/// published contracts, so the entry keeps the SSIN when present and every text field as
/// a path (`LegalData/Name/LastName`) and value, in document order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitRegisterEntry {
    /// The person, when the entry names one.
    pub ssin: Option<Ssin>,
    /// Every text field: path below `WaitRegister`, and value.
    pub fields: Vec<(String, String)>,
}

fn flatten(e: &Element, prefix: &str, out: &mut Vec<(String, String)>) {
    for c in e.elements() {
        let path = if prefix.is_empty() {
            c.name.clone()
        } else {
            format!("{prefix}/{}", c.name)
        };
        if c.elements().next().is_some() {
            flatten(c, &path, out);
        } else {
            let v = collapse(&c.text());
            if !v.is_empty() {
                out.push((path, v));
            }
        }
    }
}

fn read_family(group: &In<'_>) -> Result<FamilyComposition, SsdnError> {
    let family = group.req("FamilyComposition")?;
    let mut members = Vec::new();
    for m in family.all("FamilyMember") {
        members.push(FamilyMember {
            ssin: m.ssin("SocialSecurityUser")?,
            relationship: m.req_number("RelationShip")?,
            entry_date: m.date_in(NAMESPACE, "EntryDate")?,
        });
    }
    Ok(FamilyComposition {
        origin: family.origin(),
        members,
    })
}

fn read_address_history(h: &In<'_>) -> Result<AddressHistory, SsdnError> {
    let addresses = |name: &str| -> Result<Vec<StandardAddress>, SsdnError> {
        match h.child(name) {
            None => Ok(Vec::new()),
            Some(list) => list
                .all("StandardAddress")
                .map(|a| StandardAddress::read(&a.with_ns(PERSON_NS)))
                .collect(),
        }
    };
    let manager_locations = match h.child("ManagerLocations") {
        None => Vec::new(),
        Some(list) => list
            .all("ManagerLocation")
            .map(|m| ManagerLocation::read(&m.with_ns(PERSON_NS)))
            .collect::<Result<_, _>>()?,
    };
    Ok(AddressHistory {
        ssin: h.ssin("SocialSecurityUser")?,
        manager_locations,
        legal_addresses: addresses("LegalAddresses")?,
        declared_addresses: addresses("DeclaredAddresses")?,
    })
}

/// Read a `PerformInvestigationReply` element.
pub fn read_reply(payload: Option<&Element>) -> Result<PerformInvestigationResponse, SsdnError> {
    let reply = In::new(
        expect_payload(payload, NAMESPACE, "PerformInvestigationReply")?,
        NAMESPACE,
    );
    let mut response = PerformInvestigationResponse {
        ssin: reply.ssin("SocialSecurityUser")?,
        family_composition: None,
        citizens: Vec::new(),
        address_histories: Vec::new(),
        wait_register: Vec::new(),
    };
    let Some(groups) = reply.child("DataGroups") else {
        return Ok(response);
    };
    if let Some(g) = groups.child("FamilyCompositionGroup") {
        response.family_composition = Some(read_family(&g)?);
    }
    if let Some(g) = groups.child("CitizenGroup") {
        response.citizens = g
            .all_in(PERSON_NS, "Citizen")
            .map(|c| Citizen::read(&c))
            .collect::<Result<_, _>>()?;
    }
    if let Some(g) = groups.child("AddressHistoryGroup") {
        response.address_histories = g
            .all("AddressHistory")
            .map(|h| read_address_history(&h))
            .collect::<Result<_, _>>()?;
    }
    if let Some(g) = groups.child("WaitRegisterGroup") {
        for w in g.all("WaitRegister") {
            let ssin = match w.e.child("SocialSecurityUser") {
                None => None,
                Some(s) => {
                    Some(
                        Ssin::new(&collapse(&s.text())).map_err(|e| SsdnError::Invalid {
                            element: "WaitRegister/SocialSecurityUser".to_string(),
                            reason: format!("not a valid SSIN ({e})"),
                        })?,
                    )
                }
            };
            let mut fields = Vec::new();
            flatten(w.e, "", &mut fields);
            response
                .wait_register
                .push(WaitRegisterEntry { ssin, fields });
        }
    }
    Ok(response)
}

impl crate::services::Sealed for PerformInvestigationRequest {}

impl ServiceRequest for PerformInvestigationRequest {
    type Response = PerformInvestigationResponse;

    fn service(&self) -> Service {
        service().clone()
    }

    fn operation(&self) -> &'static str {
        "performInvestigation"
    }

    fn subjects(&self) -> Vec<Ssin> {
        vec![self.ssin.clone()]
    }

    fn encode(&self, header: &RequestHeader) -> Result<Vec<u8>, crate::Error> {
        ssdn::encode_request(header, service(), self.payload())
    }

    fn decode(&self, http_status: u16, body: &[u8], limits: &Limits) -> Decoded<Self::Response> {
        ssdn::decode_reply(service(), http_status, body, limits, read_reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anna() -> Ssin {
        "85031204246".parse().unwrap()
    }

    #[test]
    fn builder_and_payload() {
        let err = PerformInvestigationRequest::builder(anna())
            .all_groups()
            .citizen()
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("all_groups"));
        let r = PerformInvestigationRequest::builder(anna())
            .wait_register()
            .build()
            .unwrap();
        let p = r.payload();
        let groups: Vec<(String, String)> = p
            .child("DataGroups")
            .unwrap()
            .elements()
            .map(|e| (e.name.clone(), e.trimmed_text()))
            .collect();
        assert_eq!(
            groups,
            [
                ("FamilyCompositionGroup".to_string(), "false".to_string()),
                ("CitizenGroup".to_string(), "false".to_string()),
                ("AddressHistoryGroup".to_string(), "false".to_string()),
                ("WaitRegisterGroup".to_string(), "true".to_string()),
            ]
        );
        assert_eq!(r.subjects(), vec![anna()]);
        assert_eq!(r.operation(), "performInvestigation");
    }
}
