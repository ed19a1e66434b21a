//! SNMP: the `snmp` (udp/161) and `snmp_trap` (udp/162) helpers — the
//! kernel's `nf_conntrack_snmp.c` with `nf_conntrack_broadcast.c`, and
//! `nf_nat_snmp_basic_main.c` (with `nf_nat_snmp_basic.asn1`).
//!
//! Read in this order: [`helper`] (what the two helpers decide: the
//! answers to a broadcast request, which packets are translated, the
//! address pairs, the deliberate differences from the kernel), then this
//! module (the translation: [`edits`], [`translate`], the kernel's
//! verdict and checksum update), [`msg`] (the SNMP message) and [`ber`]
//! (the BER reader). The translation makes no expectation and knows no
//! connection.
//!
//! # Parse ([`msg::decode`])
//! The SNMP message at the start of the UDP payload: version (v1, v2c, v3),
//! for v1/v2c the community and the PDU — Get, GetNext, Response, Set,
//! v1 Trap, GetBulk, Inform, v2 Trap, Report — with its request-id (or the
//! v1 Trap-PDU's enterprise, agent-addr, generic/specific trap and
//! time-stamp) and its variable bindings. Every IpAddress
//! (`[APPLICATION 0]`, 4 octets) is listed with the offset of its 4 octets
//! in the payload and its place (agent-addr, or varbind *n* with its OID),
//! so a NAT rewrite is a same-length 4-octet edit. SNMPv3 is recognised
//! (msgVersion 3) and not read further.
//!
//! # Translate ([`edits`], [`translate`])
//! Given the message and a list of `from`/`to` pairs: every IpAddress
//! equal to a pair's `from` becomes its `to` (the first pair that matches
//! decides; one pass, so pairs never chain) — the varbind values and the
//! v1 trap's agent-addr.
//! Nothing else is touched: not an address inside an OCTET STRING or an
//! Opaque, not the instance part of an OID (`ipAdEntAddr.10.0.0.5` keeps
//! its `10.0.0.5`), not v3.
//!
//! # The kernel (since 4.16, the ASN.1-compiler rewrite)
//! `help()` (the `snmp_trap` helper on udp/162, and `nf_nat_snmp_hook`
//! called by the `snmp` helper on udp/161 when the conntrack has
//! `IPS_NAT_MASK`):
//! * skips a packet with **source port 161 in the original direction** and
//!   one with **destination port 162 in the reply direction**; every other
//!   packet of a NATed SNMP conntrack is mangled: requests to 161 and their
//!   responses, traps and informs to 162 and the responses to informs;
//! * passes a conntrack without NAT; drops a packet whose UDP length
//!   disagrees with the IP length (IPv4 only: both helpers are
//!   `NFPROTO_IPV4`);
//! * `snmp_translate()`: `from = tuple[ORIGINAL].src`, `to =
//!   tuple[REPLY].dst` — in both directions (the two branches on `dir`
//!   name the same addresses): the originator's address becomes its
//!   source-NAT address. Under DNAT alone (`from == to`) it returns
//!   `NF_ACCEPT` before decoding anything: a manager walking an agent
//!   behind DNAT gets the agent's inside address unchanged;
//! * decodes with `asn1_ber_decoder()`; `snmp_version()` refuses a version
//!   INTEGER that is not one octet (`-EINVAL`) and any version above 1
//!   (`-ENOTSUPP`: **SNMPv3 is dropped**); the grammar's `PDUs` CHOICE has
//!   no `[4]`, so **every SNMPv1 Trap-PDU fails to decode and is dropped**
//!   (its agent-addr is never rewritten); varbind values must be one of
//!   the grammar's types; `snmp_helper()` (each IpAddress value) refuses
//!   one that is not 4 octets (`-EINVAL`) and replaces one equal to `from`
//!   by `to` — every one, in every PDU type of the grammar;
//! * **any decode failure is `NF_DROP`** ("parser failed");
//! * the UDP checksum: `fast_csum()` updates a non-zero checksum
//!   incrementally for each address written (4 or, at an odd offset, 6
//!   16-bit words); a zero checksum (none) stays zero. See
//!   [`kernel_udp_checksum`].
//!
//! Before 4.16 (`snmp_parse_mangle()`, a gxsnmp-derived decoder) the
//! kernel compared and replaced only the **first octet** (`struct
//! oct1_map`), mangled only Response, v1 Trap (agent-addr included, as
//! IpAddress or 4-octet OCTET STRING) and v2 Trap PDUs, passed v3
//! unchanged, and dropped what it could not decode.
//!
//! # Deliberate differences from the kernel
//! * **v1 Trap-PDU**: decoded; its agent-addr and varbinds are translated
//!   (the kernel drops the trap). An agent-addr sent as a 4-octet OCTET
//!   STRING is taken too, as before 4.16.
//! * **SNMPv3**: recognised and left alone — with authentication a rewrite
//!   would break the digest, with privacy the PDU is encrypted (the kernel
//!   drops it under NAT). The helper passes and counts it (`snmpv3`).
//! * **Decode failure**: [`translate`] returns the [`DecodeError`]; the
//!   helper passes the packet unchanged and counts it (`malformed`; drops
//!   it with `drop_malformed = true` where the kernel would decode it —
//!   the kernel always drops then).
//! * **Value types outside the kernel's grammar** (BIT STRING,
//!   `[APPLICATION 5]` NsapAddress, `[APPLICATION 7]`, constructed values,
//!   high tag numbers): skipped, the other varbinds translated (the kernel
//!   drops). [`msg::KernelReject`] names every such case, so the helper can
//!   tell where the kernel would have dropped.
//! * **Encodings the kernel takes and we refuse** (a [`DecodeError`], so
//!   passed unchanged): indefinite lengths, containers with the primitive
//!   bit (`asn1_ber_decoder()` ignores that bit when it expects a
//!   constructed tag), fields missing at the end of a container (it skips
//!   the remaining matches there — no IpAddress can be among them, so it
//!   would edit nothing either), INTEGERs of no or more than 8 octets (it
//!   reads no INTEGER but the version). No SNMP implementation sends them.
//!
//! Everywhere else — a v1/v2c message whose every value has a type of the
//! grammar, which the kernel decodes and forwards — the edits of the
//! kernel's pair are the kernel's, byte for byte ([`Kernel::Same`]); the
//! helper adds the pair of a responder behind DNAT, which the kernel does
//! not translate ([`helper`]).

