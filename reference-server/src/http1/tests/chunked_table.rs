//! Table of chunked bodies and their verdicts: one line per case, one test per line.
//! It does not explore inputs at random; `chunked_props` does.

use crate::http1::{ChunkedDecoder, ChunkedError, ChunkedLimits};

/// Decodes `input` from one slice to the end of the body; errors if it is refused or cut short.
fn decode_whole(input: &[u8]) -> Result<(Vec<u8>, usize), ChunkedError> {
    let mut decoder = ChunkedDecoder::new(ChunkedLimits::default());
    let (mut body, mut offset) = (Vec::new(), 0);
    while !decoder.is_done() && offset < input.len() {
        let step = decoder.decode(&input[offset..])?;
        body.extend_from_slice(&input[offset..][step.data]);
        offset += step.consumed;
    }
    decoder.finish()?;
    Ok((body, offset))
}

/// `name: input => body;` — the whole input is one chunked body that decodes to `body`.
macro_rules! decodes {
    ($($name:ident: $input:expr => $body:expr;)+) => {$(
        #[test]
        fn $name() {
            let input: &[u8] = $input;
            let (body, consumed) = decode_whole(input).expect("body must decode");
            assert_eq!(body, $body);
            assert_eq!(consumed, input.len());
        }
    )+};
}

/// `name: input => Variant,` — the body is refused with that error.
macro_rules! refuses {
    ($($name:ident: $input:expr => $error:pat,)+) => {$(
        #[test]
        fn $name() {
            let error = decode_whole($input).expect_err("body must be refused");
            assert!(matches!(error, $error), "got {error:?}");
            assert_eq!(error.status().as_u16(), 400);
        }
    )+};
}

decodes! {
    one_chunk: b"5\r\nhello\r\n0\r\n\r\n" => b"hello";
    two_chunks: b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n" => b"hello world";
    empty_body: b"0\r\n\r\n" => b"";
    uppercase_hex: b"A\r\n0123456789\r\n0\r\n\r\n" => b"0123456789";
    lowercase_hex: b"a\r\n0123456789\r\n0\r\n\r\n" => b"0123456789";
    leading_zeros: b"0005\r\nhello\r\n0\r\n\r\n" => b"hello";
    sixteen_digit_size: b"0000000000000005\r\nhello\r\n0\r\n\r\n" => b"hello";
    data_holding_crlf: b"4\r\n\r\n\r\n\r\n0\r\n\r\n" => b"\r\n\r\n";
    extension_name_only: b"5;a\r\nhello\r\n0\r\n\r\n" => b"hello";
    extension_token_value: b"5;a=b\r\nhello\r\n0\r\n\r\n" => b"hello";
    extension_quoted_value: b"5;a=\"b c;\\\"d\"\r\nhello\r\n0\r\n\r\n" => b"hello";
    extension_with_bws: b"5 \t; a = b ;c\r\nhello\r\n0\r\n\r\n" => b"hello";
    several_extensions: b"5;a;b=c;d=\"e\"\r\nhello\r\n0\r\n\r\n" => b"hello";
    extension_on_last_chunk: b"5\r\nhello\r\n0;end\r\n\r\n" => b"hello";
    trailers_dropped: b"5\r\nhello\r\n0\r\nX-Sum: 1\r\nY: a b\r\n\r\n" => b"hello";
    trailer_with_empty_value: b"0\r\nX:\r\n\r\n" => b"";
}

