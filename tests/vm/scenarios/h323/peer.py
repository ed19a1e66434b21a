#!/usr/bin/env python3
"""Scripted H.323 peers for the VM scenarios (pycrate 0.8.1's H.225.0 and
H.245 ASN.1, ALIGNED PER), one role per process:

  peer.py callee  CASE --ip IP --log FILE                 (server namespace)
  peer.py caller  CASE --ip IP --server IP --log FILE     (client namespace)
  peer.py gk           --ip IP --log FILE                 (server namespace)
  peer.py endpoint     --ip IP --gk IP --log FILE         (client namespace)

CASE: direct (Setup, Connect with h245Address, a separate H.245 connection:
the callee opens a channel, the caller's OpenLogicalChannelAck names its RTP
address), faststart (the caller's receive channel in the Setup's fastStart),
tunnel (h245Tunnelling: the callee's OLC in the Connect's h245Control, the
caller's OLC Ack in a Facility's), newer (direct, with messages as pycrate's
H.225.0 v7 encodes them when the newest additions are absent: the kernel
cannot decode those, see KERNEL_FRIENDLY), forward (after the CallProceeding
the caller forwards the call with a Facility, reason callForwarded, to its
own address on port 1721; the callee calls there as the Facility arrived
and the forwarded call carries the media). gk/endpoint: GRQ/GCF, RRQ/RCF, then the
gatekeeper calls the endpoint at the call signal address it registered
(gatekeeper-routed: the Setup comes from the gatekeeper; --call-from: from
another address of the server side), the endpoint asks
admission (ARQ/ACF), answers with its receive channel in the Connect's
fastStart, then unregisters (URQ/UCF).

The side that receives media (caller, endpoint) listens on RTP_PORT and
counts; the other side sends RTP_COUNT datagrams from its RTP port to the
address and port the signalling gave it *as it arrived* (after any NAT).
Every message a peer receives is logged as `ROLE < KIND NAME HEX`, then
`ROLE rtp-sent N ADDR:PORT` / `ROLE rtp-received N`; the scenario compares
these logs between the kernel and cthelperd runs. Every value is fixed
(ports, identifiers), so runs compare byte for byte.
"""
import argparse
import ipaddress
import select
import socket
import sys
import time

from pycrate_asn1dir import H225

M = H225.H323_MESSAGES
S = H225.MULTIMEDIA_SYSTEM_CONTROL

OID = (0, 0, 8, 2250, 0, 4)
GUID = bytes(range(16))
CONF = bytes(range(16, 32))
EPT = {"terminal": {}, "mc": False, "undefinedNode": False}

Q931_PORT = 1720
RAS_PORT = 1719
H245_PORT = 1800
CALLER_SIG_SPORT = 30001   # the caller's Q.931 source port
CALLER_H245_SPORT = 30002  # the caller's H.245 source port
GK_SIG_SPORT = 30010       # the gatekeeper's Q.931 source port (its call to the endpoint)
FWD_SPORT = 30020          # the callee's source port for the forwarded call
FWD_PORT = 1721            # where the caller takes the forwarded call
RTP_PORT = 6000            # where the caller / endpoint receives RTP (RTCP: 6001)
SENDER_RTP = 7000          # the callee's / gatekeeper's RTP port (RTCP: 7001)
RTP_COUNT = 10
TIMEOUT = 30.0
CALL_TIMEOUT = 8.0        # the gatekeeper's connect to the endpoint (fails without a helper)

LOG = None
ROLE = "?"


def log(line):
    LOG.write(line + "\n")
    LOG.flush()


def die(why):
    log("%s FAIL %s" % (ROLE, why))
    sys.exit(1)


# --- encoding -------------------------------------------------------------------

def fam(ip):
    return socket.AF_INET6 if ipaddress.ip_address(ip).version == 6 else socket.AF_INET


