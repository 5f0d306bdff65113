//! `--metrics-bind`: Prometheus exposition of the server's counters and gauges on a
//! separate listener, through `prometheus-client`, by a small server of its own.

use std::sync::{Arc, OnceLock};

use clap::Args;
use gateway_spec::{AppError, Body, Environ, StartResponse};
use http::{HeaderMap, HeaderValue, StatusCode};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use reference_server::{
    BindAddr, BindOptions, Config, Controller, Listener, ResponseObserver, ResponseRecord, Server,
    ServerHandle,
};

/// The metrics flag.
#[derive(Debug, Clone, Args)]
pub struct MetricsArgs {
    /// Serve Prometheus metrics at /metrics on this address (host:port or
    /// unix:PATH), apart from the app's sockets [default: off]. Not with
    /// --processes.
    #[arg(long, env = "GATEWAY_METRICS_BIND")]
    pub metrics_bind: Option<BindAddr>,
}

/// A status class label: `class="2xx"`.
type Class = Vec<(&'static str, &'static str)>;

/// The registry and the metrics in it.
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<Class, Counter>,
    duration: Histogram,
    in_flight: Gauge,
    queued: Gauge,
    connections: Gauge,
    parked: Gauge,
    /// The main server, known once it runs.
    server: OnceLock<Controller>,
}

impl Metrics {
    pub(crate) fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("gateway");
        let requests = Family::<Class, Counter>::default();
        // 100 µs to about 52 s, doubling.
        let duration = Histogram::new(exponential_buckets(0.0001, 2.0, 20));
        let (in_flight, queued, connections, parked) = (
            Gauge::default(),
            Gauge::default(),
            Gauge::default(),
            Gauge::default(),
        );
        registry.register("requests", "Responses by status class", requests.clone());
        registry.register(
            "request_duration_seconds",
            "From a request's admission to its response's end",
            duration.clone(),
        );
        registry.register(
            "in_flight_requests",
            "Requests being served",
            in_flight.clone(),
        );
        registry.register(
            "queued_requests",
            "Complete requests waiting for a worker",
            queued.clone(),
        );
        registry.register(
            "open_connections",
            "Open client connections",
            connections.clone(),
        );
        registry.register(
            "parked_responses",
            "Responses waiting for a slow client to read",
            parked.clone(),
        );
        Arc::new(Self {
            registry,
            requests,
            duration,
            in_flight,
            queued,
            connections,
            parked,
            server: OnceLock::new(),
        })
    }

    /// The observer the main server tells of each response.
    pub(crate) fn observer(self: &Arc<Self>) -> ResponseObserver {
        let metrics = self.clone();
        ResponseObserver::new(move |record: ResponseRecord| {
            let class = match record.status.map(|s| s / 100) {
                Some(1) => "1xx",
                Some(2) => "2xx",
                Some(3) => "3xx",
                Some(4) => "4xx",
                Some(5) => "5xx",
                _ => "cut",
            };
            metrics
                .requests
                .get_or_create(&vec![("class", class)])
                .inc();
            metrics.duration.observe(record.duration.as_secs_f64());
        })
    }

    /// The exposition now, the gauges read from the main server.
    fn render(&self) -> Result<String, std::fmt::Error> {
        if let Some(server) = self.server.get() {
            let stats = server.stats();
            self.in_flight.set(stats.in_flight as i64);
            self.queued.set(stats.queued as i64);
            self.connections.set(stats.connections as i64);
            self.parked.set(stats.parked as i64);
        }
        let mut text = String::new();
        encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// Starts the metrics server on `bind` for the server `main` controls; returns it
/// and where it listens.
pub(crate) fn serve(
    bind: &BindAddr,
    metrics: Arc<Metrics>,
    main: Controller,
) -> Result<(ServerHandle, String), String> {
    let _ = metrics.server.set(main);
    let listener = Listener::bind(bind, &BindOptions::default()).map_err(|e| e.to_string())?;
    let shown = listener
        .local_addr()
        .map_err(|e| e.to_string())?
        .to_string();
    let config = Config {
        workers: 1,
        queue_depth: 16,
        ..Config::default()
    };
    let app = move |environ: Environ, start: StartResponse| -> Result<Body, AppError> {
        let mut headers = HeaderMap::new();
        if environ.path_info != b"/metrics" {
            headers.insert("content-type", HeaderValue::from_static("text/plain"));
            start.call(StatusCode::NOT_FOUND, headers)?;
            return Ok(Body::from("Not Found: the metrics are at /metrics\n"));
        }
        let text = metrics.render()?;
        headers.insert(
            "content-type",
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        );
        start.call(StatusCode::OK, headers)?;
        Ok(Body::from(text))
    };
    let handle = Server::from_listeners([listener])
        .config(config)
        .spawn(app)
        .map_err(|e| e.to_string())?;
    Ok((handle, shown))
}
