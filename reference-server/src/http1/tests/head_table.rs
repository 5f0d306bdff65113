//! Table of raw request heads and their verdicts: one line per case, one test per line.
//! It does not explore inputs at random; `head_props` does.

use bytes::Bytes;
use http::{HeaderMap, Method, Version};

use crate::http1::{parse_request_head, BodyFraming, HeadError, HeadLimits, Parsed, RequestHead};

fn parse(input: &[u8]) -> Result<Parsed, HeadError> {
    parse_request_head(input, &HeadLimits::default())
}

/// Parses a head that must be complete and use the whole input but `tail` bytes.
fn complete_with_tail(input: &[u8], tail: usize) -> RequestHead {
    match parse(input) {
        Ok(Parsed::Complete { head, len }) => {
            assert_eq!(len, input.len() - tail, "head length");
            head
        }
        other => panic!("expected a complete head, got {other:?}"),
    }
}

/// A parsed head with its fields as a header map, for the checks of `accepts!`.
#[derive(Debug)]
struct Checked {
    head: RequestHead,
    target: String,
    headers: HeaderMap,
}

impl std::ops::Deref for Checked {
    type Target = RequestHead;
    fn deref(&self) -> &RequestHead {
        &self.head
    }
}

fn checked(input: &[u8]) -> Checked {
    let head = complete_with_tail(input, 0);
    let headers = head.header_map(&Bytes::copy_from_slice(input));
    assert_eq!(
        headers.len(),
        head.spans.len(),
        "every field made it into the map"
    );
    let target = head.target(input).to_owned();
    Checked {
        head,
        target,
        headers,
    }
}

/// `name: input => status Variant,` — the head is refused with that error and status.
macro_rules! rejects {
    ($($name:ident: $input:expr => $status:literal $error:pat,)+) => {$(
        #[test]
        fn $name() {
            let error = parse($input).expect_err("head must be refused");
            assert!(matches!(error, $error), "got {error:?}");
            assert_eq!(error.status().as_u16(), $status);
        }
    )+};
}

/// `name: input => |head| check;` — the whole input is one valid head, and `check` holds.
macro_rules! accepts {
    ($($name:ident: $input:expr => |$head:ident| $check:expr;)+) => {$(
        #[test]
        fn $name() {
            let $head = checked($input);
            assert!($check, "{:?}", $head);
        }
    )+};
}

/// `name: input;` — the input is a valid beginning of a head.
macro_rules! partial {
    ($($name:ident: $input:expr;)+) => {$(
        #[test]
        fn $name() {
            assert_eq!(parse($input), Ok(Parsed::Partial));
        }
    )+};
}

fn get_with(fields: &str) -> Vec<u8> {
    format!("GET / HTTP/1.1\r\nHost: example.com\r\n{fields}\r\n").into_bytes()
}

fn post_with(fields: &str) -> Vec<u8> {
    format!("POST /upload HTTP/1.1\r\nHost: example.com\r\n{fields}\r\n").into_bytes()
}

fn http10_with(fields: &str) -> Vec<u8> {
    format!("GET / HTTP/1.0\r\n{fields}\r\n").into_bytes()
}

fn many_fields(count: usize) -> Vec<u8> {
    get_with(&"X-A: 1\r\n".repeat(count))
}