pub mod ber;
pub mod helper;
pub mod msg;

#[cfg(test)]
mod captures;
#[cfg(test)]
mod enc;
#[cfg(test)]
mod tests;

pub use helper::{Snmp, INFO, TRAP_INFO};
pub use msg::{decode, DecodeError, KernelReject, Message, Place, Version};

use crate::edit::Edit;
use std::net::Ipv4Addr;

/// One IpAddress to rewrite: the 4 octets at `offset` of the payload hold
/// `old` and become `new`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrEdit<'a> {
    pub offset: usize,
    pub old: Ipv4Addr,
    pub new: Ipv4Addr,
    pub place: Place<'a>,
}

impl AddrEdit<'_> {
    /// As a payload [`Edit`] (4 octets replaced by 4).
    pub fn edit(&self) -> Edit {
        Edit::new(self.offset, 4, self.new.octets())
    }
}

/// What the kernel's `nf_nat_snmp_basic` does with the same message and
/// the same `from`/`to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// `from == to`: it returns before decoding; the packet passes
    /// unchanged.
    Untouched,
    /// It decodes the message and makes exactly the same edits.
    Same,
    /// Its decoder fails: the packet is dropped.
    Drops(KernelReject),
}

/// The result of [`translate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation<'a> {
    pub message: Message<'a>,
    /// Every IpAddress equal to `from`, in payload order (none if `from ==
    /// to`).
    pub edits: Vec<AddrEdit<'a>>,
    pub kernel: Kernel,
}

