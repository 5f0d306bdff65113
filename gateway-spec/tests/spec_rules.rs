//! Traceability between SPEC.md and this crate: the rule format holds, IDs are
//! unique, every rule this crate cites exists, and every in-process rule has a check.

use std::collections::{BTreeMap, BTreeSet};

use gateway_spec::validate::rules;

const SPEC: &str = include_str!("../../SPEC.md");

/// Rules checked `validator` in SPEC.md that unit tests of this crate cover rather
/// than the validator middleware, each with the test that does.
const COVERED_BY_UNIT_TESTS: &[(&str, &str)] = &[
    (
        "APP-10",
        "validator_checks::a_correct_app_passes_every_check (middleware is an App)",
    ),
    (
        "APP-11",
        "validator_checks::a_body_the_server_never_closes_is_reported",
    ),
    (
        "ENV-23",
        "environ::tests::absolute_form_sets_server_name_and_port",
    ),
    (
        "ENV-24",
        "test_client_framing::request_side_environ_is_well_formed",
    ),
    (
        "ENV-26",
        "environ: no code path reads Forwarded headers (see SRV tests)",
    ),
    (
        "ENV-27",
        "environ::tests::vars_lists_fixed_names_then_headers",
    ),
    (
        "ENV-29",
        "environ::tests::non_ascii_octets_map_to_the_same_code_point",
    ),
    (
        "ENV-30",
        "environ::tests::vars_lists_fixed_names_then_headers",
    ),
    (
        "INPUT-12",
        "client_faults::the_input_remembers_the_fault_the_app_swallowed",
    ),
    (
        "FAIL-14",
        "client_faults::the_validator_blames_no_app_for_a_body_the_client_cut",
    ),
    (
        "INPUT-8",
        "input::tests::read_line_max_stops_at_limit_without_newline",
    ),
    (
        "ERRS-2",
        "error_stream: writes are whole under one lock (error_stream.rs)",
    ),
    (
        "START-4",
        "start_response::tests::check_head_refuses_each_hop_by_hop_header",
    ),
    (
        "START-16",
        "test_client_framing::start_response_after_headers_went_out_is_refused",
    ),
    (
        "START-19",
        "exchange_rules::calls_after_the_response_finished_are_refused",
    ),
    (
        "WRITE-5",
        "exchange_rules::write_beyond_content_length_is_cut_and_refused",
    ),
    (
        "WRITE-6",
        "exchange_rules::write_to_a_gone_client_returns_an_error",
    ),
    (
        "FILE-4",
        "body::tests::file_body_reads_from_current_position (close via Drop)",
    ),
    (
        "FAIL-4",
        "test_client_framing::close_runs_once_on_every_path_including_panics",
    ),
    (
        "URL-1",
        "environ::tests::url_reconstruction_without_host_uses_server_name_and_port",
    ),
    (
        "CONF-6",
        "validator_checks::a_correct_app_passes_every_check",
    ),
    (
        "SRV-1",
        "reference-server tests: rejected requests never reach the app",
    ),
];

/// The sources a [`COVERED_BY_UNIT_TESTS`] entry may name, by module: `x::tests::t`
/// is in `src/x.rs`, `x::t` in `tests/x.rs`.
const TEST_SOURCES: &[(&str, &str)] = &[
    ("body::tests", include_str!("../src/body.rs")),
    ("environ::tests", include_str!("../src/environ.rs")),
    ("input::tests", include_str!("../src/input.rs")),
    (
        "start_response::tests",
        include_str!("../src/start_response.rs"),
    ),
    ("client_faults", include_str!("client_faults.rs")),
    ("exchange_rules", include_str!("exchange_rules.rs")),
    (
        "test_client_framing",
        include_str!("test_client_framing.rs"),
    ),
    ("validator_checks", include_str!("validator_checks.rs")),
];

struct Rule {
    level: String,
    check: String,
}

fn parse_rules() -> BTreeMap<String, Rule> {
    let mut found = BTreeMap::new();
    for line in SPEC.lines() {
        let line = line.strip_prefix("- ").unwrap_or(line);
        let Some(rest) = line.strip_prefix("**") else {
            continue;
        };
        let Some((id, rest)) = rest.split_once("** (") else {
            continue;
        };
        let (meta, _) = rest
            .split_once(") ")
            .expect("a rule has '(LEVEL, CHECK) text'");
        let (level, check) = meta.split_once(", ").expect("a rule has LEVEL, CHECK");
        let previous = found.insert(
            id.to_owned(),
            Rule {
                level: level.to_owned(),
                check: check.to_owned(),
            },
        );
        assert!(previous.is_none(), "rule {id} is defined twice");
    }
    found
}

