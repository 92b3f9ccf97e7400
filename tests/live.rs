//! Live capture, end to end, without real root and without touching a real interface:
//! each test runs the binary inside `unshare --user --map-root-user --net`, a private
//! network namespace whose own `lo` it may capture on. The privilege test runs the
//! binary as `nobody` (needs root to switch).
//!
//! Every child runs under coreutils `timeout`, so nothing here can hang. These tests need
//! user namespaces (and tshark, root), so they are `#[ignore]`d: `.ci/run` runs them with
//! `-- --ignored`, where a missing tool is a failure that says so, not a skip.

use std::collections::HashSet;
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_wirewalk");

fn have(cmd: &str, arg: &str) -> bool {
    Command::new(cmd)
        .arg(arg)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Asserts that this machine lets an unprivileged user make a private network namespace.
fn require_namespaces() {
    let ok = Command::new("timeout")
        .args([
            "10",
            "unshare",
            "--user",
            "--map-root-user",
            "--net",
            "sh",
            "-c",
            "ip link set lo up",
        ])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "`unshare --user --map-root-user --net` does not work here: these tests need user \
         namespaces (util-linux's unshare, iproute2's ip, kernel.unprivileged_userns_clone=1)"
    );
}

/// Runs a shell script inside a fresh private network namespace with `lo` up.
fn in_namespace(script: &str, limit_secs: u32) -> Output {
    let full = format!("ip link set lo up || exit 99\n{script}");
    Command::new("timeout")
        .args([
            "-k",
            "5",
            &limit_secs.to_string(),
            "unshare",
            "--user",
            "--map-root-user",
            "--net",
            "sh",
            "-c",
            &full,
        ])
        .env("NO_COLOR", "1")
        .output()
        .expect("run unshare")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wirewalk-live-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn of_type<'a>(lines: &'a [Value], t: &str) -> Vec<&'a Value> {
    lines.iter().filter(|v| v["type"] == t).collect()
}

