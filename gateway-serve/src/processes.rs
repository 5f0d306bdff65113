//! `--processes N` and its settings: a supervisor re-executes this program as N
//! worker processes that share its listening sockets (see `supervisor.rs`).

use std::time::Duration;

use clap::Args;

use crate::units::{parse_duration, TimeSpan};

/// The variable that tells a re-executed program it is a supervised worker, whose
/// listeners are the sockets passed at descriptors 3 and up (`LISTEN_FDS`); its
/// value is the supervisor's pid.
pub(crate) const WORKER_ENV: &str = "GATEWAY_SUPERVISED_WORKER";

/// The variable that tells a worker how many worker processes there are.
pub(crate) const COUNT_ENV: &str = "GATEWAY_WORKER_PROCESSES";

/// Exit code of a worker whose app cannot be loaded: the supervisor stops instead
/// of respawning it (gunicorn's APP_LOAD_ERROR).
pub const EXIT_APP_LOAD: u8 = 4;

/// Default `--timeout`: gunicorn's.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The process flags.
#[derive(Debug, Clone, Args)]
pub struct ProcessArgs {
    /// Worker processes sharing the listening sockets, supervised and respawned
    /// (default 1: no supervisor; with --wsgi, one per core).
    #[arg(long, env = "GATEWAY_PROCESSES", value_parser = parse_processes)]
    pub processes: Option<usize>,

    /// Requests a worker process serves before it is replaced gracefully (its
    /// replacement is serving before it stops), to bound a leaking app; 0 never
    /// replaces. Implies a supervisor.
    #[arg(long, env = "GATEWAY_MAX_REQUESTS", default_value_t = 0)]
    pub max_requests: u64,

    /// At most this many requests added at random to --max-requests per worker, so
    /// that workers are not all replaced at once.
    #[arg(long, env = "GATEWAY_MAX_REQUESTS_JITTER", default_value_t = 0)]
    pub max_requests_jitter: u64,

    /// A worker process whose heartbeat (its app able to run: for Python apps, the
    /// interpreter taking the GIL) stops this long is killed and replaced. 0 turns
    /// the watchdog off.
    #[arg(long, env = "GATEWAY_TIMEOUT", value_parser = parse_duration,
          default_value_t = TimeSpan(DEFAULT_TIMEOUT))]
    pub timeout: TimeSpan,
}

impl ProcessArgs {
    /// Whether these flags need a supervisor: `--processes` given (or a default
    /// above 1), or worker recycling asked for.
    pub(crate) fn supervised(&self, default_processes: usize) -> bool {
        self.processes.is_some() || default_processes > 1 || self.max_requests > 0
    }

    /// The watchdog's limit, `None` when turned off.
    pub(crate) fn heartbeat_timeout(&self) -> Option<Duration> {
        Some(self.timeout.0).filter(|t| !t.is_zero())
    }

    /// How often a worker beats: often enough that a few lost beats never look
    /// like a wedged worker, at most once a second.
    pub(crate) fn heartbeat_interval(&self) -> Option<Duration> {
        self.heartbeat_timeout()
            .map(|t| (t / 4).clamp(Duration::from_millis(20), Duration::from_secs(1)))
    }

    /// This worker's request limit: `--max-requests` plus its share of jitter,
    /// `None` when recycling is off.
    pub(crate) fn request_limit(&self) -> Option<u64> {
        if self.max_requests == 0 {
            return None;
        }
        let jitter = match self.max_requests_jitter {
            0 => 0,
            n => random_u64() % (n + 1),
        };
        Some(self.max_requests.saturating_add(jitter))
    }
}

/// A random number from the standard library's per-process hash keys: enough to
/// spread worker lifetimes, without a dependency.
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.finish()
}

fn parse_processes(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) | Err(_) => Err(format!(
            "{text:?} is not a number of processes: write 1 or more"
        )),
        Ok(n) => Ok(n),
    }
}

/// How many worker processes serve the same app: N under `--processes N`, else 1
/// (what `wsgi.multiprocess` reports).
pub fn process_count() -> usize {
    std::env::var(COUNT_ENV)
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|_| is_worker())
        .unwrap_or(1)
}

/// Whether this process is a worker started by a supervisor.
pub(crate) fn is_worker() -> bool {
    std::env::var_os(WORKER_ENV).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        processes: ProcessArgs,
    }

    #[test]
    fn jitter_stays_within_its_bound_and_zero_turns_recycling_off() {
        let cli = Cli::parse_from(["x", "--max-requests", "100", "--max-requests-jitter", "10"]);
        for _ in 0..50 {
            let limit = cli.processes.request_limit().unwrap();
            assert!((100..=110).contains(&limit), "{limit}");
        }
        assert!(cli.processes.supervised(1));
        let plain = Cli::parse_from(["x"]);
        assert_eq!(plain.processes.request_limit(), None);
        assert!(!plain.processes.supervised(1));
        assert!(plain.processes.supervised(2));
    }

    #[test]
    fn the_heartbeat_beats_several_times_per_timeout_and_zero_turns_it_off() {
        let cli = Cli::parse_from(["x", "--timeout", "2s"]);
        assert_eq!(
            cli.processes.heartbeat_interval(),
            Some(Duration::from_millis(500))
        );
        let default = Cli::parse_from(["x"]);
        assert_eq!(
            default.processes.heartbeat_interval(),
            Some(Duration::from_secs(1))
        );
        let off = Cli::parse_from(["x", "--timeout", "0"]);
        assert_eq!(off.processes.heartbeat_timeout(), None);
        assert_eq!(off.processes.heartbeat_interval(), None);
    }

    #[test]
    fn zero_processes_is_refused_with_exit_code_2() {
        let error = Cli::try_parse_from(["x", "--processes", "0"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("1 or more"), "{error}");
    }
}
