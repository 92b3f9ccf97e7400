//! Progress on standard error while a large capture file is read (indicatif): bytes,
//! packets per second, time left. Only for files over a few MB and only when standard
//! error is a terminal; otherwise nothing at all.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Files smaller than this are read too fast for a progress bar to help.
pub const MIN_BYTES: u64 = 8 << 20;

/// Counts the bytes read through it, for the progress bar.
pub struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

pub struct Progress {
    bar: ProgressBar,
    read: Arc<AtomicU64>,
}

impl Progress {
    /// A progress bar for a file of `len` bytes, or `None` when it would not help (small
    /// file, standard error not a terminal). Returns the reader to read the file through.
    pub fn for_file<R: Read>(
        file: R,
        len: u64,
        stderr_tty: bool,
    ) -> (Counting<R>, Option<Progress>) {
        let read = Arc::new(AtomicU64::new(0));
        let counting = Counting {
            inner: file,
            read: read.clone(),
        };
        if len < MIN_BYTES || !stderr_tty {
            return (counting, None);
        }
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr_with_hz(5));
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} · {msg} · {eta} left")
                .expect("a valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        (counting, Some(Progress { bar, read }))
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
