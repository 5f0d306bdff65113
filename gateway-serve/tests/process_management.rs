//! The `--processes` supervisor under steady load: SIGHUP reloads and
//! `--max-requests` recycling replace every worker process without a failed
//! request; TTIN and TTOU change the count; `--timeout` replaces a wedged worker;
//! USR1 reaches every worker; several sockets and NOTIFY_SOCKET work as alone.

mod support;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::time::{Duration, Instant};

use support::steady_load::{SteadyLoad, Tally};
use support::{exe, Served, Signal, WAIT};

fn app(name: &str) -> String {
    format!("{}/tests/apps/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// One `GET path` on a fresh connection: the status line and body, or what failed.
fn get(stream: impl Read + Write, path: &str) -> Result<(String, String), String> {
    let mut stream = stream;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("write: {e}"))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| format!("read: {e}"))?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no complete head: {response:?}"))?;
    let status = head.lines().next().unwrap_or_default().to_owned();
    Ok((status, body.to_owned()))
}

fn pid_at(addr: SocketAddr) -> u32 {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let (status, body) = get(stream, "/").expect("an answer");
    assert!(status.contains(" 200 "), "{status}");
    body.trim().parse().expect("a pid")
}

/// Distinct pids among at most `tries` answers, stopping at `want`.
fn pids(addr: SocketAddr, want: usize, tries: usize) -> BTreeSet<u32> {
    let mut seen = BTreeSet::new();
    for _ in 0..tries {
        seen.insert(pid_at(addr));
        if seen.len() >= want {
            break;
        }
    }
    seen
}

