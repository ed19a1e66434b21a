//! The nfnetlink layer: framing on `netlink-packet-core`, a blocking
//! NETLINK_NETFILTER socket on `netlink-sys`, and the three subsystems the
//! kernel path speaks: nfnetlink_cthelper ([`cthelper`]), nfnetlink_queue
//! ([`queue`]) and ctnetlink's tuple/expectation encoding ([`ct`]).
//!
//! Every message after the netlink header starts with `struct nfgenmsg
//! { u8 nfgen_family; u8 version (NFNETLINK_V0); __be16 res_id; }`; the
//! netlink message type is `subsystem << 8 | command`.
//!
//! `netlink-packet-netfilter` only models nflog and nf_tables, not
//! nfnetlink_queue, nfnetlink_cthelper or ctnetlink, so the attributes are
//! our own ([`attr`]): a non-panicking TLV view for what the kernel sends and
//! a writer for what we send, with unit tests against byte layouts derived
//! from the uapi headers.

pub mod attr;
pub mod ct;
pub mod cthelper;
pub mod queue;
pub mod route;

use netlink_packet_core::{
    NetlinkDeserializable, NetlinkHeader, NetlinkMessage, NetlinkPayload, NetlinkSerializable,
    NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_sys::{protocols::NETLINK_NETFILTER, Socket, SocketAddr};
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

pub use attr::{AttrWriter, Attrs};

/// nfnetlink subsystems (include/uapi/linux/netfilter/nfnetlink.h).
pub const NFNL_SUBSYS_CTNETLINK: u8 = 1;
pub const NFNL_SUBSYS_CTNETLINK_EXP: u8 = 2;
pub const NFNL_SUBSYS_QUEUE: u8 = 3;
pub const NFNL_SUBSYS_CTHELPER: u8 = 9;
const NFNETLINK_V0: u8 = 0;
const NFGENMSG_LEN: usize = 4;

pub const AF_UNSPEC: u8 = 0;
pub const AF_INET: u8 = libc::AF_INET as u8;
pub const AF_INET6: u8 = libc::AF_INET6 as u8;

/// One nfnetlink message body: `nfgenmsg` + attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NfMsg {
    pub subsys: u8,
    pub cmd: u8,
    pub family: u8,
    /// `res_id`, host order (the queue number for nfnetlink_queue).
    pub res_id: u16,
    /// The attribute bytes.
    pub attrs: Vec<u8>,
}

impl NfMsg {
    pub fn new(subsys: u8, cmd: u8, family: u8, res_id: u16, attrs: Vec<u8>) -> Self {
        NfMsg {
            subsys,
            cmd,
            family,
            res_id,
            attrs,
        }
    }
    pub fn attrs(&self) -> Attrs<'_> {
        Attrs::new(&self.attrs)
    }
}

impl NetlinkSerializable for NfMsg {
    fn message_type(&self) -> u16 {
        u16::from(self.subsys) << 8 | u16::from(self.cmd)
    }
    fn buffer_len(&self) -> usize {
        NFGENMSG_LEN + self.attrs.len()
    }
    fn serialize(&self, buf: &mut [u8]) {
        buf[0] = self.family;
        buf[1] = NFNETLINK_V0;
        buf[2..4].copy_from_slice(&self.res_id.to_be_bytes());
        buf[4..4 + self.attrs.len()].copy_from_slice(&self.attrs);
    }
}

/// A message body too short for `nfgenmsg`.
#[derive(Debug)]
pub struct ShortMessage;
impl fmt::Display for ShortMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("nfnetlink message shorter than nfgenmsg")
    }
}
impl std::error::Error for ShortMessage {}

impl NetlinkDeserializable for NfMsg {
    type Error = ShortMessage;
    fn deserialize(header: &NetlinkHeader, payload: &[u8]) -> Result<Self, ShortMessage> {
        let g = payload.get(..NFGENMSG_LEN).ok_or(ShortMessage)?;
        Ok(NfMsg {
            subsys: (header.message_type >> 8) as u8,
            cmd: header.message_type as u8,
            family: g[0],
            res_id: u16::from_be_bytes([g[2], g[3]]),
            attrs: payload.get(NFGENMSG_LEN..).unwrap_or(&[]).to_vec(),
        })
    }
}

