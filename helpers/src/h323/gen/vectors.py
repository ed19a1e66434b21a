#!/usr/bin/env python3
"""Encodes H.225.0 RAS, Q.931/H.225.0 call signalling and H.245 messages
with pycrate's ALIGNED PER encoder and writes them, with the addresses put
in, as the decoder's test vectors:

    pip install pycrate==0.8.1
    python3 helpers/src/h323/gen/vectors.py > helpers/src/h323/testdata/vectors.txt

Line format (one message per line, fields separated by single spaces):
    <decoder: ras|q931|h245> <name> <hex> <expected>...
where each expected item is KIND@IP:PORT@IPOFF:PORTOFF (offsets in the
encoded message; found here by searching the encoding for the unique
address+port bytes, so they do not come from the decoder under test) or a
KEY=VALUE fact (msg=, body=, ttl=, keepalive=, tunnelling=, h245=, reason=).
"""
import ipaddress
import sys

from pycrate_asn1dir import H225

M = H225.H323_MESSAGES
S = H225.MULTIMEDIA_SYSTEM_CONTROL

OID = (0, 0, 8, 2250, 0, 4)
H245OID = (0, 0, 8, 245, 0, 3)
GUID = bytes(range(16))


def ta(ip, port):
    a = ipaddress.ip_address(ip)
    if a.version == 4:
        return ("ipAddress", {"ip": a.packed, "port": port})
    return ("ip6Address", {"ip": a.packed, "port": port})


def uni(ip, port):
    a = ipaddress.ip_address(ip)
    if a.version == 4:
        return ("unicastAddress", ("iPAddress", {"network": a.packed, "tsapIdentifier": port}))
    return ("unicastAddress", ("iP6Address", {"network": a.packed, "tsapIdentifier": port}))


def enc(obj, val):
    obj.set_val(val)
    buf = obj.to_aper()
    # pycrate must read back what it wrote (it does not always: a
    # ReleaseComplete with both reason and callIdentifier comes out one
    # octet off), else the vector would test pycrate, not the decoder.
    try:
        obj.from_aper(buf)
        ok = obj.to_aper() == buf
    except Exception:
        ok = False
    if not ok:
        print("pycrate cannot read back", obj._name, val, file=sys.stderr)
    return buf


def locate(buf, ip, port):
    pat = ipaddress.ip_address(ip).packed + port.to_bytes(2, "big")
    i = buf.find(pat)
    assert i >= 0, (ip, port)
    assert buf.find(pat, i + 1) < 0, ("ambiguous", ip, port)
    return i, i + len(pat) - 2


OUT = []


def emit(decoder, name, buf, addrs, facts, base=0):
    """addrs: list of (kind, ip, port); offsets located in buf (+base)."""
    items = ["%s=%s" % kv for kv in facts]
    for kind, ip, port in addrs:
        a, p = locate(buf, ip, port)
        items.append("%s@%s:%d@%d:%d" % (kind, ip, port, a, p))
    OUT.append(" ".join([decoder, name, buf.hex()] + items))


# --- RAS --------------------------------------------------------------------

EPT = {"mc": False, "undefinedNode": False}
VENDOR = {"vendor": {"t35CountryCode": 181, "t35Extension": 0, "manufacturerCode": 21324}}


