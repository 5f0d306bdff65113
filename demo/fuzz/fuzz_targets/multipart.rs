//! Fuzz target: the demo's multipart parser on any body, with one of three boundaries
//! and read sizes chosen by the input. No panic, one buffer, the same parse at any split.
#![no_main]

use gateway_demo::split_checks::{assert_splits_agree, parse_in_pieces, BOUNDARIES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, body)) = data.split_first() else {
        return;
    };
    let boundary = BOUNDARIES[usize::from(choice % 3)];
    // Read sizes from the first bytes' hash, so that mutations also move the splits.
    let hash = body.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let sizes = [1 + (hash % 7) as usize, 1 + ((hash >> 8) % 4096) as usize];
    assert_splits_agree(body, boundary, &sizes);
    // A small limit is refused, never overrun.
    let limit = (hash >> 20) % 512;
    let limited = parse_in_pieces(body, boundary, &sizes, limit);
    let total: usize = limited.parts.iter().map(|p| p.2.len()).sum();
    assert!(
        total as u64 <= limit,
        "{total} body bytes through a limit of {limit}"
    );
});
