//! Request metrics in Prometheus/OpenMetrics text: `http_request_duration_seconds`, a latency
//! histogram by method, route template and status (its `_count` counts requests), and the
//! `http_requests_in_flight` gauge.
//!
//! The registry belongs to the app (no process-global state), so batteries register their own
//! metrics on it through [`Metrics::register`], and two apps in one process never mix numbers.
//!
//! ```
//! use turbine::observability::Metrics;
//! use prometheus_client::metrics::counter::Counter;
//!
//! let metrics = Metrics::new();
//! let jobs: Counter = Counter::default();
//! metrics.register("jobs_processed", "Jobs processed", jobs.clone());
//! jobs.inc();
//! assert!(metrics.render().contains("jobs_processed_total 1"));
//! ```

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use axum::extract::MatchedPath;
use http::{Method, StatusCode};
use prometheus_client::encoding::{EncodeLabel, EncodeLabelSet, LabelSetEncoder};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Metric, Registry};

/// The content type of the metrics endpoint.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The route template of a request, compared by text (axum's `MatchedPath` is a cheap `Arc`).
#[derive(Clone, Debug)]
struct RouteLabel(Option<MatchedPath>);

impl RouteLabel {
    fn as_str(&self) -> &str {
        self.0.as_ref().map_or("unmatched", MatchedPath::as_str)
    }
}

impl PartialEq for RouteLabel {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RouteLabel {}

impl std::hash::Hash for RouteLabel {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

/// Labels of the request histogram.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct RequestLabels {
    method: Method,
    route: RouteLabel,
    status: StatusCode,
}

impl EncodeLabelSet for RequestLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        ("method", self.method.as_str()).encode(encoder.encode_label())?;
        ("route", self.route.as_str()).encode(encoder.encode_label())?;
        ("status", self.status.as_str()).encode(encoder.encode_label())
    }
}

fn latency_histogram() -> Histogram {
    // 0.5 ms … ~16 s
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The app's metrics registry and the HTTP request metrics.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Histogram, fn() -> Histogram>,
    in_flight: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry holding the HTTP metrics.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        // One histogram per (method, route, status): its `_count` is the request count, so a
        // request costs one lookup, not two.
        let requests: Family<RequestLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        let in_flight = Gauge::default();
        registry.register(
            "http_request_duration_seconds",
            "HTTP requests by method, route template and status: latency, and count (_count)",
            requests.clone(),
        );
        registry.register(
            "http_requests_in_flight",
            "HTTP requests being handled now",
            in_flight.clone(),
        );
        Self(Arc::new(Inner {
            registry: Mutex::new(registry),
            requests,
            in_flight,
        }))
    }

    /// Registers a battery's or the app's own metric.
    pub fn register(&self, name: &str, help: &str, metric: impl Metric) {
        self.lock().register(name, help, metric);
    }

    /// The metrics in OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.lock())
            .expect("writing to a String cannot fail");
        out
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.0.registry.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Statuses whose histograms an endpoint keeps at hand; others take the labelled lookup.
const STATUSES: [u16; 27] = [
    200, 201, 202, 204, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 405, 406, 408, 409, 410,
    412, 413, 415, 422, 429, 500, 502, 503,
];

/// Methods whose histograms an endpoint keeps at hand.
const METHODS: [Method; 7] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::HEAD,
    Method::OPTIONS,
];

type Slots = Box<[OnceLock<Histogram>]>;

/// The histograms of one endpoint. The default stack wraps every route's handlers separately, so
/// an endpoint's route template never changes: recording a request is then an index and an
/// atomic load, instead of hashing its labels into the shared map.
pub(crate) struct EndpointMetrics {
    metrics: Metrics,
    route: OnceLock<RouteLabel>,
    slots: [OnceLock<Slots>; METHODS.len()],
}

impl EndpointMetrics {
    pub(crate) fn new(metrics: Metrics) -> Self {
        Self {
            metrics,
            route: OnceLock::new(),
            slots: Default::default(),
        }
    }

    /// Counts a request as in flight until the returned guard records its outcome or is dropped.
    pub(crate) fn start(
        self: &Arc<Self>,
        method: &Method,
        route: Option<MatchedPath>,
        start: Instant,
    ) -> InFlight {
        self.metrics.0.in_flight.inc();
        // Clients choose the method: only the standard ones become labels.
        let method =
            if METHODS.contains(method) || method == Method::CONNECT || method == Method::TRACE {
                method.clone()
            } else {
                Method::from_bytes(b"OTHER").expect("a valid method token")
            };
        InFlight {
            endpoint: self.clone(),
            method,
            route: RouteLabel(route),
            start,
            done: false,
        }
    }

    /// The histogram for these labels, from this endpoint's slots when it can.
    fn observe(&self, method: Method, route: RouteLabel, status: StatusCode, seconds: f64) {
        let cached = METHODS
            .iter()
            .position(|m| *m == method)
            .zip(STATUSES.iter().position(|s| *s == status.as_u16()))
            .filter(|_| {
                // Same template text at the same address: the very route this endpoint serves.
                let known = self.route.get_or_init(|| route.clone());
                std::ptr::eq(known.as_str(), route.as_str())
            });
        let labels = || RequestLabels {
            method: method.clone(),
            route: route.clone(),
            status,
        };
        match cached {
            Some((m, s)) => {
                let slots = self.slots[m]
                    .get_or_init(|| STATUSES.iter().map(|_| OnceLock::new()).collect());
                slots[s]
                    .get_or_init(|| self.metrics.0.requests.get_or_create_owned(&labels()))
                    .observe(seconds);
            }
            None => self
                .metrics
                .0
                .requests
                .get_or_create(&labels())
                .observe(seconds),
        }
    }
}

/// A request being measured.
pub(crate) struct InFlight {
    endpoint: Arc<EndpointMetrics>,
    method: Method,
    route: RouteLabel,
    start: Instant,
    done: bool,
}

impl InFlight {
    /// Records the response status and latency.
    pub(crate) fn finish(mut self, status: StatusCode) {
        self.done = true;
        self.endpoint.metrics.0.in_flight.dec();
        let method = std::mem::replace(&mut self.method, Method::GET);
        let route = RouteLabel(self.route.0.take());
        self.endpoint
            .observe(method, route, status, self.start.elapsed().as_secs_f64());
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if !self.done {
            // The client went away before a response: not counted as a response, no longer in flight.
            self.endpoint.metrics.0.in_flight.dec();
        }
    }
}
