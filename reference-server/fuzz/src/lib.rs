//! Helpers shared by the fuzz targets: split points chosen by the input itself, a time bound, and the
//! parsers' split checks (`reference_server::http1::split_checks`), re-exported.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Runs `check` on one input; when `FUZZ_SLOW_MS` is set, panics (so libFuzzer keeps
/// the input as a crash artifact) if it takes longer than that twice in a row.
///
/// libFuzzer's `-timeout` and `-report_slow_units` count whole seconds; this is the
/// millisecond bound. The second run keeps a preempted process from reporting a
/// fast input; wall-clock time, so run it on a quiet machine.
pub fn timed(input_len: usize, mut check: impl FnMut()) {
    static LIMIT: OnceLock<Option<Duration>> = OnceLock::new();
    let limit = LIMIT.get_or_init(|| {
        let ms = std::env::var("FUZZ_SLOW_MS").ok()?;
        let ms = ms.parse().expect("FUZZ_SLOW_MS must be whole milliseconds");
        Some(Duration::from_millis(ms))
    });
    let Some(limit) = *limit else {
        return check();
    };
    let start = Instant::now();
    check();
    let first = start.elapsed();
    if first > limit {
        let start = Instant::now();
        check();
        let second = start.elapsed();
        assert!(
            second <= limit,
            "a {input_len}-byte input took {first:?}, then {second:?}: over FUZZ_SLOW_MS={limit:?}"
        );
    }
}

/// FNV-1a over `data`: the input picks its own split points without spending bytes on them,
/// so the seed corpus stays raw requests and every mutation also moves the splits.
pub fn fingerprint(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `count` positions in `0..=len`, sorted, derived from `seed` (xorshift64).
pub fn split_points(seed: u64, len: usize, count: usize) -> Vec<usize> {
    let mut state = seed | 1;
    let mut points: Vec<usize> = (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % (len as u64 + 1)) as usize
        })
        .collect();
    points.sort_unstable();
    points
}

pub use reference_server::http1::split_checks::{assert_prefixes_agree, decode_in_pieces, Verdict};
