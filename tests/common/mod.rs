//! Shared by the integration tests: run the binary, read its JSON Lines, and compare
//! them field by field with tshark ground truth (`F.truth.tsv`, from
//! `../shared/tools/truth.sh`), counting agreement per field family as
//! `../shared/tools/check_against_tshark.py` does. A field tshark leaves empty counts as absent.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// `wirewalk ARGS --color never`, run from the crate's folder: its stdout, after checking
/// that it succeeded.
pub fn run_ok(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_wirewalk"))
        .args(args)
        .args(["--color", "never"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "wirewalk {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The text with its lines joined and spaces collapsed: wrapped sentences read whole.
pub fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The tree's text per packet number, each packet's lines joined (wrapping undone).
pub fn packets(text: &str) -> HashMap<u64, String> {
    let mut m = HashMap::new();
    for block in text.split("── Packet ").skip(1) {
        let n: u64 = block.split(' ').next().unwrap().parse().unwrap();
        m.insert(n, flat(block));
    }
    m
}

/// `wirewalk ARGS`: stdout as JSON values, one per line. Exit 1 (a cut or damaged
/// capture, shown up to the damage) still gives every packet read.
pub fn json_lines(args: &[&str], file: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_wirewalk"))
        .args(args)
        .arg(file)
        .output()
        .expect("run wirewalk");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "wirewalk {args:?} {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("JSON output is UTF-8");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
        .collect()
}

/// `inspect --json` of a capture: its packet objects by frame number.
pub fn run_json(capture: &Path) -> HashMap<u64, Value> {
    json_lines(&["inspect", "--json", "--color", "never"], capture)
        .into_iter()
        .filter(|v| v["type"] == "packet")
        .map(|v| (v["number"].as_u64().expect("number"), v))
        .collect()
}

/// Every application layer of a given protocol, in order, with its frame number.
pub fn app_layers(capture: &Path, protocol: &str) -> Vec<(u64, Value)> {
    let mut v: Vec<(u64, Value)> = run_json(capture)
        .into_iter()
        .flat_map(|(n, p)| {
            p["layers"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|l| l["protocol"] == protocol)
                .map(move |l| (n, l))
        })
        .collect();
    v.sort_by_key(|(n, l)| (*n, l["range"][0].as_u64()));
    v
}

pub fn first(s: &str) -> &str {
    s.split(',').next().unwrap_or("")
}

/// A JSON value as tshark would print it ("" when absent).
pub fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::Bool(b)) => {
            if *b {
                "1".into()
            } else {
                "0".into()
            }
        }
        Some(Value::String(s)) => s.to_lowercase(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| show(Some(x)))
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
    }
}

pub fn layer<'a>(p: &'a Value, proto: &str) -> Option<&'a Value> {
    p["layers"]
        .as_array()?
        .iter()
        .find(|l| l["protocol"] == proto)
}

pub fn field(p: &Value, proto: &str, key: &str) -> String {
    show(layer(p, proto).and_then(|l| l["fields"].get(key)))
}

