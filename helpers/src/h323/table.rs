//! The shape of the generated walk tables (`tables.rs`, written by
//! `gen/gen_tables.py` from the H.225.0/H.245 ASN.1): one [`Ty`] per type the
//! decoder may walk, with the constraints ALIGNED PER needs to find where the
//! next field starts, and a [`Tag`] on the components whose values the
//! H.323 helper reads.

/// A size constraint (SIZE(lb..ub), `...`): of a string, or of a SEQUENCE OF.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Size {
    pub lb: u32,
    /// None: no upper bound (semi-constrained).
    pub ub: Option<u32>,
    /// The constraint is extensible: a leading bit says "outside the root".
    pub ext: bool,
}

/// An INTEGER's PER-visible value constraint.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IntRange {
    pub lb: Option<i64>,
    pub ub: Option<i64>,
    pub ext: bool,
}

/// What one type is, as far as ALIGNED PER cares.
#[derive(Debug)]
#[allow(dead_code)] // not every kind occurs in the walked subset
pub(crate) enum Ty {
    Null,
    Bool,
    Int(IntRange),
    Enum {
        root: u32,
        ext: bool,
    },
    Bits(Size),
    Octets(Size),
    /// A known-multiplier character string: size, bits per character
    /// (already rounded to a power of two, as the ALIGNED variant wants).
    Chars(Size, u8),
    /// Encoded as a length and that many octets, content never looked at:
    /// OBJECT IDENTIFIER, GeneralString, open types.
    Opaque,
    /// An OCTET STRING that holds a complete encoding of another type
    /// (fastStart items: OpenLogicalChannel; h245Control: H.245 messages).
    Containing(&'static Ty),
    Seq(&'static Seq),
    SeqOf(Size, &'static Comp),
    Choice(&'static Choice),
    /// Not to be decoded: the component is an extension addition or an
    /// extension alternative nothing is wanted from (skipped by its
    /// open-type length), or comes after a stop.
    Skip,
}

/// The table entry for a component the decoder does not descend into.
pub(crate) static SKIP: Ty = Ty::Skip;

/// One component of a SEQUENCE, alternative of a CHOICE, or the item of a
/// SEQUENCE OF.
#[derive(Debug)]
pub(crate) struct Comp {
    pub name: &'static str,
    pub tag: Tag,
    /// OPTIONAL or DEFAULT: has a bit in the SEQUENCE preamble.
    pub opt: bool,
    /// Nothing the helper reads can follow in this scope (the message, an
    /// open type, an extension addition or a CONTAINING octet string):
    /// reaching this component ends the scope.
    pub stop: bool,
    pub ty: &'static Ty,
}

#[derive(Debug)]
#[allow(dead_code)] // names are for debugging
pub(crate) struct Seq {
    pub name: &'static str,
    pub ext: bool,
    /// No extension addition is of interest and nothing follows in scope:
    /// the scope ends after the root components.
    pub ext_stop: bool,
    pub root: &'static [Comp],
    /// The extension additions this ASN.1 knows; later ones are skipped.
    pub exts: &'static [Comp],
}

#[derive(Debug)]
#[allow(dead_code)]
pub(crate) struct Choice {
    pub name: &'static str,
    pub ext: bool,
    pub root: &'static [Comp],
    pub exts: &'static [Comp],
}

/// The values the H.323 helper reads. Tags mark table components; the
/// decoder records a tagged component (its choice index, number, flag or
/// octet range) in a capture tree, under the nearest recorded ancestor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tag {
    None,
    /// The entry type of a decode (the message).
    Root,
    // Interior tags, in shared types (see `Tag::accepts`).
    Ip4,
    Ip6,
    Port,
    DataApplication,
    T120,
    // H.225.0 RAS
    RasAddress,
    CallSignalAddress,
    TimeToLive,
    KeepAlive,
    DestCallSignalAddress,
    SrcCallSignalAddress,
    ReplyAddress,
    // H.225.0 call signalling (Q.931 user-user information)
    Body,
    H245Tunnelling,
    H245Control,
    H245Address,
    SourceCallSignalAddress,
    FastStart,
    AlternativeAddress,
    FacilityReason,
    // H.245
    Request,
    Response,
    ForwardLcn,
    ReverseLcn,
    Forward,
    Reverse,
    DataType,
    H2250,
    SessionId,
    MediaChannel,
    MediaControlChannel,
    SeparateStack,
    NetworkAddress,
    LocalAreaAddress,
}

impl Tag {
    /// Tags naming a TransportAddress / H245 TransportAddress the helper
    /// reads.
    pub(crate) fn is_address(self) -> bool {
        use Tag::*;
        matches!(
            self,
            RasAddress
                | CallSignalAddress
                | DestCallSignalAddress
                | SrcCallSignalAddress
                | ReplyAddress
                | H245Address
                | SourceCallSignalAddress
                | AlternativeAddress
                | MediaChannel
                | MediaControlChannel
                | LocalAreaAddress
        )
    }

    /// Whether a component tagged `self` is recorded when the nearest
    /// recorded ancestor has tag `parent`. Interior tags sit in types used
    /// in many places (every TransportAddress has an ipAddress.ip): they
    /// count only where the helper asked for that address or data type.
    pub(crate) fn accepts(self, parent: Tag) -> bool {
        use Tag::*;
        match self {
            Ip4 | Ip6 | Port => parent.is_address(),
            DataApplication => parent == DataType,
            T120 => parent == DataApplication,
            _ => true,
        }
    }
}