def ras():
    emit("ras", "grq", enc(M.RasMessage, ("gatekeeperRequest", {
        "requestSeqNum": 1, "protocolIdentifier": OID,
        "rasAddress": ta("10.1.0.2", 1719), "endpointType": EPT})),
        [("ras", "10.1.0.2", 1719)], [("msg", "gatekeeperRequest")])
    emit("ras", "gcf", enc(M.RasMessage, ("gatekeeperConfirm", {
        "requestSeqNum": 1, "protocolIdentifier": OID,
        "gatekeeperIdentifier": "gk-1", "rasAddress": ta("192.0.2.7", 1719)})),
        [("ras", "192.0.2.7", 1719)], [("msg", "gatekeeperConfirm")])
    rrq = {
        "requestSeqNum": 2, "protocolIdentifier": OID, "discoveryComplete": False,
        "callSignalAddress": [ta("10.1.0.2", 1720), ta("10.1.0.3", 1721)],
        "rasAddress": [ta("10.1.0.2", 1719)],
        "terminalType": {"terminal": {}, "mc": False, "undefinedNode": False},
        "terminalAlias": [("h323-ID", "alice"), ("dialledDigits", "1001")],
        "endpointVendor": VENDOR,
        "timeToLive": 600, "keepAlive": True, "willSupplyUUIEs": False, "maintainConnection": False,
    }
    emit("ras", "rrq", enc(M.RasMessage, ("registrationRequest", rrq)),
         [("callsignal", "10.1.0.2", 1720), ("callsignal", "10.1.0.3", 1721), ("ras", "10.1.0.2", 1719)],
         [("msg", "registrationRequest"), ("ttl", 600), ("keepalive", "true")])
    rrq6 = dict(rrq, callSignalAddress=[ta("2001:db8::2", 1720)], rasAddress=[ta("2001:db8::2", 1719)],
                keepAlive=False)
    del rrq6["timeToLive"]
    emit("ras", "rrq6", enc(M.RasMessage, ("registrationRequest", rrq6)),
         [("callsignal", "2001:db8::2", 1720), ("ras", "2001:db8::2", 1719)],
         [("msg", "registrationRequest"), ("ttl", "none"), ("keepalive", "false")])
    emit("ras", "rcf", enc(M.RasMessage, ("registrationConfirm", {
        "requestSeqNum": 2, "protocolIdentifier": OID,
        "callSignalAddress": [ta("192.0.2.7", 1720)], "endpointIdentifier": "ep-42",
        "timeToLive": 300, "willRespondToIRR": False, "maintainConnection": False})),
        [("callsignal", "192.0.2.7", 1720)], [("msg", "registrationConfirm"), ("ttl", 300)])
    emit("ras", "urq", enc(M.RasMessage, ("unregistrationRequest", {
        "requestSeqNum": 3, "callSignalAddress": [ta("10.1.0.2", 1720)]})),
        [("callsignal", "10.1.0.2", 1720)], [("msg", "unregistrationRequest")])
    emit("ras", "arq", enc(M.RasMessage, ("admissionRequest", {
        "requestSeqNum": 4, "callType": ("pointToPoint", 0), "callModel": ("gatekeeperRouted", 0),
        "endpointIdentifier": "ep-42", "destinationInfo": [("dialledDigits", "2002")],
        "destCallSignalAddress": ta("198.51.100.9", 1720),
        "srcInfo": [("h323-ID", "alice")], "srcCallSignalAddress": ta("10.1.0.2", 1720),
        "bandWidth": 640, "callReferenceValue": 77, "conferenceID": GUID,
        "activeMC": False, "answerCall": False, "canMapAlias": False,
        "callIdentifier": {"guid": GUID}, "willSupplyUUIEs": False})),
        [("destcallsignal", "198.51.100.9", 1720), ("srccallsignal", "10.1.0.2", 1720)],
        [("msg", "admissionRequest")])
    emit("ras", "acf", enc(M.RasMessage, ("admissionConfirm", {
        "requestSeqNum": 4, "bandWidth": 640, "callModel": ("direct", 0),
        "destCallSignalAddress": ta("198.51.100.9", 1720), "irrFrequency": 30,
        "willRespondToIRR": False, "uuiesRequested": {k: False for k in (
            "setup", "callProceeding", "connect", "alerting", "information", "releaseComplete",
            "facility", "progress", "empty")}})),
        [("destcallsignal", "198.51.100.9", 1720)], [("msg", "admissionConfirm")])
    emit("ras", "lrq", enc(M.RasMessage, ("locationRequest", {
        "requestSeqNum": 5, "destinationInfo": [("dialledDigits", "2002")],
        "replyAddress": ta("10.1.0.2", 1719), "canMapAlias": False})),
        [("reply", "10.1.0.2", 1719)], [("msg", "locationRequest")])
    emit("ras", "lcf", enc(M.RasMessage, ("locationConfirm", {
        "requestSeqNum": 5, "callSignalAddress": ta("203.0.113.4", 1720),
        "rasAddress": ta("203.0.113.4", 1719)})),
        [("callsignal", "203.0.113.4", 1720), ("ras", "203.0.113.4", 1719)], [("msg", "locationConfirm")])
    emit("ras", "irr", enc(M.RasMessage, ("infoRequestResponse", {
        "requestSeqNum": 6, "endpointType": EPT, "endpointIdentifier": "ep-42",
        "rasAddress": ta("10.1.0.2", 1719), "callSignalAddress": [ta("10.1.0.2", 1720)],
        "needResponse": False})),
        [("ras", "10.1.0.2", 1719), ("callsignal", "10.1.0.2", 1720)], [("msg", "infoRequestResponse")])
    emit("ras", "rrj", enc(M.RasMessage, ("registrationReject", {
        "requestSeqNum": 2, "protocolIdentifier": OID,
        "rejectReason": ("discoveryRequired", 0)})), [], [("msg", "registrationReject")])


