//! Runs a simulation scenario, prints its captions, and optionally writes a capture:
//! `cargo run --example simulate_dump -- websocket [out.pcapng or -] [seed] [--ipv6]`.
//! (The real command is `wirewalk simulate`; this is a developer's shortcut.)

use std::path::Path;

use wirewalk::frame::Link;
use wirewalk::render::pcap_out::PcapWriter;
use wirewalk::source::simulate::{simulate, SimOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ipv6 = args.iter().any(|a| a == "--ipv6");
    let rest: Vec<&String> = args.iter().filter(|a| *a != "--ipv6").collect();
    let scenario = rest.first().map(|s| s.as_str()).unwrap_or("handshake");
    let seed = rest.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let opts = SimOptions {
        seed,
        ipv6,
        ..SimOptions::default()
    };
    let packets = match simulate(scenario, &opts) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let t0 = packets.first().map(|p| p.frame.time);
    for p in &packets {
        let dt = t0.map(|t| p.frame.time.since(t)).unwrap_or(0.0);
        println!(
            "{:>3} {:>10.6} {:>5}  {}",
            p.frame.number,
            dt,
            p.frame.data.len(),
            p.caption
        );
    }
    if let Some(out) = rest.get(1).filter(|o| !o.is_empty() && o.as_str() != "-") {
        let mut w = PcapWriter::create(Path::new(out.as_str()), Link::Ethernet)
            .expect("create the capture");
        for p in &packets {
            w.write(&p.frame).expect("write a frame");
        }
        w.finish().expect("flush the capture");
    }
}
