//! The control socket: `cthelperd status` and `cthelperd reload` ask the
//! running daemon over a unix stream socket (default
//! [`DEFAULT_SOCKET`], mode 0600, so root only; the peer's uid is checked
//! too).
//!
//! Protocol: the client sends one line, `status` or `reload`; the daemon
//! answers one line of JSON, a [`Reply`], and closes. The daemon side is a
//! [`Handler`] (the daemon's, or a test's with fake metrics); it serves
//! on its own thread ([`serve`]).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where the daemon listens unless told otherwise (`--control`).
pub const DEFAULT_SOCKET: &str = "/run/cthelperd/control";

/// One helper's counters, as `cthelperd status` shows them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HelperStatus {
    pub name: String,
    /// Packets read from the queues.
    pub packets: u64,
    /// Verdicts sent for its packets: accept and drop.
    pub accepted: u64,
    pub dropped: u64,
    /// Packets whose payload was rewritten.
    pub edits: u64,
    /// Expectations created over ctnetlink.
    pub expectations_created: u64,
    /// Expectations carried in a verdict (NFQA_EXP).
    pub expectations_in_verdict: u64,
    /// Expectations the kernel refused (no policy, another class's).
    pub expectations_refused: u64,
    /// Expectations that failed: a clash or a full table.
    pub expectations_failed: u64,
    /// Payload bytes held now (messages split over segments).
    pub bytes_held: u64,
    /// Messages that did not parse or were cut short.
    pub parse_failures: u64,
}

/// One queue as the kernel's /proc/net/netfilter/nfnetlink_queue shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueStatus {
    pub queue: u16,
    /// The netlink port id bound to it (0: nobody).
    pub portid: u32,
    /// Packets waiting for a verdict now.
    pub waiting: u64,
    /// Packets the kernel dropped because the queue was full (without
    /// fail-open; with it, as cthelperd binds its queues, they pass and the
    /// kernel counts nothing).
    pub dropped: u64,
    /// Packets the kernel could not hand to the socket (its buffer full):
    /// accepted unchanged (fail-open).
    pub user_dropped: u64,
    /// The last packet id.
    pub id_sequence: u64,
}

/// What `cthelperd status` prints.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub pid: u32,
    pub version: String,
    pub uptime_s: u64,
    /// The configuration file (none: the built-in defaults).
    pub config: Option<String>,
    /// Seconds since the file was last modified.
    pub config_age_s: Option<u64>,
    /// Seconds since the configuration was (re)loaded.
    pub config_loaded_s: u64,
    pub reloads: u64,
    pub helpers: Vec<HelperStatus>,
    pub queues: Vec<QueueStatus>,
    /// Daemon-side errors (packets let through unchanged), by reason.
    pub errors: BTreeMap<String, u64>,
}

/// The daemon's one-line answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// What a reload did, or why a request failed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// What the daemon does for a request.
pub trait Handler: Send + Sync {
    fn status(&self) -> Status;
    /// Re-reads the configuration: what changed, or the one line naming
    /// why nothing did.
    fn reload(&self) -> Result<String, String>;
}

/// Binds `path` (mode 0600; a stale socket of a daemon that is gone is
/// replaced, a live one is not) and serves it on a thread of its own.
pub fn serve(path: &Path, handler: Arc<dyn Handler>) -> io::Result<()> {
    if UnixStream::connect(path).is_ok() {
        return Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("{} is served by another cthelperd", path.display()),
        ));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // Bind under a temporary name, restrict it, then move it in place: the
    // socket is never reachable with the umask's mode.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let l = UnixListener::bind(&tmp)?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    std::fs::rename(&tmp, path)?;
    std::thread::Builder::new()
        .name("control".into())
        .spawn(move || {
            for c in l.incoming() {
                let Ok(c) = c else { continue };
                let _ = answer(c, handler.as_ref());
            }
        })?;
    Ok(())
}

/// The peer's uid (SO_PEERCRED).
fn peer_uid(s: &UnixStream) -> Option<u32> {
    use std::os::fd::AsRawFd;
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: a valid socket, an out buffer of the size given.
    let r = unsafe {
        libc::getsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    (r == 0).then_some(cred.uid)
}

fn answer(c: UnixStream, h: &dyn Handler) -> io::Result<()> {
    c.set_read_timeout(Some(Duration::from_secs(2)))?;
    c.set_write_timeout(Some(Duration::from_secs(2)))?;
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    let reply = match peer_uid(&c) {
        Some(u) if u == 0 || u == me => {
            let mut line = String::new();
            BufReader::new(io::Read::take(&c, 256)).read_line(&mut line)?;
            match line.trim() {
                "status" => Reply {
                    ok: true,
                    status: Some(h.status()),
                    message: String::new(),
                },
                "reload" => match h.reload() {
                    Ok(m) => Reply {
                        ok: true,
                        status: None,
                        message: m,
                    },
                    Err(m) => Reply {
                        ok: false,
                        status: None,
                        message: m,
                    },
                },
                other => Reply {
                    ok: false,
                    status: None,
                    message: format!("unknown request {other:?} (status, reload)"),
                },
            }
        }
        _ => Reply {
            ok: false,
            status: None,
            message: "permission denied: root only".into(),
        },
    };
    let mut out = serde_json::to_string(&reply).map_err(io::Error::other)?;
    out.push('\n');
    (&c).write_all(out.as_bytes())
}

/// Why a request got no answer.
#[derive(Debug)]
pub enum ClientError {
    /// No daemon listens there.
    NotRunning(PathBuf),
    Io(PathBuf, io::Error),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::NotRunning(p) => {
                write!(f, "cthelperd is not running (no daemon at {})", p.display())
            }
            ClientError::Io(p, e) => write!(f, "talking to cthelperd at {}: {e}", p.display()),
        }
    }
}
impl std::error::Error for ClientError {}

