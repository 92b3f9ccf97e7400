//! `inspect --stats`: per TCP conversation, the numbers a TCP lab asks for (Kurose &
//! Ross's Wireshark TCP lab): the SYN's sequence number and how the SYN-ACK's ack was
//! derived, segments and data bytes each way, throughput, RTT samples (an ACK's time less
//! the time of the segment it acknowledges, as tshark's `tcp.analysis.ack_rtt`), the
//! smallest advertised window and the retransmissions.

use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Write};

use super::{terminal::wrap, Render, Theme};
use crate::analysis::{Analyzer, Tag, Transport};
use crate::dissect::TcpFlags;
use crate::explain::anatomy::grouped;
use crate::explain::text;
use crate::frame::Timestamp;
use crate::pipeline::Packet;

/// Segments remembered per conversation for RTT samples (the newest).
const REMEMBERED: usize = 4096;

#[derive(Debug, Default, Clone)]
struct Dir {
    segments: u64,
    data: u64,
    retransmissions: u64,
    /// Smallest advertised window in bytes (scaled), and its frame.
    min_window: Option<(u32, u64)>,
}

#[derive(Debug, Default)]
struct Conv {
    /// [client → server, server → client].
    dirs: [Dir; 2],
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    syn: Option<(u64, u32)>,
    synack: Option<(u64, u32, u32)>,
    /// Data segments (and SYN/FIN) by frame, for RTT samples.
    sent: VecDeque<(u64, Timestamp)>,
    rtt: Vec<f64>,
    irtt: Option<f64>,
}

pub struct StatsRender {
    theme: Theme,
    convs: BTreeMap<u32, Conv>,
}

impl StatsRender {
    pub fn new(theme: Theme) -> StatsRender {
        StatsRender {
            theme,
            convs: BTreeMap::new(),
        }
    }
}

fn ms(s: f64) -> String {
    format!("{:.3}", s * 1000.0)
}

impl Render for StatsRender {
    fn packet(&mut self, _out: &mut dyn Write, p: &Packet, _an: &Analyzer) -> io::Result<()> {
        let (Some(stream), Some(Transport::Tcp), Some(tcp)) =
            (p.analysis.stream, p.analysis.transport, p.dissection.tcp())
        else {
            return Ok(());
        };
        let c = self.convs.entry(stream).or_default();
        let now = p.frame.time;
        c.first.get_or_insert(now);
        c.last = Some(now);
        let d = &mut c.dirs[if p.analysis.from_client == Some(false) {
            1
        } else {
            0
        }];
        d.segments += 1;
        d.data += tcp.payload_len() as u64;
        if p.analysis.tags.contains(&Tag::Retransmission) {
            d.retransmissions += 1;
        }
        if let Some(w) = tcp.window_scaled {
            if !tcp.has(TcpFlags::RST) && d.min_window.is_none_or(|(m, _)| w < m) {
                d.min_window = Some((w, p.frame.number));
            }
        }
        let flags = tcp.flags();
        if let Some(seq) = tcp.seq_raw {
            if flags.has(TcpFlags::SYN) && !flags.has(TcpFlags::ACK) && c.syn.is_none() {
                c.syn = Some((p.frame.number, seq));
            }
            if let (true, true, None, Some(ack)) = (
                flags.has(TcpFlags::SYN),
                flags.has(TcpFlags::ACK),
                c.synack,
                tcp.ack_raw,
            ) {
                c.synack = Some((p.frame.number, seq, ack));
            }
        }
        if let Some(f) = tcp.acks_frame {
            if let Some((_, t)) = c.sent.iter().find(|(n, _)| *n == f) {
                c.rtt.push(now.since(*t));
            }
        }
        if tcp.payload_len() > 0 || flags.0 & (TcpFlags::SYN | TcpFlags::FIN) != 0 {
            if c.sent.len() == REMEMBERED {
                c.sent.pop_front();
            }
            c.sent.push_back((p.frame.number, now));
        }
        if tcp.irtt.is_some() {
            c.irtt = tcp.irtt;
        }
        Ok(())
    }

