//! `bench-report`: the helper of `bench/run.sh`, so that the script needs no Python
//! or jq.
//!
//! - `bench-report free-port` prints a TCP port on 127.0.0.1 that was free a moment
//!   ago (the kernel's pick for port 0).
//! - `bench-report rss PID` prints the peak resident set, in KiB, of `PID` and all
//!   its descendants: the sum of their `VmHWM` from `/proc/PID/status` (a
//!   pre-forking server such as gunicorn is several processes).
//! - `bench-report requests ADDR COUNT CONNECTIONS [DEPTH]` sends exactly COUNT
//!   keep-alive `GET /` requests over CONNECTIONS connections, DEPTH per write
//!   (1 unless given; more is pipelining), and checks every answer (the fixed loads
//!   of `bench/instructions.sh`).
//! - `bench-report summarize SAMPLES META JSON MD` reads the raw samples (one
//!   tab-separated line per measured run) and the run's settings (`key<TAB>value`
//!   lines), and writes the JSON file and the Markdown report: per endpoint, load
//!   and server, the median and min-max of requests/s, p50 and p99 latency and peak
//!   RSS, and the ratio to the reference server measured in the same sweep.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::net::TcpListener;
use std::process::ExitCode;

use serde_json::{json, Value};

mod fixed_load;

/// The name the samples give the reference server.
const REFERENCE: &str = "reference";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["free-port"] => free_port(),
        ["rss", pid] => pid
            .parse()
            .map_err(|e| format!("pid {pid}: {e}"))
            .map(|pid| println!("{}", tree_hwm_kib(pid))),
        ["requests", addr, count, connections, depth @ ..] if depth.len() <= 1 => {
            let depth = depth.first().copied().unwrap_or("1");
            match (count.parse(), connections.parse(), depth.parse()) {
                (Ok(count), Ok(connections), Ok(depth)) => {
                    fixed_load::run(addr, count, connections, depth)
                }
                _ => Err(format!(
                    "requests {count} {connections} {depth}: whole numbers expected"
                )),
            }
        }
        ["summarize", samples, meta, json_out, md_out] => {
            summarize(samples, meta, json_out, md_out)
        }
        _ => Err("usage: bench-report free-port | rss PID | requests ADDR COUNT CONNECTIONS [DEPTH] | summarize SAMPLES META JSON MD".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench-report: {message}");
            ExitCode::FAILURE
        }
    }
}

fn free_port() -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    println!("{port}");
    Ok(())
}

/// Sum of `VmHWM` (KiB) over `pid` and its descendants; 0 for a process gone.
fn tree_hwm_kib(pid: u32) -> u64 {
    let mut children: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    if let Ok(entries) = fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(child) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            if let Some(parent) = parent_of(child) {
                children.entry(parent).or_default().push(child);
            }
        }
    }
    let mut total = 0;
    let mut stack = vec![pid];
    while let Some(p) = stack.pop() {
        total += hwm_kib(p);
        stack.extend(children.get(&p).into_iter().flatten());
    }
    total
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: fields follow the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

fn hwm_kib(pid: u32) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// One measured run: one server, one endpoint, one load, one repeat.
#[derive(Debug, Clone)]
struct Sample {
    repeat: u32,
    server: String,
    endpoint: String,
    load: String,
    rps: f64,
    p50_us: f64,
    p99_us: f64,
    requests: u64,
    errors: u64,
    non_2xx: u64,
    rss_kib: u64,
}

impl Sample {
    fn to_json(&self) -> Value {
        json!({
            "repeat": self.repeat, "server": self.server, "endpoint": self.endpoint,
            "load": self.load, "requests_per_sec": self.rps, "p50_us": self.p50_us,
            "p99_us": self.p99_us, "requests": self.requests, "socket_errors": self.errors,
            "non_2xx": self.non_2xx, "peak_rss_kib": self.rss_kib,
        })
    }
}

