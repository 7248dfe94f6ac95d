//! MB/s of decoding two large replies, beside quick-xml's bare event loop over the same
//! bytes, measured in the same run:
//!
//! - a RetrieveTIGroups reply with history (the shipped `ok_anna_history.xml`, its
//!   history groups repeated to about 190 KB);
//! - an IdentifyPerson phonetic reply with 100 candidates (the shipped
//!   `ok_phonetic.xml`, its two `LimitedLegalData` repeated 50 times each: 68 KB, as escaped
//!   text inside `xmlString`, as BCSS sends it).
//!
//! For each reply it prints the bare loop (`quick_xml::Reader::read_event` until `Eof`,
//! no namespace resolution, nothing kept), the bounded DOM parser alone
//! (`bcss::xml::parse`) and the whole typed decode (`ServiceRequest::decode`: envelope,
//! status, the inner SSDN document, the typed response), and the ratio of each to the bare
//! loop. Target: the whole decode at least 50% of the bare loop's MB/s.
//!
//! Run with `cargo bench --bench decode`. To count instructions, which do not drift with
//! the machine's load, run one case a fixed number of times under callgrind, once with
//! 0 iterations (the setup) and once with N; the difference over N is the cost per decode:
//!
//! ```text
//! cargo bench --bench decode --no-run
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/deps/decode-* \
//!     --only rtg-decode --iterations 100
//! ```
//!
//! Cases for `--only`: `rtg-bare`, `rtg-parse`, `rtg-decode`, `ip-bare`, `ip-parse`,
//! `ip-decode`, and `ip-inner-bare` (the bare loop over the SSDN document inside
//! `xmlString`, which an SSDN decode reads a second time). Results: `BENCHMARKS.md`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bcss::ids::Ssin;
use bcss::services::ServiceRequest;
use bcss::services::identify_person::{IdentifyPersonRequest, PhoneticCriteria};
use bcss::services::retrieve_ti_groups::RetrieveTi;
use bcss::xml::{self, Limits};
use quick_xml::Reader;
use quick_xml::events::Event;

const ROUNDS: usize = 7;

const RTG: &str = include_str!("../fixtures/replies/v3/RetrieveTIGroups/ok_anna_history.xml");
const PHONETIC: &str = include_str!("../fixtures/replies/ssdn/IdentifyPerson/ok_phonetic.xml");

/// `text` with the content of the first `<group ...>` element repeated `times` times.
fn repeat_content(text: &str, group: &str, times: usize) -> String {
    let open = text
        .find(&format!("<{group} "))
        .expect("bench input: group");
    let start = open + text[open..].find('>').expect("bench input: start tag") + 1;
    let end = start
        + text[start..]
            .find(&format!("</{group}>"))
            .expect("bench input: end tag");
    let content = &text[start..end];
    let mut out = String::with_capacity(text.len() + content.len() * times);
    out.push_str(&text[..start]);
    for _ in 0..times {
        out.push_str(content);
    }
    out.push_str(&text[end..]);
    out
}

/// The RetrieveTIGroups reply with history: every history group repeated.
fn large_rtg() -> Vec<u8> {
    let mut s = RTG.to_string();
    for group in [
        "FileOwner",
        "Names",
        "LegalMainAddresses",
        "Nationalities",
        "CivilStates",
        "IdentityCards",
    ] {
        s = repeat_content(&s, group, 40);
    }
    s.into_bytes()
}

/// The phonetic reply with 100 candidates.
fn phonetic_100() -> Vec<u8> {
    let open = "&lt;ip:LimitedLegalData";
    let close = "&lt;/ip:LimitedLegalData&gt;";
    let first = PHONETIC.find(open).expect("bench input: first candidate");
    let last = PHONETIC.rfind(close).expect("bench input: last candidate") + close.len();
    let both = &PHONETIC[first..last];
    let mut s = String::from(&PHONETIC[..first]);
    for _ in 0..50 {
        s.push_str(both);
    }
    s.push_str(&PHONETIC[last..]);
    s.into_bytes()
}

/// quick-xml's bare event loop: every event read, nothing kept.
fn bare(bytes: &[u8]) -> usize {
    let mut reader = Reader::from_reader(bytes);
    let mut events = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => return events,
            Ok(e) => {
                black_box(&e);
                events += 1;
            }
            Err(e) => panic!("bench input is not well-formed: {e}"),
        }
    }
}

fn parse(bytes: &[u8]) -> usize {
    let root = xml::parse(bytes, &Limits::default()).expect("bench input parses");
    root.children.len()
}

fn decode_rtg(request: &RetrieveTi, bytes: &[u8]) -> usize {
    let decoded = request.decode(200, bytes, &Limits::default());
    let reply = decoded
        .result
        .expect("RetrieveTIGroups bench reply decodes");
    reply.data.person.addresses.len()
}

