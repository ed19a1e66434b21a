#!/usr/bin/env python3
"""Generates helpers/src/h323/tables.rs: the ALIGNED PER walk tables for the
H.225.0 (RAS, H323-UserInformation) and H.245 (MultimediaSystemControlMessage)
types the H.323 helper reads, from the ASN.1 that pycrate ships
(pycrate_asn1dir/H225.py: H323-MESSAGES, MULTIMEDIA-SYSTEM-CONTROL,
H235-SECURITY-MESSAGES).

    pip install pycrate==0.8.1
    python3 helpers/src/h323/gen/gen_tables.py > helpers/src/h323/tables.rs

What it emits (see tables.rs's types in table.rs):
- one static per type node that the decoder may have to walk, with its PER
  encoding parameters (constraints, extensibility, root and extension
  components);
- the tags of SPEC below on the components whose values the helper needs;
- `stop` marks: a component (or extension part) from which nothing tagged can
  follow in the same length-delimited scope (the message, an open type, an
  extension addition or an OCTET STRING CONTAINING). The decoder ends the
  scope there instead of walking on, so types met only after every tagged
  field are never emitted (the kernel's STOP attribute, computed here);
- uninteresting extension additions and extension alternatives become SKIP
  (skipped by their open-type length).
"""
import sys
from pycrate_asn1rt.codecs import ASN1CodecPER
from pycrate_asn1dir import H225

MINUS_INF, PLUS_INF = H225.MINUS_INF, H225.PLUS_INF

ASN1CodecPER.ALIGNED = True
M = H225.H323_MESSAGES
H245 = H225.MULTIMEDIA_SYSTEM_CONTROL

# Entry types: (Rust name, pycrate object, tag of the root capture).
ENTRIES = [
    ("RAS_MESSAGE", M.RasMessage),
    ("H323_USER_INFORMATION", M.H323_UserInformation),
    ("MULTIMEDIA_SYSTEM_CONTROL_MESSAGE", H245.MultimediaSystemControlMessage),
]

# OCTET STRINGs that carry another encoding (H.225.0: fastStart items are
# encoded OpenLogicalChannels, h245Control items encoded H.245 messages).
CONTAINING = {
    "fastStart._item_": H245.OpenLogicalChannel,
    "h245Control._item_": H245.MultimediaSystemControlMessage,
}

