//! The SOAP 1.1 envelope reader (`bcss::soap::read`) and the SSDN connector's envelope
//! (`xmlString`, `bcss::ssdn::read_reply`), on any bytes as a reply body.
//!
//! Checks: no panic, hang or unbounded memory; a payload read from a reply can be written
//! back (`soap::envelope`) and reads again as the same element.
#![no_main]

use bcss::soap::{self, Body, Limits};
use bcss::ssdn;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    match soap::read(data, &limits) {
        Ok(Body::Payload(payload)) => {
            let written = soap::envelope(payload.clone());
            match soap::read(&written, &limits) {
                Ok(Body::Payload(again)) => assert_eq!(
                    again, payload,
                    "a payload written back reads as another element"
                ),
                other => panic!("a payload written back does not read as one: {other:?}"),
            }
        }
        Ok(Body::Fault(fault)) => {
            let _ = (fault.code_local(), format!("{fault:?}"));
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    match ssdn::read_reply(bcss_fuzz::http_status(data), data, &limits) {
        Ok(reply) => {
            let _ = format!("{reply:?}");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