    fn finish(
        &mut self,
        out: &mut dyn Write,
        an: &Analyzer,
        _source_warnings: &[String],
    ) -> io::Result<()> {
        let th = self.theme;
        let s = |key: &str, args: &[(&str, &str)]| text(&format!("anatomy.stats.{key}"), args);
        let say = |out: &mut dyn Write, line: String, indent: usize| -> io::Result<()> {
            for l in wrap(&line, 80, indent) {
                writeln!(out, "{l}")?;
            }
            Ok(())
        };
        if self.convs.is_empty() {
            return say(out, s("none", &[]), 0);
        }
        for (stream, c) in &self.convs {
            let Some(conv) = an.conversation(Transport::Tcp, *stream) else {
                continue;
            };
            let sum = conv.summary();
            let id = stream.to_string();
            let title = s(
                "title",
                &[
                    ("stream", &id),
                    ("client", &sum.client),
                    ("server", &sum.server),
                ],
            );
            writeln!(out, "{}", th.bold(&title))?;
            if let Some((f, seq)) = c.syn {
                say(
                    out,
                    s(
                        "syn",
                        &[("frame", &f.to_string()), ("seq", &seq.to_string())],
                    ),
                    2,
                )?;
            }
            if let Some((f, seq, ack)) = c.synack {
                let isn = c.syn.map(|(_, s)| s).unwrap_or(ack.wrapping_sub(1));
                say(
                    out,
                    s(
                        "synack",
                        &[
                            ("frame", &f.to_string()),
                            ("seq", &seq.to_string()),
                            ("ack", &ack.to_string()),
                            ("isn", &isn.to_string()),
                        ],
                    ),
                    2,
                )?;
            }
            let duration = match (c.first, c.last) {
                (Some(a), Some(b)) => b.since(a),
                _ => 0.0,
            };
            say(
                out,
                s("duration", &[("secs", &format!("{duration:.6}"))]),
                2,
            )?;
            for (i, d) in c.dirs.iter().enumerate() {
                let who = if i == 0 {
                    s("client_to_server", &[])
                } else {
                    s("server_to_client", &[])
                };
                let throughput = if duration > 0.0 {
                    let bps = d.data as f64 / duration;
                    s(
                        "throughput",
                        &[
                            ("bps", &grouped(bps.round() as u64)),
                            ("mbits", &format!("{:.3}", bps * 8.0 / 1e6)),
                        ],
                    )
                } else {
                    s("no_throughput", &[])
                };
                let window = match d.min_window {
                    Some((w, f)) => s(
                        "min_window",
                        &[("bytes", &grouped(w as u64)), ("frame", &f.to_string())],
                    ),
                    None => String::new(),
                };
                say(
                    out,
                    s(
                        "direction",
                        &[
                            ("who", &who),
                            ("segments", &d.segments.to_string()),
                            ("data", &grouped(d.data)),
                            ("throughput", &throughput),
                            ("window", &window),
                            ("retrans", &d.retransmissions.to_string()),
                        ],
                    ),
                    2,
                )?;
            }
            if c.rtt.is_empty() {
                say(out, s("no_rtt", &[]), 2)?;
            } else {
                let min = c.rtt.iter().cloned().fold(f64::INFINITY, f64::min);
                let max = c.rtt.iter().cloned().fold(0.0, f64::max);
                let mean = c.rtt.iter().sum::<f64>() / c.rtt.len() as f64;
                say(
                    out,
                    s(
                        "rtt",
                        &[
                            ("n", &c.rtt.len().to_string()),
                            ("min", &ms(min)),
                            ("mean", &ms(mean)),
                            ("max", &ms(max)),
                        ],
                    ),
                    2,
                )?;
            }
            if let Some(r) = c.irtt {
                say(out, s("irtt", &[("ms", &ms(r))]), 2)?;
            }
            writeln!(out)?;
        }
        Ok(())
    }
}
