//! Deterministic mutation test of the HTTP/1 parsers: every corpus request mangled by a fixed-seed PRNG, under plain `cargo test`.
//! It checks that nothing panics, that prefixes agree with the whole head, and that chunked bodies decode the same in any pieces.
//!
//! The fuzz targets in `reference-server/fuzz/` explore the same properties without
//! bound; this test keeps CI exercising them with no extra tooling. Set
//! `MUTATIONS_PER_CASE` to run more (or fewer) mutants of each case.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::http1::request_head::{parse_by_scan, parse_whole_valid_head};
use crate::http1::split_checks::{assert_prefixes_agree, decode_in_pieces};
use crate::http1::{parse_request_head, BodyFraming, ChunkedLimits, HeadLimits, Parsed};

/// Mutants per corpus case by default: about 2 s in a debug build (1000 take about 3 s).
const DEFAULT_MUTATIONS_PER_CASE: usize = 600;

/// Cases longer than this get proportionally fewer mutants, so the few 64 KiB limit
/// cases do not dominate the run time.
const FULL_BUDGET_LEN: usize = 2048;

/// Mutants grow by duplication and splicing; past this they are cut back.
const MAX_MUTANT_LEN: usize = 96 * 1024;

/// Bytes that sit on grammar boundaries of heads and chunk lines.
const INTERESTING: &[u8] = b"\r\n\0 \t:,;=\"\\0123456789abcdefABCDEF\x7f\x80\xe9\xff";

/// xorshift64: a fixed seed gives the same mutants on every run and every machine.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A position in `0..=len`.
    fn position(&mut self, len: usize) -> usize {
        self.below(len + 1)
    }
}

/// Applies one random mutation to `bytes`; `other` is another corpus case to splice in.
fn mutate(rng: &mut XorShift, bytes: &mut Vec<u8>, other: &[u8]) {
    let len = bytes.len();
    match rng.below(8) {
        0 if len > 0 => {
            let at = rng.below(len);
            bytes[at] ^= 1 << rng.below(8);
        }
        1 => {
            let at = rng.position(len);
            bytes.insert(at, INTERESTING[rng.below(INTERESTING.len())]);
        }
        2 if len > 0 => {
            let at = rng.below(len);
            bytes[at] = INTERESTING[rng.below(INTERESTING.len())];
        }
        3 if len > 0 => {
            let at = rng.below(len);
            let end = (at + 1 + rng.below(8)).min(len);
            bytes.drain(at..end);
        }
        4 if len > 0 => {
            let at = rng.below(len);
            let end = (at + 1 + rng.below(32)).min(len);
            let slice = bytes[at..end].to_vec();
            let to = rng.position(len);
            bytes.splice(to..to, slice);
        }
        5 => bytes.truncate(rng.position(len)),
        6 => {
            // Splice: our prefix, the other case's suffix.
            let keep = rng.position(len);
            let from = rng.position(other.len());
            bytes.truncate(keep);
            bytes.extend_from_slice(&other[from..]);
        }
        _ => {
            // A high byte or a random byte anywhere.
            let at = rng.position(len);
            bytes.insert(at, rng.next() as u8);
        }
    }
    bytes.truncate(MAX_MUTANT_LEN);
}

/// Decodes `body` whole, one byte at a time and at `cuts`: all three must agree.
fn check_chunked_splits(body: &[u8], cuts: &[usize]) {
    let limits = ChunkedLimits::default();
    let whole = decode_in_pieces(body, &[], &limits);
    let every_byte: Vec<usize> = (1..body.len()).collect();
    assert_eq!(
        decode_in_pieces(body, &every_byte, &limits),
        whole,
        "one byte at a time"
    );
    assert_eq!(
        decode_in_pieces(body, cuts, &limits),
        whole,
        "split at {cuts:?}"
    );
}