rejects! {
    bare_lf_ends_request_line: b"GET / HTTP/1.1\nHost: a\r\n\r\n" => 400 HeadError::BareLineEnding,
    bare_lf_ends_field_line: b"GET / HTTP/1.1\r\nHost: a\n\r\n" => 400 HeadError::BareLineEnding,
    bare_lf_ends_head: b"GET / HTTP/1.1\r\nHost: a\r\n\n" => 400 HeadError::BareLineEnding,
    bare_lf_as_leading_empty_line: b"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::BareLineEnding,
    bare_cr_inside_field_value: b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n" => 400 HeadError::BareLineEnding,
    bare_cr_ends_field_line: b"GET / HTTP/1.1\r\nX: a\r\rHost: b\r\n\r\n" => 400 HeadError::BareLineEnding,
    bare_cr_inside_target: b"GET /\r HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidTarget,
    too_many_leading_empty_lines: b"\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n" => 400 HeadError::TooManyEmptyLines,
    nul_in_field_value: &get_with("X: a\0b\r\n") => 400 HeadError::InvalidFieldValue,
    del_in_field_value: &get_with("X: a\x7fb\r\n") => 400 HeadError::InvalidFieldValue,
    vertical_tab_in_field_value: &get_with("X: a\x0bb\r\n") => 400 HeadError::InvalidFieldValue,
    nul_in_field_name: &get_with("X\0: a\r\n") => 400 HeadError::InvalidFieldName,
    space_before_colon: &get_with("X : a\r\n") => 400 HeadError::InvalidFieldName,
    tab_before_colon: &get_with("X\t: a\r\n") => 400 HeadError::InvalidFieldName,
    empty_field_name: &get_with(": a\r\n") => 400 HeadError::InvalidFieldName,
    slash_in_field_name: &get_with("X/Y: a\r\n") => 400 HeadError::InvalidFieldName,
    field_line_without_colon: &get_with("X-A\r\n") => 400 HeadError::InvalidFieldName,
    obs_fold_with_space: &get_with("X: a\r\n b\r\n") => 400 HeadError::ObsoleteLineFolding,
    obs_fold_with_tab: &get_with("X: a\r\n\tb\r\n") => 400 HeadError::ObsoleteLineFolding,
    nul_in_method: b"G\0T / HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidMethod,
    separator_in_method: b"GE(T / HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidMethod,
    empty_method: b" / HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidMethod,
    nul_in_target: b"GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidTarget,
    utf8_in_target: "GET /café HTTP/1.1\r\nHost: a\r\n\r\n".as_bytes() => 400 HeadError::InvalidTarget,
    obs_text_in_target: b"GET /\xff HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidTarget,
    double_space_before_target: b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidTarget,
    relative_target: b"GET index.html HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidTarget,
    authority_form_without_connect: b"GET a.com:80 HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidTarget,
    non_http_absolute_form: b"GET ftp://a.com/x HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidTarget,
    double_quote_in_target: b"GET /a\"b HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidTarget,
    angle_brackets_in_target: b"GET /<a> HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidTarget,
    backslash_in_target: b"GET /a\\b HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidTarget,
    caret_in_target: b"GET /a^b HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidTarget,
    backtick_in_target: b"GET /a`b HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidTarget,
    braces_in_query: b"GET /a?x={} HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidTarget,
    pipe_in_query: b"GET /a?x=1|2 HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidTarget,
    brackets_in_path: b"GET /a[0] HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidTarget,
    brackets_in_query: b"GET /a?x[]=1 HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidTarget,
    brackets_in_absolute_form_path: b"GET http://a.com/[0] HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidTarget,
    brackets_inside_a_reg_name: b"GET http://a[0].com/ HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidTarget,
    pipe_in_absolute_form_authority: b"GET http://a|b.com/ HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidTarget,
    fragment_in_target: b"GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidTarget,
    userinfo_with_password: b"GET http://u:p@a.com/ HTTP/1.1\r\nHost: a.com\r\n\r\n" => 400 HeadError::UserInfoInTarget,
    userinfo_without_password: b"GET http://u@a.com/x HTTP/1.1\r\nHost: a.com\r\n\r\n" => 400 HeadError::UserInfoInTarget,
    empty_userinfo: b"GET https://@a.com HTTP/1.1\r\nHost: a.com\r\n\r\n" => 400 HeadError::UserInfoInTarget,
    connect_with_octet_outside_the_grammar: b"CONNECT a{b}.com:443 HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::InvalidTarget,
    asterisk_form_with_get: b"GET * HTTP/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::AsteriskFormNotAllowed,
    connect_authority_form: b"CONNECT a.com:443 HTTP/1.1\r\nHost: a.com:443\r\n\r\n" => 501 HeadError::ConnectNotSupported,
    connect_origin_form: b"CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n" => 501 HeadError::ConnectNotSupported,
    http_2_0: b"GET / HTTP/2.0\r\nHost: a\r\n\r\n" => 505 HeadError::UnsupportedVersion,
    http_3_0: b"GET / HTTP/3.0\r\nHost: a\r\n\r\n" => 505 HeadError::UnsupportedVersion,
    http_0_9: b"GET / HTTP/0.9\r\nHost: a\r\n\r\n" => 505 HeadError::UnsupportedVersion,
    http_1_2: b"GET / HTTP/1.2\r\nHost: a\r\n\r\n" => 505 HeadError::UnsupportedVersion,
    lowercase_version: b"GET / http/1.1\r\nHost: a\r\n\r\n" => 400 HeadError::MalformedVersion,
    two_digit_minor: b"GET / HTTP/1.10\r\nHost: a\r\n\r\n" => 400 HeadError::MalformedVersion,
    two_digit_major: b"GET / HTTP/11.1\r\nHost: a\r\n\r\n" => 400 HeadError::MalformedVersion,
    version_without_minor: b"GET / HTTP/1\r\nHost: a\r\n\r\n" => 400 HeadError::MalformedVersion,
    missing_version: b"GET /\r\nHost: a\r\n\r\n" => 400 HeadError::MalformedVersion,
    space_after_version: b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n" => 400 HeadError::MalformedVersion,
    missing_host_in_http11: b"GET / HTTP/1.1\r\n\r\n" => 400 HeadError::MissingHost,
    two_hosts_in_http11: &get_with("Host: example.com\r\n") => 400 HeadError::DuplicateHost,
    two_hosts_in_http10: &http10_with("Host: a\r\nHost: b\r\n") => 400 HeadError::DuplicateHost,
    space_in_host: b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n" => 400 HeadError::InvalidHost,
    slash_in_host: b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n" => 400 HeadError::InvalidHost,
    userinfo_in_host: b"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n" => 400 HeadError::InvalidHost,
    letters_in_host_port: b"GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n" => 400 HeadError::InvalidHost,
    unclosed_ip_literal_host: b"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n" => 400 HeadError::InvalidHost,
    content_length_with_plus: &post_with("Content-Length: +5\r\n") => 400 HeadError::InvalidContentLength,
    content_length_with_minus: &post_with("Content-Length: -5\r\n") => 400 HeadError::InvalidContentLength,
    content_length_in_hex: &post_with("Content-Length: 0x5\r\n") => 400 HeadError::InvalidContentLength,
    content_length_with_inner_space: &post_with("Content-Length: 5 0\r\n") => 400 HeadError::InvalidContentLength,
    content_length_with_underscore: &post_with("Content-Length: 5_0\r\n") => 400 HeadError::InvalidContentLength,
    content_length_empty: &post_with("Content-Length:\r\n") => 400 HeadError::InvalidContentLength,
    content_length_empty_element: &post_with("Content-Length: 5,\r\n") => 400 HeadError::InvalidContentLength,
    content_length_overflow: &post_with("Content-Length: 18446744073709551616\r\n") => 400 HeadError::ContentLengthTooLarge,
    content_lengths_differ_in_list: &post_with("Content-Length: 5, 6\r\n") => 400 HeadError::ConflictingContentLength,
    content_lengths_differ_across_fields: &post_with("Content-Length: 5\r\nContent-Length: 6\r\n") => 400 HeadError::ConflictingContentLength,
    transfer_encoding_in_http10: &http10_with("Transfer-Encoding: chunked\r\n") => 400 HeadError::TransferEncodingInHttp10,
    transfer_encoding_with_content_length: &post_with("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n") => 400 HeadError::TransferEncodingWithContentLength,
    unknown_coding_with_content_length: &post_with("Transfer-Encoding: gzip\r\nContent-Length: 5\r\n") => 400 HeadError::TransferEncodingWithContentLength,
    only_gzip: &post_with("Transfer-Encoding: gzip\r\n") => 400 HeadError::ChunkedNotFinal,
    only_identity: &post_with("Transfer-Encoding: identity\r\n") => 400 HeadError::ChunkedNotFinal,
    xchunked: &post_with("Transfer-Encoding: xchunked\r\n") => 400 HeadError::ChunkedNotFinal,
    chunked_before_identity: &post_with("Transfer-Encoding: chunked, identity\r\n") => 400 HeadError::ChunkedNotFinal,
    chunked_before_gzip_across_fields: &post_with("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n") => 400 HeadError::ChunkedNotFinal,
    chunked_twice: &post_with("Transfer-Encoding: chunked, chunked\r\n") => 400 HeadError::ChunkedNotFinal,
    chunked_twice_across_fields: &post_with("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n") => 400 HeadError::ChunkedNotFinal,
    gzip_then_chunked: &post_with("Transfer-Encoding: gzip, chunked\r\n") => 501 HeadError::UnsupportedTransferCoding,
    identity_then_chunked_across_fields: &post_with("Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n") => 501 HeadError::UnsupportedTransferCoding,
    empty_transfer_encoding: &post_with("Transfer-Encoding:\r\n") => 400 HeadError::InvalidTransferEncoding,
    trailing_comma_in_transfer_encoding: &post_with("Transfer-Encoding: chunked,\r\n") => 400 HeadError::InvalidTransferEncoding,
    quoted_chunked: &post_with("Transfer-Encoding: \"chunked\"\r\n") => 400 HeadError::InvalidTransferEncoding,
    chunked_with_parameter: &post_with("Transfer-Encoding: chunked;q=1\r\n") => 400 HeadError::InvalidTransferEncoding,
    vertical_tab_before_chunked: &post_with("Transfer-Encoding: \x0bchunked\r\n") => 400 HeadError::InvalidFieldValue,
    unknown_expectation: &get_with("Expect: 200-ok\r\n") => 417 HeadError::UnsupportedExpectation,
    continue_and_unknown_expectation: &get_with("Expect: 100-continue, x\r\n") => 417 HeadError::UnsupportedExpectation,
    request_line_over_limit: format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(8200)).as_bytes() => 414 HeadError::RequestLineTooLong { limit: 8192 },
    partial_request_line_over_limit: format!("GET /{}", "a".repeat(8200)).as_bytes() => 414 HeadError::RequestLineTooLong { limit: 8192 },
    too_many_fields: &many_fields(100) => 431 HeadError::TooManyHeaders { limit: 100 },
    head_over_limit: &get_with(&format!("X: {}\r\n", "a".repeat(70_000))) => 431 HeadError::HeadTooLarge { limit: 65536 },
    partial_head_over_limit: &get_with(&format!("X: {}", "a".repeat(70_000))) => 431 HeadError::HeadTooLarge { limit: 65536 },
    bad_request_line_refused_before_head_ends: b"GET /\0 HTTP/1.1\r\nHost: a\r\n" => 400 HeadError::InvalidTarget,
    bad_version_refused_before_head_ends: b"GET / HTTP/2.0\r\n" => 505 HeadError::UnsupportedVersion,
    octet_outside_the_grammar_refused_before_head_ends: b"GET /{ HTTP/1.1\r\nHost: a\r\n" => 400 HeadError::InvalidTarget,
    userinfo_refused_before_head_ends: b"GET http://u@a/ HTTP/1.1\r\n" => 400 HeadError::UserInfoInTarget,
    bad_target_named_before_a_later_bad_field: b"GET /{ HTTP/1.1\r\nHost: a\r\nX : b\r\n\r\n" => 400 HeadError::InvalidTarget,
}

