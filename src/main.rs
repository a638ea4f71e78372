fn main() -> std::process::ExitCode {
    bound_heap_growth();
    switchyard::cli::main()
}

/// glibc raises its mmap threshold each time a large block is freed, after
/// which the multi-MiB buffers an export cycles through (Parquet pages,
/// record batches, S3 parts) come from per-thread heaps that fragment and
/// stay resident: a 2 GB export peaked ~50 MB higher that way. A fixed
/// threshold keeps the largest buffers in mmap, returned to the system on
/// free, and two arenas keep the heaps from multiplying per thread. The
/// threshold is 4 MiB, not 1: at 1 MiB every column buffer of a batch was
/// mapped and faulted in afresh, which cost 0.5 s of kernel time per 5M-row
/// export (a quarter of a core on the bench) for ~15 MB less peak RSS.
fn bound_heap_growth() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
