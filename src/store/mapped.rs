//! Files read by mapping them into memory rather than copying them: an index or a cache
//! file of a few megabytes read into fresh memory costs more in page faults and copying
//! than what a short command then does with it (git maps its index for the same reason).
//!
//! Only files that are never changed in place may be mapped: git and wt replace an index by
//! renaming `index.lock` over it, and wt's cache files are replaced by temp file + rename or
//! only ever appended to (a mapping keeps the length it was made with).

use std::path::Path;

/// Files smaller than this are read: a mapping's two system calls and its page-table work
/// cost more than copying a few pages.
const MAP_MIN: u64 = 16 * 1024;

/// The bytes of a whole file, mapped (see [`read`]) or read.
pub enum FileBytes {
    #[cfg(unix)]
    Mapped(Mapped),
    Owned(Vec<u8>),
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            #[cfg(unix)]
            FileBytes::Mapped(m) => m.bytes(),
            FileBytes::Owned(v) => v,
        }
    }
}

/// The bytes of the file at `path`: mapped read-only when it is large enough to gain by it
/// and mapping works, else read. The file must be one that is replaced, never rewritten in
/// place (see the module docs).
pub fn read(path: &Path) -> std::io::Result<FileBytes> {
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    #[cfg(unix)]
    if len >= MAP_MIN {
        if let Some(m) = usize::try_from(len).ok().and_then(|l| Mapped::of(&file, l)) {
            return Ok(FileBytes::Mapped(m));
        }
    }
    let mut data = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    std::io::Read::read_to_end(&mut &file, &mut data)?;
    Ok(FileBytes::Owned(data))
}

#[cfg(unix)]
pub use unix::Mapped;

#[cfg(unix)]
mod unix {
    use std::os::fd::AsRawFd;

    /// A whole file mapped privately (read-only, or writable copy-on-write: writes go to
    /// the mapping's own copies of the pages, never to the file), unmapped on drop.
    pub struct Mapped {
        ptr: *mut libc::c_void,
        len: usize,
        writable: bool,
    }

    impl Mapped {
        /// Map the `len` bytes of `file` read-only (None for an empty file or when mmap
        /// fails).
        pub fn of(file: &std::fs::File, len: usize) -> Option<Mapped> {
            Mapped::map(file, len, false)
        }

        /// [`Mapped::of`], writable in private copies of the pages written to.
        pub fn of_private_writable(file: &std::fs::File, len: usize) -> Option<Mapped> {
            Mapped::map(file, len, true)
        }

        fn map(file: &std::fs::File, len: usize, writable: bool) -> Option<Mapped> {
            if len == 0 {
                return None;
            }
            // A read-only mapping is populated at once (every caller reads the whole file: one
            // system call instead of a page fault per 64 KiB); a writable one is not, as that
            // would copy every page of it.
            let (prot, flags) = if writable {
                (libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE)
            } else {
                (libc::PROT_READ, libc::MAP_PRIVATE | libc::MAP_POPULATE)
            };
            // SAFETY: a new private mapping of `len` bytes of an open file (MAP_PRIVATE:
            // nothing written to it reaches the file); the pointer is checked against
            // MAP_FAILED and owned by the returned value alone.
            #[allow(unsafe_code)]
            let ptr =
                unsafe { libc::mmap(std::ptr::null_mut(), len, prot, flags, file.as_raw_fd(), 0) };
            (ptr != libc::MAP_FAILED).then_some(Mapped { ptr, len, writable })
        }

        /// The bytes, to write to (empty unless mapped writable).
        #[allow(unsafe_code)]
        pub fn bytes_mut(&mut self) -> &mut [u8] {
            if !self.writable {
                return &mut [];
            }
            // SAFETY: as for `bytes`; the mapping is writable and private, and `&mut self`
            // makes this the only live slice of it.
            unsafe { std::slice::from_raw_parts_mut(self.ptr.cast::<u8>(), self.len) }
        }

        #[allow(unsafe_code)]
        pub fn bytes(&self) -> &[u8] {
            // SAFETY: `ptr` is a live mapping of `len` readable bytes until drop. git and wt
            // replace an index by renaming `index.lock` over it, never by writing the file in
            // place, so the mapped file does not change while it is mapped (git maps its
            // index the same way: read-cache.c, do_read_index).
            unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>(), self.len) }
        }
    }

    impl Drop for Mapped {
        #[allow(unsafe_code)]
        fn drop(&mut self) {
            // SAFETY: unmaps exactly the mapping made in `of`, once; no slice of it outlives
            // `self` (`bytes` borrows `self`).
            unsafe {
                libc::munmap(self.ptr, self.len);
            }
        }
    }
}