/// Runs every check on one mutant; says whether its head was complete and whether
/// a chunked body was decoded.
fn check_mutant(rng: &mut XorShift, mutant: &[u8]) -> (bool, bool) {
    let cuts: Vec<usize> = (0..3).map(|_| rng.position(mutant.len())).collect();
    let limits = HeadLimits::default();
    // The fast path for whole valid heads agrees with the line-by-line scan.
    if let Some(fast) = parse_whole_valid_head(mutant, &limits) {
        let scanned = parse_by_scan(mutant, &limits);
        assert_eq!(
            scanned,
            Ok(fast),
            "fast path disagrees on {}",
            escape(mutant)
        );
    }
    let complete = match assert_prefixes_agree(mutant, &cuts, &limits) {
        Ok(Parsed::Complete { head, len }) => {
            assert!(len > 0 && len <= mutant.len(), "head length {len}");
            // Right at the end of the head, and one byte before it.
            let _same = assert_prefixes_agree(mutant, &[len, len - 1], &limits);
            Some((len, head.framing))
        }
        _ => None,
    };
    match complete {
        Some((len, BodyFraming::Chunked)) => {
            let body = &mutant[len..];
            let cuts: Vec<usize> = (0..3).map(|_| rng.position(body.len())).collect();
            check_chunked_splits(body, &cuts);
            (true, true)
        }
        Some(_) => (true, false),
        None => (false, false),
    }
}

/// `\r\n` and non-printable bytes escaped, long inputs elided in the middle.
fn escape(bytes: &[u8]) -> String {
    let shown: Vec<u8> = if bytes.len() > 600 {
        [
            &bytes[..300],
            b"<...>".as_slice(),
            &bytes[bytes.len() - 300..],
        ]
        .concat()
    } else {
        bytes.to_vec()
    };
    shown.escape_ascii().to_string()
}

fn mutations_per_case() -> usize {
    match std::env::var("MUTATIONS_PER_CASE") {
        Ok(value) => value
            .parse()
            .expect("MUTATIONS_PER_CASE must be a whole number"),
        Err(_) => DEFAULT_MUTATIONS_PER_CASE,
    }
}

#[test]
fn corpus_mutants_keep_the_parser_invariants() {
    let cases = fixtures::corpus::load_dir(&fixtures::corpus::corpus_dir()).expect("corpus loads");
    assert!(!cases.is_empty(), "empty corpus");
    let per_case = mutations_per_case();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    // How many mutants kept a complete head, and how many chunked bodies were decoded.
    let (mut complete, mut decoded) = (0usize, 0usize);
    for case in &cases {
        let original = &case.request;
        // A chunked case's body alone is mutated half the time, so the decoder sees
        // far more damaged bodies than the head parser would let through.
        let chunked_body = match parse_request_head(original, &HeadLimits::default()) {
            Ok(Parsed::Complete { head, len }) if head.framing == BodyFraming::Chunked => {
                Some(&original[len..])
            }
            _ => None,
        };
        let count = (per_case * FULL_BUDGET_LEN / original.len().max(FULL_BUDGET_LEN)).max(4);
        for index in 0..count {
            let body_only = chunked_body.is_some() && rng.below(2) == 0;
            let mut mutant = match (body_only, chunked_body) {
                (true, Some(body)) => body.to_vec(),
                _ => original.clone(),
            };
            let other = &cases[rng.below(cases.len())].request;
            for _ in 0..1 + rng.below(4) {
                mutate(&mut rng, &mut mutant, other);
            }
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                if body_only {
                    let cuts: Vec<usize> = (0..3).map(|_| rng.position(mutant.len())).collect();
                    check_chunked_splits(&mutant, &cuts);
                    (false, true)
                } else {
                    check_mutant(&mut rng, &mutant)
                }
            }));
            let Ok((was_complete, was_decoded)) = outcome else {
                panic!(
                    "mutant {index} of {} ({}, {} bytes) broke an invariant (message above): b\"{}\"",
                    case.name,
                    if body_only { "chunked body only" } else { "whole request" },
                    mutant.len(),
                    escape(&mutant)
                );
            };
            complete += usize::from(was_complete);
            decoded += usize::from(was_decoded);
        }
    }
    // The mutants must still reach deep into both parsers, or the test checks little.
    eprintln!("{complete} mutants with a complete head, {decoded} chunked bodies decoded");
    assert!(complete >= cases.len(), "only {complete} complete heads");
    assert!(
        decoded >= cases.len(),
        "only {decoded} chunked bodies decoded"
    );
}