/// Sends `request` to the daemon at `path` and reads its reply.
pub fn request(path: &Path, request: &str) -> Result<Reply, ClientError> {
    let io = |e| ClientError::Io(path.to_path_buf(), e);
    let c = match UnixStream::connect(path) {
        Ok(c) => c,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Err(ClientError::NotRunning(path.to_path_buf()))
        }
        Err(e) => return Err(io(e)),
    };
    // A reload re-registers helpers and may load a ruleset: give it time.
    c.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(io)?;
    (&c).write_all(format!("{request}\n").as_bytes())
        .map_err(io)?;
    let mut line = String::new();
    BufReader::new(&c).read_line(&mut line).map_err(io)?;
    serde_json::from_str(&line).map_err(|e| io(io::Error::other(format!("bad reply: {e}"))))
}

/// One sample of the OpenMetrics text: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// Parses the text the metrics endpoint serves (ours: no escapes in label
/// values, which are helper names and reasons).
pub fn parse_metrics(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let Some((head, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let (name, labels) = match head.split_once('{') {
            Some((n, rest)) => {
                let mut m = BTreeMap::new();
                for kv in rest.trim_end_matches('}').split(',') {
                    if let Some((k, v)) = kv.split_once('=') {
                        m.insert(k.to_string(), v.trim_matches('"').to_string());
                    }
                }
                (n, m)
            }
            None => (head, BTreeMap::new()),
        };
        out.push((name.to_string(), labels, value));
    }
    out
}

/// The per-helper counters out of the metrics text, for `helpers` (in
/// that order; a helper with no sample yet shows zeros).
pub fn helper_status(text: &str, helpers: &[&str]) -> (Vec<HelperStatus>, BTreeMap<String, u64>) {
    let mut hs: Vec<HelperStatus> = helpers
        .iter()
        .map(|n| HelperStatus {
            name: n.to_string(),
            ..Default::default()
        })
        .collect();
    let mut errors = BTreeMap::new();
    for (name, l, v) in parse_metrics(text) {
        let v = v.max(0.0) as u64;
        let get = |k: &str| l.get(k).map(String::as_str).unwrap_or("");
        if name == "cthelperd_errors_total" {
            *errors.entry(get("reason").to_string()).or_insert(0) += v;
            continue;
        }
        let Some(h) = hs.iter_mut().find(|h| h.name == get("helper")) else {
            continue;
        };
        match name.as_str() {
            "cthelperd_packets_total" => h.packets += v,
            "cthelperd_helper_verdicts_total" => match get("verdict") {
                "drop" => h.dropped += v,
                _ => h.accepted += v,
            },
            "cthelperd_edits_total" => h.edits += v,
            "cthelperd_expectations_total" => match get("result") {
                "created" => h.expectations_created += v,
                "sent" => h.expectations_in_verdict += v,
                "refused" => h.expectations_refused += v,
                _ => h.expectations_failed += v,
            },
            "cthelperd_held_bytes" => h.bytes_held += v,
            "cthelperd_events_total" => {
                if matches!(get("reason"), "malformed" | "truncated") {
                    h.parse_failures += v;
                }
            }
            _ => {}
        }
    }
    (hs, errors)
}

/// Parses /proc/net/netfilter/nfnetlink_queue (one line per bound queue:
/// number, port id, waiting, copy mode, copy range, dropped, user dropped,
/// id sequence, 1).
pub fn parse_proc_queues(text: &str) -> Vec<QueueStatus> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<u64> = l
                .split_whitespace()
                .map(str::parse)
                .collect::<Result<_, _>>()
                .ok()?;
            let g = |i: usize| f.get(i).copied();
            Some(QueueStatus {
                queue: u16::try_from(g(0)?).ok()?,
                portid: u32::try_from(g(1)?).ok()?,
                waiting: g(2)?,
                dropped: g(5)?,
                user_dropped: g(6)?,
                id_sequence: g(7)?,
            })
        })
        .collect()
}

/// The queues `ours` as the kernel shows them (an unbound one: zeros).
pub fn queue_status(proc_text: &str, ours: &[u16]) -> Vec<QueueStatus> {
    let all = parse_proc_queues(proc_text);
    ours.iter()
        .map(|&q| {
            all.iter()
                .find(|s| s.queue == q)
                .cloned()
                .unwrap_or(QueueStatus {
                    queue: q,
                    ..Default::default()
                })
        })
        .collect()
}