/// Waits (bounded by [`WAIT`]) until `load` has `count` answers in all.
fn wait_for_answers(load: &SteadyLoad, count: u64) {
    let deadline = Instant::now() + WAIT;
    while load.answered() < count {
        assert!(
            Instant::now() < deadline,
            "only {} of {count} answers within {WAIT:?}",
            load.answered()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn report(what: &str, tally: &Tally, elapsed: Duration) {
    eprintln!(
        "{what}: {} answered in {elapsed:.2?} ({:.0} req/s), {} failed, {} retried on a \
         reused connection the server closed before answering, by pid: {:?}",
        tally.answered,
        tally.answered as f64 / elapsed.as_secs_f64(),
        tally.failed.len(),
        tally.retried,
        tally.by_pid
    );
}

/// Stops the supervisor with TERM and asserts a clean exit (0).
fn stop(mut served: Served) {
    served.signal(Signal::TERM);
    let status = served.wait_exit();
    assert!(status.success(), "{status}");
}

/// Starts `--processes 2` of `app`, waits until both workers serve, and returns
/// their pids as the supervisor logged them.
fn two_workers(app_file: &str, extra: &[&str]) -> (Served, BTreeSet<u32>) {
    let mut args = vec!["--processes", "2", "--wsgi", app_file];
    args.extend_from_slice(extra);
    let mut served = Served::start(&exe(), &args);
    let pids = (0..2)
        .map(|_| served_pid(&served.wait_for_log(" serves")))
        .collect();
    (served, pids)
}

/// The pid in a supervisor's "worker pid N serves" line.
fn served_pid(line: &str) -> u32 {
    line.split("worker pid ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {line:?}"))
}

#[test]
fn sighup_under_steady_load_replaces_every_process_and_fails_no_request() {
    let (mut served, before) = two_workers(&app("pid_app.py"), &[]);
    let load = SteadyLoad::start(served.addr, 8);
    wait_for_answers(&load, 300);
    served.signal(Signal::HUP);
    served.wait_for_log("reload complete");
    // The old workers finish what they hold, then exit; count from there on.
    for _ in 0..2 {
        served.wait_for_log("stopped (exit status: 0)");
    }
    let at_reload = load.by_pid();
    let answered = load.answered();
    wait_for_answers(&load, answered + 1000);
    let after_reload = load.by_pid();
    let (tally, elapsed) = load.finish();
    report("SIGHUP under load", &tally, elapsed);
    assert!(
        tally.failed.is_empty(),
        "failed requests: {:?}",
        tally.failed
    );
    let late: BTreeSet<u32> = after_reload
        .iter()
        .filter(|(pid, n)| at_reload.get(pid) != Some(n))
        .map(|(pid, _)| *pid)
        .collect();
    assert!(
        late.is_disjoint(&before) && !late.is_empty(),
        "after the reload {late:?} answered, before it {before:?}"
    );
    let log = served.log().join("\n");
    assert_eq!(log.matches("(replaced by a reload)").count(), 2, "{log}");
    stop(served);
}

#[test]
fn max_requests_under_steady_load_replaces_processes_and_fails_no_request() {
    let (mut served, first) = two_workers(
        &app("pid_app.py"),
        &["--max-requests", "100", "--max-requests-jitter", "20"],
    );
    let load = SteadyLoad::start(served.addr, 8);
    // Until two generations of replacements answered (bounded).
    let deadline = Instant::now() + WAIT;
    while load.pids().difference(&first).count() < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let (tally, elapsed) = load.finish();
    report("--max-requests 100 under load", &tally, elapsed);
    assert!(
        tally.failed.is_empty(),
        "failed requests: {:?}",
        tally.failed
    );
    let log = served.log().join("\n");
    let recycled = log.matches("(replaced after --max-requests)").count();
    eprintln!("--max-requests 100: {recycled} worker processes replaced");
    let replacements = tally
        .by_pid
        .keys()
        .filter(|pid| !first.contains(pid))
        .count();
    assert!(replacements >= 4, "{:?}", tally.by_pid);
    assert!(recycled >= 2, "{log}");
    stop(served);
}

#[test]
fn ttin_adds_a_worker_process_and_ttou_removes_one() {
    let mut served = Served::start(&exe(), &["--processes", "1", "--wsgi", &app("pid_app.py")]);
    served.wait_for_log("serves");
    served.signal(Signal::TTIN);
    served.wait_for_log("SIGTTIN: 2 worker processes");
    served.wait_for_log("serves");
    assert_eq!(pids(served.addr, 2, 2000).len(), 2);
    served.signal(Signal::TTOU);
    served.wait_for_log("(SIGTTOU)");
    served.wait_for_log("stopped (exit status: 0)");
    assert_eq!(pids(served.addr, 2, 200).len(), 1);
    stop(served);
}

#[test]
fn a_worker_whose_interpreter_is_wedged_is_killed_after_timeout_and_replaced() {
    let mut served = Served::start(
        &exe(),
        &[
            "--processes",
            "1",
            "--timeout",
            "1s",
            "--wsgi",
            &app("watchdog_app.py"),
        ],
    );
    served.wait_for_log("serves");
    let addr = served.addr;
    // Busy Python (the GIL changes hands) is not wedged: answered, not killed.
    let busy = TcpStream::connect(addr).unwrap();
    busy.set_read_timeout(Some(WAIT)).unwrap();
    let (status, _) = get(busy, "/busy").expect("/busy is answered");
    assert!(status.contains(" 200 "), "{status}");
    let first = pid_at(addr);
    // A C call holding the GIL: the heartbeat stops, the worker is replaced.
    let wedged = std::thread::spawn(move || {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        get(stream, "/wedge")
    });
    let line = served.wait_for_log("sent no heartbeat");
    assert!(line.contains(&format!("pid {first}")), "{line}");
    served.wait_for_log("serves");
    let second = pid_at(addr);
    assert_ne!(first, second);
    assert!(
        wedged.join().unwrap().is_err(),
        "the wedged request was answered"
    );
    let log = served.log().join("\n");
    assert_eq!(log.matches("sent no heartbeat").count(), 1, "{log}");
    stop(served);
}

#[test]
fn usr1_to_the_supervisor_reopens_every_workers_access_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    let (mut served, _) = two_workers(
        &app("pid_app.py"),
        &["--access-log", path.to_str().unwrap()],
    );
    let before = pids(served.addr, 2, 2000);
    assert_eq!(before.len(), 2);
    let rotated = dir.path().join("access.log.1");
    std::fs::rename(&path, &rotated).unwrap();
    served.signal(Signal::USR1);
    served.wait_for_log("reopened the access log");
    served.wait_for_log("reopened the access log");
    assert_eq!(pids(served.addr, 2, 2000), before);
    stop(served);
    let fresh = std::fs::read_to_string(&path).expect("a new access log");
    assert!(fresh.lines().count() >= 2, "{fresh}");
    assert!(std::fs::read_to_string(&rotated).unwrap().lines().count() >= 2);
}

#[test]
fn worker_processes_serve_every_bind_and_the_supervisor_notifies_ready_and_reloading() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("app.sock");
    let notify = dir.path().join("notify.sock");
    let manager = UnixDatagram::bind(&notify).unwrap();
    manager.set_read_timeout(Some(WAIT)).unwrap();
    let unix_bind = format!("unix:{}", socket.display());
    let mut served = Served::start_with_env(
        &exe(),
        &[
            "--bind",
            &unix_bind,
            "--processes",
            "2",
            "--wsgi",
            &app("pid_app.py"),
        ],
        &[("NOTIFY_SOCKET", notify.to_str().unwrap())],
    );
    let mut message = [0u8; 512];
    let mut next = || {
        let n = manager
            .recv(&mut message)
            .expect("a notification within WAIT");
        String::from_utf8_lossy(&message[..n]).into_owned()
    };
    let ready = next();
    assert!(ready.lines().any(|l| l == "READY=1"), "{ready}");
    assert!(
        ready.contains("STATUS=2 worker processes serving on"),
        "{ready}"
    );
    // READY=1 came once both workers serve, on both sockets.
    let tcp_pid = pid_at(served.addr);
    let unix = UnixStream::connect(&socket).unwrap();
    unix.set_read_timeout(Some(WAIT)).unwrap();
    let (status, body) = get(unix, "/").expect("an answer on the Unix socket");
    assert!(status.contains(" 200 "), "{status}");
    let unix_pid: u32 = body.trim().parse().unwrap();
    assert_ne!(unix_pid, std::process::id());
    assert_ne!(tcp_pid, served.child.id());
    served.signal(Signal::HUP);
    let reloading = next();
    assert!(reloading.lines().any(|l| l == "RELOADING=1"), "{reloading}");
    assert!(reloading.contains("MONOTONIC_USEC="), "{reloading}");
    let ready = next();
    assert!(ready.lines().any(|l| l == "READY=1"), "{ready}");
    served.signal(Signal::TERM);
    let stopping = next();
    assert!(stopping.lines().any(|l| l == "STOPPING=1"), "{stopping}");
    assert!(served.wait_exit().success());
    assert!(!socket.exists(), "the supervisor removes its socket file");
}

