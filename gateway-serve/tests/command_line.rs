//! Bad input on the command line of the built `gateway-serve`: every bad value exits
//! 2 with a message naming the flag, the value and what is allowed; a busy port exits
//! 1 with a hint that says so (other bind errors carry none: reference-server's tests).

mod support;

use std::net::TcpListener;
use std::process::{Command, Output};
use std::time::Duration;

fn run(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gateway-serve"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start gateway-serve");
    // Every case here fails at once; a server that starts serving is a failure too.
    let deadline = std::time::Instant::now() + support::WAIT;
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("gateway-serve {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn every_bad_value_exits_2_naming_the_flag_the_value_and_what_is_allowed() {
    for (args, says) in [
        (&["--workers", "0"][..], "0 is not allowed here"),
        (&["--workers", "many"], "is not a count"),
        (&["--max-connections", "0"], "0 is not allowed here"),
        (&["--max-body-size", "1.5GiB"], "KiB = 1024"),
        (&["--head-timeout", "soon"], "Durations look like"),
        (&["--bind", "unix:"], "names no socket path"),
        (&["--bind", "127.0.0.1"], "is not host:port"),
        (&["--bind", "fd://1"], "is not fd://N"),
        (&["--unix-socket-mode", "999"], "octal permission bits"),
        (&["--backlog", "0"], "0"),
        (&["--app", "fixture"], "possible values: demo, hello"),
        (&["--log-level", "loud"], "loud"),
    ] {
        let output = run(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(args[0]), "{args:?} names no flag: {stderr}");
        assert!(
            stderr.contains(args[1]),
            "{args:?} names no value: {stderr}"
        );
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

#[test]
fn a_port_in_use_exits_1_with_the_hint() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = run(&["--app", "hello", "--bind", &addr]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("already in use"), "{stderr}");
    assert!(stderr.contains("another server"), "{stderr}");
}
