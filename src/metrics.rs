//! What operators watch, served at `/metrics` in the Prometheus text format: check-ins by
//! outcome, the sweep's work, face checks waiting, store errors and request latency.
//!
//! One [`Metrics`] lives in the context; its handles are cheap to clone and count atomically,
//! so the service layer, the sweep and the server's middleware all write to the same registry.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::domain::LiveRecord;
use crate::error::{Error, Result};

/// How a check-in ended, as counted.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub enum CheckInResult {
    /// Counted as present.
    Attended,
    /// Recorded as failed (network, face, device).
    Failed,
    /// Waiting for a face check.
    Pending,
    /// Refused before anything was recorded (code expired, session ended, limits, input).
    Refused,
}

/// Which store an error came from.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub enum Store {
    /// PostgreSQL or SQLite.
    Database,
    /// Redis or the in-memory live store.
    Live,
    /// The login sessions.
    Login,
}

impl CheckInResult {
    /// As the `outcome` label spells it.
    pub fn label(self) -> &'static str {
        match self {
            CheckInResult::Attended => "attended",
            CheckInResult::Failed => "failed",
            CheckInResult::Pending => "pending",
            CheckInResult::Refused => "refused",
        }
    }
}

impl Store {
    /// As the `store` label spells it.
    pub fn label(self) -> &'static str {
        match self {
            Store::Database => "database",
            Store::Live => "live",
            Store::Login => "login",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreLabel {
    store: &'static str,
}

/// Labels of a measured request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The status code's class: `2xx`, `3xx`, `4xx`, `5xx`.
    pub status: &'static str,
}

/// Every metric of one process.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    check_ins: Family<OutcomeLabel, Counter>,
    store_errors: Family<StoreLabel, Counter>,
    requests: Family<RequestLabels, Histogram>,
    /// Sweep steps run.
    pub sweep_runs: Counter,
    /// Sessions written to the database by the sweep.
    pub sessions_persisted: Counter,
    /// Sessions set aside after their last try.
    pub sessions_set_aside: Counter,
    /// Face checks waiting for a free worker.
    pub face_checks_waiting: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("attn");
        let check_ins = Family::<OutcomeLabel, Counter>::default();
        registry.register("check_ins", "Check-ins by outcome", check_ins.clone());
        let store_errors = Family::<StoreLabel, Counter>::default();
        registry.register(
            "store_errors",
            "Errors from the database, the live store and the login sessions",
            store_errors.clone(),
        );
        let requests = Family::<RequestLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.005, 2.0, 12))
        });
        registry.register(
            "request_duration_seconds",
            "Time to answer an HTTP request",
            requests.clone(),
        );
        let sweep_runs = Counter::default();
        registry.register("sweep_runs", "Sweep steps run", sweep_runs.clone());
        let sessions_persisted = Counter::default();
        registry.register(
            "sessions_persisted",
            "Finished sessions written to the database",
            sessions_persisted.clone(),
        );
        let sessions_set_aside = Counter::default();
        registry.register(
            "sessions_set_aside",
            "Sessions set aside for an admin after the database refused them",
            sessions_set_aside.clone(),
        );
        let face_checks_waiting = Gauge::default();
        registry.register(
            "face_checks_waiting",
            "Face checks waiting for a free worker",
            face_checks_waiting.clone(),
        );
        Self {
            registry: Arc::new(registry),
            check_ins,
            store_errors,
            requests,
            sweep_runs,
            sessions_persisted,
            sessions_set_aside,
            face_checks_waiting,
        }
    }
}

impl Metrics {
    /// Counts a check-in by how it ended, and a store error if that is why it failed.
    pub fn check_in(&self, outcome: &Result<LiveRecord>) {
        let result = match outcome {
            Ok(r) if r.is_pending() => CheckInResult::Pending,
            Ok(r) if r.is_attended => CheckInResult::Attended,
            Ok(_) => CheckInResult::Failed,
            Err(error) => {
                self.error(error);
                CheckInResult::Refused
            }
        };
        self.check_ins
            .get_or_create(&OutcomeLabel {
                outcome: result.label(),
            })
            .inc();
    }

    /// Counts `error` if a store caused it.
    pub fn error(&self, error: &Error) {
        if let Some(store) = error.store() {
            self.store_error(store);
        }
    }

    /// Counts an error of `store`.
    pub fn store_error(&self, store: Store) {
        self.store_errors
            .get_or_create(&StoreLabel {
                store: store.label(),
            })
            .inc();
    }

    /// Records how long a request took.
    pub fn request(&self, method: &str, status: u16, seconds: f64) {
        let status = match status {
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                status,
            })
            .observe(seconds);
    }

    /// Everything, in the text format Prometheus scrapes.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
