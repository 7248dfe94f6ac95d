//! Unusual replies, through the decoders of both families (RetrieveTIGroups for common
//! v3, IdentifyPerson for SSDN): decoded when their meaning is unambiguous (UTF-16 with a
//! byte-order mark, a declared ISO-8859-1 or windows-1252 body, National Register dates
//! without zero padding), named in the error otherwise (an HTML page, a multipart/related
//! body, a SOAP 1.2 fault, compressed bytes). The transport's part (gzip, deflate, a body
//! that stalls) is in `transport_unusual.rs`.

mod v3_support;

use bcss::error::ErrorKind;
use bcss::services::ServiceRequest;
use bcss::services::identify_person::IdentifyPersonRequest;
use bcss::services::retrieve_ti_groups::RetrieveTi;
use bcss::soap::{Foreign, Limits, SoapError};
use bcss::ssdn::SsdnError;
use bcss::v3::V3Error;
use v3_support::{MARC, ssin};

fn rtg() -> RetrieveTi {
    RetrieveTi::new(ssin(MARC)).unwrap()
}

fn identify() -> IdentifyPersonRequest {
    IdentifyPersonRequest::by_ssin(ssin(MARC))
}

fn text(path: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn rtg_reply() -> String {
    text("fixtures/replies/v3/RetrieveTIGroups/ok_marc.xml")
}

fn identify_reply() -> String {
    text("fixtures/replies/ssdn/IdentifyPerson/ok.xml")
}

/// Decode with both services and return the JSON of each typed reply.
fn decode_both(rtg_bytes: &[u8], identify_bytes: &[u8]) -> (String, String) {
    let a = rtg().decode(200, rtg_bytes, &Limits::default()).result;
    let b = identify()
        .decode(200, identify_bytes, &Limits::default())
        .result;
    (
        serde_json::to_string(&a.expect("RetrieveTIGroups decodes").data).unwrap(),
        serde_json::to_string(&b.expect("IdentifyPerson decodes").data).unwrap(),
    )
}

fn utf16(text: &str, little_endian: bool) -> Vec<u8> {
    let mut out = if little_endian {
        vec![0xFF, 0xFE]
    } else {
        vec![0xFE, 0xFF]
    };
    for unit in text.encode_utf16() {
        let bytes = if little_endian {
            unit.to_le_bytes()
        } else {
            unit.to_be_bytes()
        };
        out.extend_from_slice(&bytes);
    }
    out
}

/// `text` in ISO-8859-1 (every character must have a code point below 256).
fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("a Latin-1 character"))
        .collect()
}

/// One of the issue's three failing inputs: a reply in UTF-16 with a byte-order mark
/// gave "invalid UTF-8 near byte 0".
#[test]
fn utf16_replies_with_a_byte_order_mark_decode() {
    let expected = decode_both(rtg_reply().as_bytes(), identify_reply().as_bytes());
    for little_endian in [true, false] {
        let a = utf16(
            &rtg_reply().replacen("encoding=\"UTF-8\"", "encoding=\"UTF-16\"", 1),
            little_endian,
        );
        let b = utf16(
            &identify_reply().replacen("encoding=\"UTF-8\"", "encoding=\"UTF-16\"", 1),
            little_endian,
        );
        assert_eq!(decode_both(&a, &b), expected);
    }
    assert!(expected.1.contains("Marc \u{c9}mile"), "{}", expected.1);
}

