//! A capture that is a regular file is read through a memory map (src/source/mapped.rs),
//! a pipe or standard input as a stream: both must give the same packets, the same
//! warnings and the same errors, byte for byte.
//!
//! Two levels: the reader itself (the mapped file against pcap-parser's streaming reader
//! over the same file, whose reads are whole, so the very buffers the map imitates),
//! on captures made to put a cut, a corrupt block and a record larger than the first
//! buffer across the buffer's and the map window's boundaries; and the binary
//! (`inspect FILE` against `inspect -r -` fed through a pipe), on every fixture and on
//! hostile captures, in every mode.

#[path = "support/captures.rs"]
mod captures;

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use captures::baseline;
use wirewalk::render::pcap_out::PcapFormat;
use wirewalk::source::pcap::PcapReader;

fn dir(test: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("mapped")
        .join(test);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Everything a reader says about a capture, in order.
fn everything(mut r: PcapReader) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(f) = r.next_frame() {
        out.push(match f {
            Ok(f) => {
                let mut h = DefaultHasher::new();
                f.data.hash(&mut h);
                format!(
                    "{} {:?} {:?} {} {} {:x}",
                    f.number,
                    f.time,
                    f.link,
                    f.wire_len,
                    f.data.len(),
                    h.finish()
                )
            }
            Err(e) => format!("error: {}", e.0),
        });
    }
    out.extend(r.warnings().iter().map(|w| format!("warning: {w}")));
    out.push(format!("cut: {:?}", r.cut()));
    out.push(format!("format: {:?}", r.format()));
    out.extend(r.comments().iter().map(|c| format!("comment: {c}")));
    out
}

/// The file mapped, and the file streamed (pcap-parser's reader over `File`), agree.
fn same_as_streamed(path: &Path) -> usize {
    let name = path.display().to_string();
    let mapped = PcapReader::open(path).map(everything);
    let streamed =
        PcapReader::from_reader(std::fs::File::open(path).unwrap(), &name).map(everything);
    match (&mapped, &streamed) {
        (Ok(m), Ok(s)) => {
            if m != s {
                let at = m.iter().zip(s).position(|(a, b)| a != b);
                panic!(
                    "{name}: mapped and streamed differ (at item {at:?} of {} / {}):\n  mapped:   {:?}\n  streamed: {:?}",
                    m.len(),
                    s.len(),
                    at.map(|i| &m[i]).or(m.last()),
                    at.map(|i| &s[i]).or(s.last())
                );
            }
            m.len()
        }
        (Err(m), Err(s)) => {
            assert_eq!(m, s, "{name}: the errors at opening differ");
            0
        }
        _ => panic!("{name}: mapped {mapped:?}, streamed {streamed:?}"),
    }
}

// --- captures built for the boundaries --------------------------------------------------

fn u32le(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}

/// A classic pcap of `n` copies of the baseline's frames (about 2 KB each round).
fn big_pcap(rounds: usize) -> (Vec<u8>, Vec<(usize, usize)>) {
    let one = baseline().bytes(PcapFormat::Pcap);
    let mut out = one[..24].to_vec();
    let mut recs = Vec::new();
    for _ in 0..rounds {
        let mut off = 24;
        while off + 16 <= one.len() {
            let caplen = u32::from_le_bytes(one[off + 8..off + 12].try_into().unwrap()) as usize;
            recs.push((out.len(), 16 + caplen));
            out.extend_from_slice(&one[off..off + 16 + caplen]);
            off += 16 + caplen;
        }
    }
    (out, recs)
}

/// A pcapng of `rounds` copies of the baseline's packet blocks: (bytes, (offset, length)
/// of every packet block).
fn big_pcapng(rounds: usize) -> (Vec<u8>, Vec<(usize, usize)>) {
    let one = baseline().bytes(PcapFormat::Pcapng);
    let mut blocks = Vec::new();
    let mut off = 0;
    while off + 12 <= one.len() {
        let len = u32::from_le_bytes(one[off + 4..off + 8].try_into().unwrap()) as usize;
        blocks.push((off, len));
        off += len;
    }
    let first_packet = blocks[2].0; // after the SHB and the IDB
    let mut out = one[..first_packet].to_vec();
    let mut at = Vec::new();
    for _ in 0..rounds {
        for &(s, len) in &blocks[2..] {
            at.push((out.len(), len));
            out.extend_from_slice(&one[s..s + len]);
        }
    }
    (out, at)
}

