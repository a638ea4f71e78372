fn main() -> std::process::ExitCode {
    bound_heap_growth();
    switchyard::cli::main()
}

/// An export cycles through gigabytes of short-lived buffers (record
/// batches, Parquet pages, S3 parts). glibc's defaults let them fragment
/// per-thread heaps and stay resident; serving everything from 1 MiB up by
/// mmap (the earlier setting) bounded memory but faulted in fresh pages for
/// every buffer: 340,000 faults, 1.2 s of kernel time per 5M-row export.
/// One heap, mmap only from 2 MiB and at most 8 MiB kept free at the top:
/// ~70,000 faults (0.55 s), 125-130 MB for the partitioned export bench and
/// 155-162 MB for a 2 GB export to S3 (165 before). Larger thresholds fault
/// less but hold more (mmap from 32 MiB: 195 MB on S3).
fn bound_heap_growth() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 2 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 8 << 20);
    }
}
