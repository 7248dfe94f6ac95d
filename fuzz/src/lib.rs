//! What the fuzz targets share: the requests whose replies they decode, the envelopes
//! that carry fuzzed content to a decoder, and the checks every target makes on what the
//! library returns.
//!
//! A check that fails panics: libFuzzer reports a panic as a crash, with the input.

use bcss::ids::Ssin;
use bcss::services::{Decoded, Outcome};
use chrono::NaiveDate;

/// A fictitious SSIN of the project's cast (Marc FICTIF), valid check digits.
pub fn ssin() -> Ssin {
    match Ssin::new("68070100188") {
        Ok(s) => s,
        Err(e) => panic!("the cast's SSIN must be valid: {e}"),
    }
}

/// A day (for requests that need a period).
pub fn day(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(d) => d,
        None => panic!("{year}-{month}-{day} is a day"),
    }
}

/// The HTTP status a target decodes with: most replies come with 200, faults with 500,
/// and a proxy's page with anything. The input's length picks one, so that every input
/// is decoded once (the decoders are what is fuzzed, not the choice).
pub fn http_status(data: &[u8]) -> u16 {
    match data.len() % 4 {
        0 => 500,
        1 => 503,
        _ => 200,
    }
}

/// Check what a typed decode returned, whatever the input:
/// - the result is `Ok` exactly when the outcome says data came back (`Ok`, `Warning`);
/// - an error's message, the journal's outcome and the typed result can be shown
///   (`Display` and `Debug` never panic), and the typed result serialises as JSON (as
///   `bcss call` prints it).
pub fn check_decoded<T: std::fmt::Debug + serde::Serialize>(decoded: &Decoded<T>) {
    let data_came_back = matches!(decoded.outcome, Outcome::Ok | Outcome::Warning { .. });
    assert_eq!(
        data_came_back,
        decoded.result.is_ok(),
        "outcome {:?} disagrees with the result {:?}",
        decoded.outcome,
        decoded.result.as_ref().map(|_| "data")
    );
    match &decoded.result {
        Ok(reply) => {
            let _ = format!("{reply:?}");
            if let Err(e) = serde_json::to_string(reply) {
                panic!("a decoded reply does not serialise (the CLI prints it as JSON): {e}");
            }
        }
        Err(e) => {
            let message = e.to_string();
            assert!(!message.is_empty(), "an error without a message");
        }
    }
    let _ = format!("{:?} {:?}", decoded.outcome, decoded.stamp);
}

/// Check that `FILE:line:col` points inside `text`: the line exists, and the column is at
/// most one past the line's last character (columns count characters, from 1).
pub fn check_position(text: &str, line: usize, column: usize, message: &dyn std::fmt::Display) {
    assert!(line >= 1, "line 0 in {message}");
    assert!(column >= 1, "column 0 in {message}");
    let Some(line_text) = text.split('\n').nth(line - 1) else {
        panic!(
            "line {line} is past the end ({} lines) in {message}",
            text.split('\n').count()
        );
    };
    let chars = line_text.chars().count();
    assert!(
        column <= chars + 1,
        "column {column} is past the end of line {line} ({chars} characters) in {message}"
    );
}

/// Escape text for an XML character-data position (`&`, `<`, `>`).
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// A connector reply (`sendXMLResponse`) whose `xmlString` holds `document`, escaped, as
/// BCSS sends the SSDN reply document.
pub fn ssdn_envelope(document: &str) -> Vec<u8> {
    let mut out = String::with_capacity(document.len() + 400);
    out.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <S:Envelope xmlns:S=\"http://schemas.xmlsoap.org/soap/envelope/\"><S:Header/><S:Body>\
         <ns2:xmlString xmlns:ns2=\"http://ksz-bcss.fgov.be/connectors/WebServiceConnector\">",
    );
    out.push_str(&escape_text(document));
    out.push_str("</ns2:xmlString></S:Body></S:Envelope>");
    out.into_bytes()
}

/// The start of a RetrieveTIGroups reply with data found, up to the opening tag of
/// `rrn_it_implicit` (which declares the National Register's namespace as `ns3`, as
/// BCSS's replies do on the response element).
pub const NR_PREFIX: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Header/><soapenv:Body>\
<ns2:retrieveTIGroupsResponse xmlns:ns2=\"http://kszbcss.fgov.be/intf/RetrieveTIGroupsService/v2\" \
xmlns:ns3=\"http://www.ibz.rrn.fgov.be/XSD/xm25/rn25Schema\">\
<informationCBSS><ticketCBSS>3f1c9a52-6d0e-4b7a-9c1e-2a5b8d7e4f10</ticketCBSS>\
<timestampReceive>2024-05-17T11:30:00.412+02:00</timestampReceive>\
<timestampReply>2024-05-17T11:30:01.087+02:00</timestampReply></informationCBSS>\
<legalContext>PCSA:SOCIAL_INQUIRY</legalContext>\
<searchInformation><ssin>68070100188</ssin><language>fr</language><history>true</history></searchInformation>\
<status><value>DATA_FOUND</value><code>MSG00000</code><description>Success</description></status>\
<rrn_it_implicit Language=\"fr\">";

/// The end of that reply, from the closing tag of `rrn_it_implicit`.
pub const NR_SUFFIX: &str =
    "</rrn_it_implicit></ns2:retrieveTIGroupsResponse></soapenv:Body></soapenv:Envelope>";

/// A RetrieveTIGroups reply with data found whose `rrn_it_implicit` holds `content`
/// as it is (the National Register's groups, in the `ns3` namespace).
pub fn national_register_reply(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(NR_PREFIX.len() + content.len() + NR_SUFFIX.len());
    out.extend_from_slice(NR_PREFIX.as_bytes());
    out.extend_from_slice(content);
    out.extend_from_slice(NR_SUFFIX.as_bytes());
    out
}

/// The first run of exactly 11 digits in `data` that is a valid SSIN, else [`ssin()`]: the
/// request is then about the person the reply echoes, so that a reply recorded for any
/// person of the cast is decoded past the check that it answers the request.
pub fn ssin_in(data: &[u8]) -> Ssin {
    let mut start = 0;
    while start < data.len() {
        if !data[start].is_ascii_digit() {
            start += 1;
            continue;
        }
        let end = data[start..]
            .iter()
            .position(|b| !b.is_ascii_digit())
            .map_or(data.len(), |n| start + n);
        if end - start == 11
            && let Ok(text) = std::str::from_utf8(&data[start..end])
            && let Ok(found) = Ssin::new(text)
        {
            return found;
        }
        start = end;
    }
    ssin()
}