# path (type name, then component names; _item_ for SEQUENCE OF items) ->
# (tag, interior). Interior tags live in shared types (addresses, data types)
# and are captured only under a tag that accepts them (capture.rs accepts());
# they do not make a component "interesting" for the stop analysis.
SPEC = {
    # RAS
    "GatekeeperRequest.rasAddress": "RasAddress",
    "GatekeeperConfirm.rasAddress": "RasAddress",
    "RegistrationRequest.callSignalAddress._item_": "CallSignalAddress",
    "RegistrationRequest.rasAddress._item_": "RasAddress",
    "RegistrationRequest.timeToLive": "TimeToLive",
    "RegistrationRequest.keepAlive": "KeepAlive",
    "RegistrationConfirm.callSignalAddress._item_": "CallSignalAddress",
    "RegistrationConfirm.timeToLive": "TimeToLive",
    "UnregistrationRequest.callSignalAddress._item_": "CallSignalAddress",
    "AdmissionRequest.destCallSignalAddress": "DestCallSignalAddress",
    "AdmissionRequest.srcCallSignalAddress": "SrcCallSignalAddress",
    "AdmissionConfirm.destCallSignalAddress": "DestCallSignalAddress",
    "LocationRequest.replyAddress": "ReplyAddress",
    "LocationConfirm.callSignalAddress": "CallSignalAddress",
    "LocationConfirm.rasAddress": "RasAddress",
    "InfoRequestResponse.rasAddress": "RasAddress",
    "InfoRequestResponse.callSignalAddress._item_": "CallSignalAddress",
    # Q.931 user-user information
    "H323-UU-PDU.h323-message-body": "Body",
    "H323-UU-PDU.h245Tunnelling": "H245Tunnelling",
    "H323-UU-PDU.h245Control._item_": "H245Control",
    "Setup-UUIE.h245Address": "H245Address",
    "Setup-UUIE.destCallSignalAddress": "DestCallSignalAddress",
    "Setup-UUIE.sourceCallSignalAddress": "SourceCallSignalAddress",
    "Setup-UUIE.fastStart._item_": "FastStart",
    "CallProceeding-UUIE.h245Address": "H245Address",
    "CallProceeding-UUIE.fastStart._item_": "FastStart",
    "Connect-UUIE.h245Address": "H245Address",
    "Connect-UUIE.fastStart._item_": "FastStart",
    "Alerting-UUIE.h245Address": "H245Address",
    "Alerting-UUIE.fastStart._item_": "FastStart",
    "Progress-UUIE.h245Address": "H245Address",
    "Progress-UUIE.fastStart._item_": "FastStart",
    "Facility-UUIE.alternativeAddress": "AlternativeAddress",
    "Facility-UUIE.reason": "FacilityReason",
    "Facility-UUIE.h245Address": "H245Address",
    "Facility-UUIE.fastStart._item_": "FastStart",
    # H.245
    "MultimediaSystemControlMessage.request": "Request",
    "MultimediaSystemControlMessage.response": "Response",
    "OpenLogicalChannel.forwardLogicalChannelNumber": "ForwardLcn",
    "OpenLogicalChannel.forwardLogicalChannelParameters": "Forward",
    "OpenLogicalChannel.forwardLogicalChannelParameters.dataType": "DataType",
    "OpenLogicalChannel.forwardLogicalChannelParameters.multiplexParameters.h2250LogicalChannelParameters": "H2250",
    "OpenLogicalChannel.reverseLogicalChannelParameters": "Reverse",
    "OpenLogicalChannel.reverseLogicalChannelParameters.dataType": "DataType",
    "OpenLogicalChannel.reverseLogicalChannelParameters.multiplexParameters.h2250LogicalChannelParameters": "H2250",
    "OpenLogicalChannel.separateStack": "SeparateStack",
    "OpenLogicalChannelAck.forwardLogicalChannelNumber": "ForwardLcn",
    "OpenLogicalChannelAck.reverseLogicalChannelParameters": "Reverse",
    "OpenLogicalChannelAck.reverseLogicalChannelParameters.reverseLogicalChannelNumber": "ReverseLcn",
    "OpenLogicalChannelAck.reverseLogicalChannelParameters.multiplexParameters.h2250LogicalChannelParameters": "H2250",
    "OpenLogicalChannelAck.separateStack": "SeparateStack",
    "OpenLogicalChannelAck.forwardMultiplexAckParameters.h2250LogicalChannelAckParameters": "H2250",
    "H2250LogicalChannelParameters.sessionID": "SessionId",
    "H2250LogicalChannelParameters.mediaChannel": "MediaChannel",
    "H2250LogicalChannelParameters.mediaControlChannel": "MediaControlChannel",
    "H2250LogicalChannelAckParameters.sessionID": "SessionId",
    "H2250LogicalChannelAckParameters.mediaChannel": "MediaChannel",
    "H2250LogicalChannelAckParameters.mediaControlChannel": "MediaControlChannel",
    "NetworkAccessParameters.networkAddress": "NetworkAddress",
    "NetworkAccessParameters.networkAddress.localAreaAddress": "LocalAreaAddress",
}
INTERIOR = {
    "TransportAddress.ipAddress.ip": "Ip4",
    "TransportAddress.ipAddress.port": "Port",
    "TransportAddress.ip6Address.ip": "Ip6",
    "TransportAddress.ip6Address.port": "Port",
    "UnicastAddress.iPAddress.network": "Ip4",
    "UnicastAddress.iPAddress.tsapIdentifier": "Port",
    "UnicastAddress.iP6Address.network": "Ip6",
    "UnicastAddress.iP6Address.tsapIdentifier": "Port",
    "DataApplicationCapability.application": "DataApplication",
    "DataApplicationCapability.application.t120": "T120",
}


