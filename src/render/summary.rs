//! One line per packet, like `tcpdump -nn`: time, addresses, protocol and the facts
//! that matter, then the analysis tags.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{escape, terminal::finish_text, Render, Theme};
use crate::analysis::Analyzer;
use crate::dissect::Header;
use crate::pipeline::Packet;

pub struct SummaryRender {
    theme: Theme,
    first_time: Option<crate::frame::Timestamp>,
    line: String,
}

impl SummaryRender {
    pub fn new(theme: Theme) -> SummaryRender {
        SummaryRender {
            theme,
            first_time: None,
            line: String::with_capacity(256),
        }
    }
}

/// The one-line description of a packet (without number and time).
pub fn describe(p: &Packet, s: &mut String) {
    let d = &p.dissection;
    let ip = d.ip_addrs();
    let mut top: Option<&Header> = None;
    for l in &d.layers {
        top = Some(&l.header);
    }
    match (d.tcp(), d.udp(), ip) {
        (Some(t), _, Some((src, dst))) => {
            let mut num = itoa::Buffer::new();
            push_sock(s, src, t.src_port);
            s.push_str(" > ");
            push_sock(s, dst, t.dst_port);
            s.push_str(" TCP [");
            let mut first = true;
            for n in t.flags().names() {
                if !first {
                    s.push(' ');
                }
                s.push_str(n);
                first = false;
            }
            s.push(']');
            if let Some(seq) = t.seq {
                s.push_str(" seq=");
                s.push_str(num.format(seq));
            }
            if t.has(crate::dissect::TcpFlags::ACK) {
                if let Some(ack) = t.ack {
                    s.push_str(" ack=");
                    s.push_str(num.format(ack));
                }
            }
            if let Some(w) = t.window {
                s.push_str(" win=");
                s.push_str(num.format(w));
            }
            s.push_str(" len=");
            s.push_str(num.format(t.payload_len()));
            if let Some(m) = t.mss {
                let _ = write!(s, " mss={m}");
            }
            if let Some(ws) = t.window_scale {
                let _ = write!(s, " ws={ws}");
            }
        }
        (None, Some(u), Some((src, dst))) => {
            let _ = write!(
                s,
                "{} > {} UDP len={}",
                sock(src, u.src_port),
                sock(dst, u.dst_port),
                u.length.saturating_sub(8)
            );
            if let Some(Header::Dns(dns)) = top {
                let q = dns
                    .questions
                    .first()
                    .map(|q| format!("{} {}", q.qtype, escape(&q.name)))
                    .unwrap_or_default();
                if dns.response {
                    let a: Vec<String> = dns
                        .answers
                        .iter()
                        .take(3)
                        .map(|a| escape(&a.data).into_owned())
                        .collect();
                    let _ = write!(s, " DNS response {q} → {}", a.join(","));
                } else {
                    let _ = write!(s, " DNS query {q}");
                }
            }
        }
        _ => match top {
            Some(h) => {
                let layer = d.layers.last().expect("top layer exists");
                let _ = write!(
                    s,
                    "{} {}",
                    h.protocol().to_uppercase(),
                    escape(&crate::explain::layer_headline(layer))
                );
            }
            None => {
                let _ = write!(s, "{} bytes, not dissected", p.frame.data.len());
            }
        },
    }
}

fn sock(ip: std::net::IpAddr, port: u16) -> String {
    let mut s = String::with_capacity(21);
    push_sock(&mut s, ip, port);
    s
}

/// `10.0.0.1:8080`, `[::1]:8080`
fn push_sock(s: &mut String, ip: std::net::IpAddr, port: u16) {
    if ip.is_ipv6() {
        s.push('[');
    }
    crate::dissect::push_ip(s, ip);
    if ip.is_ipv6() {
        s.push(']');
    }
    s.push(':');
    s.push_str(itoa::Buffer::new().format(port));
}

/// Past this many bytes a packet's line names no more of its application messages.
const APPS_IN_LINE: usize = 1024;

/// A packet's whole line: number, seconds since `first`, what it is, what the
/// application said, and the analysis tags (problems in red).
pub fn write_line(s: &mut String, p: &Packet, first: crate::frame::Timestamp, th: Theme) {
    let mut num = itoa::Buffer::new();
    let number = num.format(p.frame.number);
    s.extend(std::iter::repeat_n(
        ' ',
        5usize.saturating_sub(number.len()),
    ));
    s.push_str(number);
    s.push(' ');
    p.frame.time.push_since(first, s, false, 11);
    s.push(' ');
    describe(p, s);
    // One segment may end hundreds of messages: the line names them while it is short,
    // then counts the rest.
    let mut more = 0;
    for a in p.analysis.top_app_layers() {
        if s.len() >= APPS_IN_LINE {
            more += 1;
            continue;
        }
        let head = crate::explain::app_headline(a);
        if !head.is_empty() {
            s.push_str(" │ ");
            s.push_str(&escape(&head));
        }
    }
    if more > 0 {
        let _ = write!(s, " │ … and {more} more");
    }
    let mut tags = String::new();
    for t in &p.analysis.tags {
        tags.push(' ');
        tags.push_str(t.name());
    }
    let problem = p.analysis.tags.iter().any(|t| t.is_problem());
    s.push_str(&if problem {
        th.warn(&tags)
    } else {
        th.dim(&tags)
    });
}

/// The summary drawn on other threads: a line depends on its packet alone.
struct SummaryDraw {
    theme: Theme,
}

impl super::Draw for SummaryDraw {
    fn draw(&self, out: &mut Vec<u8>, p: &Packet, cx: super::Context) -> io::Result<()> {
        let mut line = String::with_capacity(256);
        write_line(&mut line, p, cx.first, self.theme);
        line.push('\n');
        out.extend_from_slice(line.as_bytes());
        Ok(())
    }

    fn light(&self) -> bool {
        true
    }
}

impl Render for SummaryRender {
    fn packet(&mut self, out: &mut dyn Write, p: &Packet, an: &Analyzer) -> io::Result<()> {
        let first = self.account(p, an).first;
        self.line.clear();
        write_line(&mut self.line, p, first, self.theme);
        self.line.push('\n');
        out.write_all(self.line.as_bytes())
    }

    fn drawer(&self) -> Option<std::sync::Arc<dyn super::Draw>> {
        Some(std::sync::Arc::new(SummaryDraw { theme: self.theme }))
    }

    fn account(&mut self, p: &Packet, an: &Analyzer) -> super::Context {
        // Relative to the first packet of the capture (as Wireshark), not the first shown.
        let first = *self
            .first_time
            .get_or_insert(an.totals.first.unwrap_or(p.frame.time));
        super::Context { first, ends: None }
    }

    fn finish(
        &mut self,
        out: &mut dyn Write,
        an: &Analyzer,
        source_warnings: &[String],
    ) -> io::Result<()> {
        finish_text(
            out,
            an,
            source_warnings,
            self.theme,
            super::terminal::FOOTER_WIDTH,
        )
    }
}
