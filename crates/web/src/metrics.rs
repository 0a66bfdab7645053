//! Prometheus metrics: request counts and latency histograms per route, and the DB pool.
//! Counters are per process, as Prometheus expects (it scrapes each instance).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default)]
pub struct Metrics {
    // (method, route, status) -> series
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut m = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let s = m.entry((method.to_string(), route.to_string(), status)).or_default();
        s.count += 1;
        s.sum += seconds;
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                s.buckets[i] += 1;
            }
        }
    }

    pub fn render(&self, pool: (u32, usize)) -> String {
        let m = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        out.push_str("# HELP salesops_http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE salesops_http_requests_total counter\n");
        for ((method, route, status), s) in m.iter() {
            let _ = writeln!(
                out,
                "salesops_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}",
                s.count
            );
        }
        out.push_str("# HELP salesops_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE salesops_http_request_duration_seconds histogram\n");
        let mut per_route: BTreeMap<(String, String), Series> = BTreeMap::new();
        for ((method, route, _), s) in m.iter() {
            let agg = per_route.entry((method.clone(), route.clone())).or_default();
            agg.count += s.count;
            agg.sum += s.sum;
            for i in 0..BUCKETS.len() {
                agg.buckets[i] += s.buckets[i];
            }
        }
        for ((method, route), s) in per_route {
            let labels = format!("method=\"{method}\",route=\"{route}\"");
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "salesops_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(out, "salesops_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
            let _ = writeln!(out, "salesops_http_request_duration_seconds_sum{{{labels}}} {}", s.sum);
            let _ = writeln!(out, "salesops_http_request_duration_seconds_count{{{labels}}} {}", s.count);
        }
        out.push_str("# HELP salesops_db_pool_connections Open database connections.\n# TYPE salesops_db_pool_connections gauge\n");
        let _ = writeln!(out, "salesops_db_pool_connections {}", pool.0);
        out.push_str("# HELP salesops_db_pool_idle Idle database connections.\n# TYPE salesops_db_pool_idle gauge\n");
        let _ = writeln!(out, "salesops_db_pool_idle {}", pool.1);
        out
    }
}

/// Middleware: times each request and records it under its route template (not the raw path,
/// so ids do not explode the label set).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route =
        req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let resp = next.run(req).await;
    state.metrics.observe(&method, &route, resp.status().as_u16(), start.elapsed().as_secs_f64());
    resp
}
