//! The guard against a reference model: random manifests (written out as TOML and loaded
//! through the real parser), random calls and random instants; the guard and a small,
//! obviously correct matcher must agree on every decision. ManageAccess entries carry
//! random BCSS purpose codes (`access_purposes`), and calls random codes.

use bcss::Environment;
use bcss::ids::ProgramId;
use bcss::manifest::{Decision, DenialReason, Facts, Guard};
use bcss::services::{Catalogue, Service};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use proptest::prelude::*;

const SERVICES: [&str; 4] = [
    "IdentifyPerson",
    "ManageAccess",
    "HealthCareInsurance",
    // Never in a generated manifest: the "nothing for this service" case.
    "RetrieveTIGroups",
];
const PURPOSES: [&str; 4] = [
    "PCSA:SOCIAL_INQUIRY",
    "PCSA:DEBT_MEDIATION",
    "AUDIT",
    "MARKETING",
];
/// HealthCareInsurance's legalContext is a closed list: its entries and calls use these.
const HCI_PURPOSES: [&str; 4] = [
    "social inquiry and financial help",
    "query insurance",
    "CBSS validation",
    "Heating Allowance",
];

fn service_at(i: usize) -> &'static Service {
    Catalogue::builtin().get(SERVICES[i]).unwrap()
}

fn is_manage_access(service: &Service) -> bool {
    service.name() == "ManageAccess"
}

/// The purposes generated for `service`.
fn purposes(service: &Service) -> [&'static str; 4] {
    if service.legal_context().closed_values().is_some() {
        HCI_PURPOSES
    } else {
        PURPOSES
    }
}
// The first two verify as SSIN check digits, the third does not (a warning, still valid).
const PROGRAMS: [&str; 4] = ["00912345673", "00912345772", "00912345600", "00920000161"];

fn day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + Duration::days(n)
}

/// A validity bound, as generated.
#[derive(Debug, Clone, Copy)]
enum B {
    /// A whole UTC day.
    Day(i64),
    /// An instant: a day, a second of that day, and an offset in hours.
    At(i64, u32, i32),
}

impl B {
    fn toml(self) -> String {
        match self {
            B::Day(d) => day(d).format("%Y-%m-%d").to_string(),
            B::At(d, s, h) => {
                let local = day(d).and_time(NaiveTime::MIN) + Duration::seconds(i64::from(s));
                let sign = if h < 0 { '-' } else { '+' };
                format!(
                    "{}{sign}{:02}:00",
                    local.format("%Y-%m-%dT%H:%M:%S"),
                    h.abs()
                )
            }
        }
    }
    /// The reference's own reading of the documented semantics.
    fn first(self) -> DateTime<Utc> {
        match self {
            B::Day(d) => day(d).and_time(NaiveTime::MIN).and_utc(),
            B::At(d, s, h) => {
                day(d).and_time(NaiveTime::MIN).and_utc() + Duration::seconds(i64::from(s))
                    - Duration::hours(i64::from(h))
            }
        }
    }
    fn last(self) -> DateTime<Utc> {
        match self {
            B::Day(d) => day(d + 1).and_time(NaiveTime::MIN).and_utc() - Duration::nanoseconds(1),
            B::At(..) => self.first(),
        }
    }
}

#[derive(Debug, Clone)]
struct E {
    id: String,
    env: Environment,
    service: &'static Service,
    /// Bit i set: covers the service's operation i. None: every operation.
    ops: Option<u8>,
    purpose: &'static str,
    program: &'static str,
    /// ManageAccess: the BCSS purpose codes covered (`access_purposes`).
    codes: Option<Vec<u32>>,
    from: B,
    until: B,
}

/// Whether a call of `operation` of `service` must carry a BCSS purpose code.
fn needs_code(service: &Service, operation: &str) -> bool {
    is_manage_access(service) && matches!(operation, "register" | "unregister")
}

