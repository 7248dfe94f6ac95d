//! The common-v3 reply decoders: the fuzzed bytes are a reply body, decoded by each typed
//! common-v3 service through its public API (`ServiceRequest::decode`): TestConnection,
//! RetrieveTIGroups, and HealthCareInsurance's three operations; and through the generic
//! path (`GenericRequest`, for catalogued services without a typed module) as
//! RetrieveTIGroups and TestConnection replies. The requests are about
//! the first SSIN the reply holds, so that a reply about anyone is decoded to the end.
//!
//! Checks: no panic, hang or unbounded memory; a result is `Ok` exactly when the outcome
//! says data came back.
#![no_main]

use bcss::services::ServiceRequest;
use bcss::services::generic::GenericRequest;
use bcss::services::health_care_insurance::{
    DesiredData, HciOperation, HealthCareInsurance, ReferenceDate,
};
use bcss::services::retrieve_ti_groups::{self, RetrieveTi};
use bcss::services::test_connection::{self, TestConnection};
use bcss::soap::Limits;
use bcss_fuzz::{check_decoded, day, ssin, ssin_in};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let status = bcss_fuzz::http_status(data);
    let person = ssin_in(data);
    if let Ok(test) = TestConnection::new("Bonjour BCSS, ici le CPAS de Fictiveville") {
        check_decoded(&test.decode(status, data, &limits));
    }
    if let Ok(retrieve) = RetrieveTi::new(person.clone()).or_else(|_| RetrieveTi::new(ssin())) {
        check_decoded(&retrieve.decode(status, data, &limits));
    }
    let reference = if data.len().is_multiple_of(2) {
        ReferenceDate::Today
    } else {
        ReferenceDate::Date(day(2024, 5, 17))
    };
    for operation in HciOperation::ALL {
        let request =
            HealthCareInsurance::new(operation, person.clone(), reference, DesiredData::all())
                .or_else(|_| {
                    HealthCareInsurance::new(operation, ssin(), reference, DesiredData::all())
                });
        if let Ok(request) = request {
            check_decoded(&request.decode(status, data, &limits));
        }
    }
    let search = format!(
        "<searchInformation><ssin>{}</ssin><history>true</history></searchInformation>",
        person.reveal()
    );
    if let Ok(generic) = GenericRequest::new(retrieve_ti_groups::service(), "retrieveTI", search) {
        check_decoded(&generic.decode(status, data, &limits));
    }
    if let Ok(generic) = GenericRequest::new(
        test_connection::service(),
        "sendTestMessage",
        "<echo>Bonjour BCSS</echo>",
    ) {
        check_decoded(&generic.decode(status, data, &limits));
    }
});
