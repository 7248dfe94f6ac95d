//! Every validation error of `authorizations.toml`, with its line and column.

use bcss::manifest::{
    Bound, DeliberationRef, Diagnostic, GrantedBy, ManifestError, Policy, Severity, validate,
};

/// A valid manifest, one production entry. Line numbers are in the comments of the tests.
const BASE: &str = r#"[organization]
cbe = "0212344876"
name = "CPAS de Testville"
sector = 17

[[authorization]]
id = "a1"
environment = "production"
service = "IdentifyPerson"
purpose = "PCSA:SOCIAL_INQUIRY"
program = "00912345673"
deliberation = "13/084"
valid_from = 2025-01-01
valid_until = 2025-12-31
granted_by = "deputy"
"#;

/// BASE with line `n` (1-based) replaced by `new` (or removed when `new` is None).
fn with_line(n: usize, new: Option<&str>) -> String {
    let mut lines: Vec<&str> = BASE.lines().collect();
    match new {
        Some(l) => lines[n - 1] = l,
        None => {
            lines.remove(n - 1);
        }
    }
    lines.join("\n") + "\n"
}

fn diagnostics(text: &str) -> Vec<Diagnostic> {
    match validate(text, "m.toml") {
        Ok(p) => panic!("expected errors, the manifest was valid: {:?}", p.entries()),
        Err(d) => d,
    }
}

/// The one error of `text`, as `FILE:line:col: message`.
fn one_error(text: &str) -> String {
    let d = diagnostics(text);
    assert_eq!(d.len(), 1, "expected one error, got {d:#?}");
    assert_eq!(d[0].severity, Severity::Error);
    d[0].to_string()
}

fn assert_at(text: &str, line: usize, column: usize, needle: &str) {
    let e = one_error(text);
    let prefix = format!("m.toml:{line}:{column}: ");
    assert!(
        e.starts_with(&prefix),
        "{e:?} does not start with {prefix:?}"
    );
    assert!(e.contains(needle), "{e:?} does not mention {needle:?}");
}

#[test]
fn the_base_manifest_is_valid() {
    let p = validate(BASE, "m.toml").unwrap();
    assert!(p.warnings().is_empty());
    let e = &p.entries()[0];
    assert_eq!(e.id, "a1");
    assert_eq!(e.service, bcss::services::identify_person::service());
    assert_eq!(e.operations, None);
    assert_eq!(e.granted_by, GrantedBy::Deputy);
    assert_eq!(e.deliberation.to_string(), "13/084");
    assert_eq!(e.line, 6);
    assert_eq!(p.organization().sector, 17);
    assert_eq!(p.organization().sub_sector, None);
}

#[test]
fn unknown_key_in_an_entry_suggests_the_right_one() {
    // line 14: valid_until misspelt; the real key is then missing too (at the header).
    let text = with_line(14, Some("valid_untill = 2025-12-31"));
    let d: Vec<String> = diagnostics(&text).iter().map(|d| d.to_string()).collect();
    assert_eq!(
        d,
        vec![
            "m.toml:6:1: [[authorization]] 'a1': missing required key 'valid_until'".to_string(),
            "m.toml:14:1: unknown key 'valid_untill' in [[authorization]] (did you mean \
             'valid_until'?)"
                .to_string(),
        ]
    );
}

#[test]
fn unknown_key_in_organization_and_at_top_level() {
    let text = with_line(4, Some("sector = 17\nsectr = 18"));
    assert_at(
        &text,
        5,
        1,
        "unknown key 'sectr' in [organization] (did you mean 'sector'?)",
    );
    let text = format!("{BASE}\n[[authorisation]]\nid = \"x\"\n");
    assert_at(
        &text,
        17,
        3,
        "unknown key 'authorisation' at the top level (did you mean 'authorization'?)",
    );
    let text = format!("colour = \"blue\"\n{BASE}");
    assert_at(&text, 1, 1, "expected one of: organization, authorization");
}