const FLAGS: [(u32, &str); 8] = [
    (1, "FIN"),
    (2, "SYN"),
    (4, "RST"),
    (8, "PSH"),
    (16, "ACK"),
    (32, "URG"),
    (64, "ECE"),
    (128, "CWR"),
];

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
pub fn compare(truth: &Path, families: &[&str]) -> (BTreeMap<String, (u32, u32)>, Vec<String>) {
    let text = std::fs::read_to_string(truth).expect("truth file");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let capture = capture_of(truth);
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
            misses.push(format!(
                "frame {frame} {fam}: tshark {want:?}, wirewalk {got:?}"
            ));
        }
    };
    for line in lines {
        let vals: Vec<&str> = line.split('\t').collect();
        let r: HashMap<&str, &str> = header
            .iter()
            .zip(vals.iter().chain(std::iter::repeat(&"")))
            .map(|(k, v)| (*k, *v))
            .collect();
        let num: u64 = r["frame.number"].parse().expect("frame number");
        let Some(p) = ours.get(&num) else {
            check("packet present", num, "present".into(), "absent".into());
            continue;
        };
        check(
            "frame lengths",
            num,
            format!("{} {}", r["frame.len"], r["frame.cap_len"]),
            format!(
                "{} {}",
                show(p.get("wire_len")),
                show(p.get("captured_len"))
            ),
        );
        if !r["eth.src"].is_empty() {
            check(
                "ethernet",
                num,
                format!("{} {}", first(r["eth.src"]), first(r["eth.dst"])),
                format!(
                    "{} {}",
                    field(p, "ethernet", "src"),
                    field(p, "ethernet", "dst")
                ),
            );
        }
        if !r["ip.src"].is_empty() {
            let want = [r["ip.src"], r["ip.dst"], r["ip.ttl"], r["ip.proto"]]
                .map(first)
                .join(" ");
            let got = ["src", "dst", "ttl", "protocol"]
                .map(|k| field(p, "ipv4", k))
                .join(" ");
            check("ipv4", num, want, got);
        }
        if !r["ipv6.src"].is_empty() {
            let want = [r["ipv6.src"], r["ipv6.dst"], r["ipv6.hlim"]]
                .map(first)
                .join(" ");
            let got = ["src", "dst", "hop_limit"]
                .map(|k| field(p, "ipv6", k))
                .join(" ");
            check("ipv6", num, want, got);
        }
        if !r["tcp.srcport"].is_empty() {
            let t = |k: &str| field(p, "tcp", k);
            check(
                "tcp ports",
                num,
                format!("{} {}", first(r["tcp.srcport"]), first(r["tcp.dstport"])),
                format!("{} {}", t("src_port"), t("dst_port")),
            );
            if !r["tcp.flags"].is_empty() {
                let bits = u32::from_str_radix(first(r["tcp.flags"]).trim_start_matches("0x"), 16)
                    .unwrap_or(0);
                let mut want: Vec<&str> = FLAGS
                    .iter()
                    .filter(|(b, _)| bits & b != 0)
                    .map(|(_, n)| *n)
                    .collect();
                want.sort();
                let got = layer(p, "tcp")
                    .and_then(|l| l["fields"]["flags"].as_array().cloned())
                    .unwrap_or_default();
                let mut got: Vec<String> = got
                    .iter()
                    .map(|x| x.as_str().unwrap_or("").to_string())
                    .collect();
                got.sort();
                check("tcp flags", num, want.join(","), got.join(","));
            }
            check(
                "tcp raw seq/ack",
                num,
                format!("{} {}", first(r["tcp.seq_raw"]), first(r["tcp.ack_raw"])),
                format!("{} {}", t("seq_raw"), t("ack_raw")),
            );
            if !r["tcp.seq"].is_empty() {
                let want_ack = first(r["tcp.ack"]);
                let got_ack = if want_ack.is_empty() {
                    String::new()
                } else {
                    t("ack")
                };
                check(
                    "tcp relative seq/ack",
                    num,
                    format!("{} {}", first(r["tcp.seq"]), want_ack),
                    format!("{} {}", t("seq"), got_ack),
                );
            }
            check(
                "tcp payload length",
                num,
                first(r["tcp.len"]).to_string(),
                t("payload_len"),
            );
            check(
                "tcp window",
                num,
                first(r["tcp.window_size_value"]).to_string(),
                t("window"),
            );
            if !r["tcp.options.mss_val"].is_empty() {
                let ws = first(r["tcp.options.wscale.shift"]);
                let got_ws = if ws.is_empty() {
                    String::new()
                } else {
                    t("window_scale")
                };
                check(
                    "tcp options",
                    num,
                    format!("{} {}", first(r["tcp.options.mss_val"]), ws),
                    format!("{} {}", t("mss"), got_ws),
                );
            }
            check(
                "stream index",
                num,
                first(r["tcp.stream"]).to_string(),
                show(p.get("stream")),
            );
            let mut want: Vec<&str> = ANALYSIS
                .iter()
                .filter(|(k, _)| !r[k].is_empty())
                .map(|(_, t)| *t)
                .collect();
            want.sort();
            want.dedup();
            let tags: Vec<String> = p["analysis"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let mut got: Vec<&str> = ANALYSIS
                .iter()
                .map(|(_, t)| *t)
                .filter(|t| tags.iter().any(|x| x == t))
                .collect();
            got.sort();
            got.dedup();
            if !want.is_empty() || !got.is_empty() {
                check("tcp analysis", num, want.join(","), got.join(","));
            }
        }
        if !r["udp.srcport"].is_empty() && r["tcp.srcport"].is_empty() {
            check(
                "udp ports",
                num,
                format!("{} {}", first(r["udp.srcport"]), first(r["udp.dstport"])),
                format!(
                    "{} {}",
                    field(p, "udp", "src_port"),
                    field(p, "udp", "dst_port")
                ),
            );
            if !r["udp.stream"].is_empty() {
                check(
                    "stream index",
                    num,
                    first(r["udp.stream"]).to_string(),
                    show(p.get("stream")),
                );
            }
        }
        if !r["http.request.method"].is_empty() || !r["http.response.code"].is_empty() {
            let https: Vec<&Value> = p["layers"]
                .as_array()
                .map(|a| a.iter().filter(|l| l["protocol"] == "http").collect())
                .unwrap_or_default();
            let of_kind = |kind: &str, key: &str| -> String {
                https
                    .iter()
                    .filter(|h| h["fields"]["kind"] == kind)
                    .map(|h| show(h["fields"].get(key)))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            if !r["http.request.method"].is_empty() {
                check(
                    "http request",
                    num,
                    format!(
                        "{} {}",
                        r["http.request.method"].to_lowercase(),
                        r["http.request.uri"].to_lowercase()
                    ),
                    format!(
                        "{} {}",
                        of_kind("request", "method"),
                        of_kind("request", "uri")
                    ),
                );
            }
            if !r["http.response.code"].is_empty() {
                check(
                    "http response",
                    num,
                    r["http.response.code"].to_string(),
                    of_kind("response", "status"),
                );
            }
        }
        if !r["websocket.opcode"].is_empty() {
            let split = |k: &str| -> Vec<String> {
                r[k].split(',')
                    .filter(|x| !x.is_empty())
                    .map(String::from)
                    .collect()
            };
            let (ops, fins, masks, l7) = (
                split("websocket.opcode"),
                split("websocket.fin"),
                split("websocket.mask"),
                split("websocket.payload_length"),
            );
            let (mut e16, mut e64) = (
                split("websocket.payload_length_ext_16").into_iter(),
                split("websocket.payload_length_ext_64").into_iter(),
            );
            let mut want = Vec::new();
            for i in 0..ops.len() {
                let len = match l7.get(i).map(|s| s.as_str()) {
                    Some("126") => e16.next().unwrap_or_default(),
                    Some("127") => e64.next().unwrap_or_default(),
                    Some(x) => x.to_string(),
                    None => String::new(),
                };
                let b = |v: Option<&String>| {
                    if matches!(v.map(|s| s.as_str()), Some("1") | Some("True")) {
                        "1"
                    } else {
                        "0"
                    }
                };
                want.push(format!(
                    "{}/{}/{}/{}",
                    ops[i],
                    b(fins.get(i)),
                    b(masks.get(i)),
                    len
                ));
            }
            let got: Vec<String> = p["layers"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter(|l| l["protocol"] == "websocket")
                        .map(|l| {
                            let f = &l["fields"];
                            format!(
                                "{}/{}/{}/{}",
                                show(f.get("opcode")),
                                show(f.get("fin")),
                                show(f.get("masked")),
                                show(f.get("payload_len"))
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            check("websocket frames", num, want.join(" "), got.join(" "));
        }
    }
    (stats, misses)
}

/// The capture a truth file describes: `F.truth.tsv` (F ends in .pcap/.pcapng) or
/// `NAME.truth.tsv` beside `NAME.pcap`.
pub fn capture_of(truth: &Path) -> PathBuf {
    let stem = truth
        .to_string_lossy()
        .trim_end_matches(".truth.tsv")
        .to_string();
    if Path::new(&stem).exists() {
        PathBuf::from(stem)
    } else {
        PathBuf::from(format!("{stem}.pcap"))
    }
}

/// All the families of the checker.
pub const ALL_FAMILIES: &[&str] = &[
    "packet present",
    "frame lengths",
    "ethernet",
    "ipv4",
    "ipv6",
    "tcp ports",
    "tcp flags",
    "tcp raw seq/ack",
    "tcp relative seq/ack",
    "tcp payload length",
    "tcp window",
    "tcp options",
    "udp ports",
    "stream index",
    "tcp analysis",
    "http request",
    "http response",
    "websocket frames",
];

/// The truth files (`*.truth.tsv`) in a folder, sorted.
pub fn truth_files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".truth.tsv"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no truth files in {}", dir.display());
    v
}

/// Asserts at least `min_pct` agreement on every truth file of `dir`, for `families`.
pub fn assert_agreement(dir: &Path, families: &[&str], min_pct: f64) {
    let mut failures = Vec::new();
    for truth in truth_files_in(dir) {
        let (stats, misses) = compare(&truth, families);
        let (ok, total) = stats.values().fold((0, 0), |(a, b), (x, y)| (a + x, b + y));
        let pct = if total == 0 {
            100.0
        } else {
            100.0 * ok as f64 / total as f64
        };
        let name = truth.file_name().unwrap().to_string_lossy().to_string();
        println!("{name}: {pct:.2}% ({ok} of {total})");
        if pct < min_pct {
            failures.push(format!(
                "{name}: {pct:.2}% {stats:?}\n  {}",
                misses.join("\n  ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "below {min_pct}%:\n{}",
        failures.join("\n")
    );
}

/// The fields `../shared/tools/truth.sh` asks tshark for, in its order.
pub const TRUTH_FIELDS: &[&str] = &[
    "frame.number",
    "frame.len",
    "frame.cap_len",
    "eth.src",
    "eth.dst",
    "ip.src",
    "ip.dst",
    "ip.ttl",
    "ip.proto",
    "ipv6.src",
    "ipv6.dst",
    "ipv6.hlim",
    "tcp.stream",
    "udp.stream",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.flags",
    "tcp.seq_raw",
    "tcp.ack_raw",
    "tcp.seq",
    "tcp.ack",
    "tcp.len",
    "tcp.window_size_value",
    "tcp.options.mss_val",
    "tcp.options.wscale.shift",
    "udp.srcport",
    "udp.dstport",
    "tcp.analysis.retransmission",
    "tcp.analysis.fast_retransmission",
    "tcp.analysis.spurious_retransmission",
    "tcp.analysis.out_of_order",
    "tcp.analysis.duplicate_ack",
    "tcp.analysis.zero_window",
    "tcp.analysis.keep_alive",
    "tcp.analysis.window_full",
    "http.request.method",
    "http.request.uri",
    "http.response.code",
    "websocket.fin",
    "websocket.rsv",
    "websocket.opcode",
    "websocket.mask",
    "websocket.payload_length",
    "websocket.payload_length_ext_16",
    "websocket.payload_length_ext_64",
];

/// Runs tshark over a capture as truth.sh does and returns its rows as field → value
/// maps, repeated values joined by `aggregator`. tshark must be installed (CI installs it).
pub fn tshark_rows(
    capture: &Path,
    fields: &[&str],
    aggregator: &str,
) -> Vec<HashMap<String, String>> {
    let mut cmd = Command::new("tshark");
    cmd.args([
        "-n",
        "--enable-heuristic",
        "http_tcp",
        "-o",
        "tcp.desegment_tcp_streams:TRUE",
        "-r",
    ])
    .arg(capture);
    cmd.args([
        "-T",
        "fields",
        "-E",
        "header=y",
        "-E",
        "separator=/t",
        "-E",
        "occurrence=a",
        "-E",
    ]);
    cmd.arg(format!("aggregator={aggregator}"));
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect(
        "tshark is installed (apt-get install tshark); the conformance tests compare with it",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
    lines
        .map(|l| {
            header
                .iter()
                .zip(l.split('\t').chain(std::iter::repeat("")))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// Writes the tshark ground truth of a capture (the same columns as truth.sh) beside it,
/// as `CAPTURE.truth.tsv`, and returns its path.
pub fn write_truth(capture: &Path) -> PathBuf {
    let rows = tshark_rows(capture, TRUTH_FIELDS, ",");
    let mut text = TRUTH_FIELDS.join("\t");
    text.push('\n');
    for r in &rows {
        let vals: Vec<&str> = TRUTH_FIELDS
            .iter()
            .map(|f| r.get(*f).map(|s| s.as_str()).unwrap_or(""))
            .collect();
        text.push_str(&vals.join("\t"));
        text.push('\n');
    }
    let path = PathBuf::from(format!("{}.truth.tsv", capture.display()));
    std::fs::write(&path, text).unwrap();
    path
}

/// Asserts agreement with tshark on every family for one capture.
pub fn assert_agrees_with_tshark(capture: &Path, min_pct: f64) {
    let truth = write_truth(capture);
    let (stats, misses) = compare(&truth, ALL_FAMILIES);
    let (ok, total) = stats.values().fold((0, 0), |(a, b), (x, y)| (a + x, b + y));
    assert!(total > 0, "{}: tshark gave no rows", capture.display());
    let pct = 100.0 * ok as f64 / total as f64;
    assert!(
        pct >= min_pct,
        "{}: {pct:.2}% agreement with tshark {stats:?}\n  {}",
        capture.display(),
        misses.join("\n  ")
    );
}

/// The anatomy fields against tshark, computed now with `tshark -T fields`: per TCP
/// segment the scaled window, the frame acknowledged, bytes in flight and the initial
/// RTT; per WebSocket frame FIN, RSV, opcode, MASK, masking key, length code and length.
/// Returns field → (agree, total), and the first mismatches.
pub fn anatomy_agreement(capture: &Path) -> (BTreeMap<&'static str, (u32, u32)>, Vec<String>) {
    const TCP: [(&str, &str); 4] = [
        ("tcp.window_size", "window_scaled"),
        ("tcp.analysis.acks_frame", "acks_frame"),
        ("tcp.analysis.bytes_in_flight", "bytes_in_flight"),
        ("tcp.analysis.initial_rtt", "irtt"),
    ];
    const WS: [&str; 8] = [
        "websocket.fin",
        "websocket.rsv",
        "websocket.opcode",
        "websocket.mask",
        "websocket.masking_key",
        "websocket.payload_length",
        "websocket.payload_length_ext_16",
        "websocket.payload_length_ext_64",
    ];
    let mut fields = vec!["frame.number"];
    fields.extend(TCP.iter().map(|(t, _)| *t));
    fields.extend(WS);
    let rows = tshark_rows(capture, &fields, ",");
    let ours = run_json(capture);
    let mut stats: BTreeMap<&'static str, (u32, u32)> = BTreeMap::new();
    let mut misses = Vec::new();
    let name = capture.file_name().unwrap().to_string_lossy().to_string();
    for r in &rows {
        let Ok(n) = r["frame.number"].parse::<u64>() else {
            continue;
        };
        let p = ours.get(&n);
        let mut check = |key: &'static str, want: String, got: String| {
            let e = stats.entry(key).or_default();
            e.1 += 1;
            if want == got {
                e.0 += 1;
            } else if misses.len() < 12 {
                misses.push(format!(
                    "{name} frame {n} {key}: tshark {want:?}, wirewalk {got:?}"
                ));
            }
        };
        let tcp = p.and_then(|p| layer(p, "tcp"));
        if tcp.is_some() || !r["tcp.window_size"].is_empty() {
            for (t, k) in TCP {
                let want = first(&r[t]).to_string();
                let got = tcp.and_then(|l| l["fields"].get(k));
                let got = match (k, got) {
                    ("irtt", Some(v)) => format!("{:.9}", v.as_f64().unwrap_or(-1.0)),
                    (_, v) => show(v),
                };
                check(k, want, got);
            }
        }
        if r["websocket.opcode"].is_empty() {
            continue;
        }
        let list = |k: &str| -> Vec<String> {
            r[k].split(',')
                .filter(|x| !x.is_empty())
                .map(String::from)
                .collect()
        };
        let (fins, rsvs, ops, masks, l7) = (
            list("websocket.fin"),
            list("websocket.rsv"),
            list("websocket.opcode"),
            list("websocket.mask"),
            list("websocket.payload_length"),
        );
        let mut keys = list("websocket.masking_key").into_iter();
        let mut e16 = list("websocket.payload_length_ext_16").into_iter();
        let mut e64 = list("websocket.payload_length_ext_64").into_iter();
        let bit = |v: Option<&String>| matches!(v.map(|s| s.as_str()), Some("1" | "True"));
        let mut want = Vec::new();
        for i in 0..ops.len() {
            let masked = bit(masks.get(i));
            let code = l7.get(i).cloned().unwrap_or_default();
            let len = match code.as_str() {
                "126" => e16.next().unwrap_or_default(),
                "127" => e64.next().unwrap_or_default(),
                x => x.to_string(),
            };
            let rsv = rsvs
                .get(i)
                .and_then(|x| u8::from_str_radix(x.trim_start_matches("0x"), 16).ok())
                .map(|x| x.to_string())
                .unwrap_or_default();
            want.push(format!(
                "fin={} rsv={rsv} opcode={} mask={} key={} code={code} len={len}",
                bit(fins.get(i)) as u8,
                ops[i],
                masked as u8,
                if masked {
                    keys.next().unwrap_or_default()
                } else {
                    String::new()
                },
            ));
        }
        let got: Vec<String> = p
            .and_then(|p| p["layers"].as_array())
            .map(|a| {
                a.iter()
                    .filter(|l| l["protocol"] == "websocket")
                    .map(|l| {
                        let f = &l["fields"];
                        format!(
                            "fin={} rsv={} opcode={} mask={} key={} code={} len={}",
                            show(f.get("fin")),
                            show(f.get("rsv")),
                            show(f.get("opcode")),
                            show(f.get("masked")),
                            show(f.get("masking_key")),
                            show(f.get("length_code")),
                            show(f.get("payload_len")),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        check("websocket header", want.join(" | "), got.join(" | "));
    }
    (stats, misses)
}

/// Asserts the anatomy fields agree with tshark on every capture given: at least
/// `min_pct` per TCP field over all of them, and every WebSocket header exactly.
pub fn assert_anatomy_agrees(captures: &[PathBuf], min_pct: f64) {
    let mut all: BTreeMap<&'static str, (u32, u32)> = BTreeMap::new();
    let mut misses = Vec::new();
    for c in captures {
        let (stats, m) = anatomy_agreement(c);
        for (k, (a, t)) in stats {
            let e = all.entry(k).or_default();
            e.0 += a;
            e.1 += t;
        }
        misses.extend(m);
    }
    println!("anatomy agreement with tshark: {all:?}");
    for (k, (a, t)) in &all {
        let need = if *k == "websocket header" {
            100.0
        } else {
            min_pct
        };
        let pct = 100.0 * *a as f64 / (*t).max(1) as f64;
        assert!(
            pct >= need,
            "{k}: {pct:.2}% ({a} of {t}) agree with tshark, below {need}%:\n  {}",
            misses.join("\n  ")
        );
    }
    for k in ["window_scaled", "acks_frame", "bytes_in_flight", "irtt"] {
        assert!(
            all.get(k).is_some_and(|s| s.1 > 0),
            "no TCP segment compared for {k}"
        );
    }
}
