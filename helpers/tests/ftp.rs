//! FTP helper: every form, refusals, NAT rewrites, port search, line starts.

mod common;
use common::{ip, tcp, Done};

use helpers::ftp::{self, Ftp, FtpState, Kind, Parsed};
use helpers::testing::TestEnv as FakeEnv;
use helpers::{
    edit, ConnView, Dir, ExpectError, ExpectNat, Expectation, Helper, L4Proto, Outcome, Packet,
    ParamValue, PrivData, SrcAddr,
};

/// Client 192.168.1.10 talks to server 10.0.0.2, no NAT.
fn plain_v4() -> ConnView {
    ConnView::plain(tcp("192.168.1.10", 40000, "10.0.0.2", 21))
}

/// Client 192.168.1.10 masqueraded to 198.51.100.1:61000 towards 203.0.113.5.
fn snat_v4() -> ConnView {
    ConnView {
        orig: tcp("192.168.1.10", 40000, "203.0.113.5", 21),
        reply: tcp("203.0.113.5", 21, "198.51.100.1", 61000),
    }
}

/// Client 198.51.100.7 reaches the public 203.0.113.1, DNATed to 10.0.0.5.
fn dnat_v4() -> ConnView {
    ConnView {
        orig: tcp("198.51.100.7", 50000, "203.0.113.1", 21),
        reply: tcp("10.0.0.5", 21, "198.51.100.7", 50000),
    }
}

fn plain_v6() -> ConnView {
    ConnView::plain(tcp("2001:db8:1::10", 40000, "2001:db8:2::2", 21))
}

/// NPTv6-style NAT66 of the client.
fn snat_v6() -> ConnView {
    ConnView {
        orig: tcp("fd00::10", 40000, "2001:db8:2::2", 21),
        reply: tcp("2001:db8:2::2", 21, "2001:db8:ffff::1", 40000),
    }
}

fn helper(loose: bool) -> Ftp {
    let info = helpers::registry::find("ftp").unwrap();
    let mut p = info.default_params();
    p.set(info.params, "loose", ParamValue::Bool(loose))
        .unwrap();
    Ftp::new(&p, &info.default_policies())
}

fn run_at(
    h: &Ftp,
    conn: ConnView,
    dir: Dir,
    payload: &[u8],
    seq: u32,
    state: PrivData,
    env: &mut FakeEnv,
) -> Done {
    let pkt = Packet {
        conn,
        dir,
        payload,
        tcp_seq: Some(seq),
        state,
        ..Packet::EMPTY
    };
    let before: Vec<Expectation> = env.live().cloned().collect();
    let out = h.handle(&pkt, env);
    // Whatever happened, the edits apply and the expectations reported are
    // the ones the table accepted.
    edit::apply(payload, &out.edits).unwrap();
    Done::checked(out, env, &before)
}

fn run(conn: ConnView, dir: Dir, payload: &[u8]) -> (Done, FakeEnv) {
    let mut env = FakeEnv::default();
    let out = run_at(
        &helper(false),
        conn,
        dir,
        payload,
        1000,
        PrivData::ZERO,
        &mut env,
    );
    (out, env)
}

fn reasons(o: &Outcome) -> Vec<&'static str> {
    o.events.iter().map(|e| e.reason.name()).collect()
}

fn exp(src: &str, dst: &str, dport: u16) -> Expectation {
    Expectation {
        src: SrcAddr::Exact(ip(src)),
        ..Expectation::new(0, L4Proto::Tcp, ip(dst), dport)
    }
}

fn rewritten(payload: &[u8], o: &Outcome) -> String {
    String::from_utf8(edit::apply(payload, &o.edits).unwrap()).unwrap()
}

// --- every form, no NAT ----------------------------------------------------

#[test]
fn port_plain() {
    let (o, env) = run(plain_v4(), Dir::Original, b"PORT 192,168,1,10,4,1\r\n");
    assert_eq!(o.expectations, vec![exp("10.0.0.2", "192.168.1.10", 1025)]);
    assert!(o.edits.is_empty() && !o.drop && o.incomplete.is_none() && o.events.is_empty());
    assert_eq!(env.calls.len(), 1);
    assert_eq!(env.random_calls, 0);
}

#[test]
fn case_variants() {
    for p in [
        &b"port 192,168,1,10,4,1\r\n"[..],
        b"Port 192,168,1,10,4,1\r\n",
        b"eprt |1|192.168.1.10|1025|\r\n",
        b"EpRt |1|192.168.1.10|1025|\r\n",
    ] {
        let (o, _) = run(plain_v4(), Dir::Original, p);
        assert_eq!(
            o.expectations,
            vec![exp("10.0.0.2", "192.168.1.10", 1025)],
            "{}",
            String::from_utf8_lossy(p)
        );
    }
}

#[test]
fn eprt_v4_any_delimiter() {
    for p in [
        &b"EPRT |1|192.168.1.10|1025|\r\n"[..],
        b"EPRT !1!192.168.1.10!1025!\r\n",
        b"EPRT x1x192.168.1.10x1025x\r\n",
        b"EPRT |1|192.168.1.10|01025|\r\n",
    ] {
        let (o, _) = run(plain_v4(), Dir::Original, p);
        assert_eq!(o.expectations, vec![exp("10.0.0.2", "192.168.1.10", 1025)]);
    }
}

#[test]
fn eprt_v6_plain() {
    let (o, _) = run(
        plain_v6(),
        Dir::Original,
        b"EPRT |2|2001:db8:1::10|5282|\r\n",
    );
    assert_eq!(
        o.expectations,
        vec![exp("2001:db8:2::2", "2001:db8:1::10", 5282)]
    );
    assert!(o.edits.is_empty());
    // Uppercase hex, and the full form, are the same address.
    let (o, _) = run(
        plain_v6(),
        Dir::Original,
        b"EPRT #2#2001:0DB8:0001:0000:0000:0000:0000:0010#5282#\r\n",
    );
    assert_eq!(o.expectations.len(), 1);
}

#[test]
fn eprt_wrong_family_is_malformed() {
    let (o, env) = run(plain_v6(), Dir::Original, b"EPRT |1|10.0.0.1|5282|\r\n");
    assert!(o.expectations.is_empty() && env.calls.is_empty());
    assert_eq!(reasons(&o), vec!["malformed"]);
    let (o, _) = run(plain_v4(), Dir::Original, b"EPRT |2|::1|5282|\r\n");
    assert_eq!(reasons(&o), vec!["malformed"]);
}