accepts! {
    simple_get: b"GET /a?b=c HTTP/1.1\r\nHost: example.com\r\n\r\n" => |h| h.method == Method::GET
        && h.target == "/a?b=c" && h.version == Version::HTTP_11 && h.framing == BodyFraming::None
        && h.keep_alive && !h.expect_continue;
    leading_empty_lines_are_skipped: b"\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n" => |h| h.target == "/";
    http10_needs_no_host: b"GET / HTTP/1.0\r\n\r\n" => |h| h.version == Version::HTTP_10 && !h.keep_alive;
    http10_keep_alive_option: &http10_with("Connection: Keep-Alive\r\n") => |h| h.keep_alive;
    http10_close_beats_keep_alive: &http10_with("Connection: keep-alive, close\r\n") => |h| !h.keep_alive;
    http11_close_option: &get_with("Connection: close\r\n") => |h| !h.keep_alive;
    close_found_across_connection_fields: &get_with("Connection: upgrade\r\nConnection: CLOSE\r\n") => |h| !h.keep_alive;
    http11_other_connection_options_keep_alive: &get_with("Connection: Upgrade, keep-alive\r\n") => |h| h.keep_alive;
    content_length: &post_with("Content-Length: 5\r\n") => |h| h.framing == BodyFraming::Length(5);
    content_length_zero: &post_with("Content-Length: 0\r\n") => |h| h.framing == BodyFraming::Length(0);
    content_length_leading_zeros: &post_with("Content-Length: 007\r\n") => |h| h.framing == BodyFraming::Length(7);
    content_length_list_of_equal_values: &post_with("Content-Length: 5 , 5\r\n") => |h| h.framing == BodyFraming::Length(5);
    content_length_repeated_equal_fields: &post_with("Content-Length: 5\r\nContent-Length: 5\r\n") => |h| h.framing == BodyFraming::Length(5);
    content_length_max_u64: &post_with("Content-Length: 18446744073709551615\r\n") => |h| h.framing == BodyFraming::Length(u64::MAX);
    chunked: &post_with("Transfer-Encoding: chunked\r\n") => |h| h.framing == BodyFraming::Chunked;
    chunked_any_case: &post_with("Transfer-Encoding: ChUnKeD\r\n") => |h| h.framing == BodyFraming::Chunked;
    chunked_with_trailing_tab: &post_with("Transfer-Encoding: chunked\t\r\n") => |h| h.framing == BodyFraming::Chunked;
    expect_continue: &post_with("Content-Length: 5\r\nExpect: 100-Continue\r\n") => |h| h.expect_continue;
    expect_continue_ignored_in_http10: &http10_with("Expect: 100-continue\r\n") => |h| !h.expect_continue;
    asterisk_form_with_options: b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n" => |h| h.target == "*";
    absolute_form_kept_raw: b"GET http://a.com/x?y HTTP/1.1\r\nHost: b\r\n\r\n" => |h| h.target == "http://a.com/x?y";
    https_absolute_form: b"GET HTTPS://a.com HTTP/1.1\r\nHost: a.com\r\n\r\n" => |h| h.target == "HTTPS://a.com";
    every_uri_grammar_octet_in_target: b"GET /az-._~%!$&'()*+,;=:@?AZ09/?:@ HTTP/1.1\r\nHost: a\r\n\r\n" => |h| h.target == "/az-._~%!$&'()*+,;=:@?AZ09/?:@";
    at_sign_in_origin_form_path_and_query: b"GET /a@b?c@d HTTP/1.1\r\nHost: a\r\n\r\n" => |h| h.target == "/a@b?c@d";
    at_sign_in_absolute_form_path: b"GET http://a.com/u@b HTTP/1.1\r\nHost: a\r\n\r\n" => |h| h.target == "http://a.com/u@b";
    ip_literal_in_absolute_form: b"GET http://[::1]:8080/a HTTP/1.1\r\nHost: a\r\n\r\n" => |h| h.target == "http://[::1]:8080/a";
    percent_without_hex_digits_in_target: b"GET /a%zz% HTTP/1.1\r\nHost: a\r\n\r\n" => |h| h.target == "/a%zz%";
    extension_method: b"PURGE /x HTTP/1.1\r\nHost: a\r\n\r\n" => |h| h.method.as_str() == "PURGE";
    empty_host: b"GET / HTTP/1.1\r\nHost:\r\n\r\n" => |h| h.headers["host"].is_empty();
    host_with_port: b"GET / HTTP/1.1\r\nHost: a.example:8080\r\n\r\n" => |h| h.headers["host"] == "a.example:8080";
    ipv6_host_with_port: b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n" => |h| h.headers["host"] == "[::1]:8080";
    field_value_ows_trimmed: &get_with("X-A: \t one two \t\r\n") => |h| h.headers["x-a"] == "one two";
    tab_and_obs_text_in_value: b"GET / HTTP/1.1\r\nHost: a\r\nX-A: a\tb\xe9\r\n\r\n" => |h| h.headers["x-a"].as_bytes() == b"a\tb\xe9";
    repeated_fields_kept_in_order: &get_with("X-A: 1\r\nX-A: 2\r\n") => |h| h.headers.get_all("x-a").iter().map(|v| v.as_bytes()).eq([&b"1"[..], b"2"]);
    exactly_max_fields: &many_fields(99) => |h| h.headers.len() == 100;
}

