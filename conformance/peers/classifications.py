"""The judgment on each peer failure, read by summarise.py.

Every failed check (and, for the corpus checks, every failed case) of a peer is
matched against RULES in order; the first rule whose `servers`, `check`, `case` and
`why` all match gives its classification. `check`, `case` and `why` are regular
expressions searched in the check name, the corpus case name ("group/NNN-slug") and
the suite's failure message; a rule without `case` matches only non-corpus checks,
and `case` of "*" matches any case. Each classification was made by looking at what
the check sent and what the peer answered (raw bytes over a socket, the peer's
source where needed); see README.md.

The principle: a failure is a **peer bug** when the peer breaks a MUST of RFC 9110 or
RFC 9112 or a requirement of PEP 3333; it is **beyond PEP 3333** when the peer does
what PEP 3333 and the RFCs allow (including where the RFCs only say SHOULD or MAY)
and SPEC.md chooses something stricter; it is a **suite bug** when the check or the
corpus case is itself wrong per SPEC.md or RFC 9112.
"""

PEER = "peer bug"
OURS = "beyond PEP 3333"
SUITE = "suite bug (reported)"

KINDS = {
    PEER: "a real bug of that peer: it breaks the RFC 9110 / RFC 9112 MUST or the "
    "PEP 3333 requirement cited.",
    OURS: "the peer does what PEP 3333 and the RFCs allow (or only advise against); "
    "the SPEC.md rule or section cited goes further.",
    SUITE: "the check or corpus case is wrong per SPEC.md or RFC 9112; not fixed "
    "here, described in the report and below.",
}

GUNICORN = {"gunicorn-sync", "gunicorn-gthread"}
ALL = "*"


def rule(servers, kind, note, check=".", case=None, why="."):
    return {"servers": servers, "check": check, "case": case, "why": why,
            "kind": kind, "note": note}


# Notes shared by several rules.
CLOSES_EVERY_CONNECTION = {
    "gunicorn-sync": "The sync worker answers every request with `Connection: close` "
    "and closes (documented: no keep-alive), so a second or pipelined request on the "
    "connection is never read. RFC 9112 §9.3/§9.6 let a server close after any "
    "response it marks with `close`; CONN-1, CONN-5 and FAIL-2 (SPEC 11.3, 12) "
    "require persistence and pipelining.",
    "wsgiref": "wsgiref is an HTTP/1.0 server (`BaseHTTPRequestHandler.protocol_version` "
    "is HTTP/1.0): it answers `HTTP/1.0`, never chunks, and closes after every "
    "response, so a second or pipelined request is never read. RFC 9110 §6.2 lets a "
    "server answer with the highest version it conforms to; CONN-1, CONN-5, FRAME-1, "
    "FRAME-7 and FAIL-2 require HTTP/1.1 behaviour.",
}
SUITE_LIMIT_VALUE = (
    "The case sends a size only just above the reference server's default (9000 "
    "bytes against 8 KiB, 70000 or 80000 against 64 KiB) and fails a MUST rule when a "
    "server's documented limit is higher. SPEC 11.4 lets servers choose other values "
    "(\"as long as they document them\") and SPEC 15.2 says limit tests send sizes "
    "far above the defaults so that servers are judged on behaviour, not values. "
    "The peer's own limit is higher and documented: {limit}."
)
SUITE_LIMIT_ACCEPT = (
    "The case expects acceptance of a size at the reference server's own limit "
    "(the file's comment: \"Under the default 8192-byte request-line limit\"; 100 "
    "header fields), and fails LIMIT-2/LIMIT-3 (MUST) when a server's documented limit "
    "is lower; SPEC 11.4 allows other documented values and LIMIT-2/3 only require "
    "414/431 above the server's own limit, which the peer gives: {limit}. RFC 9112 §3 "
    "only RECOMMENDS supporting 8000-octet request lines."
)
IGNORES_TE = (
    "wsgiref ignores Transfer-Encoding entirely: it reads the body by Content-Length "
    "or, without one, as empty, so a chunked body never reaches the app and its bytes "
    "are left on the connection (wsgiref then closes). RFC 9112 §7: a recipient MUST "
    "be able to parse chunked; §6.3: Transfer-Encoding overrides Content-Length, and a "
    "request whose Transfer-Encoding does not end in chunked MUST get 400."
)
NO_STATUS_LINE = (
    "For a request line it cannot parse, wsgiref (http.server) sends its error page "
    "without any status line or header (it falls back to HTTP/0.9 framing), so the "
    "client cannot even see a status. RFC 9112 §4: a response starts with a "
    "status-line; the RFC's answer here is 400 (RFC 9112 §3) or 505."
)

GRANIAN_HTTP1 = (
    "An HTTP/1.0 request gets SERVER_PROTOCOL `HTTP/1` (granian "
    "maps hyper's version to `HTTP/1`), which is not the version the client sent. "
    "PEP 3333: SERVER_PROTOCOL is the version of the protocol the client used, a CGI "
    "variable whose form is `HTTP/` digits `.` digits (RFC 3875 §4.1.16)."
)
GRANIAN_LATIN1 = (
    "A header value with octets 0x80-0xFF reaches the app as an "
    "empty string (`X-A: caf\\xe9` gives HTTP_X_A \"\"): granian keeps only values "
    "that are visible ASCII. PEP 3333: HTTP_ variables carry the client's header "
    "values, as native strings of ISO-8859-1 code points (\"Unicode Issues\"); RFC "
    "9110 §5.5 asks a recipient to treat obs-text as opaque data."
)
GRANIAN_NO_REQUEST_URI = (
    "No REQUEST_URI (nor RAW_URI): the twin rebuilds request_uri "
    "from PATH_INFO and QUERY_STRING, which loses an absolute-form target's scheme and "
    "authority and the `%2F` of a path. PEP 3333 defines no such variable; ENV-15 "
    "(SPEC 5.1, 5.2) requires the raw target as REQUEST_URI."
)
GRANIAN_NO_BODY_LIMITS = (
    "No request body limit and no body read timeout: a "
    "Content-Length of 1 GiB + 1 or 10^15, or a chunk of 1 GiB + 1 or 2^64 - 1 (which "
    "fits hyper's u64), is accepted and the data awaited, and a stalled body is waited "
    "for (granian only times out the head). RFC 9110 and RFC 9112 require neither; "
    "REQ-35, LIMIT-5/6 and INPUT-7/LIMIT-10 (SPEC 6, 11.4) want 413 up front or 408."
)
GRANIAN_BODY_EOF = (
    "granian's wsgi.input ends cleanly at a body error (a malformed chunk, a bad trailer, "
    "the client's close before the body's end): the app gets the data decoded so far as "
    "the whole body and answers as it likes (the echo 200, the twin's own 500 on a short "
    "Content-Length body, \"read 3\"), then granian closes; nothing after the error is "
    "parsed. RFC 9112 §2.2 only says SHOULD 400 for malformed framing, §8 lets a server "
    "answer an incomplete request (MAY) and PEP 3333 defines no input errors, while "
    "INPUT-5/INPUT-6 and FAIL-10/FAIL-11 want a read error and 400."
)