# --- H.245 ------------------------------------------------------------------

def h2250(session, media=None, control=None):
    v = {"sessionID": session}
    if media:
        v["mediaChannel"] = uni(*media)
    if control:
        v["mediaControlChannel"] = uni(*control)
    return v


def olc_val(lcn, fwd_media, rev_media=None, audio=True, t120=None):
    fwd = {
        "dataType": ("audioData", ("g711Ulaw64k", 20)) if audio else
        ("videoData", ("h261VideoCapability", {"cifMPI": 1, "temporalSpatialTradeOffCapability": False,
                                                "maxBitRate": 3840, "stillImageTransmission": False})),
        "multiplexParameters": ("h2250LogicalChannelParameters", h2250(1 if audio else 2, *fwd_media)),
    }
    v = {"forwardLogicalChannelNumber": lcn, "forwardLogicalChannelParameters": fwd}
    if rev_media is not None:
        v["reverseLogicalChannelParameters"] = {
            "dataType": fwd["dataType"],
            "multiplexParameters": ("h2250LogicalChannelParameters", h2250(1 if audio else 2, *rev_media)),
        }
    return v


def t120_olc(lcn, ip, port):
    return {
        "forwardLogicalChannelNumber": lcn,
        "forwardLogicalChannelParameters": {
            "dataType": ("data", {"application": ("t120", ("separateLANStack", 0)), "maxBitRate": 640}),
            "multiplexParameters": ("h2250LogicalChannelParameters", {"sessionID": 3}),
        },
        "separateStack": {"networkAddress": ("localAreaAddress", uni(ip, port)), "associateConference": False},
    }


def h245():
    v = ("request", ("openLogicalChannel", olc_val(1, (("10.1.0.2", 5000), ("10.1.0.2", 5001)),
                                                   (None, ("10.1.0.2", 5003)))))
    emit("h245", "olc", enc(S.MultimediaSystemControlMessage, v),
         [("media-fwd", "10.1.0.2", 5000), ("control-fwd", "10.1.0.2", 5001), ("control-rev", "10.1.0.2", 5003)],
         [("h245", "olc"), ("lcn", 1)])
    v = ("request", ("openLogicalChannel", olc_val(2, (("2001:db8::2", 5010), ("2001:db8::2", 5011)), audio=False)))
    emit("h245", "olc6-video", enc(S.MultimediaSystemControlMessage, v),
         [("media-fwd", "2001:db8::2", 5010), ("control-fwd", "2001:db8::2", 5011)],
         [("h245", "olc"), ("lcn", 2), ("media", "video")])
    v = ("request", ("openLogicalChannel", t120_olc(3, "10.1.0.2", 1503)))
    emit("h245", "olc-t120", enc(S.MultimediaSystemControlMessage, v),
         [("t120", "10.1.0.2", 1503)], [("h245", "olc"), ("lcn", 3), ("media", "t120")])
    ack = {
        "forwardLogicalChannelNumber": 1,
        "reverseLogicalChannelParameters": {
            "reverseLogicalChannelNumber": 7,
            "multiplexParameters": ("h2250LogicalChannelParameters", h2250(1, ("192.0.2.7", 6000), ("192.0.2.7", 6001))),
        },
        "forwardMultiplexAckParameters": ("h2250LogicalChannelAckParameters", {
            "mediaChannel": uni("192.0.2.7", 6002), "mediaControlChannel": uni("192.0.2.7", 6003),
            "dynamicRTPPayloadType": 101}),
    }
    emit("h245", "olcack", enc(S.MultimediaSystemControlMessage, ("response", ("openLogicalChannelAck", ack))),
         [("media-rev", "192.0.2.7", 6000), ("control-rev", "192.0.2.7", 6001),
          ("media-fwd", "192.0.2.7", 6002), ("control-fwd", "192.0.2.7", 6003)],
         [("h245", "olcack"), ("lcn", 1)])
    tcs = ("request", ("terminalCapabilitySet", {"sequenceNumber": 1, "protocolIdentifier": H245OID}))
    emit("h245", "tcs", enc(S.MultimediaSystemControlMessage, tcs), [], [("h245", "terminalCapabilitySet")])
    emit("h245", "msd", enc(S.MultimediaSystemControlMessage, ("request", ("masterSlaveDetermination", {
        "terminalType": 60, "statusDeterminationNumber": 12345}))), [], [("h245", "masterSlaveDetermination")])