#[test]
fn declared_single_byte_encodings_decode() {
    let rtg_text = rtg_reply()
        .replace("Rue de l'Exemple", "Rue de Li\u{e8}ge")
        .replacen("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"", 1);
    let identify_text =
        identify_reply().replacen("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"", 1);
    let (a, b) = decode_both(&latin1(&rtg_text), &latin1(&identify_text));
    assert!(a.contains("Rue de Li\u{e8}ge"), "{a}");
    assert!(b.contains("Marc \u{c9}mile"), "{b}");
    // windows-1252: the curly quotes of a label (0x93, 0x94).
    let mut cp1252 = latin1(
        &rtg_reply()
            .replace("Rue de l'Exemple", "Rue de l|Exemple|")
            .replacen("encoding=\"UTF-8\"", "encoding=\"windows-1252\"", 1),
    );
    let first = cp1252.iter().position(|b| *b == b'|').unwrap();
    cp1252[first] = 0x93;
    let second = cp1252.iter().position(|b| *b == b'|').unwrap();
    cp1252[second] = 0x94;
    let d = rtg()
        .decode(200, &cp1252, &Limits::default())
        .result
        .unwrap();
    let json = serde_json::to_string(&d.data).unwrap();
    assert!(json.contains("Rue de l\u{201c}Exemple\u{201d}"), "{json}");
}

/// One of the issue's three failing inputs: `<Month>5</Month>` refused the whole person
/// record. Months and days without their leading zero, and with whitespace around them,
/// mean the same; so do SSDN dates written `1968-7-1`.
#[test]
fn national_register_dates_without_zero_padding_decode() {
    let expected = decode_both(rtg_reply().as_bytes(), identify_reply().as_bytes());
    let rtg_text = rtg_reply()
        .replace("<ns3:Month>0", "<ns3:Month>")
        .replace("<ns3:Day>0", "<ns3:Day>\n  ")
        .replace("</ns3:Day>", " </ns3:Day>");
    assert!(rtg_text.contains("<ns3:Month>7</ns3:Month>"));
    let identify_text = identify_reply().replace(
        "<ns3:BirthDate>1968-07-01</ns3:BirthDate>",
        "<ns3:BirthDate> 1968-7-1 </ns3:BirthDate>",
    );
    assert_ne!(identify_text, identify_reply());
    assert_eq!(
        decode_both(rtg_text.as_bytes(), identify_text.as_bytes()),
        expected
    );
    // What stays ambiguous stays an error: a one-digit year.
    let year = rtg_reply().replacen("<ns3:Year>68</ns3:Year>", "<ns3:Year>8</ns3:Year>", 1);
    let d = rtg().decode(200, year.as_bytes(), &Limits::default());
    assert!(
        matches!(
            d.result.as_ref().map_err(bcss::Error::kind),
            Err(ErrorKind::V3(V3Error::Malformed { .. }))
        ),
        "{:?}",
        d.result
    );
}

const HTML: &str = "<!DOCTYPE html>\n<html><head><title>Proxy Error</title></head><body><p>The proxy could not reach the server.<br></p></body></html>";

#[test]
fn an_html_page_is_named() {
    for status in [200, 502] {
        let v3 = rtg().decode(status, HTML.as_bytes(), &Limits::default());
        let ssdn = identify().decode(status, HTML.as_bytes(), &Limits::default());
        for (result, text) in [
            (
                v3.result.as_ref().err().unwrap(),
                v3.result.as_ref().err().unwrap().to_string(),
            ),
            (
                ssdn.result.as_ref().err().unwrap(),
                ssdn.result.as_ref().err().unwrap().to_string(),
            ),
        ] {
            assert!(
                text.contains("an HTML page titled \"Proxy Error\""),
                "{status}: {text}"
            );
            if status == 200 {
                assert!(
                    matches!(
                        result.kind(),
                        ErrorKind::Soap(SoapError::Foreign(Foreign::Html { title: Some(_) }))
                    ),
                    "{result:?}"
                );
            }
        }
        if status == 502 {
            assert!(matches!(
                v3.result.as_ref().map_err(bcss::Error::kind),
                Err(ErrorKind::V3(V3Error::HttpStatus { status: 502, .. }))
            ));
            assert!(matches!(
                ssdn.result.as_ref().map_err(bcss::Error::kind),
                Err(ErrorKind::Ssdn(SsdnError::HttpStatus { status: 502, .. }))
            ));
        }
    }
    // Well-formed XHTML is named too.
    let xhtml = r#"<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Maintenance</title></head><body/></html>"#;
    let d = rtg().decode(200, xhtml.as_bytes(), &Limits::default());
    assert!(
        matches!(
            d.result.as_ref().map_err(bcss::Error::kind),
            Err(ErrorKind::Soap(SoapError::Foreign(Foreign::Html { title: Some(t) }))) if t == "Maintenance"
        ),
        "{:?}",
        d.result
    );
}

#[test]
fn a_multipart_related_reply_is_named() {
    let envelope = rtg_reply();
    let body = format!(
        "--uuid:7c1f\r\nContent-Type: application/xop+xml; charset=UTF-8; type=\"text/xml\"\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <root.message@example>\r\n\r\n{envelope}\r\n--uuid:7c1f--\r\n"
    );
    for result in [
        rtg()
            .decode(200, body.as_bytes(), &Limits::default())
            .result
            .err(),
        identify()
            .decode(200, body.as_bytes(), &Limits::default())
            .result
            .err(),
    ] {
        let e = result.unwrap();
        assert!(
            matches!(e.kind(), ErrorKind::Soap(SoapError::Foreign(Foreign::Multipart { first_part: Some(t) }))
                    if t.starts_with("application/xop+xml")
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("multipart/related"), "{e}");
    }
}

#[test]
fn a_soap12_fault_is_named_with_its_code_and_reason() {
    let fault = r#"<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><env:Fault><env:Code><env:Value>env:Receiver</env:Value><env:Subcode><env:Value>m:Unavailable</env:Value></env:Subcode></env:Code><env:Reason><env:Text xml:lang="en">Service unavailable</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>"#;
    for status in [200, 500] {
        for e in [
            rtg()
                .decode(status, fault.as_bytes(), &Limits::default())
                .result
                .err(),
            identify()
                .decode(status, fault.as_bytes(), &Limits::default())
                .result
                .err(),
        ] {
            let text = e.unwrap().to_string();
            assert!(
                text.contains("SOAP 1.2")
                    && text.contains("fault env:Receiver/m:Unavailable: Service unavailable"),
                "{status}: {text}"
            );
        }
    }
}

#[test]
fn compressed_bytes_that_reach_a_decoder_are_named() {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(rtg_reply().as_bytes()).unwrap();
    let gz = e.finish().unwrap();
    let d = rtg().decode(200, &gz, &Limits::default());
    assert!(
        matches!(
            d.result.as_ref().map_err(bcss::Error::kind),
            Err(ErrorKind::Soap(SoapError::Foreign(Foreign::Compressed {
                format: "gzip"
            })))
        ),
        "{:?}",
        d.result
    );
}