#[test]
fn pasv_227_forms() {
    let want = vec![exp("192.168.1.10", "10.0.0.2", 49152 + 16)];
    for p in [
        &b"227 Entering Passive Mode (10,0,0,2,192,16)\r\n"[..],
        b"227 Entering Passive Mode (10,0,0,2,192,16).\r\n",
        b"227 Entering Passive Mode 10,0,0,2,192,16\r\n",
        b"227 =10,0,0,2,192,16\r\n",
        b"227 10,0,0,2,192,16\r\n",
        b"227 Passive on port (10,0,0,2,192,16) - ok\r\n",
    ] {
        let (o, _) = run(plain_v4(), Dir::Reply, p);
        assert_eq!(o.expectations, want, "{}", String::from_utf8_lossy(p));
    }
    // The first digit starts the numbers: a digit in the text breaks it.
    let (o, _) = run(plain_v4(), Dir::Reply, b"227 Mode 2 (10,0,0,2,192,16)\r\n");
    assert!(o.expectations.is_empty());
    assert_eq!(reasons(&o), vec!["malformed"]);
}

#[test]
fn epsv_229() {
    let (o, _) = run(
        plain_v4(),
        Dir::Reply,
        b"229 Entering Extended Passive Mode (|||6446|)\r\n",
    );
    assert_eq!(o.expectations, vec![exp("192.168.1.10", "10.0.0.2", 6446)]);
    let (o, _) = run(
        plain_v6(),
        Dir::Reply,
        b"229 Entering Extended Passive Mode (!!!6446!)\r\n",
    );
    assert_eq!(
        o.expectations,
        vec![exp("2001:db8:1::10", "2001:db8:2::2", 6446)]
    );
}

#[test]
fn patterns_only_in_their_direction() {
    for (dir, p) in [
        (Dir::Reply, &b"PORT 192,168,1,10,4,1\r\n"[..]),
        (Dir::Reply, b"EPRT |1|192.168.1.10|1025|\r\n"),
        (
            Dir::Original,
            b"227 Entering Passive Mode (10,0,0,2,192,16)\r\n",
        ),
        (
            Dir::Original,
            b"229 Entering Extended Passive Mode (|||6446|)\r\n",
        ),
    ] {
        let (o, env) = run(plain_v4(), dir, p);
        assert!(o.expectations.is_empty() && o.events.is_empty() && env.calls.is_empty());
    }
    // "227-" (a multi-line reply) is not "227 ".
    let (o, _) = run(plain_v4(), Dir::Reply, b"227-10,0,0,2,192,16\r\n");
    assert!(o.expectations.is_empty() && o.events.is_empty());
}

// --- malformed, truncated, overlong ---------------------------------------

#[test]
fn malformed_numbers_no_expectation() {
    for (dir, p) in [
        (Dir::Original, &b"PORT 256,168,1,10,4,1\r\n"[..]),
        (Dir::Original, b"PORT 192,168,1,10,256,1\r\n"),
        (Dir::Original, b"PORT 192,168,1,10,4,1000\r\n"),
        (Dir::Original, b"PORT 4294967297,168,1,10,4,1\r\n"),
        (Dir::Original, b"PORT 192,168,1,10,4\r\n"),
        (Dir::Original, b"PORT 192,168,1,10,4,1,5\r\n"),
        (Dir::Original, b"PORT 192,168,1,10,0,0\r\n"),
        (Dir::Original, b"PORT 192,168,,10,4,1\r\n"),
        (Dir::Original, b"PORT 192,168,1,10,4,1 \r\n"),
        (Dir::Original, b"PORT 192.168.1.10,4,1\r\n"),
        (Dir::Original, b"EPRT |1|192.168.1.10|65536|\r\n"),
        (Dir::Original, b"EPRT |1|192.168.1.10|0|\r\n"),
        (Dir::Original, b"EPRT |1|192.168.1.10||\r\n"),
        (Dir::Original, b"EPRT |1|192.168.1.300|1025|\r\n"),
        (Dir::Original, b"EPRT |1|192.168.1|1025|\r\n"),
        (Dir::Original, b"EPRT 1|1|192.168.1.10|1025|\r\n"),
        (Dir::Original, b"EPRT  |1|192.168.1.10|1025|\r\n"),
        (Dir::Original, b"EPRT .1.192.168.1.10.1025.\r\n"),
        (Dir::Original, b"EPRT |3|192.168.1.10|1025|\r\n"),
        (
            Dir::Original,
            b"EPRT |1|192.168.1.10|99999999999999999999|\r\n",
        ),
        (Dir::Reply, b"227 Entering Passive Mode\r\n"),
        (Dir::Reply, b"227 (10,0,0,2,192,16,1)\r\n"),
        (Dir::Reply, b"227 (10,0,0,2,0,0)\r\n"),
        (
            Dir::Reply,
            b"229 Entering Extended Passive Mode (|||0|)\r\n",
        ),
        (
            Dir::Reply,
            b"229 Entering Extended Passive Mode (|||65536|)\r\n",
        ),
        (
            Dir::Reply,
            b"229 Entering Extended Passive Mode (||6446|)\r\n",
        ),
        (
            Dir::Reply,
            b"229 Entering Extended Passive Mode (1116446|)\r\n",
        ),
        (
            Dir::Reply,
            b"229 Entering Extended Passive Mode |||6446|\r\n",
        ),
    ] {
        let (o, env) = run(plain_v4(), dir, p);
        assert!(
            o.expectations.is_empty() && env.calls.is_empty() && !o.drop && o.incomplete.is_none(),
            "{}",
            String::from_utf8_lossy(p)
        );
        assert_eq!(
            reasons(&o),
            vec!["malformed"],
            "{}",
            String::from_utf8_lossy(p)
        );
        // The line was complete: the next one starts a line.
        assert_eq!(
            FtpState::decode(&o.state.unwrap()).dir(dir).seq_aft_nl[0],
            1000 + p.len() as u32
        );
    }
}

