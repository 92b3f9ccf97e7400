//! `--threads N` changes how fast, never what: every output mode gives the same bytes,
//! the same standard error and the same exit status with one thread as with several, on
//! the simulator's scenarios, on a benchmark-like capture built here (many WebSocket
//! conversations, some interleaved, DNS in between) and, with `--ignored`, on every
//! shared capture.

#[path = "support/captures.rs"]
mod captures;

use std::path::{Path, PathBuf};
use std::process::Command;

use captures::{ws_frame, Capture, Tcp};
use wirewalk::render::pcap_out::PcapFormat;

/// The output modes: the tree, JSON Lines, the summary, the hex dump.
const MODES: [&[&str]; 4] = [&[], &["--json"], &["--summary"], &["--hex"]];

/// Thread counts compared with one: two (this machine's cores), an odd number, many.
const THREADS: [&str; 3] = ["2", "3", "8"];

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wirewalk-threads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// stdout, stderr and the exit status of `wirewalk inspect FILE MODE --threads N`.
fn inspect(file: &Path, mode: &[&str], threads: &str) -> (Vec<u8>, Vec<u8>, Option<i32>) {
    let out = Command::new(env!("CARGO_BIN_EXE_wirewalk"))
        .arg("inspect")
        .arg(file)
        .args(mode)
        .args(["--color", "never", "--threads", threads])
        .output()
        .expect("run wirewalk");
    (out.stdout, out.stderr, out.status.code())
}

/// Every mode with every thread count against `--threads 1`, byte for byte.
fn same_with_any_threads(file: &Path) {
    for mode in MODES {
        let one = inspect(file, mode, "1");
        assert!(
            !(one.0.is_empty() && one.1.is_empty()),
            "{} {mode:?}: printed nothing",
            file.display()
        );
        for n in THREADS {
            let many = inspect(file, mode, n);
            if many != one {
                let (a, b) = (
                    String::from_utf8_lossy(&one.0),
                    String::from_utf8_lossy(&many.0),
                );
                let line = a
                    .lines()
                    .zip(b.lines())
                    .position(|(x, y)| x != y)
                    .unwrap_or(a.lines().count().min(b.lines().count()));
                panic!(
                    "{} {mode:?}: --threads {n} differs from --threads 1 (first at line {}: {:?} vs {:?}; exit {:?} vs {:?})",
                    file.display(),
                    line + 1,
                    a.lines().nth(line),
                    b.lines().nth(line),
                    one.2,
                    many.2
                );
            }
        }
    }
}

/// Like `../shared/bench/make_pcap.py`, smaller: WebSocket conversations, each a
/// handshake, an upgrade, masked client texts and unmasked echoes of varying length, a
/// close each way and FINs; four at a time interleaved segment by segment (so many
/// conversations are open across the batches the threads draw); DNS every tenth.
fn bench_like(flows: u16) -> Capture {
    let mut cap = Capture::default();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for group in (0..flows).step_by(4) {
        let ports: Vec<u16> = (group..flows.min(group + 4)).map(|i| 30000 + i).collect();
        let mut conns: Vec<Tcp> = ports.iter().map(|&p| Tcp::open(&mut cap, p)).collect();
        for c in conns.iter_mut() {
            c.send(
                &mut cap,
                true,
                format!("{}\r\n", captures::UPGRADE_REQUEST).as_bytes(),
            );
            c.send(
                &mut cap,
                false,
                format!("{}\r\n", captures::UPGRADE_RESPONSE).as_bytes(),
            );
        }
        for m in 0..12 {
            for (k, c) in conns.iter_mut().enumerate() {
                let text = format!("message {m} of flow {} ", group as usize + k)
                    .repeat(1 + (next() % 8) as usize);
                let mask = (next() as u32).to_be_bytes();
                c.send(
                    &mut cap,
                    true,
                    &ws_frame(1, text.as_bytes(), Some(mask), None),
                );
                let echo = format!("echo: {text}");
                c.send(&mut cap, false, &ws_frame(1, echo.as_bytes(), None, None));
            }
        }
        for c in conns.iter_mut() {
            c.send(
                &mut cap,
                true,
                &ws_frame(8, &[3, 0xe8], Some([9, 8, 7, 6]), None),
            );
            c.send(&mut cap, false, &ws_frame(8, &[3, 0xe8], None, None));
            c.close_first(&mut cap, true);
        }
        if group % 10 == 0 {
            cap.dns("example.com", 5353);
        }
    }
    cap
}

#[test]
fn a_benchmark_like_capture_is_the_same_with_any_threads() {
    let cap = bench_like(120);
    assert!(cap.frames.len() > 3000, "{} frames", cap.frames.len());
    for (format, name) in [
        (PcapFormat::Pcap, "bench.pcap"),
        (PcapFormat::Pcapng, "bench.pcapng"),
    ] {
        let file = temp(name);
        std::fs::write(&file, cap.bytes(format)).unwrap();
        same_with_any_threads(&file);
    }
}

#[test]
fn every_simulated_scenario_is_the_same_with_any_threads() {
    for scenario in [
        "handshake",
        "websocket",
        "socketio",
        "teardown",
        "reset",
        "udp",
        "lossy",
        "rejected",
        "lost-syn",
    ] {
        let file = temp(&format!("{scenario}.pcap"));
        let status = Command::new(env!("CARGO_BIN_EXE_wirewalk"))
            .args(["simulate", scenario, "--seed", "3", "-w"])
            .arg(&file)
            .output()
            .expect("run wirewalk simulate");
        assert!(status.status.success(), "simulate {scenario}: {status:?}");
        same_with_any_threads(&file);
    }
}

#[test]
#[ignore = "needs ../shared/captures"]
fn every_shared_capture_is_the_same_with_any_threads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            !(name.ends_with(".tsv") || name.ends_with(".out") || name.ends_with(".md"))
        })
        .collect();
    files.sort();
    assert!(
        files.len() > 20,
        "{} captures in {}",
        files.len(),
        dir.display()
    );
    for f in &files {
        same_with_any_threads(f);
    }
}

#[test]
#[ignore = "needs python3 and ../shared/bench/make_pcap.py"]
fn the_benchmark_capture_is_the_same_with_any_threads() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/make_pcap.py");
    let file = temp("make_pcap.pcap");
    let made = Command::new("python3")
        .arg(&script)
        .arg(&file)
        .args(["--flows", "400"])
        .status()
        .expect("run python3");
    assert!(made.success(), "{} failed", script.display());
    same_with_any_threads(&file);
}
