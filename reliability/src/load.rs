//! A small closed-loop load generator for the scenarios: keep-alive clients sending
//! GETs for a fixed time, counting answers, errors and latencies.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fixtures::raw_client::{connect, Reader};

/// What a load run measured.
#[derive(Debug, Default, Clone)]
pub struct LoadResult {
    pub requests: u64,
    pub errors: u64,
    pub latencies: Vec<Duration>,
    pub elapsed: Duration,
}

impl LoadResult {
    /// Answers per second.
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency at quantile `q` (0 to 1).
    pub fn quantile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        sorted[((sorted.len() - 1) as f64 * q).round() as usize]
    }
}

/// Runs `clients` keep-alive clients against `path` for `duration`.
pub fn run(addr: SocketAddr, clients: usize, duration: Duration, path: &str) -> LoadResult {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let stop = stop.clone();
            let request = format!("GET {path} HTTP/1.1\r\nHost: load\r\n\r\n").into_bytes();
            std::thread::spawn(move || {
                let mut result = LoadResult::default();
                let mut reader: Option<Reader> = None;
                while !stop.load(Ordering::Relaxed) {
                    let conn = reader.get_or_insert_with(|| Reader::new(connect(addr)));
                    let sent = Instant::now();
                    conn.send(&request);
                    let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        conn.response("GET")
                    }));
                    match answer {
                        Ok(Some(response)) if response.status == 200 => {
                            result.requests += 1;
                            result.latencies.push(sent.elapsed());
                        }
                        _ => {
                            result.errors += 1;
                            reader = None;
                        }
                    }
                }
                result
            })
        })
        .collect();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    let mut total = LoadResult::default();
    for thread in threads {
        if let Ok(result) = thread.join() {
            total.requests += result.requests;
            total.errors += result.errors;
            total.latencies.extend(result.latencies);
        }
    }
    total.elapsed = started.elapsed();
    total
}
