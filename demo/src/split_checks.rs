//! The multipart parser's invariants, asserted on any input: no panic, the same
//! parts and verdict however the reader splits the bytes, memory held to one buffer.
//! Shared by the unit tests and the fuzz target (`demo/fuzz`); not part of the app.

use std::io::{self, Read};

use crate::multipart::{Multipart, BUFFER_BYTES};

/// The boundaries the checks use: a short one, a browser's, and the longest allowed.
pub const BOUNDARIES: [&str; 3] = [
    "B",
    "----WebKitFormBoundary7MA4YWxkTrZu0gW",
    "0123456789012345678901234567890123456789012345678901234567890123456789",
];

/// What a whole parse produced: each part's name, file name and body, then the
/// error that ended it, if any (as text, for comparison).
#[derive(Debug, PartialEq, Eq)]
pub struct Parsed {
    /// Name, file name and body of each part read.
    pub parts: Vec<(String, Option<Vec<u8>>, Vec<u8>)>,
    /// The error that ended the parse, or `None` at a clean close delimiter.
    pub error: Option<String>,
}

/// A reader that hands out `body` in pieces whose sizes cycle through `sizes`.
struct Pieces<'a> {
    body: &'a [u8],
    sizes: Vec<usize>,
    next: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let size = self.sizes[self.next % self.sizes.len()].max(1);
        self.next += 1;
        let n = size.min(out.len()).min(self.body.len());
        out[..n].copy_from_slice(&self.body[..n]);
        self.body = &self.body[n..];
        Ok(n)
    }
}

/// Parses `body` read in pieces of `sizes` (cycled), asserting that the buffer never
/// grows and that no chunk handed out is larger than it.
pub fn parse_in_pieces(body: &[u8], boundary: &str, sizes: &[usize], limit: u64) -> Parsed {
    let reader = Pieces {
        body,
        sizes: if sizes.is_empty() {
            vec![usize::MAX]
        } else {
            sizes.to_vec()
        },
        next: 0,
    };
    let mut form = Multipart::new(reader, boundary).with_body_limit(limit);
    let mut parsed = Parsed {
        parts: Vec::new(),
        error: None,
    };
    let result = (|| {
        while let Some(part) = form.next_part()? {
            let mut content = Vec::new();
            while let Some(chunk) = form.part_chunk()? {
                assert!(
                    chunk.len() <= BUFFER_BYTES,
                    "a chunk of {} bytes",
                    chunk.len()
                );
                content.extend_from_slice(chunk);
            }
            parsed.parts.push((part.name, part.filename, content));
        }
        Ok::<(), crate::multipart::MultipartError>(())
    })();
    assert_eq!(form.buffer_capacity(), BUFFER_BYTES, "the buffer grew");
    parsed.error = result.err().map(|e| e.to_string());
    parsed
}

/// Parses `body` whole and in the pieces `sizes` says, and asserts both give the same
/// parts and the same verdict. Returns the whole parse.
pub fn assert_splits_agree(body: &[u8], boundary: &str, sizes: &[usize]) -> Parsed {
    let limit = u64::MAX;
    let whole = parse_in_pieces(body, boundary, &[], limit);
    let split = parse_in_pieces(body, boundary, sizes, limit);
    assert_eq!(whole, split, "reads of {sizes:?} disagree with one read");
    whole
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(boundary: &str) -> Vec<u8> {
        format!(
            "preamble\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n\
             hello\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"a b.txt\"\r\nContent-Type: text/plain\r\n\r\n\
             line one\r\n-- {boundary} is not a delimiter\r\n--{boundary}--\r\nepilogue"
        )
        .into_bytes()
    }

    /// A small deterministic generator: the same mutants on every run.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    #[test]
    fn a_well_formed_form_parses_the_same_at_every_split() {
        for boundary in BOUNDARIES {
            let body = form(boundary);
            for sizes in [vec![1], vec![2, 3], vec![7, 1, 64], vec![body.len()]] {
                let parsed = assert_splits_agree(&body, boundary, &sizes);
                assert_eq!(parsed.error, None, "{boundary}");
                assert_eq!(parsed.parts.len(), 2);
                assert_eq!(parsed.parts[0].2, b"hello");
                assert_eq!(parsed.parts[1].1.as_deref(), Some(&b"a b.txt"[..]));
                let expected = format!("line one\r\n-- {boundary} is not a delimiter");
                assert_eq!(parsed.parts[1].2, expected.as_bytes());
            }
        }
    }

    #[test]
    fn mutated_forms_never_panic_and_agree_across_splits() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let specials = [b'\r', b'\n', b'-', b'"', b';', b'=', b':', 0, 0xff];
        for boundary in BOUNDARIES {
            let seed = form(boundary);
            for _ in 0..400 {
                let mut body = seed.clone();
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(body.len());
                    match rng.below(3) {
                        0 => body[at] = specials[rng.below(specials.len())],
                        1 => {
                            body.remove(at);
                        }
                        _ => body.insert(at, specials[rng.below(specials.len())]),
                    }
                }
                let sizes = [1 + rng.below(9), 1 + rng.below(300)];
                assert_splits_agree(&body, boundary, &sizes);
            }
        }
    }

    #[test]
    fn a_header_flood_is_refused_within_one_buffer() {
        let mut body = b"--B\r\nContent-Disposition: form-data; name=\"f\"\r\nX: ".to_vec();
        body.extend(std::iter::repeat_n(b'a', 4 * BUFFER_BYTES));
        let parsed = assert_splits_agree(&body, "B", &[4096]);
        let error = parsed.error.expect("refused");
        assert!(
            error.contains("headers of a multipart part exceed"),
            "{error}"
        );
    }
}
