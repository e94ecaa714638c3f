//! The `wt` binary: parse the command line and hand over to [`wt::cli::run`].

fn main() {
    keep_freed_memory();
    std::process::exit(wt::cli::run());
}

/// glibc's malloc gives memory back to the OS as soon as 128 KiB at the top of its heap are
/// free, and serves larger blocks with fresh mappings (up to a threshold that moves). A wt
/// command is short, and each git object it writes allocates and frees zlib's deflate state
/// (~260 KiB): the pages went back and were faulted in again for every object (27 `brk`
/// calls and ~90 more page faults in a `wt done`). Freed memory is kept for the process's
/// life (trimmed only above 64 MiB free) and blocks under 4 MiB come from the heap.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    #[allow(unsafe_code)]
    // SAFETY: mallopt only sets the allocator's parameters, here before any thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}
