//! Traceability between the kit and SPEC.md: every check names rules that exist, and
//! every MUST rule checked `wire` has at least one check.

use std::collections::BTreeSet;

use conformance::checks;
use conformance::spec::rules;

#[test]
fn every_rule_a_check_names_exists() {
    let defined: BTreeSet<String> = rules().into_iter().map(|r| r.id).collect();
    for check in checks::all() {
        assert!(!check.rules.is_empty(), "{} names no rule", check.name);
        for rule in check.rules {
            assert!(
                defined.contains(*rule),
                "{} names {rule}, which SPEC.md does not define",
                check.name
            );
        }
    }
}

#[test]
fn every_mandatory_wire_rule_has_a_check() {
    let covered: BTreeSet<&str> = checks::all()
        .iter()
        .flat_map(|c| c.rules.iter().copied())
        .collect();
    let missing: Vec<String> = rules()
        .into_iter()
        .filter(|r| r.check == "wire" && r.is_mandatory() && !covered.contains(r.id.as_str()))
        .map(|r| r.id)
        .collect();
    assert!(
        missing.is_empty(),
        "MUST rules checked `wire` without a check: {missing:?}"
    );
}

#[test]
fn check_names_are_unique() {
    let names: Vec<&str> = checks::all().iter().map(|c| c.name).collect();
    let unique: BTreeSet<&&str> = names.iter().collect();
    assert_eq!(names.len(), unique.len());
}

#[test]
fn every_corpus_case_judged_apart_exists_and_has_a_check_of_its_own() {
    use conformance::checks::requests::{CORPUS_CASES_APART, CORPUS_GROUPS};
    let cases = fixtures::corpus::load_dir(&fixtures::corpus::corpus_dir()).expect("the corpus");
    for (name, _) in CORPUS_CASES_APART {
        assert!(
            cases.iter().any(|c| c.name == *name),
            "{name} is judged apart but is not in the corpus"
        );
    }
    // One check per group and one per case judged apart, each with its own rules.
    let corpus_checks: Vec<_> = checks::all()
        .into_iter()
        .filter(|c| c.name.starts_with("corpus_"))
        .collect();
    assert_eq!(
        corpus_checks.len(),
        CORPUS_GROUPS.len() + CORPUS_CASES_APART.len()
    );
    for (name, rules) in CORPUS_CASES_APART {
        assert!(
            corpus_checks.iter().any(|c| c.rules == *rules),
            "no check names the rules of {name}, {rules:?}"
        );
    }
}
