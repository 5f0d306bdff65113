//! Fuzz target: `ChunkedDecoder` on arbitrary bytes, fed whole, one byte at a time, and split where the input says.
//! All three feedings must give the same body bytes and the same verdict (end offset or error).
#![no_main]

use libfuzzer_sys::fuzz_target;
use reference_server::http1::ChunkedLimits;
use reference_server_fuzz::{decode_in_pieces, fingerprint, split_points, timed};

fuzz_target!(|data: &[u8]| timed(data.len(), || check(data)));

/// Decodes `data` in three ways and compares the results.
fn check(data: &[u8]) {
    let seed = fingerprint(data);
    // Mostly the defaults; sometimes tiny limits, so the limit checks run on short inputs too.
    let limits = if seed & 3 == 0 {
        ChunkedLimits {
            max_chunk_line: 1 + (seed >> 8) as usize % 32,
            max_trailer_bytes: 1 + (seed >> 16) as usize % 64,
        }
    } else {
        ChunkedLimits::default()
    };

    let whole = decode_in_pieces(data, &[], &limits);
    let every_byte: Vec<usize> = (1..data.len()).collect();
    let bytewise = decode_in_pieces(data, &every_byte, &limits);
    assert_eq!(bytewise, whole, "one byte at a time vs whole");
    let split = decode_in_pieces(data, &split_points(seed, data.len(), 4), &limits);
    assert_eq!(split, whole, "split at input-chosen points vs whole");
    if let (_, Ok(end)) = &whole {
        assert!(*end <= data.len());
    }
}
