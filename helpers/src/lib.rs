//! Protocol logic of cthelperd's conntrack helpers, without I/O.
//!
//! A helper is handed a [`Packet`]: a view of the connection as conntrack
//! sees it (the original and reply tuples — the reply tuple shows any NAT —
//! and the direction of this packet), the L4 payload and the helper's private
//! per-connection state. It answers with an [`Outcome`]: byte-range [`Edit`]s
//! of the payload, the new private state, and events worth counting. It asks
//! for related flows through [`Env::expect_related`], as the kernel helpers
//! call `nf_ct_expect_related()`, so the caller decides what an expectation
//! table is (the kernel's over netlink, or a model of it in `replay`).
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

pub mod amanda;
pub mod conn;
pub mod edit;
pub mod expect;
pub mod ftp;
pub mod helper;
pub mod irc;
pub mod params;
pub mod pptp;
pub mod registry;
pub mod sip;
pub mod testing;
pub mod text;
pub mod tftp;

pub use conn::{ConnView, Dir, L4Proto, Tuple};
pub use edit::Edit;
pub use expect::{ExpectError, ExpectFlags, ExpectNat, Expectation};
pub use helper::{Env, Event, Helper, Outcome, Packet, PrivData, PRIV_DATA_MAX};
pub use params::{ExpectPolicy, ParamKind, ParamSpec, ParamValue, Params};
pub use registry::{HelperInfo, REGISTRY};