#[test]
fn every_rule_has_the_greppable_form_and_a_known_level_and_check() {
    let rules = parse_rules();
    assert!(
        rules.len() >= 80,
        "SPEC.md defines only {} rules",
        rules.len()
    );
    for (id, rule) in &rules {
        let (prefix, number) = id.split_once('-').expect("ID is PREFIX-N");
        assert!(prefix.chars().all(|c| c.is_ascii_uppercase()), "{id}");
        assert!(number.parse::<u32>().is_ok(), "{id}");
        assert!(
            ["MUST", "MUST NOT", "SHOULD", "SHOULD NOT", "MAY"].contains(&rule.level.as_str()),
            "{id} has level {}",
            rule.level
        );
        assert!(
            ["wire", "validator", "types", "review"].contains(&rule.check.as_str()),
            "{id} has check {}",
            rule.check
        );
    }
    // A bold rule ID appears only where that rule is defined.
    let bold_ids = SPEC
        .split("**")
        .skip(1)
        .step_by(2)
        .filter(|bold| {
            bold.split_once('-').is_some_and(|(p, n)| {
                !p.is_empty()
                    && p.chars().all(|c| c.is_ascii_uppercase())
                    && !n.is_empty()
                    && n.bytes().all(|b| b.is_ascii_digit())
            })
        })
        .count();
    assert_eq!(bold_ids, rules.len());
}

#[test]
fn every_rule_this_crate_cites_exists() {
    let rules = parse_rules();
    let prefixes: BTreeSet<&str> = rules
        .keys()
        .map(|id| id.split('-').next().unwrap())
        .collect();
    let sources = [
        include_str!("../src/app.rs"),
        include_str!("../src/body.rs"),
        include_str!("../src/client_error.rs"),
        include_str!("../src/environ.rs"),
        include_str!("../src/error_stream.rs"),
        include_str!("../src/framing.rs"),
        include_str!("../src/input.rs"),
        include_str!("../src/interop.rs"),
        include_str!("../src/lib.rs"),
        include_str!("../src/exchange.rs"),
        include_str!("../src/start_response.rs"),
        include_str!("../src/target.rs"),
        include_str!("../src/testing.rs"),
        include_str!("../src/validate.rs"),
    ];
    let mut cited = 0;
    for source in sources {
        for word in source.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
            let Some((prefix, number)) = word.split_once('-') else {
                continue;
            };
            if prefixes.contains(prefix)
                && !number.is_empty()
                && number.bytes().all(|b| b.is_ascii_digit())
            {
                assert!(
                    rules.contains_key(word),
                    "the source cites {word}, which SPEC.md does not define"
                );
                cited += 1;
            }
        }
    }
    assert!(
        cited > 30,
        "expected the sources to cite rules, found {cited}"
    );
}

#[test]
fn every_validator_rule_is_checked_here_and_every_check_cites_such_a_rule() {
    let spec = parse_rules();
    let checked: BTreeSet<&str> = rules::ALL.iter().copied().collect();
    let unit: BTreeSet<&str> = COVERED_BY_UNIT_TESTS.iter().map(|(id, _)| *id).collect();
    for id in checked.iter().chain(&unit) {
        assert!(spec.contains_key(*id), "{id} is not a SPEC.md rule");
    }
    let validator_rules: Vec<&String> = spec
        .iter()
        .filter(|(_, rule)| rule.check == "validator")
        .map(|(id, _)| id)
        .collect();
    assert!(
        !validator_rules.is_empty(),
        "SPEC.md has no rule checked `validator`"
    );
    for id in validator_rules {
        assert!(
            checked.contains(id.as_str()) || unit.contains(id.as_str()),
            "{id} is checked `validator` in SPEC.md but nothing here checks it"
        );
    }
}

#[test]
fn every_unit_test_named_as_coverage_exists() {
    let mut named = 0;
    for (id, covered_by) in COVERED_BY_UNIT_TESTS {
        // Entries such as "environ: no code path ..." describe a review, not a test.
        let path = covered_by.split(' ').next().unwrap_or_default();
        let Some((module, test)) = path.rsplit_once("::") else {
            continue;
        };
        let source = TEST_SOURCES
            .iter()
            .find(|(name, _)| *name == module)
            .map(|(_, source)| *source)
            .unwrap_or_else(|| panic!("{id}: no source known for module {module:?}"));
        assert!(
            source.contains(&format!("#[test]\n    fn {test}("))
                || source.contains(&format!("#[test]\nfn {test}(")),
            "{id} names {path}, which is not a test"
        );
        named += 1;
    }
    assert!(named > 10, "only {named} entries name a test");
}
