//! Prometheus metrics in the text exposition format: request counts and latency histograms
//! per route pattern and status, plus gauges registered by the domains.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::fmt::Write;

const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), Series>>,
    counters: Mutex<BTreeMap<String, u64>>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, secs: f64) {
        let mut m = self.requests.lock();
        let s = m
            .entry((method.to_string(), route.to_string(), status))
            .or_default();
        s.count += 1;
        s.sum += secs;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                s.buckets[i] += 1;
            }
        }
    }

    /// Adds to a named counter (`diming_<name>_total`).
    pub fn add(&self, name: &str, n: u64) {
        *self.counters.lock().entry(name.to_string()).or_default() += n;
    }

    /// Renders all series; `gauges` are (name, help, value) computed at scrape time.
    pub fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let mut out = String::new();
        out.push_str("# HELP diming_http_requests_total HTTP requests by method, route and status.\n# TYPE diming_http_requests_total counter\n");
        let m = self.requests.lock();
        for ((meth, route, st), s) in m.iter() {
            let _ = writeln!(
                out,
                "diming_http_requests_total{{method=\"{meth}\",route=\"{}\",status=\"{st}\"}} {}",
                esc(route),
                s.count
            );
        }
        out.push_str("# HELP diming_http_request_duration_seconds HTTP request latency.\n# TYPE diming_http_request_duration_seconds histogram\n");
        for ((meth, route, st), s) in m.iter() {
            let l = format!("method=\"{meth}\",route=\"{}\",status=\"{st}\"", esc(route));
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "diming_http_request_duration_seconds_bucket{{{l},le=\"{b}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "diming_http_request_duration_seconds_bucket{{{l},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "diming_http_request_duration_seconds_sum{{{l}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "diming_http_request_duration_seconds_count{{{l}}} {}",
                s.count
            );
        }
        drop(m);
        for (name, v) in self.counters.lock().iter() {
            let _ = writeln!(
                out,
                "# TYPE diming_{name}_total counter\ndiming_{name}_total {v}"
            );
        }
        for (name, help, v) in gauges {
            let _ = writeln!(
                out,
                "# HELP diming_{name} {help}\n# TYPE diming_{name} gauge\ndiming_{name} {v}"
            );
        }
        out
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