fn parse_samples(text: &str) -> Result<Vec<Sample>, String> {
    let mut samples = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if n == 0 || line.trim().is_empty() {
            continue; // the header line
        }
        let f: Vec<&str> = line.split('\t').collect();
        let bad = |what: &str| format!("samples line {}: {what}: {line}", n + 1);
        if f.len() != 11 {
            return Err(bad("expected 11 fields"));
        }
        let num = |i: usize| f[i].parse::<f64>().map_err(|_| bad("not a number"));
        samples.push(Sample {
            repeat: num(0)? as u32,
            server: f[1].to_owned(),
            endpoint: f[2].to_owned(),
            load: f[3].to_owned(),
            rps: num(4)?,
            p50_us: num(5)?,
            p99_us: num(6)?,
            requests: num(7)? as u64,
            errors: num(8)? as u64,
            non_2xx: num(9)? as u64,
            rss_kib: num(10)? as u64,
        });
    }
    Ok(samples)
}

/// Median, min and max of a non-empty list.
#[derive(Debug, Clone, Copy)]
struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

impl Spread {
    fn of(values: &[f64]) -> Option<Spread> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let mid = v.len() / 2;
        let median = if v.len() % 2 == 1 {
            v[mid]
        } else {
            (v[mid - 1] + v[mid]) / 2.0
        };
        Some(Spread {
            median,
            min: v[0],
            max: v[v.len() - 1],
        })
    }

    fn scaled(self, k: f64) -> Spread {
        Spread {
            median: self.median * k,
            min: self.min * k,
            max: self.max * k,
        }
    }

    fn to_json(self) -> Value {
        json!({ "median": self.median, "min": self.min, "max": self.max })
    }
}

/// The figures of one row: one endpoint, load and server over every repeat.
struct Row<'a> {
    endpoint: &'a str,
    load: &'a str,
    server: &'a str,
    runs: usize,
    rps: Option<Spread>,
    p50_ms: Option<Spread>,
    p99_ms: Option<Spread>,
    rss_mib: Option<Spread>,
    ratio: Option<Spread>,
    errors: u64,
    non_2xx: u64,
}

fn words(meta: &[(String, String)], key: &str) -> Vec<String> {
    meta.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

fn rows<'a>(
    samples: &'a [Sample],
    endpoints: &'a [String],
    loads: &'a [String],
    servers: &'a [String],
) -> Vec<Row<'a>> {
    let mut rows = Vec::new();
    for endpoint in endpoints {
        for load in loads {
            let point: Vec<&Sample> = samples
                .iter()
                .filter(|s| &s.endpoint == endpoint && &s.load == load)
                .collect();
            let reference_rps = |repeat: u32| {
                point
                    .iter()
                    .find(|s| s.server == REFERENCE && s.repeat == repeat)
                    .map(|s| s.rps)
            };
            for server in servers {
                let mine: Vec<&&Sample> = point.iter().filter(|s| &s.server == server).collect();
                if mine.is_empty() {
                    continue;
                }
                let collect =
                    |f: fn(&Sample) -> f64| -> Vec<f64> { mine.iter().map(|s| f(s)).collect() };
                let ratios: Vec<f64> = mine
                    .iter()
                    .filter_map(|s| {
                        reference_rps(s.repeat)
                            .filter(|r| *r > 0.0)
                            .map(|r| s.rps / r)
                    })
                    .collect();
                rows.push(Row {
                    endpoint,
                    load,
                    server,
                    runs: mine.len(),
                    rps: Spread::of(&collect(|s| s.rps)),
                    p50_ms: Spread::of(&collect(|s| s.p50_us)).map(|s| s.scaled(1e-3)),
                    p99_ms: Spread::of(&collect(|s| s.p99_us)).map(|s| s.scaled(1e-3)),
                    rss_mib: Spread::of(&collect(|s| s.rss_kib as f64))
                        .map(|s| s.scaled(1.0 / 1024.0)),
                    ratio: Spread::of(&ratios),
                    errors: mine.iter().map(|s| s.errors).sum(),
                    non_2xx: mine.iter().map(|s| s.non_2xx).sum(),
                });
            }
        }
    }
    rows
}

fn opt_json(spread: Option<Spread>) -> Value {
    spread.map_or(Value::Null, Spread::to_json)
}

fn fmt_spread(spread: Option<Spread>, decimals: usize) -> String {
    match spread {
        None => "n/a".to_owned(),
        Some(s) if s.min == s.max => format!("{:.*}", decimals, s.median),
        Some(s) => format!(
            "{:.d$} ({:.d$}–{:.d$})",
            s.median,
            s.min,
            s.max,
            d = decimals
        ),
    }
}

