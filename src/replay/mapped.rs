//! The capture file mapped read-only into memory, so that replay's memory
//! does not grow with the capture's length: the pages behind the reader are
//! given back as it goes ([`Mapped::done_before`]), and every frame the
//! driver keeps (a held segment, a packet to write) is copied out first.
//! Where mapping fails (a pipe, a special file) the file is read whole.

use std::fs::File;
use std::io::Read;
use std::path::Path;

pub enum Mapped {
    Map { ptr: *mut libc::c_void, len: usize },
    Read(Vec<u8>),
}

impl Mapped {
    pub fn open(path: &Path) -> std::io::Result<Mapped> {
        use std::os::fd::AsRawFd;
        let mut f = File::open(path)?;
        let meta = f.metadata()?;
        let len = usize::try_from(meta.len()).unwrap_or(0);
        if meta.is_file() && len > 0 {
            // SAFETY: a private read-only mapping of a regular file, of its
            // length; the pointer is checked against MAP_FAILED and unmapped
            // once, in Drop. A file truncated while replay reads it raises
            // SIGBUS (as for every reader of a mapped file).
            let ptr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE,
                    f.as_raw_fd(),
                    0,
                )
            };
            if ptr != libc::MAP_FAILED {
                // SAFETY: advice on the mapping just made.
                unsafe { libc::madvise(ptr, len, libc::MADV_SEQUENTIAL) };
                return Ok(Mapped::Map { ptr, len });
            }
        }
        let mut buf = Vec::new();
        f.read_to_end(&mut buf)?;
        Ok(Mapped::Read(buf))
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            // SAFETY: `ptr` maps `len` readable bytes for as long as `self`
            // lives; nothing writes to a private read-only mapping.
            Mapped::Map { ptr, len } => unsafe {
                std::slice::from_raw_parts(ptr.cast::<u8>(), *len)
            },
            Mapped::Read(b) => b,
        }
    }

    /// The reader is past `offset`: the whole pages before it leave the
    /// process's memory (MADV_DONTNEED on a private file mapping drops the
    /// pages, which read back from the file if touched again: the contents
    /// stay valid, only the resident memory goes).
    pub fn done_before(&self, offset: usize) {
        if let Mapped::Map { ptr, len } = self {
            let page = 1 << 16; // a multiple of every page size
            let end = offset.min(*len) / page * page;
            if end > 0 {
                // SAFETY: a range inside the mapping.
                unsafe { libc::madvise(*ptr, end, libc::MADV_DONTNEED) };
            }
        }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        if let Mapped::Map { ptr, len } = self {
            // SAFETY: the mapping made in `open`, unmapped once.
            unsafe { libc::munmap(*ptr, *len) };
        }
    }
}
