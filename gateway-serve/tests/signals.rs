//! Signals against the built `gateway-serve` binary: HUP, USR1 and USR2 never kill
//! it; USR1 reopens the access log by its name, as logrotate expects.

mod support;

use support::{connect, Reader, Served, Signal};

fn gateway_serve(args: &[&str]) -> Served {
    let mut all = vec!["--app", "hello"];
    all.extend_from_slice(args);
    Served::start(env!("CARGO_BIN_EXE_gateway-serve").as_ref(), &all)
}

fn get(served: &Served, path: &str) -> u16 {
    let mut reader = Reader::new(connect(served.addr));
    reader.send(format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes());
    reader.response("GET").expect("an answer").status
}

#[test]
fn hup_and_usr2_are_logged_and_the_server_keeps_serving() {
    let mut served = gateway_serve(&[]);
    served.signal(Signal::HUP);
    served.wait_for_log("SIGHUP: ignored");
    assert_eq!(get(&served, "/after-hup"), 200);
    served.signal(Signal::USR2);
    served.wait_for_log("SIGUSR2: ignored");
    assert_eq!(get(&served, "/after-usr2"), 200);
    assert!(served.is_running());
    served.signal(Signal::TERM);
    assert_eq!(served.wait_exit().code(), Some(0));
}

/// Waits (at most `WAIT`) until the file at `path` holds `text`: a line is logged
/// just after its response went out, so the response alone does not say it is there.
fn wait_logged(path: &std::path::Path, text: &str) {
    let deadline = std::time::Instant::now() + support::WAIT;
    while !std::fs::read_to_string(path).is_ok_and(|log| log.contains(text)) {
        assert!(
            std::time::Instant::now() < deadline,
            "{text} never reached {}",
            path.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn usr1_reopens_the_access_log_after_a_rename() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    let mut served = gateway_serve(&["--access-log", path.to_str().unwrap()]);
    assert_eq!(get(&served, "/before-rotation"), 200);
    wait_logged(&path, "/before-rotation");
    let rotated = dir.path().join("access.log.1");
    std::fs::rename(&path, &rotated).unwrap();
    assert_eq!(get(&served, "/while-renamed"), 200);
    wait_logged(&rotated, "/while-renamed");
    served.signal(Signal::USR1);
    served.wait_for_log("SIGUSR1: reopened the access log");
    assert_eq!(get(&served, "/after-rotation"), 200);
    wait_logged(&path, "/after-rotation");
    served.signal(Signal::TERM);
    assert_eq!(served.wait_exit().code(), Some(0));

    let old = std::fs::read_to_string(&rotated).unwrap();
    let new = std::fs::read_to_string(&path).expect("USR1 created a new access.log");
    assert!(
        old.contains("/before-rotation") && old.contains("/while-renamed"),
        "{old}"
    );
    assert!(new.contains("/after-rotation"), "{new}");
    assert!(!new.contains("/before-rotation"), "{new}");
}
