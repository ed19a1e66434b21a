//! Every helper cthelperd knows. The registry depends on the protocol
//! modules, never the other way round; a new protocol is one module and one
//! line here.

pub use crate::helper::HelperInfo;

/// All helpers, in the order `cthelperd helpers` lists them.
pub static REGISTRY: &[&HelperInfo] = &[
    &crate::ftp::INFO,
    &crate::sip::INFO,
    &crate::tftp::INFO,
    &crate::irc::INFO,
    &crate::amanda::INFO,
    &crate::h323::ras::INFO,
    &crate::h323::q931::INFO,
    &crate::h323::h245::INFO,
    &crate::pptp::INFO,
    &crate::snmp::INFO,
    &crate::snmp::TRAP_INFO,
];

/// Looks a helper up by name.
pub fn find(name: &str) -> Option<&'static HelperInfo> {
    REGISTRY.iter().copied().find(|h| h.name == name)
}

/// The `&'static` name of a registered helper (for names read from the
/// kernel, e.g. a listed expectation's helper).
pub fn static_name(name: &str) -> Option<&'static str> {
    find(name).map(|h| h.name)
}