impl E {
    /// The documented rule: a code is granted when listed; no code only for an operation
    /// that needs none.
    fn grants_code(&self, operation: &str, code: Option<u32>) -> bool {
        match (code, &self.codes) {
            (Some(c), Some(codes)) => codes.contains(&c),
            (Some(_), None) => false,
            (None, _) => !needs_code(self.service, operation),
        }
    }

    fn covers(&self, op: &str) -> bool {
        let ops = self.service.operation_names();
        match self.ops {
            None => ops.contains(&op),
            Some(mask) => ops
                .iter()
                .enumerate()
                .any(|(i, o)| mask & (1 << i) != 0 && *o == op),
        }
    }

    fn toml(&self) -> String {
        let mut s = format!(
            "[[authorization]]\nid = \"{}\"\nenvironment = \"{}\"\nservice = \"{}\"\n",
            self.id,
            self.env.as_str(),
            self.service.name()
        );
        if let Some(mask) = self.ops {
            let ops: Vec<String> = self
                .service
                .operation_names()
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, o)| format!("\"{o}\""))
                .collect();
            s += &format!("operations = [{}]\n", ops.join(", "));
        }
        s += &format!(
            "purpose = \"{}\"\nprogram = \"{}\"\n",
            self.purpose, self.program
        );
        if self.env == Environment::Production {
            s += "deliberation = \"13/084\"\n";
        }
        if let Some(codes) = &self.codes {
            let codes: Vec<String> = codes.iter().map(u32::to_string).collect();
            s += &format!("access_purposes = [{}]\n", codes.join(", "));
        }
        s += &format!(
            "valid_from = {}\nvalid_until = {}\ngranted_by = \"deputy\"\n\n",
            self.from.toml(),
            self.until.toml()
        );
        s
    }
}

fn manifest_text(entries: &[E]) -> String {
    let mut s = String::from(
        "[organization]\ncbe = \"0212344876\"\nname = \"CPAS de Testville\"\nsector = 17\n\n",
    );
    for e in entries {
        s += &e.toml();
    }
    s
}

/// What the reference decides: the granted entry id, or the reason and the nearest entry.
type Verdict = Result<String, (DenialReason, Option<String>)>;

/// The reference matcher: the documented filters, one after the other, over the entries
/// in file order.
fn reference(entries: &[E], f: &Facts<'_>, at: DateTime<Utc>) -> Verdict {
    let s1: Vec<&E> = entries
        .iter()
        .filter(|e| e.service.name() == f.service)
        .collect();
    if s1.is_empty() {
        return Err((DenialReason::NoAuthorization, None));
    }
    let s2: Vec<&E> = s1
        .iter()
        .copied()
        .filter(|e| e.env == f.environment)
        .collect();
    if s2.is_empty() {
        return Err((DenialReason::WrongEnvironment, Some(s1[0].id.clone())));
    }
    let s3: Vec<&E> = s2
        .iter()
        .copied()
        .filter(|e| e.covers(f.operation))
        .collect();
    if s3.is_empty() {
        return Err((DenialReason::NoAuthorization, Some(s2[0].id.clone())));
    }
    let s4: Vec<&E> = s3
        .iter()
        .copied()
        .filter(|e| e.purpose == f.purpose)
        .collect();
    if s4.is_empty() {
        return Err((DenialReason::PurposeNotAuthorized, Some(s3[0].id.clone())));
    }
    let s4b: Vec<&E> = s4
        .iter()
        .copied()
        .filter(|e| e.grants_code(f.operation, f.access_purpose))
        .collect();
    if s4b.is_empty() {
        return Err((
            DenialReason::AccessPurposeNotAuthorized,
            Some(s4[0].id.clone()),
        ));
    }
    let s5: Vec<&E> = s4b
        .iter()
        .copied()
        .filter(|e| f.program.is_none_or(|p| p.as_str() == e.program))
        .collect();
    if s5.is_empty() {
        return Err((DenialReason::ProgramMismatch, Some(s4b[0].id.clone())));
    }
    if let Some(e) = s5
        .iter()
        .find(|e| e.from.first() <= at && at <= e.until.last())
    {
        return Ok(e.id.clone());
    }
    // Not yet valid: the one that starts first. Expired: the one that ended last. Ties go
    // to the earlier entry in the file.
    let mut starts_first: Option<&E> = None;
    let mut ended_last: Option<&E> = None;
    for e in &s5 {
        if at < e.from.first() {
            if starts_first.is_none_or(|s| e.from.first() < s.from.first()) {
                starts_first = Some(e);
            }
        } else if ended_last.is_none_or(|s| e.until.last() > s.until.last()) {
            ended_last = Some(e);
        }
    }
    match (starts_first, ended_last) {
        (Some(e), _) => Err((DenialReason::NotYetValid, Some(e.id.clone()))),
        (None, Some(e)) => Err((DenialReason::Expired, Some(e.id.clone()))),
        (None, None) => unreachable!("every entry is valid, not yet valid or expired"),
    }
}

