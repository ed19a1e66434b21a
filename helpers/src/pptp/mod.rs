//! PPTP (RFC 2637) — phase 1: the control-message parser and the GRE
//! tuple rules. Design notes follow in the module docs (work in progress).

pub mod gre;
pub mod msg;

#[cfg(test)]
mod tests;
