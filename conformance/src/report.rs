//! The per-rule report of a conformance run, like h2spec's: every `wire` rule of
//! SPEC.md with pass, fail, warn (a failed SHOULD) or skip, as text and as JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::json;

use crate::check::{Check, Verdict};
use crate::spec::{rules, Rule};

/// The verdict on one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RuleStatus {
    /// Every check observing it passed.
    Pass,
    /// A check observing a SHOULD (or MAY) rule failed.
    Warn,
    /// A check observing a MUST rule failed.
    Fail,
    /// No check observes it, or its checks were skipped.
    Skip,
}

impl RuleStatus {
    fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Pass => "pass",
            RuleStatus::Warn => "warn",
            RuleStatus::Fail => "fail",
            RuleStatus::Skip => "skip",
        }
    }
}

/// The outcome of a run: each check's verdict and each rule's status.
pub struct Report {
    /// The target's URL.
    pub target: String,
    /// Check name, rules, verdict.
    pub checks: Vec<(&'static str, &'static [&'static str], Verdict)>,
    /// Rule, status, and the failing checks' names.
    pub rules: Vec<(Rule, RuleStatus, Vec<&'static str>)>,
}

impl Report {
    /// Builds the report from check verdicts.
    pub fn new(target: &str, results: Vec<(&'static Check, Verdict)>) -> Self {
        let mut by_rule: BTreeMap<&str, Vec<(&'static str, &Verdict)>> = BTreeMap::new();
        for (check, verdict) in &results {
            for rule in check.rules {
                by_rule.entry(rule).or_default().push((check.name, verdict));
            }
        }
        let rules = rules()
            .into_iter()
            .filter(|rule| rule.check == "wire")
            .map(|rule| {
                let verdicts = by_rule.get(rule.id.as_str()).cloned().unwrap_or_default();
                let failing: Vec<&'static str> = verdicts
                    .iter()
                    .filter(|(_, v)| matches!(v, Verdict::Fail(_)))
                    .map(|(name, _)| *name)
                    .collect();
                let ran = verdicts.iter().any(|(_, v)| !matches!(v, Verdict::Skip(_)));
                let status = match (failing.is_empty(), ran) {
                    (false, _) if rule.is_mandatory() => RuleStatus::Fail,
                    (false, _) => RuleStatus::Warn,
                    (true, true) => RuleStatus::Pass,
                    (true, false) => RuleStatus::Skip,
                };
                (rule, status, failing)
            })
            .collect();
        Self {
            target: target.to_owned(),
            checks: results
                .into_iter()
                .map(|(check, verdict)| (check.name, check.rules, verdict))
                .collect(),
            rules,
        }
    }

    /// How many rules have `status`.
    pub fn count(&self, status: RuleStatus) -> usize {
        self.rules.iter().filter(|(_, s, _)| *s == status).count()
    }

    /// Whether the target conforms: no MUST rule failed.
    pub fn conforms(&self) -> bool {
        self.count(RuleStatus::Fail) == 0
    }

    /// The report as text: one line per rule, then the failures, then a summary.
    pub fn text(&self) -> String {
        let mut out = format!("Gateway Interface 1.0 conformance of {}\n\n", self.target);
        for (rule, status, failing) in &self.rules {
            let _ = write!(
                out,
                "  [{:4}] {:9} {:11}",
                status.as_str(),
                rule.id,
                rule.level
            );
            let summary: String = rule.text.chars().take(70).collect();
            let _ = write!(out, " {summary}");
            if !failing.is_empty() {
                let _ = write!(out, "  (failed: {})", failing.join(", "));
            }
            out.push('\n');
        }
        let failed: Vec<_> = self
            .checks
            .iter()
            .filter(|(_, _, v)| matches!(v, Verdict::Fail(_)))
            .collect();
        if !failed.is_empty() {
            out.push_str("\nFailed checks:\n");
            for (name, rules, verdict) in failed {
                let _ = writeln!(out, "- {name} [{}]: {verdict}", rules.join(", "));
            }
        }
        let _ = writeln!(
            out,
            "\n{} wire rules: {} pass, {} fail, {} warn, {} skip; {} checks run. {}",
            self.rules.len(),
            self.count(RuleStatus::Pass),
            self.count(RuleStatus::Fail),
            self.count(RuleStatus::Warn),
            self.count(RuleStatus::Skip),
            self.checks.len(),
            if self.conforms() {
                "CONFORMS"
            } else {
                "DOES NOT CONFORM"
            }
        );
        out
    }

    /// The report as JSON.
    pub fn json(&self) -> serde_json::Value {
        json!({
            "target": self.target,
            "conforms": self.conforms(),
            "summary": {
                "pass": self.count(RuleStatus::Pass),
                "fail": self.count(RuleStatus::Fail),
                "warn": self.count(RuleStatus::Warn),
                "skip": self.count(RuleStatus::Skip),
            },
            "rules": self.rules.iter().map(|(rule, status, failing)| json!({
                "id": rule.id,
                "level": rule.level,
                "status": status.as_str(),
                "failed_checks": failing,
            })).collect::<Vec<_>>(),
            "checks": self.checks.iter().map(|(name, rules, verdict)| json!({
                "name": name,
                "rules": rules,
                "verdict": verdict.to_string(),
            })).collect::<Vec<_>>(),
        })
    }
}
