//! Output settings decided once: colour (anstream's rules: `--color`, NO_COLOR, CLICOLOR,
//! CLICOLOR_FORCE, TERM=dumb, a terminal or not) for standard output and for standard
//! error, the width, the buffered standard output every command writes to, warnings on
//! standard error, and `-w FILE` / `-w -` capture files.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use super::{ColorChoice, Failure};
use crate::analysis::protocols::tls::SharedKeyLog;
use crate::frame::{Frame, Link};
use crate::render::pcap_out::{PcapFormat, PcapWriter};
use crate::render::{escape, Guard, TerminalWriter, Theme};

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub theme: Theme,
    /// The colours of what goes to standard error (warnings), decided for that stream.
    pub err_theme: Theme,
    pub width: usize,
    pub stdout_tty: bool,
    pub stdin_tty: bool,
    pub stderr_tty: bool,
}

impl Settings {
    pub fn resolve(choice: ColorChoice) -> Settings {
        let stdout_tty = io::stdout().is_terminal();
        match choice {
            ColorChoice::Always => anstream::ColorChoice::Always,
            ColorChoice::Never => anstream::ColorChoice::Never,
            ColorChoice::Auto => anstream::ColorChoice::Auto,
        }
        .write_global();
        let wants = |choice: anstream::ColorChoice| choice != anstream::ColorChoice::Never;
        let color = wants(anstream::AutoStream::choice(&io::stdout()));
        let err_color = wants(anstream::AutoStream::choice(&io::stderr()));
        // The renderers colour with `colored`; it follows the decision for stdout.
        colored::control::set_override(color);
        let width = width(stdout_tty);
        Settings {
            theme: Theme { color },
            err_theme: Theme { color: err_color },
            width,
            stdout_tty,
            stdin_tty: io::stdin().is_terminal(),
            stderr_tty: io::stderr().is_terminal(),
        }
    }

    /// Standard output for text, buffered (one lock for the whole run), through the
    /// terminal guard: nothing but the theme's colours and safe text gets out.
    pub fn stdout(&self) -> Box<dyn Write> {
        self.stdout_for(false)
    }

    /// Standard output for text, or for JSON Lines when `json` (unsafe characters as
    /// JSON escapes, so each line parses to the same value).
    pub fn stdout_for(&self, json: bool) -> Box<dyn Write> {
        let guard = if json {
            Guard::Json
        } else {
            Guard::Text {
                colour: self.theme.color,
            }
        };
        Box::new(TerminalWriter::new(
            BufWriter::with_capacity(1 << 16, io::stdout().lock()),
            guard,
        ))
    }

    /// A warning on standard error, escaped (it may quote bytes from a capture).
    pub fn warn(&self, text: &str) {
        say_colour(
            &format!("{} {}", self.err_theme.warn("warning:"), escape(text)),
            self.err_theme.color,
        );
    }
}

/// One line on standard error after `wirewalk: `, escaped (file names, messages that
/// quote a file or a capture): the one way anything reaches standard error.
pub fn say(line: &str) {
    say_colour(line, false)
}

fn say_colour(line: &str, colour: bool) {
    narrate(&format!("wirewalk: {line}"), colour)
}

/// One line on standard error as it is (a demo's narration), through the guard.
pub fn narrate(line: &str, colour: bool) {
    let mut err = TerminalWriter::new(io::stderr().lock(), Guard::Text { colour });
    let _ = writeln!(err, "{line}");
}

/// Standard output for bytes the binary itself made that are not text for a terminal
/// (`-w -` pcap, the man page, shell completions): the one unguarded way out.
pub fn raw_stdout() -> Box<dyn Write + Send> {
    Box::new(BufWriter::new(io::stdout()))
}

/// Where `-w` writes: a file, or standard output for `-w -` (pcap, as tcpdump does).
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// A capture being written by `-w`: created at once (so a bad path fails before any
/// work), its header written with the first frame's link type.
pub struct CaptureOut {
    path: PathBuf,
    out: Option<Box<dyn Write + Send>>,
    writer: Option<PcapWriter<Box<dyn Write + Send>>>,
    format: PcapFormat,
    /// Flush after every frame (live sources, standard output).
    flush_each: bool,
    /// TLS secrets to embed (a demo's own key log) and how many of its lines are written.
    secrets: Option<(SharedKeyLog, usize)>,
}