#[test]
fn eprt_v6_malformed() {
    for p in [
        &b"EPRT |2|2001:db8::1::2|1025|\r\n"[..],
        b"EPRT |2|2001:db8:zz::1|1025|\r\n",
        b"EPRT |2|12345::1|1025|\r\n",
        b"EPRT |2||1025|\r\n",
        b"EPRT |2|1:2:3:4:5:6:7:8:9|1025|\r\n",
    ] {
        let (o, env) = run(plain_v6(), Dir::Original, p);
        assert!(o.expectations.is_empty() && env.calls.is_empty());
        assert_eq!(
            reasons(&o),
            vec!["malformed"],
            "{}",
            String::from_utf8_lossy(p)
        );
    }
}

#[test]
fn truncated_asks_for_more() {
    for (dir, p) in [
        (Dir::Original, &b"P"[..]),
        (Dir::Original, b"por"),
        (Dir::Original, b"PORT"),
        (Dir::Original, b"PORT 192,168,1,1"),
        (Dir::Original, b"PORT 192,168,1,10,4,1"),
        (Dir::Original, b"EPRT |1|192.168.1.10|10"),
        (Dir::Reply, b"22"),
        (Dir::Reply, b"227 Entering Passive Mode (10,0,0,2,192,16"),
        (Dir::Reply, b"227 Entering Passive Mode"),
        (Dir::Reply, b"229 Entering Extended Passive Mode (|||64"),
    ] {
        let (o, env) = run(plain_v4(), dir, p);
        assert!(o.incomplete == Some(0), "{}", String::from_utf8_lossy(p));
        assert!(o.expectations.is_empty() && env.calls.is_empty() && o.edits.is_empty());
        assert_eq!(o.state, None);
        assert_eq!(reasons(&o), vec!["partial"]);
    }
    let (o, _) = run(plain_v6(), Dir::Original, b"EPRT |2|2001:db8:");
    assert!(o.incomplete == Some(0));
    // Not a pattern: no waiting.
    let (o, _) = run(plain_v4(), Dir::Original, b"NOOP");
    assert!(o.incomplete.is_none() && o.events.is_empty());
    // A complete match needs no newline (PORT needs its \r).
    let (o, _) = run(plain_v4(), Dir::Original, b"PORT 192,168,1,10,4,1\r");
    assert_eq!(o.expectations.len(), 1);
    let (o, _) = run(plain_v4(), Dir::Reply, b"227 Entering (10,0,0,2,192,16)");
    assert_eq!(o.expectations.len(), 1);
}

#[test]
fn overlong_incomplete_line_is_given_up() {
    let mut p = b"PORT 192,168,1,".to_vec();
    p.extend(std::iter::repeat_n(b'0', 5000));
    let (o, _) = run(plain_v4(), Dir::Original, &p);
    assert!(o.incomplete.is_none());
    assert_eq!(reasons(&o), vec!["malformed"]);
    // Leading zeros in a complete line are fine (as the kernel).
    let mut p = b"PORT 192,168,1,".to_vec();
    p.extend(std::iter::repeat_n(b'0', 5000));
    p.extend_from_slice(b"10,4,1\r\n");
    let (o, _) = run(plain_v4(), Dir::Original, &p);
    assert_eq!(o.expectations, vec![exp("10.0.0.2", "192.168.1.10", 1025)]);
}

// --- bounce ----------------------------------------------------------------

#[test]
fn bounce_refused_unless_loose() {
    let p = b"PORT 10,9,9,9,0,25\r\n";
    let (o, env) = run(plain_v4(), Dir::Original, p);
    assert!(o.expectations.is_empty() && env.calls.is_empty() && !o.drop);
    assert_eq!(reasons(&o), vec!["bounce"]);

    let mut env = FakeEnv::default();
    let o = run_at(
        &helper(true),
        plain_v4(),
        Dir::Original,
        p,
        1,
        PrivData::ZERO,
        &mut env,
    );
    assert_eq!(o.expectations, vec![exp("10.0.0.2", "10.9.9.9", 25)]);
    assert!(o.events.is_empty());

    // Server side: a 227 naming another host.
    let (o, _) = run(
        plain_v4(),
        Dir::Reply,
        b"227 Entering Passive Mode (10,0,0,3,192,16)\r\n",
    );
    assert_eq!(reasons(&o), vec!["bounce"]);
    // EPRT v6 naming another host.
    let (o, _) = run(
        plain_v6(),
        Dir::Original,
        b"EPRT |2|2001:db8:1::11|5282|\r\n",
    );
    assert_eq!(reasons(&o), vec!["bounce"]);
}

#[test]
fn port_on_ipv6_connection() {
    let p = b"PORT 192,168,1,10,4,1\r\n";
    let (o, _) = run(plain_v6(), Dir::Original, p);
    assert_eq!(reasons(&o), vec!["bounce"]);
    let mut env = FakeEnv::default();
    let o = run_at(
        &helper(true),
        plain_v6(),
        Dir::Original,
        p,
        1,
        PrivData::ZERO,
        &mut env,
    );
    assert!(o.expectations.is_empty() && env.calls.is_empty());
    assert_eq!(reasons(&o), vec!["family"]);
}

// --- expectation failures ----------------------------------------------------

#[test]
fn expect_failure_without_nat_passes() {
    let mut env = FakeEnv {
        fail: Some(ExpectError::Full),
        ..FakeEnv::default()
    };
    let o = run_at(
        &helper(false),
        plain_v4(),
        Dir::Original,
        b"PORT 192,168,1,10,4,1\r\n",
        1,
        PrivData::ZERO,
        &mut env,
    );
    assert_eq!(env.calls.len(), 1);
    assert!(o.expectations.is_empty() && !o.drop);
    assert_eq!(reasons(&o), vec!["expect_failed"]);
    // No port search without NAT, even on a clash.
    let mut env = FakeEnv {
        clash_all: true,
        ..FakeEnv::default()
    };
    run_at(
        &helper(false),
        plain_v4(),
        Dir::Original,
        b"PORT 192,168,1,10,4,1\r\n",
        1,
        PrivData::ZERO,
        &mut env,
    );
    assert_eq!(env.calls.len(), 1);
    assert_eq!(env.random_calls, 0);
}

// --- NAT -------------------------------------------------------------------