def ta(ip, port):
    a = ipaddress.ip_address(ip)
    k = "ipAddress" if a.version == 4 else "ip6Address"
    return (k, {"ip": a.packed, "port": port})


def uni(ip, port):
    a = ipaddress.ip_address(ip)
    if a.version == 4:
        return ("unicastAddress", ("iPAddress", {"network": a.packed, "tsapIdentifier": port}))
    return ("unicastAddress", ("iP6Address", {"network": a.packed, "tsapIdentifier": port}))


def aper(obj, val):
    obj.set_val(val)
    return obj.to_aper()


def tpkt(b):
    return bytes([3, 0]) + (len(b) + 4).to_bytes(2, "big") + b


def q931(msg_type, uuie):
    body = b"\x05" + uuie
    ies = b"\x04\x03\x88\x90\xa5"  # bearer capability
    return (b"\x08\x02\x00\x2a" + bytes([msg_type]) + ies + b"\x7e" +
            len(body).to_bytes(2, "big") + body)


def uu(body, tunnel=None, control=None):
    pdu = {"h323-message-body": body}
    if tunnel is not None:
        pdu["h245Tunnelling"] = tunnel
    if control is not None:
        pdu["h245Control"] = control
    return aper(M.H323_UserInformation, {"h323-uu-pdu": pdu})


AUDIO = ("audioData", ("g711Ulaw64k", 20))


def h2250(media=None, control=None):
    v = {"sessionID": 1}
    if media:
        v["mediaChannel"] = uni(*media)
    if control:
        v["mediaControlChannel"] = uni(*control)
    return ("h2250LogicalChannelParameters", v)


def olc_transmit(lcn, ip, rtp):
    """A channel the sender transmits on from `rtp`: its RTCP address."""
    return {"forwardLogicalChannelNumber": lcn,
            "forwardLogicalChannelParameters": {
                "dataType": AUDIO, "multiplexParameters": h2250(None, (ip, rtp + 1))}}


def olc_receive(lcn, ip, port):
    """A fastStart channel the sender receives on: its RTP and RTCP addresses
    in the reverse parameters (forward: nullData, multiplex none)."""
    return {"forwardLogicalChannelNumber": lcn,
            "forwardLogicalChannelParameters": {
                "dataType": ("nullData", 0), "multiplexParameters": ("none", 0)},
            "reverseLogicalChannelParameters": {
                "dataType": AUDIO, "multiplexParameters": h2250((ip, port), (ip, port + 1))}}


def olc_ack(lcn, ip, port):
    return {"forwardLogicalChannelNumber": lcn,
            "forwardMultiplexAckParameters": ("h2250LogicalChannelAckParameters", {
                "mediaChannel": uni(ip, port), "mediaControlChannel": uni(ip, port + 1)})}


def mscm_olc(o):
    return aper(S.MultimediaSystemControlMessage, ("request", ("openLogicalChannel", o)))


def mscm_ack(a):
    return aper(S.MultimediaSystemControlMessage, ("response", ("openLogicalChannelAck", a)))


def fast(*olcs):
    return [aper(S.OpenLogicalChannel, o) for o in olcs]


def setup_uuie(me, sport, dest, fs=None, gk=False):
    v = {"protocolIdentifier": OID, "sourceAddress": [("h323-ID", "gk" if gk else "alice")],
         "sourceInfo": EPT, "destinationAddress": [("dialledDigits", "2002")],
         "destCallSignalAddress": ta(dest, Q931_PORT), "activeMC": False,
         "conferenceID": CONF, "conferenceGoal": ("create", 0), "callType": ("pointToPoint", 0),
         "sourceCallSignalAddress": ta(me, sport), "callIdentifier": {"guid": GUID},
         "mediaWaitForConnect": False, "canOverlapSend": False,
         "multipleCalls": False, "maintainConnection": False}
    if fs:
        v["fastStart"] = fs
    return ("setup", v)