def tname(o):
    """Name of the type an object is (its reference), else None."""
    tr = getattr(o, "_typeref", None)
    if tr is not None and getattr(tr, "called", None):
        return tr.called[1]
    return None


class Node:
    """One type to walk: kind and PER parameters, children as Comp lists."""

    def __init__(self, obj, name):
        self.obj, self.name = obj, name
        self.kind = None
        self.params = {}
        self.root, self.exts = [], []   # Comp lists (SEQ/CHOICE)
        self.item = None                # Comp (SEQ OF)
        self.contains = None            # Node (OCTET STRING CONTAINING)
        self.ext = False
        self.interesting = False
        self.tail = False
        self.ext_stop = False
        self.emitted = False
        self.rust = None


class Comp:
    def __init__(self, name, node, opt, tag, interior, scope_root):
        self.name, self.node, self.opt = name, node, opt
        self.tag, self.interior = tag, interior
        self.scope_root = scope_root  # wrapped in its own length: open type / extension
        self.stop = False
        self.skip = False


NODES = {}


def size_of(c):
    if c is None:
        return (0, None, False)
    lb, ub = c.lb, c.ub
    if lb is None or lb == MINUS_INF:
        lb = 0
    if ub == PLUS_INF:
        ub = None
    return (lb, ub, c.ext is not None)


def node_for(o, path):
    """Node of object o (shared by every reference to the same definition)."""
    T = o.TYPE
    if T in ("SEQUENCE", "SET", "CHOICE", "ENUMERATED"):
        key = (T, id(o._cont))
    elif T in ("SEQUENCE OF", "SET OF"):
        key = (T, id(o._cont), size_of(getattr(o, "_const_sz", None)))
    elif T in ("OBJECT IDENTIFIER", "GeneralString", "OPEN_TYPE", "UTF8String"):
        key = ("OPAQUE",)
    else:
        key = (T, repr(getattr(o, "_const_val", None)), repr(getattr(o, "_const_sz", None)),
               repr(getattr(o, "_const_alpha", None)), CONTAINING_FOR.get(path))
    if key in NODES:
        return NODES[key]
    name = tname(o) if T in ("SEQUENCE", "SET", "CHOICE") and tname(o) else path
    if T not in ("SEQUENCE", "SET", "CHOICE", "SEQUENCE OF", "SET OF", "ENUMERATED"):
        name = None  # leaf: named after its encoding once built
    n = Node(o, name)
    NODES[key] = n
    build(n, path)
    if n.name is None:
        n.name = leaf_name(n)
    return n


def leaf_name(n):
    p = n.params
    def sz(s):
        lb, ub, ext = s
        r = "%d_%s" % (lb, "MAX" if ub is None else ub) if lb != ub else "FIX_%d" % lb
        return r + ("_EXT" if ext else "")
    if n.kind == "Int":
        r = "INT_%s_%s" % ("MIN" if p["lb"] is None else p["lb"], "MAX" if p["ub"] is None else p["ub"])
        return r + ("_EXT" if p["ext"] else "")
    if n.kind in ("Bits", "Octets"):
        return n.kind.upper() + "_" + sz(p["size"])
    if n.kind == "Chars":
        return "CHARS_%s_B%d" % (sz(p["size"]), p["bits"])
    if n.kind == "Containing":
        return "CONTAINING_" + n.contains.name
    return n.kind.upper()


CONTAINING_FOR = {}


