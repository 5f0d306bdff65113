//! The rules of SPEC.md, read from the document itself so that the report and the
//! traceability test can never disagree with it.

/// One rule of SPEC.md.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `ENV-5` and the like.
    pub id: String,
    /// MUST, MUST NOT, SHOULD, SHOULD NOT or MAY.
    pub level: String,
    /// wire, validator, types or review.
    pub check: String,
    /// The rule's sentence.
    pub text: String,
}

impl Rule {
    /// Whether failing it breaks conformance (MUST and MUST NOT).
    pub fn is_mandatory(&self) -> bool {
        self.level.starts_with("MUST")
    }
}

/// The text of SPEC.md, built in.
pub const SPEC: &str = include_str!("../../SPEC.md");

/// Every rule of SPEC.md, in document order.
pub fn rules() -> Vec<Rule> {
    SPEC.lines()
        .filter_map(|line| {
            let line = line.strip_prefix("- ").unwrap_or(line);
            let rest = line.strip_prefix("**")?;
            let (id, rest) = rest.split_once("** (")?;
            let (meta, text) = rest.split_once(") ")?;
            let (level, check) = meta.split_once(", ")?;
            Some(Rule {
                id: id.to_owned(),
                level: level.to_owned(),
                check: check.to_owned(),
                text: text.to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_has_rules_with_levels_and_checks() {
        let rules = rules();
        assert!(rules.len() >= 80);
        assert!(rules.iter().any(|r| r.id == "REQ-24" && r.check == "wire"));
        assert!(rules.iter().all(|r| !r.text.is_empty()));
    }
}
