//! Progress on standard error while a large capture file is read (indicatif): bytes,
//! packets per second, time left. Only for files over a few MB and only when standard
//! error is a terminal; otherwise nothing at all.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Files smaller than this are read too fast for a progress bar to help.
pub const MIN_BYTES: u64 = 8 << 20;

pub struct Progress {
    bar: ProgressBar,
    read: Arc<AtomicU64>,
}

impl Progress {
    /// A progress bar for a file of `len` bytes, or `None` when it would not help (small
    /// file, standard error not a terminal). Returns the count of bytes read for the
    /// reader to keep up to date.
    pub fn for_file(len: u64, stderr_tty: bool) -> (Arc<AtomicU64>, Option<Progress>) {
        let read = Arc::new(AtomicU64::new(0));
        if len < MIN_BYTES || !stderr_tty {
            return (read, None);
        }
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr_with_hz(5));
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} · {msg} · {eta} left")
                .expect("a valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        (read.clone(), Some(Progress { bar, read }))
    }

    /// Called after every packet read (cheap: the bar redraws a few times a second).
    pub fn packet(&self, packets: u64) {
        if packets % 1024 == 0 {
            self.bar.set_position(self.read.load(Ordering::Relaxed));
            let secs = self.bar.elapsed().as_secs_f64().max(1e-3);
            self.bar
                .set_message(format!("{packets} packets, {:.0}/s", packets as f64 / secs));
        }
    }

    /// Removes the bar before the output's end is written.
    pub fn done(&self) {
        self.bar.finish_and_clear();
    }
}
