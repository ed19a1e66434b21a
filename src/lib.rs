//! cthelperd: memory-safe userspace conntrack helpers (ALGs).
//!
//! ```text
//! main (CLI) ─▶ daemon (NFQUEUE worker, kernel I/O) ─┐
//!            └▶ replay (captures, a model of conntrack) ─┴▶ flow (the core) ─▶ helpers
//! ```
//! `netlink` is used by `daemon` only; `config` by all. See
//! docs/architecture.md.

pub mod config;
pub mod control;
pub mod daemon;
pub mod flow;
pub mod manpages;
pub mod netlink;
pub mod replay;