fn bound() -> impl Strategy<Value = B> {
    prop_oneof![
        3 => (0i64..15).prop_map(B::Day),
        1 => (0i64..15, 0u32..86_400, -3i32..=3).prop_map(|(d, s, h)| B::At(d, s, h)),
    ]
}

fn entry() -> impl Strategy<Value = E> {
    (
        0usize..3,
        0usize..3,
        prop::option::of(1u8..8),
        prop_oneof![3 => Just(0usize), 1 => Just(1usize), 1 => Just(2usize)],
        prop_oneof![3 => Just(0usize), 1 => Just(1usize), 1 => Just(2usize)],
        bound(),
        bound(),
        prop::option::of(prop::collection::vec(1u32..5, 1..3)),
    )
        .prop_map(|(env, svc, ops, purpose, program, a, b, codes)| {
            let service = service_at(svc);
            // Keep only the bits of operations the service has.
            let n = service.operations().len();
            let ops = ops.map(|m| m & ((1u8 << n) - 1)).filter(|m| *m != 0);
            // Codes only for ManageAccess; required when it covers register/unregister.
            let writes = service
                .operation_names()
                .iter()
                .enumerate()
                .any(|(i, o)| needs_code(service, o) && ops.is_none_or(|m| m & (1 << i) != 0));
            let codes = match is_manage_access(service) {
                true if writes => Some(codes.unwrap_or_else(|| vec![1])),
                true => codes,
                false => None,
            };
            // Order the bounds so that the entry is valid (until on or after from).
            let (from, until) = if b.last() < a.first() { (b, a) } else { (a, b) };
            E {
                id: String::new(),
                env: Environment::ALL[env],
                service,
                ops,
                purpose: purposes(service)[purpose],
                program: PROGRAMS[program],
                codes,
                from,
                until,
            }
        })
}

fn entries() -> impl Strategy<Value = Vec<E>> {
    prop::collection::vec(entry(), 0..20).prop_map(|mut v| {
        for (i, e) in v.iter_mut().enumerate() {
            e.id = format!("e{i}");
        }
        v
    })
}

/// A call: either random facts, or the facts of one of the entries (`base`), with one of
/// them changed to the random value when `change` is 1 to 5.
#[derive(Debug, Clone, Copy)]
struct Call {
    base: Option<usize>,
    change: u8,
    env: usize,
    service: usize,
    /// One past the service's operations: an operation it does not have.
    operation: usize,
    purpose: usize,
    /// 4: the client has no program number configured.
    program: usize,
    /// A random BCSS purpose code, or none.
    code: Option<u32>,
    instant: Instant,
}

#[derive(Debug, Clone, Copy)]
enum Instant {
    /// A day and a second within it.
    Within(i64, u32),
    /// Exactly the first or last instant of a generated bound of entry i.
    Edge(usize, bool),
}

