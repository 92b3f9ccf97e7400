/// mimalloc: a packet's text is built from many short-lived strings, and the drawing
/// threads free what the reading thread made; glibc's allocator spent a sixth of the
/// run on that (callgrind, `--threads 1` on the benchmark capture), mimalloc a fraction.
/// Its `no_thp` feature: with transparent huge pages on ("always"), its arenas in 2 MiB
/// pages doubled the peak memory of a run (22 MB → 44 MB drawing on two threads).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_delay` option (`mi_option_purge_delay` in its `mimalloc.h`; the
/// Rust binding names no constant for it): how long freed pages stay committed. Its
/// default of a second let the freed reassembly buffers of a 30,000-conversation SYN
/// flood stay resident (77 MB peak against 53 MB returned at once, tests/hostile.rs).
/// Returned at once (0), though, every page the drawing threads freed was an madvise
/// call: a fifth of the run in the kernel on two threads (`--summary`, 100k packets,
/// 0.25 s against 0.15 s on one). Ten milliseconds keeps both: 54 MB on the flood,
/// no time in the kernel.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
const PURGE_DELAY_MS: std::os::raw::c_long = 10;

fn main() {
    // SAFETY: sets one of mimalloc's own options before any thread is started.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    std::process::exit(wirewalk::cli::run());
}