/// One address rewrite: an IpAddress equal to `from` becomes `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    pub from: Ipv4Addr,
    pub to: Ipv4Addr,
}

impl Pair {
    pub const fn new(from: Ipv4Addr, to: Ipv4Addr) -> Self {
        Pair { from, to }
    }
    /// `from == to`: nothing to rewrite.
    pub fn identity(&self) -> bool {
        self.from == self.to
    }
}

/// The edits of `message` under `pairs`, in one pass: each IpAddress is
/// compared with the pairs' `from` in order and the first that equals it
/// decides (a pair with `from == to` keeps it); an address written is
/// never looked at again, so `a → b` and `b → c` do not chain into
/// `a → c`.
pub fn edits<'a>(message: &Message<'a>, pairs: &[Pair]) -> Vec<AddrEdit<'a>> {
    message
        .addresses()
        .into_iter()
        .filter_map(|a| {
            let p = pairs.iter().find(|p| p.from == a.addr)?;
            (!p.identity()).then_some(AddrEdit {
                offset: a.offset,
                old: a.addr,
                new: p.to,
                place: a.place,
            })
        })
        .collect()
}

/// What the kernel does with `message` when its own pair
/// (`snmp_translate()`'s `from`/`to`) is `kernel`.
pub fn kernel_verdict(message: &Message<'_>, kernel: Pair) -> Kernel {
    match message.kernel_reject {
        _ if kernel.identity() => Kernel::Untouched,
        Some(why) => Kernel::Drops(why),
        None => Kernel::Same,
    }
}

/// Decodes the SNMP message in `payload` and lists the edits that turn
/// every IpAddress equal to `from` into `to` (the kernel's one pair).
pub fn translate(
    payload: &[u8],
    from: Ipv4Addr,
    to: Ipv4Addr,
) -> Result<Translation<'_>, DecodeError> {
    let message = decode(payload)?;
    let pair = Pair::new(from, to);
    let edits = edits(&message, &[pair]);
    let kernel = kernel_verdict(&message, pair);
    Ok(Translation {
        message,
        edits,
        kernel,
    })
}

/// The UDP checksum `check` after `edits`, updated as the kernel's
/// `snmp_helper()` / `fast_csum()` does: nothing if `check` is 0 (no
/// checksum), else one incremental update (RFC 1624, `~(~HC + ~m + m')`)
/// per edit, the 4 octets taken as 16-bit words at their alignment in the
/// datagram (UDP header and payload start are even). A full recomputation
/// gives the same value except that the kernel can produce 0x0000 where
/// the sum says "negative zero" (a recomputation sends 0xFFFF then), and
/// that a wrong incoming checksum stays wrong by the same amount.
pub fn kernel_udp_checksum(check: u16, edits: &[AddrEdit<'_>]) -> u16 {
    if check == 0 {
        return 0;
    }
    edits.iter().fold(check, |c, e| {
        let (o, n) = (e.old.octets(), e.new.octets());
        let words: Vec<u8> = if e.offset % 2 == 1 {
            let mut w = vec![0xFF];
            w.extend(o.iter().map(|b| !b));
            w.extend([0xFF, 0x00]);
            w.extend(n);
            w.push(0x00);
            w
        } else {
            o.iter().map(|b| !b).chain(n).collect()
        };
        let mut acc: u64 = 0xFFFF_0000 | u64::from(!c);
        for pair in words.chunks(2) {
            let hi = pair.first().copied().unwrap_or(0);
            let lo = pair.get(1).copied().unwrap_or(0);
            acc += u64::from(u16::from_be_bytes([hi, lo]));
        }
        while acc > 0xFFFF {
            acc = (acc & 0xFFFF) + (acc >> 16);
        }
        !(acc as u16)
    })
}
