//! Expectation policies and per-helper parameters.
//!
//! A helper declares each parameter once, as a typed constant:
//!
//! ```
//! use helpers::params::{Param, Params};
//! pub const LOOSE: Param<bool> = Param::bool("loose", false, "allow FTP bounce");
//! let p = Params::defaults(&[LOOSE.spec]);
//! assert!(!p.get(LOOSE));
//! ```
//!
//! The constant's `spec` goes into the helper's [`HelperInfo`] list (what
//! the configuration accepts and `cthelperd helpers` prints); the helper
//! reads the value through the same constant, so a misspelt parameter is a
//! compile error, and a value can never be read with the wrong type.
//!
//! [`HelperInfo`]: crate::HelperInfo

use std::collections::BTreeMap;
use std::marker::PhantomData;

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

/// The Rust type of a parameter's value.
pub trait ParamType: Copy {
    /// Never used in practice: `Param`'s constructors pair each type with a
    /// default of that type.
    const FALLBACK: Self;
    fn from_value(v: ParamValue) -> Option<Self>;
}
impl ParamType for bool {
    const FALLBACK: bool = false;
    fn from_value(v: ParamValue) -> Option<bool> {
        match v {
            ParamValue::Bool(b) => Some(b),
            ParamValue::U32(_) => None,
        }
    }
}
impl ParamType for u32 {
    const FALLBACK: u32 = 0;
    fn from_value(v: ParamValue) -> Option<u32> {
        match v {
            ParamValue::U32(n) => Some(n),
            ParamValue::Bool(_) => None,
        }
    }
}

/// A typed parameter: its spec and the type of its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<T> {
    pub spec: ParamSpec,
    ty: PhantomData<T>,
}

impl Param<bool> {
    pub const fn bool(name: &'static str, default: bool, help: &'static str) -> Self {
        Param {
            spec: ParamSpec {
                name,
                kind: ParamKind::Bool,
                default: ParamValue::Bool(default),
                help,
            },
            ty: PhantomData,
        }
    }
}

impl Param<u32> {
    pub const fn u32(
        name: &'static str,
        default: u32,
        min: u32,
        max: u32,
        help: &'static str,
    ) -> Self {
        Param {
            spec: ParamSpec {
                name,
                kind: ParamKind::U32 { min, max },
                default: ParamValue::U32(default),
                help,
            },
            ty: PhantomData,
        }
    }
}

impl<T> Param<T> {
    pub const fn name(&self) -> &'static str {
        self.spec.name
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
    /// The value of `p`: as set, else its default. (A parameter a helper
    /// reads but does not list gets its default; every helper's test checks
    /// that its list and its reads agree.)
    pub fn get<T: ParamType>(&self, p: Param<T>) -> T {
        self.0
            .get(p.spec.name)
            .and_then(|v| T::from_value(*v))
            .or_else(|| T::from_value(p.spec.default))
            .unwrap_or(T::FALLBACK)
    }
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, ParamValue)> + '_ {
        self.0.iter().map(|(k, v)| (*k, *v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Param<bool> = Param::bool("a", true, "");
    const N: Param<u32> = Param::u32("n", 7, 1, 10, "");

    #[test]
    fn typed_get_and_set() {
        let specs = [A.spec, N.spec];
        let mut p = Params::defaults(&specs);
        assert!(p.get(A));
        assert_eq!(p.get(N), 7);
        p.set(&specs, "n", ParamValue::U32(9)).unwrap();
        assert_eq!(p.get(N), 9);
        assert!(p.set(&specs, "n", ParamValue::U32(11)).is_err());
        assert!(p.set(&specs, "n", ParamValue::Bool(true)).is_err());
        assert!(p.set(&specs, "m", ParamValue::U32(1)).is_err());
        // Not listed: the default.
        assert_eq!(Params::default().get(N), 7);
    }
}