fn tcp(p: &Value) -> &Value {
    p["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["protocol"] == "tcp")
        .expect("a tcp layer")
}

/// Every packet appears once: no two have the same direction, raw numbers, flags and
/// length (loopback's outgoing copies would), and none is tagged a retransmission,
/// a duplicate ACK or out of order, nor has a bad checksum.
fn assert_each_packet_once(packets: &[&Value]) {
    let mut seen = HashSet::new();
    for p in packets {
        let t = &tcp(p)["fields"];
        let key = format!(
            "{}>{} {} {} {} {}",
            t["src_port"], t["dst_port"], t["seq_raw"], t["ack_raw"], t["flags"], t["payload_len"]
        );
        assert!(
            seen.insert(key.clone()),
            "packet {} appears twice: {key}",
            p["number"]
        );
        for tag in p["analysis"].as_array().unwrap() {
            let tag = tag.as_str().unwrap();
            assert!(
                ![
                    "retransmission",
                    "duplicate-ack",
                    "out-of-order",
                    "bad-checksum"
                ]
                .contains(&tag),
                "packet {} tagged {tag}",
                p["number"]
            );
        }
    }
}

fn tshark(file: &Path, args: &[&str]) -> Option<String> {
    assert!(
        have("tshark", "--version"),
        "tshark is not installed (apt-get install -y tshark); these checks compare with it"
    );
    let out = Command::new("timeout")
        .arg("60")
        .arg("tshark")
        .arg("-r")
        .arg(file)
        .args(args)
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
#[ignore = "needs unshare (user namespaces) and tshark; .ci/run runs it"]
fn demo_websocket_captures_each_packet_once_with_handshake_upgrade_and_teardown() {
    require_namespaces();
    let dir = temp_dir("ws");
    let pcap = dir.join("ws.pcapng");
    let started = std::time::Instant::now();
    let out = in_namespace(
        &format!(
            "exec {BIN} --color never demo websocket -q --json -w {}",
            pcap.display()
        ),
        60,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "demo failed ({:?}): {stderr}",
        out.status
    );
    assert!(
        started.elapsed().as_secs() < 15,
        "the demo should end by itself within seconds"
    );
    let lines = json_lines(&out.stdout);
    let packets = of_type(&lines, "packet");
    let convs = of_type(&lines, "conversation");
    assert_eq!(of_type(&lines, "summary").len(), 1);
    assert_eq!(convs.len(), 1, "one TCP connection: {convs:?}");
    let conv = convs[0];
    assert_eq!(conv["transport"], "tcp");
    assert_eq!(
        conv["handshake"].as_array().unwrap().len(),
        3,
        "three-way handshake: {conv}"
    );
    assert_eq!(
        conv["handshake"][0], 1,
        "the capture starts before the client's SYN"
    );
    assert!(
        !conv["teardown"].as_array().unwrap().is_empty(),
        "teardown captured: {conv}"
    );
    assert!(conv["reset"].is_null());
    assert_each_packet_once(&packets);
    // Both FINs, and the last packet acknowledges the second one.
    let fins: Vec<_> = packets
        .iter()
        .filter(|p| {
            tcp(p)["fields"]["flags"]
                .as_array()
                .unwrap()
                .contains(&"FIN".into())
        })
        .collect();
    assert_eq!(fins.len(), 2, "a FIN from each side");
    assert!(
        stderr.contains(&format!("wrote {} packets", packets.len())),
        "{stderr}"
    );

    // The application layer: from wirewalk's own decoding once the pipeline reports it,
    // and from tshark either way.
    let http: Vec<_> = packets
        .iter()
        .flat_map(|p| p["layers"].as_array().unwrap().iter())
        .filter(|l| l["protocol"] == "http" && l["fields"]["status"] == 101)
        .collect();
    if let Some(l) = http.first() {
        assert_eq!(l["fields"]["accept_valid"], true, "{l}");
    }
    let Some(ws) = tshark(
        &pcap,
        &[
            "-Y",
            "websocket",
            "-T",
            "fields",
            "-e",
            "websocket.opcode",
            "-e",
            "websocket.mask",
        ],
    ) else {
        return;
    };
    let opcodes: Vec<&str> = ws.lines().map(|l| l.split('\t').next().unwrap()).collect();
    // push, text + echo, binary + echo, ping, pong, close + close
    assert_eq!(
        opcodes,
        ["1", "1", "1", "2", "2", "9", "10", "8", "8"],
        "{ws}"
    );
    let upgrade = tshark(
        &pcap,
        &[
            "-Y",
            "http",
            "-T",
            "fields",
            "-e",
            "http.response.code",
            "-e",
            "http.sec_websocket_key",
            "-e",
            "http.sec_websocket_accept",
        ],
    )
    .unwrap();
    let rows: Vec<Vec<&str>> = upgrade.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 2, "one request, one response: {upgrade}");
    let key = rows[0][1];
    assert_eq!(rows[1][0], "101");
    assert_eq!(
        rows[1][2],
        wirewalk::analysis::websocket::sec_websocket_accept(key),
        "Sec-WebSocket-Accept"
    );
    // tshark agrees: no duplicates, no retransmissions, checksums right.
    let flagged = tshark(
        &pcap,
        &[
            "-o",
            "tcp.check_checksum:TRUE",
            "-Y",
            "tcp.analysis.retransmission || tcp.analysis.duplicate_ack || tcp.checksum.status == 0",
        ],
    )
    .unwrap();
    assert!(flagged.trim().is_empty(), "tshark flags: {flagged}");
    let count = tshark(&pcap, &["-T", "fields", "-e", "frame.number"])
        .unwrap()
        .lines()
        .count();
    assert_eq!(count, packets.len(), "the -w file holds what was shown");
    // tshark reads the capture the demo wrote and agrees with wirewalk field by field.
    common::assert_agrees_with_tshark(&pcap, 99.0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "needs unshare (user namespaces) and tshark; .ci/run runs it"]
fn demo_socketio_polls_upgrades_and_tears_both_connections_down() {
    require_namespaces();
    let dir = temp_dir("sio");
    let pcap = dir.join("sio.pcap");
    let out = in_namespace(
        &format!(
            "exec {BIN} --color never demo socketio --json -w {}",
            pcap.display()
        ),
        60,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "demo failed ({:?}): {stderr}",
        out.status
    );
    assert!(
        stderr.contains("io.on('connection')") && stderr.contains("disconnected"),
        "narration: {stderr}"
    );
    let lines = json_lines(&out.stdout);
    let packets = of_type(&lines, "packet");
    let convs = of_type(&lines, "conversation");
    assert_eq!(
        convs.len(),
        2,
        "the long-polling connection and the WebSocket one"
    );
    for c in &convs {
        assert_eq!(c["handshake"].as_array().unwrap().len(), 3, "{c}");
        assert!(!c["teardown"].as_array().unwrap().is_empty(), "{c}");
    }
    assert_each_packet_once(&packets);
    let Some(http) = tshark(
        &pcap,
        &[
            "-Y",
            "http.request",
            "-T",
            "fields",
            "-e",
            "http.request.uri",
        ],
    ) else {
        return;
    };
    assert!(http.contains("transport=polling"), "{http}");
    assert!(http.contains("transport=websocket"), "{http}");
    let texts = tshark(&pcap, &["-Y", "websocket", "-T", "fields", "-e", "text"]).unwrap();
    for want in [
        "2probe",
        "3probe",
        "42[\"chat message\"",
        "421[\"add\",2,3]",
        "431[5]",
        "41",
    ] {
        assert!(texts.contains(want), "{want} in {texts}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `demo ARGS --json -w FILE` in a private namespace: its JSON lines and stderr.
fn run_demo(args: &str, file: &Path) -> (Vec<Value>, String) {
    let out = in_namespace(
        &format!(
            "exec {BIN} --color never demo {args} --json -w {}",
            file.display()
        ),
        60,
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "demo {args} failed ({:?}): {stderr}",
        out.status
    );
    (json_lines(&out.stdout), stderr)
}

/// Every layer of `protocol` in the packets of `lines`.
fn layers_of<'a>(lines: &'a [Value], protocol: &str) -> Vec<&'a Value> {
    of_type(lines, "packet")
        .into_iter()
        .flat_map(|p| p["layers"].as_array().unwrap().iter())
        .filter(|l| l["protocol"] == protocol)
        .collect()
}

/// The WebSocket demo's data messages, as the client and server script sends them.
const WS_DEMO_TEXTS: [&str; 3] = [
    "Welcome! The server sent this without any request.",
    "Hello from the client!",
    "echo: Hello from the client!",
];

/// The text messages of a run, each with its sender, and that every one was decrypted.
fn ws_texts(lines: &[Value]) -> Vec<String> {
    layers_of(lines, "websocket")
        .into_iter()
        .filter(|l| l["fields"]["opcode_name"] == "text")
        .map(|l| {
            assert!(l["decrypted"].is_string(), "not said decrypted: {l}");
            l["fields"]["text"].as_str().unwrap().to_string()
        })
        .collect()
}

/// The ClientHello's SNI and the ServerHello's suite and version, from the tls layers.
fn hellos(lines: &[Value]) -> (String, String, String) {
    let tls = layers_of(lines, "tls");
    let ch = tls
        .iter()
        .find(|l| l["fields"]["handshake_type"] == "client_hello")
        .expect("a ClientHello");
    let sh = tls
        .iter()
        .find(|l| l["fields"]["handshake_type"] == "server_hello")
        .expect("a ServerHello");
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    (
        s(&ch["fields"]["sni"]),
        s(&sh["fields"]["cipher_suite"]),
        s(&sh["fields"]["negotiated_version"]),
    )
}

#[test]
#[ignore = "needs unshare (user namespaces); .ci/run runs it"]
fn demo_websocket_tls_decrypts_as_it_captures_and_its_pcapng_carries_the_keys() {
    require_namespaces();
    let dir = temp_dir("wss");
    for (args, version, suite, secret) in [
        (
            "websocket --tls",
            "TLS 1.3",
            "TLS_AES_256_GCM_SHA384",
            "CLIENT_TRAFFIC_SECRET_0",
        ),
        (
            "websocket --tls --tls12",
            "TLS 1.2",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "CLIENT_RANDOM",
        ),
    ] {
        let file = dir.join("wss.pcapng");
        let (lines, stderr) = run_demo(args, &file);
        assert!(stderr.contains("with the TLS secrets"), "{stderr}");
        assert_eq!(
            hellos(&lines),
            ("localhost".into(), suite.into(), version.into()),
            "{args}"
        );
        assert_eq!(ws_texts(&lines), WS_DEMO_TEXTS, "{args}: live");
        let upgrade = layers_of(&lines, "http");
        assert_eq!(upgrade.len(), 2, "{args}: the Upgrade and the 101");
        assert_eq!(upgrade[0]["decrypted"], secret, "{args}");
        assert_eq!(upgrade[1]["fields"]["accept_valid"], true, "{args}");
        let conv = of_type(&lines, "conversation")[0];
        assert_eq!(conv["application"], "websocket", "{args}");
        // Read back without any key log: the keys are in the file.
        let back = Command::new(BIN)
            .args(["inspect", "--json", "--color", "never"])
            .arg(&file)
            .env_remove("SSLKEYLOGFILE")
            .output()
            .unwrap();
        assert!(back.status.success());
        let back = json_lines(&back.stdout);
        assert_eq!(ws_texts(&back), WS_DEMO_TEXTS, "{args}: read back");
        assert_eq!(hellos(&back), hellos(&lines), "{args}: read back");
        // As pcap, the keys go beside it.
        let file = dir.join("wss.pcap");
        let (_, stderr) = run_demo(args, &file);
        let keys = dir.join("wss.pcap.keys");
        assert!(stderr.contains("wss.pcap.keys"), "{stderr}");
        let back = Command::new(BIN)
            .args(["inspect", "--json", "--color", "never", "--keylog"])
            .arg(&keys)
            .arg(&file)
            .env_remove("SSLKEYLOGFILE")
            .output()
            .unwrap();
        assert_eq!(ws_texts(&json_lines(&back.stdout)), WS_DEMO_TEXTS, "{args}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "needs unshare (user namespaces); .ci/run runs it"]
fn demo_socketio_tls_polls_and_upgrades_inside_tls() {
    require_namespaces();
    let dir = temp_dir("sio-tls");
    let file = dir.join("sio.pcapng");
    let (lines, _) = run_demo("socketio --tls", &file);
    let convs = of_type(&lines, "conversation");
    assert_eq!(convs.len(), 2, "polling, then WebSocket");
    assert_eq!(
        layers_of(&lines, "tls")
            .iter()
            .filter(|l| l["fields"]["handshake_type"] == "client_hello")
            .count(),
        2
    );
    let events: Vec<String> = layers_of(&lines, "socketio")
        .into_iter()
        .map(|l| {
            assert!(l["decrypted"].is_string(), "{l}");
            format!("{} {}", l["fields"]["packet_type"], l["fields"]["event"])
        })
        .collect();
    for want in [
        "\"CONNECT\" null",
        "\"EVENT\" \"welcome\"",
        "\"EVENT\" \"chat message\"",
        "\"EVENT\" \"add\"",
        "\"ACK\" null",
        "\"DISCONNECT\" null",
    ] {
        assert!(events.iter().any(|e| e == want), "{want} in {events:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "needs unshare (user namespaces) and tshark; .ci/run runs it"]
fn tshark_decrypts_the_tls_demo_pcapng_with_no_option() {
    require_namespaces();
    let dir = temp_dir("wss-tshark");
    let file = dir.join("wss.pcapng");
    let (lines, _) = run_demo("websocket --tls", &file);
    let ws = tshark(
        &file,
        &[
            "-Y",
            "websocket",
            "-T",
            "fields",
            "-e",
            "websocket.opcode",
            "-e",
            "websocket.payload.text",
        ],
    )
    .unwrap();
    let rows: Vec<Vec<&str>> = ws.lines().map(|l| l.split('\t').collect()).collect();
    let opcodes: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    // push, text + echo, binary + echo, ping, pong, close + close
    assert_eq!(
        opcodes,
        ["1", "1", "1", "2", "2", "9", "10", "8", "8"],
        "{ws}"
    );
    let texts: Vec<&str> = rows.iter().filter(|r| r[0] == "1").map(|r| r[1]).collect();
    assert_eq!(texts, WS_DEMO_TEXTS, "{ws}");
    assert_eq!(ws_texts(&lines), WS_DEMO_TEXTS);
    // The SNI and the suite, as tshark reads them, are wirewalk's.
    let hs = tshark(
        &file,
        &[
            "-Y",
            "tls.handshake.type == 1 || tls.handshake.type == 2",
            "-T",
            "fields",
            "-e",
            "tls.handshake.extensions_server_name",
            "-e",
            "tls.handshake.ciphersuite",
        ],
    )
    .unwrap();
    let (sni, suite, _) = hellos(&lines);
    let rows: Vec<&str> = hs.lines().collect();
    assert_eq!(rows.len(), 2, "{hs}");
    assert!(rows[0].starts_with(&sni), "{hs}");
    // tshark gives the suite by number: 0x1302 is TLS_AES_256_GCM_SHA384.
    assert_eq!(suite, "TLS_AES_256_GCM_SHA384");
    assert!(
        rows[1].ends_with("0x1302") || rows[1].ends_with("4866"),
        "{hs}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "needs unshare (user namespaces); .ci/run runs it"]
fn capture_stops_after_count_and_flushes_on_ctrl_c() {
    require_namespaces();
    let dir = temp_dir("cap");
    let counted = dir.join("counted.jsonl");
    let pcapng = dir.join("interrupted.pcapng");
    // Traffic comes from a demo (quiet, its own capture discarded).
    let script = format!(
        "{BIN} --color never capture -c 5 --json > {c} & A=$!; \
         {BIN} --color never capture -w {w} --summary > /dev/null & B=$!; \
         sleep 0.5; {BIN} demo websocket -q --summary > /dev/null; \
         wait $A; kill -INT $B; wait $B",
        c = counted.display(),
        w = pcapng.display()
    );
    let out = in_namespace(&script, 60);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "({:?}): {stderr}", out.status);
    let lines = json_lines(&std::fs::read(&counted).unwrap());
    assert_eq!(of_type(&lines, "packet").len(), 5, "-c 5");
    assert_eq!(of_type(&lines, "summary").len(), 1, "a summary after -c");
    // The interrupted capture's file is complete and readable.
    let written: usize = stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("wirewalk: wrote ")
                .and_then(|r| r.split(' ').next())
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or_else(|| panic!("no 'wrote N packets' after Ctrl-C: {stderr}"));
    assert!(
        written >= 20,
        "the whole demo connection (24 packets or so): {stderr}"
    );
    let read = Command::new(BIN)
        .args(["--color", "never", "inspect", "--json"])
        .arg(&pcapng)
        .output()
        .unwrap();
    assert!(read.status.success());
    assert_eq!(of_type(&json_lines(&read.stdout), "packet").len(), written);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "needs root and setpriv; .ci/run runs it"]
fn capture_without_privilege_says_what_to_do_in_one_line() {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    assert!(
        root && have("setpriv", "--version"),
        "needs root and setpriv (util-linux) to run the binary as nobody"
    );
    // The binary must be readable and executable by nobody.
    let dir = temp_dir("nobody");
    let bin = dir.join("wirewalk");
    std::fs::copy(BIN, &bin).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    for args in [
        &["capture", "-c", "1"][..],
        &["demo", "websocket"][..],
        &["demo", "socketio", "--json"][..],
    ] {
        let out = Command::new("timeout")
            .args([
                "-k",
                "5",
                "20",
                "setpriv",
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
            ])
            .arg(&bin)
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(stderr.starts_with("wirewalk: "), "{stderr}");
        assert!(stderr.contains("sudo setcap cap_net_raw+ep"), "{stderr}");
        assert!(stderr.contains("wirewalk simulate"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A loopback flood in a private namespace, 200,000 UDP datagrams (`WIREWALK_FLOOD=N`
/// for another size). Run as root (as `.ci/run` runs it, and as `sudo wirewalk capture`
/// does), the capture raises its socket buffer as tcpdump does, and keeps at least 99%
/// of a flood sent as fast as one process can — the rate at which this machine's
/// tcpdump keeps all 200,000 ("0 packets dropped by kernel"). In a user namespace the
/// buffer stays at `rmem_max`: paced at 1,000 every 10 ms (some 60,000 a second) it
/// keeps at least 99%, and sent as fast as it can (59–79% kept here), whatever the
/// kernel dropped is said, with the count. `capture --summary`: the renderer is slower
/// than the flood; the read-ahead keeps up.
#[test]
#[ignore = "needs unshare (user namespaces) and python3; .ci/run runs it"]
fn a_loopback_flood_is_kept_and_drops_are_counted() {
    require_namespaces();
    let n: u64 = std::env::var("WIREWALK_FLOOD")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let root = unsafe { libc::geteuid() } == 0;
    // (paced, as real root in a network namespace of its own rather than a user's)
    let flood = |paced: bool, as_root: bool| -> (u64, String) {
        let dir = temp_dir(if paced { "flood-paced" } else { "flood" });
        let file = dir.join("flood.pcap");
        let pace = if paced {
            "\n  if i % 1000 == 999: time.sleep(0.01)"
        } else {
            ""
        };
        let script = format!(
            "{BIN} capture -i lo -p 9999 -d 30 --summary -w {file} >/dev/null 2>{err} &\n\
             sleep 1\n\
             python3 -c 'import socket, time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range({n}):\n  s.sendto(b\"x\"*32,(\"127.0.0.1\",9999)){pace}'\n\
             sleep 2; kill -INT $!; wait $!\n",
            file = file.display(),
            err = dir.join("err").display()
        );
        let out = if as_root {
            Command::new("timeout")
                .args(["-k", "5", "120", "unshare", "--net", "sh", "-c"])
                .arg(format!("ip link set lo up || exit 99\n{script}"))
                .env("NO_COLOR", "1")
                .output()
                .expect("run unshare")
        } else {
            in_namespace(&script, 120)
        };
        let stderr = std::fs::read_to_string(dir.join("err")).unwrap_or_default();
        assert!(out.status.success(), "{stderr}");
        let kept = Command::new(BIN)
            .args(["inspect", "--summary"])
            .arg(&file)
            .output()
            .unwrap();
        let last = String::from_utf8_lossy(&kept.stdout)
            .lines()
            .last()
            .unwrap_or("")
            .to_string();
        let got: u64 = last
            .split(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        eprintln!("paced {paced}, root {as_root}: kept {got} of {n}; {stderr}");
        assert!(stderr.contains(&format!("wrote {got} packets")), "{stderr}");
        // Whatever the kernel dropped is said, with the count.
        if got < n {
            let said = stderr
                .split(" dropped by kernel")
                .next()
                .and_then(|s| {
                    s.trim_end_matches(" packets")
                        .trim_end_matches(" packet")
                        .rsplit(' ')
                        .next()
                })
                .and_then(|s| s.parse::<u64>().ok());
            assert!(said.is_some_and(|d| d > 0), "{stderr}");
        }
        let _ = std::fs::remove_dir_all(&dir);
        (got, stderr)
    };
    let (got, stderr) = flood(true, false);
    assert!(got * 100 >= n * 99, "paced: kept {got} of {n}: {stderr}");
    let (got, stderr) = flood(false, false);
    assert!(got > 0, "unpaced: kept nothing: {stderr}");
    if root {
        let (got, stderr) = flood(false, true);
        assert!(
            got * 100 >= n * 99,
            "unpaced, as root: kept {got} of {n}: {stderr}"
        );
    }
}

/// `capture -w FILE` run through sudo opens FILE as the user who ran sudo, after the
/// capture socket is open and root is given up: a path whose directory is a link planted
/// into a directory only root may write, or a file only root may write, is refused as it
/// would be for the user; a link in the file's own place is not followed; a file the
/// user may write is written and is theirs. (Run as real root, `SUDO_UID`/`SUDO_GID`
/// naming nobody, in a private network namespace.)
#[test]
#[ignore = "needs root and unshare; .ci/run runs it"]
fn capture_writes_its_file_as_the_user_not_as_root() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    assert!(root, "needs root (to be a sudo run that gives root up)");
    const NOBODY: u32 = 65534;
    let dir = temp_dir("w-as-user");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let root_only = dir.join("root-only");
    std::fs::create_dir(&root_only).unwrap();
    std::fs::set_permissions(&root_only, std::fs::Permissions::from_mode(0o700)).unwrap();
    let precious = root_only.join("precious.pcap");
    std::fs::write(&precious, b"keep me").unwrap();
    let user = dir.join("user");
    std::fs::create_dir(&user).unwrap();
    std::os::unix::fs::chown(&user, Some(NOBODY), Some(NOBODY)).unwrap();
    std::os::unix::fs::symlink(&root_only, user.join("sub")).unwrap();
    std::os::unix::fs::symlink(&precious, user.join("link.pcap")).unwrap();
    let capture = |path: &Path| -> Output {
        let script = format!(
            "ip link set lo up || exit 99\nSUDO_UID={NOBODY} SUDO_GID={NOBODY} exec {BIN} --color never capture -i lo -d 1 --summary -w {}",
            path.display()
        );
        Command::new("timeout")
            .args(["-k", "5", "30", "unshare", "--net", "sh", "-c", &script])
            .output()
            .expect("run unshare")
    };
    for (path, says) in [
        (user.join("sub").join("precious.pcap"), "Permission denied"),
        (root_only.join("new.pcap"), "Permission denied"),
        (user.join("link.pcap"), "is a symbolic link: not followed"),
    ] {
        let out = capture(&path);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {stderr}", path.display());
        assert!(
            stderr.contains(&format!("cannot create {}", path.display())) && stderr.contains(says),
            "{}: {stderr}",
            path.display()
        );
        assert_eq!(std::fs::read(&precious).unwrap(), b"keep me");
        assert_eq!(std::fs::metadata(&precious).unwrap().uid(), 0);
    }
    assert!(!root_only.join("new.pcap").exists());
    // Where the user may write: written, and the user's.
    let mine = user.join("mine.pcap");
    let out = capture(&mine);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let meta = std::fs::metadata(&mine).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (NOBODY, NOBODY), "{stderr}");
    assert!(
        std::fs::read(&mine).unwrap().len() >= 24,
        "a pcap file header"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