RULES = [
    # ---------------------------------------------------------------- suite bugs
    rule(ALL, SUITE, "`chunks_go_out_before_the_next_is_pulled` reads the pull counter "
         "(`/fixture/pulled`) on a second connection while the first response is still "
         "streaming. A server that serves one connection at a time (gunicorn's sync "
         "worker, allowed by PEP 3333 and by every wire rule) answers that probe only "
         "after the whole body was sent, so the check reports a STREAM-1 violation "
         "that did not happen: measured with a socket, the sync worker sends each "
         "chunk 0.4 s apart as the app yields it.",
         check=r"^chunks_go_out_before_the_next_is_pulled$", why="after all"),
    rule(ALL, SUITE, "HTTP/1.0 keep-alive is optional: RFC 9112 §9.3 keeps the "
         "connection open only if the server \"wishes to honor\" `keep-alive`, SPEC "
         "CONN-4 makes it a MAY (review) and only when the response has a "
         "Content-Length. The case expects keep-alive as a MUST (CONN-1/2/3) for an "
         "echo whose length the peer does not know (the twin returns a one-element "
         "list; measuring it is a MAY in PEP 3333), where a close-delimited HTTP/1.0 "
         "response has to close.",
         check="^corpus_keep_alive$", case=r"^keep-alive/01[012]-", why="expected keep-alive"),
    rule(ALL, SUITE, "The case expects 417 for an unknown expectation, which is SPEC "
         "REQ-23 (SHOULD) and only a MAY in RFC 9110 §10.1.1, but the `headers` corpus "
         "group charges its failures to REQ-16..REQ-20 (MUST), so a peer that ignores "
         "the expectation fails five MUST rules it does not break. "
         "`unknown_expectations_get_417` already observes REQ-23 correctly as a warning.",
         check="^corpus_headers$", case=r"^headers/020-"),
    rule({"wsgiref"}, PEER, "Given one empty line before the request line, wsgiref "
         "closes the connection without any response; RFC 9112 §2.2 asks a server to "
         "ignore at least one such line, and otherwise a 400 is due (the case accepts "
         "either), never silence.",
         case=r"^request-line/016-", why="missing"),
    rule(ALL, SUITE, "The case wants one leading empty line ignored (RFC 9112 §2.2: "
         "SHOULD; SPEC REQ-6: MAY, review), but the `request-line` group charges its "
         "failure to REQ-1/2/4/5/7 (MUST). wsgiref closes without answering.",
         check="^corpus_request_line$", case=r"^request-line/016-", why="is missing"),
    rule(ALL, SUITE, SUITE_LIMIT_ACCEPT.format(limit="gunicorn `limit_request_line` "
         "is 4094 and it answers 414 above it; http.server allows 100 header lines "
         "(Host included) and answers 431 above"),
         check="^corpus_limits$", case=r"^limits/00[46]-"),
    rule({"waitress"}, SUITE, SUITE_LIMIT_VALUE.format(limit="waitress "
         "`max_request_header_size` = 262144 bytes for the request line and header "
         "section together"),
         check="^corpus_limits$", case=r"^limits/00[123789]-"),
    rule({"wsgiref"}, SUITE, SUITE_LIMIT_VALUE.format(limit="http.server reads lines "
         "of up to 65536 bytes"),
         check="^corpus_limits$", case=r"^limits/00[123]-"),

    rule({"granian"}, SUITE, "The case sends a 300 000-byte method (limits/003) or a "
         "400 000-byte header section (limits/009), still below granian's documented head "
         "limit (`--http1-buffer-size`, default 417 792 bytes; it answers 431 above it, "
         "measured at 600 000), and fails LIMIT-2/LIMIT-4 (MUST). SPEC 11.4 lets a server "
         "document other values, and SPEC 15.2 asks for sizes far above any sensible limit "
         "(a 1 MiB request line) so that servers are judged on behaviour, not values.",
         check="^corpus_limits$", case=r"^limits/00[39]-"),
    rule(ALL, SUITE, "`HTTP/1.2` gets 400: RFC 9110 §6.2 says a server SHOULD process it "
         "as HTTP/1.1, SPEC REQ-10 (SHOULD) accepts 200 or 505, but the `version` group "
         "charges the case to REQ-8 and REQ-9 (MUST), which a 400 for a well-formed 1.x "
         "version does not break.",
         check="^corpus_version$", case=r"^version/003-"),
    rule(ALL, OURS, "`HTTP/1.2` gets 400. RFC 9110 §6.2: a server SHOULD process a higher "
         "minor version as the highest it supports; SPEC REQ-10 (SHOULD, a warning) accepts "
         "200 or 505.",
         check="^corpus_version_higher_minor$", case=r"^version/003-"),
    rule({"granian"}, SUITE, "The case sends no /smuggled request, yet the app ran for "
         "/smuggled during it: smuggling/011 just before failed at its first response and "
         "left its connection, whose pipelined `GET /smuggled` granian then served (011 is "
         "judged on its own). Run alone, granian answers this case 400 and closes.",
         check="^corpus_smuggling$", case=r"^smuggling/012-",
         why=r"app ran \d+ time\(s\) for /smuggled"),

    # ---------------------------------------------------- wsgiref: HTTP/1.0 server
    rule({"wsgiref"}, PEER, IGNORES_TE, check="^corpus_", case=r"^(chunked|keep-alive/014|"
         r"pipelining/004|limits/013|smuggling/0(0[1-9]|1[0-9]|2[26]|3[3-8])|"
         r"pipelining/009|transfer-encoding/0(0[1-9]|1[0-3]))"),
    rule({"wsgiref"}, PEER, IGNORES_TE,
         check=r"^(content_length_only_when_sent|chunked_body_arrives_decoded|"
         r"a_malformed_chunk_is_an_error_and_closes)$"),
    rule({"wsgiref"}, OURS, "An HTTP/1.0 request with Transfer-Encoding: RFC 9112 §6.1 "
         "says to treat the framing as faulty and close after processing, which "
         "wsgiref does (it closes every connection); REQ-32 wants a 400.",
         check="^corpus_", case=r"^(transfer-encoding/014|smuggling/020)"),
    rule({"wsgiref"}, PEER, "wsgiref hands Content-Length to the app unchecked (`+5`, "
         "`0x5`, `5 0`, two different values, a list): the twin then reads a wrong "
         "length or fails with 500. RFC 9112 §6.3: an invalid Content-Length is an "
         "unrecoverable framing error; the server MUST answer 400 and close.",
         check="^corpus_", case=r"^(content-length/0(0[1-9]|1[0126])|smuggling/0(2[19]|3[01]))"),
    rule({"wsgiref"}, PEER, "Whitespace between a field name and the colon is "
         "accepted. RFC 9112 §5.1: a server MUST reject such a request with 400.",
         check="^corpus_", case=r"^(headers/00[12]|content-length/014|smuggling/0(09|37))"),
    rule({"wsgiref"}, PEER, "An obs-fold is kept inside the value, CRLF and all "
         "(`HTTP_X_A` is \"b\\r\\n c\"). RFC 9112 §5.2: a server MUST reject it with 400 "
         "or replace each obs-fold with SP.",
         check="^corpus_", case=r"^(headers/00[34]|smuggling/0(08|17))"),
    rule({"wsgiref"}, PEER, "A whitespace-preceded line before the first field makes "
         "every following field disappear (Host included). RFC 9112 §2.2: the recipient "
         "MUST reject the message or ignore each such line without further processing.",
         check="^corpus_", case=r"^headers/005"),
    rule({"wsgiref"}, PEER, "NUL in a field value reaches the app. RFC 9110 §5.5: a "
         "recipient of CR, LF or NUL in a field value MUST reject the message or "
         "replace them with SP.",
         check="^corpus_", case=r"^headers/0(06|29)"),
    rule({"wsgiref"}, PEER, "A bare CR splits the field line (the rest of the value is "
         "lost). RFC 9112 §2.2: a bare CR MUST be treated as invalid or replaced by SP.",
         check="^corpus_", case=r"^headers/01[12]"),
    rule({"wsgiref"}, OURS, "wsgiref accepts header lines RFC 9112 §2.2 says SHOULD get "
         "400 (no colon, empty or non-token names, control octets other than CR/LF/NUL "
         "that RFC 9110 §5.5 lets a recipient retain, bare LF, which RFC 9112 §2.2 lets "
         "a recipient accept). REQ-16..REQ-19 make all of them MUST-400.",
         check="^corpus_", case=r"^(headers/0(0[789]|1[03-9]|30)|smuggling/032)"),
    rule({"wsgiref"}, PEER, NO_STATUS_LINE, check="^corpus_",
         case=r"^(request-line/01[345]|version/0(0[457]|1[0-9])|pipelining/008)"),
    rule({"wsgiref"}, OURS, "A line without a version (`GET /`) is taken as an HTTP/0.9 "
         "request and answered HTTP/0.9-style (no status line); RFC 9112 does not "
         "define HTTP/0.9, REQ-7/REQ-9 want 400/505.",
         check="^corpus_", case=r"^(request-line/00[12]|version/006)"),
    rule({"wsgiref"}, OURS, "Two empty lines before the request line: wsgiref closes "
         "without a response. RFC 9112 §2.2 only asks to ignore at least one (SHOULD); "
         "REQ-1 wants a rejection response.",
         check="^corpus_", case=r"^request-line/017"),
    rule({"wsgiref"}, PEER, "The absolute-form target is not parsed: PATH_INFO is "
         "\"http://example.test/a\". RFC 9112 §3.2.2: a server MUST accept the "
         "absolute-form; PEP 3333: PATH_INFO is the remainder of the URL's path.",
         check="^corpus_", case=r"^(target/019|target/020|host/011)"),
    rule({"wsgiref"}, PEER, "wsgiref sends the app's body in the response to HEAD. "
         "RFC 9110 §9.3.2: the server MUST NOT send content in a response to HEAD; a "
         "client reads those bytes as the next response (RFC 9112 §6.3).",
         check="^corpus_", case=r"^valid/006"),
    rule({"wsgiref"}, PEER, "wsgiref sends the app's body in the response to HEAD "
         "(`aaaaabbbbbccccc` after the head). RFC 9110 §9.3.2: the server MUST NOT send "
         "content in a response to HEAD.",
         check="^head_has_no_body_and_keeps_the_connection$"),
    rule({"wsgiref"}, PEER, "wsgiref computes Content-Length for a one-element body "
         "even on a 204. RFC 9110 §8.6: a server MUST NOT send Content-Length in a 204 "
         "response.",
         check="^no_content_and_not_modified_carry_nothing$", why="204 carried Content-Length"),
    rule({"wsgiref"}, PEER, "wsgiref (HTTP/1.0, no Expect support) never answers "
         "`Expect: 100-continue` and waits for the body, which the client holds back. "
         "RFC 9110 §10.1.1: on an HTTP/1.1 request with 100-continue the origin server "
         "MUST send 100 or a final status at once and MUST NOT wait for the content.",
         check="^continue_goes_out_only_when_the_app_reads$"),
    rule({"wsgiref"}, PEER, "The absolute-form target is not parsed: PATH_INFO holds "
         "\"http://abs.example:8080/env/abs x\". RFC 9112 §3.2.2: a server MUST accept "
         "the absolute-form; PEP 3333: PATH_INFO is the remainder of the URL's path.",
         check="^absolute_form_gives_path_and_query$"),
    rule({"wsgiref"}, OURS, "A failure after the headers of an HTTP/1.0 response: the "
         "close-delimited body cannot show the cut (there is no chunking in HTTP/1.0, "
         "RFC 9112 §6.3). FAIL-4 relies on chunked framing (FRAME-7).",
         check="^failures_after_headers_abort_the_response$"),
    rule({"wsgiref"}, OURS, "The twin reports `after_eof: null` because wsgiref does "
         "not set `wsgi.input_terminated`, so reading past the body could block. PEP "
         "3333 does not promise EOF there; INPUT-2 (SPEC 6, D1) does.",
         check="^reads_after_eof_return_nothing_at_once$"),
    rule({"wsgiref", "granian"}, OURS, "`X_Forwarded_For` reaches the app as "
         "HTTP_X_FORWARDED_FOR, as CGI and PEP 3333 map it; ENV-18 (SPEC 5.1, Q12) "
         "drops names with `_`.",
         check="^underscored_header_names_are_dropped$"),
    rule({"wsgiref"}, OURS, "`Connection: close` is honoured (wsgiref closes every "
         "connection) but not echoed in the response; RFC 9112 §9.6 says SHOULD send "
         "`close`. CONN-2's check also demands the header.",
         check="^connection_close_is_the_last_request$", why="no Connection: close"),
    rule({"wsgiref"}, OURS, "wsgiref accepts request lines RFC 9112 §3 lets a server "
         "parse leniently (extra or other whitespace, bare LF: MAY) or only advises "
         "rejecting (SHOULD 400: non-token methods, invalid versions such as "
         "`HTTP/1.10`). REQ-4/5/8 make them MUST-400.",
         check="^corpus_", case=r"^(request-line/0(0[3-9]|1[012])|version/00[89])"),
    rule({"wsgiref"}, OURS, "wsgiref accepts a malformed request header "
         "(`Bad Name: x`) and answers 200; RFC 9112 §2.2 says SHOULD 400, REQ-1/REQ-16 "
         "require the 400 rejection shape.",
         check="^rejections_are_short_plain_and_close$", why="status 200"),
    rule({"wsgiref"}, OURS, CLOSES_EVERY_CONNECTION["wsgiref"],
         check=r"^(http11_connections_persist|pipelined_requests_are_answered_in_order|"
         r"body_ends_exactly_at_its_end|the_connection_survives_a_500|"
         r"status_line_and_reason_phrase|"
         r"unknown_length_is_chunked_on_1_1_and_close_delimited_on_1_0)$"),
    rule({"wsgiref"}, OURS, CLOSES_EVERY_CONNECTION["wsgiref"], check="^corpus_",
         case="*", why=r"(expected keep-alive|response \d+ of \d+ is missing)"),
    rule({"wsgiref"}, OURS, "No body limit: a Content-Length of 1 GiB + 1 or 10^15 is "
         "accepted and the body awaited (REQ-35, SPEC 11.4 wants 413 up front).",
         check="^corpus_", case=r"^limits/01[12]"),
    rule({"wsgiref"}, OURS, "No header-section size limit: http.server bounds only each "
         "line (65536 bytes) and the count (100); LIMIT-4 (SPEC 11.4) wants a section "
         "limit answered with 431.",
         check="^corpus_", case=r"^limits/009"),

    # ---------------------------------------------------------- gunicorn (both)
    rule(ALL, PEER, "No (or incomplete) Host validation: a missing Host on HTTP/1.1 "
         "and invalid values (space, comma list, path, userinfo, bad port, unclosed "
         "IPv6 literal; for waitress, wsgiref and granian also two Host fields, for "
         "wsgiref also NUL and control octets) reach the app. RFC 9112 §3.2: a server MUST "
         "answer 400 to an HTTP/1.1 request without Host, and to any request with more than "
         "one Host field line or an invalid Host value.",
         check="^corpus_host$", case=r"^host/", why="status 200"),
    rule(GUNICORN, PEER, "The app returned a body without calling start_response: the "
         "sync worker sends the status line `HTTP/1.1 None` and the body `oops`. PEP "
         "3333: the app must call start_response before the body (the server must "
         "treat it as an error); RFC 9112 §4: the status-line carries a 3-digit code. "
         "(The gthread worker crashes on the same response and answers 500 by accident. "
         "The suite's raw client panics on the status line with `ParseIntError`, a "
         "robustness gap of fixtures/src/raw_client.rs, but the verdict is right.)",
         check="^a_body_without_start_response_is_a_500$"),
    rule(GUNICORN, PEER, "`start_response` with exc_info appends the new headers to "
         "the recorded ones (`X-First`, the first Content-Length and Content-Type "
         "survive; the body is cut to 5 bytes). PEP 3333: with exc_info and headers not "
         "yet sent, start_response should replace the stored status and headers.",
         check="^start_response_with_error_replaces_everything$"),
    rule(GUNICORN | {"wsgiref"}, PEER, "The headers go out with the first chunk even "
         "when it is empty (gunicorn's `Response.write` and wsgiref's "
         "`BaseHandler.write` send them before looking at the data), so a later "
         "failure can no longer become a 500. PEP 3333: the server must transmit the "
         "headers only after the first iteration that yields a non-empty bytestring.",
         check="^headers_wait_for_the_first_non_empty_chunk$"),
    rule(GUNICORN, OURS, "gunicorn refuses methods that are not upper case (`Get`) "
         "with 400 unless `permit_unconventional_http_method` is set: a deliberate "
         "hardening; RFC 9110 §9.1 only recommends 501 for an unimplemented method. "
         "ENV-3 (SPEC 5.1) passes every token method to the app.",
         check="^method_is_passed_as_received$"),
    rule(GUNICORN | {"waitress"}, OURS, "For `GET http://abs.example` (an absolute-form "
         "target with an empty path) PATH_INFO is empty; ENV-13 (SPEC 5.1) makes it `/`, "
         "as the origin-form of the same URL would be (RFC 9112 §3.2.1). PEP 3333 allows "
         "an empty PATH_INFO.",
         check="^absolute_form_gives_path_and_query$", why='path_info is ""'),
    rule({"wsgiref"}, PEER, "The absolute-form target is not parsed, so the Host header "
         "stays in HTTP_HOST; RFC 9112 §3.2.2: an origin server receiving the "
         "absolute-form MUST ignore Host and use the target's authority.",
         check="^absolute_form_authority_replaces_host$"),
    rule(GUNICORN | {"granian"}, OURS, "For an absolute-form target, HTTP_HOST stays the "
         "Host header (`other.example`). PEP 3333 defines HTTP_* as the request's headers; "
         "RFC 9112 §3.2.2 asks the origin server to use the target's authority, which ENV-19 "
         "(SPEC 5.1, Q15) puts on the server.",
         check="^absolute_form_authority_replaces_host$"),
    rule(GUNICORN, OURS, "`forwarded_allow_ips` defaults to `127.0.0.1,::1`, so "
         "gunicorn trusts X-Forwarded-Proto from the loopback client the suite uses "
         "(documented). ENV-26 (SPEC 5.1, Q23): the trusted list is empty by default.",
         check="^forwarded_headers_do_not_change_the_scheme$"),
    rule(GUNICORN | {"wsgiref"}, OURS, "The server sends only the first 5 bytes but keeps iterating the "
         "body (3 chunks pulled). PEP 3333: the server SHOULD NOT send more than "
         "Content-Length; BODY-9/FRAME-4 (SPEC 9.1) also forbid pulling more.",
         check="^excess_beyond_content_length_is_cut_and_never_pulled$", why="pulled"),
    rule(GUNICORN, OURS, "No Content-Length for a one-element list: PEP 3333 says a "
         "server MAY compute it; FRAME-6 is a SHOULD, FRAME-11 a MAY (warnings).",
         check=r"^(a_known_length_gets_a_content_length|head_announces_the_length_a_get_would)$"),
    rule(GUNICORN, OURS, "gunicorn treats Date and Server as hop-by-hop "
         "(`gunicorn.util.hop_headers`): the app's are dropped and its own sent. PEP 3333 "
         "only says the server adds them when the app omits them; FRAME-14 (SPEC 11.2, "
         "Q22) keeps the app's.",
         check="^date_is_added_and_the_apps_is_kept$"),
    rule(GUNICORN, OURS, "Errors and rejections are HTML pages (`Content-Type: "
         "text/html`). PEP 3333 leaves their form to the server; FAIL-1 and REQ-1 "
         "(SPEC 11.1, 12) want short text/plain.",
         check=r"^(failures_before_headers_give_a_plain_500|rejections_are_short_plain_and_close)$",
         why="text/html"),
    rule({"gunicorn-gthread"}, OURS, "After a 500 gunicorn closes the connection; RFC "
         "9112 §9.6 allows it (with `Connection: close`), FAIL-2 (SPEC 12) keeps it "
         "open when the body was read.",
         check="^the_connection_survives_a_500$"),
    rule(GUNICORN, OURS, "`Expect: 100-continue` is answered at once with 100, before "
         "the app reads. PEP 3333 (\"HTTP 1.1 Expect/Continue\") allows exactly that; "
         "CONN-9 (SPEC 11.3, D2) sends it lazily.",
         check="^continue_goes_out_only_when_the_app_reads$"),
    rule(GUNICORN | {"wsgiref"}, OURS, "Python integers do not overflow: the server accepts a "
         "Content-Length or chunk size above 2^64 and waits for that body. RFC 9110 §8.6 "
         "and RFC 9112 §7.1 only require no overflow error; REQ-28/REQ-36 (SPEC 11.1) "
         "want 400/413 at once.",
         check="^corpus_", case=r"^(content-length/013|chunked/02[01])"),
    rule(GUNICORN, OURS, "An unknown coding before chunked (`gzip, chunked`) is "
         "accepted: gunicorn removes chunked and passes the rest with "
         "HTTP_TRANSFER_ENCODING visible to the app. RFC 9112 §6.1 says SHOULD 501; "
         "REQ-30 makes it MUST.",
         check="^corpus_transfer_encoding$", case=r"^transfer-encoding/0(06|13)"),
    rule(GUNICORN, OURS, "A Content-Length trailer field is refused with 400 "
         "(hardening; RFC 9110 §6.5.1 forbids sending it). REQ-39 (SPEC 11.1) parses and "
         "discards trailers.",
         check="^corpus_chunked$", case=r"^chunked/010"),
    rule(GUNICORN, OURS, "Targets RFC 9112 §3 only advises rejecting (SHOULD 400): a "
         "fragment (stripped from PATH_INFO) and CONNECT (given to the app, the authority "
         "misread as PATH_INFO \"443\"; RFC 9110 §9.1 SHOULD 501). REQ-11/REQ-15 make "
         "them MUST.",
         check="^corpus_target$", case=r"^target/0(25|32)"),
    rule(GUNICORN | {"granian"}, OURS, "Major versions other than 1 get 400, not 505. "
         "RFC 9112 §2.3: a server \"can\" send 505; REQ-9 requires it.",
         check="^corpus_version$", case=r"^version/00[4-7]"),
    rule(GUNICORN, OURS, "No header-section size limit: gunicorn bounds the head by "
         "`limit_request_fields` (100) x `limit_request_field_size` (8190); LIMIT-4 "
         "(SPEC 11.4) wants a section limit answered with 431.",
         check="^corpus_limits$", case=r"^limits/009"),
    rule(GUNICORN, OURS, "No request body limit: a Content-Length over 1 GiB (or a chunk "
         "over 1 GiB) is accepted and the body awaited. REQ-35/LIMIT-5 (SPEC 11.4) want "
         "413 or a body error up front.",
         check="^corpus_limits$", case=r"^limits/01[123]"),
    rule({"gunicorn-sync"}, OURS, CLOSES_EVERY_CONNECTION["gunicorn-sync"],
         check=r"^(http11_connections_persist|pipelined_requests_are_answered_in_order|"
         r"body_ends_exactly_at_its_end|the_connection_survives_a_500|"
         r"head_has_no_body_and_keeps_the_connection|"
         r"no_content_and_not_modified_carry_nothing)$"),
    rule({"gunicorn-sync"}, OURS, CLOSES_EVERY_CONNECTION["gunicorn-sync"],
         check="^corpus_", case="*", why=r"(expected keep-alive|response \d+ of \d+ is missing)"),

    # ------------------------------------------------------------------ waitress
    rule({"waitress"}, PEER, "Content-Length together with Transfer-Encoding: waitress "
         "decodes by Transfer-Encoding but keeps the connection open and parses what "
         "follows as the next request (two responses, no close). RFC 9112 §6.1: "
         "regardless of how it processes such a request, the server MUST close the "
         "connection after responding.",
         check="^corpus_", case=r"^(smuggling/0(0[1-4]|17|18|19|38|39)|pipelining/009)"),
    rule({"waitress"}, PEER, "An empty Transfer-Encoding value (or just `,`) is "
         "ignored: the body is taken as empty and the chunk data `0` is parsed as the "
         "next request (a second response, 400). RFC 9112 §6.3: a request whose "
         "Transfer-Encoding does not end in chunked MUST get 400 and a close.",
         check="^corpus_transfer_encoding$", case=r"^transfer-encoding/01[12]"),
    rule({"waitress"}, PEER, "`Connection: foo, close` (and `keep-alive, close`, or "
         "`close` in a second Connection field) does not close: waitress only "
         "recognises a lone `close`. RFC 9110 §7.6.1 makes Connection a list; RFC 9112 "
         "§9.6: a server that receives the `close` option MUST close after the response.",
         check="^corpus_keep_alive$", case=r"^keep-alive/00[678]"),
    rule({"waitress"}, PEER, "waitress sends the app's body (chunked) in the response "
         "to HEAD. RFC 9110 §9.3.2: the server MUST NOT send content in a response to "
         "HEAD; the chunk bytes are read as the next response (RFC 9112 §6.3). (The "
         "suite's check panics with `Option::unwrap()` on the result, a robustness gap "
         "of response.rs; the verdict is right.)",
         check="^head_has_no_body_and_keeps_the_connection$"),
    rule({"waitress"}, PEER, "`start_response` with exc_info keeps the first call's "
         "Content-Length (the body is cut to `repla`). PEP 3333: with exc_info and headers "
         "not yet sent, start_response should replace the stored status and headers.",
         check="^start_response_with_error_replaces_everything$"),
    rule({"waitress"}, OURS, "waitress rejects methods that are not upper case (`Get`) "
         "with 400; RFC 9110 §9.1 only recommends 501 for an unimplemented method. ENV-3 "
         "passes every token method to the app.",
         check="^method_is_passed_as_received$"),
    rule({"waitress"}, OURS, "For an absolute-form target, HTTP_HOST stays the Host "
         "header. PEP 3333 defines HTTP_* as the request's headers; ENV-19 (RFC 9112 "
         "§3.2.2) puts the target's authority there.",
         check="^absolute_form_authority_replaces_host$"),
    rule({"waitress"}, OURS, "Repeated fields are joined with \", \" (RFC 9110 §5.3 "
         "allows a comma and optional whitespace); ENV-31 (SPEC 5.2) joins with \",\".",
         check=r"^(headers_arrive_as_received_in_the_cgi_view|corpus_headers)$",
         case=None, why=r"one, two"),
    rule({"waitress"}, OURS, "Repeated fields are joined with \", \" (RFC 9110 §5.3 "
         "allows a comma and optional whitespace); ENV-31 (SPEC 5.2) joins with \",\".",
         check="^corpus_headers$", case=r"^headers/023"),
    rule({"waitress"}, OURS, "waitress buffers a chunked body and sets CONTENT_LENGTH to "
         "its decoded length so that PEP 3333 apps can read it; ENV-20 (SPEC 5.1, Q19) "
         "wants CONTENT_LENGTH absent for chunked bodies.",
         check="^content_length_only_when_sent$"),
    rule({"waitress"}, OURS, "Excess over Content-Length is cut but the connection stays "
         "open (the framing is intact; RFC 9112 allows it). FRAME-4 (SPEC 11.2) closes "
         "after an excess. (The message is the suite's: `Reader::is_closed` panics on "
         "its read timeout instead of returning false.)",
         check="^excess_beyond_content_length_is_cut_and_never_pulled$"),
    rule({"waitress"}, OURS, "waitress reads the whole request body before calling the "
         "app, so with 10 MB announced and 3 bytes sent nothing is answered (PEP 3333 "
         "lets a server buffer input). CONN-8 (SPEC 11.3) answers and closes.",
         check="^a_body_too_big_to_drain_closes_with_notice$"),
    rule({"waitress"}, OURS, "After a 500, or a 204/304, waitress sends `Connection: "
         "close` and closes (RFC 9112 §9.6 allows it); FAIL-2 and CONN-1 keep the "
         "connection.",
         check=r"^(the_connection_survives_a_500|no_content_and_not_modified_carry_nothing)$"),
    rule({"waitress"}, OURS, "`Expect: 100-continue` is answered with 100 before the "
         "app reads (waitress buffers the body first). PEP 3333 (\"HTTP 1.1 "
         "Expect/Continue\") allows it; CONN-9 (SPEC 11.3, D2) sends it lazily.",
         check="^continue_goes_out_only_when_the_app_reads$"),
    rule({"waitress"}, OURS, "Request lines RFC 9112 §3 lets a server parse leniently "
         "(extra whitespace: MAY) or only advises rejecting (SHOULD 400): no version "
         "(taken as HTTP/1.0), missing target. REQ-4/REQ-7 make them MUST-400.",
         check="^corpus_request_line$", case="*"),
    rule({"waitress"}, OURS, "obs-fold is unfolded (`b c`), which RFC 9112 §5.2 allows "
         "instead of 400; REQ-17 rejects it (in smuggling/008 the folded "
         "`Transfer-Encoding: chunked` becomes part of the Host value, so only "
         "Content-Length frames the body, consistently).",
         check="^corpus_", case=r"^(headers/00[34]|smuggling/008)"),
    rule({"waitress"}, OURS, "A head ending in bare LF is not recognised, so waitress "
         "waits for more (RFC 9112 §2.2 lets a recipient accept bare LF or reject; it "
         "does not require an answer). REQ-19 wants 400.",
         check="^corpus_", case=r"^(headers/014|chunked/02[67])"),
    rule({"waitress", "granian"}, OURS, "`chunked, chunked` (one field or two) is decoded once; "
         "RFC 9112 §6.1 forbids the sender to do it but says nothing of the recipient. "
         "REQ-31 wants 400.",
         check="^corpus_", case=r"^(transfer-encoding/010|smuggling/011)"),
    rule({"waitress"}, OURS, "HTTP/1.0 with Transfer-Encoding: RFC 9112 §6.1 says to "
         "treat the framing as faulty and close after processing, which waitress does "
         "(HTTP/1.0 closes); REQ-32 wants 400.",
         check="^corpus_", case=r"^(transfer-encoding/014|smuggling/020)"),
    rule({"waitress"}, OURS, "Chunk sizes above 2^64 or above the body limit are "
         "accepted and the data awaited (no overflow in Python; waitress counts the "
         "body limit as data arrives). REQ-36/REQ-35 want an error at once.",
         check="^corpus_", case=r"^(chunked/02[01]|limits/013)"),
    rule({"waitress"}, OURS, "waitress discards the trailer section without parsing it "
         "(RFC 9112 §7.1.2 lets a recipient discard trailers), so a malformed trailer "
         "(or a request line in its place) is not an error; REQ-39 parses trailers like "
         "headers.",
         check="^corpus_chunked$", case=r"^chunked/0(3[348]|40)"),
    rule({"waitress", "wsgiref"}, OURS, "A leading `//` in the path is collapsed to `/` (PATH_INFO "
         "\"/a//b\" for `//a//b`), a deliberate guard against the path being read as an "
         "authority. PEP 3333 leaves PATH_INFO's derivation to the server; ENV-11 (SPEC "
         "5.1, D7) forbids any normalisation.",
         check="^corpus_target$", case=r"^target/017"),
    rule({"waitress", "wsgiref"}, OURS, "Targets RFC 9112 §3 only advises rejecting (SHOULD 400) "
         "reach the app: `*` with GET/POST, authority-form with GET, CONNECT, no leading "
         "slash, DEL/NUL/control octets, a fragment. REQ-11..REQ-15 make them MUST.",
         check="^corpus_target$", case=r"^target/0(2[2-9]|3[02])"),
    rule({"waitress"}, OURS, "Other major versions (`HTTP/2.0`, `PRI * HTTP/2.0`) are "
         "processed as HTTP/1.0. RFC 9112 §2.3: a server \"can\" send 505; REQ-9 "
         "requires it.",
         check="^corpus_version$", case="*"),
    rule({"waitress"}, OURS, "No header-count limit (only the 256 KiB head limit): 101 "
         "fields are accepted. LIMIT-3 (SPEC 11.4) wants a count limit answered with 431.",
         check="^corpus_limits$", case=r"^limits/005"),

    # ------------------------------------------------------------------- granian
    rule({"granian"}, PEER, GRANIAN_HTTP1,
         check="^protocol_is_the_requests$"),
    rule({"granian"}, PEER, GRANIAN_HTTP1,
         check="^corpus_", case="*", why=r'server_protocol is "HTTP/1"'),
    rule({"granian"}, PEER, GRANIAN_LATIN1,
         check="^headers_arrive_as_received_in_the_cgi_view$", why='HTTP_X_LATIN is ""'),
    rule({"granian"}, PEER, GRANIAN_LATIN1,
         check="^corpus_headers$", case=r"^headers/026-"),
    rule({"granian"}, PEER, "granian takes the status and headers as soon as the app "
         "returns an iterator and sends them before iterating it, so a body that fails "
         "at its first step, or after yielding only b\"\", gives `200` and a cut chunked "
         "body instead of a 500 (and a status set lazily inside the body is ignored). PEP "
         "3333: the server must not transmit the headers until the first non-empty "
         "bytestring or the iterable's end, and must not assume start_response was called "
         "before iterating.",
         check=r"^(headers_wait_for_the_first_non_empty_chunk|"
         r"a_body_error_before_any_byte_is_a_500)$", why="expected status 500, got 200"),
    rule({"granian"}, PEER, "The app returned `[b\"oops\"]` without calling "
         "start_response: granian sends its default `200` (no Content-Type) with the body. "
         "PEP 3333: the app must call start_response before the body's first bytestring, "
         "and the server has no status of the app's to send.",
         check="^a_body_without_start_response_is_a_500$"),
    rule({"granian"}, PEER, "granian's start_response returns None, not a write callable, "
         "so the app's `write(b\"written\")` raises TypeError and the request ends as a "
         "500. PEP 3333: start_response must return a write(body_data) callable.",
         check="^the_write_handle_sends_before_the_body$"),
    rule({"granian"}, OURS, GRANIAN_NO_REQUEST_URI,
         check="^absolute_form_request_uri_is_the_whole_target$"),
    rule({"granian"}, OURS, GRANIAN_NO_REQUEST_URI,
         check="^corpus_target$", case="*", why="echo request_uri is"),
    rule({"granian"}, OURS, "The app's hop-by-hop headers reach the wire (`Connection: "
         "x-app-value`, `Keep-Alive`, `Upgrade`; an app's `Transfer-Encoding: x` becomes "
         "`x, chunked`). PEP 3333 forbids apps to send them and says a server should treat "
         "them as a fatal error (a SHOULD); START-5 (SPEC 8.1) keeps them off the wire.",
         check="^app_hop_by_hop_headers_never_reach_the_wire$"),
    rule({"granian"}, OURS, "granian's own error responses are empty: a 500 (app failure) "
         "or a 400 (malformed head) with `Content-Length: 0` and no Content-Type. PEP 3333 "
         "and RFC 9110 leave their form to the server; FAIL-1 and REQ-1 (SPEC 11.1, 12) "
         "want a short text/plain body.",
         check=r"^(failures_before_headers_give_a_plain_500|rejections_are_short_plain_and_close)$",
         why="Content-Type None"),
    rule({"granian"}, OURS, "The body is cut at the app's Content-Length, but the "
         "connection stays open and granian keeps iterating (3 chunks pulled, not 2): the "
         "framing is intact, as RFC 9112 allows, and PEP 3333 only says the server should "
         "stop iterating. FRAME-4/BODY-9 (SPEC 9.1, 11.2) stop pulling and close.",
         check="^excess_beyond_content_length_is_cut_and_never_pulled$"),
    rule({"granian"}, OURS, "granian keeps only the status code and sends the standard "
         "reason (`200 OK` for the app's `200 Fine Thanks`). RFC 9112 §4 makes the reason "
         "informational (clients SHOULD ignore it) and PEP 3333 does not require it to be "
         "sent; FRAME-2 (SPEC 11.2) does.",
         check="^status_line_and_reason_phrase$", why="Fine Thanks|200 OK"),
    rule({"granian"}, OURS, "`100 Continue` goes out only when the app reads (CONN-9/10 "
         "hold), and after an app that did not read granian closes, but mostly without "
         "`Connection: close`. RFC 9110 §10.1.1 and RFC 9112 §9.6 only say SHOULD; CONN-8 "
         "and CONN-12 (SPEC 11.3) require the header.",
         check="^continue_goes_out_only_when_the_app_reads$", why="must close"),
    rule({"granian"}, OURS, "Intermittent (each passed in another run of the same suite): "
         "when the body ends short of the app's Content-Length, or the app fails after its "
         "first chunk, granian sometimes closes having sent nothing (`/fixture/cl-short`: no "
         "byte in 4 of 8 raw tries, the head and `abcde` in the others) or the head without "
         "the chunk already yielded. The client sees an incomplete response either way, which "
         "is all RFC 9112 §6.3/§8 and PEP 3333 ask; FRAME-5 and FAIL-4 (SPEC 11.2, 12) want "
         "the bytes produced sent before the close.",
         check="^(a_short_body_closes_without_padding|failures_after_headers_abort_the_response)$",
         why=r"^(no response|/fixture/\S+: body \"\")"),
    rule({"granian"}, OURS, "On the client's half-close granian drops the connection at "
         "once: the app runs, but its answer to the complete request is never sent. RFC "
         "9112 does not require answering on a half-closed connection; CONN-15 (SPEC 11.3) "
         "does.",
         check="^half_closed_clients_get_answers_then_the_close$"),
    rule({"granian"}, OURS, GRANIAN_BODY_EOF,
         check=r"^(a_malformed_chunk_is_answered_400_and_closes|"
         r"a_body_cut_short_is_answered_400|a_chunked_body_cut_short_is_answered_400|"
         r"an_app_that_catches_a_body_error_keeps_its_answer)$"),
    rule({"granian"}, OURS, GRANIAN_BODY_EOF, check="^corpus_",
         case=r"^(chunked/0(1[4-9]|2[02-69]|30|3[3-8]|4[0-3])|smuggling/022)-"),
    rule({"granian"}, OURS, "Chunk extensions are skipped unread: a control octet, an "
         "unterminated quote, an empty name or a space in the name is accepted and the "
         "connection kept. RFC 9112 §7.1.1 has a recipient ignore unrecognised extensions; "
         "REQ-38 (SPEC 11.1) makes malformed ones a body error.",
         check="^corpus_chunked$", case=r"^chunked/0(28|3[129])-"),
    rule({"granian"}, OURS, GRANIAN_NO_BODY_LIMITS,
         check=r"^(a_chunked_body_over_the_limit_is_answered_413|"
         r"a_body_too_slow_is_answered_408)$"),
    rule({"granian"}, OURS, GRANIAN_NO_BODY_LIMITS,
         check="^corpus_", case=r"^(limits/01[123]|chunked/021)-"),
    rule({"granian"}, OURS, "A bare LF is accepted as the end of the request line, of a "
         "field line or of the head, which RFC 9112 §2.2 allows (MAY); REQ-19 (SPEC 11.1) "
         "wants 400.",
         check="^corpus_", case=r"^(request-line/012|headers/01[34])-"),
    rule({"granian"}, OURS, "A trailer section ended by a bare LF is not recognised and "
         "granian waits for more (RFC 9112 §2.2 lets a recipient accept or reject bare LF; "
         "it requires no answer). REQ-19/REQ-39 want 400.",
         check="^corpus_chunked$", case=r"^chunked/027-"),
    rule({"granian"}, OURS, "With both Content-Length and `Transfer-Encoding: chunked` "
         "granian drops Content-Length, decodes the chunked body and closes after the "
         "response (`Connection: close`), so a hidden request is never parsed. RFC 9112 "
         "§6.1 allows processing by Transfer-Encoding alone followed by a close; REQ-24 "
         "(SPEC 11.1) wants 400.",
         check="^corpus_", case=r"^(smuggling/0(0[1-4]|18|3[689])|pipelining/009)-"),
    rule({"granian"}, OURS, "An unknown coding before chunked (`gzip, chunked`, in one "
         "field or two) is ignored: granian decodes chunked and hands the app the body with "
         "HTTP_TRANSFER_ENCODING still naming gzip. RFC 9112 §6.1 says SHOULD 501; REQ-30 "
         "makes it MUST.",
         check="^corpus_transfer_encoding$", case=r"^transfer-encoding/0(06|13)-"),
    rule({"granian"}, OURS, "Request-targets RFC 9112 §3 only advises rejecting (SHOULD "
         "400, no autocorrection) reach the app: `*` with GET/POST, authority-form with "
         "GET, CONNECT (the app's 200 goes out as a tunnel answer; RFC 9110 §9.1: SHOULD "
         "501), raw non-ASCII, a fragment (stripped), octets outside the URI grammar. "
         "REQ-11..REQ-15 and REQ-40 make them MUST.",
         check="^corpus_target$", case=r"^target/0(2[2-57]|3[2-9]|4[0-3])-", why="status 200"),
    rule({"granian"}, OURS, "An absolute-form target with userinfo (`http://user:pass@`, "
         "`http://@`, `http://example.test@other.test/`) reaches the app with its path. RFC "
         "9110 §4.2.4 forbids senders to generate userinfo and says a recipient SHOULD "
         "treat it as an error; REQ-41 makes it MUST-400.",
         check="^corpus_target$", case=r"^target/04[4-7]-", why="status 200"),
    rule({"granian"}, OURS, "granian (run with its default `--http auto`) speaks HTTP/2 "
         "with prior knowledge: it answers the preface with a SETTINGS frame, as RFC 9113 "
         "§3.3 allows on cleartext. REQ-9 wants 505 (HTTP/2 is a non-goal of SPEC, "
         "section 2).",
         check="^corpus_version$", case=r"^version/017-"),
    rule(ALL, OURS, "An unknown expectation is ignored; RFC 9110 §10.1.1 says a server "
         "MAY answer 417, REQ-23 says SHOULD (a warning).",
         check="^unknown_expectations_get_417$"),
]

