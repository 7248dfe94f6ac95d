//! HealthCareInsuranceService v1: a person's health care insurability, from the insurers
//! through BCSS.
//!
//! Three operations share one request shape, the `criterion`: the person (ssin), the
//! reference day (`temporalCriteria`: today, or a date) and the `desiredData` flags. They
//! share one result type too, [`InsuranceResult`]. One request type,
//! [`HealthCareInsurance`], covers them, with an [`HciOperation`].
//!
//! The `legalContext` of this service is not free text: HealthCareInsuranceTypesV1.xsd
//! lists the accepted values ([`LEGAL_CONTEXTS`]), and encoding refuses any other.
//!
//! ```
//! use bcss::ids::Ssin;
//! use bcss::services::ServiceRequest;
//! use bcss::services::health_care_insurance::{
//!     DesiredData, HciOperation, HealthCareInsurance, ReferenceDate,
//! };
//! let anna = Ssin::new("85031204246").unwrap();
//! let desired = DesiredData { maximum_charge: true, ..DesiredData::none() };
//! let request =
//!     HealthCareInsurance::new(HciOperation::ConsultMaf, anna, ReferenceDate::Today, desired)
//!         .unwrap();
//! assert_eq!(request.operation(), "consultMAF");
//! ```

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::ids::Ssin;
use crate::services::catalogue::builtin;
use crate::services::{
    Decoded, LegalContextRule, RequestError, RequestHeader, Service, ServiceDescriptor,
    ServiceRequest,
};
use crate::soap::{self, Limits};
use crate::v3::{self, Expect, V3Error};
use crate::xml::Element;

mod result;

pub use result::{
    Flag, GlobalMedicalFile, HolderCodes, InsuranceResult, InsuranceStatus, InsuringOrganization,
    MafYear, MedicalHouse, MedicalHouseInfo, OpenPeriod, Period, Right, SfdfL891, parse_xsd_date,
};

/// The interface namespace of the request and reply elements.
pub const NAMESPACE: &str = "http://kszbcss.fgov.be/intf/HealthCareInsuranceService/v1";

/// The service's name in the catalogue, manifests and the journal.
pub const NAME: &str = "HealthCareInsurance";

const SERVICE: &str = NAME;

/// HealthCareInsurance's catalogue entry: three operations about the person in
/// `criterion/ssin`, whose `legalContext` is one of [`LEGAL_CONTEXTS`].
pub fn descriptor() -> ServiceDescriptor {
    let operations = HciOperation::ALL.map(|op| builtin::Op {
        name: op.name(),
        request: op.request_element(),
        response: op.response_element(),
        fault: None,
        write: false,
        subjects: &["criterion/ssin"],
    });
    builtin::v3(
        NAME,
        NAMESPACE,
        "v1",
        true,
        LegalContextRule::Closed(LEGAL_CONTEXTS.iter().map(|v| (*v).to_string()).collect()),
        &operations,
    )
}

static SERVICE_HANDLE: LazyLock<Service> = LazyLock::new(|| builtin::service(descriptor()));

/// HealthCareInsurance's handle in the catalogue.
pub fn service() -> &'static Service {
    &SERVICE_HANDLE
}

/// The `legalContext` values HealthCareInsuranceTypesV1.xsd accepts
/// (`InsuranceLegalContextType`). A CPAS typically uses
/// `"social inquiry and financial help"`.
pub const LEGAL_CONTEXTS: [&str; 10] = [
    "query insurance",
    "social inquiry and financial help",
    "insurability status of entering frontier worker",
    "CBSS validation",
    "check MAF to stop repayment",
    "full information insurability",
    "CBSS internal processing",
    "Heating Allowance",
    "medical costs supported",
    "social fraud control",
];

/// The operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum HciOperation {
    /// `getInsuranceOrganizationInformations`.
    GetInsuranceOrganizationInformations,
    /// `consultMAF`: maximum billing.
    ConsultMaf,
    /// `consultHolderCode`: the CT1/CT2 holder codes.
    ConsultHolderCode,
}

impl HciOperation {
    /// All three.
    pub const ALL: [HciOperation; 3] = [
        HciOperation::GetInsuranceOrganizationInformations,
        HciOperation::ConsultMaf,
        HciOperation::ConsultHolderCode,
    ];

