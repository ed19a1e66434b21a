//! Fuzzes the SNMP decoder and translation (helpers::snmp): any payload.
//! Nothing may panic; a decoded message's IpAddress offsets must hold its
//! addresses; translating the first address found must edit exactly the
//! addresses equal to it, 4 octets each, and the result must decode to the
//! same message with those addresses moved.
//!
//! Input layout: the whole input is the UDP payload.
#![no_main]

use helpers::edit;
use helpers::snmp::{ber, decode, kernel_udp_checksum, translate, Kernel};
use libfuzzer_sys::fuzz_target;
use std::net::Ipv4Addr;

fuzz_target!(|data: &[u8]| {
    let _ = ber::walk(data, |t, _| assert!(t.end() <= data.len()));

    let msg = match decode(data) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.to_string();
            let any = Ipv4Addr::new(10, 0, 0, 1);
            assert_eq!(translate(data, any, any).unwrap_err(), e);
            return;
        }
    };
    assert!(msg.trailing <= data.len());
    let found = msg.addresses();
    let mut last = None;
    for a in &found {
        assert_eq!(data.get(a.offset..a.offset + 4), Some(&a.addr.octets()[..]));
        assert!(
            last.is_none_or(|l| l + 4 <= a.offset),
            "overlapping or unordered"
        );
        last = Some(a.offset);
        let _ = a.place.to_string();
    }
    if let Some(k) = msg.kernel_reject {
        let _ = k.to_string();
    }

    let from = found.first().map_or(Ipv4Addr::UNSPECIFIED, |a| a.addr);
    let to = Ipv4Addr::from(!u32::from(from));
    let same = translate(data, from, from).unwrap();
    assert!(same.edits.is_empty() && same.kernel == Kernel::Untouched);

    let t = translate(data, from, to).unwrap();
    let want: Vec<usize> = found
        .iter()
        .filter(|a| a.addr == from)
        .map(|a| a.offset)
        .collect();
    assert_eq!(t.edits.iter().map(|e| e.offset).collect::<Vec<_>>(), want);
    assert_eq!(t.kernel == Kernel::Same, msg.kernel_reject.is_none());
    assert_eq!(kernel_udp_checksum(0, &t.edits), 0);
    let _ = kernel_udp_checksum(0x1234, &t.edits);

    let edits: Vec<_> = t.edits.iter().map(|e| e.edit()).collect();
    let out = edit::apply(data, &edits).expect("edits inside the payload, no overlap");
    assert_eq!(out.len(), data.len());
    for (i, (a, b)) in data.iter().zip(&out).enumerate() {
        if a != b {
            assert!(want.iter().any(|o| (*o..o + 4).contains(&i)));
        }
    }
    let again = decode(&out).expect("the translated message decodes");
    assert_eq!(again.version, msg.version);
    assert_eq!(again.kernel_reject, msg.kernel_reject);
    let moved: Vec<_> = again
        .addresses()
        .iter()
        .map(|a| (a.offset, a.addr))
        .collect();
    let expect: Vec<_> = found
        .iter()
        .map(|a| (a.offset, if a.addr == from { to } else { a.addr }))
        .collect();
    assert_eq!(moved, expect);
});
