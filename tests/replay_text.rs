//! What replay tells a person: the text reads like the wire (each packet
//! the way it travels, classes by name, what the helper saw, counts that
//! agree with their nouns), and the closing warnings: NAT rules that matched
//! nothing, payloads that contradict the NAT given, frames of a link type
//! replay cannot read.

mod support;

use serde_json::Value;
use support::{fixtures_dir, replay, Capture, Link, Tcp};

fn fixture(name: &str) -> String {
    fixtures_dir().join(name).to_str().unwrap().to_string()
}

fn json(args: &[&str]) -> Vec<Value> {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    let (ok, out, err) = replay(&a);
    assert!(ok, "{err}");
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn text(args: &[&str]) -> (String, String) {
    let (ok, out, err) = replay(args);
    assert!(ok, "{err}");
    (out, err)
}

/// `udp 10.0.0.5:5060 -> 198.51.100.10:5060` as endpoints only.
fn endpoints(t: &str) -> &str {
    t.split_once(' ').unwrap().1
}

/// The reversed tuple (`a -> b` → `b -> a`, protocol kept).
fn reversed(t: &str) -> String {
    let (proto, rest) = t.split_once(' ').unwrap();
    let (a, b) = rest.split_once(" -> ").unwrap();
    format!("{proto} {b} -> {a}")
}

/// Every packet's header names it the way it travels: its own source and
/// destination as it arrives (a reply from the server is `server ->
/// client`, not the flow's original tuple), "(reply)" for the reply
/// direction, and where NAT changes it, how it leaves.
#[test]
fn headers_show_the_way_a_packet_travels() {
    for (cap, nat) in [
        ("sip-call-v4.pcap", ["--snat", "10.0.0.0/24=203.0.113.1"]),
        (
            "ftp-passive-v4.pcapng",
            ["--dnat", "203.0.113.1:21=10.0.1.2:21"],
        ),
    ] {
        let args = [fixture(cap), nat[0].into(), nat[1].into()];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let recs = json(&args);
        let (out, _) = text(&args);
        let mut replies = 0;
        for r in recs.iter().filter(|r| r["type"] == "helper") {
            let (flow, reply) = (r["flow"].as_str().unwrap(), r["reply"].as_str().unwrap());
            let (arrives, leaves) = if r["dir"] == "reply" {
                replies += 1;
                (format!("{reply} (reply)"), reversed(flow))
            } else {
                (flow.to_string(), reversed(reply))
            };
            let head = format!(
                "#{} {} {arrives}, leaves as {}\n",
                r["packet"],
                r["helper"].as_str().unwrap(),
                endpoints(&leaves)
            );
            assert!(out.contains(&head), "{cap}: no {head:?} in\n{out}");
        }
        assert!(replies > 0, "{cap}: no reply-direction record");
        assert!(
            !out.contains("[reply]") && !out.contains("[original]"),
            "{out}"
        );
        for r in recs.iter().filter(|r| r["type"] == "related") {
            let head = format!(
                "#{} related {}, leaves as {}, expected by #{}",
                r["packet"],
                r["flow"].as_str().unwrap(),
                endpoints(&reversed(r["reply"].as_str().unwrap())),
                r["expected_by"]
            );
            assert!(out.contains(&head), "{cap}: no {head:?} in\n{out}");
        }
    }
    // Without NAT a packet leaves as it arrives: nothing to add.
    let (out, _) = text(&[&fixture("ftp-active-v4.pcap")]);
    assert!(
        out.contains("#14 ftp tcp 10.0.0.5:40000 -> 198.51.100.1:21\n"),
        "{out}"
    );
    assert!(!out.contains("leaves as"), "{out}");
}

/// Classes by name, as `cthelperd helpers` prints them: `class_name` beside
/// the number in JSON, the name in the text.
#[test]
fn classes_by_name() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cthelperd"))
        .arg("helpers")
        .output()
        .unwrap();
    let listing = String::from_utf8(out.stdout).unwrap();
    // "sip (enabled) — …" then "  policy 1 audio: …"
    let mut names = std::collections::HashMap::new();
    let mut helper = String::new();
    for l in listing.lines() {
        if !l.starts_with(' ') {
            helper = l.split(' ').next().unwrap().to_string();
        } else if let Some(p) = l.trim().strip_prefix("policy ") {
            let (n, rest) = p.split_once(' ').unwrap();
            let name = rest.split(':').next().unwrap();
            names.insert(
                (helper.clone(), n.parse::<u64>().unwrap()),
                name.to_string(),
            );
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for cap in [
        "sip-call-v4.pcap",
        "sip-five-media.pcapng",
        "sip-register.pcap",
    ] {
        let recs = json(&[&fixture(cap)]);
        let (out, _) = text(&[&fixture(cap)]);
        for r in recs.iter().filter(|r| r["type"] == "helper") {
            for e in r["expectations"].as_array().unwrap() {
                let want = &names[&("sip".to_string(), e["class"].as_u64().unwrap())];
                assert_eq!(e["class_name"], want.as_str(), "{e}");
                seen.insert(want.clone());
                let line = format!(
                    " -> {}:{} class {want}",
                    e["dst"].as_str().unwrap(),
                    e["dport"]
                );
                assert!(out.contains(&line), "{cap}: no {line:?} in\n{out}");
            }
        }
        assert!(!out.contains(" class 1 "), "{out}");
    }
    for c in ["signalling", "audio", "video", "image"] {
        assert!(
            seen.contains(c),
            "no {c} expectation in the SIP fixtures: {seen:?}"
        );
    }
}

/// An expectation made without an edit (no NAT) still says what caused it:
/// the first line of what the helper saw.
#[test]
fn what_the_helper_saw() {
    let recs = json(&[&fixture("ftp-active-v4.pcap")]);
    let port = recs.iter().find(|r| r["packet"] == 14).unwrap();
    assert!(port["edits"].as_array().unwrap().is_empty());
    assert_eq!(port["expectations"].as_array().unwrap().len(), 1);
    assert_eq!(port["what"], "PORT 10,0,0,5,19,137");
    let (out, _) = text(&[&fixture("ftp-active-v4.pcap")]);
    assert!(
        out.contains("#14 ftp tcp 10.0.0.5:40000 -> 198.51.100.1:21\n  saw \"PORT 10,0,0,5,19,137\"\n  expect "),
        "{out}"
    );
    // Joined segments: the message's first line, from the first segment on.
    let recs = json(&[&fixture("ftp-port-split.pcap")]);
    let r = recs.iter().find(|r| r["segments"].is_array()).unwrap();
    assert_eq!(r["what"], "PORT 10,0,0,6,19,140");
    // A binary message (TFTP's opcode first) has no line to show: no `what`, no `saw`; the
    // expectation still shows.
    let recs = json(&[&fixture("tftp-rrq-v4.pcap")]);
    assert!(
        recs[0].get("what").is_none_or(|w| w.is_null()),
        "{:?}",
        recs[0]
    );
    assert_eq!(recs[0]["expectations"].as_array().unwrap().len(), 1);
    let (out, _) = text(&[&fixture("tftp-rrq-v4.pcap")]);
    assert!(!out.contains("  saw "), "{out}");
    assert!(out.contains("  expect "), "{out}");
}

/// Counts agree with their nouns: the summary's and the events'.
#[test]
fn plural_agreement() {
    let (_, err) = text(&[
        &fixture("ftp-active-v4.pcap"),
        "--snat",
        "10.0.0.0/24=203.0.113.1",
    ]);
    let summary = err.lines().last().unwrap();
    for s in [
        "2 flows,",
        "1 helped flow,",
        "1 related flow,",
        "1 edit,",
        "1 expectation,",
        "0 held segments,",
    ] {
        assert!(summary.contains(s), "{s:?} not in {summary}");
    }
    // One held segment released at the end of the capture.
    let mut cap = Capture::new(Link::Raw);
    let mut c = Tcp::new(("10.0.0.5", 40000), ("198.51.100.1", 21), 100, 900);
    c.handshake(&mut cap);
    c.c2s_noack(&mut cap, b"PORT 10,0");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.pcap");
    std::fs::write(&p, cap.pcap()).unwrap();
    let recs = json(&[p.to_str().unwrap()]);
    let detail = recs[0]["events"][0]["detail"].as_str().unwrap();
    assert_eq!(recs[0]["events"][0]["reason"], "hold_end");
    assert!(detail.starts_with("1 held segment goes on"), "{detail}");
    let (_, err) = text(&[p.to_str().unwrap()]);
    assert!(
        err.contains("4 packets (0 not TCP/UDP/GRE), 1 flow, 1 helped flow,"),
        "{err}"
    );
    assert!(err.contains(", 1 held segment,"), "{err}");
}

/// A capture of a link type replay cannot read: a warning and a count in
/// the summary, not silence.
#[test]
fn unsupported_link_type_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    // Classic pcap, link type 147 (USER0), three records.
    let mut v = Vec::new();
    for x in [0xA1B2_C3D4u32, 0x0004_0002, 0, 0, 65535, 147] {
        v.extend_from_slice(&x.to_le_bytes());
    }
    for i in 0..3u32 {
        let data = [0xAB; 20];
        for x in [1_700_000_000 + i, 0, 20, 20] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        v.extend_from_slice(&data);
    }
    let p = dir.path().join("user0.pcap");
    std::fs::write(&p, &v).unwrap();
    let (ok, out, err) = replay(&[p.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert_eq!(out, "");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0]
            .starts_with("replay: warning: 3 frames of link type 147 (a user-defined DLT) skipped"),
        "{err}"
    );
    assert!(
        lines[1].starts_with(
            "replay: 3 packets (0 not TCP/UDP/GRE, 3 of an unsupported link type), 0 flows,"
        ),
        "{err}"
    );
    // A readable capture says nothing of the kind.
    let (_, err) = text(&[&fixture("ftp-active-v4.pcap")]);
    assert!(
        !err.contains("warning") && !err.contains("unsupported"),
        "{err}"
    );
}

/// `--snat`/`--dnat` rules that matched no flow get a closing warning each.
#[test]
fn nat_that_matched_nothing() {
    let (out, err) = text(&[
        &fixture("ftp-active-v4.pcap"),
        "--snat",
        "192.168.0.0/16=203.0.113.1",
        "--dnat",
        "203.0.113.9:21=10.0.1.2:21",
    ]);
    assert!(!out.contains("leaves as"), "{out}");
    let w: Vec<&str> = err.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(w.len(), 2, "{err}");
    assert!(
        w[0].starts_with("replay: warning: --snat 192.168.0.0/16=203.0.113.1 matched no flow"),
        "{err}"
    );
    assert!(
        w[1].starts_with("replay: warning: --dnat 203.0.113.9:21=10.0.1.2:21 matched no flow"),
        "{err}"
    );
    // Rules that matched: no warning.
    let (_, err) = text(&[
        &fixture("ftp-passive-v4.pcapng"),
        "--dnat",
        "203.0.113.1:21=10.0.1.2:21",
    ]);
    assert!(!err.contains("warning"), "{err}");
}

/// A NAT the payloads contradict — a reversed `--dnat`: the server's 227
/// names its own address, which the rule takes for the public one, and
/// every 227 is a bounce — is said once, with the likely mistake.
#[test]
fn payload_contradicts_the_nat() {
    let args = [
        fixture("ftp-passive-v4.pcapng"),
        "--dnat".into(),
        "10.0.1.2:21=203.0.113.1:21".into(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let recs = json(&args);
    assert!(recs.iter().any(|r| r["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["reason"] == "bounce")));
    let (_, err) = text(&args);
    let w: Vec<&str> = err.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(w.len(), 1, "{err}");
    for s in [
        "1 payload address (bounce) contradicts --dnat 10.0.1.2:21=203.0.113.1:21",
        "10.0.1.2",
        "203.0.113.1",
        "reversed (--dnat takes PUBLIC:PORT=INTERNAL:PORT)",
    ] {
        assert!(w[0].contains(s), "{s:?} not in {}", w[0]);
    }
    // The same capture with the rule the right way round: no bounce, no
    // warning.
    let (_, err) = text(&[
        &fixture("ftp-passive-v4.pcapng"),
        "--dnat",
        "203.0.113.1:21=10.0.1.2:21",
    ]);
    assert!(!err.contains("warning"), "{err}");
}