#[test]
fn nat_port_rewritten_to_snat_address() {
    let p = b"PORT 192,168,1,10,4,1\r\n";
    let (o, env) = run(snat_v4(), Dir::Original, p);
    let mut want = exp("203.0.113.5", "198.51.100.1", 1025);
    want.nat = Some(ExpectNat::follow_master(
        Dir::Reply,
        ip("192.168.1.10"),
        1025,
    ));
    assert_eq!(o.expectations, vec![want]);
    assert_eq!(env.calls.len(), 1);
    assert_eq!(o.edits.len(), 1);
    assert_eq!((o.edits[0].offset, o.edits[0].len), (5, 16));
    assert_eq!(rewritten(p, &o), "PORT 198,51,100,1,4,1\r\n");
    // Same length here: no sequence adjustment needed.
    assert_eq!(o.delta(), 0);
    assert!(!o.drop && o.events.is_empty());
}

#[test]
fn nat_227_under_dnat() {
    let p = b"227 Entering Passive Mode (10,0,0,5,195,80).\r\n";
    let (o, _) = run(dnat_v4(), Dir::Reply, p);
    let mut want = exp("198.51.100.7", "203.0.113.1", 195 * 256 + 80);
    want.nat = Some(ExpectNat::follow_master(
        Dir::Original,
        ip("10.0.0.5"),
        195 * 256 + 80,
    ));
    assert_eq!(o.expectations, vec![want]);
    assert_eq!(
        rewritten(p, &o),
        "227 Entering Passive Mode (203,0,113,1,195,80).\r\n"
    );
    // Without parentheses the same bytes are replaced.
    let p = b"227 Entering Passive Mode 10,0,0,5,195,80\r\n";
    let (o, _) = run(dnat_v4(), Dir::Reply, p);
    assert_eq!(
        rewritten(p, &o),
        "227 Entering Passive Mode 203,0,113,1,195,80\r\n"
    );
}

#[test]
fn nat_eprt_and_epsv_texts() {
    // EPRT v4 under SNAT: the kernel always writes '|' delimiters.
    let p = b"EPRT !1!192.168.1.10!1025!\r\n";
    let (o, _) = run(snat_v4(), Dir::Original, p);
    assert_eq!(rewritten(p, &o), "EPRT |1|198.51.100.1|1025|\r\n");
    // EPRT v6 under NAT66: %pI6, never compressed.
    let p = b"EPRT |2|fd00::10|5282|\r\n";
    let (o, _) = run(snat_v6(), Dir::Original, p);
    assert_eq!(
        rewritten(p, &o),
        "EPRT |2|2001:0db8:ffff:0000:0000:0000:0000:0001|5282|\r\n"
    );
    assert_eq!(o.expectations[0].dst, ip("2001:db8:ffff::1"));
    assert_eq!(o.expectations[0].src, SrcAddr::Exact(ip("2001:db8:2::2")));
    // 229 under DNAT: only the port is written; identical text, no edit.
    let p = b"229 Entering Extended Passive Mode (|||6446|)\r\n";
    let (o, _) = run(dnat_v4(), Dir::Reply, p);
    assert!(o.edits.is_empty());
    assert_eq!(o.expectations[0].dst, ip("203.0.113.1"));
    assert_eq!(o.expectations[0].nat.unwrap().saved_addr, ip("10.0.0.5"));
    // ... but other delimiters are normalised, as the kernel does.
    let p = b"229 Entering Extended Passive Mode (!!!06446!)\r\n";
    let (o, _) = run(dnat_v4(), Dir::Reply, p);
    assert_eq!(
        rewritten(p, &o),
        "229 Entering Extended Passive Mode (|||6446|)\r\n"
    );
}

#[test]
fn nat_port_search_on_clash() {
    let p = b"PORT 192,168,1,10,4,1\r\n";
    let range = 65535 - 1025;
    let mut env = FakeEnv {
        clash: [1025, 1025 + 5].into_iter().collect(),
        randoms: [5, range * 3 + 777].into_iter().collect(),
        ..FakeEnv::default()
    };
    let o = run_at(
        &helper(false),
        snat_v4(),
        Dir::Original,
        p,
        1,
        PrivData::ZERO,
        &mut env,
    );
    let tried: Vec<u16> = env.calls.iter().map(|e| e.dport).collect();
    assert_eq!(tried, vec![1025, 1030, 1025 + 777]);
    assert_eq!(env.random_calls, 2);
    let port = 1025 + 777;
    assert_eq!(o.expectations.len(), 1);
    assert_eq!(o.expectations[0].dport, port);
    // The saved port stays the client's.
    assert_eq!(o.expectations[0].nat.unwrap().saved_port, 1025);
    assert_eq!(
        rewritten(p, &o),
        format!("PORT 198,51,100,1,{},{}\r\n", port >> 8, port & 0xff)
    );
}

#[test]
fn nat_all_ports_in_use_drops() {
    let p = b"PORT 192,168,1,10,4,1\r\n";
    let mut env = FakeEnv {
        clash_all: true,
        ..FakeEnv::default()
    };
    let o = run_at(
        &helper(false),
        snat_v4(),
        Dir::Original,
        p,
        1,
        PrivData::ZERO,
        &mut env,
    );
    // The original port, then 128 random ones, all in [1025, 65535).
    assert_eq!(env.calls.len(), 129);
    assert_eq!(env.random_calls, 128);
    assert!(env.calls.iter().all(|e| (1025..65535).contains(&e.dport)));
    assert!(o.drop && o.edits.is_empty() && o.expectations.is_empty());
    assert_eq!(reasons(&o), vec!["nat_failed"]);
    // The line was still seen whole.
    assert!(o.state.is_some());

    // Port 65535 has no range to search.
    let mut env = FakeEnv {
        clash_all: true,
        ..FakeEnv::default()
    };
    let o = run_at(
        &helper(false),
        snat_v4(),
        Dir::Original,
        b"EPRT |1|192.168.1.10|65535|\r\n",
        1,
        PrivData::ZERO,
        &mut env,
    );
    assert_eq!((env.calls.len(), env.random_calls), (1, 0));
    assert!(o.drop);

    // Any refusal other than a clash stops the search.
    let mut env = FakeEnv {
        fail: Some(ExpectError::Full),
        ..FakeEnv::default()
    };
    let o = run_at(
        &helper(false),
        snat_v4(),
        Dir::Original,
        p,
        1,
        PrivData::ZERO,
        &mut env,
    );
    assert_eq!((env.calls.len(), env.random_calls), (1, 0));
    assert!(o.drop);
    assert_eq!(reasons(&o), vec!["nat_failed"]);
}

