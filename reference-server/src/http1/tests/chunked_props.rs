//! Property tests of the chunked decoder: random valid bodies round-trip, and any split gives the same verdict.
//! It checks consistency and round-trips, not particular errors; `chunked_table` pins those down.

use proptest::prelude::*;

use crate::http1::split_checks::decode_in_pieces;
use crate::http1::ChunkedLimits;

fn limits() -> impl Strategy<Value = ChunkedLimits> {
    prop_oneof![
        3 => Just(ChunkedLimits::default()),
        1 => (1usize..40, 1usize..60).prop_map(|(line, trailers)| ChunkedLimits {
            max_chunk_line: line,
            max_trailer_bytes: trailers,
        }),
    ]
}

const EXTENSIONS: &[&str] = &[
    "",
    "",
    ";a",
    ";a=b",
    " ; n = v",
    ";q=\"x \\\" y;\"",
    ";a;b=1;c",
];
const TRAILERS: &[&str] = &["X: 1", "Checksum: abc", "Empty:", "Y-Z: a\tb c"];

/// A random body and a valid chunked encoding of it (random chunking, hex case,
/// leading zeros, extensions and trailers).
fn encoded_body() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    (
        prop::collection::vec(any::<u8>(), 0..600),
        prop::collection::vec(
            (
                1usize..160,
                any::<bool>(),
                0usize..3,
                prop::sample::select(EXTENSIONS),
            ),
            0..8,
        ),
        prop::collection::vec(prop::sample::select(TRAILERS), 0..3),
        prop::sample::select(EXTENSIONS),
    )
        .prop_map(|(body, chunks, trailers, last_extension)| {
            let mut encoded = Vec::new();
            let mut rest = &body[..];
            let mut chunks = chunks.into_iter().cycle();
            while !rest.is_empty() {
                let (size, upper, zeros, extension) =
                    chunks.next().unwrap_or((rest.len(), false, 0, ""));
                let size = size.min(rest.len());
                let hex = if upper {
                    format!("{size:X}")
                } else {
                    format!("{size:x}")
                };
                encoded.extend(format!("{}{hex}{extension}\r\n", "0".repeat(zeros)).bytes());
                encoded.extend_from_slice(&rest[..size]);
                encoded.extend_from_slice(b"\r\n");
                rest = &rest[size..];
            }
            encoded.extend(format!("0{last_extension}\r\n").bytes());
            for trailer in trailers {
                encoded.extend(format!("{trailer}\r\n").bytes());
            }
            encoded.extend_from_slice(b"\r\n");
            (body, encoded)
        })
}

fn cuts() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0usize..1400, 0..12)
}

proptest! {
    #[test]
    fn valid_encodings_decode_to_the_original_body(
        (body, encoded) in encoded_body(),
        cuts in cuts(),
        next_request in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        let mut input = encoded.clone();
        input.extend(next_request);
        let (decoded, verdict) = decode_in_pieces(&input, &cuts, &ChunkedLimits::default());
        prop_assert_eq!(decoded, body);
        prop_assert_eq!(verdict, Ok(encoded.len()));
    }

    #[test]
    fn a_damaged_encoding_gives_the_same_verdict_for_any_split(
        (_, encoded) in encoded_body(),
        damage in (any::<prop::sample::Index>(), any::<u8>()),
        cuts in cuts(),
        limits in limits(),
    ) {
        let mut input = encoded;
        let at = damage.0.index(input.len());
        input[at] = damage.1;
        let whole = decode_in_pieces(&input, &[], &limits);
        prop_assert_eq!(decode_in_pieces(&input, &cuts, &limits), whole.clone());
        let every_byte: Vec<usize> = (0..input.len()).collect();
        prop_assert_eq!(decode_in_pieces(&input, &every_byte, &limits), whole);
    }

    #[test]
    fn arbitrary_bytes_give_the_same_verdict_for_any_split(
        input in prop::collection::vec(
            prop_oneof![prop::sample::select(b"0123456789aF;=\" \t\r\n:X".to_vec()), any::<u8>()],
            0..300,
        ),
        cuts in cuts(),
        limits in limits(),
    ) {
        let whole = decode_in_pieces(&input, &[], &limits);
        prop_assert_eq!(decode_in_pieces(&input, &cuts, &limits), whole);
    }
}