#[test]
fn a_reload_whose_app_no_longer_loads_keeps_the_old_workers_serving() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("reloaded_app.py");
    std::fs::copy(app("pid_app.py"), &file).unwrap();
    let (mut served, _) = two_workers(file.to_str().unwrap(), &[]);
    let before = pids(served.addr, 2, 2000);
    std::fs::write(&file, "this is not python\n").unwrap();
    served.signal(Signal::HUP);
    served.wait_for_log("reload failed");
    let after = pids(served.addr, 2, 2000);
    assert_eq!(after, before, "the old workers still serve");
    served.signal(Signal::TERM);
    let status = served.wait_exit();
    assert!(status.success(), "{status}");
}

/// Whether process `pid` still runs (a zombie waiting for its reaper does not).
fn runs(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            let state = stat.rsplit(')').next().unwrap_or_default().trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        })
        .unwrap_or(false)
}

#[test]
fn worker_processes_stop_when_their_supervisor_is_killed() {
    let (mut served, workers) = two_workers(&app("pid_app.py"), &[]);
    assert!(workers.iter().all(|&pid| runs(pid)), "{workers:?}");
    served.signal(Signal::KILL);
    let _ = served.wait_exit();
    let deadline = Instant::now() + WAIT;
    while workers.iter().any(|&pid| runs(pid)) {
        assert!(
            Instant::now() < deadline,
            "workers {workers:?} outlived their supervisor by {WAIT:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