partial! {
    empty_input: b"";
    only_leading_crlf: b"\r\n";
    half_a_crlf: b"\r";
    part_of_request_line: b"GET / HT";
    request_line_only: b"GET / HTTP/1.1\r\n";
    missing_final_crlf: b"GET / HTTP/1.1\r\nHost: a\r\n";
    final_cr_without_lf: b"GET / HTTP/1.1\r\nHost: a\r\n\r";
}

#[test]
fn body_bytes_after_the_head_are_not_consumed() {
    let input = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET";
    let head = complete_with_tail(input, 6);
    assert_eq!(head.framing, BodyFraming::Length(3));
}

#[test]
fn status_codes_cover_each_class() {
    assert_eq!(HeadError::BareLineEnding.status().as_u16(), 400);
    assert_eq!(
        HeadError::RequestLineTooLong { limit: 1 }.status().as_u16(),
        414
    );
    assert_eq!(HeadError::HeadTooLarge { limit: 1 }.status().as_u16(), 431);
    assert_eq!(HeadError::UnsupportedTransferCoding.status().as_u16(), 501);
    assert_eq!(HeadError::UnsupportedVersion.status().as_u16(), 505);
    assert_eq!(HeadError::UnsupportedExpectation.status().as_u16(), 417);
}

#[test]
fn limits_larger_than_the_stack_slots_work() {
    let limits = HeadLimits {
        max_headers: 300,
        ..HeadLimits::default()
    };
    let input = many_fields(250);
    let parsed = parse_request_head(&input, &limits);
    assert!(matches!(parsed, Ok(Parsed::Complete { head, .. }) if head.spans.len() == 251));
}
