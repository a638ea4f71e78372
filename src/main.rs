fn main() -> std::process::ExitCode {
    bound_heap_growth();
    switchyard::cli::main()
}

/// glibc raises its mmap threshold each time a large block is freed, after
/// which the multi-MiB buffers an export cycles through (Parquet pages,
/// record batches, S3 parts) come from per-thread heaps that fragment and
/// stay resident: a 2 GB export peaked ~50 MB higher that way. A fixed
/// threshold keeps such buffers in mmap, returned to the system on free.
fn bound_heap_growth() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