/// An Enhanced Packet Block of `len` bytes of packet (the grown-buffer path past 1 MiB).
fn epb(len: usize) -> Vec<u8> {
    let padded = len.div_ceil(4) * 4;
    let total = (32 + padded) as u32;
    let mut b = Vec::new();
    for x in [6, total, 0, 0, 0, len as u32, len as u32] {
        u32le(&mut b, x);
    }
    b.extend((0..padded).map(|i| if i < len { (i % 251) as u8 } else { 0 }));
    u32le(&mut b, total);
    b
}

/// The block or record that spans `at`.
fn spanning(recs: &[(usize, usize)], at: usize) -> (usize, usize) {
    *recs
        .iter()
        .find(|&&(s, len)| s <= at && at < s + len)
        .expect("a record there")
}

#[test]
fn mapped_reads_what_streaming_reads_across_buffer_and_window_boundaries() {
    let d = dir("boundaries");
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let (pcap, precs) = big_pcap(2500); // about 3.4 MB
    let (ng, nblocks) = big_pcapng(2500);
    files.push(("whole.pcap".into(), pcap.clone()));
    files.push(("whole.pcapng".into(), ng.clone()));
    for (i, at) in [(1usize << 20) - 3, 1 << 20, (1 << 20) + 9, (5 << 19) + 1]
        .into_iter()
        .enumerate()
    {
        // Cut there: in the middle of the record that spans the first buffer's end.
        files.push((format!("cut-{i}.pcap"), pcap[..at].to_vec()));
        files.push((format!("cut-{i}.pcapng"), ng[..at].to_vec()));
        // The block across that offset with its closing length wrong, and with a first
        // length that claims more than it holds (a lying block, skipped when a whole
        // block follows its true end).
        let (s, len) = spanning(&nblocks, at);
        let mut bad_end = ng.clone();
        bad_end[s + len - 4..s + len].copy_from_slice(&99u32.to_le_bytes());
        files.push((format!("bad-end-{i}.pcapng"), bad_end));
        let mut lying = ng.clone();
        lying[s + 4..s + 8].copy_from_slice(&((len + 64) as u32).to_le_bytes());
        files.push((format!("lying-{i}.pcapng"), lying));
        let mut tiny = ng.clone();
        tiny[s + 4..s + 8].copy_from_slice(&8u32.to_le_bytes());
        files.push((format!("len-8-{i}.pcapng"), tiny));
        // A pcap record whose captured length says 12 MiB (more than the buffer, less
        // than the limit), in the middle of the file.
        let (s, _) = spanning(&precs, at);
        let mut long = pcap.clone();
        long[s + 8..s + 12].copy_from_slice(&(12u32 << 20).to_le_bytes());
        files.push((format!("caplen-12MiB-{i}.pcap"), long));
    }
    // Records larger than the first buffer: the buffer grows (3 MiB, then 9 MiB), the
    // map does not need to.
    let mut grown = ng[..nblocks[0].0].to_vec();
    for (k, &(s, len)) in nblocks.iter().enumerate().take(600) {
        grown.extend_from_slice(&ng[s..s + len]);
        if k == 300 {
            grown.extend(epb(3 << 20));
        }
    }
    grown.extend(epb(9 << 20));
    grown.extend_from_slice(&ng[nblocks[0].0..nblocks[0].0 + 200]);
    files.push(("grown.pcapng".into(), grown));
    // Longer than two map windows (32 MiB each), cut in its last record, and a block
    // that claims 12 MiB with its closing length right across a window's end.
    let (huge, hrecs) = big_pcap(55_000);
    assert!(huge.len() > 70 << 20, "{} bytes", huge.len());
    files.push(("huge-cut.pcap".into(), huge[..huge.len() - 5].to_vec()));
    let (s, _) = spanning(&hrecs, 32 << 20);
    let mut huge_bad = huge.clone();
    huge_bad[s + 8..s + 12].copy_from_slice(&(1u32 << 23).to_le_bytes());
    files.push(("huge-long-record.pcap".into(), huge_bad));
    drop(huge);
    // A file that ends in its second section's header, another big-endian section.
    let mut two = ng[..300_000.min(ng.len())].to_vec();
    let cut_here = spanning(&nblocks, two.len()).0;
    two.truncate(cut_here);
    two.extend_from_slice(&[
        0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 28, 0x1a, 0x2b, 0x3c, 0x4d, 0, 1, 0, 0,
    ]);
    two.extend_from_slice(&[0xff; 8]);
    two.extend_from_slice(&[0, 0, 0, 28]);
    files.push(("second-section-be.pcapng".into(), two));
    let mut read = 0;
    for (name, bytes) in &files {
        let path = d.join(name);
        std::fs::write(&path, bytes).unwrap();
        read += same_as_streamed(&path);
        std::fs::remove_file(&path).unwrap();
    }
    assert!(read > 1_000_000, "{read} items read");
}