fn call() -> impl Strategy<Value = Call> {
    let instant = prop_oneof![
        (-2i64..18, 0u32..86_400).prop_map(|(d, s)| Instant::Within(d, s)),
        (0usize..20, any::<bool>()).prop_map(|(i, f)| Instant::Edge(i, f)),
    ];
    (
        prop::option::weighted(0.8, 0usize..20),
        0u8..8,
        (0usize..3, 0usize..4, 0usize..4, 0usize..4, 0usize..5),
        prop::option::weighted(0.9, 0u32..6),
        instant,
    )
        .prop_map(
            |(base, change, (env, service, operation, purpose, program), code, instant)| Call {
                base,
                change,
                env,
                service,
                operation,
                purpose,
                program,
                code,
                instant,
            },
        )
}

/// The facts of a call: (environment, service, operation, purpose, program index, BCSS
/// purpose code). A call based on an entry carries one of the entry's codes (none when it
/// has none), and the random code when `change` is 5; a random call to ManageAccess
/// carries the random code.
fn facts_of(
    entries: &[E],
    c: &Call,
) -> (
    Environment,
    &'static Service,
    &'static str,
    &'static str,
    usize,
    Option<u32>,
) {
    let service = service_at(c.service);
    let random_op = |s: &'static Service| {
        s.operation_names()
            .get(c.operation)
            .copied()
            .unwrap_or("bogusOperation")
    };
    let random = (
        Environment::ALL[c.env],
        service,
        random_op(service),
        purposes(service)[c.purpose],
        c.program,
        c.code.filter(|_| is_manage_access(service)),
    );
    let Some(e) = c
        .base
        .filter(|_| !entries.is_empty())
        .map(|b| &entries[b % entries.len()])
    else {
        return random;
    };
    let op = e
        .service
        .operation_names()
        .into_iter()
        .find(|o| e.covers(o))
        .unwrap_or("none");
    let program = if c.program == 4 {
        4
    } else {
        PROGRAMS.iter().position(|p| *p == e.program).unwrap_or(4)
    };
    let code = e
        .codes
        .as_ref()
        .map(|codes| codes[c.operation % codes.len()]);
    let mut f = (e.env, e.service, op, e.purpose, program, code);
    match c.change {
        1 => f.0 = random.0,
        2 => f.2 = random_op(e.service),
        3 => f.3 = purposes(e.service)[c.purpose],
        4 => f.4 = random.4,
        5 => f.5 = c.code,
        _ => {}
    }
    f
}

fn resolve(entries: &[E], i: Instant) -> DateTime<Utc> {
    match i {
        Instant::Within(d, s) => {
            day(d).and_time(NaiveTime::MIN).and_utc() + Duration::seconds(i64::from(s))
        }
        Instant::Edge(_, _) if entries.is_empty() => day(0).and_time(NaiveTime::MIN).and_utc(),
        Instant::Edge(i, first) => {
            let e = &entries[i % entries.len()];
            // The edge itself, or one nanosecond outside it.
            match (first, i % 2 == 0) {
                (true, true) => e.from.first(),
                (true, false) => e.from.first() - Duration::nanoseconds(1),
                (false, true) => e.until.last(),
                (false, false) => e.until.last() + Duration::nanoseconds(1),
            }
        }
    }
}

fn verdict(d: &Decision) -> Verdict {
    match d {
        Decision::Grant(g) => Ok(g.authorization_id.clone()),
        Decision::Deny(d) => Err((d.reason, d.nearest_entry.clone())),
    }
}