COMMON = {"protocolIdentifier": OID, "callIdentifier": {"guid": GUID},
          "multipleCalls": False, "maintainConnection": False}

# The kernel's decoder (nf_conntrack_h323_asn1.c decode_seq) reads an
# open-type length for every extension addition past its tables (H.225.0
# v4), present or not: a v7 encoding that lists `displayName` (and, for
# ReleaseComplete, `destinationInfo`) without them cannot be decoded there.
# The peers send them (KERNEL_FRIENDLY), except in the `newer` case.
KERNEL_FRIENDLY = True
DISPLAY = [{"name": "peer"}]


def newer_additions(body, v):
    if not KERNEL_FRIENDLY:
        return v
    v = dict(v, displayName=DISPLAY)
    if body == "releaseComplete":
        v["destinationInfo"] = EPT
    return v


def call_proceeding():
    return ("callProceeding", dict(COMMON, destinationInfo=EPT))


def alerting():
    return ("alerting", newer_additions("alerting", dict(COMMON, destinationInfo=EPT)))


def connect(h245=None, fs=None):
    v = dict(COMMON, destinationInfo=EPT, conferenceID=CONF)
    if h245:
        v["h245Address"] = ta(*h245)
    if fs:
        v["fastStart"] = fs
    return ("connect", newer_additions("connect", v))


def facility(forward_to=None):
    v = {"protocolIdentifier": OID, "reason": ("undefinedReason", 0),
         "callIdentifier": {"guid": GUID}, "multipleCalls": False, "maintainConnection": False}
    if forward_to:
        v["reason"] = ("callForwarded", 0)
        v["alternativeAddress"] = ta(*forward_to)
    return ("facility", v)


def release():
    # (pycrate 0.8.1 mis-encodes a ReleaseComplete with reason and
    # callIdentifier: no reason.)
    return ("releaseComplete", newer_additions("releaseComplete", {
        "protocolIdentifier": OID, "callIdentifier": {"guid": GUID}}))


def ras(name, v):
    return aper(M.RasMessage, (name, v))


# --- decoding: what a peer needs from what it received ----------------------------

def ip_of(t):
    """(ip, port) of a TransportAddress or an H.245 TransportAddress value."""
    kind, v = t
    if kind == "unicastAddress":
        kind, v = v
        return str(ipaddress.ip_address(v["network"])), v["tsapIdentifier"]
    return str(ipaddress.ip_address(v["ip"])), v["port"]


def dec_q931(msg):
    """(message type, body name, body value, h245Control values) of a Q.931
    message with H.225.0 user-user information."""
    mt = msg[4]
    i = msg.index(b"\x7e", 5)
    n = int.from_bytes(msg[i + 1:i + 3], "big")
    uui = M.H323_UserInformation
    uui.from_aper(msg[i + 4:i + 3 + n])
    pdu = uui.get_val()["h323-uu-pdu"]
    name, body = pdu["h323-message-body"]
    return mt, name, body, pdu.get("h245Control", [])


def dec_h245(b):
    m = S.MultimediaSystemControlMessage
    m.from_aper(b)
    return m.get_val()


def dec_olc(b):
    o = S.OpenLogicalChannel
    o.from_aper(b)
    return o.get_val()


def reverse_media(olcs):
    """The RTP address of the first fastStart channel the sender receives on."""
    for b in olcs:
        o = dec_olc(b)
        r = o.get("reverseLogicalChannelParameters")
        if r and r["multiplexParameters"][0] == "h2250LogicalChannelParameters":
            mc = r["multiplexParameters"][1].get("mediaChannel")
            if mc:
                return ip_of(mc)
    return None


def ack_media(m):
    """The RTP address an OpenLogicalChannelAck names."""
    kind, (name, v) = m
    if kind != "response" or name != "openLogicalChannelAck":
        return None
    f = v.get("forwardMultiplexAckParameters")
    if f and f[0] == "h2250LogicalChannelAckParameters" and "mediaChannel" in f[1]:
        return ip_of(f[1]["mediaChannel"])
    return None


