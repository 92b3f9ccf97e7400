//! The layer tree: every packet from the wire up, one OSI layer a line, each in its
//! colour, with the plain-language explanation under it.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};

use super::{escape, Render, Theme};
use crate::analysis::app::AppMessage;
use crate::analysis::{Analyzer, Transport};
use crate::dissect::{Header, Level, TcpFlags};
use crate::explain;
use crate::pipeline::Packet;

/// Settings for the tree, decided once by the command line.
#[derive(Debug, Clone, Copy)]
pub struct TreeOptions {
    pub theme: Theme,
    /// Wrap explanations at this many columns.
    pub width: usize,
    /// Show the plain-language explanations (off: values only).
    pub explain: bool,
    /// Repeat every explanation on every packet (off: each is given once per
    /// conversation, the first time it applies).
    pub repeat: bool,
}

pub struct TreeRender {
    opts: TreeOptions,
    first_time: Option<crate::frame::Timestamp>,
    /// Explanations already given, per conversation (bounded: forgotten past a limit).
    seen: HashMap<u32, HashSet<u64, Prehashed>>,
    /// The conversation of the packet being drawn (u32::MAX: none).
    current: u32,
    /// "  L4 Transport    ", coloured, for each OSI layer (made once).
    labels: Vec<String>,
    /// One packet's text, written in one call.
    buf: Vec<u8>,
    /// A line being put together (reused).
    line: String,
}

/// The rule after a packet's title, cut to the width.
const RULE: &str = "────────────────────────────────────────────────────────────";

/// How many conversations' explanations are remembered before starting afresh.
const SEEN_LIMIT: usize = 4096;

/// The set's values are FNV hashes already: hashing them again would be wasted work.
#[derive(Default, Clone, Copy)]
struct Unhashed(u64);

impl std::hash::Hasher for Unhashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | *b as u64;
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Prehashed = std::hash::BuildHasherDefault<Unhashed>;

/// FNV-1a: the kinds hashed here are short, known strings, not attacker-chosen keys.
fn hash_of(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

const LABEL_WIDTH: usize = 18;

/// Word-wraps `text` to `width` columns, every line indented by `indent` spaces.
pub fn wrap(text: &str, width: usize, indent: usize) -> Vec<String> {
    let avail = width.saturating_sub(indent).max(20);
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut len = 0;
        for word in para.split(' ') {
            let wlen = word.chars().count();
            if len > 0 && len + 1 + wlen > avail {
                lines.push(std::mem::take(&mut line));
                len = 0;
            }
            if len > 0 {
                line.push(' ');
                len += 1;
            }
            line.push_str(word);
            len += wlen;
        }
        lines.push(line);
    }
    let pad = " ".repeat(indent);
    lines.into_iter().map(|l| format!("{pad}{l}")).collect()
}

impl TreeRender {
    pub fn new(opts: TreeOptions) -> TreeRender {
        TreeRender {
            opts,
            first_time: None,
            seen: HashMap::new(),
            current: u32::MAX,
            labels: (0..=7u8)
                .map(|osi| {
                    let text = format!("L{osi} {}", explain::osi_name(osi));
                    opts.theme
                        .layer_bold(osi, &format!("  {text:<w$}", w = LABEL_WIDTH - 2))
                        .into_owned()
                })
                .collect(),
            buf: Vec::new(),
            line: String::new(),
        }
    }

    /// True the first time `kind` comes up in the current conversation (always, with
    /// `repeat`): a learner is told each thing once, not on every packet.
    fn is_new(&mut self, kind: &str) -> bool {
        if self.opts.repeat {
            return true;
        }
        if self.seen.len() > SEEN_LIMIT {
            self.seen.clear();
        }
        self.seen
            .entry(self.current)
            .or_default()
            .insert(hash_of(kind))
    }

    /// Times are shown relative to this instant (by default, the first packet of the capture).
    pub fn set_start(&mut self, t: crate::frame::Timestamp) {
        self.first_time = Some(t);
    }

    fn label(&self, osi: u8) -> &str {
        &self.labels[osi.min(7) as usize]
    }

    /// Writes an explanation, unless this kind of explanation was given already.
    fn prose_once(
        &mut self,
        out: &mut dyn Write,
        kind: &str,
        text: impl FnOnce() -> String,
    ) -> io::Result<()> {
        if self.opts.explain && self.is_new(kind) {
            self.prose(out, &text())?;
        }
        Ok(())
    }