#[test]
fn missing_fields_are_reported_at_the_entry_header() {
    for (line, key) in [
        (7, "id"),
        (8, "environment"),
        (9, "service"),
        (10, "purpose"),
        (11, "program"),
        (13, "valid_from"),
        (14, "valid_until"),
        (15, "granted_by"),
    ] {
        let text = with_line(line, None);
        assert_at(&text, 6, 1, &format!("missing required key '{key}'"));
    }
    for (line, key) in [(2, "cbe"), (3, "name"), (4, "sector")] {
        let text = with_line(line, None);
        assert_at(
            &text,
            1,
            1,
            &format!("[organization]: missing required key '{key}'"),
        );
    }
}

#[test]
fn missing_organization_table() {
    let text = BASE.replacen(
        "[organization]\ncbe = \"0212344876\"\nname = \"CPAS de Testville\"\nsector = 17\n",
        "",
        1,
    );
    assert_at(&text, 1, 1, "missing [organization] table");
}

#[test]
fn bad_cbe_check_digits() {
    let text = with_line(2, Some(r#"cbe = "0212344877""#));
    assert_at(&text, 2, 7, "check digits 77 do not verify (expected 76)");
    let text = with_line(2, Some("cbe = 212344876"));
    assert_at(&text, 2, 7, "must be a quoted string");
}

#[test]
fn program_number_that_is_not_11_digits() {
    let text = with_line(11, Some(r#"program = "009123456""#));
    assert_at(
        &text,
        11,
        11,
        "program number must be 11 digits, got 9 characters",
    );
    let text = with_line(11, Some(r#"program = "0091234567A""#));
    assert_at(&text, 11, 11, "digits only");
    let text = with_line(11, Some("program = 912345673"));
    assert_at(&text, 11, 11, "loses its leading zeros");
}

#[test]
fn program_check_digits_give_a_warning_not_an_error() {
    let text = with_line(11, Some(r#"program = "00912345600""#));
    let p = validate(&text, "m.toml").unwrap();
    let w: Vec<String> = p.warnings().iter().map(|d| d.to_string()).collect();
    assert_eq!(w.len(), 1);
    assert!(
        w[0].starts_with("m.toml:11:11: warning: program number 00912345600: its check digits"),
        "{w:?}"
    );
}

#[test]
fn production_entry_without_deliberation() {
    // Missing: reported at the entry's header.
    let text = with_line(12, None);
    assert_at(&text, 6, 1, "a production entry needs 'deliberation'");
    // Blank is not not-applicable.
    let text = with_line(12, Some(r#"deliberation = """#));
    assert_at(&text, 12, 16, "'deliberation' is blank");
    let text = with_line(12, Some(r#"deliberation = "   ""#));
    assert_at(&text, 12, 16, "'deliberation' is blank");
    // The explicit statement is accepted.
    let text = with_line(12, Some(r#"deliberation = "not-applicable""#));
    let p = validate(&text, "m.toml").unwrap();
    assert_eq!(p.entries()[0].deliberation, DeliberationRef::NotApplicable);
}

#[test]
fn deliberation_may_be_left_out_outside_production() {
    let text = with_line(8, Some(r#"environment = "test""#));
    let text = text.replace("deliberation = \"13/084\"\n", "");
    let p = validate(&text, "m.toml").unwrap();
    assert_eq!(p.entries()[0].deliberation, DeliberationRef::NotApplicable);
}

#[test]
fn malformed_deliberation() {
    let text = with_line(12, Some(r#"deliberation = "13-084""#));
    assert_at(&text, 12, 16, "'deliberation' must be YY/NNN");
    let text = with_line(12, Some(r#"deliberation = "n/a""#));
    assert_at(&text, 12, 16, "write \"not-applicable\" exactly");
    let text = with_line(12, Some("deliberation = 13084"));
    assert_at(
        &text,
        12,
        16,
        "'deliberation' must be a string, not integer",
    );
}

#[test]
fn valid_until_before_valid_from() {
    let text = with_line(14, Some("valid_until = 2024-12-31"));
    assert_at(
        &text,
        14,
        15,
        "'valid_until' (2024-12-31) is before 'valid_from' (2025-01-01)",
    );
    // The same day is one whole day: valid.
    let text = with_line(14, Some("valid_until = 2025-01-01"));
    assert!(validate(&text, "m.toml").is_ok());
    // An instant before the start of the first day.
    let text = with_line(14, Some("valid_until = 2024-12-31T23:59:59Z"));
    assert_at(&text, 14, 15, "is before 'valid_from'");
}

#[test]
fn dates_and_datetimes() {
    let text = with_line(13, Some("valid_from = 2025-01-01T08:00:00+01:00"));
    let text = text.replace("valid_until = 2025-12-31", r#"valid_until = "2025-12-31""#);
    let p = validate(&text, "m.toml").unwrap();
    let e = &p.entries()[0];
    assert!(matches!(e.valid_from, Bound::Instant(_)));
    assert!(matches!(e.valid_until, Bound::Date(_)));
    assert_eq!(e.not_before().to_rfc3339(), "2025-01-01T07:00:00+00:00");
    // A local datetime has no offset: refused.
    let text = with_line(13, Some("valid_from = 2025-01-01T08:00:00"));
    assert_at(&text, 13, 14, "has no offset");
    let text = with_line(13, Some(r#"valid_from = "January 1st""#));
    assert_at(&text, 13, 14, "'valid_from' must be a date");
    let text = with_line(13, Some("valid_from = 20250101"));
    assert_at(&text, 13, 14, "not integer");
}

#[test]
fn duplicate_ids() {
    let second = BASE.split("\n\n").nth(1).unwrap();
    let text = format!("{BASE}\n{second}\n");
    // The second entry's header is on line 17, its id on line 18.
    assert_at(&text, 18, 6, "duplicate id 'a1': already used on line 7");
}

#[test]
fn bad_ids() {
    let text = with_line(7, Some(r#"id = "two words""#));
    assert_at(&text, 7, 6, "'id' may hold only");
    let text = with_line(7, Some(r#"id = """#));
    assert_at(&text, 7, 6, "'id' is blank");
}

#[test]
fn unknown_service() {
    let text = with_line(9, Some(r#"service = "IdentifyPersons""#));
    assert_at(
        &text,
        9,
        11,
        "unknown service 'IdentifyPersons' (did you mean 'IdentifyPerson'?)",
    );
    let text = with_line(9, Some(r#"service = "OCMWCPASFoo""#));
    assert_at(
        &text,
        9,
        11,
        "the services this client knows: IdentifyPerson, ManageAccess",
    );
}

#[test]
fn unknown_operation() {
    let text = with_line(
        9,
        Some("service = \"ManageAccess\"\noperations = [\"list\", \"delete\"]"),
    );
    assert_at(
        &text,
        10,
        23,
        "'delete' is not an operation of ManageAccess (its operations: register, unregister, list)",
    );
    let text = with_line(
        9,
        Some("service = \"ManageAccess\"\noperations = [\"lst\"]"),
    );
    assert_at(&text, 10, 15, "(did you mean 'list'?)");
    let text = with_line(9, Some("service = \"ManageAccess\"\noperations = []"));
    assert_at(&text, 10, 14, "'operations' is empty");
    let text = with_line(9, Some("service = \"ManageAccess\"\noperations = \"list\""));
    assert_at(&text, 10, 14, "'operations' must be an array of strings");
}

#[test]
fn listed_operations_are_kept() {
    let text = with_line(
        9,
        Some(
            "service = \"ManageAccess\"\noperations = [\"list\", \"register\"]\n\
             access_purposes = [1]",
        ),
    );
    let p = validate(&text, "m.toml").unwrap();
    let e = &p.entries()[0];
    assert_eq!(
        e.operations,
        Some(vec!["list".to_string(), "register".to_string()])
    );
    assert!(e.covers_operation("list"));
    assert!(!e.covers_operation("unregister"));
}

#[test]
fn access_purposes_are_kept_and_checked() {
    // Line 9 is the service; the entry's header is line 6.
    let manage = |rest: &str| with_line(9, Some(&format!("service = \"ManageAccess\"\n{rest}")));
    let p = validate(&manage("access_purposes = [1, 7]"), "m.toml").unwrap();
    let e = &p.entries()[0];
    assert_eq!(e.access_purposes, Some(vec![1, 7]));
    assert!(e.covers_access_purpose("register", Some(7)));
    assert!(!e.covers_access_purpose("register", Some(3)));
    assert!(!e.covers_access_purpose("register", None));
    assert!(e.covers_access_purpose("list", None));

    // Required when the entry covers register or unregister (every operation, here).
    assert_at(
        &manage(""),
        6,
        1,
        "[[authorization]] 'a1': an entry that covers ManageAccess register and unregister \
         needs 'access_purposes'",
    );
    assert_at(
        &manage("operations = [\"unregister\"]"),
        6,
        1,
        "covers ManageAccess unregister needs 'access_purposes'",
    );
    // Not required for LIST only, but allowed.
    let p = validate(&manage("operations = [\"list\"]"), "m.toml").unwrap();
    assert_eq!(p.entries()[0].access_purposes, None);
    let p = validate(
        &manage("operations = [\"list\"]\naccess_purposes = [2]"),
        "m.toml",
    )
    .unwrap();
    assert_eq!(p.entries()[0].access_purposes, Some(vec![2]));

    // Only ManageAccess entries name purpose codes.
    let text = with_line(
        9,
        Some("service = \"IdentifyPerson\"\naccess_purposes = [1]"),
    );
    assert_at(
        &text,
        10,
        19,
        "'access_purposes' applies only to ManageAccess entries",
    );
    // Shapes: an array, not empty, of whole numbers.
    assert_at(
        &manage("access_purposes = 1"),
        10,
        19,
        "must be an array of purpose codes",
    );
    assert_at(
        &manage("access_purposes = []"),
        10,
        19,
        "'access_purposes' is empty",
    );
    assert_at(
        &manage("access_purposes = [1, \"7\"]"),
        10,
        23,
        "'access_purposes' must be an integer, not string",
    );
    assert_at(
        &manage("access_purposes = [-1]"),
        10,
        20,
        "'access_purposes' must be a whole number from 0 to",
    );
    // A code listed twice is a warning.
    let p = validate(&manage("access_purposes = [1, 1]"), "m.toml").unwrap();
    assert_eq!(p.entries()[0].access_purposes, Some(vec![1]));
    assert_eq!(
        p.warnings()[0].to_string(),
        "m.toml:10:23: warning: purpose code 1 is listed twice"
    );
}

#[test]
fn an_entry_that_lists_several_environments() {
    let text = with_line(8, Some(r#"environment = ["acceptance", "production"]"#));
    assert_at(
        &text,
        8,
        15,
        "covers exactly one environment, but this entry lists 2",
    );
    let text = with_line(8, Some(r#"environment = "acceptance,production""#));
    assert_at(&text, 8, 15, "write one [[authorization]] per environment");
    let text = with_line(8, Some(r#"environment = "acpt""#));
    assert_at(&text, 8, 15, "(did you mean 'acceptance'?)");
}

#[test]
fn granted_by_must_be_one_of_three() {
    let text = with_line(15, Some(r#"granted_by = "security_advisor""#));
    assert_at(&text, 15, 14, "(did you mean 'security-advisor'?)");
}

#[test]
fn purpose_must_fit_a_legal_context_for_common_v3_services() {
    let long = "X".repeat(65);
    let text =
        with_line(9, Some(r#"service = "RetrieveTIGroups""#)).replace("PCSA:SOCIAL_INQUIRY", &long);
    assert_at(&text, 10, 11, "at most 64 characters; this one has 65");
    let text = with_line(10, Some(r#"purpose = " PCSA""#));
    assert_at(&text, 10, 11, "leading or trailing spaces");
}

#[test]
fn a_single_authorization_table_is_refused() {
    let text = BASE.replace("[[authorization]]", "[authorization]");
    assert_at(
        &text,
        6,
        1,
        "must be an array of tables: write [[authorization]]",
    );
}

#[test]
fn syntax_errors_are_located() {
    let text = with_line(10, Some("purpose = PCSA:SOCIAL_INQUIRY"));
    let e = one_error(&text);
    assert!(e.starts_with("m.toml:10:11: TOML syntax:"), "{e}");
    let text = with_line(
        9,
        Some("service = \"IdentifyPerson\"\nservice = \"ManageAccess\""),
    );
    let e = one_error(&text);
    assert!(
        e.starts_with("m.toml:10:1: TOML syntax: duplicate key"),
        "{e}"
    );
}

#[test]
fn every_error_is_reported_in_one_pass_in_source_order() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/manifests/invalid-every-error.toml"
    ))
    .unwrap();
    let got: Vec<String> = diagnostics(&text).iter().map(|d| d.to_string()).collect();
    let want = [
        "m.toml:3:7: 'cbe': CBE number check digits 77 do not verify (expected 76)",
        "m.toml:6:1: unknown key 'sectr' in [organization] (did you mean 'sector'?)",
        "m.toml:8:1: [[authorization]] 'identify-prod': a production entry needs 'deliberation'",
        "m.toml:13:11: 'program': program number must be 11 digits, got 9 characters",
        "m.toml:18:1: [[authorization]] 'identify-prod': missing required key 'valid_until'",
        "m.toml:19:6: duplicate id 'identify-prod': already used on line 9",
        "m.toml:20:15: an authorisation covers exactly one environment, but this entry lists 2",
        "m.toml:21:11: unknown service 'IdentifyPersons' (did you mean 'IdentifyPerson'?)",
        "m.toml:24:16: 'deliberation' must be YY/NNN (for example 13/084) or \"not-applicable\", not \"13-084\"",
        "m.toml:26:1: unknown key 'valid_untill' in [[authorization]] (did you mean 'valid_until'?)",
        "m.toml:29:1: [[authorization]] 'manage-access': missing required key 'purpose'",
        "m.toml:33:23: 'delete' is not an operation of ManageAccess",
        "m.toml:35:16: 'deliberation' is blank",
        "m.toml:37:15: 'valid_until' (2025-05-31) is before 'valid_from' (2025-06-01)",
        "m.toml:38:14: 'granted_by' must be one of leading-official, deputy, security-advisor, not 'ceo'",
    ];
    assert_eq!(got.len(), want.len(), "{got:#?}");
    for (g, w) in got.iter().zip(want) {
        assert!(g.starts_with(w), "{g:?} does not start with {w:?}");
    }
}

#[test]
fn the_error_type_carries_every_line() {
    let text = with_line(2, Some(r#"cbe = "0212344877""#));
    let text = text.replace("\"deputy\"", "\"boss\"");
    match Policy::parse(&text, "m.toml") {
        Err(ManifestError::Invalid(lines)) => {
            assert_eq!(lines.len(), 2);
            assert!(lines[0].starts_with("m.toml:2:7: "));
            assert!(lines[1].starts_with("m.toml:15:14: "));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn no_entries_is_valid_with_a_warning() {
    let text = BASE.split("\n\n").next().unwrap().to_string() + "\n";
    let p = validate(&text, "m.toml").unwrap();
    assert!(p.entries().is_empty());
    assert_eq!(
        p.warnings()[0].to_string(),
        "m.toml:1:1: warning: no [[authorization]] entries: every call will be refused"
    );
}

#[test]
fn the_example_manifest_is_valid_without_warnings() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/manifests/example-authorizations.toml"
    );
    let p = Policy::load(std::path::Path::new(path)).unwrap();
    assert!(p.warnings().is_empty(), "{:?}", p.warnings());
    assert_eq!(p.entries().len(), 5);
    assert_eq!(p.organization().sub_sector, Some(0));
}

#[test]
fn arbitrary_bytes_never_panic() {
    // A few hostile inputs; the property tests cover random manifests.
    for text in [
        "",
        "\u{0}",
        "[[authorization]]\n[[authorization]]\n",
        "organization = 3\nauthorization = [1, \"x\", {id = 3}]",
        "[organization]\ncbe = \"\u{e9}\u{e9}\"\nsector = -1\nsub_sector = 99999999999\n",
        &"[".repeat(10_000),
    ] {
        let _ = validate(text, "m.toml");
    }
}