/// Encodes `msg` with `flags` and `seq` into a complete netlink message.
pub fn encode(msg: NfMsg, flags: u16, seq: u32) -> Vec<u8> {
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = seq;
    let mut m = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
    m.finalize();
    let mut buf = vec![0u8; m.buffer_len()];
    m.serialize(&mut buf);
    buf
}

/// Splits a datagram into netlink messages; a malformed tail ends the walk.
pub fn messages(buf: &[u8]) -> impl Iterator<Item = NetlinkMessage<NfMsg>> + '_ {
    let mut rest = buf;
    std::iter::from_fn(move || loop {
        if rest.len() < 16 {
            return None;
        }
        let len = u32::from_ne_bytes(rest[..4].try_into().ok()?) as usize;
        if len < 16 || len > rest.len() {
            return None;
        }
        let one = &rest[..len];
        rest = rest.get(attr::align(len)..).unwrap_or(&[]);
        if let Ok(m) = NetlinkMessage::<NfMsg>::deserialize(one) {
            return Some(m);
        }
    })
}

/// An error the kernel answered with, named as errno names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    pub fn name(self) -> &'static str {
        match self.0 {
            libc::EPERM => "EPERM",
            libc::ENOENT => "ENOENT",
            libc::EINTR => "EINTR",
            libc::EIO => "EIO",
            libc::ENOMEM => "ENOMEM",
            libc::EACCES => "EACCES",
            libc::EBUSY => "EBUSY",
            libc::EEXIST => "EEXIST",
            libc::ENODEV => "ENODEV",
            libc::EINVAL => "EINVAL",
            libc::EMFILE => "EMFILE",
            libc::ENOSPC => "ENOSPC",
            libc::ERANGE => "ERANGE",
            libc::EAGAIN => "EAGAIN",
            libc::EALREADY => "EALREADY",
            libc::ENOBUFS => "ENOBUFS",
            libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
            libc::EOPNOTSUPP => "EOPNOTSUPP",
            libc::EAFNOSUPPORT => "EAFNOSUPPORT",
            libc::ETIMEDOUT => "ETIMEDOUT",
            _ => "E?",
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = io::Error::from_raw_os_error(self.0).to_string();
        let text = text.split(" (os error").next().unwrap_or(&text).to_string();
        write!(f, "{} ({})", self.name(), text)
    }
}

/// What a request can fail with.
#[derive(Debug)]
pub enum NlError {
    /// The kernel answered with an error.
    Kernel(Errno),
    /// The socket itself failed.
    Io(io::Error),
    /// No answer in time, or an answer that makes no sense.
    Protocol(String),
}

impl NlError {
    pub fn errno(&self) -> Option<i32> {
        match self {
            NlError::Kernel(e) => Some(e.0),
            NlError::Io(e) => e.raw_os_error(),
            NlError::Protocol(_) => None,
        }
    }
}

impl fmt::Display for NlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NlError::Kernel(e) => write!(f, "kernel answered {e}"),
            NlError::Io(e) => write!(
                f,
                "netlink socket: {}",
                Errno(e.raw_os_error().unwrap_or(0))
            ),
            NlError::Protocol(s) => f.write_str(s),
        }
    }
}
impl std::error::Error for NlError {}

impl From<io::Error> for NlError {
    fn from(e: io::Error) -> Self {
        NlError::Io(e)
    }
}

static SEQ: AtomicU32 = AtomicU32::new(1);

fn next_seq() -> u32 {
    SEQ.fetch_add(1, Ordering::Relaxed)
}

/// A blocking NETLINK_NETFILTER socket.
pub struct NfSocket {
    sock: Socket,
    buf: Vec<u8>,
}

impl NfSocket {
    pub fn open() -> io::Result<Self> {
        Self::open_with_buffer(1 << 17)
    }

    /// Like [`open`](Self::open) with a receive buffer of `len` bytes. The
    /// kernel sizes every dump's skb after the largest buffer a socket
    /// received with (`netlink_dump()`: up to 32 KiB, zeroed pages on
    /// kernels with init_on_alloc), so a socket that only makes small
    /// requests and dumps of a few messages (the worker's ctnetlink link)
    /// asks with a small one: a dump then costs a small skb per datagram.
    pub fn open_with_buffer(len: usize) -> io::Result<Self> {
        let mut sock = Socket::new(NETLINK_NETFILTER)?;
        sock.bind_auto()?;
        sock.connect(&SocketAddr::new(0, 0))?;
        // Extended ACKs: error messages carry the kernel's text when it
        // has one; we do not parse them yet, but the flag costs nothing.
        let _ = sock.set_ext_ack(true);
        Ok(NfSocket {
            sock,
            buf: vec![0u8; len],
        })
    }