    fn prose(&self, out: &mut dyn Write, text: &str) -> io::Result<()> {
        if !self.opts.explain || text.is_empty() {
            return Ok(());
        }
        for line in wrap(&escape(text), self.opts.width, LABEL_WIDTH) {
            writeln!(out, "{}", self.opts.theme.dim(&line))?;
        }
        Ok(())
    }

    /// The header line of a packet.
    pub fn title(&mut self, p: &Packet, an: &Analyzer) -> String {
        let mut t = String::new();
        self.title_into(&mut t, p, an);
        t
    }

    /// Appends the header line of a packet to `t`.
    fn title_into(&mut self, t: &mut String, p: &Packet, an: &Analyzer) {
        use std::fmt::Write as _;
        // Relative to the first packet of the capture (as Wireshark), not the first shown.
        let first = *self
            .first_time
            .get_or_insert(an.totals.first.unwrap_or(p.frame.time));
        let rel = p.frame.time.since(first);
        let _ = write!(
            t,
            "Packet {} · {:+.6} s · {} bytes",
            p.frame.number, rel, p.frame.wire_len
        );
        if let (Some(tr), Some(s)) = (p.analysis.transport, p.analysis.stream) {
            let name = if tr == Transport::Tcp { "TCP" } else { "UDP" };
            let _ = write!(t, " · {name} stream {s}");
            if let Some(c) = an.conversation(tr, s) {
                let from_client = p.analysis.from_client.unwrap_or(true);
                let (cl, sv) = (c.endpoints[c.client()], c.endpoints[1 - c.client()]);
                if tr == Transport::Tcp {
                    t.push_str(if from_client {
                        " · client → server"
                    } else {
                        " · server → client"
                    });
                } else {
                    let _ = write!(
                        t,
                        " · {} → {}",
                        if from_client { cl } else { sv },
                        if from_client { sv } else { cl }
                    );
                }
            }
        }
    }
}

impl Render for TreeRender {
    fn packet(&mut self, out: &mut dyn Write, p: &Packet, an: &Analyzer) -> io::Result<()> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let drawn = self.draw(&mut buf, p, an);
        let written = out.write_all(&buf);
        self.buf = buf;
        drawn.and(written)
    }

    fn finish(
        &mut self,
        out: &mut dyn Write,
        an: &Analyzer,
        source_warnings: &[String],
    ) -> io::Result<()> {
        finish_text(out, an, source_warnings, self.opts.theme)
    }
}

