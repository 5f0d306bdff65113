//! How sizes and durations are written on the command line ("64KiB", "30s"), parsed
//! and shown back in `--help`. Which flag takes which is `flags.rs`'s business.

use std::fmt;
use std::time::Duration;

/// What each size suffix means, shown at the end of `--help` and in the error
/// for a size that does not parse.
pub(crate) const SIZES_HELP: &str = "\
Sizes are whole numbers of bytes with an optional suffix, in any case:
  B = 1; k or kB = 1000, M or MB = 1000^2, G or GB = 1000^3 (SI, decimal);
  KiB = 1024, MiB = 1024^2, GiB = 1024^3 (IEC, binary).";

/// How durations are written, shown at the end of `--help`.
pub(crate) const DURATIONS_HELP: &str = "Durations look like 30s, 500ms, 2m or 1h 30m.";

/// A number of bytes, shown in the largest unit that writes it exactly ("64KiB").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl ByteSize {
    pub(crate) fn of(bytes: usize) -> Self {
        Self(u64::try_from(bytes).unwrap_or(u64::MAX))
    }

    /// The size as a `usize` limit; past `usize::MAX` it makes no difference.
    pub fn to_usize(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: [(u64, &str); 6] = [
            (1 << 30, "GiB"),
            (1 << 20, "MiB"),
            (1 << 10, "KiB"),
            (1_000_000_000, "GB"),
            (1_000_000, "MB"),
            (1_000, "kB"),
        ];
        match SHOWN
            .iter()
            .find(|(unit, _)| self.0 != 0 && self.0 % unit == 0)
        {
            Some((unit, name)) => write!(f, "{}{name}", self.0 / unit),
            None => write!(f, "{}", self.0),
        }
    }
}

/// A duration, shown in whole seconds or milliseconds when it is one ("75s").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSpan(pub Duration);

impl fmt::Display for TimeSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = self.0.subsec_nanos();
        if nanos == 0 {
            write!(f, "{}s", self.0.as_secs())
        } else if nanos % 1_000_000 == 0 {
            write!(f, "{}ms", self.0.as_millis())
        } else {
            write!(f, "{}", humantime::format_duration(self.0))
        }
    }
}

/// What each size suffix multiplies by, compared without regard to case.
///
/// Every suffix means what its standard says: k, M, G are SI prefixes (powers of
/// 1000) with or without the B, and KiB, MiB, GiB are the IEC binary ones (powers
/// of 1024). An earlier rule made `k` mean KiB but `kB` mean 1000, so `64k` and
/// `64kb` differed by 1,536 bytes; with the standards there is nothing to guess,
/// and SPEC.md's defaults are written in KiB and GiB, which say so.
const SIZE_SUFFIXES: [(&str, u64); 11] = [
    ("", 1),
    ("b", 1),
    ("k", 1_000),
    ("kb", 1_000),
    ("m", 1_000_000),
    ("mb", 1_000_000),
    ("g", 1_000_000_000),
    ("gb", 1_000_000_000),
    ("kib", 1 << 10),
    ("mib", 1 << 20),
    ("gib", 1 << 30),
];

/// Parses a size: a whole number of bytes with an optional suffix (see
/// [`SIZE_SUFFIXES`]); zero is allowed.
pub fn parse_size(text: &str) -> Result<ByteSize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(split);
    let too_large = || format!("{text:?} is too large: at most {} bytes", u64::MAX);
    if digits.is_empty() {
        return Err(format!(
            "{text:?} is not a size: write a whole number of bytes, like 64KiB\n\n{SIZES_HELP}"
        ));
    }
    // Only digits: the one way to fail is to overflow.
    let n: u64 = digits.parse().map_err(|_| too_large())?;
    let suffix = suffix.trim();
    let (_, multiplier) = SIZE_SUFFIXES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(suffix))
        .ok_or_else(|| format!("unknown size suffix {suffix:?}\n\n{SIZES_HELP}"))?;
    n.checked_mul(*multiplier)
        .map(ByteSize)
        .ok_or_else(too_large)
}

/// Parses a size limit, which cannot be zero: no request would fit.
pub fn parse_limit_size(text: &str) -> Result<ByteSize, String> {
    match parse_size(text)? {
        ByteSize(0) => Err("0 is not allowed here: write a size of at least 1 byte".into()),
        size => Ok(size),
    }
}

/// Parses a count of threads, connections, requests or fields: at least 1.
pub fn parse_count(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("0 is not allowed here: write a whole number of at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "{text:?} is not a count: write a whole number of at least 1"
        )),
    }
}

/// Parses "30s", "500ms", "2m", "1h 30m"; zero is allowed.
pub fn parse_duration(text: &str) -> Result<TimeSpan, String> {
    humantime::parse_duration(text)
        .map(TimeSpan)
        .map_err(|e| format!("{e}. {DURATIONS_HELP}"))
}

/// Parses a read or write timeout, which cannot be zero: every wait would fail.
pub fn parse_timeout(text: &str) -> Result<TimeSpan, String> {
    match parse_duration(text)? {
        TimeSpan(Duration::ZERO) => {
            Err("0 is not allowed here: write a duration above zero, like 30s".into())
        }
        span => Ok(span),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_m_g_are_powers_of_1000_and_kib_mib_gib_powers_of_1024() {
        for (text, bytes) in [
            ("123", 123),
            (" 0 ", 0),
            ("8B", 8),
            ("64k", 64_000),
            ("64kb", 64_000),
            ("64KB", 64_000),
            ("2m", 2_000_000),
            ("10 MB", 10_000_000),
            ("1G", 1_000_000_000),
            ("8KiB", 8192),
            ("64kib", 65536),
            ("100MiB", 100 << 20),
            ("1GiB", 1 << 30),
        ] {
            assert_eq!(parse_size(text), Ok(ByteSize(bytes)), "{text:?}");
        }
    }

    #[test]
    fn a_bad_size_is_refused_with_the_suffixes_allowed() {
        for text in ["12 parsecs", "GiB", "1.5GiB", "-1", ""] {
            let error = parse_size(text).unwrap_err();
            assert!(
                error.contains("k or kB = 1000") && error.contains("KiB = 1024"),
                "{error}"
            );
        }
        assert!(parse_size("99999999999999999999")
            .unwrap_err()
            .contains("too large"));
        assert!(parse_size("20000000000GiB")
            .unwrap_err()
            .contains("too large"));
    }

    #[test]
    fn sizes_and_durations_shown_in_help_parse_back() {
        for bytes in [0, 1, 999, 1000, 1024, 64_000, 65536, 1 << 30, 3_000_000_000] {
            assert_eq!(
                parse_size(&ByteSize(bytes).to_string()),
                Ok(ByteSize(bytes))
            );
        }
        assert_eq!(ByteSize(65536).to_string(), "64KiB");
        for span in [
            Duration::ZERO,
            Duration::from_secs(75),
            Duration::from_millis(1500),
        ] {
            assert_eq!(
                parse_duration(&TimeSpan(span).to_string()),
                Ok(TimeSpan(span))
            );
        }
        assert_eq!(TimeSpan(Duration::from_secs(75)).to_string(), "75s");
    }
}
