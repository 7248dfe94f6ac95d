//! The SSDN reply decoder: the fuzzed bytes are the SSDN document (`SSDNReply`), carried
//! escaped in a connector reply's `xmlString` as BCSS sends it, and decoded by each typed
//! SSDN service through its public API (`ServiceRequest::decode`), by a generic
//! IdentifyPerson request (`GenericRequest`, the path of catalogued services without a
//! typed module), and by `ssdn::parse_reply_document`.
//!
//! Checks: no panic, hang or unbounded memory; a result is `Ok` exactly when the outcome
//! says data came back.
#![no_main]

use bcss::services::ServiceRequest;
use bcss::services::generic::GenericRequest;
use bcss::services::identify_person;
use bcss::services::identify_person::IdentifyPersonRequest;
use bcss::services::manage_access::ManageAccessRequest;
use bcss::services::perform_investigation::PerformInvestigationRequest;
use bcss::soap::Limits;
use bcss::ssdn;
use bcss_fuzz::{check_decoded, ssdn_envelope, ssin};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(document) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits::default();
    let _ = ssdn::parse_reply_document(document, &limits).map(|r| format!("{r:?}"));

    let body = ssdn_envelope(document);
    let status = bcss_fuzz::http_status(data);
    check_decoded(&IdentifyPersonRequest::by_ssin(ssin()).decode(status, &body, &limits));
    if let Ok(list) = ManageAccessRequest::list(ssin()).build() {
        check_decoded(&list.decode(status, &body, &limits));
    }
    if let Ok(investigation) = PerformInvestigationRequest::builder(ssin())
        .all_groups()
        .build()
    {
        check_decoded(&investigation.decode(status, &body, &limits));
    }
    let service = identify_person::service();
    if let Some(ids) = service.ssdn() {
        let payload = format!(
            "<IdentifyPersonRequest xmlns=\"{}\"><SSIN>{}</SSIN></IdentifyPersonRequest>",
            ids.payload_namespace,
            ssin().reveal()
        );
        if let Ok(generic) = GenericRequest::new(service, "identifyPerson", payload) {
            check_decoded(&generic.decode(status, &body, &limits));
        }
    }
});