impl TreeRender {
    /// Draws one packet into `out`.
    fn draw(&mut self, out: &mut Vec<u8>, p: &Packet, an: &Analyzer) -> io::Result<()> {
        let th = self.opts.theme;
        self.current = p
            .analysis
            .stream
            .map(|s| {
                if p.analysis.transport == Some(Transport::Udp) {
                    s | 1 << 31
                } else {
                    s
                }
            })
            .unwrap_or(u32::MAX);
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        line.push_str("── ");
        self.title_into(&mut line, p, an);
        line.push(' ');
        let rule = self
            .opts
            .width
            .saturating_sub(line.chars().count() + 1)
            .min(RULE.len() / 3);
        line.push_str(&RULE[..rule * 3]);
        writeln!(out, "{}", th.bold(&line))?;
        self.line = line;

        // L1: the bits on the wire.
        let (wire, cap) = (p.frame.wire_len, p.frame.data.len());
        let l1 = if p.frame.is_cut() {
            "layers.physical.cut"
        } else {
            "layers.physical.text"
        };
        writeln!(
            out,
            "{}{} bytes on the wire, {} captured",
            self.label(1),
            wire,
            cap
        )?;
        self.prose_once(out, l1, || {
            let (w, c, b) = (
                wire.to_string(),
                cap.to_string(),
                (wire as u64 * 8).to_string(),
            );
            explain::text(l1, &[("wire", &w), ("captured", &c), ("bits", &b)])
        })?;

        for layer in &p.dissection.layers {
            let osi = layer.osi();
            let name = match layer.header.protocol() {
                "ethernet" => "Ethernet II",
                "linux-sll" => "Linux cooked (SLL)",
                "linux-sll2" => "Linux cooked (SLL2)",
                "null" => "BSD loopback",
                "nflog" => "NFLOG",
                "vlan" => "802.1Q VLAN",
                "arp" => "ARP",
                "ipv4" => "IPv4",
                "ipv6" => "IPv6",
                "tcp" => "TCP",
                "udp" => "UDP",
                "icmp" => "ICMP",
                "icmpv6" => "ICMPv6",
                "dns" => "DNS",
                other => other,
            };
            if osi == 7 {
                self.session_lines(out, p, an)?;
            }
            let mut head = std::mem::take(&mut self.line);
            head.clear();
            explain::layer_headline_into(&mut head, layer);
            writeln!(
                out,
                "{}{}  {}",
                self.label(osi),
                th.layer_bold(osi, name),
                th.layer(osi, &escape(&head))
            )?;
            self.line = head;
            if self.opts.explain {
                let kind = match &layer.header {
                    Header::Tcp(t) => format!("tcp:{}", explain::tcp_kind(t)),
                    h => h.protocol().to_string(),
                };
                if let Header::Tcp(t) = &layer.header {
                    // What TCP is for, once; what this kind of segment does, once per kind.
                    let mut text = String::new();
                    if self.is_new("tcp:intro") {
                        explain::tcp_intro(&mut text, t);
                        text.push(' ');
                    }
                    if self.is_new(&kind) {
                        explain::tcp_step(&mut text, t);
                    }
                    self.prose(out, text.trim_end())?;
                } else if self.is_new(&kind) {
                    let mut text = String::new();
                    explain::layer_explain(&mut text, layer);
                    self.prose(out, &text)?;
                }
                let details = explain::layer_details_wanted(layer, &mut |key| self.is_new(key));
                for d in details {
                    for line in wrap(&format!("· {}", escape(&d)), self.opts.width, LABEL_WIDTH) {
                        writeln!(out, "{line}")?;
                    }
                }
            }
        }
        if !p.dissection.layers.iter().any(|l| l.osi() == 7) {
            self.session_lines(out, p, an)?;
        }
        for a in &p.analysis.app {
            let checks: Vec<String> = a.checks.iter().map(explain::check).collect();
            if let AppMessage::Stopped(_) = a.message {
                for c in checks {
                    for line in wrap(&format!("! {}", escape(&c)), self.opts.width, 2) {
                        writeln!(out, "{}", th.warn(&line))?;
                    }
                }
                continue;
            }
            let name = match &a.message {
                AppMessage::Http(_) => "HTTP",
                AppMessage::WebSocket(_) => "WebSocket",
                AppMessage::EngineIo(_) => "Engine.IO",
                AppMessage::SocketIo(_) => "Socket.IO",
                AppMessage::Stopped(_) => "",
            };
            writeln!(
                out,
                "{}{}  {}",
                self.label(7),
                th.layer_bold(7, name),
                th.layer(7, &escape(&explain::app_headline(a)))
            )?;
            if a.frames.len() > 1 {
                let list: Vec<String> = a.frames.iter().map(|f| f.to_string()).collect();
                writeln!(
                    out,
                    "{}",
                    th.dim(&format!(
                        "{:w$}carried by frames {}",
                        "",
                        list.join(", "),
                        w = LABEL_WIDTH
                    ))
                )?;
            }
            if let AppMessage::Http(h) = &a.message {
                if self.opts.explain {
                    for (k, v) in h.headers.iter().take(24) {
                        writeln!(
                            out,
                            "{:w$}{}: {}",
                            "",
                            th.layer(7, &escape(k)),
                            escape(v),
                            w = LABEL_WIDTH
                        )?;
                    }
                }
            }
            let mut text = String::new();
            explain::app_explain(&mut text, a);
            let kind = format!(
                "app:{}",
                explain::app_headline(a).split(' ').next().unwrap_or("")
            );
            if a.push || matches!(a.message, AppMessage::Http(_) | AppMessage::SocketIo(_)) {
                self.prose(out, &text)?;
            } else {
                self.prose_once(out, &kind, || text)?;
            }
            for c in checks {
                for (i, line) in wrap(&escape(&c), self.opts.width, LABEL_WIDTH)
                    .into_iter()
                    .enumerate()
                {
                    let line = if i == 0 {
                        format!("{:w$}! {}", "", line.trim_start(), w = LABEL_WIDTH - 2)
                    } else {
                        line
                    };
                    writeln!(out, "{}", th.warn(&line))?;
                }
            }
        }
        for tag in &p.analysis.tags {
            let mark = if tag.is_problem() {
                th.warn(&format!("  ! {}", tag.name())).into_owned()
            } else {
                th.bold(&format!("  ▸ {}", tag.name())).into_owned()
            };
            writeln!(out, "{mark}")?;
            self.prose_once(out, tag.name(), || explain::tag(*tag))?;
        }
        for n in p.dissection.notes.iter().chain(&p.analysis.notes) {
            let text = escape(&explain::note(n)).into_owned();
            let lines = wrap(&text, self.opts.width, 4);
            let mark = if n.level == Level::Warning {
                th.warn("  ! ")
            } else {
                "  · ".into()
            };
            for (i, l) in lines.iter().enumerate() {
                if i == 0 {
                    writeln!(out, "{mark}{}", l.trim_start())?;
                } else {
                    writeln!(out, "{l}")?;
                }
            }
        }
        if let Some([c, s]) = p.analysis.states {
            writeln!(
                out,
                "  {} client {} · server {}",
                th.dim("state"),
                th.bold(c.name()),
                th.bold(s.name())
            )?;
        }
        writeln!(out)
    }
}

