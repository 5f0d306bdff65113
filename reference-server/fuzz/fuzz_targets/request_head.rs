//! Fuzz target: `parse_request_head` with default limits on arbitrary bytes, whole and as prefixes.
//! A prefix is Partial or carries the whole input's error; a complete head never changes and loses no field.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reference_server::http1::{parse_request_head, HeadLimits, Parsed};
use reference_server_fuzz::{assert_prefixes_agree, fingerprint, split_points, timed};

fuzz_target!(|data: &[u8]| timed(data.len(), || check(data)));

/// Parses `data` whole and as prefixes, and compares the verdicts.
fn check(data: &[u8]) {
    let limits = HeadLimits::default();
    // Two reads before the whole input arrived, cut where the input's fingerprint says.
    let mut cuts = split_points(fingerprint(data), data.len(), 2);
    if let Ok(Parsed::Complete { len, head }) = parse_request_head(data, &limits) {
        assert!(
            len > 0 && len <= data.len(),
            "head length {len} out of bounds"
        );
        // Every field the parser accepted becomes a header, and the target is there.
        let map = head.header_map(&bytes::Bytes::copy_from_slice(data));
        assert_eq!(
            map.len(),
            head.spans.len(),
            "fields lost on the way to the map"
        );
        assert!(!head.target(data).is_empty(), "an empty target");
        // The exact end of the head and one byte short of it are the interesting prefixes.
        cuts.extend([len, len - 1]);
    }
    let _verdict = assert_prefixes_agree(data, &cuts, &limits);
}