# --- Q.931 ------------------------------------------------------------------

def q931(msg_type, uuie, ies=b"\x04\x03\x88\x90\xa5" + b"\x28\x05alice"):
    body = b"\x05" + uuie
    return (b"\x08\x02\x00\x2a" + bytes([msg_type]) + ies + b"\x7e" + len(body).to_bytes(2, "big") + body)


def uui(body, tunnel=None, control=None):
    pdu = {"h323-message-body": body}
    if tunnel is not None:
        pdu["h245Tunnelling"] = tunnel
    if control is not None:
        pdu["h245Control"] = control
    return enc(M.H323_UserInformation, {"h323-uu-pdu": pdu})


def setup_val(h245=None, dest=None, src=None, fast=None, extra=True):
    v = {
        "protocolIdentifier": OID,
        "sourceInfo": {"terminal": {}, "mc": False, "undefinedNode": False},
        "activeMC": False, "conferenceID": GUID, "conferenceGoal": ("create", 0),
        "callType": ("pointToPoint", 0), "callIdentifier": {"guid": GUID},
        "mediaWaitForConnect": False, "canOverlapSend": False,
        "multipleCalls": False, "maintainConnection": False,
        "sourceAddress": [("h323-ID", "alice")], "destinationAddress": [("dialledDigits", "2002")],
    }
    if h245:
        v["h245Address"] = ta(*h245)
    if dest:
        v["destCallSignalAddress"] = ta(*dest)
    if src:
        v["sourceCallSignalAddress"] = ta(*src)
    if fast:
        v["fastStart"] = fast
    if extra:
        # extension additions after fastStart (the kernel's table STOPs at
        # endpointIdentifier and loses what follows in H323-UU-PDU)
        v["endpointIdentifier"] = "ep-42"
        v["symmetricOperationRequired"] = 0
    return v


def fs(*olcs):
    return [enc(S.OpenLogicalChannel, o) for o in olcs]


