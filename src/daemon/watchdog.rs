//! The systemd watchdog (WatchdogSec= in the unit): WATCHDOG=1 only while
//! every queue loop goes round.
//!
//! Each worker bumps its beat once per loop: after a packet, and after
//! each receive timeout (50 ms) when idle — so an idle queue beats too. A
//! thread looks at the beats every half watchdog interval and pings only if
//! every beat moved since its last look; a loop stuck in a helper or in a
//! send stops the pings, and systemd restarts the daemon (the kernel fails
//! the queue open meanwhile).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::warn;

/// The beats of the queue loops.
#[derive(Default)]
pub struct Beats {
    beats: Mutex<Vec<(u16, Arc<AtomicU64>)>>,
}

impl Beats {
    /// A new loop's beat.
    pub fn add(&self, queue: u16) -> Arc<AtomicU64> {
        let b = Arc::new(AtomicU64::new(0));
        if let Ok(mut v) = self.beats.lock() {
            v.push((queue, b.clone()));
        }
        b
    }

    /// The beats now.
    fn snapshot(&self) -> Vec<(u16, u64)> {
        self.beats
            .lock()
            .map(|v| {
                v.iter()
                    .map(|(q, b)| (*q, b.load(Ordering::Relaxed)))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Whether every loop moved from `before` to `now`; else the queues that
/// did not (a loop that is new in `now` counts as moved).
pub fn stuck(before: &[(u16, u64)], now: &[(u16, u64)]) -> Vec<u16> {
    let mut out = Vec::new();
    for (i, (q, b)) in now.iter().enumerate() {
        if before.get(i).is_some_and(|(_, a)| a == b) {
            out.push(*q);
        }
    }
    out
}

/// Starts the pinging thread if systemd asked for a watchdog.
pub fn start(beats: Arc<Beats>) {
    let Some(interval) = sd_notify::watchdog_enabled() else {
        return;
    };
    let every = (interval / 2).max(Duration::from_millis(200));
    let _ = std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || {
            let mut before = beats.snapshot();
            let mut warned = false;
            loop {
                std::thread::sleep(every);
                let now = beats.snapshot();
                let s = stuck(&before, &now);
                if s.is_empty() {
                    let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
                    warned = false;
                } else if !warned {
                    warn!(
                        "queue loop(s) {s:?} made no progress for {every:?}: no watchdog ping (systemd restarts cthelperd after WatchdogSec)"
                    );
                    warned = true;
                }
                before = now;
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stuck_loop_stops_the_pings() {
        let b = Beats::default();
        let q0 = b.add(0);
        let q1 = b.add(1);
        let s0 = b.snapshot();
        q0.fetch_add(1, Ordering::Relaxed);
        q1.fetch_add(3, Ordering::Relaxed);
        let s1 = b.snapshot();
        assert!(stuck(&s0, &s1).is_empty());
        q0.fetch_add(1, Ordering::Relaxed);
        let s2 = b.snapshot();
        assert_eq!(stuck(&s1, &s2), vec![1]);
        // A loop a reload started after the last look counts as moving.
        let _q2 = b.add(2);
        q0.fetch_add(1, Ordering::Relaxed);
        q1.fetch_add(1, Ordering::Relaxed);
        assert!(stuck(&s2, &b.snapshot()).is_empty());
    }
}
