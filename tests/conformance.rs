//! Conformance against tshark: runs `wirewalk inspect --json` over every capture in
//! `../shared/captures` and compares it, field by field, with the tshark ground truth
//! beside each (`F.truth.tsv`, made by `../shared/tools/truth.sh`).
//!
//! The shared captures are not part of this repository, so these tests are `#[ignore]`d
//! and `.ci/run` runs them (`cargo test --release --test conformance -- --ignored`)
//! when `../shared/captures` exists. A field tshark leaves empty counts as absent.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn captures_dir() -> PathBuf {
    std::env::var_os("WIREWALK_SHARED_CAPTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures"))
}

fn truth_files() -> Vec<PathBuf> {
    let dir = captures_dir();
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e} (set WIREWALK_SHARED_CAPTURES)", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".truth.tsv"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no truth files in {}", dir.display());
    v
}

fn run_json(capture: &Path) -> HashMap<u64, Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_wirewalk"))
        .args(["inspect", "--json", "--color", "never"])
        .arg(capture)
        .output()
        .expect("run wirewalk");
    let text = String::from_utf8(out.stdout).expect("JSON output is UTF-8");
    let mut packets = HashMap::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("bad JSON line {line}: {e}"));
        if v["type"] == "packet" {
            packets.insert(v["number"].as_u64().expect("number"), v);
        }
    }
    packets
}

fn first(s: &str) -> &str {
    s.split(',').next().unwrap_or("")
}

/// A JSON value as tshark would print it ("" when absent).
fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::Bool(b)) => if *b { "1".into() } else { "0".into() },
        Some(Value::String(s)) => s.to_lowercase(),
        Some(Value::Array(a)) => a.iter().map(|x| show(Some(x))).collect::<Vec<_>>().join(","),
        Some(other) => other.to_string(),
    }
}

fn layer<'a>(p: &'a Value, proto: &str) -> Option<&'a Value> {
    p["layers"].as_array()?.iter().find(|l| l["protocol"] == proto)
}

fn field(p: &Value, proto: &str, key: &str) -> String {
    show(layer(p, proto).and_then(|l| l["fields"].get(key)))
}

const FLAGS: [(u32, &str); 8] =
    [(1, "FIN"), (2, "SYN"), (4, "RST"), (8, "PSH"), (16, "ACK"), (32, "URG"), (64, "ECE"), (128, "CWR")];

const ANALYSIS: [(&str, &str); 8] = [
    ("tcp.analysis.retransmission", "retransmission"),
    ("tcp.analysis.fast_retransmission", "retransmission"),
    ("tcp.analysis.spurious_retransmission", "retransmission"),
    ("tcp.analysis.out_of_order", "out-of-order"),
    ("tcp.analysis.duplicate_ack", "duplicate-ack"),
    ("tcp.analysis.zero_window", "zero-window"),
    ("tcp.analysis.keep_alive", "keep-alive"),
    ("tcp.analysis.window_full", "window-full"),
];