/// Seconds since `path` was modified.
pub fn file_age(path: &Path) -> Option<u64> {
    let m = std::fs::metadata(path).ok()?.modified().ok()?;
    Some(m.elapsed().map(|d| d.as_secs()).unwrap_or(0))
}

fn dur(s: u64) -> String {
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m{}s", s / 60, s % 60),
        7200..=172_799 => format!("{}h{}m", s / 3600, s / 60 % 60),
        _ => format!("{}d{}h", s / 86400, s / 3600 % 24),
    }
}

/// The human-readable form of a status.
pub fn render_text(s: &Status) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "cthelperd {} (pid {}) up {}",
        s.version,
        s.pid,
        dur(s.uptime_s)
    );
    let _ = match (&s.config, s.config_age_s) {
        (Some(c), Some(a)) => writeln!(
            o,
            "configuration {c} (modified {} ago, loaded {} ago, {} reloads)",
            dur(a),
            dur(s.config_loaded_s),
            s.reloads
        ),
        (Some(c), None) => writeln!(o, "configuration {c} (cannot be read now)"),
        (None, _) => writeln!(o, "configuration: built-in defaults"),
    };
    let _ = writeln!(
        o,
        "{:<10} {:>9} {:>9} {:>7} {:>7} {:>8} {:>8} {:>8} {:>7} {:>6} {:>6}",
        "helper",
        "packets",
        "accepted",
        "dropped",
        "edits",
        "exp-made",
        "exp-verd",
        "exp-refd",
        "exp-err",
        "held",
        "parse"
    );
    for h in &s.helpers {
        let _ = writeln!(
            o,
            "{:<10} {:>9} {:>9} {:>7} {:>7} {:>8} {:>8} {:>8} {:>7} {:>6} {:>6}",
            h.name,
            h.packets,
            h.accepted,
            h.dropped,
            h.edits,
            h.expectations_created,
            h.expectations_in_verdict,
            h.expectations_refused,
            h.expectations_failed,
            h.bytes_held,
            h.parse_failures
        );
    }
    let _ = writeln!(
        o,
        "{:<10} {:>9} {:>9} {:>9} {:>12} {:>12}",
        "queue", "portid", "waiting", "dropped", "user-dropped", "id-sequence"
    );
    for q in &s.queues {
        let _ = writeln!(
            o,
            "{:<10} {:>9} {:>9} {:>9} {:>12} {:>12}",
            q.queue, q.portid, q.waiting, q.dropped, q.user_dropped, q.id_sequence
        );
    }
    if !s.errors.is_empty() {
        let e: Vec<String> = s.errors.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(o, "passed unchanged on errors: {}", e.join(", "));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_queues() {
        let t = "    0  12345     2 2 65531     3     4     1000  1\n    4      0     0 2 65531     0     0        7  1\n";
        let q = queue_status(t, &[4, 0, 9]);
        assert_eq!(q.len(), 3);
        assert_eq!((q[0].queue, q[0].portid, q[0].id_sequence), (4, 0, 7));
        assert_eq!(
            (
                q[1].waiting,
                q[1].dropped,
                q[1].user_dropped,
                q[1].id_sequence
            ),
            (2, 3, 4, 1000)
        );
        assert_eq!(
            q[2],
            QueueStatus {
                queue: 9,
                ..Default::default()
            }
        );
    }

    #[test]
    fn counters_by_helper() {
        let t = "# HELP x\ncthelperd_packets_total{helper=\"ftp\"} 7\n\
cthelperd_helper_verdicts_total{helper=\"ftp\",verdict=\"accept\"} 6\n\
cthelperd_helper_verdicts_total{helper=\"ftp\",verdict=\"drop\"} 1\n\
cthelperd_expectations_total{helper=\"ftp\",path=\"ctnetlink\",result=\"clash\"} 2\n\
cthelperd_expectations_total{helper=\"ftp\",path=\"ctnetlink\",result=\"full\"} 1\n\
cthelperd_expectations_total{helper=\"sip\",path=\"ctnetlink\",result=\"created\"} 5\n\
cthelperd_events_total{helper=\"sip\",reason=\"malformed\"} 3\n\
cthelperd_events_total{helper=\"sip\",reason=\"bounce\"} 9\n\
cthelperd_held_bytes{helper=\"sip\",queue=\"1\"} 100\n\
cthelperd_held_bytes{helper=\"sip\",queue=\"5\"} 20\n\
cthelperd_errors_total{reason=\"no_helper\"} 4\n";
        let (h, e) = helper_status(t, &["ftp", "sip", "tftp"]);
        assert_eq!((h[0].packets, h[0].accepted, h[0].dropped), (7, 6, 1));
        assert_eq!(h[0].expectations_failed, 3);
        assert_eq!(h[1].expectations_created, 5);
        assert_eq!((h[1].parse_failures, h[1].bytes_held), (3, 120));
        assert_eq!(
            h[2],
            HelperStatus {
                name: "tftp".into(),
                ..Default::default()
            }
        );
        assert_eq!(e.get("no_helper"), Some(&4));
    }
}
