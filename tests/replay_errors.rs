//! Damaged input: a one-line error naming the byte offset, a non-zero exit,
//! never a panic.

mod support;

use support::{fixtures, replay};

#[test]
fn truncated_files() {
    let dir = tempfile::tempdir().unwrap();
    for f in fixtures() {
        let len = f.bytes.len();
        // Cut inside the file header, inside record headers and data.
        let mut cuts = vec![1, 5, 23, 25, 30];
        cuts.extend((1..12).map(|i| len * i / 12));
        cuts.push(len - 1);
        for cut in cuts {
            let p = dir.path().join(format!("cut-{cut}-{}", f.name));
            std::fs::write(&p, &f.bytes[..cut]).unwrap();
            let (ok, _, err) = replay(&[p.to_str().unwrap(), "--format", "json"]);
            assert!(!err.contains("panicked"), "{}: {err}", f.name);
            if ok {
                // A cut that happens to fall on a record boundary is a
                // shorter, valid capture.
                continue;
            }
            let lines: Vec<&str> = err.lines().collect();
            assert_eq!(lines.len(), 1, "{} cut at {cut}: {err}", f.name);
            assert!(lines[0].contains("byte offset"), "{}: {err}", f.name);
            let off: usize = lines[0]
                .split("byte offset ")
                .nth(1)
                .and_then(|s| s.split(':').next())
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("no offset in {err}"));
            assert!(off <= cut, "{}: offset {off} past the cut {cut}", f.name);
        }
        // Cutting the last byte is never a valid file.
        let p = dir.path().join(format!("last-{}", f.name));
        std::fs::write(&p, &f.bytes[..len - 1]).unwrap();
        assert!(!replay(&[p.to_str().unwrap()]).0, "{}", f.name);
    }
}

#[test]
fn garbage_and_flipped_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("garbage.pcap");
    std::fs::write(&p, b"this is not a capture at all").unwrap();
    let (ok, _, err) = replay(&[p.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("byte offset 0"), "{err}");
    // Flipped bytes anywhere: an error or a replay, never a panic.
    let mut seed = 7u32;
    for f in fixtures() {
        for round in 0..20 {
            let mut b = f.bytes.clone();
            for _ in 0..4 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let i = (seed >> 4) as usize % b.len();
                b[i] ^= (seed >> 20) as u8 | 1;
            }
            let p = dir.path().join(format!("flip-{round}-{}", f.name));
            std::fs::write(&p, &b).unwrap();
            let (_, _, err) = replay(&[
                p.to_str().unwrap(),
                "--snat",
                "10.0.0.0/8=203.0.113.1",
                "--write",
                dir.path().join("o.pcapng").to_str().unwrap(),
            ]);
            assert!(!err.contains("panicked"), "{}: {err}", f.name);
        }
    }
}

#[test]
fn bad_arguments() {
    let f = support::fixtures_dir().join("ftp-active-v4.pcap");
    let f = f.to_str().unwrap();
    for args in [
        vec![f, "--snat", "10.0.0.0/24"],
        vec![f, "--snat", "10.0.0.0/24=2001:db8::1"],
        vec![f, "--dnat", "203.0.113.1=10.0.1.2:21"],
        vec![f, "--helper", "gopher:70"],
        vec![f, "--helper", "ftp"],
        vec!["/nonexistent/file.pcap"],
    ] {
        let (ok, _, err) = replay(&args);
        assert!(!ok, "{args:?} accepted");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// `--write` never overwrites its input: not by the same path, a hard link
/// or a symbolic link (one line, non-zero exit, the capture unchanged); a
/// different file is written.
#[test]
fn write_refuses_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let src = support::fixtures_dir().join("ftp-active-v4.pcap");
    let bytes = std::fs::read(&src).unwrap();
    let cap = dir.path().join("x.pcap");
    std::fs::write(&cap, &bytes).unwrap();
    let hard = dir.path().join("hard.pcap");
    std::fs::hard_link(&cap, &hard).unwrap();
    let soft = dir.path().join("soft.pcap");
    std::os::unix::fs::symlink(&cap, &soft).unwrap();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let dotted = sub.join("../x.pcap");
    for out in [&cap, &hard, &soft, &dotted] {
        let (ok, stdout, err) = replay(&[
            cap.to_str().unwrap(),
            "--snat",
            "10.0.0.0/24=203.0.113.1",
            "--write",
            out.to_str().unwrap(),
        ]);
        assert!(!ok, "{}: {err}", out.display());
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("is the input capture"), "{err}");
        assert!(stdout.is_empty(), "{stdout}");
        assert_eq!(std::fs::read(&cap).unwrap(), bytes, "{}", out.display());
    }
    // Through a link the other way round: the input is the link.
    let (ok, _, err) = replay(&[soft.to_str().unwrap(), "--write", cap.to_str().unwrap()]);
    assert!(!ok && err.contains("is the input capture"), "{err}");
    let other = dir.path().join("out.pcapng");
    let (ok, _, err) = replay(&[cap.to_str().unwrap(), "--write", other.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(std::fs::metadata(&other).unwrap().len() > 0);
    assert_eq!(std::fs::read(&cap).unwrap(), bytes);
}