def build(n, path):
    o = n.obj
    T = o.TYPE
    if T in ("SET",):
        raise SystemExit("SET met at %s: canonical order not implemented" % path)
    if T == "SEQUENCE":
        n.kind = "Seq"
        n.ext = o._ext is not None
        base = n.name
        for k in o._root:
            n.root.append(comp(base, k, o._cont[k], k in o._root_opt, False))
        for k in (o._ext or []):
            if isinstance(k, list):
                raise SystemExit("extension group in %s" % base)
            n.exts.append(comp(base, k, o._cont[k], False, True))
    elif T == "CHOICE":
        n.kind = "Choice"
        n.ext = o._ext is not None
        base = n.name
        for k in o._root:
            n.root.append(comp(base, k, o._cont[k], False, False))
        for k in (o._ext or []):
            n.exts.append(comp(base, k, o._cont[k], False, True))
    elif T in ("SEQUENCE OF", "SET OF"):
        n.kind = "SeqOf"
        n.params["size"] = size_of(getattr(o, "_const_sz", None))
        base = n.name
        n.item = comp(base, "_item_", o._cont, False, False)
    elif T == "ENUMERATED":
        n.kind = "Enum"
        n.params = {"root": len(o._root), "ext": o._ext is not None}
    elif T == "NULL":
        n.kind = "Null"
    elif T == "BOOLEAN":
        n.kind = "Bool"
    elif T == "INTEGER":
        n.kind = "Int"
        c = o._const_val
        lb = ub = None
        ext = False
        if c is not None:
            lb, ub, ext = c.lb, c.ub, c.ext is not None
            if lb == MINUS_INF:
                lb = None
            if ub == PLUS_INF:
                ub = None
        n.params = {"lb": lb, "ub": ub, "ext": ext}
    elif T == "BIT STRING":
        n.kind = "Bits"
        n.params["size"] = size_of(getattr(o, "_const_sz", None))
    elif T == "OCTET STRING":
        cont = CONTAINING_FOR.get(path)
        if cont is not None:
            n.kind = "Containing"
            n.contains = node_for(cont, tname(cont) or cont._name)
        else:
            n.kind = "Octets"
            n.params["size"] = size_of(getattr(o, "_const_sz", None))
    elif T in ("IA5String", "NumericString", "PrintableString", "VisibleString", "BMPString"):
        n.kind = "Chars"
        n.params["size"] = size_of(getattr(o, "_const_sz", None))
        n.params["bits"] = o._get_char_dyn()
    elif T in ("OBJECT IDENTIFIER", "GeneralString", "OPEN_TYPE", "UTF8String"):
        n.kind = "Opaque"
    else:
        raise SystemExit("unsupported type %s at %s" % (T, path))


def comp(base, k, o, opt, scope_root):
    path = base + "." + k
    # CONTAINING is keyed by the last two path elements.
    tail2 = ".".join(path.split(".")[-2:])
    if tail2 in CONTAINING and path in SPEC:
        CONTAINING_FOR[path] = CONTAINING[tail2]
    tag = SPEC.get(path)
    interior = False
    if tag is None and path in INTERIOR:
        tag, interior = INTERIOR[path], True
    sub = node_for(o, path)
    c = Comp(k, sub, opt, tag, interior, scope_root)
    USED_SPEC.add(path)
    return c


USED_SPEC = set()


def children(n):
    out = list(n.root) + list(n.exts)
    if n.item is not None:
        out.append(n.item)
    return out


