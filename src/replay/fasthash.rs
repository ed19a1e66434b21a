//! A fast hasher for replay's tables (flows by tuple, expectations by
//! destination and master): a multiply-rotate word hash in the manner of
//! rustc's FxHash, seeded per process. SipHash cost replay a fifth of its
//! time on a 1M-packet capture. It is not collision-resistant against a
//! capture crafted for it, which costs only the time of that replay (the
//! daemon keeps no such tables: the kernel holds its conntrack state).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

const K: u64 = 0xf135_7aea_2e62_a9c5;

#[derive(Clone, Copy)]
pub struct Fast(u64);

impl Hasher for Fast {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.write_u64(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }
    fn write_u16(&mut self, i: u16) {
        self.write_u64(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(K);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    fn finish(&self) -> u64 {
        // Fold the high bits down: hashbrown takes the top 7 bits as the
        // tag and the low bits as the bucket.
        self.0 ^ (self.0 >> 29)
    }
}

#[derive(Clone, Copy)]
pub struct FastState(u64);

impl Default for FastState {
    fn default() -> Self {
        use std::sync::OnceLock;
        static SEED: OnceLock<u64> = OnceLock::new();
        let seed = *SEED.get_or_init(|| {
            let s = std::collections::hash_map::RandomState::new();
            s.hash_one(0x5eed_u64)
        });
        FastState(seed)
    }
}

impl BuildHasher for FastState {
    type Hasher = Fast;
    fn build_hasher(&self) -> Fast {
        Fast(self.0)
    }
}

pub type FastMap<K, V> = HashMap<K, V, FastState>;