impl CaptureOut {
    pub fn create(path: &Path, flush_each: bool) -> Result<CaptureOut, Failure> {
        let (out, format): (Box<dyn Write + Send>, PcapFormat) = if is_stdout(path) {
            (raw_stdout(), PcapFormat::Pcap)
        } else {
            let file = crate::outfile::create(path).map_err(|e| {
                Failure::Message(1, format!("cannot create {}: {e}", path.display()))
            })?;
            (Box::new(BufWriter::new(file)), PcapFormat::from_path(path))
        };
        Ok(CaptureOut {
            path: path.to_path_buf(),
            out: Some(out),
            writer: None,
            format,
            flush_each: flush_each || is_stdout(path),
            secrets: None,
        })
    }

    /// Embeds the secrets of `keys` as they come: a pcapng gets each new line in a
    /// Decryption Secrets Block before the next frame (so before the records it opens,
    /// when every secret is logged before the record it protects is sent); a pcap file
    /// cannot hold them, so they go to FILE.keys beside it at the end.
    pub fn embed_secrets(&mut self, keys: SharedKeyLog) {
        self.secrets = Some((keys, 0));
    }

    /// Standard output when `-w -`, else the file's name.
    pub fn name(&self) -> String {
        if is_stdout(&self.path) {
            "standard output".into()
        } else {
            self.path.display().to_string()
        }
    }

    pub fn write(&mut self, frame: &Frame) -> io::Result<()> {
        if self.writer.is_none() {
            let out = self
                .out
                .take()
                .expect("the output exists until the first frame");
            self.writer = Some(PcapWriter::new(out, frame.link, self.format)?);
        }
        let w = self.writer.as_mut().expect("made above");
        if let Some((keys, written)) = self.secrets.as_mut() {
            if w.format() == PcapFormat::Pcapng {
                let new: Vec<String> = match keys.lock() {
                    Ok(k) => k.lines().get(*written..).unwrap_or_default().to_vec(),
                    Err(_) => Vec::new(),
                };
                w.write_tls_secrets(&new)?;
                *written += new.len();
            }
        }
        w.write(frame)?;
        if self.flush_each {
            w.flush()?;
        }
        Ok(())
    }

    /// Flushes the file (a capture of no packet still gets its header) and says how many
    /// packets it holds, on standard error.
    pub fn finish(mut self) -> Result<u64, Failure> {
        let name = self.name();
        let fail = |e: io::Error| Failure::Message(1, format!("cannot write {name}: {e}"));
        if self.writer.is_none() {
            let out = self.out.take().expect("no frame was written");
            self.writer = Some(PcapWriter::new(out, Link::Ethernet, self.format).map_err(fail)?);
        }
        let w = self.writer.take().expect("made above");
        let n = w.frames();
        let pcapng = w.format() == PcapFormat::Pcapng;
        w.finish().map_err(fail)?;
        let lines = match &self.secrets {
            Some((keys, _)) => keys.lock().map(|k| k.lines().to_vec()).unwrap_or_default(),
            None => Vec::new(),
        };
        let plural = if n == 1 { "" } else { "s" };
        if lines.is_empty() {
            say(&format!("wrote {n} packet{plural} to {name}"));
        } else if pcapng {
            say(&format!(
                "wrote {n} packet{plural} to {name}, with the TLS secrets that open them (tshark -r {name} decrypts it as it is)"
            ));
        } else if is_stdout(&self.path) {
            say(&format!(
                "wrote {n} packet{plural} to {name}; pcap cannot hold the TLS secrets (write a .pcapng file to keep them)"
            ));
        } else {
            let keys = PathBuf::from(format!("{}.keys", self.path.display()));
            let mut text = lines.join("\n");
            text.push('\n');
            std::fs::write(&keys, text).map_err(|e| {
                Failure::Message(1, format!("cannot write {}: {e}", keys.display()))
            })?;
            say(&format!(
                "wrote {n} packet{plural} to {name} and its TLS secrets to {k} (pcap cannot hold them: wirewalk inspect {name} --keylog {k})",
                k = keys.display()
            ));
        }
        Ok(n)
    }
}

/// The columns to lay text out in: the terminal's real width when standard output is
/// one, else `$COLUMNS`, else 100 (the same layout in every pipe). Never below 40.
fn width(stdout_tty: bool) -> usize {
    let of =
        |s: Option<(terminal_size::Width, terminal_size::Height)>| s.map(|(w, _)| w.0 as usize);
    let tty = if stdout_tty {
        of(terminal_size::terminal_size_of(io::stdout()))
    } else {
        None
    };
    tty.or_else(|| std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()))
        .unwrap_or(100)
        .max(40)
}
