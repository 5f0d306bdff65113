//! The split invariants the property and mutation tests share: a head parses the
//! same in any prefix, a chunked body decodes the same in any pieces. No generators.

use crate::http1::{
    parse_request_head, ChunkedDecoder, ChunkedError, ChunkedLimits, HeadError, HeadLimits, Parsed,
};

/// What decoding produced: the body bytes, and where the body ended or why it was refused.
pub(super) type Verdict = (Vec<u8>, Result<usize, ChunkedError>);

/// Feeds `input` to a fresh decoder in pieces ending at each of `cuts` (and at the
/// end), calling `decode` until each piece is used up or the body is done, then
/// `finish`. Panics when a call makes no progress or steps outside its piece: those
/// are decoder bugs whatever the bytes.
pub(super) fn decode_in_pieces(input: &[u8], cuts: &[usize], limits: &ChunkedLimits) -> Verdict {
    let mut bounds: Vec<usize> = cuts.iter().map(|&c| c.min(input.len())).collect();
    bounds.push(input.len());
    bounds.sort_unstable();
    let mut decoder = ChunkedDecoder::new(limits.clone());
    let (mut body, mut offset) = (Vec::new(), 0);
    for end in bounds {
        while offset < end && !decoder.is_done() {
            let piece = &input[offset..end];
            match decoder.decode(piece) {
                Ok(step) => {
                    assert!(step.consumed > 0, "no progress at offset {offset}");
                    assert!(
                        step.data.start <= step.data.end
                            && step.data.end <= step.consumed
                            && step.consumed <= piece.len(),
                        "step {step:?} outside its piece of {} bytes",
                        piece.len()
                    );
                    body.extend_from_slice(&piece[step.data]);
                    offset += step.consumed;
                }
                Err(error) => return (body, Err(error)),
            }
        }
    }
    (body, decoder.finish().map(|()| offset))
}

/// Parses `input` whole and cut at each of `cuts`: a prefix is Partial or already
/// has the whole input's verdict, and once the head is complete the verdict stays.
/// Returns the whole input's verdict.
pub(super) fn assert_prefixes_agree(
    input: &[u8],
    cuts: &[usize],
    limits: &HeadLimits,
) -> Result<Parsed, HeadError> {
    let whole = parse_request_head(input, limits);
    let head_len = match &whole {
        Ok(Parsed::Complete { len, .. }) => Some(*len),
        _ => None,
    };
    for &cut in cuts.iter().filter(|&&c| c <= input.len()) {
        let prefix = parse_request_head(&input[..cut], limits);
        match head_len {
            Some(len) if cut >= len => assert_eq!(prefix, whole, "cut at {cut}"),
            Some(_) => assert_eq!(prefix, Ok(Parsed::Partial), "cut at {cut}"),
            None => assert!(
                prefix == Ok(Parsed::Partial) || prefix == whole,
                "cut at {cut}: {prefix:?} but the whole input gives {whole:?}"
            ),
        }
    }
    whole
}
