//! Properties of `parse_range`: any header value gives a verdict without panicking,
//! and a part it grants always lies inside the representation.

use gateway_kit::range::{parse_range, RangeRequest};
use proptest::prelude::*;

proptest! {
    #[test]
    fn any_value_gives_a_part_inside_the_length_or_no_part(value in "\\PC{0,24}", len in 0u64..1000) {
        if let RangeRequest::Part { start, end } = parse_range(&value, len) {
            prop_assert!(start <= end && end < len, "{value:?} of {len}: {start}-{end}");
        }
    }

    #[test]
    fn a_range_inside_the_length_is_granted_exactly(len in 1u64..10_000, a in 0u64..10_000, b in 0u64..10_000) {
        let (start, end) = (a.min(b) % len, a.max(b) % len);
        let (start, end) = (start.min(end), start.max(end));
        prop_assert_eq!(parse_range(&format!("bytes={start}-{end}"), len), RangeRequest::Part { start, end });
        prop_assert_eq!(parse_range(&format!("bytes={start}-"), len), RangeRequest::Part { start, end: len - 1 });
    }

    #[test]
    fn a_suffix_range_takes_the_last_bytes(len in 0u64..10_000, n in 1u64..20_000) {
        let expected = if len == 0 {
            RangeRequest::Unsatisfiable
        } else {
            RangeRequest::Part { start: len.saturating_sub(n), end: len - 1 }
        };
        prop_assert_eq!(parse_range(&format!("bytes=-{n}"), len), expected);
    }

    #[test]
    fn a_start_at_or_past_the_end_is_unsatisfiable(len in 0u64..10_000, past in 0u64..10_000) {
        prop_assert_eq!(parse_range(&format!("bytes={}-", len + past), len), RangeRequest::Unsatisfiable);
    }
}