#[test]
fn nat_bounce_still_refused() {
    let (o, env) = run(snat_v4(), Dir::Original, b"PORT 10,9,9,9,0,25\r\n");
    assert!(o.edits.is_empty() && env.calls.is_empty() && !o.drop);
    assert_eq!(reasons(&o), vec!["bounce"]);
}

// --- split commands, line starts -------------------------------------------

#[test]
fn split_command_over_two_segments() {
    let h = helper(false);
    let mut env = FakeEnv::default();
    // "USER" line establishes line tracking at 1000 + 11.
    let o = run_at(
        &h,
        snat_v4(),
        Dir::Original,
        b"USER anon\r\n",
        1000,
        PrivData::ZERO,
        &mut env,
    );
    let st = o.state.unwrap();
    let seg1 = b"PORT 192,168,1,10,";
    let seg2 = b"4,1\r\n";
    let o = run_at(&h, snat_v4(), Dir::Original, seg1, 1011, st, &mut env);
    assert!(o.incomplete == Some(0) && o.state.is_none() && env.calls.is_empty());
    let joined = [&seg1[..], &seg2[..]].concat();
    let o = run_at(&h, snat_v4(), Dir::Original, &joined, 1011, st, &mut env);
    assert!(o.incomplete.is_none());
    assert_eq!(o.expectations.len(), 1);
    assert_eq!(rewritten(&joined, &o), "PORT 198,51,100,1,4,1\r\n");
    let lens = [seg1.len(), seg2.len()];
    let segs = edit::resegment(&edit::apply(&joined, &o.edits).unwrap(), &lens).unwrap();
    assert_eq!(segs[0].len(), seg1.len());
    // Next line starts after both segments.
    let after = FtpState::decode(&o.state.unwrap());
    assert!(after
        .original
        .seq_aft_nl
        .contains(&(1011 + joined.len() as u32)));
}

#[test]
fn caller_that_cannot_hold_loses_only_that_command() {
    let h = helper(false);
    let mut env = FakeEnv::default();
    let st = run_at(
        &h,
        plain_v4(),
        Dir::Original,
        b"USER a\r\n",
        10,
        PrivData::ZERO,
        &mut env,
    )
    .state
    .unwrap();
    let o = run_at(
        &h,
        plain_v4(),
        Dir::Original,
        b"PORT 192,168,1",
        18,
        st,
        &mut env,
    );
    assert!(o.incomplete == Some(0));
    // Second segment alone: mid-line, ignored; it ends a line.
    let o = run_at(
        &h,
        plain_v4(),
        Dir::Original,
        b",10,4,1\r\n",
        32,
        st,
        &mut env,
    );
    assert!(o.expectations.is_empty() && o.events.is_empty());
    let st = o.state.unwrap();
    let o = run_at(
        &h,
        plain_v4(),
        Dir::Original,
        b"PORT 192,168,1,10,4,2\r\n",
        41,
        st,
        &mut env,
    );
    assert_eq!(o.expectations[0].dport, 1026);
}

#[test]
fn mid_line_port_is_ignored() {
    let h = helper(false);
    let mut env = FakeEnv::default();
    let st = run_at(
        &h,
        plain_v4(),
        Dir::Original,
        b"USER a\r\n",
        100,
        PrivData::ZERO,
        &mut env,
    )
    .state
    .unwrap();
    // "NOOP " without newline, then a PORT that continues that line.
    let o = run_at(&h, plain_v4(), Dir::Original, b"SITE X ", 108, st, &mut env);
    assert!(o.incomplete.is_none());
    let st = o.state.unwrap_or(st);
    let o = run_at(
        &h,
        plain_v4(),
        Dir::Original,
        b"PORT 192,168,1,10,4,1\r\n",
        115,
        st,
        &mut env,
    );
    assert!(o.expectations.is_empty() && env.calls.is_empty());
    // A PORT at a sequence number never seen after a newline: ignored too.
    let o = run_at(
        &h,
        plain_v4(),
        Dir::Original,
        b"PORT 192,168,1,10,4,1\r\n",
        5000,
        st,
        &mut env,
    );
    assert!(o.expectations.is_empty());
    // At the recorded line start it is parsed.
    let o = run_at(
        &h,
        plain_v4(),
        Dir::Original,
        b"PORT 192,168,1,10,4,1\r\n",
        108,
        st,
        &mut env,
    );
    assert_eq!(o.expectations.len(), 1);
}

#[test]
fn directions_are_tracked_separately() {
    let h = helper(false);
    let mut env = FakeEnv::default();
    // The client's line state says nothing about the server's stream.
    let st = run_at(
        &h,
        plain_v4(),
        Dir::Original,
        b"USER a\r\n",
        100,
        PrivData::ZERO,
        &mut env,
    )
    .state
    .unwrap();
    let s = FtpState::decode(&st);
    assert!(s.original.seen && !s.reply.seen);
    assert_eq!(s.original.seq_aft_nl[0], 108);
    // First reply packet: unknown direction, picked up.
    let o = run_at(
        &h,
        plain_v4(),
        Dir::Reply,
        b"227 Entering Passive Mode (10,0,0,2,192,16)\r\n",
        7777,
        st,
        &mut env,
    );
    assert_eq!(o.expectations.len(), 1);
    let s2 = FtpState::decode(&o.state.unwrap());
    assert_eq!(s2.original, s.original);
    assert!(s2.reply.seen);
}

#[test]
fn first_packet_picked_up_once() {
    let h = helper(false);
    let mut env = FakeEnv::default();
    // The first packet of a direction is parsed wherever it starts...
    let o = run_at(
        &h,
        plain_v4(),
        Dir::Original,
        b"NOOP",
        500,
        PrivData::ZERO,
        &mut env,
    );
    let st = o.state.unwrap();
    assert!(FtpState::decode(&st).original.seen);
    assert_eq!(FtpState::decode(&st).original.num, 0);
    // ... the second only at a known line start.
    let o = run_at(
        &h,
        plain_v4(),
        Dir::Original,
        b"PORT 192,168,1,10,4,1\r\n",
        504,
        st,
        &mut env,
    );
    assert!(o.expectations.is_empty());
}

