//! The split invariants of the parsers, checked with assertions: a head parses the
//! same in any prefix, a chunked body decodes the same in any pieces (for tests and fuzzing).

use super::{
    parse_request_head, ChunkedDecoder, ChunkedError, ChunkedLimits, HeadError, HeadLimits, Parsed,
};

/// What decoding produced: the body bytes, and the offset where the body ended or why it was refused.
pub type Verdict = (Vec<u8>, Result<usize, ChunkedError>);

/// Feeds `input` to a fresh decoder in pieces ending at each of `cuts` (and at the end),
/// calling `decode` until each piece is used up or the body is done; then `finish`.
///
/// Panics if a call makes no progress or returns a step outside its input: those are
/// decoder bugs whatever the bytes.
pub fn decode_in_pieces(input: &[u8], cuts: &[usize], limits: &ChunkedLimits) -> Verdict {
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
                    assert!(step.consumed <= piece.len(), "consumed past the piece");
                    assert!(
                        step.data.start <= step.data.end && step.data.end <= step.consumed,
                        "data {:?} outside the consumed {} bytes",
                        step.data,
                        step.consumed
                    );
                    body.extend_from_slice(&piece[step.data]);
                    offset += step.consumed;
                }
                Err(error) => {
                    assert_eq!(
                        decoder.decode(piece),
                        Err(error.clone()),
                        "error not sticky"
                    );
                    assert_eq!(
                        decoder.finish(),
                        Err(error.clone()),
                        "finish forgot the error"
                    );
                    return (body, Err(error));
                }
            }
        }
    }
    (body, decoder.finish().map(|()| offset))
}

/// Parses `input` whole and cut at each of `cuts`: a prefix is Partial or already
/// has the whole input's verdict, and once the head is complete the verdict stays.
/// Returns the whole input's verdict.
pub fn assert_prefixes_agree(
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
