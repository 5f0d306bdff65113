//! `--processes N` on the built `gateway-serve`: N worker processes share one
//! listener, a killed worker is replaced, TERM stops all without losing a request
//! that was answered, and an app that cannot be imported exits 4 at once.

mod support;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use support::{exe, Served, Signal, WAIT};

fn pid_app() -> String {
    format!("{}/tests/apps/pid_app.py", env!("CARGO_MANIFEST_DIR"))
}

/// One request on a fresh connection; the pid in the body, or what went wrong.
fn pid_of_server(addr: SocketAddr) -> Result<u32, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| format!("read: {e}"))?;
    let body = response
        .split("\r\n\r\n")
        .nth(1)
        .ok_or_else(|| format!("no complete head: {response:?}"))?;
    body.trim()
        .parse()
        .map_err(|_| format!("not a pid: {response:?}"))
}

/// Pids seen in at most `tries` requests, stopping once `want` distinct ones came.
fn pids(addr: SocketAddr, want: usize, tries: usize) -> BTreeSet<u32> {
    let mut seen = BTreeSet::new();
    for _ in 0..tries {
        seen.insert(pid_of_server(addr).expect("every request is answered"));
        if seen.len() >= want {
            break;
        }
    }
    seen
}

#[test]
fn two_processes_serve_and_a_killed_one_is_replaced_without_a_failed_request() {
    let mut served = Served::start(&exe(), &["--processes", "2", "--wsgi", &pid_app()]);
    // Both workers listen once each logged that it serves (the import takes a while).
    served.wait_for_log("serving on");
    served.wait_for_log("serving on");
    let first = pids(served.addr, 2, 2000);
    assert_eq!(first.len(), 2, "only {first:?} answered 2000 requests");
    let victim = *first.iter().next().unwrap();
    let pid = rustix::process::Pid::from_raw(victim as i32).unwrap();
    rustix::process::kill_process(pid, Signal::KILL).unwrap();
    // A bounded client keeps asking: every request is answered, and within 5 s a
    // new process answers too.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut replaced = None;
    while Instant::now() < deadline && replaced.is_none() {
        let pid = pid_of_server(served.addr).expect("no request fails while a worker is replaced");
        assert_ne!(pid, victim, "the killed process answered");
        if !first.contains(&pid) {
            replaced = Some(pid);
        }
    }
    assert!(replaced.is_some(), "no new process served within 5 s");
    served.signal(Signal::TERM);
    assert!(served.wait_exit().success());
}

#[test]
fn term_under_load_stops_every_process_and_loses_no_answered_request() {
    let mut served = Served::start(&exe(), &["--processes", "2", "--wsgi", &pid_app()]);
    // Both workers listen once each logged that it serves (the import takes a while).
    served.wait_for_log("serving on");
    served.wait_for_log("serving on");
    assert_eq!(pids(served.addr, 2, 2000).len(), 2);
    let addr = served.addr;
    let clients: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let mut answered = 0;
                let deadline = Instant::now() + WAIT;
                while Instant::now() < deadline {
                    match pid_of_server(addr) {
                        Ok(_) => answered += 1,
                        // Refused, reset or closed before any byte of a response:
                        // the server had stopped taking requests. What must never
                        // happen is a response that began and was cut.
                        Err(e)
                            if e.starts_with("connect")
                                || e.starts_with("read")
                                || e == "no complete head: \"\"" =>
                        {
                            break
                        }
                        Err(e) => panic!("a request lost mid-response: {e}"),
                    }
                }
                answered
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    served.signal(Signal::TERM);
    let status = served.wait_exit();
    let answered: usize = clients.into_iter().map(|c| c.join().unwrap()).sum();
    assert!(status.success(), "{status}");
    assert!(answered > 0);
    let log = served.log().join("\n");
    assert!(log.contains("all workers stopped"), "{log}");
}

#[test]
fn an_app_that_cannot_be_imported_exits_4_without_a_respawn_loop() {
    let mut child = std::process::Command::new(exe())
        .args(["--bind", "127.0.0.1:0", "--processes", "2"])
        .args(["--wsgi", "no_such_module_anywhere:app"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the supervisor did not stop within 5 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{log}");
    assert!(log.contains("not respawning"), "{log}");
    assert!(!log.contains("respawning in"), "{log}");
}

#[test]
fn a_rust_app_runs_under_processes_too() {
    let mut served = Served::start(&exe(), &["--processes", "2", "--app", "hello"]);
    // Both workers listen once each logged that it serves (the import takes a while).
    served.wait_for_log("serving on");
    served.wait_for_log("serving on");
    for _ in 0..20 {
        let mut stream = TcpStream::connect(served.addr).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        assert!(response.ends_with("Hello, World!"), "{response}");
    }
    served.signal(Signal::TERM);
    assert!(served.wait_exit().success());
    let serving = served
        .log()
        .iter()
        .filter(|l| l.contains("serving on"))
        .count();
    assert_eq!(serving, 2);
}