refuses! {
    plus_sign_in_size: b"+5\r\nhello\r\n0\r\n\r\n" => ChunkedError::InvalidChunkSize,
    hex_prefix_in_size: b"0x5\r\nhello\r\n0\r\n\r\n" => ChunkedError::InvalidChunkSize,
    space_before_size: b" 5\r\nhello\r\n0\r\n\r\n" => ChunkedError::InvalidChunkSize,
    space_after_size: b"5 \r\nhello\r\n0\r\n\r\n" => ChunkedError::InvalidChunkSize,
    empty_size: b"\r\nhello\r\n0\r\n\r\n" => ChunkedError::InvalidChunkSize,
    extension_without_size: b";a\r\nhello\r\n0\r\n\r\n" => ChunkedError::InvalidChunkSize,
    seventeen_digit_size: b"00000000000000005\r\nhello\r\n0\r\n\r\n" => ChunkedError::ChunkSizeTooLarge,
    size_u64_max: b"ffffffffffffffff\r\nhello" => ChunkedError::ChunkSizeTooLarge,
    size_two_to_the_63: b"8000000000000000\r\nhello" => ChunkedError::ChunkSizeTooLarge,
    bare_lf_after_size: b"5\nhello\r\n0\r\n\r\n" => ChunkedError::BadLineEnding,
    bare_cr_after_size: b"5\rhello\r\n0\r\n\r\n" => ChunkedError::BadLineEnding,
    bare_lf_after_extension: b"5;a=b\nhello\r\n0\r\n\r\n" => ChunkedError::BadLineEnding,
    wrong_bytes_after_data: b"5\r\nhelloXX0\r\n\r\n" => ChunkedError::MissingDataCrlf,
    bare_lf_after_data: b"5\r\nhello\n0\r\n\r\n" => ChunkedError::MissingDataCrlf,
    bare_cr_after_data: b"5\r\nhello\r0\r\n\r\n" => ChunkedError::MissingDataCrlf,
    data_longer_than_size: b"3\r\nhello\r\n0\r\n\r\n" => ChunkedError::MissingDataCrlf,
    separator_in_extension_name: b"5;a@b\r\nhello\r\n0\r\n\r\n" => ChunkedError::InvalidChunkExtension,
    empty_extension_name: b"5;\r\nhello\r\n0\r\n\r\n" => ChunkedError::InvalidChunkExtension,
    empty_extension_value: b"5;a=\r\nhello\r\n0\r\n\r\n" => ChunkedError::InvalidChunkExtension,
    whitespace_ends_extension: b"5;a \r\nhello\r\n0\r\n\r\n" => ChunkedError::InvalidChunkExtension,
    control_byte_in_extension: b"5;a=\x01\r\nhello\r\n0\r\n\r\n" => ChunkedError::InvalidChunkExtension,
    bare_cr_in_quoted_extension: b"5;a=\"b\rc\"\r\nhello\r\n0\r\n\r\n" => ChunkedError::InvalidChunkExtension,
    bare_lf_in_quoted_extension: b"5;a=\"b\nc\"\r\nhello\r\n0\r\n\r\n" => ChunkedError::BadLineEnding,
    unterminated_quoted_extension: b"5;a=\"b\r\nhello\r\n0\r\n\r\n" => ChunkedError::InvalidChunkExtension,
    text_after_quoted_extension: b"5;a=\"b\"c\r\nhello\r\n0\r\n\r\n" => ChunkedError::InvalidChunkExtension,
    chunk_line_over_limit: format!("5;a={}\r\nhello\r\n0\r\n\r\n", "b".repeat(5000)).as_bytes() => ChunkedError::ChunkLineTooLong { limit: 4096 },
    obs_fold_in_trailer: b"0\r\nX: a\r\n b\r\n\r\n" => ChunkedError::InvalidTrailer,
    space_before_colon_in_trailer: b"0\r\nX : a\r\n\r\n" => ChunkedError::InvalidTrailer,
    trailer_without_colon: b"0\r\nX\r\n\r\n" => ChunkedError::InvalidTrailer,
    nul_in_trailer_value: b"0\r\nX: a\0\r\n\r\n" => ChunkedError::InvalidTrailer,
    bare_lf_ends_trailer: b"0\r\nX: a\n\r\n" => ChunkedError::BadTrailerLineEnding,
    bare_lf_ends_trailer_section: b"0\r\n\n" => ChunkedError::BadTrailerLineEnding,
    bare_cr_ends_trailer_section: b"0\r\n\rX" => ChunkedError::BadTrailerLineEnding,
    trailers_over_limit: format!("0\r\nX: {}\r\n\r\n", "a".repeat(17_000)).as_bytes() => ChunkedError::TrailersTooLarge { limit: 16384 },
    cut_inside_data: b"5\r\nhel" => ChunkedError::Truncated,
    cut_before_last_chunk: b"5\r\nhello\r\n" => ChunkedError::Truncated,
    cut_before_final_crlf: b"5\r\nhello\r\n0\r\n" => ChunkedError::Truncated,
}

#[test]
fn bytes_after_the_body_are_not_consumed() {
    let input = b"3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
    let (body, consumed) = decode_whole(input).unwrap();
    assert_eq!(body, b"abc");
    assert_eq!(&input[consumed..], b"GET / HTTP/1.1\r\n");
}

#[test]
fn one_byte_at_a_time_decodes_the_same_body() {
    let input = b"3;x=\"y\"\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n";
    let mut decoder = ChunkedDecoder::new(ChunkedLimits::default());
    let mut body = Vec::new();
    for (i, byte) in input.iter().enumerate() {
        let step = decoder.decode(std::slice::from_ref(byte)).unwrap();
        assert_eq!(step.consumed, 1, "byte {i} must be consumed");
        body.extend_from_slice(&[*byte][step.data]);
    }
    assert!(decoder.is_done());
    assert_eq!(body, b"abc0123456789abcdef");
}

#[test]
fn an_error_repeats_on_every_later_call() {
    let mut decoder = ChunkedDecoder::new(ChunkedLimits::default());
    assert_eq!(decoder.decode(b"z"), Err(ChunkedError::InvalidChunkSize));
    assert_eq!(
        decoder.decode(b"5\r\n"),
        Err(ChunkedError::InvalidChunkSize)
    );
    assert_eq!(decoder.finish(), Err(ChunkedError::InvalidChunkSize));
}

#[test]
fn a_done_decoder_consumes_nothing() {
    let mut decoder = ChunkedDecoder::new(ChunkedLimits::default());
    assert_eq!(decoder.decode(b"0\r\n\r\n").unwrap().consumed, 5);
    assert!(decoder.is_done());
    assert_eq!(decoder.decode(b"more").unwrap().consumed, 0);
}