    /// The operation's name, one of the catalogue entry's operations.
    pub fn name(self) -> &'static str {
        match self {
            HciOperation::GetInsuranceOrganizationInformations => {
                "getInsuranceOrganizationInformations"
            }
            HciOperation::ConsultMaf => "consultMAF",
            HciOperation::ConsultHolderCode => "consultHolderCode",
        }
    }

    /// Look an operation up by [`HciOperation::name`].
    pub fn from_name(name: &str) -> Option<HciOperation> {
        HciOperation::ALL.into_iter().find(|o| o.name() == name)
    }

    /// The request's root element.
    pub fn request_element(self) -> &'static str {
        match self {
            HciOperation::GetInsuranceOrganizationInformations => {
                "getInsuranceOrganizationInformationsRequest"
            }
            HciOperation::ConsultMaf => "consultMAFRequest",
            HciOperation::ConsultHolderCode => "consultHolderCodeRequest",
        }
    }

    /// The reply's root element.
    pub fn response_element(self) -> &'static str {
        match self {
            HciOperation::GetInsuranceOrganizationInformations => {
                "getInsuranceOrganizationInformationsResponse"
            }
            HciOperation::ConsultMaf => "consultMAFResponse",
            HciOperation::ConsultHolderCode => "consultHolderCodeResponse",
        }
    }
}

/// The reference day of the consultation (`temporalCriteria`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ReferenceDate {
    /// `today`.
    Today,
    /// `date`: the situation on that day.
    Date(NaiveDate),
}

/// The parts of the result asked for (`desiredData`). At least one must be set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DesiredData {
    /// The mutuality.
    pub insuring_organization: bool,
    /// Right to reimbursement.
    pub reimbursement_right: bool,
    /// Holder codes CT1/CT2.
    pub ct1ct2: bool,
    /// Paying third party.
    pub paying_third_party: bool,
    /// Maximum billing (MAF).
    pub maximum_charge: bool,
    /// Medical house.
    pub medical_house: bool,
    /// Increased intervention (BIM).
    pub increased_intervention: bool,
    /// Complementary insurance in order.
    pub status_complementary_insurance: bool,
    /// Global medical file.
    pub global_medical_file: bool,
    /// Health care insurance status (`sfdfL891`).
    pub sfdf_l891: bool,
}

impl DesiredData {
    /// Nothing selected (a starting point for struct update syntax).
    pub fn none() -> DesiredData {
        DesiredData::default()
    }

    /// Everything.
    pub fn all() -> DesiredData {
        DesiredData {
            insuring_organization: true,
            reimbursement_right: true,
            ct1ct2: true,
            paying_third_party: true,
            maximum_charge: true,
            medical_house: true,
            increased_intervention: true,
            status_complementary_insurance: true,
            global_medical_file: true,
            sfdf_l891: true,
        }
    }

    /// The flags with their element names, in schema order.
    pub fn flags(&self) -> [(&'static str, bool); 10] {
        [
            ("insuringOrganization", self.insuring_organization),
            ("reimbursementRight", self.reimbursement_right),
            ("ct1ct2", self.ct1ct2),
            ("payingThirdParty", self.paying_third_party),
            ("maximumCharge", self.maximum_charge),
            ("medicalHouse", self.medical_house),
            ("increasedIntervention", self.increased_intervention),
            (
                "statusComplementaryInsurance",
                self.status_complementary_insurance,
            ),
            ("globalMedicalFile", self.global_medical_file),
            ("sfdfL891", self.sfdf_l891),
        ]
    }

    /// Whether nothing is selected.
    pub fn is_empty(&self) -> bool {
        self.flags().iter().all(|(_, on)| !on)
    }
}

/// A HealthCareInsurance request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCareInsurance {
    operation: HciOperation,
    ssin: Ssin,
    reference: ReferenceDate,
    desired: DesiredData,
}

/// The earliest reference date accepted.
const EARLIEST_YEAR: i32 = 1900;

impl HealthCareInsurance {
    /// A request. Refused when no data is desired, when the reference date is before
    /// 1900 or after 9999, or when BCSS's SsinType would refuse the SSIN.
    pub fn new(
        operation: HciOperation,
        ssin: Ssin,
        reference: ReferenceDate,
        desired: DesiredData,
    ) -> Result<HealthCareInsurance, RequestError> {
        v3::check_ssin(SERVICE, &ssin)?;
        if desired.is_empty() {
            return Err(RequestError::Invalid {
                service: SERVICE.into(),
                message: "desiredData selects nothing; set at least one flag".to_string(),
            });
        }
        if let ReferenceDate::Date(d) = reference
            && !(EARLIEST_YEAR..=9999).contains(&d.year())
        {
            return Err(RequestError::Invalid {
                service: SERVICE.into(),
                message: format!("reference date {d} is outside {EARLIEST_YEAR}-9999"),
            });
        }
        Ok(HealthCareInsurance {
            operation,
            ssin,
            reference,
            desired,
        })
    }

    /// The operation.
    pub fn hci_operation(&self) -> HciOperation {
        self.operation
    }

    /// The person.
    pub fn ssin(&self) -> &Ssin {
        &self.ssin
    }

    /// The reference day.
    pub fn reference(&self) -> ReferenceDate {
        self.reference
    }