fn summarize(
    samples_path: &str,
    meta_path: &str,
    json_out: &str,
    md_out: &str,
) -> Result<(), String> {
    let read = |p: &str| fs::read_to_string(p).map_err(|e| format!("{p}: {e}"));
    let samples = parse_samples(&read(samples_path)?)?;
    let meta: Vec<(String, String)> = read(meta_path)?
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let (endpoints, loads, servers) = (
        words(&meta, "endpoints"),
        words(&meta, "loads"),
        words(&meta, "servers"),
    );
    let rows = rows(&samples, &endpoints, &loads, &servers);

    let json = json!({
        "meta": meta.iter().map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect::<serde_json::Map<_, _>>(),
        "results": rows.iter().map(|r| json!({
            "endpoint": r.endpoint, "load": r.load, "server": r.server, "runs": r.runs,
            "requests_per_sec": opt_json(r.rps), "p50_ms": opt_json(r.p50_ms),
            "p99_ms": opt_json(r.p99_ms), "peak_rss_mib": opt_json(r.rss_mib),
            "ratio_to_reference": opt_json(r.ratio), "socket_errors": r.errors,
            "non_2xx": r.non_2xx,
        })).collect::<Vec<_>>(),
        "samples": samples.iter().map(Sample::to_json).collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?;
    fs::write(json_out, text + "\n").map_err(|e| format!("{json_out}: {e}"))?;
    fs::write(md_out, markdown(&meta, &rows, &endpoints, &loads, &servers))
        .map_err(|e| format!("{md_out}: {e}"))?;
    Ok(())
}

fn markdown(
    meta: &[(String, String)],
    rows: &[Row<'_>],
    endpoints: &[String],
    loads: &[String],
    servers: &[String],
) -> String {
    let get = |key: &str| {
        meta.iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    };
    let mut md = String::new();
    let _ = writeln!(
        md,
        "<!-- Written by bench/run.sh (bench-report summarize); do not edit by hand. -->\n"
    );
    let _ = writeln!(md, "# Benchmark results\n");
    if get("quick") == "1" {
        let _ = writeln!(
            md,
            "**Smoke run (QUICK mode): too short and too few repeats to compare servers; \
             it only shows that the benchmark works end to end.**\n"
        );
    }
    let _ = writeln!(
        md,
        "Medians over the repeats, with min–max in parentheses when they differ. \
         *ratio* is the server's requests/s divided by the reference server's in the same \
         sweep (so >1 is faster than the reference), median and min–max over the sweeps. \
         Latency is wrk's per-request latency; peak RSS is the sum of `VmHWM` over the \
         server's processes, read at the end of the run. *errors* counts wrk's socket \
         errors (connect, read, write, timeout) and *non-2xx* its error statuses, summed \
         over the repeats.\n"
    );
    let _ = writeln!(
        md,
        "## Ratio to the reference server (requests/s, median)\n"
    );
    let _ = writeln!(md, "| endpoint | load | {} |", servers.join(" | "));
    let _ = writeln!(md, "|---|---|{}", "---:|".repeat(servers.len()));
    for endpoint in endpoints {
        for load in loads {
            let cells: Vec<String> = servers
                .iter()
                .map(|server| {
                    rows.iter()
                        .find(|r| r.endpoint == endpoint && r.load == load && r.server == server)
                        .and_then(|r| r.ratio)
                        .map_or("n/a".to_owned(), |s| format!("{:.2}", s.median))
                })
                .collect();
            if cells.iter().all(|c| c == "n/a") {
                continue;
            }
            let _ = writeln!(md, "| {endpoint} | {load} | {} |", cells.join(" | "));
        }
    }
    let _ = writeln!(md, "\n## All figures\n");
    let _ = writeln!(
        md,
        "| endpoint | load | server | runs | requests/s | ratio | p50 ms | p99 ms | peak RSS MiB | errors | non-2xx |"
    );
    let _ = writeln!(md, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.endpoint,
            r.load,
            r.server,
            r.runs,
            fmt_spread(r.rps, 0),
            fmt_spread(r.ratio, 2),
            fmt_spread(r.p50_ms, 3),
            fmt_spread(r.p99_ms, 3),
            fmt_spread(r.rss_mib, 1),
            r.errors,
            r.non_2xx,
        );
    }
    let _ = writeln!(md, "\n## How it was run\n");
    for (key, value) in meta {
        let _ = writeln!(md, "- **{key}**: {value}");
    }
    md
}