#[test]
fn retransmission_reparses_and_state_is_stable() {
    let h = helper(false);
    let mut env = FakeEnv::default();
    let st = run_at(
        &h,
        plain_v4(),
        Dir::Original,
        b"USER a\r\n",
        100,
        PrivData::ZERO,
        &mut env,
    )
    .state
    .unwrap();
    let p = b"PORT 192,168,1,10,4,1\r\n";
    let o1 = run_at(&h, plain_v4(), Dir::Original, p, 108, st, &mut env);
    let st2 = o1.state.unwrap();
    let o2 = run_at(&h, plain_v4(), Dir::Original, p, 108, st2, &mut env);
    assert_eq!(o2.expectations.len(), 1);
    // Nothing new to remember.
    assert_eq!(o2.state, None);
}

#[test]
fn no_tcp_seq_parses_without_state() {
    let h = helper(false);
    let mut env = FakeEnv::default();
    let pkt = Packet {
        conn: plain_v4(),
        dir: Dir::Original,
        payload: b"PORT 192,168,1,10,4,1\r\n",
        tcp_seq: None,
        state: PrivData::ZERO,
        ..Packet::EMPTY
    };
    let o = Done::new(h.handle(&pkt, &mut env), &mut env);
    assert_eq!(o.expectations.len(), 1);
    assert_eq!(o.state, None);
}

#[test]
fn empty_payload_does_nothing() {
    let (o, env) = run(plain_v4(), Dir::Original, b"");
    assert_eq!(o.out, Outcome::default());
    assert!(o.expectations.is_empty());
    assert!(env.calls.is_empty());
}

#[test]
fn parse_api_reports_match_range() {
    let l = b"EPRT |1|192.168.1.10|1025|\r\n";
    let Parsed::Match(c) = ftp::parse(l, Dir::Original, false) else {
        panic!("no match")
    };
    assert_eq!(c.kind, Kind::Eprt);
    assert_eq!(&l[c.off..c.off + c.len], b"|1|192.168.1.10|1025|");
    let l = b"229 Entering Extended Passive Mode (|||6446|)\r\n";
    let Parsed::Match(c) = ftp::parse(l, Dir::Reply, false) else {
        panic!("no match")
    };
    assert_eq!((c.kind, c.addr), (Kind::Epsv, None));
    assert_eq!(&l[c.off..c.off + c.len], b"|||6446|");
    let l = b"PORT 192,168,1,10,4,1\r\n";
    let Parsed::Match(c) = ftp::parse(l, Dir::Original, false) else {
        panic!("no match")
    };
    assert_eq!(&l[c.off..c.off + c.len], b"192,168,1,10,4,1");
}

#[test]
fn registry_entry() {
    let info = helpers::registry::find("ftp").unwrap();
    assert_eq!(info.priv_len, ftp::STATE_LEN);
    assert!(info.priv_len <= helpers::PRIV_DATA_MAX);
    assert_eq!(info.policies, &[("ftp", 1, 300)]);
    let h = (info.build)(&info.default_params(), &info.default_policies());
    assert_eq!(h.info().name, "ftp");
}

#[test]
fn nat_rewrite_changes_length() {
    let conn = ConnView {
        orig: tcp("10.0.0.1", 40000, "192.0.2.80", 21),
        reply: tcp("192.0.2.80", 21, "203.0.113.200", 40000),
    };
    let p = b"PORT 10,0,0,1,4,1\r\nNOOP\r\n";
    let (o, _) = run(conn, Dir::Original, p);
    assert_eq!(rewritten(p, &o), "PORT 203,0,113,200,4,1\r\nNOOP\r\n");
    assert_eq!(o.delta(), 5);
    // The next line start is counted in the sender's bytes, before the edit.
    let st = FtpState::decode(&o.state.unwrap());
    assert_eq!(st.original.seq_aft_nl[0], 1000 + p.len() as u32);
}

#[test]
fn every_line_is_parsed() {
    // Unlike the kernel, which looks at the packet start only: a command
    // after another line of the same packet counts (a pipelining client).
    let (o, env) = run(
        plain_v4(),
        Dir::Original,
        b"NOOP\r\nPORT 192,168,1,10,4,1\r\n",
    );
    assert_eq!(o.expectations, vec![exp("10.0.0.2", "192.168.1.10", 1025)]);
    assert_eq!(env.calls.len(), 1);
    assert!(o.events.is_empty());
    // A malformed first line is counted and the next one still parsed.
    let (o, _) = run(
        plain_v4(),
        Dir::Original,
        b"PORT x\r\nPORT 192,168,1,10,4,1\r\n",
    );
    assert_eq!(o.expectations, vec![exp("10.0.0.2", "192.168.1.10", 1025)]);
    assert_eq!(reasons(&o), vec!["malformed"]);
    // Each line is checked on its own: a bounce does not hide the next.
    let (o, _) = run(
        plain_v4(),
        Dir::Original,
        b"PORT 10,9,9,9,0,25\r\nPORT 192,168,1,10,4,2\r\n",
    );
    assert_eq!(o.expectations, vec![exp("10.0.0.2", "192.168.1.10", 1026)]);
    assert_eq!(reasons(&o), vec!["bounce"]);
    // The line state still follows the packet end.
    let st = FtpState::decode(&o.state.unwrap());
    assert_eq!(st.original.seq_aft_nl[0], 1000 + 43);
}

#[test]
fn kernel_skip_quirk_port_prefix() {
    // The kernel's pattern is "PORT" without a space and skips to the first
    // space: "PORTS 1,2,…" is read as a PORT command. Kept for parity.
    let (o, _) = run(plain_v4(), Dir::Original, b"PORTS 192,168,1,10,4,1\r\n");
    assert_eq!(o.expectations, vec![exp("10.0.0.2", "192.168.1.10", 1025)]);
}

// --- the unfinished tail after complete lines (issue 16, item 4) -----------

/// Client 10.0.0.1 talks to 192.0.2.80, no NAT.
fn plain_ten() -> ConnView {
    ConnView::plain(tcp("10.0.0.1", 40000, "192.0.2.80", 21))
}

/// Client 10.0.0.1 masqueraded to 203.0.113.200 (one byte longer in text).
fn snat_ten() -> ConnView {
    ConnView {
        orig: tcp("10.0.0.1", 40000, "192.0.2.80", 21),
        reply: tcp("192.0.2.80", 21, "203.0.113.200", 40000),
    }
}

/// The state after `USER a\r\n` at sequence number 100: the line tracking
/// knows 108.
fn after_user(h: &Ftp, conn: ConnView, env: &mut FakeEnv) -> PrivData {
    run_at(
        h,
        conn,
        Dir::Original,
        b"USER a\r\n",
        100,
        PrivData::ZERO,
        env,
    )
    .state
    .unwrap()
}