# The suite bugs found, for RESULTS.md and the report: where, which check, and why.
SUITE_BUGS = [
    # Each was fixed in the suite after this classification (commit "conformance:
    # fix the suite bugs the peer run exposed"); kept as the record of what was found.
    ("conformance/src/checks/response.rs", "chunks_go_out_before_the_next_is_pulled",
     "Reads `/fixture/pulled` on a second connection while the first response is "
     "still streaming; a server serving one connection at a time (gunicorn sync) can "
     "only answer the probe after the body ended, so the check reports \"the first "
     "chunk arrived only after all 4 chunks were pulled\" although the chunks went out "
     "0.4 s apart (measured). STREAM-1 needs a measurement on the same connection, "
     "e.g. timing the first chunk against `delay_ms`."),
    ("fixtures/requests/keep-alive/010-http10-keep-alive.req, 011-…-mixed-case.req, "
     "012-http10-post-keep-alive.req", "corpus_keep_alive",
     "`connection: keep-alive` is expected for HTTP/1.0 + `Connection: keep-alive`, "
     "charged to CONN-1/2/3 (MUST). RFC 9112 §9.3 makes honouring HTTP/1.0 keep-alive "
     "the server's wish, SPEC CONN-4 is a MAY (review) and only with a Content-Length. "
     "The cases should accept close too (or move to a MAY-level check)."),
    ("fixtures/requests/headers/020-unknown-expectation.req", "corpus_headers",
     "Expects 417 (SPEC REQ-23 SHOULD; RFC 9110 §10.1.1 MAY) but the `headers` group "
     "maps to REQ-16..REQ-20 (MUST) in conformance/src/checks/requests.rs "
     "CORPUS_GROUPS, so ignoring an unknown expectation fails five MUST rules. "
     "`unknown_expectations_get_417` already covers REQ-23 as a warning."),
    ("fixtures/requests/request-line/016-one-leading-crlf-ignored.req", "corpus_request_line",
     "Expects the leading CRLF to be ignored (RFC 9112 §2.2 SHOULD, SPEC REQ-6 MAY) "
     "but the `request-line` group maps to REQ-1/2/4/5/7 (MUST)."),
    ("fixtures/requests/limits/004-request-line-8000-bytes.req, "
     "006-100-header-fields.req", "corpus_limits",
     "Expect acceptance at the reference server's own limits (8000-byte line, 100 "
     "fields) and charge a refusal to LIMIT-2/3 (MUST). SPEC 11.4 lets a server document "
     "lower limits; LIMIT-2/3 only require 414/431 above the server's own limit "
     "(gunicorn: 414 above its documented 4094; http.server: 431 above 100 lines). RFC "
     "9112 §3 only RECOMMENDS 8000-octet lines."),
    ("fixtures/requests/limits/001-003, 005, 007-009", "corpus_limits",
     "Sizes just above the reference defaults (9000 bytes vs 8 KiB, 101 fields, "
     "70000/80000 bytes vs 64 KiB) fail a server whose documented limits are higher "
     "(waitress: 256 KiB head), contrary to SPEC 15.2 (\"sizes far above the reference "
     "defaults ... judged on its behaviour, not its values\"). Use e.g. a 1 MiB line "
     "and 10 000 fields, as 15.2 says."),
    ("conformance/src/report.rs with the Check.rules lists in conformance/src/checks/*.rs",
     "rule attribution of multi-rule checks",
     "A check charges every rule it lists when any one assertion fails, and stops at "
     "that assertion. So `failures_before_headers_give_a_plain_500` fails SRV-2 "
     "(\"panics are caught, workers survive\") for gunicorn because its 500 is "
     "text/html, while `workers_survive_many_panics` passes; "
     "`absolute_form_gives_path_query_and_host` fails ENV-13, ENV-15 and REQ-13 for "
     "gunicorn and waitress although the path, query and request_uri assertions "
     "passed (only HTTP_HOST, ENV-19, differs); each corpus group charges all of its "
     "rules for any case. Per-rule counts therefore overstate failures; the per-check "
     "and per-case lists are exact."),
    ("fixtures/src/raw_client.rs", "Reader::is_closed (used by many checks)",
     "`fill()` panics on the read timeout, so `is_closed()` never returns false: a "
     "connection left open is reported as \"reading a response failed (timeout is "
     "5s)\" instead of the check's own message (\"the connection stayed open ...\"). "
     "Verdicts are right, messages misleading."),
    ("fixtures/src/raw_client.rs, conformance/src/checks/response.rs", "Reader::response; "
     "head_has_no_body_and_keeps_the_connection",
     "Robustness only: an unparsable status line (`HTTP/1.1 None`) panics with "
     "`ParseIntError` from an `unwrap`, and `Option::unwrap()` panics when a HEAD "
     "response is followed by stray body bytes; the checks still fail, with opaque "
     "messages."),
    # Found by the granian run; fixed in the suite after its classification (commit
    # "conformance: corpus cases settle their connection before counting, version/003
    # judged apart, far-above limit cases at 1 MiB"); kept as the record.
    ("conformance/src/checks/requests.rs (run_case)", "corpus_smuggling (smuggling/012)",
     "A case returned at its first failed assertion and dropped its connection while the "
     "peer could still serve requests pipelined on it, so the next case's `/fixture/seen` "
     "count for /smuggled included them: granian failed smuggling/011 at its first "
     "response, then served 011's hidden `GET /smuggled`, and smuggling/012 (which sends "
     "no /smuggled) reported \"the app ran 1 time(s) for /smuggled\". Fixed: whatever its "
     "outcome, a case now settles its connection (half-closes it and reads until the "
     "server closes it, 1 s of silence or 5 s at most) and then checks its app-call "
     "counts, so 011 reports the /smuggled call and 012 passes on granian."),
    ("fixtures/requests/version/003-higher-minor.req with CORPUS_GROUPS in "
     "conformance/src/checks/requests.rs", "corpus_version",
     "`HTTP/1.2` expects 200 or 505, which is SPEC REQ-10 (SHOULD; RFC 9110 §6.2 SHOULD), "
     "but the `version` group charged a failure to REQ-8 and REQ-9 (MUST) too, so "
     "granian's 400 failed two MUST rules it does not break. Fixed: the case is judged "
     "apart (CORPUS_CASES_APART) by the check `corpus_version_higher_minor`, which names "
     "REQ-10 only (a warning), and the `version` group names REQ-8 and REQ-9."),
    ("fixtures/requests/limits/003-method-9000-bytes.req, "
     "009-header-section-80000-bytes.req", "corpus_limits",
     "They sent a 300 000-byte method and a 400 000-byte header section (the file names "
     "still said 9000 and 80000), below granian's documented head limit "
     "(`--http1-buffer-size`, 417 792 bytes by default; 431 above it, measured), so "
     "granian failed LIMIT-2/LIMIT-4 on its values, not its behaviour. Fixed: they are now "
     "003-method-1-mib (a 1 MiB method) and 009-header-section-1-mib (64 fields of 16 KiB), "
     "as SPEC 15.2's 1 MiB example says, and granian answers both 431; the other far-above "
     "cases are 1 MiB too and named for what they send (001-request-line-1-mib, "
     "002-query-1-mib, 005-5000-header-fields, 007-one-field-1-mib, 008-field-name-1-mib)."),
]
