//! Expectation policies and per-helper parameters.

use std::collections::BTreeMap;

/// One expectation class of a helper (NFCTH_POLICY_SET_*).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectPolicy {
    pub name: String,
    /// Most live expectations of this class per master connection (≤ 255).
    pub max_expected: u32,
    /// Lifetime of an expectation of this class, seconds.
    pub timeout: u32,
}

/// The kind of value a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    Bool,
    /// Unsigned 32-bit number with an inclusive range.
    U32 {
        min: u32,
        max: u32,
    },
}

/// A parameter a helper accepts, named as the kernel module's parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamSpec {
    pub name: &'static str,
    pub kind: ParamKind,
    pub default: ParamValue,
    pub help: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamValue {
    Bool(bool),
    U32(u32),
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::U32(n) => write!(f, "{n}"),
        }
    }
}

/// Parameter values of one helper, defaults filled in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(BTreeMap<&'static str, ParamValue>);

impl Params {
    /// The defaults of `specs`.
    pub fn defaults(specs: &[ParamSpec]) -> Self {
        Params(specs.iter().map(|s| (s.name, s.default)).collect())
    }
    /// Sets `name` after checking it against `specs`.
    pub fn set(&mut self, specs: &[ParamSpec], name: &str, v: ParamValue) -> Result<(), String> {
        let spec = specs
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| format!("unknown parameter `{name}`"))?;
        match (spec.kind, v) {
            (ParamKind::Bool, ParamValue::Bool(_)) => {}
            (ParamKind::U32 { min, max }, ParamValue::U32(n)) => {
                if n < min || n > max {
                    return Err(format!("`{name}` must be between {min} and {max}"));
                }
            }
            (ParamKind::Bool, _) => return Err(format!("`{name}` takes true or false")),
            (ParamKind::U32 { .. }, _) => return Err(format!("`{name}` takes a number")),
        }
        self.0.insert(spec.name, v);
        Ok(())
    }
    pub fn bool(&self, name: &str) -> bool {
        matches!(self.0.get(name), Some(ParamValue::Bool(true)))
    }
    pub fn u32(&self, name: &str) -> u32 {
        match self.0.get(name) {
            Some(ParamValue::U32(n)) => *n,
            _ => 0,
        }
    }
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, ParamValue)> + '_ {
        self.0.iter().map(|(k, v)| (*k, *v))
    }
}