def calls():
    fast = fs(olc_val(1, (None, ("10.1.0.2", 5001)), (("10.1.0.2", 5002), ("10.1.0.2", 5003))),
              olc_val(2, (None, ("10.1.0.2", 5011)), (("10.1.0.2", 5012), ("10.1.0.2", 5013)), audio=False))
    tunnelled = [enc(S.MultimediaSystemControlMessage, ("request", ("openLogicalChannel",
                 olc_val(5, (("10.1.0.2", 5100), ("10.1.0.2", 5101))))))]
    u = uui(("setup", setup_val(("10.1.0.2", 1800), ("198.51.100.9", 1720), ("10.1.0.2", 1720), fast)),
            tunnel=True, control=tunnelled)
    m = q931(0x05, u)
    emit("q931", "setup-faststart", m,
         [("h245", "10.1.0.2", 1800), ("destcallsignal", "198.51.100.9", 1720), ("sourcecallsignal", "10.1.0.2", 1720),
          ("control-fwd", "10.1.0.2", 5001), ("media-rev", "10.1.0.2", 5002), ("control-rev", "10.1.0.2", 5003),
          ("control-fwd", "10.1.0.2", 5011), ("media-rev", "10.1.0.2", 5012), ("control-rev", "10.1.0.2", 5013),
          ("media-fwd", "10.1.0.2", 5100), ("control-fwd", "10.1.0.2", 5101)],
         [("body", "setup"), ("type", 5), ("tunnelling", "true"), ("faststart", 2), ("control", 1)])
    emit("q931", "setup6", q931(0x05, uui(("setup", setup_val(("2001:db8::2", 1800), None, None,
         fs(olc_val(1, (None, ("2001:db8::2", 5001)), (("2001:db8::2", 5002), ("2001:db8::2", 5003)))),
         extra=False)))),
         [("h245", "2001:db8::2", 1800), ("control-fwd", "2001:db8::2", 5001),
          ("media-rev", "2001:db8::2", 5002), ("control-rev", "2001:db8::2", 5003)],
         [("body", "setup"), ("faststart", 1)])
    emit("q931", "setup-plain", q931(0x05, uui(("setup", setup_val(extra=False)))), [],
         [("body", "setup"), ("faststart", 0)])
    common = {"protocolIdentifier": OID, "callIdentifier": {"guid": GUID},
              "multipleCalls": False, "maintainConnection": False}
    emit("q931", "callproceeding", q931(0x02, uui(("callProceeding", dict(common,
         destinationInfo=EPT, h245Address=ta("192.0.2.7", 1801),
         fastStart=fs(olc_val(1, (None, ("192.0.2.7", 6001)), (("192.0.2.7", 6002), ("192.0.2.7", 6003)))))))),
         [("h245", "192.0.2.7", 1801), ("control-fwd", "192.0.2.7", 6001),
          ("media-rev", "192.0.2.7", 6002), ("control-rev", "192.0.2.7", 6003)],
         [("body", "callProceeding"), ("type", 2)])
    emit("q931", "alerting", q931(0x01, uui(("alerting", dict(common, destinationInfo=EPT,
         h245Address=ta("192.0.2.7", 1802))))), [("h245", "192.0.2.7", 1802)], [("body", "alerting")])
    emit("q931", "connect", q931(0x07, uui(("connect", dict(common, destinationInfo=EPT, conferenceID=GUID,
         h245Address=ta("192.0.2.7", 1803))), tunnel=False)),
         [("h245", "192.0.2.7", 1803)], [("body", "connect"), ("tunnelling", "false")])
    emit("q931", "progress", q931(0x03, uui(("progress", dict(common, destinationInfo=EPT,
         h245Address=ta("192.0.2.7", 1804))))), [("h245", "192.0.2.7", 1804)], [("body", "progress")])
    emit("q931", "facility-forward", q931(0x62, uui(("facility", {
        "protocolIdentifier": OID, "alternativeAddress": ta("203.0.113.4", 1720),
        "reason": ("callForwarded", 0), "callIdentifier": {"guid": GUID},
        "multipleCalls": False, "maintainConnection": False}))),
        [("alternative", "203.0.113.4", 1720)], [("body", "facility"), ("reason", "callForwarded")])
    emit("q931", "facility-h245", q931(0x62, uui(("facility", {
        "protocolIdentifier": OID, "reason": ("startH245", 0), "callIdentifier": {"guid": GUID},
        "h245Address": ta("10.1.0.2", 1805), "multipleCalls": False, "maintainConnection": False}))),
        [("h245", "10.1.0.2", 1805)], [("body", "facility"), ("reason", "startH245")])
    emit("q931", "release", q931(0x5a, uui(("releaseComplete", {
        "protocolIdentifier": OID, "callIdentifier": {"guid": GUID}}),
        tunnel=True, control=[enc(S.MultimediaSystemControlMessage, ("request", ("openLogicalChannel",
                                  olc_val(9, (("10.1.0.2", 5200), None)))))])),
        [("media-fwd", "10.1.0.2", 5200)], [("body", "releaseComplete"), ("control", 1)])


