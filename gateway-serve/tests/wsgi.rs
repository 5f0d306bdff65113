//! The built `gateway-serve --wsgi`: the target forms, `--chdir`, `--pythonpath`,
//! the start-up log, exit 4 on an import error, and the libpython check.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{exe, Served, Signal, WAIT};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// One request with `Connection: close`; the whole response as text.
fn get(addr: std::net::SocketAddr, target: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn stop(mut served: Served) {
    served.signal(Signal::TERM);
    assert!(served.wait_exit().success());
}

#[test]
fn a_file_target_serves_the_python_fixture_and_logs_the_interpreter() {
    let app = root().join("fixtures/wsgi/fixture_app.py");
    let target = format!("{}:application", app.display());
    let mut served = Served::start(&exe(), &["--wsgi", &target]);
    let response = get(served.addr, "/echo?x=1");
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.contains(r#""query_string":"x=1""#), "{response}");
    let log = served.log().join("\n");
    assert!(log.contains("Python 3."), "{log}");
    assert!(log.contains("prefix /"), "{log}");
    stop(served);
}

#[test]
fn a_module_target_is_found_through_pythonpath_or_chdir() {
    let dir = root().join("fixtures/wsgi");
    let dir = dir.to_str().unwrap();
    for args in [
        ["--pythonpath", dir, "--wsgi", "fixture_app:application"],
        ["--chdir", dir, "--wsgi", "fixture_app:application"],
    ] {
        let served = Served::start(&exe(), &args);
        let response = get(served.addr, "/echo");
        assert!(
            response.starts_with("HTTP/1.1 200 OK\r\n"),
            "{args:?}: {response}"
        );
        stop(served);
    }
}

/// Runs the command until it exits (bounded); its exit code and error log.
fn run_to_exit(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut child = Command::new(exe())
        .args(["--bind", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + WAIT;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("gateway-serve {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn an_app_that_cannot_be_imported_exits_4_with_the_traceback() {
    let (code, log) = run_to_exit(&["--wsgi", "no_such_module_here:app"], &[]);
    assert_eq!(code, Some(4), "{log}");
    assert!(log.contains("ModuleNotFoundError"), "{log}");
    assert!(log.contains("no_such_module_here:app"), "{log}");
    let app = root().join("fixtures/wsgi/fixture_app.py");
    let target = format!("{}:no_such_attr", app.display());
    let (code, log) = run_to_exit(&["--wsgi", &target], &[]);
    assert_eq!(code, Some(4), "{log}");
    assert!(log.contains("AttributeError"), "{log}");
}

#[test]
fn another_libpython_than_the_one_built_against_is_refused_naming_both() {
    // Debian's own libpython3.11 has the soname of the one we link, but is another build.
    let system = "/usr/lib/x86_64-linux-gnu";
    if !std::path::Path::new(system)
        .join("libpython3.11.so.1.0")
        .exists()
    {
        panic!("this machine has no system libpython3.11 in {system} to test with");
    }
    let app = root().join("fixtures/wsgi/fixture_app.py");
    let target = format!("{}:application", app.display());
    let (code, log) = run_to_exit(&["--wsgi", &target], &[("LD_LIBRARY_PATH", system)]);
    let built = gateway_wsgi_built_version();
    if log.contains(&format!("CPython {built} (")) && !log.contains("was built against") {
        panic!("no mismatch reported: {log}");
    }
    assert_eq!(code, Some(4), "{log}");
    assert!(log.contains("was built against CPython"), "{log}");
    assert!(log.contains("LD_LIBRARY_PATH"), "{log}");
}

/// The version the binary was built against, from the interpreter on PATH.
fn gateway_wsgi_built_version() -> String {
    let out = Command::new("python3")
        .args(["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn the_active_virtualenv_is_honoured() {
    let venv = tempfile::tempdir().unwrap();
    let version = gateway_wsgi_built_version();
    let minor: Vec<&str> = version.split('.').take(2).collect();
    let site = venv
        .path()
        .join(format!("lib/python{}/site-packages", minor.join(".")));
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(
        site.join("only_in_this_venv.py"),
        "import sys\n\
         def app(environ, start_response):\n    \
             start_response('200 OK', [('Content-Type', 'text/plain')])\n    \
             return [sys.prefix.encode()]\n",
    )
    .unwrap();
    let venv_dir = venv.path().to_str().unwrap();
    let mut child = Command::new(exe())
        .args(["--bind", "127.0.0.1:0", "--log-level", "info"])
        .args(["--wsgi", "only_in_this_venv:app"])
        .env("VIRTUAL_ENV", venv_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let addr = loop {
        let line = lines.next().expect("the log ended before serving").unwrap();
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
    };
    let response = get(addr, "/");
    let _ = child.kill();
    let _ = child.wait();
    assert!(response.ends_with(venv_dir), "{response}");
}

#[test]
fn idle_and_trickling_clients_do_not_keep_a_fresh_client_from_a_python_app() {
    let app = root().join("fixtures/wsgi/fixture_app.py");
    let target = format!("{}:application", app.display());
    // Fewer Python threads than slow clients: a thread per slow client would starve.
    let served = Served::start(
        &exe(),
        &["--processes", "1", "--threads", "2", "--wsgi", &target],
    );
    let idle: Vec<TcpStream> = (0..200)
        .map(|_| TcpStream::connect(served.addr).unwrap())
        .collect();
    let mut trickling: Vec<TcpStream> = (0..8)
        .map(|_| {
            let mut stream = TcpStream::connect(served.addr).unwrap();
            stream
                .write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nab")
                .unwrap();
            stream
        })
        .collect();
    for stream in &mut trickling {
        stream.write_all(b"c").unwrap();
    }
    let response = get(served.addr, "/echo?fresh=1");
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(
        response.contains(r#""query_string":"fresh=1""#),
        "{response}"
    );
    drop(idle);
    drop(trickling);
    stop(served);
}

#[test]
fn atexit_handlers_run_when_the_server_stops() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("atexit.txt");
    let app = format!("{}/tests/apps/atexit_app.py", env!("CARGO_MANIFEST_DIR"));
    let served = Served::start_with_env(
        &exe(),
        &["--processes", "1", "--wsgi", &app],
        &[("ATEXIT_FILE", marker.to_str().unwrap())],
    );
    assert!(get(served.addr, "/").ends_with("ok"));
    assert!(!marker.exists(), "the handler ran before the stop");
    stop(served);
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "ran");
}

/// A TERM that reaches a worker while its app still loads is not fatal: the worker
/// starts, stops gracefully at once, and the app's exit handlers run. The signal
/// goes to the worker itself, as the supervisor's may at any moment.
#[test]
fn a_stop_signal_during_the_app_load_still_runs_the_exit_handlers() {
    let dir = tempfile::tempdir().unwrap();
    let [atexit, loading, go] = ["atexit", "loading", "go"].map(|n| dir.path().join(n));
    let app = format!("{}/tests/apps/gated_app.py", env!("CARGO_MANIFEST_DIR"));
    let mut served = Served::start_with_env(
        &exe(),
        &["--processes", "1", "--wsgi", &app],
        &[
            ("ATEXIT_FILE", atexit.to_str().unwrap()),
            ("LOADING_FILE", loading.to_str().unwrap()),
            ("GO_FILE", go.to_str().unwrap()),
        ],
    );
    let worker = wait_for(|| std::fs::read_to_string(&loading).ok(), "the app to load");
    let pid = rustix::process::Pid::from_raw(worker.parse().unwrap()).unwrap();
    rustix::process::kill_process(pid, Signal::TERM).unwrap();
    std::fs::write(&go, "").unwrap();
    let ran = wait_for(
        || {
            let pids = std::fs::read_to_string(&atexit).ok()?;
            pids.lines().any(|line| line == worker).then_some(pids)
        },
        "the signalled worker's exit handlers",
    );
    assert_eq!(ran.lines().next(), Some(worker.as_str()), "{ran}");
    served.signal(Signal::TERM);
    assert!(served.wait_exit().success());
}

/// Polls `probe` until it gives a value, for at most [`WAIT`].
fn wait_for<T>(mut probe: impl FnMut() -> Option<T>, what: &str) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "waited {WAIT:?} for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
