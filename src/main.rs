/// mimalloc: a packet's text is built from many short-lived strings, and the drawing
/// threads free what the reading thread made; glibc's allocator spent a sixth of the
/// run on that (callgrind, `--threads 1` on the benchmark capture), mimalloc a fraction.
/// Its `no_thp` feature: with transparent huge pages on ("always"), its arenas in 2 MiB
/// pages doubled the peak memory of a run (22 MB → 44 MB drawing on two threads).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(wirewalk::cli::run());
}