/// Agreement per field family: family → (agree, total), plus the first mismatches.
fn compare(truth: &Path, families: &[&str]) -> (BTreeMap<String, (u32, u32)>, Vec<String>) {
    let text = std::fs::read_to_string(truth).expect("truth file");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let capture = PathBuf::from(truth.to_string_lossy().trim_end_matches(".truth.tsv"));
    let ours = run_json(&capture);
    let mut stats: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut check = |fam: &str, frame: u64, want: String, got: String| {
        if !families.contains(&fam) {
            return;
        }
        let e = stats.entry(fam.to_string()).or_default();
        e.1 += 1;
        if want == got {
            e.0 += 1;
        } else if misses.len() < 10 {
            misses.push(format!("frame {frame} {fam}: tshark {want:?}, wirewalk {got:?}"));
        }
    };
    for line in lines {
        let vals: Vec<&str> = line.split('\t').collect();
        let r: HashMap<&str, &str> = header.iter().zip(vals.iter().chain(std::iter::repeat(&""))).map(|(k, v)| (*k, *v)).collect();
        let num: u64 = r["frame.number"].parse().expect("frame number");
        let Some(p) = ours.get(&num) else {
            check("packet present", num, "present".into(), "absent".into());
            continue;
        };
        check("frame lengths", num, format!("{} {}", r["frame.len"], r["frame.cap_len"]), format!("{} {}", show(p.get("wire_len")), show(p.get("captured_len"))));
        if !r["eth.src"].is_empty() {
            check("ethernet", num, format!("{} {}", first(r["eth.src"]), first(r["eth.dst"])), format!("{} {}", field(p, "ethernet", "src"), field(p, "ethernet", "dst")));
        }
        if !r["ip.src"].is_empty() {
            let want = [r["ip.src"], r["ip.dst"], r["ip.ttl"], r["ip.proto"]].map(first).join(" ");
            let got = ["src", "dst", "ttl", "protocol"].map(|k| field(p, "ipv4", k)).join(" ");
            check("ipv4", num, want, got);
        }
        if !r["ipv6.src"].is_empty() {
            let want = [r["ipv6.src"], r["ipv6.dst"], r["ipv6.hlim"]].map(first).join(" ");
            let got = ["src", "dst", "hop_limit"].map(|k| field(p, "ipv6", k)).join(" ");
            check("ipv6", num, want, got);
        }
        if !r["tcp.srcport"].is_empty() {
            let t = |k: &str| field(p, "tcp", k);
            check("tcp ports", num, format!("{} {}", first(r["tcp.srcport"]), first(r["tcp.dstport"])), format!("{} {}", t("src_port"), t("dst_port")));
            if !r["tcp.flags"].is_empty() {
                let bits = u32::from_str_radix(first(r["tcp.flags"]).trim_start_matches("0x"), 16).unwrap_or(0);
                let mut want: Vec<&str> = FLAGS.iter().filter(|(b, _)| bits & b != 0).map(|(_, n)| *n).collect();
                want.sort();
                let got = layer(p, "tcp").and_then(|l| l["fields"]["flags"].as_array().cloned()).unwrap_or_default();
                let mut got: Vec<String> = got.iter().map(|x| x.as_str().unwrap_or("").to_string()).collect();
                got.sort();
                check("tcp flags", num, want.join(","), got.join(","));
            }
            check("tcp raw seq/ack", num, format!("{} {}", first(r["tcp.seq_raw"]), first(r["tcp.ack_raw"])), format!("{} {}", t("seq_raw"), t("ack_raw")));
            if !r["tcp.seq"].is_empty() {
                let want_ack = first(r["tcp.ack"]);
                let got_ack = if want_ack.is_empty() { String::new() } else { t("ack") };
                check("tcp relative seq/ack", num, format!("{} {}", first(r["tcp.seq"]), want_ack), format!("{} {}", t("seq"), got_ack));
            }
            check("tcp payload length", num, first(r["tcp.len"]).to_string(), t("payload_len"));
            check("tcp window", num, first(r["tcp.window_size_value"]).to_string(), t("window"));
            if !r["tcp.options.mss_val"].is_empty() {
                let ws = first(r["tcp.options.wscale.shift"]);
                let got_ws = if ws.is_empty() { String::new() } else { t("window_scale") };
                check("tcp options", num, format!("{} {}", first(r["tcp.options.mss_val"]), ws), format!("{} {}", t("mss"), got_ws));
            }
            check("stream index", num, first(r["tcp.stream"]).to_string(), show(p.get("stream")));
            let mut want: Vec<&str> = ANALYSIS.iter().filter(|(k, _)| !r[k].is_empty()).map(|(_, t)| *t).collect();
            want.sort();
            want.dedup();
            let tags: Vec<String> = p["analysis"].as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect()).unwrap_or_default();
            let mut got: Vec<&str> = ANALYSIS.iter().map(|(_, t)| *t).filter(|t| tags.iter().any(|x| x == t)).collect();
            got.sort();
            got.dedup();
            if !want.is_empty() || !got.is_empty() {
                check("tcp analysis", num, want.join(","), got.join(","));
            }
        }
        if !r["udp.srcport"].is_empty() && r["tcp.srcport"].is_empty() {
            check("udp ports", num, format!("{} {}", first(r["udp.srcport"]), first(r["udp.dstport"])), format!("{} {}", field(p, "udp", "src_port"), field(p, "udp", "dst_port")));
            if !r["udp.stream"].is_empty() {
                check("stream index", num, first(r["udp.stream"]).to_string(), show(p.get("stream")));
            }
        }
    }
    (stats, misses)
}

fn assert_agreement(families: &[&str], min_pct: f64) {
    let mut failures = Vec::new();
    for truth in truth_files() {
        let (stats, misses) = compare(&truth, families);
        let (ok, total) = stats.values().fold((0, 0), |(a, b), (x, y)| (a + x, b + y));
        let pct = if total == 0 { 100.0 } else { 100.0 * ok as f64 / total as f64 };
        let name = truth.file_name().unwrap().to_string_lossy().to_string();
        println!("{name}: {pct:.2}% ({ok} of {total})");
        if pct < min_pct {
            failures.push(format!("{name}: {pct:.2}% {stats:?}\n  {}", misses.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "below {min_pct}%:\n{}", failures.join("\n"));
}

#[test]
#[ignore = "needs ../shared/captures; .ci/run runs it"]
fn layers_2_to_4_agree_with_tshark() {
    assert_agreement(
        &["packet present", "frame lengths", "ethernet", "ipv4", "ipv6", "tcp ports", "tcp flags", "tcp raw seq/ack",
          "tcp relative seq/ack", "tcp payload length", "tcp window", "tcp options", "udp ports", "stream index"],
        99.0,
    );
}

#[test]
#[ignore = "needs ../shared/captures; .ci/run runs it"]
fn tcp_analysis_agrees_with_tshark() {
    assert_agreement(&["tcp analysis"], 95.0);
}

#[test]
#[ignore = "needs ../shared/captures; .ci/run runs it"]
fn malformed_captures_get_a_message_not_a_panic() {
    for name in ["pcap-invalid-version-1.pcap", "shb-option-too-long.pcapng"] {
        let out = Command::new(env!("CARGO_BIN_EXE_wirewalk")).args(["inspect", "--color", "never"]).arg(captures_dir().join(name)).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert_eq!(err.lines().count(), 1, "{name}: one line expected: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
    // Every capture, the odd ones included, ends without a panic or a hang.
    for entry in std::fs::read_dir(captures_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "pcap" || e == "pcapng") {
            let out = Command::new(env!("CARGO_BIN_EXE_wirewalk")).args(["inspect", "--color", "never"]).arg(&path).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!err.contains("panicked"), "{}: {err}", path.display());
            assert!(out.status.code().is_some(), "{} was killed by a signal", path.display());
        }
    }
}
