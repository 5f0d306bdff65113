//! The pausable exchange (`exchange::start`): it stops between body chunks while the
//! output is backed up, resumes from any thread, and closes the body when aborted.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use gateway_spec::exchange::{run, start, Output, Progress};
use gateway_spec::framing::Framing;
use gateway_spec::{Body, Environ, ResponseHead, StartResponse};
use http::{HeaderMap, Method, StatusCode};

/// An output that is backed up after every body chunk until `drain` is called,
/// as a socket whose client reads slowly.
#[derive(Default)]
struct SlowWire {
    body: Vec<u8>,
    backed_up: bool,
    flushes: usize,
    finished: bool,
}

impl SlowWire {
    fn drain(&mut self) {
        self.backed_up = false;
    }
}

impl Output for SlowWire {
    fn send_head(&mut self, _: &ResponseHead, _: Framing, _: bool) -> io::Result<()> {
        Ok(())
    }
    fn send_body(&mut self, chunk: &[u8]) -> io::Result<()> {
        assert!(!self.backed_up, "a chunk was sent on a backed-up output");
        self.body.extend_from_slice(chunk);
        self.backed_up = true;
        Ok(())
    }
    fn finish(&mut self, _: Framing) -> io::Result<()> {
        self.finished = true;
        Ok(())
    }
    fn is_backed_up(&self) -> bool {
        self.backed_up
    }
    fn flush(&mut self) -> io::Result<()> {
        self.flushes += 1;
        self.backed_up = false;
        Ok(())
    }
}

fn three_chunks(closed: Arc<AtomicUsize>) -> impl gateway_spec::App {
    move |_: Environ, start: StartResponse| {
        start.call(StatusCode::OK, HeaderMap::new())?;
        let closed = closed.clone();
        Ok(
            Body::try_from_chunks(["a", "b", "c"].map(|s| Ok(Bytes::from(s)))).on_close(
                move || {
                    closed.fetch_add(1, Ordering::SeqCst);
                },
            ),
        )
    }
}

fn get() -> Environ {
    Environ::new(Method::GET, "/").unwrap()
}

#[test]
fn a_backed_up_output_pauses_the_exchange_between_chunks_until_resumed() {
    let closed = Arc::new(AtomicUsize::new(0));
    let app = three_chunks(closed.clone());
    let mut progress = start(&app, get(), SlowWire::default());
    let mut pauses = 0;
    let (wire, outcome) = loop {
        match progress {
            Progress::Paused(paused) => {
                pauses += 1;
                assert_eq!(closed.load(Ordering::SeqCst), 0, "closed while paused");
                paused.with_output(SlowWire::drain);
                // Resumed on another thread, as a server's other worker would.
                progress = std::thread::spawn(move || paused.resume()).join().unwrap();
            }
            Progress::Done(wire, outcome) => break (wire, outcome),
        }
    };
    assert_eq!(pauses, 3, "one pause after each chunk");
    assert_eq!(wire.body, b"abc");
    assert!(wire.finished && outcome.complete && outcome.failure.is_none());
    assert_eq!(
        wire.flushes, 0,
        "a pausable exchange never waits on the output"
    );
    assert_eq!(closed.load(Ordering::SeqCst), 1);
}

#[test]
fn an_aborted_pause_closes_the_body_and_reports_the_client_gone() {
    let closed = Arc::new(AtomicUsize::new(0));
    let app = three_chunks(closed.clone());
    let Progress::Paused(paused) = start(&app, get(), SlowWire::default()) else {
        panic!("the first chunk backs the output up");
    };
    let (wire, outcome) = paused.abort(io::Error::new(io::ErrorKind::TimedOut, "too slow"));
    assert_eq!(wire.body, b"a");
    assert!(!wire.finished, "an aborted response has no end (FAIL-4)");
    assert!(!outcome.complete && outcome.must_close);
    assert!(outcome.failure.is_some_and(|f| f.is_clients()));
    assert_eq!(closed.load(Ordering::SeqCst), 1);
}

#[test]
fn run_waits_on_a_backed_up_output_instead_of_pausing() {
    let app = three_chunks(Arc::new(AtomicUsize::new(0)));
    let (wire, outcome) = run(&app, get(), SlowWire::default());
    assert_eq!(wire.body, b"abc");
    assert!(outcome.complete);
    assert_eq!(
        wire.flushes, 4,
        "after each chunk, and once more at the end"
    );
}
