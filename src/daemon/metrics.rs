//! Counters (prometheus-client) and a tiny HTTP endpoint for /metrics.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

type Labels = Vec<(&'static str, String)>;

/// All counters of the kernel path.
pub struct Metrics {
    registry: Registry,
    /// Queued packets, by helper.
    pub packets: Family<Labels, Counter>,
    /// Verdicts sent, by verdict (accept/drop) and kind (plain/edited).
    pub verdicts: Family<Labels, Counter>,
    /// Packets whose payload was rewritten, by helper.
    pub edits: Family<Labels, Counter>,
    /// Expectations created, by helper and path (nfqa_exp/ctnetlink) or
    /// refused (result).
    pub expectations: Family<Labels, Counter>,
    /// Helper events (Outcome.events), by helper and reason.
    pub events: Family<Labels, Counter>,
    /// Daemon-side errors (packet accepted unchanged), by reason.
    pub errors: Family<Labels, Counter>,
    /// Verdicts sent for a helper's packets, by helper and verdict
    /// (`cthelperd status`).
    pub helper_verdicts: Family<Labels, Counter>,
    /// Payload bytes held now, by helper and queue.
    pub held_bytes: Family<Labels, Gauge>,
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("cthelperd");
        let m = |r: &mut Registry, name: &str, help: &str| {
            let f = Family::<Labels, Counter>::default();
            r.register(name, help, f.clone());
            f
        };
        let packets = m(&mut registry, "packets", "Packets read from the queues");
        let verdicts = m(&mut registry, "verdicts", "Verdicts sent");
        let edits = m(
            &mut registry,
            "edits",
            "Packets whose payload was rewritten",
        );
        let expectations = m(
            &mut registry,
            "expectations",
            "Expectations by path and result",
        );
        let events = m(&mut registry, "events", "Helper events by reason");
        let errors = m(
            &mut registry,
            "errors",
            "Packets let through unchanged because of an error, by reason",
        );
        let helper_verdicts = m(
            &mut registry,
            "helper_verdicts",
            "Verdicts sent for a helper's packets",
        );
        let held_bytes = Family::<Labels, Gauge>::default();
        registry.register(
            "held_bytes",
            "Payload bytes held (messages split over segments)",
            held_bytes.clone(),
        );
        Arc::new(Metrics {
            registry,
            helper_verdicts,
            held_bytes,
            packets,
            verdicts,
            edits,
            expectations,
            events,
            errors,
        })
    }

    pub fn inc(f: &Family<Labels, Counter>, labels: &[(&'static str, &str)]) {
        let l: Labels = labels.iter().map(|(k, v)| (*k, v.to_string())).collect();
        f.get_or_create(&l).inc();
    }

    /// The counter of `f` with `labels`, to keep and increment without a
    /// lookup (a clone shares the value).
    pub fn handle(f: &Family<Labels, Counter>, labels: &[(&'static str, &str)]) -> Counter {
        let l: Labels = labels.iter().map(|(k, v)| (*k, v.to_string())).collect();
        f.get_or_create(&l).clone()
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = encode(&mut s, &self.registry);
        s
    }
}

/// Serves `GET /metrics` on `addr` from a background thread.
pub fn serve(addr: &str, metrics: Arc<Metrics>) -> std::io::Result<()> {
    let l = TcpListener::bind(addr)?;
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            for conn in l.incoming() {
                let Ok(mut c) = conn else { continue };
                let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
                let _ = c.set_write_timeout(Some(Duration::from_secs(2)));
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while req.len() < 8192 && !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match c.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let resp = if req.starts_with(b"GET /metrics ") || req.starts_with(b"GET /metrics?")
                {
                    let body = metrics.render();
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                } else {
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_string()
                };
                let _ = c.write_all(resp.as_bytes());
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_counters() {
        let m = Metrics::new();
        Metrics::inc(&m.events, &[("helper", "ftp"), ("reason", "bounce")]);
        Metrics::inc(&m.events, &[("helper", "ftp"), ("reason", "bounce")]);
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        drop(l);
        serve(&addr, m.clone()).unwrap();
        let mut c = std::net::TcpStream::connect(&addr).unwrap();
        c.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut out = String::new();
        c.read_to_string(&mut out).unwrap();
        assert!(out.starts_with("HTTP/1.1 200 OK"), "{out}");
        assert!(
            out.contains("cthelperd_events_total{helper=\"ftp\",reason=\"bounce\"} 2"),
            "{out}"
        );
    }
}