/// Every test fixture and every shared capture, mapped and streamed.
#[test]
fn mapped_reads_every_fixture_as_streaming_does() {
    let mut n = 0;
    for f in fixtures().into_iter().chain(shared_captures()) {
        same_as_streamed(&f);
        n += 1;
    }
    assert!(n >= 10, "only {n} captures");
}

fn fixtures() -> Vec<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut v: Vec<PathBuf> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    v.sort();
    v
}

fn shared_captures() -> Vec<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures");
    let mut v: Vec<PathBuf> = std::fs::read_dir(d)
        .into_iter()
        .flatten()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    v.sort();
    v
}

// --- the binary: a file against the same bytes through a pipe --------------------------

struct Out {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// `wirewalk --color never inspect …` in `cwd`; `stdin`: bytes written to it through a
/// pipe.
fn inspect(cwd: &Path, args: &[&str], stdin: Option<&[u8]>) -> Out {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirewalk"))
        .args(["--color", "never", "inspect"])
        .args(args)
        .current_dir(cwd)
        .env_remove("NO_COLOR")
        .env_remove("SSLKEYLOGFILE")
        .env("COLUMNS", "100")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the wirewalk binary runs");
    let writer = stdin.map(|b| {
        let mut pipe = child.stdin.take().unwrap();
        let b = b.to_vec();
        // The reader may stop early (a corrupt header): a broken pipe is not a failure.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&b);
        })
    });
    let out = child.wait_with_output().unwrap();
    if let Some(w) = writer {
        w.join().unwrap();
    }
    Out {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

/// `inspect NAME ARGS` (a regular file, mapped) and `inspect -r - ARGS < pipe`: the same
/// exit code, and the same output once the file's name reads "standard input".
fn file_and_pipe_agree(cwd: &Path, name: &str, args: &[&str]) -> Result<(), String> {
    let bytes = std::fs::read(cwd.join(name)).unwrap();
    let mut file_args = vec![name];
    file_args.extend_from_slice(args);
    let mut pipe_args = vec!["-r", "-"];
    pipe_args.extend_from_slice(args);
    let file = inspect(cwd, &file_args, None);
    let pipe = inspect(cwd, &pipe_args, Some(&bytes));
    let named = |b: &[u8]| String::from_utf8_lossy(b).replace(name, "standard input");
    let what = format!("{name} {args:?}");
    if file.code != pipe.code {
        return Err(format!(
            "{what}: exit {:?} from the file, {:?} through a pipe\n  stderr: {}\n  pipe stderr: {}",
            file.code,
            pipe.code,
            named(&file.stderr).trim_end(),
            String::from_utf8_lossy(&pipe.stderr).trim_end()
        ));
    }
    if named(&file.stderr) != String::from_utf8_lossy(&pipe.stderr) {
        return Err(format!(
            "{what}: stderr differs\n  file: {}\n  pipe: {}",
            named(&file.stderr).trim_end(),
            String::from_utf8_lossy(&pipe.stderr).trim_end()
        ));
    }
    if named(&file.stdout) != String::from_utf8_lossy(&pipe.stdout) {
        return Err(format!(
            "{what}: stdout differs ({} bytes from the file, {} through a pipe)",
            file.stdout.len(),
            pipe.stdout.len()
        ));
    }
    if file.stdout.is_empty() && file.code == Some(0) {
        return Err(format!("{what}: nothing on stdout"));
    }
    Ok(())
}

const MODES: [&[&str]; 5] = [&[], &["--summary"], &["--hex"], &["--json"], &["-q"]];

#[test]
fn every_fixture_from_a_file_and_through_a_pipe_is_the_same() {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut failures = Vec::new();
    let mut runs = 0;
    for f in fixtures() {
        let name = f.file_name().unwrap().to_str().unwrap().to_string();
        let keys = f.with_extension("keys");
        let keys = keys
            .exists()
            .then(|| keys.file_name().unwrap().to_str().unwrap().to_string());
        for mode in MODES {
            let mut args = mode.to_vec();
            if let Some(k) = &keys {
                args.extend(["--keylog", k.as_str()]);
            }
            runs += 1;
            if let Err(e) = file_and_pipe_agree(&d, &name, &args) {
                failures.push(e);
            }
        }
    }
    assert!(runs >= 10 * MODES.len(), "only {runs} runs");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn hostile_captures_from_a_file_and_through_a_pipe_are_the_same() {
    let d = dir("pipe");
    let full = baseline().bytes(PcapFormat::Pcap);
    let ng = baseline().bytes(PcapFormat::Pcapng);
    let (_, recs) = big_pcap(1);
    let (_, blocks) = big_pcapng(1);
    let (r3, r3len) = recs[3];
    let (b2, b2len) = blocks[1];
    let mut vars: Vec<(&str, Vec<u8>)> = vec![
        ("empty.pcap", Vec::new()),
        ("header-cut.pcap", full[..23].to_vec()),
        ("header-only.pcap", full[..24].to_vec()),
        ("ng-shb-cut.pcapng", ng[..20].to_vec()),
        ("cut-mid-record.pcap", full[..r3 + r3len / 2].to_vec()),
        ("cut-mid-block.pcapng", ng[..b2 + b2len / 2].to_vec()),
        (
            "text.pcap",
            b"12:00:00.000 IP 10.0.0.1 > 10.0.0.2: tcp\n".to_vec(),
        ),
    ];
    let mut long = full.clone();
    long[r3 + 8..r3 + 12].copy_from_slice(&(12u32 << 20).to_le_bytes());
    vars.push(("caplen-12MiB.pcap", long));
    let mut huge = full.clone();
    huge[r3 + 8..r3 + 12].copy_from_slice(&(20u32 << 20).to_le_bytes());
    vars.push(("caplen-20MiB.pcap", huge));
    let mut origlen = full.clone();
    origlen[r3 + 12..r3 + 16].copy_from_slice(&u32::MAX.to_le_bytes());
    vars.push(("origlen-4GB.pcap", origlen));
    let mut bad_end = ng.clone();
    bad_end[b2 + b2len - 4..b2 + b2len].copy_from_slice(&99u32.to_le_bytes());
    vars.push(("bad-end.pcapng", bad_end));
    let mut len8 = ng.clone();
    len8[b2 + 4..b2 + 8].copy_from_slice(&8u32.to_le_bytes());
    vars.push(("len-8.pcapng", len8));
    // A few MB, cut across the first buffer's end.
    let (big, _) = big_pcap(1500);
    vars.push(("big-cut.pcap", big[..(1 << 20) + 9].to_vec()));
    let mut failures = Vec::new();
    for (name, bytes) in &vars {
        std::fs::write(d.join(name), bytes).unwrap();
        for mode in MODES {
            if let Err(e) = file_and_pipe_agree(&d, name, mode) {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A file that shrinks while it is read reads as cut where it now ends (never SIGBUS),
/// and one that grows is read to its new end, as a stream would be.
#[test]
fn a_file_cut_or_grown_while_mapped_reads_as_cut_or_longer() {
    let d = dir("changing");
    let (pcap, recs) = big_pcap(3000); // about 4 MB
    let path = d.join("shrinking.pcap");
    std::fs::write(&path, &pcap).unwrap();
    let mut r = PcapReader::open(&path).unwrap();
    let mut before = 0;
    while before < 100 {
        r.next_frame().unwrap().unwrap();
        before += 1;
    }
    // Cut to 2.5 MB, in the middle of a record: past what is buffered now (1 MiB).
    let at = (5 << 19) + 3;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(at as u64)
        .unwrap();
    let mut n = before;
    while let Some(f) = r.next_frame() {
        f.unwrap();
        n += 1;
    }
    let whole = recs.iter().filter(|&&(s, len)| s + len <= at).count();
    assert_eq!(n, whole, "the records wholly before the cut");
    assert!(
        r.cut().is_some_and(|w| w.contains("was cut")),
        "{:?}",
        r.warnings()
    );
    // Growing: written half, opened, the rest appended while reading.
    let path = d.join("growing.pcap");
    let half = recs[recs.len() / 2].0;
    std::fs::write(&path, &pcap[..half]).unwrap();
    let mut r = PcapReader::open(&path).unwrap();
    r.next_frame().unwrap().unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(&pcap[half..])
        .unwrap();
    let mut n = 1;
    while let Some(f) = r.next_frame() {
        f.unwrap();
        n += 1;
    }
    assert_eq!(n, recs.len());
    assert_eq!(r.cut(), None);
}
