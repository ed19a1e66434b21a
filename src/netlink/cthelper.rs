//! nfnetlink_cthelper (include/uapi/linux/netfilter/nfnetlink_cthelper.h):
//! registering userspace helpers with the kernel.

use super::attr::{AttrWriter, Attrs};
use super::{NfMsg, AF_UNSPEC, NFNL_SUBSYS_CTHELPER};
use helpers::ExpectPolicy;

// enum nfnl_cthelper_msg_types
pub const NFNL_MSG_CTHELPER_NEW: u8 = 0;
pub const NFNL_MSG_CTHELPER_GET: u8 = 1;
pub const NFNL_MSG_CTHELPER_DEL: u8 = 2;
// enum nfnl_cthelper_type
pub const NFCTH_NAME: u16 = 1;
pub const NFCTH_TUPLE: u16 = 2;
pub const NFCTH_QUEUE_NUM: u16 = 3;
pub const NFCTH_POLICY: u16 = 4;
pub const NFCTH_PRIV_DATA_LEN: u16 = 5;
pub const NFCTH_STATUS: u16 = 6;
// enum nfnl_cthelper_policy_type
pub const NFCTH_POLICY_SET_NUM: u16 = 1;
pub const NFCTH_POLICY_SET: u16 = 2;
// enum nfnl_cthelper_pol_type
pub const NFCTH_POLICY_NAME: u16 = 1;
pub const NFCTH_POLICY_EXPECT_MAX: u16 = 2;
pub const NFCTH_POLICY_EXPECT_TIMEOUT: u16 = 3;
// enum nfnl_cthelper_tuple_type
pub const NFCTH_TUPLE_L3PROTONUM: u16 = 1;
pub const NFCTH_TUPLE_L4PROTONUM: u16 = 2;

pub const NFCT_HELPER_STATUS_DISABLED: u32 = 0;
pub const NFCT_HELPER_STATUS_ENABLED: u32 = 1;
/// NF_CT_MAX_EXPECT_CLASSES.
pub const MAX_POLICIES: usize = 4;

/// One helper registration: one name on one (l3, l4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub name: String,
    /// AF_INET / AF_INET6.
    pub l3: u8,
    pub l4: u8,
    pub queue: u16,
    pub policies: Vec<ExpectPolicy>,
    pub priv_len: u32,
}

fn put_tuple(w: &mut AttrWriter, l3: u8, l4: u8) {
    w.begin(NFCTH_TUPLE)
        .be16(NFCTH_TUPLE_L3PROTONUM, u16::from(l3))
        .u8(NFCTH_TUPLE_L4PROTONUM, l4)
        .end();
}

impl Registration {
    /// NFNL_MSG_CTHELPER_NEW: creates the helper, or updates it (queue,
    /// policy max/timeout, status) if one of this name and tuple exists.
    pub fn new_msg(&self) -> NfMsg {
        self.msg_with_status(NFCT_HELPER_STATUS_ENABLED)
    }

    /// The same registration with NFCTH_STATUS disabled: the kernel's hook
    /// (`nfnl_userspace_cthelper`) then accepts the helper's packets
    /// instead of queueing them, and conntrack confirms and seq-adjusts them
    /// as usual.
    pub fn disable_msg(&self) -> NfMsg {
        self.msg_with_status(NFCT_HELPER_STATUS_DISABLED)
    }

    fn msg_with_status(&self, status: u32) -> NfMsg {
        let mut w = AttrWriter::new();
        w.strz(NFCTH_NAME, &self.name);
        put_tuple(&mut w, self.l3, self.l4);
        w.be32(NFCTH_QUEUE_NUM, u32::from(self.queue));
        w.begin(NFCTH_POLICY);
        w.be32(NFCTH_POLICY_SET_NUM, self.policies.len() as u32);
        for (i, p) in self.policies.iter().enumerate() {
            w.begin(NFCTH_POLICY_SET + i as u16)
                .strz(NFCTH_POLICY_NAME, &p.name)
                .be32(NFCTH_POLICY_EXPECT_MAX, p.max_expected)
                .be32(NFCTH_POLICY_EXPECT_TIMEOUT, p.timeout)
                .end();
        }
        w.end();
        w.be32(NFCTH_PRIV_DATA_LEN, self.priv_len);
        w.be32(NFCTH_STATUS, status);
        NfMsg::new(
            NFNL_SUBSYS_CTHELPER,
            NFNL_MSG_CTHELPER_NEW,
            AF_UNSPEC,
            0,
            w.into_bytes(),
        )
    }

    /// NFNL_MSG_CTHELPER_DEL for this name and tuple.
    pub fn del_msg(&self) -> NfMsg {
        let mut w = AttrWriter::new();
        w.strz(NFCTH_NAME, &self.name);
        put_tuple(&mut w, self.l3, self.l4);
        NfMsg::new(
            NFNL_SUBSYS_CTHELPER,
            NFNL_MSG_CTHELPER_DEL,
            AF_UNSPEC,
            0,
            w.into_bytes(),
        )
    }
}