def fixtures():
    """Messages of the replay fixtures (tests/support/h323.rs): a tunnelled
    call, a gatekeeper-routed call to a registered endpoint, IPv6 answers."""
    common = {"protocolIdentifier": OID, "callIdentifier": {"guid": GUID},
              "multipleCalls": False, "maintainConnection": False}
    emit("q931", "setup-tunnel", q931(0x05, uui(("setup", setup_val(extra=False)), tunnel=True)), [],
         [("body", "setup"), ("tunnelling", "true")])
    olc = enc(S.MultimediaSystemControlMessage, ("request", ("openLogicalChannel",
              olc_val(1, (None, ("192.0.2.7", 6011))))))
    emit("q931", "connect-tunnel", q931(0x07, uui(("connect", dict(common, destinationInfo=EPT, conferenceID=GUID)),
         tunnel=True, control=[olc])),
         [("control-fwd", "192.0.2.7", 6011)], [("body", "connect"), ("tunnelling", "true"), ("control", 1)])
    ack = enc(S.MultimediaSystemControlMessage, ("response", ("openLogicalChannelAck", {
        "forwardLogicalChannelNumber": 1,
        "forwardMultiplexAckParameters": ("h2250LogicalChannelAckParameters", {
            "mediaChannel": uni("10.1.0.2", 5020), "mediaControlChannel": uni("10.1.0.2", 5021)})})))
    emit("q931", "facility-tunnel", q931(0x62, uui(("facility", {
        "protocolIdentifier": OID, "reason": ("undefinedReason", 0), "callIdentifier": {"guid": GUID},
        "multipleCalls": False, "maintainConnection": False}), tunnel=True, control=[ack])),
        [("media-fwd", "10.1.0.2", 5020), ("control-fwd", "10.1.0.2", 5021)],
        [("body", "facility"), ("reason", "undefinedReason"), ("tunnelling", "true"), ("control", 1)])
    # The gatekeeper (192.0.2.7) calls the endpoint it registered (10.1.0.2).
    gk_fast = fs(olc_val(1, (None, ("192.0.2.7", 6023)), (("192.0.2.7", 6020), ("192.0.2.7", 6021))))
    emit("q931", "setup-gk", q931(0x05, uui(("setup", setup_val(None, ("10.1.0.2", 1720), ("192.0.2.7", 30010),
         gk_fast, extra=False)))),
         [("destcallsignal", "10.1.0.2", 1720), ("sourcecallsignal", "192.0.2.7", 30010),
          ("control-fwd", "192.0.2.7", 6023), ("media-rev", "192.0.2.7", 6020), ("control-rev", "192.0.2.7", 6021)],
         [("body", "setup"), ("faststart", 1)])
    ep_fast = fs(olc_val(1, (None, ("10.1.0.2", 5033)), (("10.1.0.2", 5030), ("10.1.0.2", 5031))))
    body = dict(common, destinationInfo=EPT, conferenceID=GUID, fastStart=ep_fast)
    emit("q931", "connect-faststart", q931(0x07, uui(("connect", body))),
         [("control-fwd", "10.1.0.2", 5033), ("media-rev", "10.1.0.2", 5030), ("control-rev", "10.1.0.2", 5031)], [("body", "connect")])
    emit("ras", "rcf-ep", enc(M.RasMessage, ("registrationConfirm", {
        "requestSeqNum": 2, "protocolIdentifier": OID,
        "callSignalAddress": [ta("10.1.0.2", 1720)], "endpointIdentifier": "ep-42",
        "timeToLive": 300, "willRespondToIRR": False, "maintainConnection": False})),
        [("callsignal", "10.1.0.2", 1720)], [("msg", "registrationConfirm"), ("ttl", 300)])
    # (no extension additions: pycrate 0.8.1 mis-encodes an ARQ with any)
    emit("ras", "arq-answer", enc(M.RasMessage, ("admissionRequest", {
        "requestSeqNum": 7, "callType": ("pointToPoint", 0), "callModel": ("gatekeeperRouted", 0),
        "endpointIdentifier": "ep-42", "destCallSignalAddress": ta("10.1.0.2", 1720),
        "srcInfo": [("h323-ID", "gk")], "bandWidth": 640, "callReferenceValue": 78,
        "conferenceID": GUID, "activeMC": False, "answerCall": True})),
        [("destcallsignal", "10.1.0.2", 1720)], [("msg", "admissionRequest")])
    emit("ras", "acf-answer", enc(M.RasMessage, ("admissionConfirm", {
        "requestSeqNum": 7, "bandWidth": 640, "callModel": ("gatekeeperRouted", 0),
        "destCallSignalAddress": ta("10.1.0.2", 1720), "willRespondToIRR": False,
        "uuiesRequested": {k: False for k in (
            "setup", "callProceeding", "connect", "alerting", "information", "releaseComplete",
            "facility", "progress", "empty")}})),
        [("destcallsignal", "10.1.0.2", 1720)], [("msg", "admissionConfirm")])
    fast6 = fs(olc_val(1, (None, ("2001:db8::7", 6005)), (("2001:db8::7", 6002), ("2001:db8::7", 6003))))
    body = dict(common, destinationInfo=EPT, conferenceID=GUID, h245Address=ta("2001:db8::7", 1803),
                fastStart=fast6)
    emit("q931", "connect6", q931(0x07, uui(("connect", body))),
         [("h245", "2001:db8::7", 1803), ("control-fwd", "2001:db8::7", 6005), ("media-rev", "2001:db8::7", 6002), ("control-rev", "2001:db8::7", 6003)],
         [("body", "connect")])

ras()
h245()
calls()
fixtures()
print("\n".join(OUT))
