//! Unit tests of the pieces that need no server (the loopback server tests are in
//! tests/transport_https.rs).

use super::*;

#[test]
fn soap_action_is_quoted_and_checked() {
    assert_eq!(
        soap_action_header("urn:be:fgov:ehealth:x").unwrap(),
        "\"urn:be:fgov:ehealth:x\""
    );
    assert_eq!(soap_action_header("").unwrap(), "\"\"");
    for bad in ["a\"b", "a\\b", "a\r\nX-Injected: 1", "é"] {
        assert!(soap_action_header(bad).is_none(), "{bad:?}");
    }
}
