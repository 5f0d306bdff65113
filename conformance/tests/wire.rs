//! Every conformance check as a test, against the reference server or the server
//! named by `CONFORMANCE_TARGET`. Each test names its SPEC.md rules in the catalogue.

use conformance::check::Verdict;
use conformance::checks;
use conformance::target::Target;

fn judge(name: &str) {
    let target = Target::from_env().expect("a target to test");
    let check = checks::by_name(name).unwrap_or_else(|| panic!("no check named {name}"));
    match check.judge(&target) {
        Verdict::Pass => {}
        // A check that could not run proved nothing: it never counts as a pass.
        Verdict::Skip(why) => panic!(
            "{name} [{}] was skipped against {}, which is not a pass: {why}",
            check.rules.join(", "),
            target.base
        ),
        Verdict::Fail(why) => panic!(
            "{name} [{}] failed against {}:\n{why}",
            check.rules.join(", "),
            target.base
        ),
    }
}

macro_rules! wire_tests {
    ($($name:ident),* $(,)?) => {
        $( #[test] fn $name() { judge(stringify!($name)); } )*

        /// The list above is the whole catalogue: no check is left out of `cargo test`.
        #[test]
        fn every_check_of_the_catalogue_is_a_test() {
            let listed = [$(stringify!($name)),*];
            for check in checks::all() {
                assert!(listed.contains(&check.name), "{} is not listed in tests/wire.rs", check.name);
            }
        }
    };
}

wire_tests! {
    method_is_passed_as_received,
    path_is_percent_decoded_octet_for_octet,
    path_is_not_normalised,
    options_asterisk_has_a_star_path,
    absolute_form_gives_path_and_query,
    absolute_form_request_uri_is_the_whole_target,
    absolute_form_authority_replaces_host,
    query_string_is_raw,
    protocol_is_the_requests,
    headers_arrive_as_received_in_the_cgi_view,
    underscored_header_names_are_dropped,
    content_length_only_when_sent,
    forwarded_headers_do_not_change_the_scheme,
    untrusted_forwarding_headers_are_removed,
    body_ends_exactly_at_its_end,
    reads_after_eof_return_nothing_at_once,
    chunked_body_arrives_decoded,
    app_hop_by_hop_headers_never_reach_the_wire,
    repeated_headers_stay_separate_and_ordered,
    headers_wait_for_the_first_non_empty_chunk,
    start_response_may_come_from_the_body,
    a_body_without_start_response_is_a_500,
    start_response_with_error_replaces_everything,
    the_write_handle_sends_before_the_body,
    body_octets_are_sent_unchanged,
    a_file_body_is_the_files_bytes,
    chunks_go_out_before_the_next_is_pulled,
    app_content_length_is_honoured_exactly,
    excess_beyond_content_length_is_cut_and_never_pulled,
    a_short_body_closes_without_padding,
    a_known_length_gets_a_content_length,
    unknown_length_is_chunked_on_1_1_and_close_delimited_on_1_0,
    head_has_no_body_and_keeps_the_connection,
    no_content_and_not_modified_carry_nothing,
    status_line_and_reason_phrase,
    date_is_added_and_the_apps_is_kept,
    failures_before_headers_give_a_plain_500,
    the_connection_survives_a_500,
    failures_after_headers_abort_the_response,
    a_body_error_before_any_byte_is_a_500,
    close_runs_once_on_every_path,
    a_client_gone_stops_the_body,
    workers_survive_many_panics,
    a_malformed_chunk_is_answered_400_and_closes,
    a_body_cut_short_is_answered_400,
    a_chunked_body_cut_short_is_answered_400,
    a_body_too_slow_is_answered_408,
    a_chunked_body_over_the_limit_is_answered_413,
    an_app_that_catches_a_body_error_keeps_its_answer,
    http11_connections_persist,
    connection_close_is_the_last_request,
    http10_closes_unless_kept_alive,
    pipelined_requests_are_answered_in_order,
    unread_bodies_are_never_parsed_as_requests,
    a_body_too_big_to_drain_closes_with_notice,
    continue_goes_out_only_when_the_app_reads,
    expect_on_http10_is_ignored,
    half_closed_clients_get_answers_then_the_close,
    unknown_expectations_get_417,
    head_announces_the_length_a_get_would,
    rejections_are_short_plain_and_close,
    corpus_request_line,
    corpus_headers,
    corpus_host,
    corpus_content_length,
    corpus_transfer_encoding,
    corpus_smuggling,
    corpus_chunked,
    corpus_target,
    corpus_version,
    corpus_version_higher_minor,
    corpus_limits,
    corpus_pipelining,
    corpus_keep_alive,
    corpus_valid,
}
