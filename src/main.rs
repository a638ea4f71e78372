fn main() -> std::process::ExitCode {
    bound_heap_growth();
    switchyard::cli::main()
}

/// An export cycles through gigabytes of short-lived buffers (record
/// batches, Parquet pages, S3 parts). Under glibc's defaults they fragment
/// per-thread heaps and stay resident; served from mmap instead (a fixed
/// 1 MiB threshold, the earlier setting) memory stayed bounded but every
/// buffer faulted in fresh zeroed pages: 340,000 faults and 1.2 s of kernel
/// time per 5M-row export. One shared heap that serves blocks below 2 MiB
/// and keeps up to 8 MiB free at its top does both, measured with the export
/// bench and the S3 memory test: ~70,000 faults (0.55 s), a --partitions 2
/// export 125-130 MB, a 2 GB export to S3 155-162 MB (165 before). Larger heaps or
/// thresholds fault less but hold more (32 MiB mmap threshold: S3 195 MB).
fn bound_heap_growth() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 2 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 8 << 20);
    }
}
