//! The fixture parser (`bcss::fixture::format::parse`, one recorded exchange in TOML).
//!
//! Checks: no panic, hang or unbounded memory; an error names the file and a line and
//! column inside the text; a fixture that reads is served (`served_reply`), and written
//! back (`fixture::format::to_toml`) reads again as the same exchange (its bodies ending
//! with a newline, as the writer ends them), and writes again the same.
#![no_main]

use std::path::Path;

use bcss::fixture::FixtureError;
use bcss::fixture::format::{parse, to_toml};
use bcss_fuzz::check_position;
use libfuzzer_sys::fuzz_target;

const PATH: &str = "fixtures/exchanges/Fuzz/fuzzed.toml";

fn end_with_newline(body: &mut String) {
    if !body.ends_with('\n') {
        body.push('\n');
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse(text, Path::new(PATH), "Fuzz/fuzzed") {
        Ok(fixture) => {
            let _ = format!("{:?}", fixture.served_reply());
            let written = to_toml(&fixture);
            match parse(&written, Path::new(PATH), "Fuzz/fuzzed") {
                Ok(again) => {
                    // The writer ends every body with a newline (its closing quotes on a
                    // line of their own): the one change it makes.
                    let mut expected = fixture.clone();
                    end_with_newline(&mut expected.request.body);
                    if let Some(body) = &mut expected.reply.body {
                        end_with_newline(body);
                    }
                    assert_eq!(again, expected, "{written}");
                    assert_eq!(to_toml(&again), written, "writing is not stable");
                }
                Err(e) => panic!("{written}\nwritten back, does not read: {e}"),
            }
        }
        Err(FixtureError::Invalid { location, message }) => {
            assert_eq!(location.path, Path::new(PATH));
            if let (Some(line), Some(column)) = (location.line, location.column) {
                check_position(text, line, column, &message);
            }
        }
        Err(other) => panic!("parsing text gave {other}"),
    }
});