def analyse(entries):
    nodes = list(NODES.values())
    # interesting: a tagged (non-interior) component anywhere below
    changed = True
    while changed:
        changed = False
        for n in nodes:
            if n.interesting:
                continue
            kids = children(n)
            hit = any((c.tag and not c.interior) or c.node.interesting for c in kids)
            if n.contains is not None and n.contains.interesting:
                hit = True
            if hit:
                n.interesting = changed = True
    # occurrences
    occ = {id(n): [] for n in nodes}
    for p in nodes:
        if p.kind == "Seq":
            for i, c in enumerate(p.root):
                occ[id(c.node)].append((p, "root", i, c))
            for i, c in enumerate(p.exts):
                occ[id(c.node)].append((p, "ext", i, c))
        elif p.kind == "Choice":
            for c in p.root:
                occ[id(c.node)].append((p, "alt", 0, c))
            for c in p.exts:
                occ[id(c.node)].append((p, "extalt", 0, c))
        elif p.kind == "SeqOf":
            occ[id(p.item.node)].append((p, "item", 0, p.item))
        elif p.kind == "Containing":
            occ[id(p.contains)].append((p, "contained", 0, None))
    entry_ids = {id(e) for e in entries}

    def ci(c):
        return bool(c.tag and not c.interior) or c.node.interesting

    def later(p, where, i):
        if where == "root":
            return any(ci(c) for c in p.root[i + 1:]) or any(ci(c) for c in p.exts)
        if where == "ext":
            return any(ci(c) for c in p.exts[i + 1:])
        if where == "item":
            return ci(p.item)
        return False

    changed = True
    while changed:
        changed = False
        for n in nodes:
            if n.tail:
                continue
            if id(n) in entry_ids:
                n.tail = changed = True
                continue
            ok = bool(occ[id(n)])
            for (p, where, i, c) in occ[id(n)]:
                if where in ("ext", "extalt", "contained"):
                    continue  # own scope
                if later(p, where, i) or not p.tail:
                    ok = False
                    break
            if ok:
                n.tail = changed = True
    # stops and skips
    for n in nodes:
        if n.kind == "Seq":
            if n.tail:
                for i, c in enumerate(n.root):
                    if not ci(c) and not later(n, "root", i):
                        c.stop = True
                        break
                else:
                    if not any(ci(c) for c in n.exts):
                        n.ext_stop = True
                    else:
                        for i, c in enumerate(n.exts):
                            if not ci(c) and not later(n, "ext", i):
                                c.stop = True
                                break
            for c in n.exts:
                if not ci(c):
                    c.skip = True
        elif n.kind == "Choice":
            for c in n.root:
                if n.tail and not ci(c):
                    c.stop = True
            for c in n.exts:
                if n.tail and not ci(c):
                    c.stop = True
                elif not ci(c):
                    c.skip = True


EMIT = []
NAMES = set()


def rust_name(s):
    out = []
    prev_lower = False
    for ch in s:
        if ch.isupper() and prev_lower:
            out.append("_")
        if ch.isalnum():
            out.append(ch.upper())
        else:
            out.append("_")
        prev_lower = ch.islower() or ch.isdigit()
    r = "".join(out).replace("__", "_").strip("_")
    base, k = r, 2
    while r in NAMES:
        r = "%s_%d" % (base, k)
        k += 1
    NAMES.add(r)
    return r


def mark(n):
    """Emission closure: what the decoder can reach past stops and skips."""
    if n.emitted:
        return
    n.emitted = True
    if n.rust is None:
        n.rust = rust_name(n.name)
    EMIT.append(n)
    if n.kind == "Seq":
        for c in n.root:
            if c.stop:
                break
            mark(c.node)
        if not n.ext_stop:
            for c in n.exts:
                if c.stop:
                    break
                if not c.skip:
                    mark(c.node)
    elif n.kind == "Choice":
        for c in n.root + n.exts:
            if not c.stop and not c.skip:
                mark(c.node)
    elif n.kind == "SeqOf":
        mark(n.item.node)
    elif n.kind == "Containing":
        mark(n.contains)


def rs_size(s):
    lb, ub, ext = s
    return "Size { lb: %d, ub: %s, ext: %s }" % (lb, "None" if ub is None else "Some(%d)" % ub,
                                                 "true" if ext else "false")


def rs_opt(v):
    return "None" if v is None else "Some(%d)" % v


def rs_comp(c, ty_ref):
    return ("Comp { name: %s, tag: Tag::%s, opt: %s, stop: %s, ty: %s }"
            % (rs_str(c.name), c.tag or "None", tf(c.opt), tf(c.stop), ty_ref))


def tf(b):
    return "true" if b else "false"


def rs_str(s):
    return '"' + s + '"'


def comp_ty(c):
    if c.stop or c.skip:
        return "&SKIP"
    return "&" + c.node.rust