    /// The desired data.
    pub fn desired(&self) -> DesiredData {
        self.desired
    }

    /// The body element for this header. Refused when the header's legal context is
    /// not one of [`LEGAL_CONTEXTS`].
    pub fn body(&self, header: &RequestHeader) -> Result<Element, crate::Error> {
        if !LEGAL_CONTEXTS.contains(&header.legal_context.as_str()) {
            return Err(RequestError::Invalid {
                service: SERVICE.into(),
                message: format!(
                    "legalContext {:?} is not one this service accepts; use one of: {}",
                    header.legal_context,
                    LEGAL_CONTEXTS.join(", ")
                ),
            }
            .into());
        }
        let temporal = Element::new("temporalCriteria").with_child(match self.reference {
            ReferenceDate::Today => Element::new("today").with_text("true"),
            ReferenceDate::Date(d) => {
                Element::new("date").with_text(d.format("%Y-%m-%d").to_string())
            }
        });
        let desired = self.desired.flags().into_iter().fold(
            Element::new("desiredData"),
            |acc, (name, on)| {
                acc.with_child(Element::new(name).with_text(if on { "true" } else { "false" }))
            },
        );
        let criterion = Element::new("criterion")
            .with_child(Element::new("ssin").with_text(self.ssin.reveal()))
            .with_child(temporal)
            .with_child(desired);
        Ok(
            v3::service_request_root(service(), self.operation.request_element(), header)?
                .with_child(criterion),
        )
    }

    fn expect(&self) -> Expect<'static> {
        Expect {
            namespace: NAMESPACE,
            operation: self.operation.name(),
            response: self.operation.response_element(),
            has_status: true,
        }
    }
}

/// The reply of a HealthCareInsurance operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InsuranceReply {
    /// The operation answered.
    pub operation: HciOperation,
    /// The result.
    pub result: InsuranceResult,
}

fn read_reply(request: &HealthCareInsurance, root: &Element) -> Result<InsuranceReply, V3Error> {
    let response = request.operation.response_element();
    let echoed = root
        .find(&["criterion", "ssin"])
        .map(Element::trimmed_text)
        .ok_or_else(|| V3Error::malformed(response, "no criterion/ssin"))?;
    if echoed != request.ssin.reveal() {
        return Err(V3Error::malformed(
            "criterion/ssin",
            format!(
                "the reply is about {}, not the person asked for ({})",
                v3::mask_ssins(&echoed),
                request.ssin
            ),
        ));
    }
    let result = root
        .child("result")
        .ok_or_else(|| V3Error::malformed(response, "DATA_FOUND without result"))?;
    let result = result::read_result(result)?;
    if &result.ssin != request.ssin() {
        return Err(V3Error::malformed(
            "result/ssin",
            format!("the result is about {}, not {}", result.ssin, request.ssin),
        ));
    }
    Ok(InsuranceReply {
        operation: request.operation,
        result,
    })
}

impl crate::services::Sealed for HealthCareInsurance {}

impl ServiceRequest for HealthCareInsurance {
    type Response = InsuranceReply;

    fn service(&self) -> Service {
        service().clone()
    }

    fn operation(&self) -> &'static str {
        self.operation.name()
    }

    fn subjects(&self) -> Vec<Ssin> {
        vec![self.ssin.clone()]
    }

    fn encode(&self, header: &RequestHeader) -> Result<Vec<u8>, crate::Error> {
        Ok(soap::envelope(self.body(header)?))
    }

    fn decode(&self, http_status: u16, body: &[u8], limits: &Limits) -> Decoded<Self::Response> {
        v3::decode(&self.expect(), http_status, body, limits, |root| {
            read_reply(self, root)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_match_the_catalog() {
        let names: Vec<_> = HciOperation::ALL.iter().map(|o| o.name()).collect();
        assert_eq!(names, service().operation_names());
        for op in HciOperation::ALL {
            assert_eq!(HciOperation::from_name(op.name()), Some(op));
        }
    }

    #[test]
    fn builder_refuses_invalid_input() {
        let anna = Ssin::new("85031204246").unwrap();
        let op = HciOperation::GetInsuranceOrganizationInformations;
        assert!(
            HealthCareInsurance::new(op, anna.clone(), ReferenceDate::Today, DesiredData::none())
                .is_err()
        );
        let old = ReferenceDate::Date(NaiveDate::from_ymd_opt(1899, 12, 31).unwrap());
        assert!(HealthCareInsurance::new(op, anna.clone(), old, DesiredData::all()).is_err());
        let ok = ReferenceDate::Date(NaiveDate::from_ymd_opt(1900, 1, 1).unwrap());
        assert!(HealthCareInsurance::new(op, anna, ok, DesiredData::all()).is_ok());
    }
}