impl TreeRender {
    /// L5 and L6: said only where there is something true to say.
    fn session_lines(&mut self, out: &mut dyn Write, p: &Packet, an: &Analyzer) -> io::Result<()> {
        let (Some(tr), Some(stream)) = (p.analysis.transport, p.analysis.stream) else {
            return Ok(());
        };
        let Some(c) = an.conversation(tr, stream) else {
            return Ok(());
        };
        let key = if tr == Transport::Tcp {
            "layers.session.tcp"
        } else {
            "layers.session.udp"
        };
        // The session is named once, on the conversation's first packet shown (the title
        // of every packet carries its stream number after that).
        if self.is_new("L5") || self.opts.repeat {
            let cl = c.endpoints[c.client()].to_string();
            let sv = c.endpoints[1 - c.client()].to_string();
            let (stream_s, nth) = (stream.to_string(), p.analysis.nth_in_stream.to_string());
            writeln!(
                out,
                "{}{}",
                self.label(5),
                self.opts
                    .theme
                    .layer(5, &format!("conversation {stream} · {cl} ↔ {sv}"))
            )?;
            self.prose_once(out, key, || {
                explain::text(
                    key,
                    &[
                        ("stream", &stream_s),
                        ("client", &cl),
                        ("server", &sv),
                        ("nth", &nth),
                    ],
                )
            })?;
        }
        let payload = p.dissection.payload_bytes(&p.frame);
        let is_syn = p
            .dissection
            .tcp()
            .map(|t| t.has(TcpFlags::SYN))
            .unwrap_or(false);
        if !payload.is_empty() && !is_syn {
            let texty = payload.iter().all(|&b| {
                b == b'\r' || b == b'\n' || b == b'\t' || (0x20..0x7f).contains(&b) || b >= 0x80
            }) && std::str::from_utf8(payload).is_ok();
            let len = payload.len().to_string();
            let (key, what) = if texty {
                ("layers.presentation.text", "UTF-8 text")
            } else {
                ("layers.presentation.binary", "binary")
            };
            writeln!(
                out,
                "{}{}",
                self.label(6),
                self.opts.theme.layer(6, &format!("{len} bytes of {what}"))
            )?;
            self.prose_once(out, key, || explain::text(key, &[("len", &len)]))?;
        }
        Ok(())
    }
}

/// The closing lines of the text outputs: totals, conversations, problems, warnings.
pub fn finish_text(
    out: &mut dyn Write,
    an: &Analyzer,
    source_warnings: &[String],
    th: Theme,
) -> io::Result<()> {
    let t = &an.totals;
    let dur = match (t.first, t.last) {
        (Some(a), Some(b)) => b.since(a),
        _ => 0.0,
    };
    let convs: Vec<_> = an.conversations().collect();
    let tcp = convs
        .iter()
        .filter(|c| c.transport == Transport::Tcp)
        .count();
    let udp = convs.len() - tcp;
    writeln!(
        out,
        "{}",
        th.bold(&format!(
            "{} packets, {} bytes, {:.6} s; {} TCP and {} UDP conversations",
            t.packets, t.bytes, dur, tcp, udp
        ))
    )?;
    for (name, n) in &t.problems {
        writeln!(out, "  {} {n} packet(s)", th.warn(&format!("! {name}:")))?;
    }
    for sess in an.sessions.sessions() {
        for line in wrap(&crate::explain::session_summary(sess), 100, 2) {
            writeln!(out, "{}", th.layer(7, &line))?;
        }
    }
    for w in source_warnings {
        writeln!(out, "{} {}", th.warn("warning:"), escape(w))?;
    }
    Ok(())
}