/// NFNL_MSG_CTHELPER_GET as a dump (all userspace helpers).
pub fn get_dump() -> NfMsg {
    NfMsg::new(
        NFNL_SUBSYS_CTHELPER,
        NFNL_MSG_CTHELPER_GET,
        AF_UNSPEC,
        0,
        Vec::new(),
    )
}

/// A helper as a dump lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    pub l3: u16,
    pub l4: u8,
    pub queue: u32,
    pub policies: Vec<ExpectPolicy>,
    pub priv_len: u32,
}

impl Listed {
    pub fn parse(a: Attrs<'_>) -> Option<Listed> {
        let name = a.get(NFCTH_NAME)?.str()?.to_string();
        let t = a.get(NFCTH_TUPLE)?.nested();
        let l3 = t.get(NFCTH_TUPLE_L3PROTONUM)?.be16()?;
        let l4 = t.get(NFCTH_TUPLE_L4PROTONUM)?.u8()?;
        let queue = a.get(NFCTH_QUEUE_NUM).and_then(|x| x.be32()).unwrap_or(0);
        let priv_len = a
            .get(NFCTH_PRIV_DATA_LEN)
            .and_then(|x| x.be32())
            .unwrap_or(0);
        let mut policies = Vec::new();
        if let Some(p) = a.get(NFCTH_POLICY) {
            let p = p.nested();
            let n = p
                .get(NFCTH_POLICY_SET_NUM)
                .and_then(|x| x.be32())
                .unwrap_or(0);
            for i in 0..(n as usize).min(MAX_POLICIES) {
                let Some(s) = p.get(NFCTH_POLICY_SET + i as u16) else {
                    break;
                };
                let s = s.nested();
                policies.push(ExpectPolicy {
                    name: s.get(NFCTH_POLICY_NAME)?.str()?.to_string(),
                    max_expected: s.get(NFCTH_POLICY_EXPECT_MAX)?.be32()?,
                    timeout: s.get(NFCTH_POLICY_EXPECT_TIMEOUT)?.be32()?,
                });
            }
        }
        Some(Listed {
            name,
            l3,
            l4,
            queue,
            policies,
            priv_len,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::netlink::test_attrs::{nest, nla};

    fn ftp(l3: u8) -> Registration {
        Registration {
            name: "ftp".into(),
            l3,
            l4: 6,
            queue: 3,
            policies: vec![ExpectPolicy {
                name: "ftp".into(),
                max_expected: 1,
                timeout: 300,
            }],
            priv_len: 24,
        }
    }

    #[test]
    fn new_msg_layout() {
        // As nfnl_cthelper_new() parses it: NAME (NUL string), TUPLE
        // {L3PROTONUM be16, L4PROTONUM u8}, QUEUE_NUM be32, POLICY
        // {SET_NUM be32, SET1 {NAME, EXPECT_MAX be32, EXPECT_TIMEOUT be32}},
        // PRIV_DATA_LEN be32, STATUS be32.
        let m = ftp(10).new_msg();
        assert_eq!((m.subsys, m.cmd, m.family, m.res_id), (9, 0, 0, 0));
        let want = [
            nla(1, b"ftp\0"),
            nest(2, &[nla(1, &[0, 10]), nla(2, &[6])]),
            nla(3, &[0, 0, 0, 3]),
            nest(
                4,
                &[
                    nla(1, &[0, 0, 0, 1]),
                    nest(
                        2,
                        &[
                            nla(1, b"ftp\0"),
                            nla(2, &[0, 0, 0, 1]),
                            nla(3, &300u32.to_be_bytes()),
                        ],
                    ),
                ],
            ),
            nla(5, &[0, 0, 0, 24]),
            nla(6, &[0, 0, 0, 1]),
        ]
        .concat();
        assert_eq!(m.attrs, want);
        // the byte image of the first attributes, spelled out
        assert_eq!(
            &m.attrs[..24],
            &[
                8, 0, 1, 0, b'f', b't', b'p', 0, // NFCTH_NAME
                20, 0, 2, 0x80, // NFCTH_TUPLE | NLA_F_NESTED (4 + 8 + 8)
                6, 0, 1, 0, 0, 10, 0, 0, // L3PROTONUM = AF_INET6, be16
                5, 0, 2, 0 // L4PROTONUM
            ]
        );
        let l = Listed::parse(Attrs::new(&m.attrs)).unwrap();
        assert_eq!(l.name, "ftp");
        assert_eq!((l.l3, l.l4, l.queue, l.priv_len), (10, 6, 3, 24));
        assert_eq!(l.policies, ftp(10).policies);
    }

    #[test]
    fn disable_differs_only_in_status() {
        let (on, off) = (ftp(2).new_msg().attrs, ftp(2).disable_msg().attrs);
        assert_eq!(on.len(), off.len());
        assert_eq!(&on[..on.len() - 8], &off[..off.len() - 8]);
        assert_eq!(&off[off.len() - 8..], &[8, 0, 6, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn del_msg_layout() {
        let m = ftp(2).del_msg();
        assert_eq!((m.subsys, m.cmd), (9, 2));
        let want = [nla(1, b"ftp\0"), nest(2, &[nla(1, &[0, 2]), nla(2, &[6])])].concat();
        assert_eq!(m.attrs, want);
    }
}
