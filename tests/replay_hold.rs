//! Holding the unfinished tail of a message (`Outcome::incomplete`: bounded,
//! in order only) and picking up a connection in the middle.

mod support;

use serde_json::Value;
use support::{replay, Capture, Link, Tcp};

fn run(cap: &Capture) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.pcap");
    std::fs::write(&p, cap.pcap()).unwrap();
    let (ok, out, err) = replay(&[p.to_str().unwrap(), "--format", "json"]);
    assert!(ok, "{err}");
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn events(recs: &[Value]) -> Vec<String> {
    recs.iter()
        .flat_map(|r| r["events"].as_array().cloned().unwrap_or_default())
        .map(|e| e["reason"].as_str().unwrap_or("").to_string())
        .collect()
}

fn expectations(recs: &[Value]) -> usize {
    recs.iter()
        .map(|r| r["expectations"].as_array().map_or(0, Vec::len))
        .sum()
}

fn session() -> (Capture, Tcp) {
    let mut cap = Capture::new(Link::Raw);
    let mut c = Tcp::new(("10.0.0.5", 40000), ("198.51.100.1", 21), 100, 900);
    c.handshake(&mut cap);
    c.s2c(&mut cap, b"220 Welcome\r\n");
    (cap, c)
}

#[test]
fn joins_a_split_command() {
    let (mut cap, mut c) = session();
    for part in [&b"PORT 10,0"[..], b",0,5,1", b"9,137\r\n"] {
        c.c2s_noack(&mut cap, part);
    }
    let recs = run(&cap);
    assert_eq!(recs.len(), 1, "{recs:?}");
    assert_eq!(recs[0]["segments"], serde_json::json!([6, 7, 8]));
    assert_eq!(recs[0]["expectations"][0]["dport"], 5001);
}

#[test]
fn bounded_hold_lets_the_segments_pass() {
    let (mut cap, mut c) = session();
    // 22 one-byte segments: more than the 16 held per flow direction.
    let cmd = b"PORT 10,0,0,5,19,137\r\n";
    for part in cmd.chunks(1) {
        c.c2s_noack(&mut cap, part);
    }
    let recs = run(&cap);
    let ov: Vec<&Value> = recs
        .iter()
        .filter(|r| r["events"].to_string().contains("hold_overflow"))
        .collect();
    assert_eq!(ov.len(), 1, "{recs:?}");
    assert_eq!(ov[0]["segments"].as_array().unwrap().len(), 16);
    assert_eq!(expectations(&recs), 0, "{recs:?}");
}

#[test]
fn out_of_order_segment_releases_the_held_ones() {
    let (mut cap, mut c) = session();
    c.c2s_noack(&mut cap, b"PORT 10,0,0,");
    // A segment of the same direction that is not the next one (a gap).
    c.cseq = c.cseq.wrapping_add(5);
    c.c2s_noack(&mut cap, b"5,19,137\r\n");
    let recs = run(&cap);
    assert!(
        events(&recs).contains(&"hold_out_of_order".to_string()),
        "{recs:?}"
    );
    assert_eq!(expectations(&recs), 0);
}

#[test]
fn picks_up_a_connection_in_the_middle() {
    // No handshake, the first packet comes from the server's port 21.
    let mut cap = Capture::new(Link::Raw);
    let mut c = Tcp::new(("10.0.0.5", 40000), ("198.51.100.1", 21), 100, 900);
    c.s2c(
        &mut cap,
        b"227 Entering Passive Mode (198,51,100,1,117,48)\r\n",
    );
    let mut d = Tcp::new(("10.0.0.5", 40001), ("198.51.100.1", 30000), 1, 1);
    d.handshake(&mut cap);
    let recs = run(&cap);
    assert_eq!(recs.len(), 2, "{recs:?}");
    assert_eq!(recs[0]["dir"], "reply");
    assert_eq!(recs[0]["flow"], "tcp 10.0.0.5:40000 -> 198.51.100.1:21");
    assert_eq!(recs[1]["type"], "related");
    assert_eq!(recs[1]["flow"], "tcp 10.0.0.5:40001 -> 198.51.100.1:30000");
}

#[test]
fn expectations_time_out() {
    let (mut cap, mut c) = session();
    c.c2s(&mut cap, b"PORT 10,0,0,5,19,137\r\n");
    // The policy timeout (300 s) passes before the data connection.
    for _ in 0..30_001 {
        cap.tick();
    }
    let mut d = Tcp::new(("198.51.100.1", 20), ("10.0.0.5", 5001), 1, 1);
    d.handshake(&mut cap);
    let recs = run(&cap);
    assert_eq!(expectations(&recs), 1);
    assert!(recs.iter().all(|r| r["type"] != "related"), "{recs:?}");
}

#[test]
fn retransmission_of_held_data_is_dropped() {
    let (mut cap, mut c) = session();
    let seq = c.cseq;
    c.c2s_noack(&mut cap, b"PORT 10,0");
    // The sender's RTO fires: the held segment again, then the rest.
    c.cseq = seq;
    c.c2s_noack(&mut cap, b"PORT 10,0");
    c.c2s_noack(&mut cap, b",0,5,19,137\r\n");
    let recs = run(&cap);
    assert!(
        !events(&recs).contains(&"hold_out_of_order".to_string()),
        "{recs:?}"
    );
    // The copy is dropped (and says so); the held original goes on with
    // the rest.
    assert_eq!(recs.len(), 2, "{recs:?}");
    assert_eq!(recs[0]["packet"], 7);
    assert_eq!(recs[0]["drop"], true);
    assert_eq!(events(&recs[..1]), ["hold_retransmission"]);
    assert_eq!(recs[1]["segments"], serde_json::json!([6, 8]));
    assert_eq!(expectations(&recs), 1, "{recs:?}");
}

#[test]
fn holds_of_all_flows_are_bounded_together() {
    // hold_bytes = 10: one core holds at most 64 × 10 = 640 bytes over all
    // flows. 80 flows each leave 9 bytes of a PORT command unfinished: 71
    // of them fit (639 bytes), the other 9 pass as they are.
    let mut cap = Capture::new(Link::Raw);
    for i in 0..80u16 {
        let mut c = Tcp::new(("10.0.0.5", 40000 + i), ("198.51.100.1", 21), 100, 900);
        c.handshake(&mut cap);
        c.s2c(&mut cap, b"220 Welcome\r\n");
        c.c2s_noack(&mut cap, b"PORT 10,0");
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.pcap");
    std::fs::write(&p, cap.pcap()).unwrap();
    let conf = dir.path().join("c.toml");
    std::fs::write(&conf, "[daemon]\nhold_bytes = 10\nhold_ms = 600000\n").unwrap();
    let (ok, out, err) = replay(&[
        p.to_str().unwrap(),
        "--format",
        "json",
        "--config",
        conf.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let recs: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ov = events(&recs)
        .iter()
        .filter(|e| *e == "hold_overflow")
        .count();
    assert_eq!(ov, 9, "{recs:?}");
}