fn decode_phonetic(request: &IdentifyPersonRequest, bytes: &[u8]) -> usize {
    let decoded = request.decode(200, bytes, &Limits::default());
    let reply = decoded.result.expect("IdentifyPerson bench reply decodes");
    reply.data.persons.len()
}

/// The best of a few rounds: seconds per call of `f`, each round running for about
/// `budget`.
fn best_seconds(budget: Duration, mut f: impl FnMut() -> usize) -> f64 {
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < budget / 4 {
        black_box(f());
        n += 1;
    }
    let per_round = (n * 4).max(1);
    let mut best = f64::MAX;
    for _ in 0..ROUNDS {
        let t = Instant::now();
        for _ in 0..per_round {
            black_box(f());
        }
        best = best.min(t.elapsed().as_secs_f64() / f64::from(per_round));
    }
    best
}

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let rtg_request = RetrieveTi::new(Ssin::new("85031204246").expect("SSIN"))
        .expect("request")
        .with_history(true);
    let ip_request = IdentifyPersonRequest::builder()
        .phonetic(
            PhoneticCriteria::new("BISNUMMER", "1975-01-00".parse().expect("date")).tolerance(1),
        )
        .build()
        .expect("request");
    let rtg = Case {
        name: "RetrieveTIGroups with history",
        bytes: large_rtg(),
    };
    let ip = Case {
        name: "IdentifyPerson phonetic, 100 candidates",
        bytes: phonetic_100(),
    };
    // The SSDN document inside `xmlString`, unescaped: what the second parse reads.
    let inner = bcss::ssdn::xml_string_of(&ip.bytes, &Limits::default()).expect("xmlString");

    if let Some(only) = arg("--only") {
        let iterations: usize = arg("--iterations")
            .and_then(|n| n.parse().ok())
            .unwrap_or(100);
        let mut f: Box<dyn FnMut() -> usize> = match only.as_str() {
            "rtg-bare" => Box::new(|| bare(&rtg.bytes)),
            "rtg-parse" => Box::new(|| parse(&rtg.bytes)),
            "rtg-decode" => Box::new(|| decode_rtg(&rtg_request, &rtg.bytes)),
            "ip-bare" => Box::new(|| bare(&ip.bytes)),
            "ip-parse" => Box::new(|| parse(&ip.bytes)),
            "ip-decode" => Box::new(|| decode_phonetic(&ip_request, &ip.bytes)),
            "ip-inner-bare" => Box::new(|| bare(inner.as_bytes())),
            other => panic!("unknown case {other}"),
        };
        for _ in 0..iterations {
            black_box(f());
        }
        return;
    }

    // The inputs must decode to what they claim before anything is timed.
    assert_eq!(decode_rtg(&rtg_request, &rtg.bytes), 80);
    assert_eq!(decode_phonetic(&ip_request, &ip.bytes), 100);
    let budget = Duration::from_millis(400);
    println!("decoding throughput, best of {ROUNDS} rounds (MB = 10^6 bytes)");
    for (case, decode) in [
        (
            &rtg,
            Box::new(|b: &[u8]| decode_rtg(&rtg_request, b)) as Box<dyn Fn(&[u8]) -> usize>,
        ),
        (&ip, Box::new(|b: &[u8]| decode_phonetic(&ip_request, b))),
    ] {
        let mb = case.bytes.len() as f64 / 1e6;
        let bare_s = best_seconds(budget, || bare(&case.bytes));
        let parse_s = best_seconds(budget, || parse(&case.bytes));
        let decode_s = best_seconds(budget, || decode(&case.bytes));
        println!("{} ({} bytes):", case.name, case.bytes.len());
        println!("  quick-xml bare event loop  {:8.1} MB/s", mb / bare_s);
        println!(
            "  bcss::xml::parse (DOM)     {:8.1} MB/s  {:5.1}% of bare",
            mb / parse_s,
            100.0 * bare_s / parse_s
        );
        if case.name.starts_with("IdentifyPerson") {
            let inner_s = best_seconds(budget, || bare(inner.as_bytes()));
            println!(
                "  bare loop, inner document  {:8.1} MB/s  ({} bytes, read a second time)",
                inner.len() as f64 / 1e6 / inner_s,
                inner.len()
            );
        }
        let ratio = bare_s / decode_s;
        println!(
            "  whole typed decode         {:8.1} MB/s  {:5.1}% of bare  (target >= 50%: {})",
            mb / decode_s,
            100.0 * ratio,
            if ratio >= 0.5 { "met" } else { "NOT met" }
        );
    }
}
