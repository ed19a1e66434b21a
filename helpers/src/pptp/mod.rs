//! PPTP (RFC 2637): the control connection on tcp/1723 and the GRE flows of
//! its calls — what the kernel's `nf_conntrack_pptp.c`,
//! `nf_conntrack_proto_gre.c` and `nf_nat_pptp.c` do, without the GRE
//! keymap that only they can fill.
//!
//! The module: the control-message parser ([`msg`]), the GRE tuple rules
//! ([`gre`]), the 16-byte per-connection state ([`state`]) and the helper
//! ([`helper`]: [`Pptp`], [`INFO`]) that follows the design below, which
//! the VM experiments in `vm/` checked on Debian's 6.1 kernel (see the PPTP
//! section of `docs/kernel-path.md`).
//!
//! # What the kernel does
//! `conntrack_pptp_help()` runs only on ESTABLISHED packets; it reads one
//! message at the start of each segment (packet type 1, magic cookie, the
//! rest of the segment at least `pptp_msg_size[type]`), and hands it to
//! `pptp_outbound_pkt()` (original direction = PNS→PAC; the kernel
//! assumes the PNS opened the connection) or `pptp_inbound_pkt()`. Its
//! private data `struct nf_ct_pptp_master` holds *one* call: session state,
//! call state, `pns_call_id`, `pac_call_id`, two keymap pointers.
//!
//! On OCRP (result Connected) and ICCN, `exp_gre()` creates two
//! expectations with full keys — PNS→PAC `src key = PNS ID, dst key = PAC
//! ID` and the inverse — and **two keymap entries**
//! (`nf_ct_gre_keymap_add()`), so that `gre_pkt_to_tuple()` can give a GRE
//! packet, which carries only the receiver's call ID, a source key: both
//! directions of a call become one conntrack (replied: 180 s,
//! `GRE_CT_REPLIED`; the 10 min / 5 h of `pptp_expectfn()` are overwritten
//! by `nf_conntrack_gre_packet()` on the unconfirmed conntrack — seen in
//! the VM: 30 s, then 180 s). Under NAT `nf_nat_pptp` rewrites the PNS's
//! call ID in OCRQ to the **TCP port of the reply tuple's destination**
//! (the masqueraded source port: unique per router address and server),
//! puts the original back in the PAC's OCRP/ICCN/WEN/SLI peer-ID and in
//! CDN's call ID, and NATs the expected GRE flows (`pptp_nat_expected()`).
//! A CDN or the connection's end kills the GRE conntracks
//! (`pptp_destroy_siblings()`). A second call on one control connection
//! overwrites the first: both get the same outside ID, and the second
//! call's GRE cannot be told apart (seen in the VM: it never came up).
//!
//! # What userspace cannot do, and what we do instead
//! * **No keymap.** Nothing in netlink fills it, so every enhanced-GRE
//!   packet has the tuple `src, dst, src key 0, dst key = its call ID`
//!   ([`gre::tuple_keys`]): the two directions of a call are two
//!   conntracks, each UNREPLIED for ever (30 s after each packet of its
//!   own direction, `nf_conntrack_gre_timeout`). Seen in the VM.
//! * **No `pptp_expectfn`.** Only named expectfns can be given over netlink
//!   and only `nat-follow-master` is generic.
//! * **Two expectations per call, source key wildcarded, PERMANENT:** each
//!   direction is expected on its own (exact addresses, dst key exact,
//!   src key mask 0), NATed by `nat-follow-master` with the saved key, and
//!   kept for the call's life (PERMANENT: a match does not consume it), so
//!   a GRE flow that idled out (> 30 s) is admitted again by its next
//!   packet. They are refreshed (policy timeout, 300 s) by every Echo
//!   (both ends send one every 60 s), removed on CCRQ and CDN, on a failed
//!   OCRP/ICRP, on StopCCRP and on eviction, and by the kernel with the
//!   master. The policy's `max_expected` is **4** (two per call, two
//!   calls), not the kernel's 2: with 2 a second call on one connection
//!   would evict the first call's. Seen in the VM: one-shot expectations
//!   lose the PAC→PNS flow after 35 s idle, PERMANENT ones do not.
//!
//! # The expectations (one call)
//! `orig`/`reply` are the master's tuples (the reply tuple shows NAT).
//! `pns_in` is the PNS's call ID as the PNS knows it, `pns_out` as the PAC
//! sees it (equal without NAT), `pac` the PAC's call ID. In the
//! [`Expectation`](crate::Expectation) API, GRE keys are the ports: `sport`
//! = src key (`None` = mask 0), `dport` = dst key.
//!
//! | | PNS→PAC (`E_pac`) | PAC→PNS (`E_pns`) |
//! |---|---|---|
//! | proto | GRE | GRE |
//! | src / mask | `orig.src` / all ones | `reply.src` / all ones |
//! | dst | `orig.dst` | `reply.dst` |
//! | src key / mask | 0 / 0 | 0 / 0 |
//! | dst key | `pac` | `pns_out` |
//! | class, flags | 0, PERMANENT | 0, PERMANENT |
//! | helper | none | none |
//! | NAT (only if the master is NATed) | dir ORIGINAL, saved `reply.src`, key `pac` | dir REPLY, saved `orig.src`, key `pns_in` |
//! | expectfn | `nat-follow-master` | `nat-follow-master` |
//!
//! `nf_nat_follow_master()` then SNATs the new flow to
//! `master->tuplehash[!dir].dst` and DNATs it to
//! `master->tuplehash[!dir].src` with the saved key, which
//! `gre_manip_pkt()` writes into the packet's call ID (DST manip only).
//! `E_pns` is created when the PNS's call ID is known (OCRQ, ICRP), which
//! under NAT also *reserves* `pns_out` (see below); `E_pac` when the PAC's
//! is (OCRP, ICCN). Without NAT both at OCRP/ICCN, as the kernel.
//!
//! # NAT: the PNS call ID (two clients behind one masquerading router)
//! Outside the NAT the PAC sees every PNS behind the router at one address,
//! and addresses its GRE by the PNS's call ID alone: two clients that both
//! use call ID 0x0100 (or 0 — Windows NT does) cannot both be reached.
//! Under NAT (SNAT or DNAT of the master, as `IPS_NAT_MASK`) the helper
//! gives each call an outside ID `pns_out`:
//! * candidate 1: `reply.dport` — the kernel's choice, so one call per
//!   connection is byte-identical with `nf_nat_pptp` (masquerade keeps
//!   that port unique per router address and server);
//! * `E_pns` (keyed by `pns_out`, PERMANENT) is created at OCRQ/ICRP; a
//!   clash (EEXIST with NLM_F_EXCL — seen in the VM; EBUSY on the NFQA_EXP
//!   path) means another call uses it: next candidates as
//!   `nf_nat_exp_find_port()` ([`expect::nat_find_port`](crate::expect::nat_find_port)).
//!   Because the expectation lives as long as the call, the reservation
//!   holds for the call's life, also for a second call on the same
//!   connection (which the kernel cannot do);
//! * rewritten (same-length 2-byte edits, [`msg::CallIdAt::rewrite`]): PNS→PAC
//!   OCRQ, ICRP and CCRQ call ID `pns_in → pns_out`; PAC→PNS OCRP, ICCN, WEN
//!   and SLI peer's call ID `pns_out → pns_in`, and CDN's call ID when it is
//!   `pns_out` and not `pac`. RFC 2637 and pptpd (`deal_call_clr()`) put
//!   the PAC's own ID there; accel-ppp and the Windows server of
//!   `../shared/pcaps/pptp/pptp__nDPI.pcap` the PNS's. The kernel always
//!   writes the inside PNS ID there, which garbles pptpd's CDN under NAT.
//!
//! The PAC's call ID is not rewritten (nor is it by the kernel): under DNAT
//! of one PAC its IDs are unique. Two PACs behind one address that give
//! the same PNS the same ID clash on `E_pac` (the second call is not
//! expected, event). Rewriting it would need 2 more bytes per call.
//!
//! # State: 16 bytes, two calls ([`state`])
//! `destroy_gre_conntrack()` calls `nf_ct_gre_keymap_destroy(ct->master)`
//! for a GRE conntrack with *any* master — fixed only in 2026 ("netfilter:
//! conntrack: call nf_ct_gre_keymap_destroy() if master helper is pptp",
//! Debian 6.1.180). On older kernels it reads bytes 16..23 and 24..31 of
//! our private data as `keymap[0]`/`keymap[1]` and `list_del_rcu()`s and
//! `kfree_rcu()`s them when non-zero. Our GRE flows have our connection as
//! master, so those bytes must stay zero: the helper registers 16 bytes
//! ([`state::STATE_LEN`]; the kernel never writes past what we send, the
//! extension starts zeroed). In 16 bytes: session state, a recency bit and
//! two call slots of 7 bytes (state, two "expectation exists" bits,
//! `pns_in`, `pns_out`, `pac`). A third call evicts a free slot, else a
//! finished one (None/Error), else one being cleared, else the least
//! recently used (its expectations are removed, event `call_evicted`). The
//! kernel keeps one call.
//!
//! # State machine (per message; "outbound" = from the PNS = original
//! direction, as the kernel)
//! | message | from | requires | then |
//! |---|---|---|---|
//! | SCCRQ | PNS | session not Confirmed | session Requested |
//! | SCCRP | PAC | session ≥ Requested | Confirmed if result 1, else Error |
//! | StopCCRQ | PNS | — | session StopReq |
//! | StopCCRP | PAC | session ≤ StopReq | None if result 1 (calls dropped, expectations removed), else Error |
//! | EchoRQ/RP | either | — | refresh the calls' expectations |
//! | OCRQ | PNS | Confirmed | slot (same `pns_in` in OutReq: a retransmission, else alloc) → OutReq; NAT: `pns_out` + `E_pns`, rewrite |
//! | OCRP | PAC | Confirmed, slot with `pns_out` = peer in OutReq/OutConf | result 1: OutConf, `pac` = call ID, `E_pac` (+`E_pns` without NAT); else free the slot; NAT: rewrite peer |
//! | ICRQ | PAC | Confirmed | alloc → InReq, `pac` = call ID |
//! | ICRP | PNS | slot with `pac` = peer in InReq/InRep | result 1: InRep, `pns_in` = call ID, NAT: `pns_out` + `E_pns`, rewrite; else free |
//! | ICCN | PAC | Confirmed, slot with `pns_out` = peer in InRep/InConf | InConf, `E_pac` (+`E_pns`); NAT: rewrite peer |
//! | CCRQ | PNS | Confirmed, slot with `pns_in` = call ID | ClearReq, remove its expectations (the kernel keeps them until CDN; pptp-linux sends no CDN-awaiting traffic, it closes the connection, and a redial to the same PAC must not clash with the old master's); NAT: rewrite |
//! | CDN | PAC | slot with `pac` (RFC, pptpd) or else `pns_out` (accel-ppp, Windows) = call ID | free the slot, remove its expectations; NAT: rewrite if it matched `pns_out` only |
//! | WEN | PAC | slot with `pns_out` = peer | NAT: rewrite peer |
//! | SLI | either | slot with the peer's ID | from the PAC: NAT rewrite peer |
//!
//! Refused transitions change nothing (event `invalid_state`) and the
//! packet passes, as in the kernel. Unlike the kernel, every message of a
//! segment is handled and a message cut by the segment end makes the
//! segment `need_more` ([`msg::split`], [`msg::End::Partial`]).

pub mod gre;
pub mod helper;
pub mod msg;
pub mod state;

pub use helper::{Pptp, INFO};

#[cfg(test)]
mod helper_tests;
#[cfg(test)]
mod tests;
