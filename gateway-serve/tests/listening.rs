//! Where the command listens, end to end: several `--bind` values, Unix sockets
//! with a mode, sockets passed the way systemd passes them, and NOTIFY_SOCKET.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::process::{Command, Stdio};

use support::{exe, Served, Signal, WAIT};

/// The command run with `args` as systemd runs a socket-activated service: a
/// loopback TCP socket at fd 3 and a Unix socket bound at `path` at fd 4, with
/// LISTEN_PID naming it (`exec` in a shell keeps its pid, so `$$` is that pid) and
/// `more_env` (such as LISTEN_FDNAMES) beside LISTEN_FDS. Returns the command and
/// the TCP socket's address.
fn passing_two_sockets(
    path: &std::path::Path,
    more_env: &str,
    args: &[&str],
) -> (Command, std::net::SocketAddr) {
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let tcp_addr = tcp.local_addr().unwrap();
    let unix = UnixListener::bind(path).unwrap();
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!(
            "exec 3<&0 4>&1 </dev/null >/dev/null; \
             LISTEN_PID=$$ LISTEN_FDS=2 {more_env} exec \"$0\" \"$@\""
        ))
        .arg(exe())
        .args(args)
        .stdin(Stdio::from(std::os::fd::OwnedFd::from(tcp)))
        .stdout(Stdio::from(std::os::fd::OwnedFd::from(unix)));
    (command, tcp_addr)
}

/// Sends `GET /` and returns the whole response.
fn get(mut stream: impl Read + Write) -> String {
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn get_tcp(addr: std::net::SocketAddr) -> String {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    get(stream)
}

fn get_unix(path: &std::path::Path) -> String {
    let stream = UnixStream::connect(path).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    get(stream)
}

/// The command with `args`, its log on standard error, nothing on the others.
fn command(args: &[&str]) -> Command {
    let mut command = Command::new(exe());
    command
        .args(["--log-level", "info", "--app", "hello"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    command
}

#[test]
fn tcp_and_unix_binds_are_served_together_and_the_socket_file_goes_at_the_stop() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.sock");
    let unix = format!("unix:{}", path.display());
    let mut served = Served::from_command(command(&[
        "--bind",
        "127.0.0.1:0",
        "--bind",
        &unix,
        "--unix-socket-mode",
        "600",
    ]));
    assert!(get_tcp(served.addr).ends_with("Hello, World!"));
    assert!(get_unix(&path).ends_with("Hello, World!"));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "the socket file has the mode asked for"
    );
    let log = served.log().join("\n");
    assert!(log.contains(&format!(", {unix} ")), "{log}");
    served.signal(Signal::TERM);
    assert!(served.wait_exit().success());
    assert!(
        !path.exists(),
        "the socket file is removed when the server stops"
    );
}

#[test]
fn a_path_that_is_not_a_socket_stops_the_start_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "keep me").unwrap();
    let output = command(&["--bind", &format!("unix:{}", path.display())])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{log}");
    assert!(log.contains("is not a socket"), "{log}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
}

#[test]
fn sockets_passed_as_systemd_passes_them_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("passed.sock");
    let (command, tcp_addr) = passing_two_sockets(
        &path,
        "LISTEN_FDNAMES=web:local",
        &["--log-level", "info", "--app", "hello"],
    );
    let mut served = Served::from_command(command);
    assert_eq!(served.addr, tcp_addr, "the passed TCP socket is served");
    assert!(get_tcp(tcp_addr).ends_with("Hello, World!"));
    assert!(get_unix(&path).ends_with("Hello, World!"));
    let log = served.log().join("\n");
    assert!(log.contains("(fd://3 (web))"), "{log}");
    assert!(log.contains("(fd://4 (local))"), "{log}");
    served.signal(Signal::TERM);
    assert!(served.wait_exit().success());
    assert!(
        path.exists(),
        "a passed socket's file belongs to whoever made it"
    );
}

#[test]
fn sockets_systemd_passed_are_handed_on_to_worker_processes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("passed.sock");
    let pid_app = format!("{}/tests/apps/pid_app.py", env!("CARGO_MANIFEST_DIR"));
    let (command, tcp_addr) = passing_two_sockets(
        &path,
        "",
        &[
            "--log-level",
            "info",
            "--processes",
            "2",
            "--wsgi",
            &pid_app,
        ],
    );
    let mut served = Served::from_command(command);
    assert_eq!(served.addr, tcp_addr, "the passed TCP socket is served");
    served.wait_for_log(" serves");
    served.wait_for_log(" serves");
    // Answered by a worker process on each socket, never by the supervisor.
    let supervisor = served.child.id().to_string();
    for response in [get_tcp(tcp_addr), get_unix(&path)] {
        let pid = response.rsplit("\r\n").next().unwrap();
        assert!(response.starts_with("HTTP/1.1 200 "), "{response}");
        assert!(
            pid.parse::<u32>().is_ok() && pid != supervisor,
            "{response}"
        );
    }
    served.signal(Signal::TERM);
    assert!(served.wait_exit().success());
    assert!(path.exists(), "a passed socket's file is left alone");
}

#[test]
fn fd_bind_without_passed_sockets_exits_saying_so() {
    let output = command(&["--bind", "fd://3"])
        .env_remove("LISTEN_FDS")
        .env_remove("LISTEN_PID")
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{log}");
    assert!(log.contains("no sockets were passed"), "{log}");
}

#[test]
fn notify_socket_hears_ready_then_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify");
    let manager = UnixDatagram::bind(&path).unwrap();
    manager.set_read_timeout(Some(WAIT)).unwrap();
    let mut command = command(&["--bind", "127.0.0.1:0"]);
    command.env("NOTIFY_SOCKET", &path);
    let mut served = Served::from_command(command);
    let mut message = [0u8; 512];
    let n = manager.recv(&mut message).expect("READY=1 within WAIT");
    let ready = String::from_utf8_lossy(&message[..n]).into_owned();
    assert!(ready.lines().any(|l| l == "READY=1"), "{ready}");
    assert!(
        ready.contains(&format!("STATUS=serving on http://{}", served.addr)),
        "{ready}"
    );
    // READY=1 is sent once the server answers.
    assert!(get_tcp(served.addr).ends_with("Hello, World!"));
    served.signal(Signal::TERM);
    let n = manager.recv(&mut message).expect("STOPPING=1 within WAIT");
    let stopping = String::from_utf8_lossy(&message[..n]).into_owned();
    assert!(stopping.lines().any(|l| l == "STOPPING=1"), "{stopping}");
    assert!(served.wait_exit().success());
}