/// Decide every call with the guard and the reference; fail on the first disagreement.
/// Returns the reference's verdicts.
fn check_case(entries: &[E], calls: &[Call]) -> Result<Vec<Verdict>, TestCaseError> {
    let mut verdicts = Vec::new();
    {
        let text = manifest_text(entries);
        let guard = Guard::from_str(&text, "random.toml")
            .map_err(|e| TestCaseError::fail(format!("generated manifest refused: {e}\n{text}")))?;
        let programs: Vec<ProgramId> = PROGRAMS
            .iter()
            .map(|p| ProgramId::new(p).unwrap())
            .collect();
        for c in calls {
            let (environment, service, operation, purpose, program, code) = facts_of(entries, c);
            let facts = Facts {
                environment,
                service: service.name(),
                operation,
                purpose,
                program: programs.get(program),
                access_purpose: code,
            };
            let at = resolve(entries, c.instant);
            let got = guard.decide(&facts, at);
            let want = reference(entries, &facts, at);
            verdicts.push(want.clone());
            prop_assert_eq!(
                verdict(&got),
                want.clone(),
                "facts {:?} at {}\n{}",
                facts,
                at,
                text
            );
            match (&got, want) {
                (Decision::Grant(g), Ok(id)) => {
                    let e = entries.iter().find(|e| e.id == id).unwrap();
                    prop_assert_eq!(&g.purpose, e.purpose);
                    prop_assert_eq!(g.program.as_str(), e.program);
                }
                (Decision::Deny(d), Err((_, Some(nearest)))) => {
                    // The explanation names the nearest entry, except when the service
                    // itself is unknown.
                    prop_assert!(
                        d.message.contains(&format!("'{nearest}'"))
                            || d.message.contains("is not an operation"),
                        "{}",
                        d.message
                    );
                }
                _ => {}
            }
        }
    }
    Ok(verdicts)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_guard_agrees_with_the_reference(
        entries in entries(),
        calls in prop::collection::vec(call(), 25),
    ) {
        check_case(&entries, &calls)?;
    }
}

/// The same comparison from a fixed seed, counting the verdicts: the random cases reach
/// every outcome, many times.
#[test]
fn the_random_cases_reach_every_outcome() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use std::collections::HashMap;

    let mut runner = TestRunner::deterministic();
    let strategy = (entries(), prop::collection::vec(call(), 25));
    let mut counts: HashMap<String, usize> = HashMap::new();
    for _ in 0..200 {
        let (entries, calls) = strategy.new_tree(&mut runner).unwrap().current();
        for v in check_case(&entries, &calls).unwrap() {
            let key = match v {
                Ok(_) => "grant".to_string(),
                Err((reason, _)) => reason.code().to_string(),
            };
            *counts.entry(key).or_default() += 1;
        }
    }
    for outcome in [
        "grant",
        "no_authorization",
        "wrong_environment",
        "purpose_not_authorized",
        "access_purpose_not_authorized",
        "program_mismatch",
        "not_yet_valid",
        "expired",
    ] {
        let n = counts.get(outcome).copied().unwrap_or(0);
        assert!(n >= 200, "only {n} cases of {outcome}: {counts:?}");
    }
}

#[test]
fn a_grant_supplies_the_entrys_purpose_program_and_deliberation() {
    let e = E {
        id: "prod".into(),
        env: Environment::Production,
        service: bcss::services::identify_person::service(),
        ops: None,
        purpose: PURPOSES[0],
        program: PROGRAMS[1],
        codes: None,
        from: B::Day(0),
        until: B::Day(10),
    };
    let guard = Guard::from_str(&manifest_text(&[e]), "m.toml").unwrap();
    let facts = Facts {
        environment: Environment::Production,
        service: "IdentifyPerson",
        operation: "identifyPerson",
        purpose: PURPOSES[0],
        program: None,
        access_purpose: None,
    };
    match guard.decide(&facts, day(3).and_time(NaiveTime::MIN).and_utc()) {
        Decision::Grant(g) => {
            assert_eq!(g.authorization_id, "prod");
            assert_eq!(g.purpose, PURPOSES[0]);
            assert_eq!(g.program.as_str(), PROGRAMS[1]);
            assert_eq!(g.deliberation.to_string(), "13/084");
        }
        other => panic!("{other:?}"),
    }
}