#[test]
fn tail_after_a_complete_line_is_held() {
    let h = helper(false);
    let mut env = FakeEnv::default();
    let st0 = after_user(&h, plain_ten(), &mut env);
    let seg1 = b"PWD\r\nPORT 10,0,0,1,4,";
    let o = run_at(&h, plain_ten(), Dir::Original, seg1, 108, st0, &mut env);
    // PWD is handled (nothing to do), PORT is held from its line start.
    assert_eq!(o.incomplete, Some(5));
    assert!(o.expectations.is_empty() && env.calls.is_empty() && o.edits.is_empty());
    assert_eq!(reasons(&o), vec!["partial"]);
    // The held line's sequence number is a line start now.
    let st1 = o.state.unwrap();
    let s = FtpState::decode(&st1);
    assert!(s.original.at_line_start(113));
    assert!(
        s.original.at_line_start(108),
        "the packet's own start stays"
    );
    // The second call: the held bytes and the next segment, at 108 + 5.
    let joined = [&seg1[5..], &b"1\r\n"[..]].concat();
    assert_eq!(joined, b"PORT 10,0,0,1,4,1\r\n");
    let o = run_at(&h, plain_ten(), Dir::Original, &joined, 113, st1, &mut env);
    assert_eq!(o.expectations, vec![exp("192.0.2.80", "10.0.0.1", 1025)]);
    assert!(o.incomplete.is_none() && o.events.is_empty());
    let s = FtpState::decode(&o.state.unwrap());
    assert!(s.original.at_line_start(113 + joined.len() as u32));
    // Without the recorded line start the same call finds nothing: the
    // state is what makes it a line start.
    let mut env = FakeEnv::default();
    let o = run_at(&h, plain_ten(), Dir::Original, &joined, 113, st0, &mut env);
    assert!(o.expectations.is_empty() && env.calls.is_empty());
}

#[test]
fn port_then_split_eprt() {
    let h = helper(false);
    let mut env = FakeEnv::default();
    let st0 = after_user(&h, plain_ten(), &mut env);
    let line1: &[u8] = b"PORT 10,0,0,1,4,1\r\n";
    let seg1 = [line1, b"EPRT |1|10.0.0.1|10"].concat();
    let o = run_at(&h, plain_ten(), Dir::Original, &seg1, 108, st0, &mut env);
    // The PORT before the held line counts.
    assert_eq!(o.expectations, vec![exp("192.0.2.80", "10.0.0.1", 1025)]);
    assert_eq!(o.incomplete, Some(line1.len()));
    assert_eq!(reasons(&o), vec!["partial"]);
    let st1 = o.state.unwrap();
    let joined = [&seg1[line1.len()..], &b"26|\r\n"[..]].concat();
    let o = run_at(
        &h,
        plain_ten(),
        Dir::Original,
        &joined,
        108 + line1.len() as u32,
        st1,
        &mut env,
    );
    assert_eq!(o.expectations, vec![exp("192.0.2.80", "10.0.0.1", 1026)]);
    assert!(o.incomplete.is_none());
    assert_eq!(
        env.created.iter().map(|e| e.dport).collect::<Vec<_>>(),
        vec![1025, 1026]
    );
}

#[test]
fn port_then_split_eprt_under_nat_exact_bytes() {
    let h = helper(false);
    let mut env = FakeEnv::default();
    let st0 = after_user(&h, snat_ten(), &mut env);
    let line1: &[u8] = b"PORT 10,0,0,1,4,1\r\n";
    let seg1 = [line1, b"EPRT |1|10.0.0.1|10"].concat();
    let o = run_at(&h, snat_ten(), Dir::Original, &seg1, 108, st0, &mut env);
    assert_eq!(o.incomplete, Some(line1.len()));
    // Only the first line is rewritten; the held bytes are untouched.
    assert_eq!(
        rewritten(&seg1, &o),
        "PORT 203,0,113,200,4,1\r\nEPRT |1|10.0.0.1|10"
    );
    assert_eq!((o.edits[0].offset, o.edits[0].len), (5, 12));
    assert!(o.edits.iter().all(|e| e.offset + e.len <= line1.len()));
    assert_eq!(o.delta(), 5);
    let mut want = exp("192.0.2.80", "203.0.113.200", 1025);
    want.nat = Some(ExpectNat::follow_master(Dir::Reply, ip("10.0.0.1"), 1025));
    assert_eq!(o.expectations, vec![want]);
    // The line start is counted in the sender's bytes, before the edit.
    let st1 = o.state.unwrap();
    assert!(FtpState::decode(&st1).original.at_line_start(108 + 19));
    // The second call's offsets are its own.
    let joined = [&seg1[line1.len()..], &b"26|\r\n"[..]].concat();
    let o = run_at(&h, snat_ten(), Dir::Original, &joined, 127, st1, &mut env);
    assert_eq!(rewritten(&joined, &o), "EPRT |1|203.0.113.200|1026|\r\n");
    assert_eq!(
        (o.edits[0].offset, o.edits[0].len),
        (5, "|1|10.0.0.1|1026|".len())
    );
    let mut want = exp("192.0.2.80", "203.0.113.200", 1026);
    want.nat = Some(ExpectNat::follow_master(Dir::Reply, ip("10.0.0.1"), 1026));
    assert_eq!(o.expectations, vec![want]);
    assert!(o.incomplete.is_none());
}

#[test]
fn split_port_under_nat_exact_bytes() {
    let h = helper(false);
    let mut env = FakeEnv::default();
    let st0 = after_user(&h, snat_ten(), &mut env);
    let seg1 = b"PWD\r\nPORT 10,0,0,1,4,";
    let o = run_at(&h, snat_ten(), Dir::Original, seg1, 108, st0, &mut env);
    assert_eq!(o.incomplete, Some(5));
    assert!(o.edits.is_empty());
    let joined = b"PORT 10,0,0,1,4,1\r\n";
    let o = run_at(
        &h,
        snat_ten(),
        Dir::Original,
        joined,
        113,
        o.state.unwrap(),
        &mut env,
    );
    assert_eq!(rewritten(joined, &o), "PORT 203,0,113,200,4,1\r\n");
    assert_eq!(o.expectations[0].dst, ip("203.0.113.200"));
    assert_eq!(o.expectations[0].nat.unwrap().saved_addr, ip("10.0.0.1"));
}

