//! The built `gateway-serve --wsgi` running the Python app on its own worker threads,
//! each attached for life: `threading.local` per worker, a parked generator resumed,
//! and `--threads` as the worker count. Environ and body rules are gateway-wsgi's.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{exe, Served, Signal, WAIT};

fn threads_app() -> String {
    format!(
        "{}/tests/apps/threads_app.py:app",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn start(threads: &str) -> Served {
    Served::start(
        &exe(),
        &[
            "--processes",
            "1",
            "--threads",
            threads,
            "--wsgi",
            &threads_app(),
        ],
    )
}

/// One request on a connection of its own; its body as JSON.
fn get_json(addr: SocketAddr, target: &str) -> Value {
    let request = format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let response = support::connect(addr);
    let mut reader = support::Reader::new(response);
    reader.send(request.as_bytes());
    let response = reader.response("GET").expect("a response");
    assert_eq!(response.status, 200, "{}", response.text());
    serde_json::from_slice(&response.body).unwrap_or_else(|e| panic!("{e}: {}", response.text()))
}

fn stop(mut served: Served) {
    served.signal(Signal::TERM);
    assert!(served.wait_exit().success());
}

#[test]
fn threading_local_survives_between_requests_on_a_worker_thread() {
    let served = start("1");
    let answers: Vec<Value> = (0..3).map(|_| get_json(served.addr, "/local")).collect();
    let counts: Vec<i64> = answers
        .iter()
        .map(|a| a["count"].as_i64().unwrap())
        .collect();
    assert_eq!(counts, [1, 2, 3], "{answers:?}");
    for answer in &answers {
        // The server's own worker ran the app, not a pool thread ("python-N"); the
        // kernel keeps 15 bytes of a thread's name, "gateway-worker-" of it.
        assert_eq!(answer["thread"], "gateway-worker-", "{answer}");
        assert_eq!(answer["multithread"], false, "{answer}");
    }
    stop(served);

    let served = start("2");
    assert_eq!(get_json(served.addr, "/local")["multithread"], true);
    stop(served);
}

#[test]
fn threads_is_the_worker_count_and_a_disagreeing_workers_is_refused() {
    let mut served = Served::start(
        &exe(),
        &[
            "--processes",
            "1",
            "--workers",
            "3",
            "--wsgi",
            &threads_app(),
        ],
    );
    let log = served.log();
    assert!(
        log.iter()
            .any(|l| l.contains("3 Python thread(s): the worker threads")),
        "{log:?}"
    );
    assert_eq!(get_json(served.addr, "/local")["multithread"], true);
    stop(served);

    let output = Command::new(exe())
        .args(["--bind", "127.0.0.1:0", "--processes", "1"])
        .args(["--threads", "2", "--workers", "3", "--wsgi", &threads_app()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    // 4, like an app that cannot load, so that the supervisor does not respawn.
    assert_eq!(output.status.code(), Some(4), "{log}");
    assert!(
        log.contains("--threads 2 and --workers 3 disagree"),
        "{log}"
    );
}

/// The body of a chunked response.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = raw
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a chunk-size line");
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..line_end]).unwrap(), 16)
            .expect("a hex chunk size");
        raw = &raw[line_end + 2..];
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

/// A client that stops reading a 16 MiB generator body after 64 KiB: its response
/// parks (no worker waits for it), others are served meanwhile, and the generator
/// resumes on a worker (any of them) once the client reads again, ending in one
/// close(). With one worker that worker must be free; with two, the body may hop.
#[test]
fn a_slow_reader_of_a_python_stream_keeps_no_worker_and_its_generator_resumes() {
    const CHUNKS: usize = 256;
    const SIZE: usize = 64 * 1024;
    for threads in ["1", "2"] {
        let served = start(threads);
        let mut slow = TcpStream::connect(served.addr).unwrap();
        slow.set_read_timeout(Some(WAIT)).unwrap();
        write!(
            slow,
            "GET /stream?chunks={CHUNKS}&size={SIZE} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut raw = vec![0; SIZE];
        slow.read_exact(&mut raw).unwrap();
        std::thread::sleep(Duration::from_millis(200));

        for _ in 0..5 {
            let asked = Instant::now();
            assert!(get_json(served.addr, "/local")["count"].as_i64().is_some());
            assert!(
                asked.elapsed() < Duration::from_secs(2),
                "--threads {threads}: a fresh client waited {:?} behind the slow reader",
                asked.elapsed()
            );
        }
        let report = get_json(served.addr, "/report");
        assert!(
            report["steps"].as_u64().unwrap() < CHUNKS as u64,
            "--threads {threads}: the whole body was pulled while the client read nothing: {report}"
        );

        // Now it reads, slowly at first, then to the end.
        let mut piece = vec![0; 1 << 20];
        for _ in 0..4 {
            slow.read_exact(&mut piece).unwrap();
            raw.extend_from_slice(&piece);
            std::thread::sleep(Duration::from_millis(50));
        }
        slow.read_to_end(&mut raw).unwrap();
        let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        let body = dechunk(&raw[head_end..]);
        assert_eq!(body.len(), CHUNKS * SIZE, "--threads {threads}");
        for (i, chunk) in body.chunks(SIZE).enumerate() {
            assert!(
                chunk.iter().all(|&b| b == 65 + (i % 26) as u8),
                "chunk {i} is wrong"
            );
        }

        let report = get_json(served.addr, "/report");
        assert_eq!(report["closed"], 1, "--threads {threads}: {report}");
        assert_eq!(report["steps"], CHUNKS, "--threads {threads}: {report}");
        for thread in report["threads"].as_array().unwrap() {
            assert!(
                thread.as_str().unwrap().starts_with("gateway-worker-"),
                "--threads {threads}: the generator ran on {thread}, not a worker: {report}"
            );
        }
        stop(served);
    }
}