def emit(n, w):
    if n.kind == "Seq":
        w("pub(crate) static %s: Ty = Ty::Seq(&Seq {" % n.rust)
        w("    name: %s," % rs_str(n.name))
        w("    ext: %s," % tf(n.ext))
        w("    ext_stop: %s," % tf(n.ext_stop))
        w("    root: &[")
        stopped = False
        for c in n.root:
            w("        %s," % rs_comp(c, "&SKIP" if stopped or c.stop else comp_ty(c)))
            stopped = stopped or c.stop
        w("    ],")
        w("    exts: &[")
        stopped = n.ext_stop
        for c in n.exts:
            w("        %s," % rs_comp(c, "&SKIP" if stopped or c.stop else comp_ty(c)))
            stopped = stopped or c.stop
        w("    ],")
        w("});")
    elif n.kind == "Choice":
        w("pub(crate) static %s: Ty = Ty::Choice(&Choice {" % n.rust)
        w("    name: %s," % rs_str(n.name))
        w("    ext: %s," % tf(n.ext))
        w("    root: &[")
        for c in n.root:
            w("        %s," % rs_comp(c, comp_ty(c)))
        w("    ],")
        w("    exts: &[")
        for c in n.exts:
            w("        %s," % rs_comp(c, comp_ty(c)))
        w("    ],")
        w("});")
    elif n.kind == "SeqOf":
        w("pub(crate) static %s: Ty = Ty::SeqOf(%s, &%s);"
          % (n.rust, rs_size(n.params["size"]), rs_comp(n.item, comp_ty(n.item))))
    elif n.kind == "Enum":
        w("pub(crate) static %s: Ty = Ty::Enum { root: %d, ext: %s };"
          % (n.rust, n.params["root"], tf(n.params["ext"])))
    elif n.kind == "Int":
        p = n.params
        w("pub(crate) static %s: Ty = Ty::Int(IntRange { lb: %s, ub: %s, ext: %s });"
          % (n.rust, rs_opt(p["lb"]), rs_opt(p["ub"]), tf(p["ext"])))
    elif n.kind in ("Bits", "Octets"):
        w("pub(crate) static %s: Ty = Ty::%s(%s);" % (n.rust, n.kind, rs_size(n.params["size"])))
    elif n.kind == "Chars":
        s = n.params["size"]
        if s[1] is not None and s[0] == s[1] and s[1] * n.params["bits"] <= 32 and s[1] * n.params["bits"] > 16:
            raise SystemExit("fixed-size string with 16 < ub*b <= 32 at %s: alignment ambiguous" % n.name)
        w("pub(crate) static %s: Ty = Ty::Chars(%s, %d);" % (n.rust, rs_size(s), n.params["bits"]))
    elif n.kind == "Containing":
        w("pub(crate) static %s: Ty = Ty::Containing(&%s);" % (n.rust, n.contains.rust))
    else:
        w("pub(crate) static %s: Ty = Ty::%s;" % (n.rust, n.kind))


def depth(n, seen):
    if id(n) in seen:
        return 10 ** 6  # cycle
    seen = seen | {id(n)}
    ks = []
    if n.kind in ("Seq", "Choice"):
        ks = [c.node for c in n.root + n.exts if not c.stop and not c.skip]
    elif n.kind == "SeqOf":
        ks = [n.item.node]
    elif n.kind == "Containing":
        ks = [n.contains]
    return 1 + max([depth(k, seen) for k in ks] or [0])


def main():
    entries = [node_for(o, tname(o) or o._name) for (name, o) in ENTRIES]
    missing = (set(SPEC) | set(INTERIOR)) - USED_SPEC
    if missing:
        raise SystemExit("SPEC paths not found: %s" % sorted(missing))
    analyse(entries)
    for (name, _), e in zip(ENTRIES, entries):
        e.rust = name
        NAMES.add(name)
    for e in entries:
        mark(e)
    d = max(depth(e, set()) for e in entries)
    lines = []
    w = lines.append
    w("// @generated by helpers/src/h323/gen/gen_tables.py from pycrate's H.225.0 and")
    w("// H.245 ASN.1 (pycrate_asn1dir/H225.py). Do not edit; re-run the script.")
    w("//")
    w("// %d type nodes; deepest static walk %d levels." % (len(EMIT), d))
    w("use super::table::{Choice, Comp, IntRange, Seq, Size, Tag, Ty, SKIP};")
    w("")
    w("pub(crate) const MAX_STATIC_DEPTH: u32 = %d;" % d)
    w("")
    for n in EMIT:
        emit(n, w)
    print("\n".join(lines))
    print("tables: %d nodes, depth %d" % (len(EMIT), d), file=sys.stderr)


if __name__ == "__main__":
    main()