#[test]
fn reply_tail_is_held_too() {
    let h = helper(false);
    let mut env = FakeEnv::default();
    let seg1 = b"150 Here it comes\r\n227 Entering Passive Mode (10,0,0,2,";
    let o = run_at(
        &h,
        plain_v4(),
        Dir::Reply,
        seg1,
        7000,
        PrivData::ZERO,
        &mut env,
    );
    assert_eq!(o.incomplete, Some(19));
    let st = o.state.unwrap();
    assert!(FtpState::decode(&st).reply.at_line_start(7019));
    let joined = b"227 Entering Passive Mode (10,0,0,2,192,16)\r\n";
    let o = run_at(&h, plain_v4(), Dir::Reply, joined, 7019, st, &mut env);
    assert_eq!(o.expectations, vec![exp("192.168.1.10", "10.0.0.2", 49168)]);
}

#[test]
fn tails_that_are_not_held() {
    // A tail that is no pattern's prefix: nothing to wait for.
    let (o, _) = run(plain_v4(), Dir::Original, b"PORT 192,168,1,10,4,1\r\nNOOP");
    assert_eq!(o.incomplete, None);
    assert_eq!(o.expectations.len(), 1);
    // A pattern's prefix is.
    let (o, _) = run(plain_v4(), Dir::Original, b"PORT 192,168,1,10,4,1\r\nPO");
    assert_eq!(o.incomplete, Some(23));
    assert_eq!(o.expectations.len(), 1);
    // An overlong unfinished line is given up, also after a complete one.
    let mut p = b"PWD\r\nPORT 192,168,1,".to_vec();
    p.extend(std::iter::repeat_n(b'0', ftp::MAX_PENDING_LINE + 1));
    let (o, _) = run(plain_v4(), Dir::Original, &p);
    assert_eq!(o.incomplete, None);
    assert_eq!(reasons(&o), vec!["malformed"]);
    // A line that ends too early is malformed, not held.
    let (o, _) = run(plain_v4(), Dir::Original, b"PWD\r\nPORT 192,168\r\nPO");
    assert_eq!(o.incomplete, Some(19));
    assert_eq!(reasons(&o), vec!["malformed", "partial"]);
}

#[test]
fn tail_without_tcp_seq_is_held_without_state() {
    let h = helper(false);
    let mut env = FakeEnv::default();
    let pkt = Packet {
        conn: plain_ten(),
        dir: Dir::Original,
        payload: b"PWD\r\nPORT 10,0,0,1,4,",
        tcp_seq: None,
        state: PrivData::ZERO,
        ..Packet::EMPTY
    };
    let o = h.handle(&pkt, &mut env);
    assert_eq!(o.incomplete, Some(5));
    assert_eq!(o.state, None);
}

#[test]
fn nat_failure_on_a_later_line_drops_and_withdraws() {
    let p = b"PORT 10,0,0,1,4,1\r\nPORT 10,0,0,1,4,2\r\nPORT 10,0,0,1,4,";
    let mut env = FakeEnv {
        clash: [1026].into_iter().collect(),
        randoms: std::iter::repeat_n(0, 200).collect(),
        ..FakeEnv::default()
    };
    let o = run_at(
        &helper(false),
        snat_ten(),
        Dir::Original,
        p,
        1,
        PrivData::ZERO,
        &mut env,
    );
    assert!(o.drop && o.edits.is_empty() && o.expectations.is_empty());
    assert_eq!(o.incomplete, None, "a dropped packet holds nothing");
    assert!(env.created.is_empty(), "the first PORT's expectation went");
    assert_eq!(env.unexpected.len(), 1);
    assert_eq!(env.unexpected_unknown, 0);
    assert_eq!(reasons(&o), vec!["nat_failed"]);
}

#[test]
fn two_commands_under_nat_are_both_rewritten() {
    let p = b"PORT 10,0,0,1,4,1\r\nEPRT |1|10.0.0.1|1026|\r\n";
    let (o, _) = run(snat_ten(), Dir::Original, p);
    assert_eq!(
        rewritten(p, &o),
        "PORT 203,0,113,200,4,1\r\nEPRT |1|203.0.113.200|1026|\r\n"
    );
    assert_eq!(o.delta(), 5 + 5);
    assert_eq!(
        o.expectations.iter().map(|e| e.dport).collect::<Vec<_>>(),
        vec![1025, 1026]
    );
}

// --- events name their cause ---------------------------------------------

#[test]
fn bounce_names_loose() {
    let (o, _) = run(plain_v4(), Dir::Original, b"PORT 10,9,9,9,0,25\r\n");
    assert_eq!(o.events.len(), 1);
    assert_eq!(o.events[0].reason, helpers::Reason::Bounce);
    assert_eq!(o.events[0].reason.name(), "bounce");
    assert_eq!(o.events[0].param, Some(ftp::LOOSE.name()));
    assert_eq!(ftp::LOOSE.name(), "loose");
    // Other refusals are not caused by a parameter.
    let (o, _) = run(plain_v4(), Dir::Original, b"PORT x\r\n");
    assert_eq!(o.events[0].param, None);
    // And `loose` is read through the typed parameter.
    let info = &ftp::INFO;
    let mut p = info.default_params();
    assert!(!p.get(ftp::LOOSE));
    p.set(info.params, ftp::LOOSE.name(), ParamValue::Bool(true))
        .unwrap();
    assert!(Ftp::new(&p, &info.default_policies()).loose);
}

#[test]
fn nat_failure_withdraws_a_repeated_port_once() {
    let p = b"PORT 10,0,0,1,4,1\r\nPORT 10,0,0,1,4,1\r\nPORT 10,0,0,1,4,2\r\n";
    let mut env = FakeEnv {
        clash: [1026].into_iter().collect(),
        randoms: std::iter::repeat_n(0, 200).collect(),
        ..FakeEnv::default()
    };
    let o = run_at(
        &helper(false),
        snat_ten(),
        Dir::Original,
        p,
        1,
        PrivData::ZERO,
        &mut env,
    );
    assert!(o.drop && env.created.is_empty());
    assert_eq!(env.unexpected.len(), 1, "one expectation for port 1025");
    assert_eq!(env.unexpected_unknown, 0);
}
