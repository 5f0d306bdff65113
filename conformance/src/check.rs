//! A conformance check: a name, the SPEC.md rules it observes, and a function that
//! judges a target. The catalogue of checks lives in `checks/`.

use std::fmt;

use fixtures::raw_client::Response;
use gateway_spec::exchange::panic_message;

use crate::target::Target;

/// What a check concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The server did what the rules say.
    Pass,
    /// It did not; the message says what was seen.
    Fail(String),
    /// The check could not run against this target; the message says why.
    Skip(String),
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Pass => write!(f, "pass"),
            Verdict::Fail(why) => write!(f, "fail: {why}"),
            Verdict::Skip(why) => write!(f, "skip: {why}"),
        }
    }
}

/// The result type of a check body: `Err` carries the failure message; a message
/// starting with `skip: ` means the check could not conclude against this target.
pub type Outcome = Result<(), String>;

/// One check.
pub struct Check {
    /// A sentence-like name, unique in the catalogue.
    pub name: &'static str,
    /// The SPEC.md rules it observes.
    pub rules: &'static [&'static str],
    /// The check itself.
    pub run: fn(&Target) -> Outcome,
}

impl Check {
    /// Runs the check, turning a panic (a timeout of the raw client, say) into a
    /// failure.
    pub fn judge(&self, target: &Target) -> Verdict {
        match std::panic::catch_unwind(|| (self.run)(target)) {
            Ok(Ok(())) => Verdict::Pass,
            Ok(Err(why)) => match why.strip_prefix("skip: ") {
                Some(reason) => Verdict::Skip(reason.to_owned()),
                None => Verdict::Fail(why),
            },
            Err(panic) => Verdict::Fail(panic_message(&*panic)),
        }
    }
}

/// Fails with `message` unless `condition` holds.
pub fn ensure(condition: bool, message: impl FnOnce() -> String) -> Outcome {
    if condition {
        Ok(())
    } else {
        Err(message())
    }
}

/// Fails unless `response` has `status`.
pub fn expect_status(response: &Response, status: u16) -> Outcome {
    ensure(response.status == status, || {
        format!(
            "expected status {status}, got {} with body {:?}",
            response.status,
            truncate(&response.text())
        )
    })
}

/// Fails unless the response framing is unambiguous (FRAME-16): never both
/// Content-Length and Transfer-Encoding, never two Content-Lengths.
pub fn expect_sane_framing(response: &Response) -> Outcome {
    let count = |name: &str| {
        response
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    };
    let lengths = count("content-length");
    ensure(lengths <= 1, || format!("{lengths} Content-Length headers"))?;
    ensure(lengths == 0 || count("transfer-encoding") == 0, || {
        "both Content-Length and Transfer-Encoding".into()
    })
}

/// At most 200 characters of `text`, for messages.
pub fn truncate(text: &str) -> String {
    text.chars().take(200).collect()
}
