//! Protocol logic of cthelperd's conntrack helpers, without I/O.
//!
//! A helper is handed a [`Packet`]: a view of the connection as conntrack
//! sees it (the original and reply tuples — the reply tuple shows any NAT —
//! and the direction of this packet), the L4 payload and the helper's private
//! per-connection state. It answers with an [`Outcome`]: byte-range [`Edit`]s
//! of the payload, the new private state, and [`Event`]s worth counting. It
//! asks for related flows through [`Env::expect`], as the kernel helpers
//! call `nf_ct_expect_related()`, and lists, removes and changes its
//! connection's expectations through the same [`Env`], so the caller
//! decides what an expectation table is (the kernel's over netlink, or a
//! model of it in `replay`).
//!
//! Nothing here reads a clock, opens a socket or keeps a global. Nothing here
//! may panic on packet input: the crate forbids `unsafe` and denies the
//! panicking idioms outside tests.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

// The shared vocabulary.
pub mod conn;
pub mod edit;
pub mod event;
pub mod expect;
pub mod helper;
pub mod params;
pub mod text;

// One module per protocol.
pub mod amanda;
pub mod ftp;
pub mod h323;
pub mod irc;
pub mod pptp;
pub mod sip;
pub mod snmp;
pub mod tftp;

// The list of them.
pub mod registry;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use conn::{ConnView, CtState, CtStatus, Dir, L4Proto, Tuple};
pub use edit::Edit;
pub use event::{Event, Reason};
pub use expect::{
    ExpectChange, ExpectError, ExpectFlags, ExpectFn, ExpectNat, Expectation, SrcAddr,
};
pub use helper::{Env, Helper, HelperInfo, Outcome, Packet, PolicyField, PrivData, PRIV_DATA_MAX};
pub use params::{ExpectPolicy, Param, ParamKind, ParamSpec, ParamValue, Params};
pub use registry::REGISTRY;
