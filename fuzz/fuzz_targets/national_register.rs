//! The National Register decoder (RetrieveTIGroups' `rrn_it_implicit`, xm25): the fuzzed
//! bytes are the content of `rrn_it_implicit` in a reply that is otherwise valid, with
//! data found, decoded through `RetrieveTi::decode`. The `ns3` prefix is bound to the
//! Register's namespace, as in BCSS's replies.
//!
//! Checks: no panic, hang or unbounded memory; a result is `Ok` exactly when the outcome
//! says data came back; a decoded person's accessors and dates never panic.
#![no_main]

use bcss::services::ServiceRequest;
use bcss::services::retrieve_ti_groups::RetrieveTi;
use bcss::soap::Limits;
use bcss_fuzz::{check_decoded, national_register_reply, ssin};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(request) = RetrieveTi::new(ssin()) else {
        return;
    };
    let reply = national_register_reply(data);
    let decoded = request.decode(200, &reply, &Limits::default());
    check_decoded(&decoded);
    if let Ok(reply) = &decoded.result {
        let person = &reply.data.person;
        let _ = (
            person.ssin(),
            person.gender(),
            person.birth_date().to_date(),
            person.birth_date().to_string(),
            person
                .current_name()
                .map(|n| (n.last_name(), n.first_names_joined())),
            person.current_nationality(),
            person.current_residence(),
            person.current_address(),
            person.current_civil_state(),
            person.decease(),
        );
    }
});