# --- transport ----------------------------------------------------------------------

def send_tpkt(s, b):
    s.sendall(tpkt(b))
    time.sleep(0.05)  # one TPKT per segment


def recv_tpkt(s):
    def exact(n):
        out = b""
        while len(out) < n:
            c = s.recv(n - len(out))
            if not c:
                raise EOFError("connection closed")
            out += c
        return out
    h = exact(4)
    if h[0] != 3:
        raise ValueError("not a TPKT: %s" % h.hex())
    return exact(int.from_bytes(h[2:4], "big") - 4)


def tcp_listen(ip, port):
    s = socket.socket(fam(ip), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, port))
    s.listen(4)
    s.settimeout(TIMEOUT)
    return s


def tcp_connect(ip, sport, dst, dport, timeout=TIMEOUT):
    s = socket.socket(fam(ip), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.bind((ip, sport))
    s.settimeout(timeout)
    s.connect((dst, dport))
    s.settimeout(TIMEOUT)
    return s


def accept(ls):
    c, _ = ls.accept()
    c.settimeout(TIMEOUT)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c


def got_q931(s, want):
    msg = recv_tpkt(s)
    mt, name, body, control = dec_q931(msg)
    log("%s < q931 %s %s" % (ROLE, name, msg.hex()))
    if name != want:
        die("expected %s, got %s" % (want, name))
    return body, control


def got_h245(s, what):
    b = recv_tpkt(s)
    m = dec_h245(b)
    log("%s < h245 %s %s" % (ROLE, what, b.hex()))
    return m


def rtp_receiver(ip):
    u = socket.socket(fam(ip), socket.SOCK_DGRAM)
    u.bind((ip, RTP_PORT))
    return u


def count_rtp(u, until):
    n = 0
    while True:
        left = until - time.time()
        if left <= 0:
            break
        r, _, _ = select.select([u], [], [], left)
        if not r:
            break
        u.recv(2048)
        n += 1
        if n == RTP_COUNT:
            break
    log("%s rtp-received %d" % (ROLE, n))
    return n


def send_rtp(ip, dst):
    u = socket.socket(fam(ip), socket.SOCK_DGRAM)
    u.bind((ip, SENDER_RTP))
    for i in range(RTP_COUNT):
        hdr = bytes([0x80, 0]) + i.to_bytes(2, "big") + (i * 160).to_bytes(4, "big") + b"\x12\x34\x56\x78"
        u.sendto(hdr + b"\xff" * 160, dst)
        time.sleep(0.02)
    log("%s rtp-sent %d %s:%d" % (ROLE, RTP_COUNT, dst[0], dst[1]))


# --- roles ----------------------------------------------------------------------------

def ready(a):
    """Sockets are bound: the scenario may start the other side."""
    if a.ready:
        open(a.ready, "w").close()


def callee(a):
    global KERNEL_FRIENDLY
    KERNEL_FRIENDLY = a.case != "newer"
    ls = tcp_listen(a.ip, Q931_PORT)
    hs = tcp_listen(a.ip, H245_PORT) if a.case in ("direct", "newer") else None
    ready(a)
    c = accept(ls)
    body, _ = got_q931(c, "setup")
    if a.case == "forward":
        return callee_forwarded(a, c)
    tunnel = a.case == "tunnel"
    send_tpkt(c, q931(0x02, uu(call_proceeding(), tunnel=tunnel or None)))
    send_tpkt(c, q931(0x01, uu(alerting(), tunnel=tunnel or None)))
    dst = None
    if a.case in ("direct", "newer"):
        send_tpkt(c, q931(0x07, uu(connect(h245=(a.ip, H245_PORT)), tunnel=False)))
        h = accept(hs)
        send_tpkt(h, mscm_olc(olc_transmit(1, a.ip, SENDER_RTP)))
        dst = ack_media(got_h245(h, "olcack"))
    elif a.case == "faststart":
        dst = reverse_media(body.get("fastStart", []))
        send_tpkt(c, q931(0x07, uu(connect(fs=fast(olc_transmit(1, a.ip, SENDER_RTP))))))
    elif a.case == "tunnel":
        send_tpkt(c, q931(0x07, uu(connect(), tunnel=True, control=[mscm_olc(olc_transmit(1, a.ip, SENDER_RTP))])))
        _, control = got_q931(c, "facility")
        for m in control:
            dst = dst or ack_media(dec_h245(m))
    if not dst:
        die("no media address in the signalling")
    log("%s media-address %s:%d" % (ROLE, dst[0], dst[1]))
    send_rtp(a.ip, dst)
    got_q931(c, "releaseComplete")


def callee_forwarded(a, c):
    """The caller forwards the call (to its own address, another port): the
    callee calls there, as the Facility arrived."""
    send_tpkt(c, q931(0x02, uu(call_proceeding())))
    body, _ = got_q931(c, "facility")
    alt = ip_of(body["alternativeAddress"])
    log("%s forwarded-to %s:%d" % (ROLE, alt[0], alt[1]))
    got_q931(c, "releaseComplete")
    c.close()
    try:
        f = tcp_connect(a.ip, FWD_SPORT, alt[0], alt[1], CALL_TIMEOUT)
    except OSError as e:
        log("%s call-failed %s" % (ROLE, e))
        return
    send_tpkt(f, q931(0x05, uu(setup_uuie(a.ip, FWD_SPORT, alt[0], fast(olc_transmit(1, a.ip, SENDER_RTP))))))
    body, _ = got_q931(f, "connect")
    dst = reverse_media(body.get("fastStart", []))
    if not dst:
        die("no media address in the forwarded call's Connect")
    log("%s media-address %s:%d" % (ROLE, dst[0], dst[1]))
    send_rtp(a.ip, dst)
    send_tpkt(f, q931(0x5a, uu(release())))
    time.sleep(0.3)


def caller_forwarding(a, u, c):
    fl = tcp_listen(a.ip, FWD_PORT)
    fl.settimeout(CALL_TIMEOUT + 5)
    got_q931(c, "callProceeding")
    send_tpkt(c, q931(0x62, uu(facility(forward_to=(a.ip, FWD_PORT)))))
    send_tpkt(c, q931(0x5a, uu(release())))
    try:
        f = accept(fl)
    except socket.timeout:
        log("%s no-forwarded-call" % ROLE)
        count_rtp(u, time.time() + 0.1)
        return
    got_q931(f, "setup")
    send_tpkt(f, q931(0x07, uu(connect(fs=fast(olc_receive(1, a.ip, RTP_PORT))))))
    count_rtp(u, time.time() + 6)
    got_q931(f, "releaseComplete")


def caller(a):
    global KERNEL_FRIENDLY
    KERNEL_FRIENDLY = a.case != "newer"
    u = rtp_receiver(a.ip)
    fs = None
    if a.case == "faststart":
        fs = fast(olc_transmit(1, a.ip, RTP_PORT), olc_receive(2, a.ip, RTP_PORT))
    c = tcp_connect(a.ip, CALLER_SIG_SPORT, a.server, Q931_PORT)
    tunnel = True if a.case == "tunnel" else None
    send_tpkt(c, q931(0x05, uu(setup_uuie(a.ip, CALLER_SIG_SPORT, a.server, fs), tunnel=tunnel)))
    if a.case == "forward":
        return caller_forwarding(a, u, c)
    got_q931(c, "callProceeding")
    got_q931(c, "alerting")
    body, control = got_q931(c, "connect")
    if a.case in ("direct", "newer"):
        h245 = ip_of(body["h245Address"])
        h = tcp_connect(a.ip, CALLER_H245_SPORT, h245[0], h245[1])
        got_h245(h, "olc")
        send_tpkt(h, mscm_ack(olc_ack(1, a.ip, RTP_PORT)))
    elif a.case == "tunnel":
        if not control:
            die("no tunnelled H.245 in the Connect")
        send_tpkt(c, q931(0x62, uu(facility(), tunnel=True,
                                   control=[mscm_ack(olc_ack(1, a.ip, RTP_PORT))])))
    count_rtp(u, time.time() + 6)
    send_tpkt(c, q931(0x5a, uu(release(), tunnel=tunnel)))
    time.sleep(0.3)


def gk(a):
    r = socket.socket(fam(a.ip), socket.SOCK_DGRAM)
    r.bind((a.ip, RAS_PORT))
    r.settimeout(TIMEOUT)
    ready(a)

    def got_ras(want):
        b, src = r.recvfrom(4096)
        m = M.RasMessage
        m.from_aper(b)
        name, v = m.get_val()
        log("%s < ras %s %s" % (ROLE, name, b.hex()))
        if name != want:
            die("expected %s, got %s" % (want, name))
        return v, src

    v, ep = got_ras("gatekeeperRequest")
    r.sendto(ras("gatekeeperConfirm", {"requestSeqNum": v["requestSeqNum"], "protocolIdentifier": OID,
                                       "gatekeeperIdentifier": "gk", "rasAddress": ta(a.ip, RAS_PORT)}), ep)
    v, ep = got_ras("registrationRequest")
    csa = ip_of(v["callSignalAddress"][0])
    log("%s registered %s:%d" % (ROLE, csa[0], csa[1]))
    r.sendto(ras("registrationConfirm", {
        "requestSeqNum": v["requestSeqNum"], "protocolIdentifier": OID,
        "callSignalAddress": [ta(*csa)], "gatekeeperIdentifier": "gk", "endpointIdentifier": "ep-1",
        "timeToLive": 120, "willRespondToIRR": False, "maintainConnection": False}), ep)
    time.sleep(0.3)
    # The gatekeeper-routed call to the registered endpoint (--call-from:
    # from another address, a caller that is not the gatekeeper).
    me = a.call_from or a.ip
    try:
        c = tcp_connect(me, GK_SIG_SPORT, csa[0], csa[1], CALL_TIMEOUT)
    except OSError as e:
        log("%s call-failed %s" % (ROLE, e))
        return
    fs = fast(olc_receive(1, me, SENDER_RTP + 10), olc_transmit(2, me, SENDER_RTP))
    send_tpkt(c, q931(0x05, uu(setup_uuie(me, GK_SIG_SPORT, csa[0], fs, gk=True))))
    v, ep = got_ras("admissionRequest")
    dcsa = v.get("destCallSignalAddress")
    acf = {"requestSeqNum": v["requestSeqNum"], "bandWidth": v["bandWidth"],
           "callModel": ("gatekeeperRouted", 0),
           "destCallSignalAddress": dcsa or ta(*csa), "willRespondToIRR": False,
           "uuiesRequested": {k: False for k in (
               "setup", "callProceeding", "connect", "alerting", "information", "releaseComplete",
               "facility", "progress", "empty")}}
    r.sendto(ras("admissionConfirm", acf), ep)
    body, _ = got_q931(c, "connect")
    dst = reverse_media(body.get("fastStart", []))
    if not dst:
        die("no media address in the Connect")
    log("%s media-address %s:%d" % (ROLE, dst[0], dst[1]))
    send_rtp(me, dst)
    got_q931(c, "releaseComplete")
    v, ep = got_ras("unregistrationRequest")
    r.sendto(ras("unregistrationConfirm", {"requestSeqNum": v["requestSeqNum"]}), ep)


def endpoint(a):
    u = rtp_receiver(a.ip)
    r = socket.socket(fam(a.ip), socket.SOCK_DGRAM)
    r.bind((a.ip, RAS_PORT))
    r.settimeout(TIMEOUT)
    ls = tcp_listen(a.ip, Q931_PORT)
    ls.settimeout(CALL_TIMEOUT + 5)
    g = (a.gk, RAS_PORT)

    def got_ras(want):
        b, _ = r.recvfrom(4096)
        m = M.RasMessage
        m.from_aper(b)
        name, v = m.get_val()
        log("%s < ras %s %s" % (ROLE, name, b.hex()))
        if name != want:
            die("expected %s, got %s" % (want, name))
        return v

    r.sendto(ras("gatekeeperRequest", {"requestSeqNum": 1, "protocolIdentifier": OID,
                                       "rasAddress": ta(a.ip, RAS_PORT), "endpointType": EPT}), g)
    got_ras("gatekeeperConfirm")
    r.sendto(ras("registrationRequest", {
        "requestSeqNum": 2, "protocolIdentifier": OID, "discoveryComplete": True,
        "callSignalAddress": [ta(a.ip, Q931_PORT)], "rasAddress": [ta(a.ip, RAS_PORT)],
        "terminalType": EPT, "terminalAlias": [("h323-ID", "bob")],
        "endpointVendor": {"vendor": {"t35CountryCode": 181, "t35Extension": 0, "manufacturerCode": 1}},
        "timeToLive": 120, "keepAlive": False, "willSupplyUUIEs": False,
        "maintainConnection": False}), g)
    got_ras("registrationConfirm")
    try:
        c, peer = ls.accept()
        c.settimeout(TIMEOUT)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except socket.timeout:
        log("%s no-call" % ROLE)
        count_rtp(u, time.time() + 0.1)
        return
    log("%s call-from %s" % (ROLE, peer[0]))
    got_q931(c, "setup")
    # Answering ARQ: no srcCallSignalAddress and no extension additions
    # (pycrate 0.8.1 mis-encodes an ARQ with any of them).
    r.sendto(ras("admissionRequest", {
        "requestSeqNum": 3, "callType": ("pointToPoint", 0), "callModel": ("gatekeeperRouted", 0),
        "endpointIdentifier": "ep-1", "destCallSignalAddress": ta(a.ip, Q931_PORT),
        "srcInfo": [("h323-ID", "gk")], "bandWidth": 640, "callReferenceValue": 42,
        "conferenceID": CONF, "activeMC": False, "answerCall": True}), g)
    got_ras("admissionConfirm")
    send_tpkt(c, q931(0x07, uu(connect(fs=fast(olc_receive(1, a.ip, RTP_PORT))))))
    count_rtp(u, time.time() + 6)
    send_tpkt(c, q931(0x5a, uu(release())))
    time.sleep(0.3)
    r.sendto(ras("unregistrationRequest", {"requestSeqNum": 4,
                                           "callSignalAddress": [ta(a.ip, Q931_PORT)]}), g)
    got_ras("unregistrationConfirm")


def main():
    global LOG, ROLE
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=["callee", "caller", "gk", "endpoint"])
    p.add_argument("case", nargs="?", default="direct", choices=["direct", "newer", "faststart", "tunnel", "forward", "gk"])
    p.add_argument("--ip", required=True)
    p.add_argument("--server")
    p.add_argument("--gk")
    p.add_argument("--call-from", help="gk: the address its call to the endpoint comes from")
    p.add_argument("--log", required=True)
    p.add_argument("--ready", help="file created once the sockets are bound")
    a = p.parse_args()
    LOG = open(a.log, "a")
    ROLE = a.role
    try:
        {"callee": callee, "caller": caller, "gk": gk, "endpoint": endpoint}[a.role](a)
    except Exception as e:  # noqa: BLE001 -- every failure goes to the log
        die("%s: %s" % (type(e).__name__, e))
    log("%s done" % ROLE)


if __name__ == "__main__":
    main()