    pub fn raw(&self) -> &Socket {
        &self.sock
    }

    /// Receive timeout (SO_RCVTIMEO); `None` blocks.
    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        let tv = match t {
            Some(d) => ::libc::timeval {
                tv_sec: d.as_secs() as ::libc::time_t,
                tv_usec: d.subsec_micros() as ::libc::suseconds_t,
            },
            None => ::libc::timeval {
                tv_sec: 0,
                tv_usec: 0,
            },
        };
        setsockopt(&self.sock, ::libc::SOL_SOCKET, ::libc::SO_RCVTIMEO, &tv)
    }

    /// Receive buffer size; tries SO_RCVBUFFORCE (CAP_NET_ADMIN) first.
    pub fn set_rcvbuf(&self, bytes: i32) {
        if setsockopt(
            &self.sock,
            ::libc::SOL_SOCKET,
            ::libc::SO_RCVBUFFORCE,
            &bytes,
        )
        .is_err()
        {
            let _ = self.sock.set_rx_buf_sz(bytes as usize);
        }
    }

    /// NETLINK_NO_ENOBUFS: do not report overruns (for queues that fail
    /// open, a packet the socket could not take was accepted already).
    pub fn set_no_enobufs(&self) -> io::Result<()> {
        self.sock.set_no_enobufs(true)
    }

    /// Sends one message as is (verdicts: no ACK asked).
    pub fn send(&self, msg: NfMsg, flags: u16) -> io::Result<()> {
        let b = encode(msg, NLM_F_REQUEST | flags, next_seq());
        self.sock.send(&b, 0)?;
        Ok(())
    }

    /// Sends a request with NLM_F_ACK and waits for its ACK or error.
    pub fn request(&mut self, msg: NfMsg, flags: u16) -> Result<(), NlError> {
        self.query(msg, flags).map(|_| ())
    }

    /// Like [`request`](Self::request), and returns the answer messages
    /// that came before the ACK (a GET's reply). Messages of other sequence
    /// numbers are skipped.
    pub fn query(&mut self, msg: NfMsg, flags: u16) -> Result<Vec<NfMsg>, NlError> {
        let seq = next_seq();
        let b = encode(msg, NLM_F_REQUEST | NLM_F_ACK | flags, seq);
        self.sock.send(&b, 0)?;
        let mut answers = Vec::new();
        loop {
            let n = self.recv_raw()?;
            for m in messages(&self.buf[..n]) {
                if m.header.sequence_number != seq {
                    continue;
                }
                match m.payload {
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok(answers),
                            Some(c) => Err(NlError::Kernel(Errno(-c.get()))),
                        }
                    }
                    NetlinkPayload::InnerMessage(i) => answers.push(i),
                    _ => {}
                }
            }
        }
    }

    /// A dump request: collects every answer message until NLMSG_DONE.
    pub fn dump(&mut self, msg: NfMsg) -> Result<Vec<NfMsg>, NlError> {
        let seq = next_seq();
        let b = encode(msg, NLM_F_REQUEST | NLM_F_DUMP, seq);
        self.sock.send(&b, 0)?;
        let mut out = Vec::new();
        loop {
            let n = self.recv_raw()?;
            for m in messages(&self.buf[..n]) {
                if m.header.sequence_number != seq {
                    continue;
                }
                match m.payload {
                    NetlinkPayload::Done(_) => return Ok(out),
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok(out),
                            Some(c) => Err(NlError::Kernel(Errno(-c.get()))),
                        }
                    }
                    NetlinkPayload::InnerMessage(i) => out.push(i),
                    _ => {}
                }
            }
        }
    }

    fn recv_raw(&mut self) -> Result<usize, NlError> {
        loop {
            match self.sock.recv(&mut &mut self.buf[..], 0) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::TimedOut =>
                {
                    return Err(NlError::Protocol("no answer from the kernel".into()))
                }
                Err(e) => return Err(NlError::Io(e)),
            }
        }
    }

    /// Receives one datagram into the internal buffer (for the queue loop).
    /// `Ok(None)` on timeout.
    pub fn recv(&mut self) -> io::Result<Option<&[u8]>> {
        loop {
            match self.sock.recv(&mut &mut self.buf[..], 0) {
                Ok(n) => return Ok(Some(&self.buf[..n])),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::TimedOut =>
                {
                    return Ok(None)
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Like [`recv`](Self::recv) but never blocks.
    pub fn try_recv(&mut self) -> io::Result<Option<&[u8]>> {
        loop {
            match self.sock.recv(&mut &mut self.buf[..], ::libc::MSG_DONTWAIT) {
                Ok(n) => return Ok(Some(&self.buf[..n])),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }
}

pub(crate) fn setsockopt<T>(sock: &Socket, level: i32, name: i32, v: &T) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: `v` points to a live, properly sized value for the duration
    // of the call; the kernel copies it.
    let r = unsafe {
        ::libc::setsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (v as *const T).cast(),
            std::mem::size_of::<T>() as ::libc::socklen_t,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Hand-built attributes for the tests of the message families.
#[cfg(test)]
pub(crate) mod test_attrs {
    /// One netlink attribute, padded to 4 bytes.
    pub fn nla(t: u16, d: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((4 + d.len()) as u16).to_ne_bytes());
        v.extend_from_slice(&t.to_ne_bytes());
        v.extend_from_slice(d);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }
    /// A nested attribute (NLA_F_NESTED) holding `parts`.
    pub fn nest(t: u16, parts: &[Vec<u8>]) -> Vec<u8> {
        nla(t | 0x8000, &parts.concat())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_nfgenmsg_layout() {
        let b = encode(
            NfMsg::new(NFNL_SUBSYS_QUEUE, 2, AF_UNSPEC, 7, vec![4, 0, 1, 0]),
            NLM_F_REQUEST | NLM_F_ACK,
            0x01020304,
        );
        let mut want = Vec::new();
        want.extend_from_slice(&24u32.to_ne_bytes()); // nlmsg_len
        want.extend_from_slice(&0x0302u16.to_ne_bytes()); // QUEUE << 8 | CONFIG
        want.extend_from_slice(&5u16.to_ne_bytes()); // REQUEST | ACK
        want.extend_from_slice(&0x01020304u32.to_ne_bytes());
        want.extend_from_slice(&0u32.to_ne_bytes()); // portid
        want.extend_from_slice(&[0, 0, 0, 7]); // family, version, res_id be16
        want.extend_from_slice(&[4, 0, 1, 0]);
        assert_eq!(b, want);
        let m: Vec<_> = messages(&b).collect();
        assert_eq!(m.len(), 1);
        match &m[0].payload {
            NetlinkPayload::InnerMessage(i) => {
                assert_eq!((i.subsys, i.cmd, i.res_id), (3, 2, 7));
                assert_eq!(i.attrs, vec![4, 0, 1, 0]);
            }
            p => panic!("{p:?}"),
        }
    }

    #[test]
    fn error_ack_is_parsed() {
        // nlmsgerr: error -16 (EBUSY) + the original header
        let mut b = Vec::new();
        b.extend_from_slice(&36u32.to_ne_bytes());
        b.extend_from_slice(&2u16.to_ne_bytes());
        b.extend_from_slice(&0u16.to_ne_bytes());
        b.extend_from_slice(&9u32.to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes());
        b.extend_from_slice(&(-16i32).to_ne_bytes());
        b.extend_from_slice(&[0u8; 16]);
        let m: Vec<_> = messages(&b).collect();
        match &m[0].payload {
            NetlinkPayload::Error(e) => assert_eq!(e.code.map(|c| c.get()), Some(-16)),
            p => panic!("{p:?}"),
        }
        assert_eq!(Errno(16).name(), "EBUSY");
        assert!(Errno(95).to_string().starts_with("EOPNOTSUPP"));
    }

    #[test]
    fn garbage_datagrams_do_not_panic() {
        for n in 0..80usize {
            let b: Vec<u8> = (0..n).map(|i| (i * 7 + n) as u8).collect();
            let _ = messages(&b).count();
        }
        let mut b = vec![0u8; 20];
        b[..4].copy_from_slice(&20u32.to_ne_bytes());
        b[4..6].copy_from_slice(&0x0900u16.to_ne_bytes());
        let _ = messages(&b).count();
    }
}
